//! whisper.cpp through whisper-rs: one loaded model, transcribing 16 kHz mono
//! audio into text, segments and timed words. Runs inside the worker process
//! (see `worker`), so a native crash cannot take the app down.

use std::path::Path;

use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters,
};

use super::loops;
use super::prompt::{MAX_PROMPT_TOKENS, PREVIOUS_CHARS, Prompt, tail_words};
use super::{DecodeSettings, Segment, Transcript, Word};
use crate::model::ggml::{self, ModelInfo};
use crate::util::SAMPLE_RATE;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Model(#[from] ggml::ModelError),
    #[error(
        "whisper could not load {path}: the file looks like a model but whisper.cpp refused it; re-download or re-import it"
    )]
    Load { path: String },
    #[error("transcription failed: {0}")]
    Whisper(String),
}

/// The default number of decoding threads: all cores but one, so the UI and
/// the audio thread keep a core (two threads on two cores collapse).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).saturating_sub(1).max(1)
}

pub const BEAM_SIZE: i32 = 5;

/// whisper's encoder always reads a 30 s window (1,500 positions, 50 a
/// second). It can be told to read only a shorter piece and a margin after
/// it (`audio_ctx`, as whisper.cpp's stream example does): a 10 s chunk then
/// costs about a third of the encoder's time. Measured on the spoken-answer
/// set, it cost accuracy (tiny.en, technical WER on piper's voice 0.097 →
/// 0.110, false um/uh 0.15 → 0.44 a minute; key points credited on espeak-ng
/// 89 → 87 %), so it is off; `INTERVIEW_COACH_FIT_AUDIO_CTX=1` turns it on
/// for comparisons (`benches/transcription.rs` reports both).
const AUDIO_CTX_PER_S: f64 = 50.0;
const AUDIO_CTX_MARGIN: i32 = 128;
/// Never under 10 s of context: with less, tiny.en said short clips twice
/// ("The consumer is idempotent." as two copies of it at 213 positions, one
/// at 500; measured on espeak-ng clips of 1.5–3 s).
const MIN_AUDIO_CTX: i32 = 500;

/// The encoder positions for `duration_s` of audio: 0 (the whole window)
/// when fitting is off or the piece fills the window anyway. Never fewer
/// than the piece's frames need (whisper.cpp asserts frames ≤ 2 × ctx).
pub fn fitted_audio_ctx(duration_s: f64, window_ctx: i32, fit: bool) -> i32 {
    if !fit {
        return 0;
    }
    let needed = ((duration_s * AUDIO_CTX_PER_S).ceil() as i32 + AUDIO_CTX_MARGIN).max(MIN_AUDIO_CTX);
    if needed >= window_ctx { 0 } else { needed }
}

pub struct Engine {
    ctx: WhisperContext,
    eot: i32,
    info: ModelInfo,
    dtw: bool,
    /// Fit the encoder's window to pieces shorter than 30 s (off by default).
    fit_audio_ctx: bool,
}

fn dtw_preset(info: &ModelInfo) -> Option<DtwModelPreset> {
    Some(match (info.kind.as_str(), info.english_only) {
        ("tiny", true) => DtwModelPreset::TinyEn,
        ("tiny", false) => DtwModelPreset::Tiny,
        ("base", true) => DtwModelPreset::BaseEn,
        ("base", false) => DtwModelPreset::Base,
        ("small", true) => DtwModelPreset::SmallEn,
        ("small", false) => DtwModelPreset::Small,
        ("medium", true) => DtwModelPreset::MediumEn,
        ("medium", false) => DtwModelPreset::Medium,
        _ => return None,
    })
}

impl Engine {
    /// Validates the file, then loads it. DTW word timestamps use the
    /// model's preset where whisper.cpp has one.
    pub fn load(path: &Path) -> Result<Engine, EngineError> {
        whisper_rs::install_logging_hooks();
        let info = ggml::validate(path)?;
        // INTERVIEW_COACH_NO_DTW=1 turns DTW word timing off (for comparisons).
        let preset = if std::env::var_os("INTERVIEW_COACH_NO_DTW").is_some() { None } else { dtw_preset(&info) };
        let dtw = preset.is_some();
        let mut params = WhisperContextParameters::default();
        if let Some(model_preset) = preset {
            params.dtw_parameters = DtwParameters { mode: DtwMode::ModelPreset { model_preset }, ..Default::default() };
        }
        let ctx = WhisperContext::new_with_params(path, params)
            .map_err(|_| EngineError::Load { path: path.display().to_string() })?;
        let eot = ctx.token_eot();
        let fit_audio_ctx = std::env::var_os("INTERVIEW_COACH_FIT_AUDIO_CTX").is_some_and(|v| v == "1");
        Ok(Engine { ctx, eot, info, dtw, fit_audio_ctx })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Whether pieces shorter than 30 s are encoded over their own length
    /// only, or over whisper's whole window (the default).
    pub fn set_fit_audio_ctx(&mut self, fit: bool) {
        self.fit_audio_ctx = fit;
    }

    pub fn model_name(&self) -> String {
        self.info.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Transcribes a whole recording in one whisper call: whisper walks its
    /// 30-second windows itself, the prompt leading the first and its own
    /// text the next. (Cutting the file at pauses as a live take is cut, so
    /// every piece gets the whole prompt, broke whisper's word times at the
    /// end of pieces and with them the audio filler detector: measured in
    /// tests/analysis_e2e.rs, 2 of 8 fillers found on one voice instead of 8.)
    pub fn transcribe_long(&self, samples: &[f32], threads: usize, prompt: &Prompt) -> Result<Transcript, EngineError> {
        self.transcribe(samples, threads, prompt, "")
    }

    fn settings(&self, threads: usize, prompt: &Prompt) -> DecodeSettings {
        DecodeSettings {
            model: self.model_name(),
            threads,
            language: "en".into(),
            dtw: self.dtw,
            prompt: Some(prompt.mode),
            redecoded: 0,
        }
    }

    /// How many tokens whisper makes of `text` (`None`: it cannot tokenize it).
    pub fn count_tokens(&self, text: &str) -> Option<usize> {
        // A token is at least a byte, so `len + 1` slots always suffice
        // (whisper-rs mishandles a "needs more" answer).
        self.ctx.tokenize(text, text.len() + 1).ok().map(|t| t.len())
    }

    /// whisper's initial prompt for a piece: `prompt` with the end of the
    /// text before it, trimmed word by word from the front of that text
    /// until it fits whisper's limit in tokens.
    pub fn initial_prompt(&self, prompt: &Prompt, previous: &str) -> Option<String> {
        let fits = |text: &str| self.count_tokens(text).is_some_and(|n| n <= MAX_PROMPT_TOKENS);
        let mut previous = tail_words(previous, PREVIOUS_CHARS);
        loop {
            let text = prompt.text(&previous)?;
            if fits(&text) {
                return Some(text);
            }
            if previous.is_empty() {
                // The question and terms alone are too long (a question in a
                // script that takes many tokens a character): the verbatim
                // line alone always fits.
                return Prompt::verbatim().text("").filter(|t| fits(t));
            }
            previous = previous.split_once(' ').map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        }
    }

    /// Transcribes 16 kHz mono samples (one piece, up to whisper's 30 s
    /// window). Near-silence gives an empty transcript marked `no_speech`
    /// rather than whisper's inventions. `previous`: the text said just
    /// before this audio, for continuity. A decoding loop is decoded again
    /// without the prompt, and a loop left after that is cut out.
    pub fn transcribe(
        &self,
        samples: &[f32],
        threads: usize,
        prompt: &Prompt,
        previous: &str,
    ) -> Result<Transcript, EngineError> {
        let duration_s = samples.len() as f64 / f64::from(SAMPLE_RATE);
        let mut settings = self.settings(threads, prompt);
        if !has_speech(samples) {
            return Ok(Transcript::no_speech(duration_s, settings));
        }
        let text = self.initial_prompt(prompt, previous);
        let first = self.decode(samples, threads, text.as_deref(), duration_s, self.fit_audio_ctx, &settings)?;
        let Some(found) = loops::detect(&first.text, text.as_deref()) else { return Ok(first) };
        log::warn!("whisper looped ({found:?}); decoding again without the prompt, over the whole window");
        settings.redecoded = 1;
        let plain = self.initial_prompt(&Prompt::plain(), previous);
        let mut again = self.decode(samples, threads, plain.as_deref(), duration_s, false, &settings)?;
        if loops::detect(&again.text, None).is_some() {
            drop_repeated_segments(&mut again);
        }
        Ok(again)
    }

    fn decode(
        &self,
        samples: &[f32],
        threads: usize,
        prompt: Option<&str>,
        duration_s: f64,
        fit_audio_ctx: bool,
        settings: &DecodeSettings,
    ) -> Result<Transcript, EngineError> {
        let settings = settings.clone();
        let mut state = self.ctx.create_state().map_err(|e| EngineError::Whisper(e.to_string()))?;
        // Beam search, as faster-whisper does by default: fewer misheard words.
        let mut params = FullParams::new(SamplingStrategy::BeamSearch { beam_size: BEAM_SIZE, patience: -1.0 });
        params.set_n_threads(threads.max(1) as i32);
        params.set_language(Some("en"));
        params.set_token_timestamps(true);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_no_context(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        if let Some(prompt) = prompt.map(|p| p.replace('\0', "")).filter(|p| !p.is_empty()) {
            params.set_initial_prompt(&prompt);
        }
        // whisper needs at least a second; pad short takes with silence.
        let min = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 10;
        let padded;
        let audio = if samples.len() < min {
            padded = [samples, &vec![0.0; min - samples.len()]].concat();
            &padded[..]
        } else {
            samples
        };
        let audio_s = audio.len() as f64 / f64::from(SAMPLE_RATE);
        params.set_audio_ctx(fitted_audio_ctx(audio_s, self.ctx.model_n_audio_ctx(), fit_audio_ctx));
        state.full(params, audio).map_err(|e| EngineError::Whisper(e.to_string()))?;

        let mut segments = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        for segment in state.as_iter() {
            let text = segment.to_str_lossy().map_err(|e| EngineError::Whisper(e.to_string()))?.trim().to_owned();
            if text.is_empty() || is_non_speech_annotation(&text) {
                continue;
            }
            let start = segment.start_timestamp() as f64 / 100.0;
            let end = (segment.end_timestamp() as f64 / 100.0).min(duration_s);
            segments.push(Segment { start, end, text });
            let mut pieces = Vec::new();
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else { continue };
                let data = token.token_data();
                if data.id >= self.eot {
                    continue;
                }
                let bytes = token.to_bytes().map_err(|e| EngineError::Whisper(e.to_string()))?.to_vec();
                pieces.push(TokenPiece { bytes, t0: data.t0, t1: data.t1, t_dtw: data.t_dtw, p: data.p });
            }
            words.extend(words_from_tokens(&pieces, start, end, self.dtw));
        }
        for word in &mut words {
            word.end = word.end.min(duration_s);
            word.start = word.start.min(word.end);
        }
        let text = segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
        let no_speech = words.is_empty();
        Ok(Transcript { text, duration_s, segments, words, no_speech, settings })
    }
}

/// What is left of a loop after a second decoding: a segment that only
/// says again what the one before it said goes, with its words. Nothing
/// else is dropped.
fn drop_repeated_segments(transcript: &mut Transcript) {
    let mut kept: Vec<Segment> = Vec::new();
    for segment in std::mem::take(&mut transcript.segments) {
        let repeats = kept.last().is_some_and(|last| loops::repeats(&last.text, &segment.text));
        if repeats {
            transcript.words.retain(|w| w.start < segment.start || w.start >= segment.end);
        } else {
            kept.push(segment);
        }
    }
    transcript.segments = kept;
    transcript.text = transcript.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
    transcript.no_speech = transcript.words.is_empty();
}

/// "[BLANK_AUDIO]", "(music)": whisper's descriptions of non-speech.
fn is_non_speech_annotation(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('[') && t.ends_with(']'))
        || (t.starts_with('(') && t.ends_with(')'))
        || (t.starts_with('*') && t.ends_with('*'))
}

/// Anything louder than quiet room noise in some 30 ms frame.
pub fn has_speech(samples: &[f32]) -> bool {
    // 30 ms frames.
    crate::util::level::has_speech(samples, SAMPLE_RATE as usize * 3 / 100)
}

/// A decoded token: raw bytes (a token can hold part of a UTF-8 character)
/// and its timings in centiseconds.
#[derive(Debug, Clone)]
pub struct TokenPiece {
    pub bytes: Vec<u8>,
    pub t0: i64,
    pub t1: i64,
    pub t_dtw: i64,
    pub p: f32,
}

/// Groups tokens into words: a token starting with a space begins a word;
/// punctuation-only tokens stay with the word before. Times come from the
/// token timestamps; with DTW, a token's DTW time marks where it ends, which
/// is tighter, so a word ends at its last token's DTW time.
pub fn words_from_tokens(tokens: &[TokenPiece], seg_start: f64, seg_end: f64, dtw: bool) -> Vec<Word> {
    struct Building {
        bytes: Vec<u8>,
        start: f64,
        end: f64,
        dtw_end: Option<f64>,
        p_sum: f32,
        n: u32,
    }
    let mut words: Vec<Word> = Vec::new();
    let mut current: Option<Building> = None;
    let finish = |b: Building, words: &mut Vec<Word>| {
        let text = String::from_utf8_lossy(&b.bytes).trim().to_owned();
        let end = match b.dtw_end {
            Some(t) if t > b.start => t,
            _ => b.end,
        };
        if text.chars().any(char::is_alphanumeric) {
            words.push(Word { word: text, start: b.start, end: end.max(b.start), p: b.p_sum / b.n.max(1) as f32 });
        } else if let Some(last) = words.last_mut() {
            // Stray punctuation: keep it on the previous word.
            last.word.push_str(&text);
        }
    };
    let cs = |t: i64| if t >= 0 { Some(t as f64 / 100.0) } else { None };
    for token in tokens {
        let start = cs(token.t0).unwrap_or(seg_start).clamp(seg_start, seg_end.max(seg_start));
        let end = cs(token.t1).unwrap_or(seg_end).clamp(start, seg_end.max(start));
        let dtw_time = if dtw { cs(token.t_dtw).map(|t| t.clamp(seg_start, seg_end.max(seg_start))) } else { None };
        let starts_word = token.bytes.first() == Some(&b' ');
        let is_punctuation = !token.bytes.iter().any(|b| b.is_ascii_alphanumeric() || *b >= 0x80);
        match current.as_mut() {
            Some(word) if !starts_word || is_punctuation => {
                word.bytes.extend_from_slice(&token.bytes);
                word.end = word.end.max(end);
                if !is_punctuation {
                    word.p_sum += token.p;
                    word.n += 1;
                    word.dtw_end = dtw_time.or(word.dtw_end);
                }
            }
            _ => {
                if let Some(done) = current.take() {
                    finish(done, &mut words);
                }
                current =
                    Some(Building { bytes: token.bytes.clone(), start, end, dtw_end: dtw_time, p_sum: token.p, n: 1 });
            }
        }
    }
    if let Some(done) = current {
        finish(done, &mut words);
    }
    // Times never go backwards (timestamps can jitter by a frame).
    for i in 1..words.len() {
        if words[i].start < words[i - 1].start {
            words[i].start = words[i - 1].start;
        }
        if words[i].end < words[i].start {
            words[i].end = words[i].start;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(text: &str, t0: i64, t1: i64) -> TokenPiece {
        TokenPiece { bytes: text.as_bytes().to_vec(), t0, t1, t_dtw: -1, p: 0.9 }
    }

    #[test]
    fn tokens_group_into_words_with_punctuation_attached() {
        let tokens = [
            piece(" Send", 0, 20),
            piece(" on", 20, 30),
            piece(" clo", 30, 40),
            piece("sed", 40, 55),
            piece(".", 55, 56),
        ];
        let words = words_from_tokens(&tokens, 0.0, 1.0, false);
        let texts: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(texts, ["Send", "on", "closed."]);
        assert_eq!((words[2].start, words[2].end), (0.3, 0.56));
    }

    #[test]
    fn a_character_split_over_tokens_is_rejoined() {
        let e_acute = "é".as_bytes();
        let tokens = [
            TokenPiece { bytes: vec![b' ', b'c', b'a', b'f', e_acute[0]], t0: 0, t1: 10, t_dtw: -1, p: 0.5 },
            TokenPiece { bytes: vec![e_acute[1]], t0: 10, t1: 20, t_dtw: -1, p: 0.5 },
        ];
        assert_eq!(words_from_tokens(&tokens, 0.0, 1.0, false)[0].word, "café");
    }

    #[test]
    fn the_encoder_window_fits_short_pieces_with_a_margin() {
        // 10 s: 500 positions for the audio and the margin.
        assert_eq!(fitted_audio_ctx(10.0, 1500, true), 628);
        assert_eq!(fitted_audio_ctx(1.5, 1500, true), MIN_AUDIO_CTX);
        // whisper.cpp asserts a piece's frames (100 a second) ≤ 2 × ctx.
        for tenths in 1..300 {
            let seconds = f64::from(tenths) / 10.0;
            let ctx = fitted_audio_ctx(seconds, 1500, true);
            assert!(ctx == 0 || f64::from(2 * ctx) >= seconds * 100.0, "{seconds} s -> {ctx}");
        }
        // Pieces near 30 s, and fitting turned off, read the whole window.
        assert_eq!(fitted_audio_ctx(28.0, 1500, true), 0);
        assert_eq!(fitted_audio_ctx(5.0, 1500, false), 0);
    }

    #[test]
    fn silence_is_not_speech() {
        assert!(!has_speech(&vec![0.0; 16_000]));
        assert!(!has_speech(&vec![0.002; 16_000]));
        let mut tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.1).sin() * 0.2).collect();
        assert!(has_speech(&tone));
        tone.truncate(0);
        assert!(!has_speech(&tone));
        assert!(is_non_speech_annotation("[BLANK_AUDIO]") && is_non_speech_annotation("(upbeat music)"));
        assert!(!is_non_speech_annotation("Hello (world)"));
    }
}
