//! The last step of one answer's path, written once for the app and the
//! CLI: the take's audio (read and brought to 16 kHz) and its transcript,
//! with the question, give the feedback.

use std::path::Path;

use crate::analysis::{self, AudioFeatures, Feedback, QuestionContext};
use crate::audio::resample::{self, ResampleError};
use crate::audio::wav::{self, WavError};
use crate::content::Question;
use crate::transcribe::Transcript;

#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error(transparent)]
    Audio(#[from] WavError),
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// A take's audio at 16 kHz mono, whatever rate its file has.
pub fn take_audio(path: &Path) -> Result<Vec<f32>, AnswerError> {
    let (samples, rate) = wav::read_mono(path)?;
    Ok(resample::resample_clip(&samples, rate)?)
}

/// A take's recording, read and analysed as far as it can be without the
/// transcript (the app does this at Stop, while whisper finishes).
#[derive(Debug, Clone)]
pub struct AnalysedAudio {
    pub samples: Vec<f32>,
    pub features: AudioFeatures,
}

impl AnalysedAudio {
    pub fn read(path: &Path) -> Result<AnalysedAudio, AnswerError> {
        let samples = take_audio(path)?;
        let features = AudioFeatures::of(&samples);
        Ok(AnalysedAudio { samples, features })
    }
}

/// The feedback for a transcribed take. Without a WAV (a transcript given
/// on its own), pauses and fillers come from the word times only.
pub fn feedback(
    transcript: &Transcript,
    wav: Option<&Path>,
    question: Option<&Question>,
    config: &analysis::Config,
) -> Result<Feedback, AnswerError> {
    let audio = wav.map(AnalysedAudio::read).transpose()?;
    Ok(feedback_with(transcript, audio.as_ref(), question, config))
}

/// `feedback` with the recording read and analysed beforehand.
pub fn feedback_with(
    transcript: &Transcript,
    audio: Option<&AnalysedAudio>,
    question: Option<&Question>,
    config: &analysis::Config,
) -> Feedback {
    let audio = audio.map(|a| (a.samples.as_slice(), &a.features));
    analysis::analyze_with(transcript, audio, question.map(QuestionContext::of), config)
}
