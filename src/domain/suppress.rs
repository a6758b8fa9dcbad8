//! DESIGN.md rule 4: managers see groups, not people. Any figure about fewer than 5 learners is
//! hidden — including figures that could be worked out by subtracting shown ones. This module is
//! the one place the rule lives: `count` for a figure shown on its own, `Figures` for figures
//! shown together (see `figures`).

use serde::Serialize;

mod figures;

pub use figures::{Figure, Figures, Suppressed};

/// The smallest group a figure may describe.
pub const MIN_GROUP: u64 = 5;

/// A count as a manager may see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Shown {
    Count(u64),
    /// "fewer than 5" (or hidden so that another hidden figure cannot be worked out).
    Hidden,
}

impl Shown {
    pub fn value(self) -> Option<u64> {
        match self {
            Shown::Count(n) => Some(n),
            Shown::Hidden => None,
        }
    }
}

/// A single count on its own.
pub fn count(n: u64) -> Shown {
    if n < MIN_GROUP {
        Shown::Hidden
    } else {
        Shown::Count(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_hidden() {
        assert_eq!(count(4), Shown::Hidden);
        assert_eq!(count(5), Shown::Count(5));
    }
}
