//! Feedback on an answer: pure functions from a transcript (with word
//! timings), the audio and the question to fluency and content metrics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a filler was found: in whisper's words, or recovered from the audio
/// (whisper drops most "um" and "uh").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillerSource {
    Transcript,
    Audio,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillerItem {
    pub word: String,
    pub start: f64,
    pub source: FillerSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Fillers {
    pub total: usize,
    pub per_min: f64,
    pub per_100_words: f64,
    pub by_word: BTreeMap<String, usize>,
    pub items: Vec<FillerItem>,
}

/// The feedback for one answer. Field names are the `analyze --json` keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Feedback {
    pub duration_s: f64,
    pub speaking_s: f64,
    pub words: usize,
    pub wpm: f64,
    pub articulation_wpm: f64,
    pub fillers: Fillers,
    pub i_words: usize,
    pub we_words: usize,
}
