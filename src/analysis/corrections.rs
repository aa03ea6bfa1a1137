//! The user's own corrections of the fillers found in a take: "not a
//! filler" on a highlight, "I said 'um' here" where one was missed. They are
//! keyed by time in the take (not by word index), so they still apply after
//! the take is transcribed again; the feedback's counts and advice follow them.

use serde::{Deserialize, Serialize};

use super::{Config, Feedback, FillerItem, FillerSource, advice};
use crate::content::QuestionKind;

/// A correction and a filler are the same event within this many seconds
/// (whisper's word times and the audio detector's differ by up to ~0.3 s).
pub const MATCH_WINDOW_S: f64 = 0.4;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CorrectionAction {
    /// The highlighted filler near `at_s` was not one (`word`: which one,
    /// so a neighbouring filler is never taken for it; empty: any).
    NotAFiller {
        #[serde(default, skip_serializing_if = "String::is_empty")]
        word: String,
    },
    /// The user said this filler at `at_s` and it was not found.
    Missed { word: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillerCorrection {
    /// Seconds into the take.
    pub at_s: f64,
    #[serde(flatten)]
    pub action: CorrectionAction,
}

/// Why a correction was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CorrectionError {
    #[error("{at_s:.1} s is outside this take (it lasts {duration_s:.1} s)")]
    OutsideTake { at_s: f64, duration_s: f64 },
    #[error("there is no filler near {at_s:.1} s to remove")]
    NothingToRemove { at_s: f64 },
    #[error("\"{0}\" is not a filler word; add it to the filler list in Settings first")]
    UnknownWord(String),
}

/// Checks a new correction against the take's feedback (as corrected so far).
pub fn check(feedback: &Feedback, correction: &FillerCorrection, config: &Config) -> Result<(), CorrectionError> {
    let at_s = correction.at_s;
    if !at_s.is_finite() || at_s < 0.0 || at_s > feedback.duration_s + 0.05 {
        return Err(CorrectionError::OutsideTake { at_s, duration_s: feedback.duration_s });
    }
    match &correction.action {
        CorrectionAction::NotAFiller { word } => {
            if nearest(&feedback.fillers.items, at_s, |i| !i.removed && same_word(word, &i.word)).is_none() {
                return Err(CorrectionError::NothingToRemove { at_s });
            }
        }
        CorrectionAction::Missed { word } => {
            if !config.fillers.iter().any(|f| f.eq_ignore_ascii_case(word)) {
                return Err(CorrectionError::UnknownWord(word.clone()));
            }
        }
    }
    Ok(())
}

fn same_word(wanted: &str, word: &str) -> bool {
    wanted.is_empty() || wanted.eq_ignore_ascii_case(word)
}

/// The correction of the list that `correction` would undo: the same
/// action on the same word, the nearest within the window.
pub fn undone_by(corrections: &[FillerCorrection], correction: &FillerCorrection) -> Option<usize> {
    let word_of = |a: &CorrectionAction| match a {
        CorrectionAction::NotAFiller { word } | CorrectionAction::Missed { word } => word.to_lowercase(),
    };
    corrections
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            std::mem::discriminant(&c.action) == std::mem::discriminant(&correction.action)
                && word_of(&c.action) == word_of(&correction.action)
                && (c.at_s - correction.at_s).abs() <= MATCH_WINDOW_S
        })
        .min_by(|(_, a), (_, b)| (a.at_s - correction.at_s).abs().total_cmp(&(b.at_s - correction.at_s).abs()))
        .map(|(n, _)| n)
}

/// The list of corrections after the user asks for `correction`: the same
/// action again on the same filler undoes it (a toggle), otherwise it is added.
pub fn toggle(corrections: &[FillerCorrection], correction: FillerCorrection) -> Vec<FillerCorrection> {
    let mut out = corrections.to_vec();
    match undone_by(corrections, &correction) {
        Some(n) => {
            out.remove(n);
        }
        None => {
            out.push(correction);
            out.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        }
    }
    out
}

fn nearest(items: &[FillerItem], at_s: f64, keep: impl Fn(&FillerItem) -> bool) -> Option<usize> {
    items
        .iter()
        .enumerate()
        .filter(|(_, i)| keep(i) && (i.start - at_s).abs() <= MATCH_WINDOW_S)
        .min_by(|(_, a), (_, b)| (a.start - at_s).abs().total_cmp(&(b.start - at_s).abs()))
        .map(|(n, _)| n)
}

/// Applies `corrections` to the feedback from scratch (earlier corrections
/// are undone first), then recounts the fillers and renews the advice.
pub fn apply(
    feedback: &mut Feedback,
    corrections: &[FillerCorrection],
    kind: Option<QuestionKind>,
    no_speech: bool,
    config: &Config,
) {
    let items = &mut feedback.fillers.items;
    items.retain(|i| i.source != FillerSource::User);
    for item in items.iter_mut() {
        item.removed = false;
    }
    for correction in corrections {
        match &correction.action {
            CorrectionAction::NotAFiller { word } => {
                let found = nearest(items, correction.at_s, |i| {
                    !i.removed && i.source != FillerSource::User && same_word(word, &i.word)
                });
                if let Some(n) = found {
                    items[n].removed = true;
                }
            }
            CorrectionAction::Missed { word } => {
                // Found after all (a new transcript has this very word there): nothing to add.
                let word = word.to_lowercase();
                if nearest(items, correction.at_s, |i| !i.removed && i.word == word).is_none() {
                    items.push(FillerItem { word, start: correction.at_s, source: FillerSource::User, removed: false });
                }
            }
        }
    }
    items.sort_by(|a, b| a.start.total_cmp(&b.start));
    recount(feedback);
    feedback.advice = advice::advise(feedback, kind, no_speech, config);
}

/// Totals, rates and the per-word counts from the items not removed.
fn recount(feedback: &mut Feedback) {
    let fillers = &mut feedback.fillers;
    fillers.by_word.clear();
    for item in fillers.items.iter().filter(|i| !i.removed) {
        *fillers.by_word.entry(item.word.clone()).or_insert(0) += 1;
    }
    fillers.total = fillers.by_word.values().sum();
    let minutes = feedback.duration_s / 60.0;
    fillers.per_min = if minutes > 0.0 { fillers.total as f64 / minutes } else { 0.0 };
    fillers.per_100_words = if feedback.words > 0 { fillers.total as f64 * 100.0 / feedback.words as f64 } else { 0.0 };
}

/// How the detector did on the takes the user corrected: fillers it found
/// that the user kept, those they removed, and those they had to add.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DetectorRecord {
    pub takes: usize,
    pub confirmed: usize,
    pub removed: usize,
    pub added: usize,
}

impl DetectorRecord {
    /// Adds a corrected take: from its filler items, or (a take kept as a
    /// summary, without items) from its totals and corrections.
    pub fn add(&mut self, feedback: &Feedback, corrections: &[FillerCorrection]) {
        if corrections.is_empty() {
            return;
        }
        self.takes += 1;
        let items = &feedback.fillers.items;
        if items.is_empty() {
            let added = corrections.iter().filter(|c| matches!(c.action, CorrectionAction::Missed { .. })).count();
            self.removed += corrections.len() - added;
            self.added += added;
            self.confirmed += feedback.fillers.total.saturating_sub(added);
            return;
        }
        self.removed += items.iter().filter(|i| i.removed).count();
        self.added += items.iter().filter(|i| i.source == FillerSource::User).count();
        self.confirmed += items.iter().filter(|i| !i.removed && i.source != FillerSource::User).count();
    }
    /// The record as a detector score: confirmed are found, removed are
    /// false, added are missed.
    pub fn score(&self) -> super::adapt::Score {
        super::adapt::Score { found: self.confirmed, false_found: self.removed, missed: self.added }
    }
    /// Of what the detector reported, the share that was right.
    pub fn precision(&self) -> Option<f64> {
        self.score().precision()
    }
    /// Of the fillers really said, the share the detector found.
    pub fn recall(&self) -> Option<f64> {
        self.score().recall()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::advice::Advice;

    fn item(word: &str, start: f64, source: FillerSource) -> FillerItem {
        FillerItem { word: word.into(), start, source, removed: false }
    }

    fn feedback() -> Feedback {
        let mut f = Feedback { duration_s: 60.0, words: 150, ..Feedback::default() };
        f.fillers.items = vec![
            item("um", 3.0, FillerSource::Transcript),
            item("like", 10.0, FillerSource::Transcript),
            item("uh", 20.2, FillerSource::Audio),
        ];
        recount(&mut f);
        f
    }

    fn not(word: &str) -> CorrectionAction {
        CorrectionAction::NotAFiller { word: word.into() }
    }

    fn at(at_s: f64, action: CorrectionAction) -> FillerCorrection {
        FillerCorrection { at_s, action }
    }

    #[test]
    fn removing_and_adding_change_the_counts_and_undo_restores_them() {
        let config = Config::default();
        let mut f = feedback();
        assert_eq!(f.fillers.total, 3);
        let corrections = toggle(&[], at(10.1, not("like")));
        let corrections = toggle(&corrections, at(40.0, CorrectionAction::Missed { word: "um".into() }));
        apply(&mut f, &corrections, None, false, &config);
        assert_eq!(f.fillers.total, 3);
        assert_eq!(f.fillers.by_word.get("like"), None);
        assert_eq!(f.fillers.by_word.get("um"), Some(&2));
        assert!(f.fillers.items.iter().any(|i| i.removed && i.word == "like"));
        assert!(f.fillers.items.iter().any(|i| i.source == FillerSource::User && i.start == 40.0));
        assert!((f.fillers.per_min - 3.0).abs() < 1e-9);
        // The same action at the same place again undoes it.
        let corrections = toggle(&corrections, at(10.0, not("like")));
        let corrections = toggle(&corrections, at(40.2, CorrectionAction::Missed { word: "um".into() }));
        assert!(corrections.is_empty());
        apply(&mut f, &corrections, None, false, &config);
        assert_eq!(f, {
            let mut g = feedback();
            g.advice = advice::advise(&g, None, false, &config);
            g
        });
    }

    #[test]
    fn corrections_survive_a_new_transcript_with_shifted_times() {
        let config = Config::default();
        let corrections = vec![at(3.0, not("um")), at(30.0, CorrectionAction::Missed { word: "uh".into() })];
        // Re-transcribed: the "um" now starts 0.25 s later, and whisper
        // wrote the "uh" at 30.1 this time (nothing to add).
        let mut f = feedback();
        f.fillers.items[0].start = 3.25;
        f.fillers.items.push(item("uh", 30.1, FillerSource::Transcript));
        apply(&mut f, &corrections, None, false, &config);
        assert!(f.fillers.items[0].removed);
        assert_eq!(f.fillers.items.iter().filter(|i| i.source == FillerSource::User).count(), 0);
        assert_eq!(f.fillers.total, 3);
    }

    #[test]
    fn bad_corrections_are_refused_with_a_reason() {
        let config = Config::default();
        let f = feedback();
        let past_end = check(&f, &at(75.0, CorrectionAction::Missed { word: "um".into() }), &config);
        assert_eq!(past_end, Err(CorrectionError::OutsideTake { at_s: 75.0, duration_s: 60.0 }));
        assert!(check(&f, &at(f64::NAN, not("")), &config).is_err());
        assert_eq!(check(&f, &at(15.0, not("")), &config), Err(CorrectionError::NothingToRemove { at_s: 15.0 }));
        assert!(matches!(
            check(&f, &at(15.0, CorrectionAction::Missed { word: "banana".into() }), &config),
            Err(CorrectionError::UnknownWord(_))
        ));
        assert_eq!(check(&f, &at(20.0, not("uh")), &config), Ok(()));
    }

    #[test]
    fn advice_follows_the_corrected_counts() {
        let config = Config::default();
        let mut f = Feedback { duration_s: 60.0, words: 150, ..Feedback::default() };
        f.fillers.items = (0..12).map(|n| item("um", n as f64 * 4.0, FillerSource::Audio)).collect();
        recount(&mut f);
        f.advice = advice::advise(&f, None, false, &config);
        let warns_fillers = |f: &Feedback| f.advice.iter().any(|a| matches!(a, Advice::FillersHigh { .. }));
        assert!(warns_fillers(&f), "{:?}", f.advice);
        let corrections: Vec<FillerCorrection> = (0..11).map(|n| at(n as f64 * 4.0, not("um"))).collect();
        apply(&mut f, &corrections, None, false, &config);
        assert_eq!(f.fillers.total, 1);
        assert!(!warns_fillers(&f), "{:?}", f.advice);
    }

    #[test]
    fn a_correction_never_takes_a_neighbouring_filler_for_its_own() {
        let config = Config::default();
        let mut f = feedback();
        f.fillers.items.push(item("you know", 10.2, FillerSource::Transcript));
        // "like" at 10.0 and "you know" at 10.2: both marked, then "like" restored.
        let list = toggle(&[], at(10.0, not("like")));
        let list = toggle(&list, at(10.2, not("you know")));
        assert_eq!(list.len(), 2);
        apply(&mut f, &list, None, false, &config);
        assert!(f.fillers.items.iter().filter(|i| i.start >= 10.0 && i.start <= 10.2).all(|i| i.removed));
        let list = toggle(&list, at(10.0, not("like")));
        assert_eq!(list, vec![at(10.2, not("you know"))]);
        apply(&mut f, &list, None, false, &config);
        let removed: Vec<&str> = f.fillers.items.iter().filter(|i| i.removed).map(|i| i.word.as_str()).collect();
        assert_eq!(removed, vec!["you know"]);
    }

    #[test]
    fn the_record_measures_the_detector_on_corrected_takes() {
        let config = Config::default();
        let mut f = feedback();
        let corrections = vec![at(10.0, not("like")), at(50.0, CorrectionAction::Missed { word: "um".into() })];
        apply(&mut f, &corrections, None, false, &config);
        let mut record = DetectorRecord::default();
        record.add(&f, &corrections);
        record.add(&f, &[]);
        assert_eq!(record, DetectorRecord { takes: 1, confirmed: 2, removed: 1, added: 1 });
        assert_eq!(record.precision(), Some(2.0 / 3.0));
        assert_eq!(record.recall(), Some(2.0 / 3.0));
    }
}
