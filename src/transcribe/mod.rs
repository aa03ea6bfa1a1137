//! Local speech-to-text with whisper: models, the transcription worker, and
//! the transcript that is saved with each take.

pub mod engine;
pub mod loops;
pub mod prompt;
pub mod service;
pub mod stream;
pub mod worker;

use serde::{Deserialize, Serialize};

/// A timed stretch of transcribed text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// One word with its timing (seconds) and whisper's confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub word: String,
    pub start: f64,
    pub end: f64,
    pub p: f32,
}

/// How a take was transcribed, so results can be compared and reproduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DecodeSettings {
    pub model: String,
    pub threads: usize,
    pub language: String,
    #[serde(default)]
    pub dtw: bool,
    /// The prompt mode (`None`: transcribed before prompts existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<prompt::PromptMode>,
    /// Pieces decoded a second time, without the prompt, because whisper looped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redecoded: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The transcript of one take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub text: String,
    pub duration_s: f64,
    pub segments: Vec<Segment>,
    pub words: Vec<Word>,
    /// True when the take held no speech (nothing is invented for silence).
    #[serde(default)]
    pub no_speech: bool,
    pub settings: DecodeSettings,
}

impl Transcript {
    /// The transcript of a take without speech: nothing invented.
    pub fn no_speech(duration_s: f64, settings: DecodeSettings) -> Transcript {
        Transcript {
            text: String::new(),
            duration_s,
            segments: Vec::new(),
            words: Vec::new(),
            no_speech: true,
            settings,
        }
    }
}
