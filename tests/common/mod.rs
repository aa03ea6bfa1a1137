//! Helpers shared by the end-to-end tests: real speech from espeak-ng, the
//! virtual microphone (a PulseAudio null sink, see scripts/virtual-mic.sh),
//! and signal comparisons.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "eval.rs"]
pub mod eval;
#[path = "wer.rs"]
mod wer_impl;
#[allow(unused_imports)] // not every test binary measures WER
pub use wer_impl::{normalise_words, wer};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_interview-coach")
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// One test at a time may use the virtual microphone (tests in a binary run
/// in parallel; binaries run one after another).
pub static MIC: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn lock_mic() -> std::sync::MutexGuard<'static, ()> {
    MIC.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// True when a virtual microphone is running. Outside CI a missing one skips
/// the test with a message; in CI it is a failure, never a silent skip.
pub fn virtual_mic_available(test: &str) -> bool {
    let ok = std::env::var("PULSE_SERVER").is_ok()
        && Command::new("pactl").arg("info").output().is_ok_and(|o| o.status.success());
    if !ok {
        let message = format!(
            "{test}: needs the virtual microphone: run the tests with scripts/test.sh, or `eval \"$(scripts/virtual-mic.sh start)\"` first"
        );
        assert!(!in_ci(), "{message}");
        eprintln!("SKIPPED {message}");
    }
    ok
}

/// Speaks `text` with espeak-ng into a WAV (22.05 kHz mono).
pub fn espeak(dir: &Path, name: &str, text: &str, voice: &str, words_per_minute: u32) -> PathBuf {
    let path = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-s", &words_per_minute.to_string(), "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/setup-system.sh test)");
    assert!(status.success(), "espeak-ng failed");
    path
}

/// Plays a WAV into the virtual microphone, returning when it has played.
pub fn play_into_mic(wav: &Path) {
    let sink = std::env::var("VIRTUAL_MIC_SINK").unwrap_or_else(|_| "virtmic".into());
    let status = Command::new("paplay").args(["-d", &sink]).arg(wav).status().expect("paplay");
    assert!(status.success(), "paplay failed");
}

/// Reads a WAV as mono f32 at 16 kHz.
pub fn read_16k(path: &Path) -> Vec<f32> {
    let (samples, rate) = interview_coach::audio::wav::read_mono(path).expect("readable WAV");
    interview_coach::audio::resample::resample_clip(&samples, rate).expect("resample")
}

pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
}

/// Where `needle` sits in `haystack` (lags 0..max_lag): a coarse search on
/// 10 ms energy envelopes, then a sample-exact normalised cross-correlation
/// around it. Returns (lag in samples, correlation).
pub fn best_alignment(haystack: &[f32], needle: &[f32], max_lag: usize) -> (usize, f32) {
    const FRAME: usize = 160;
    let envelope = |x: &[f32]| -> Vec<f32> {
        x.chunks(FRAME).map(|c| c.iter().map(|s| s.abs()).sum::<f32>() / c.len() as f32).collect()
    };
    let (eh, en) = (envelope(haystack), envelope(needle));
    let correlation = |a: &[f32], b: &[f32]| -> f32 {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        let (ma, mb) = (a.iter().sum::<f32>() / n as f32, b.iter().sum::<f32>() / n as f32);
        let dot: f32 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let na: f32 = a.iter().map(|x| (x - ma).powi(2)).sum::<f32>().sqrt();
        let nb: f32 = b.iter().map(|y| (y - mb).powi(2)).sum::<f32>().sqrt();
        if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
    };
    let coarse = (0..=(max_lag / FRAME).min(eh.len().saturating_sub(1)))
        .max_by(|&a, &b| correlation(&eh[a..], &en).total_cmp(&correlation(&eh[b..], &en)))
        .unwrap_or(0)
        * FRAME;
    let probe = &needle[..needle.len().min(3 * 16_000)];
    let mut best = (coarse, f32::MIN);
    for lag in coarse.saturating_sub(2 * FRAME)..=(coarse + 2 * FRAME).min(haystack.len().saturating_sub(1)) {
        let c = correlation(&haystack[lag..], probe);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}

/// The whisper model the tests use (prepared by scripts/test-model.sh).
/// Outside CI a missing model skips the test with a message; in CI it fails.
pub fn test_model(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("INTERVIEW_COACH_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/models/ggml-tiny.en.bin"));
    if path.exists() {
        return Some(path);
    }
    let message =
        format!("{test}: needs the test model {}: run scripts/test.sh (or scripts/test-model.sh)", path.display());
    assert!(!in_ci(), "{message}");
    eprintln!("SKIPPED {message}");
    None
}

/// Runs the app's CLI and returns (success, stdout, stderr).
pub fn run_cli(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = Command::new(bin()).args(args).output().expect("run interview-coach");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The clip the transcription accuracy is measured on.
pub const OUTBOX_ANSWER: &str = "I would use a transactional outbox. The order and the event are written in the same database transaction. \
A separate relay reads the outbox table and publishes each event to Kafka. Consumers must be idempotent, because delivery is at least once.";
