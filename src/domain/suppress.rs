//! DESIGN.md rule 4: managers see groups, not people. Any figure about fewer than 5 learners is
//! hidden — including figures that could be worked out by subtracting shown ones.

use serde::Serialize;

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

/// Suppresses a set of counts that add up to `total` (shown alongside them): every count below
/// 5, and then more of the smallest counts until the hidden ones together are 0 or at least 5 —
/// otherwise `total` minus the shown counts would reveal a group smaller than 5. A total below 5
/// hides everything.
pub fn suppress_parts(parts: &[u64], total: u64) -> (Vec<Shown>, Shown) {
    if total < MIN_GROUP {
        return (vec![Shown::Hidden; parts.len()], Shown::Hidden);
    }
    let mut shown: Vec<Shown> = parts.iter().map(|&n| count(n)).collect();
    loop {
        let hidden: Vec<usize> = (0..parts.len())
            .filter(|i| shown[*i] == Shown::Hidden)
            .collect();
        let hidden_sum: u64 = hidden.iter().map(|i| parts[*i]).sum();
        // One hidden count can be worked out exactly; several need to add up to a group.
        let exposed = hidden_sum > 0 && (hidden.len() == 1 || hidden_sum < MIN_GROUP);
        if !exposed {
            break;
        }
        let next = (0..parts.len())
            .filter(|i| shown[*i] != Shown::Hidden)
            .min_by_key(|i| parts[*i]);
        match next {
            Some(index) => shown[index] = Shown::Hidden,
            None => break,
        }
    }
    (shown, Shown::Count(total))
}

/// A share `part / whole` about a group: shown only when both the part and the rest are
/// groups of at least 5 (90% of 20 reveals the 2 who did not).
pub fn share(part: u64, whole: u64) -> Option<f64> {
    let rest = whole.saturating_sub(part);
    let safe = |n: u64| n == 0 || n >= MIN_GROUP;
    (whole >= MIN_GROUP && safe(part) && safe(rest)).then(|| part as f64 / whole as f64)
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

    #[test]
    fn a_single_hidden_part_takes_another_with_it() {
        // Lines of 12, 3 and 7 (total 22): hiding only the 3 would leave 22 - 12 - 7 = 3.
        let (parts, total) = suppress_parts(&[12, 3, 7], 22);
        assert_eq!(parts, vec![Shown::Count(12), Shown::Hidden, Shown::Hidden]);
        assert_eq!(total, Shown::Count(22));
    }

    #[test]
    fn two_hidden_parts_are_safe_as_they_are() {
        let (parts, _) = suppress_parts(&[12, 3, 2, 9], 26);
        assert_eq!(
            parts,
            vec![
                Shown::Count(12),
                Shown::Hidden,
                Shown::Hidden,
                Shown::Count(9)
            ]
        );
    }

    #[test]
    fn hidden_counts_must_add_up_to_a_group() {
        // 7, 3 and an empty 0 (total 10): hiding 3 and 0 would still reveal 10 − 7 = 3.
        let (parts, _) = suppress_parts(&[7, 3, 0], 10);
        assert_eq!(parts, vec![Shown::Hidden, Shown::Hidden, Shown::Hidden]);
        // 2 and 3 hidden add up to 5: enough.
        let (parts, _) = suppress_parts(&[9, 2, 3], 14);
        assert_eq!(parts, vec![Shown::Count(9), Shown::Hidden, Shown::Hidden]);
    }

    #[test]
    fn a_small_total_hides_everything() {
        let (parts, total) = suppress_parts(&[2, 2], 4);
        assert_eq!(
            (parts, total),
            (vec![Shown::Hidden, Shown::Hidden], Shown::Hidden)
        );
    }

    #[test]
    fn shares_need_groups_on_both_sides() {
        assert_eq!(share(18, 20), None, "reveals the 2 who did not");
        assert_eq!(share(3, 20), None);
        assert_eq!(share(10, 20), Some(0.5));
        assert_eq!(share(20, 20), Some(1.0));
        assert_eq!(share(0, 20), Some(0.0));
        assert_eq!(share(4, 4), None);
    }
}
