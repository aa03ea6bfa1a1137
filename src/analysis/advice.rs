//! Advice as typed data: each line keeps the facts it rests on and is put
//! into English only when shown, so saved sessions hold numbers, not prose.
//! Sessions saved before this (advice as English text) still load.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::voice::{LONG_RUN_S, MIN_PHRASES, SLOW_START_S, Voice};
use super::{Config, Feedback, clock};
use crate::content::QuestionKind;

/// Fluent speakers use about this many fillers a minute.
const FLUENT_FILLERS_PER_MIN: f64 = 3.0;
/// More hedges a minute than this sounds unsure.
const HEDGES_PER_MIN: f64 = 2.0;

/// What a line of advice is about. The JSON names are the `metric` strings of old session files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Speech,
    Fillers,
    Pace,
    Pauses,
    IWe,
    Star,
    Numbers,
    KeyPoints,
    Tradeoffs,
    Hedges,
    Repetition,
    RedFlags,
    Time,
    /// How it sounded: pitch, endings, start, runs without a pause.
    Voice,
    /// A name this version does not know (from a session file written by another version).
    #[serde(other)]
    Other,
}

impl Metric {
    /// The metric an old session file names.
    fn from_name(name: &str) -> Metric {
        match name {
            "speech" => Metric::Speech,
            "fillers" => Metric::Fillers,
            "pace" => Metric::Pace,
            "pauses" => Metric::Pauses,
            "i_we" => Metric::IWe,
            "star" => Metric::Star,
            "numbers" => Metric::Numbers,
            "key_points" => Metric::KeyPoints,
            "tradeoffs" => Metric::Tradeoffs,
            "hedges" => Metric::Hedges,
            "repetition" => Metric::Repetition,
            "red_flags" => Metric::RedFlags,
            "time" => Metric::Time,
            _ => Metric::Other,
        }
    }
}

/// One line of advice about one metric, with the numbers it rests on.
/// Saved as `{"advice": "<variant>", ...fields}`; `Deserialize` (below) also
/// reads the old `{"metric", "text", "warn"}` shape as `Legacy`. The path
/// `Advice::deserialize` is the derived tagged-only reader (`remote = "Self"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "advice", rename_all = "snake_case")]
pub enum Advice {
    /// Nothing was heard: the only advice then.
    NoSpeech,
    NoFillers,
    /// Fillers, no more a minute than fluent speakers use; `top` is the most frequent.
    FillersFluent {
        total: usize,
        per_min: f64,
        top: String,
    },
    /// Fillers, more a minute than fluent speakers use.
    FillersHigh {
        total: usize,
        per_min: f64,
        top: String,
    },
    /// Faster than the pace band `min_wpm`–`max_wpm`.
    PaceFast {
        wpm: f64,
        min_wpm: f64,
        max_wpm: f64,
    },
    /// Slower than the band; `articulation_wpm` counts speaking time only.
    PaceSlow {
        wpm: f64,
        articulation_wpm: f64,
        min_wpm: f64,
        max_wpm: f64,
    },
    PaceInBand {
        wpm: f64,
        min_wpm: f64,
        max_wpm: f64,
    },
    /// `count` stretches outside the band, the first from `start` to `end` (seconds).
    PaceStretches {
        count: usize,
        start: f64,
        end: f64,
        wpm: f64,
    },
    /// One or two pauses of `min_s` or more; `longest_at` is when the longest began.
    PausesFew {
        count: usize,
        min_s: f64,
        longest_s: f64,
        longest_at: Option<f64>,
    },
    /// More than two pauses of `min_s` or more.
    PausesMany {
        count: usize,
        min_s: f64,
        longest_s: f64,
        longest_at: Option<f64>,
    },
    NoPauses {
        min_s: f64,
    },
    /// A story told as "we" more than "I"; `i_share` is 0 to 1.
    MostlyWe {
        i_words: usize,
        we_words: usize,
        i_share: f64,
    },
    MostlyI {
        i_words: usize,
        we_words: usize,
        i_share: f64,
    },
    NoIOrWe,
    StarNoResult,
    /// The situation took longer than action and result together.
    StarSituationHeavy {
        situation_s: f64,
    },
    /// `action_result_share` (0 to 1) of the time on action and result.
    StarBalanced {
        action_result_share: f64,
    },
    NoNumbers,
    /// `count` numbers; `first` holds the first few as said.
    Numbers {
        count: usize,
        first: Vec<String>,
    },
    /// `covered` of the question's key points were named; `missed` were not.
    KeyPoints {
        covered: usize,
        missed: Vec<String>,
    },
    NoTradeoffs,
    Tradeoffs {
        count: usize,
    },
    /// More hedges a minute than sounds sure.
    Hedges {
        count: usize,
        per_min: f64,
    },
    Repetition {
        phrase: String,
        count: usize,
    },
    /// A red-flag phrase said at `at` seconds.
    RedFlag {
        phrase: String,
        at: f64,
    },
    OverBudget {
        over_s: f64,
        budget_s: u32,
    },
    WithinBudget {
        duration_s: f64,
        budget_s: u32,
    },
    /// Pitch spread (semitones) under `voice::MONOTONE_ST`.
    Monotone {
        spread_st: f64,
    },
    PitchVaried {
        spread_st: f64,
    },
    /// `trailing` of `phrases` phrase endings fell `voice::TRAILING_OFF_DB` or
    /// more; `drop_db` is the median drop.
    TrailingOff {
        drop_db: f64,
        trailing: usize,
        phrases: usize,
    },
    EndingsHeld {
        drop_db: f64,
    },
    /// Silence after Record before the first word, over `voice::SLOW_START_S`.
    SlowStart {
        first_word_s: f64,
    },
    QuickStart {
        first_word_s: f64,
    },
    /// The longest stretch without a pause, over `voice::LONG_RUN_S`.
    LongRun {
        run_s: f64,
    },
    RunsWithPauses {
        run_s: f64,
    },
    /// No voice metrics: the take has no recording to measure.
    NoVoiceMetrics,
    /// The recording was measured, and no speech was heard in it.
    NoVoiceHeard,
    /// Advice saved as English by an earlier version, kept as it was.
    Legacy {
        metric: String,
        text: String,
        warn: bool,
    },
}

impl Serialize for Advice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The derived, tagged form (`remote = "Self"` makes it an inherent function).
        Advice::serialize(self, serializer)
    }
}

/// Advice as saved: tagged, or the English-only shape of earlier versions.
#[derive(Deserialize)]
#[serde(untagged)]
enum SavedAdvice {
    #[serde(deserialize_with = "Advice::deserialize")]
    Tagged(Advice),
    Old {
        metric: String,
        text: String,
        warn: bool,
    },
}

impl<'de> Deserialize<'de> for Advice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Advice, D::Error> {
        Ok(match SavedAdvice::deserialize(deserializer)? {
            SavedAdvice::Tagged(advice) => advice,
            SavedAdvice::Old { metric, text, warn } => Advice::Legacy { metric, text, warn },
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Advice {
    pub fn metric(&self) -> Metric {
        match self {
            Advice::NoSpeech => Metric::Speech,
            Advice::NoFillers | Advice::FillersFluent { .. } | Advice::FillersHigh { .. } => Metric::Fillers,
            Advice::PaceFast { .. }
            | Advice::PaceSlow { .. }
            | Advice::PaceInBand { .. }
            | Advice::PaceStretches { .. } => Metric::Pace,
            Advice::PausesFew { .. } | Advice::PausesMany { .. } | Advice::NoPauses { .. } => Metric::Pauses,
            Advice::MostlyWe { .. } | Advice::MostlyI { .. } | Advice::NoIOrWe => Metric::IWe,
            Advice::StarNoResult | Advice::StarSituationHeavy { .. } | Advice::StarBalanced { .. } => Metric::Star,
            Advice::NoNumbers | Advice::Numbers { .. } => Metric::Numbers,
            Advice::KeyPoints { .. } => Metric::KeyPoints,
            Advice::NoTradeoffs | Advice::Tradeoffs { .. } => Metric::Tradeoffs,
            Advice::Hedges { .. } => Metric::Hedges,
            Advice::Repetition { .. } => Metric::Repetition,
            Advice::RedFlag { .. } => Metric::RedFlags,
            Advice::OverBudget { .. } | Advice::WithinBudget { .. } => Metric::Time,
            Advice::Monotone { .. }
            | Advice::PitchVaried { .. }
            | Advice::TrailingOff { .. }
            | Advice::EndingsHeld { .. }
            | Advice::SlowStart { .. }
            | Advice::QuickStart { .. }
            | Advice::LongRun { .. }
            | Advice::RunsWithPauses { .. }
            | Advice::NoVoiceMetrics
            | Advice::NoVoiceHeard => Metric::Voice,
            Advice::Legacy { metric, .. } => Metric::from_name(metric),
        }
    }

    /// True when it points at something to fix.
    pub fn warn(&self) -> bool {
        match self {
            Advice::NoSpeech
            | Advice::FillersHigh { .. }
            | Advice::PaceFast { .. }
            | Advice::PaceSlow { .. }
            | Advice::PaceStretches { .. }
            | Advice::PausesMany { .. }
            | Advice::MostlyWe { .. }
            | Advice::NoIOrWe
            | Advice::StarNoResult
            | Advice::StarSituationHeavy { .. }
            | Advice::NoNumbers
            | Advice::NoTradeoffs
            | Advice::Hedges { .. }
            | Advice::Repetition { .. }
            | Advice::RedFlag { .. }
            | Advice::OverBudget { .. }
            | Advice::Monotone { .. }
            | Advice::TrailingOff { .. }
            | Advice::SlowStart { .. }
            | Advice::LongRun { .. }
            | Advice::NoVoiceHeard => true,
            Advice::NoFillers
            | Advice::FillersFluent { .. }
            | Advice::PaceInBand { .. }
            | Advice::PausesFew { .. }
            | Advice::NoPauses { .. }
            | Advice::MostlyI { .. }
            | Advice::StarBalanced { .. }
            | Advice::Numbers { .. }
            | Advice::Tradeoffs { .. }
            | Advice::WithinBudget { .. }
            | Advice::PitchVaried { .. }
            | Advice::EndingsHeld { .. }
            | Advice::QuickStart { .. }
            | Advice::RunsWithPauses { .. }
            | Advice::NoVoiceMetrics => false,
            // Fewer than half named.
            Advice::KeyPoints { covered, missed } => covered * 2 < covered + missed.len(),
            Advice::Legacy { warn, .. } => *warn,
        }
    }

    /// The line shown to the user.
    pub fn text(&self) -> String {
        let band = |min_wpm: f64, max_wpm: f64| format!("{min_wpm:.0}–{max_wpm:.0}");
        match self {
            Advice::NoSpeech => "No speech detected: check the microphone level and record the answer again.".into(),
            Advice::NoFillers => "No filler words: clean delivery.".into(),
            Advice::FillersFluent { total, per_min, top } | Advice::FillersHigh { total, per_min, top } => format!(
                "{} filler{}, {:.1} per minute: {} the ~3 per minute of fluent speakers; most were '{}'.",
                total,
                plural(*total),
                per_min,
                if matches!(self, Advice::FillersHigh { .. }) { "above" } else { "within" },
                top
            ),
            Advice::PaceFast { wpm, min_wpm, max_wpm } => format!(
                "{:.0} words per minute: faster than the {} band; slow down so the interviewer can follow.",
                wpm,
                band(*min_wpm, *max_wpm)
            ),
            Advice::PaceSlow { wpm, articulation_wpm, min_wpm, max_wpm } => format!(
                "{:.0} words per minute ({:.0} while speaking): slower than the {} band; \
                 shorter pauses and crisper sentences help.",
                wpm,
                articulation_wpm,
                band(*min_wpm, *max_wpm)
            ),
            Advice::PaceInBand { wpm, min_wpm, max_wpm } => {
                format!("{:.0} words per minute: inside the {} band.", wpm, band(*min_wpm, *max_wpm))
            }
            Advice::PaceStretches { count, start, end, wpm } => format!(
                "{} stretch(es) outside the band, first at {}–{} ({:.0} wpm).",
                count,
                clock(*start),
                clock(*end),
                wpm
            ),
            Advice::PausesFew { count, min_s, longest_s, longest_at }
            | Advice::PausesMany { count, min_s, longest_s, longest_at } => format!(
                "{} pause{} of {:.0} s or more, longest {:.1} s at {}: {}",
                count,
                plural(*count),
                min_s,
                longest_s,
                longest_at.map_or_else(String::new, clock),
                if matches!(self, Advice::PausesMany { .. }) {
                    "think aloud instead of going quiet."
                } else {
                    "a pause to think is fine; say what you are thinking about."
                }
            ),
            Advice::NoPauses { min_s } => format!("No silent pauses of {min_s:.0} s or more."),
            Advice::MostlyWe { i_words, we_words, i_share } => format!(
                "'I' {} times, 'we' {} times ({:.0}% I): say what you did yourself — 'I', not 'we'.",
                i_words,
                we_words,
                i_share * 100.0
            ),
            Advice::MostlyI { i_words, we_words, i_share } => format!(
                "'I' {} times, 'we' {} times ({:.0}% I): your own actions come through.",
                i_words,
                we_words,
                i_share * 100.0
            ),
            Advice::NoIOrWe => "No 'I' or 'we' at all: tell it as your story.".into(),
            Advice::StarNoResult => "No clear result: end with the measurable outcome and what you learned.".into(),
            Advice::StarSituationHeavy { situation_s } => format!(
                "The situation took {situation_s:.0} s, more than action and result together: keep the context brief."
            ),
            Advice::StarBalanced { action_result_share } => {
                format!("STAR: {:.0}% of the time on action and result.", action_result_share * 100.0)
            }
            Advice::NoNumbers => "No numbers: quantify scale (QPS, data size) or impact (MTTR, %, time saved).".into(),
            Advice::Numbers { count, first } => format!("{} number{}: {}.", count, plural(*count), first.join(", ")),
            Advice::KeyPoints { covered, missed } => {
                let not_said =
                    if missed.is_empty() { String::new() } else { format!("; not said: {}", missed.join(", ")) };
                format!("Named {} of {} key points{not_said}.", covered, covered + missed.len())
            }
            Advice::NoTradeoffs => {
                "No trade-off language: narrate the options and their costs ('the downside is…', 'at the cost of…')."
                    .into()
            }
            Advice::Tradeoffs { count } => {
                format!("{} trade-off phrase{}: you reasoned about options.", count, plural(*count))
            }
            Advice::Hedges { count, per_min } => format!(
                "{count} hedges ({per_min:.1} per minute): state what you know plainly; \
                 keep 'maybe' for real uncertainty."
            ),
            Advice::Repetition { phrase, count } => format!("Said '{phrase}' {count} times: vary the wording."),
            Advice::RedFlag { phrase, at } => {
                format!("Said '{}' at {}: an interviewer hears a red flag there.", phrase, clock(*at))
            }
            Advice::OverBudget { over_s, budget_s } => format!(
                "{} over the {} budget: running out of time is signal; land the answer sooner.",
                clock(*over_s),
                clock(f64::from(*budget_s))
            ),
            Advice::WithinBudget { duration_s, budget_s } => {
                format!("{} of the {} budget.", clock(*duration_s), clock(f64::from(*budget_s)))
            }
            Advice::Monotone { spread_st } => format!(
                "Your pitch spans only {spread_st:.1} semitones: it sounds flat. Lift the words that matter \
                 (the number, the decision) and let the key sentence rise."
            ),
            Advice::PitchVaried { spread_st } => format!("Your pitch spans {spread_st:.1} semitones: a lively voice."),
            Advice::TrailingOff { drop_db, trailing, phrases } => format!(
                "{trailing} of {phrases} sentence endings trail off (typically {drop_db:.0} dB quieter): \
                 keep your voice up to the last word; that is where the result is."
            ),
            Advice::EndingsHeld { drop_db } => {
                format!("Sentence endings hold their level ({drop_db:+.0} dB against the sentence).")
            }
            Advice::SlowStart { first_word_s } => format!(
                "{first_word_s:.1} s of silence before your first word: open with a framing sentence \
                 (\u{2018}Let me take that in two parts\u{2019}) while you think."
            ),
            Advice::QuickStart { first_word_s } => format!("First word {first_word_s:.1} s after Record."),
            Advice::LongRun { run_s } => {
                format!("{run_s:.0} s without a pause: stop for a breath now and then so the interviewer can come in.")
            }
            Advice::RunsWithPauses { run_s } => format!("Longest stretch without a pause: {run_s:.0} s."),
            Advice::NoVoiceMetrics => "No voice metrics (pitch, endings, start): they are measured from the \
                                       recording, and this analysis had none (a transcript on its own, or a take \
                                       analysed before they existed: transcribe it again)."
                .into(),
            Advice::NoVoiceHeard => {
                "No speech was heard in the recording, so it has no voice metrics: check the microphone level.".into()
            }
            Advice::Legacy { text, .. } => text.clone(),
        }
    }
}

/// The advice for one answer, from its feedback. `kind` decides the
/// question-specific lines (I/we and STAR, trade-offs).
pub fn advise(f: &Feedback, kind: Option<QuestionKind>, no_speech: bool, config: &Config) -> Vec<Advice> {
    let mut out = Vec::new();
    if no_speech {
        out.push(Advice::NoSpeech);
        return out;
    }
    // Fillers.
    if f.fillers.total == 0 {
        out.push(Advice::NoFillers);
    } else {
        let top = f.fillers.by_word.iter().max_by_key(|(_, n)| **n).map(|(w, _)| w.clone()).unwrap_or_default();
        let (total, per_min) = (f.fillers.total, f.fillers.per_min);
        out.push(if per_min > FLUENT_FILLERS_PER_MIN {
            Advice::FillersHigh { total, per_min, top }
        } else {
            Advice::FillersFluent { total, per_min, top }
        });
    }
    // Pace.
    let (min_wpm, max_wpm) = (config.pace_min_wpm, config.pace_max_wpm);
    out.push(if f.wpm > max_wpm {
        Advice::PaceFast { wpm: f.wpm, min_wpm, max_wpm }
    } else if f.wpm < min_wpm {
        Advice::PaceSlow { wpm: f.wpm, articulation_wpm: f.articulation_wpm, min_wpm, max_wpm }
    } else {
        Advice::PaceInBand { wpm: f.wpm, min_wpm, max_wpm }
    });
    if let Some(s) = f.pace.first() {
        out.push(Advice::PaceStretches { count: f.pace.len(), start: s.start, end: s.end, wpm: s.wpm });
    }
    // Pauses.
    let min_s = config.long_pause_s;
    if f.pauses.count > 0 {
        let longest = f.pauses.items.iter().max_by(|a, b| (a.end - a.start).total_cmp(&(b.end - b.start)));
        let (count, longest_s, longest_at) = (f.pauses.count, f.pauses.longest_s, longest.map(|p| p.start));
        out.push(if count > 2 {
            Advice::PausesMany { count, min_s, longest_s, longest_at }
        } else {
            Advice::PausesFew { count, min_s, longest_s, longest_at }
        });
    } else {
        out.push(Advice::NoPauses { min_s });
    }
    // I vs we in STAR answers.
    if kind == Some(QuestionKind::BehavioralStar) {
        let (i_words, we_words) = (f.i_words, f.we_words);
        out.push(match f.i_share {
            Some(i_share) if i_share < 0.5 => Advice::MostlyWe { i_words, we_words, i_share },
            Some(i_share) => Advice::MostlyI { i_words, we_words, i_share },
            None => Advice::NoIOrWe,
        });
        if let Some(star) = &f.star {
            if star.missing_result {
                out.push(Advice::StarNoResult);
            }
            if star.situation_heavy {
                out.push(Advice::StarSituationHeavy { situation_s: star.situation.seconds });
            } else if !star.missing_result {
                out.push(Advice::StarBalanced { action_result_share: star.action_result_share });
            }
        }
    }
    // Numbers.
    if f.numbers.is_empty() {
        out.push(Advice::NoNumbers);
    } else {
        let first = f.numbers.iter().take(4).map(|q| q.text.clone()).collect();
        out.push(Advice::Numbers { count: f.numbers.len(), first });
    }
    // Key points.
    if !f.key_points.covered.is_empty() || !f.key_points.missed.is_empty() {
        out.push(Advice::KeyPoints { covered: f.key_points.covered.len(), missed: f.key_points.missed.clone() });
    }
    // Trade-offs, where the question calls for them.
    if matches!(kind, Some(QuestionKind::Design | QuestionKind::Scenario | QuestionKind::Intro)) {
        out.push(if f.tradeoffs.is_empty() {
            Advice::NoTradeoffs
        } else {
            Advice::Tradeoffs { count: f.tradeoffs.len() }
        });
    }
    if !f.hedges.is_empty() {
        let per_min = if f.duration_s > 0.0 { f.hedges.len() as f64 / (f.duration_s / 60.0) } else { 0.0 };
        if per_min > HEDGES_PER_MIN {
            out.push(Advice::Hedges { count: f.hedges.len(), per_min });
        }
    }
    for repetition in f.repetitions.iter().take(2) {
        out.push(Advice::Repetition { phrase: repetition.phrase.clone(), count: repetition.count });
    }
    for flag in &f.red_flags {
        out.push(Advice::RedFlag { phrase: flag.text.clone(), at: flag.start });
    }
    if let Some(budget_s) = f.budget_s {
        out.push(if f.overrun_s > 0.0 {
            Advice::OverBudget { over_s: f.overrun_s, budget_s }
        } else {
            Advice::WithinBudget { duration_s: f.duration_s, budget_s }
        });
    }
    out.extend(voice_advice(f.voice.as_ref()));
    out
}

/// One line per voice metric; one line saying why when there are none.
fn voice_advice(voice: Option<&Voice>) -> Vec<Advice> {
    let Some(v) = voice else { return vec![Advice::NoVoiceMetrics] };
    if v.first_word_s.is_none() {
        return vec![Advice::NoVoiceHeard];
    }
    let mut out = Vec::new();
    if let Some(spread_st) = v.pitch_spread_st {
        out.push(if v.monotone() { Advice::Monotone { spread_st } } else { Advice::PitchVaried { spread_st } });
    }
    if let Some(drop_db) = v.ending_drop_db.filter(|_| v.phrases >= MIN_PHRASES) {
        out.push(if v.trails_off() {
            Advice::TrailingOff { drop_db, trailing: v.trailing_phrases, phrases: v.phrases }
        } else {
            Advice::EndingsHeld { drop_db }
        });
    }
    if let Some(first_word_s) = v.first_word_s {
        out.push(if first_word_s > SLOW_START_S {
            Advice::SlowStart { first_word_s }
        } else {
            Advice::QuickStart { first_word_s }
        });
    }
    out.push(if v.longest_run_s > LONG_RUN_S {
        Advice::LongRun { run_s: v.longest_run_s }
    } else {
        Advice::RunsWithPauses { run_s: v.longest_run_s }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Quantity, QuantityKind};

    #[test]
    fn renders_the_same_english_as_before() {
        let fillers = Advice::FillersHigh { total: 3, per_min: 15.0, top: "um".into() };
        assert_eq!(
            fillers.text(),
            "3 fillers, 15.0 per minute: above the ~3 per minute of fluent speakers; most were 'um'."
        );
        let slow = Advice::PaceSlow { wpm: 101.4, articulation_wpm: 140.6, min_wpm: 130.0, max_wpm: 170.0 };
        assert_eq!(
            slow.text(),
            "101 words per minute (141 while speaking): slower than the 130–170 band; \
             shorter pauses and crisper sentences help."
        );
        let pauses = Advice::PausesFew { count: 1, min_s: 2.0, longest_s: 3.24, longest_at: Some(65.0) };
        assert_eq!(
            pauses.text(),
            "1 pause of 2 s or more, longest 3.2 s at 1:05: a pause to think is fine; say what you are thinking about."
        );
        let points = Advice::KeyPoints { covered: 1, missed: vec!["postmortem".into(), "outbox".into()] };
        assert_eq!(points.text(), "Named 1 of 3 key points; not said: postmortem, outbox.");
        assert!(points.warn());
        assert_eq!(
            Advice::OverBudget { over_s: 10.0, budget_s: 120 }.text(),
            "0:10 over the 2:00 budget: running out of time is signal; land the answer sooner."
        );
    }

    #[test]
    fn old_session_advice_still_loads() {
        // A feedback as sessions saved it when advice was English.
        let old = r#"{
            "duration_s": 12.0,
            "numbers": [{"text": "40 percent", "start": 1.5, "kind": "percent"}],
            "advice": [
                {"metric": "fillers", "text": "3 fillers, 15.0 per minute: above the ~3 per minute.", "warn": true},
                {"metric": "numbers", "text": "1 number: 40 percent.", "warn": false},
                {"metric": "gone_metric", "text": "Something older.", "warn": false}
            ]
        }"#;
        let f: Feedback = serde_json::from_str(old).expect("old feedback loads");
        assert_eq!(f.numbers, [Quantity { text: "40 percent".into(), start: 1.5, kind: QuantityKind::Percent }]);
        let lines: Vec<(Metric, bool, String)> = f.advice.iter().map(|a| (a.metric(), a.warn(), a.text())).collect();
        assert_eq!(
            lines,
            [
                (Metric::Fillers, true, "3 fillers, 15.0 per minute: above the ~3 per minute.".to_owned()),
                (Metric::Numbers, false, "1 number: 40 percent.".to_owned()),
                (Metric::Other, false, "Something older.".to_owned()),
            ]
        );
        // Saved again, it keeps its text.
        let again: Feedback = serde_json::from_str(&serde_json::to_string(&f).expect("serialize")).expect("reload");
        assert_eq!(again, f);
    }

    #[test]
    fn typed_advice_round_trips() {
        let advice = vec![
            Advice::NoSpeech,
            Advice::FillersHigh { total: 3, per_min: 15.0, top: "you know".into() },
            Advice::PausesMany { count: 3, min_s: 2.0, longest_s: 4.5, longest_at: None },
            Advice::Numbers { count: 5, first: vec!["2,000 qps".into(), "80 ms".into()] },
            Advice::WithinBudget { duration_s: 95.5, budget_s: 120 },
            Advice::Legacy { metric: "time".into(), text: "1:35 of the 2:00 budget.".into(), warn: false },
        ];
        let f = Feedback { duration_s: 95.5, advice, ..Feedback::default() };
        let json = serde_json::to_string(&f).expect("serialize");
        assert!(json.contains(r#"{"advice":"fillers_high","total":3,"per_min":15.0,"top":"you know"}"#), "{json}");
        assert!(json.contains(r#"{"advice":"no_speech"}"#), "{json}");
        let back: Feedback = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, f);
        assert_eq!(back.advice[5].metric(), Metric::Time);
        assert_eq!(back.advice[4].text(), "1:36 of the 2:00 budget.");
    }

    #[test]
    fn metric_names_match_old_files() {
        for metric in [Metric::IWe, Metric::KeyPoints, Metric::RedFlags, Metric::Time] {
            let name = serde_json::to_string(&metric).expect("serialize");
            assert_eq!(Metric::from_name(name.trim_matches('"')), metric);
        }
        assert_eq!(serde_json::to_string(&Metric::IWe).expect("serialize"), r#""i_we""#);
    }
}
