//! Figures shown together, suppressed as a whole (complementary suppression, DESIGN.md rule 4):
//! no group of 1 to 4 learners can be read off a screen or worked out from the other figures on
//! it, by one subtraction or by a chain of them.
//!
//! A screen's figures are declared with the sums that tie them (a total and its parts, a group
//! and the part of it that did something); groups that are never shown but could be worked out
//! (those who opened and did not complete, the joins before the chart's first week) are
//! declared too. `solve` hides every figure under 5 and then, while any hidden or unshown group
//! could still be worked out to be 1 to 4 learners (or a hidden figure to be exactly what it is),
//! hides the smallest figure that would give it away.

use super::{MIN_GROUP, Shown};

/// One figure (or unshown group) of a [`Figures`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Figure(usize);

#[derive(Clone, Debug)]
struct Cell {
    value: u64,
    /// False for a group that is never shown (only worked out).
    showable: bool,
}

/// `total = Σ parts`.
#[derive(Clone, Debug)]
struct Sum {
    total: usize,
    parts: Vec<usize>,
}

/// A set of figures shown together and the sums that tie them.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    cells: Vec<Cell>,
    sums: Vec<Sum>,
}

/// Which figures of a solved set may be shown.
#[derive(Clone, Debug)]
pub struct Suppressed {
    shown: Vec<Option<u64>>,
}

impl Suppressed {
    pub fn get(&self, figure: Figure) -> Shown {
        match self.shown[figure.0] {
            Some(n) => Shown::Count(n),
            None => Shown::Hidden,
        }
    }

    /// `part / whole`, when both are shown (a share of two shown figures reveals nothing new;
    /// of one hidden figure it would reveal it).
    pub fn share(&self, part: Figure, whole: Figure) -> Option<f64> {
        match (self.shown[part.0], self.shown[whole.0]) {
            (Some(part), Some(whole)) if whole > 0 => Some(part as f64 / whole as f64),
            _ => None,
        }
    }
}

impl Figures {
    pub fn new() -> Figures {
        Figures::default()
    }

    /// A figure to show (unless it must be hidden).
    pub fn figure(&mut self, value: u64) -> Figure {
        self.cells.push(Cell {
            value,
            showable: true,
        });
        Figure(self.cells.len() - 1)
    }

    /// A group that is never shown but that shown figures might reveal.
    pub fn unshown(&mut self, value: u64) -> Figure {
        self.cells.push(Cell {
            value,
            showable: false,
        });
        Figure(self.cells.len() - 1)
    }

    /// A figure that is shown when `show`, and otherwise only counts as an unshown group.
    pub fn figure_if(&mut self, show: bool, value: u64) -> Figure {
        if show {
            self.figure(value)
        } else {
            self.unshown(value)
        }
    }

    /// `total` is the sum of `parts`.
    pub fn sum(&mut self, total: Figure, parts: &[Figure]) {
        self.sums.push(Sum {
            total: total.0,
            parts: parts.iter().map(|p| p.0).collect(),
        });
    }

    /// `part` is some of `whole` (completed of opened, active of all): the rest is a group too.
    pub fn within(&mut self, whole: Figure, part: Figure) {
        let rest = self.cells[whole.0]
            .value
            .saturating_sub(self.cells[part.0].value);
        let rest = self.unshown(rest);
        self.sum(whole, &[part, rest]);
    }

    pub fn value(&self, figure: Figure) -> u64 {
        self.cells[figure.0].value
    }

    /// Hides what must be hidden.
    pub fn solve(&self) -> Suppressed {
        let mut visible: Vec<bool> = self
            .cells
            .iter()
            .map(|c| c.showable && c.value >= MIN_GROUP)
            .collect();
        // Each round hides one more figure, so this ends.
        for _ in 0..=self.cells.len() {
            match self.leak(&visible) {
                None => break,
                Some(Fix::Hide(index)) => visible[index] = false,
                Some(Fix::HideAll) => visible.iter_mut().for_each(|v| *v = false),
            }
        }
        Suppressed {
            shown: self
                .cells
                .iter()
                .zip(&visible)
                .map(|(c, v)| v.then_some(c.value))
                .collect(),
        }
    }

    /// Works out everything the visible figures reveal; the first thing that must not be
    /// revealed says which figure to hide.
    fn leak(&self, visible: &[bool]) -> Option<Fix> {
        let mut known = visible.to_vec();
        // The sum each worked-out group was worked out from.
        let mut reason: Vec<Option<usize>> = vec![None; self.cells.len()];
        let mut changed = true;
        while changed {
            changed = false;
            for (s, sum) in self.sums.iter().enumerate() {
                let unknown: Vec<usize> = std::iter::once(sum.total)
                    .chain(sum.parts.iter().copied())
                    .filter(|&i| !known[i])
                    .collect();
                match unknown.as_slice() {
                    [] => {}
                    [only] => {
                        known[*only] = true;
                        reason[*only] = Some(s);
                        changed = true;
                        if self.sensitive(*only) {
                            return Some(self.fix(s, visible, &reason));
                        }
                    }
                    several if !several.contains(&sum.total) => {
                        let together: u64 = several.iter().map(|&i| self.cells[i].value).sum();
                        if (1..MIN_GROUP).contains(&together) {
                            return Some(self.fix(s, visible, &reason));
                        }
                    }
                    _ => {}
                }
            }
        }
        None
    }

    /// A group that must not be worked out exactly: 1 to 4 learners, or a figure hidden to
    /// protect another.
    fn sensitive(&self, index: usize) -> bool {
        let cell = &self.cells[index];
        cell.value > 0 && (cell.value < MIN_GROUP || cell.showable)
    }

    /// The figure to hide so that sum `s` reveals no more: its smallest visible part (or its
    /// total); when it has none, one behind the groups it was worked out from.
    fn fix(&self, s: usize, visible: &[bool], reason: &[Option<usize>]) -> Fix {
        let mut queue = vec![s];
        let mut seen = vec![false; self.sums.len()];
        while let Some(s) = queue.pop() {
            if std::mem::replace(&mut seen[s], true) {
                continue;
            }
            let sum = &self.sums[s];
            let smallest_part = sum
                .parts
                .iter()
                .copied()
                .filter(|&i| visible[i])
                .min_by_key(|&i| self.cells[i].value);
            if let Some(index) = smallest_part.or(visible[sum.total].then_some(sum.total)) {
                return Fix::Hide(index);
            }
            for &i in std::iter::once(&sum.total).chain(&sum.parts) {
                if let Some(from) = reason[i] {
                    queue.insert(0, from);
                }
            }
        }
        Fix::HideAll
    }
}

enum Fix {
    Hide(usize),
    HideAll,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_opened_nine_completed_hides_the_nine() {
        let mut f = Figures::new();
        let opened = f.figure(12);
        let completed = f.figure(9);
        f.within(opened, completed);
        let s = f.solve();
        assert_eq!(s.get(opened), Shown::Count(12));
        assert_eq!(s.get(completed), Shown::Hidden);
        assert_eq!(s.share(completed, opened), None);
    }

    #[test]
    fn groups_of_five_or_more_on_both_sides_are_shown() {
        let mut f = Figures::new();
        let opened = f.figure(20);
        let completed = f.figure(10);
        f.within(opened, completed);
        let s = f.solve();
        assert_eq!(s.get(completed), Shown::Count(10));
        assert_eq!(s.share(completed, opened), Some(0.5));
        // Everyone completed: nobody is singled out.
        let mut f = Figures::new();
        let opened = f.figure(8);
        let completed = f.figure(8);
        f.within(opened, completed);
        assert_eq!(f.solve().get(completed), Shown::Count(8));
    }

    #[test]
    fn a_single_hidden_part_takes_another_with_it() {
        let mut f = Figures::new();
        let total = f.figure(22);
        let parts = [f.figure(12), f.figure(3), f.figure(7)];
        f.sum(total, &parts);
        let s = f.solve();
        assert_eq!(s.get(total), Shown::Count(22));
        assert_eq!(s.get(parts[0]), Shown::Count(12));
        assert_eq!(s.get(parts[1]), Shown::Hidden);
        assert_eq!(s.get(parts[2]), Shown::Hidden);
    }

    #[test]
    fn hiding_a_part_for_its_rest_carries_into_the_column_it_sums_to() {
        // Two lines: 12 learners of whom 9 active, 10 of whom 10 active; totals 22 and 19.
        let mut f = Figures::new();
        let learners = [f.figure(12), f.figure(10)];
        let active = [f.figure(9), f.figure(10)];
        let all = f.figure(22);
        let all_active = f.figure(19);
        for i in 0..2 {
            f.within(learners[i], active[i]);
        }
        f.sum(all, &learners);
        f.sum(all_active, &active);
        f.within(all, all_active);
        let s = f.solve();
        // 12 − 9 = 3 would show, and so would 22 − 19 = 3.
        assert_eq!(s.get(active[0]), Shown::Hidden);
        assert_eq!(s.get(all_active), Shown::Hidden);
        // With 9 hidden, 19 − 10 would reveal it: the 10 goes as well, or the 19.
        assert!(s.get(active[1]) == Shown::Hidden || s.get(all_active) == Shown::Hidden);
    }

    #[test]
    fn a_small_total_hides_everything() {
        let mut f = Figures::new();
        let total = f.figure(4);
        let parts = [f.figure(2), f.figure(2)];
        f.sum(total, &parts);
        let s = f.solve();
        assert!(
            [total, parts[0], parts[1]]
                .iter()
                .all(|p| s.get(*p) == Shown::Hidden)
        );
    }

    #[test]
    fn a_chain_of_subtractions_is_followed() {
        // weeks 6 + 6 + (before: 3) = 15 joined; shown total 15 and weeks 6, 6 would give 3.
        let mut f = Figures::new();
        let total = f.figure(15);
        let weeks = [f.figure(6), f.figure(6)];
        let before = f.unshown(3);
        f.sum(total, &[weeks[0], weeks[1], before]);
        let s = f.solve();
        assert_eq!(s.get(total), Shown::Count(15));
        assert_eq!(
            weeks.iter().filter(|w| s.get(**w) == Shown::Hidden).count(),
            1
        );
    }

    /// Brute force over small random systems: no sum may leave exactly one unknown cell that is
    /// 1..4 (or a hidden figure), nor unknown parts adding up to 1..4 under a known total.
    #[test]
    fn no_solved_set_reveals_a_small_group_by_subtraction() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..2000 {
            let mut f = Figures::new();
            let rows = 1 + next(4) as usize;
            let mut learners = Vec::new();
            let mut active = Vec::new();
            for _ in 0..rows {
                let l = next(15);
                let a = next(l + 1);
                let lf = f.figure(l);
                let af = f.figure(a);
                f.within(lf, af);
                learners.push(lf);
                active.push(af);
            }
            let lt: u64 = learners.iter().map(|x| f.value(*x)).sum();
            let at: u64 = active.iter().map(|x| f.value(*x)).sum();
            let show_total = next(2) == 0;
            let lt = f.figure_if(show_total, lt);
            let at = f.figure_if(show_total, at);
            f.sum(lt, &learners);
            f.sum(at, &active);
            f.within(lt, at);
            let s = f.solve();
            let visible: Vec<bool> = (0..f.cells.len()).map(|i| s.shown[i].is_some()).collect();
            assert!(f.leak(&visible).is_none());
            for (i, v) in s.shown.iter().enumerate() {
                if let Some(v) = v {
                    assert!(*v >= MIN_GROUP, "cell {i} = {v}");
                }
            }
        }
    }
}
