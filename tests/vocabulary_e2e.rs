//! Question-aware transcription on real speech (tiny.en in the worker):
//! the prompt never credits a key point that was not said, stays within
//! whisper's limit, and the CLI's `transcribe --question` uses it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::ffi::OsStr;

use common::eval::{self, Rendering, Voice};
use common::*;
use interview_coach::analysis::Config;
use interview_coach::content::Library;
use interview_coach::pipeline::answer;
use interview_coach::transcribe::engine::Engine;
use interview_coach::transcribe::prompt::{MAX_PROMPT_TOKENS, Prompt, PromptMode};
use interview_coach::transcribe::worker::WorkerClient;

/// Answers that leave out some of their question's key points, spoken by
/// two voice families, transcribed with the app's prompt and with the
/// omitted key points' own names in the user's glossary (the worst case: the
/// prompt holds the very words). Not one omitted point may be credited.
#[test]
fn key_points_never_said_are_never_credited() {
    let Some(model) = test_model("key_points_never_said_are_never_credited") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut client = WorkerClient::new(bin().into());
    client.load(&model).expect("model");
    let library = Library::builtin();
    let config = Config::default();
    let voices: Vec<Voice> = [Voice::Espeak("en-us", 155), Voice::FestivalDiphone("kal_diphone")]
        .into_iter()
        .filter(|v| {
            let ok = eval::available(*v);
            if !ok {
                eprintln!("SKIPPED {}: not installed (scripts/setup-system.sh test)", v.name());
            }
            ok
        })
        .collect();
    let mut said = 0;
    let mut said_credited = 0;
    let mut wrongly_credited = Vec::new();
    for voice in voices {
        for a in eval::answers().iter().filter(|a| !a.omitted.is_empty()) {
            let q = library.question(&a.question).unwrap();
            let samples = eval::render(dir.path(), a, voice, Rendering::Short);
            let wav = dir.path().join(format!("{}.wav", a.id));
            eval::write_wav(&wav, &samples);
            let glossaries: [Vec<String>; 2] = [Vec::new(), a.omitted.clone()];
            for glossary in glossaries {
                let prompt = Prompt::for_question(q.question, q.mock, &glossary, PromptMode::default());
                let transcript = client.transcribe_file(&wav, 1, &prompt).expect("transcribe");
                let feedback = answer::feedback(&transcript, Some(&wav), Some(q.question), &config).unwrap();
                let covered = &feedback.key_points.covered;
                said += a.said.len();
                said_credited += a.said.iter().filter(|p| covered.contains(p)).count();
                for point in a.omitted.iter().filter(|p| covered.contains(p)) {
                    wrongly_credited.push(format!(
                        "{} / {} / glossary {glossary:?}: \"{point}\" credited; transcript: {}",
                        voice.name(),
                        a.id,
                        transcript.text
                    ));
                }
            }
        }
    }
    println!("key points said and credited: {said_credited} of {said}");
    assert!(wrongly_credited.is_empty(), "credited but never said:\n{}", wrongly_credited.join("\n"));
    assert!(said > 0);
}

/// Every built-in question's prompt, with the largest glossary and a long
/// text before the chunk, fits whisper's limit in the model's own tokens.
#[test]
fn every_prompt_fits_whispers_limit() {
    let Some(model) = test_model("every_prompt_fits_whispers_limit") else { return };
    let engine = Engine::load(&model).expect("model");
    let glossary: Vec<String> = (0..100).map(|i| format!("Xq{i}zv Kj{i}wpt Ψ{i}")).collect();
    let previous = "idempotency Debezium goroutine ".repeat(40);
    for q in Library::builtin().questions() {
        let prompt = Prompt::for_question(q.question, q.mock, &glossary, PromptMode::default());
        let text = engine.initial_prompt(&prompt, &previous).expect("a prompt");
        let tokens = engine.count_tokens(&text).expect("tokenizes");
        assert!(tokens <= MAX_PROMPT_TOKENS, "{}: {tokens} tokens: {text}", q.full_id());
        assert!(text.contains("word-for-word"), "{}: the verbatim line was cut: {text}", q.full_id());
    }
}

#[test]
fn transcribe_question_uses_the_questions_prompt() {
    let Some(model) = test_model("transcribe_question_uses_the_questions_prompt") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clip = espeak(dir.path(), "nil", "A receive on a nil channel blocks forever.", "en-us", 150);
    let args = |extra: &[&str]| -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> = vec!["--data-dir".into(), data.clone().into(), "transcribe".into()];
        v.extend(extra.iter().map(Into::into));
        v.extend(["--model".into(), model.clone().into_os_string(), "--json".into(), clip.clone().into_os_string()]);
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        run_cli(&a.iter().map(|s| s.as_os_str()).collect::<Vec<&OsStr>>())
    };
    let (ok, out, err) = run(&["--question", "phone-screen/go-fundamentals/channels"]);
    assert!(ok, "{err}");
    let value: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(value["settings"]["prompt"], "verbatim-question", "{out}");
    assert!(value["text"].as_str().unwrap().to_lowercase().contains("nil channel"), "{out}");

    let (ok, _, err) = run(&["--question", "phone-screen/nope/nope"]);
    assert!(!ok && err.contains("no question \"phone-screen/nope/nope\""), "{err}");
    let (ok, _, err) = run(&["--prompt", "loud"]);
    assert!(!ok && err.contains("no prompt mode \"loud\"") && err.contains("verbatim-question"), "{err}");
    let (ok, out, err) = run(&["--prompt", "plain"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"prompt\":\"plain\""), "{out}");
}
