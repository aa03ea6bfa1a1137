//! Fitting the audio um/uh detector to the user's voice, from their own
//! corrections. One bounded knob, the detector's sensitivity (it divides the
//! shortest filler and the share outside words, and multiplies the pitch,
//! level and spectral steadiness limits), is tried at a
//! few values on the takes the user corrected; each is scored against what
//! the corrections say was said; the best is kept only with enough
//! corrections to go on, and only within `SENSITIVITIES`.
//!
//! Only the audio detector is judged: whisper's own um/uh are the same at
//! every value and are left out of both sides. The truth of a take is its
//! audio um/uh as corrected: those found and left (a take the user
//! corrected was reviewed: what they left, they confirmed), plus those the
//! user added. A value that finds an um/uh the user never saw counts it as
//! false: the fit leans to what the user checked.

use super::corrections::MATCH_WINDOW_S;

/// The values tried: at most a fifth stricter or a quarter looser than the
/// detector as tuned (1.0).
pub const SENSITIVITIES: [f64; 5] = [0.8, 0.9, 1.0, 1.12, 1.25];
/// Fewer corrected um/uh than this are too few to move the detector.
pub const MIN_CORRECTIONS: usize = 3;

/// um/uh as a detector run found them against the truth of the same takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    /// Found, and said.
    pub found: usize,
    /// Found, and not said.
    pub false_found: usize,
    /// Said, and not found.
    pub missed: usize,
}

impl Score {
    pub fn add(&mut self, other: Score) {
        self.found += other.found;
        self.false_found += other.false_found;
        self.missed += other.missed;
    }

    pub fn precision(&self) -> Option<f64> {
        let reported = self.found + self.false_found;
        (reported > 0).then(|| self.found as f64 / reported as f64)
    }

    pub fn recall(&self) -> Option<f64> {
        let said = self.found + self.missed;
        (said > 0).then(|| self.found as f64 / said as f64)
    }

    /// The balance of the two (F1); 0 when nothing was found right.
    pub fn f1(&self) -> f64 {
        let denominator = 2 * self.found + self.false_found + self.missed;
        if denominator == 0 { 0.0 } else { 2.0 * self.found as f64 / denominator as f64 }
    }
}

/// Matches found times to true times one to one (nearest first) within
/// `MATCH_WINDOW_S`.
pub fn score(found: &[f64], truth: &[f64]) -> Score {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, f) in found.iter().enumerate() {
        for (j, t) in truth.iter().enumerate() {
            let gap = (f - t).abs();
            if gap <= MATCH_WINDOW_S {
                pairs.push((gap, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut used_found, mut used_truth) = (vec![false; found.len()], vec![false; truth.len()]);
    let mut matched = 0;
    for (_, i, j) in pairs {
        if !used_found[i] && !used_truth[j] {
            used_found[i] = true;
            used_truth[j] = true;
            matched += 1;
        }
    }
    Score { found: matched, false_found: found.len() - matched, missed: truth.len() - matched }
}

/// The result of a fit: each value's score, the value in use and the one chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub takes: usize,
    /// The user's um/uh corrections over those takes.
    pub corrections: usize,
    pub scores: Vec<(f64, Score)>,
    pub current: f64,
    pub chosen: f64,
}

impl Fit {
    /// The value with the best balance of precision and recall; ties go to
    /// the one with fewer errors (so removals alone can make it stricter),
    /// then to the one nearest the tuned detector (1.0). With fewer than
    /// `MIN_CORRECTIONS` corrections the value in use stays.
    pub fn new(takes: usize, corrections: usize, scores: Vec<(f64, Score)>, current: f64) -> Fit {
        let errors = |s: &Score| s.false_found + s.missed;
        let best = scores
            .iter()
            .max_by(|(a, sa), (b, sb)| {
                sa.f1()
                    .total_cmp(&sb.f1())
                    .then_with(|| errors(sb).cmp(&errors(sa)))
                    .then_with(|| (b - 1.0).abs().total_cmp(&(a - 1.0).abs()))
            })
            .map(|(s, _)| *s);
        let chosen = match best {
            Some(best) if corrections >= MIN_CORRECTIONS => best,
            _ => current,
        };
        Fit { takes, corrections, scores, current, chosen }
    }

    pub fn score_at(&self, sensitivity: f64) -> Option<Score> {
        self.scores.iter().find(|(s, _)| (s - sensitivity).abs() < 1e-9).map(|(_, score)| *score)
    }
}

/// A sensitivity as it may be used: one of `SENSITIVITIES`'s range.
pub fn bounded(sensitivity: f64) -> f64 {
    if sensitivity.is_finite() { sensitivity.clamp(SENSITIVITIES[0], SENSITIVITIES[4]) } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_fillers_are_matched_one_to_one() {
        // Two found near one true filler: one right, one false.
        assert_eq!(score(&[1.0, 1.2], &[1.1]), Score { found: 1, false_found: 1, missed: 0 });
        // Too far apart: a miss and a false one.
        assert_eq!(score(&[1.0], &[2.0]), Score { found: 0, false_found: 1, missed: 1 });
        // Nearest first: 1.3 takes 1.35, so 1.0 still gets 0.7.
        assert_eq!(score(&[1.0, 1.3], &[0.7, 1.35]), Score { found: 2, false_found: 0, missed: 0 });
        assert_eq!(score(&[], &[]), Score::default());
    }

    #[test]
    fn the_best_balance_wins_within_bounds_and_only_with_enough_corrections() {
        let s = |found, false_found, missed| Score { found, false_found, missed };
        let scores = vec![
            (0.8, s(4, 0, 6)),
            (0.9, s(6, 0, 4)),
            (1.0, s(7, 1, 3)),
            (1.12, s(9, 1, 1)), // best F1
            (1.25, s(10, 6, 0)),
        ];
        assert_eq!(Fit::new(3, 5, scores.clone(), 1.0).chosen, 1.12);
        // Too few corrections: the value in use stays.
        assert_eq!(Fit::new(1, 2, scores, 0.9).chosen, 0.9);
        // A tie goes to the tuned detector.
        let tie = vec![(0.9, s(5, 1, 1)), (1.0, s(5, 1, 1)), (1.12, s(5, 1, 1))];
        assert_eq!(Fit::new(2, 4, tie, 0.9).chosen, 1.0);
        // Only false ones removed, none right anywhere (F1 0 everywhere):
        // fewer false ones wins, so the detector gets stricter.
        let removals = vec![(0.8, s(0, 0, 0)), (0.9, s(0, 1, 0)), (1.0, s(0, 3, 0)), (1.12, s(0, 4, 0))];
        assert_eq!(Fit::new(2, 3, removals, 1.0).chosen, 0.8);
        assert_eq!((bounded(3.0), bounded(0.1), bounded(f64::NAN)), (1.25, 0.8, 1.0));
    }
}
