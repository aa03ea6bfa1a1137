//! The answer pipeline without any UI: the practice controller is driven
//! through a whole question (start, audio from a file played as a
//! microphone, stop, streamed transcript, analysis, grade, note, next) with
//! the real tiny.en model in the real worker process, and what it saved is
//! read back from disk.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use interview_coach::audio::capture::Source;
use interview_coach::paths::DataDir;
use interview_coach::pipeline::Coach;
use interview_coach::pipeline::practice::{Practice, PracticeCommand, PracticeEvent, TakeOptions, TakeState};
use interview_coach::store::{Level, Mode, Store};

const ANSWER: &str = "An unbuffered channel is a synchronous handoff: the send blocks until the receiver takes the \
value. A buffered channel decouples the producer and the consumer up to its capacity. A send on a nil channel \
blocks forever, which is useful to disable a select case.";

fn coach(data: &std::path::Path) -> Coach {
    let mut coach = Coach::new(DataDir::new(data), Arc::new(|| {}), bin().into());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !coach.sessions_loaded() {
        assert!(Instant::now() < deadline, "the sessions were never read");
        coach.wait(Duration::from_millis(20));
    }
    coach
}

/// Runs the coach and the controller until `done` holds.
fn run_until(
    coach: &mut Coach,
    practice: &mut Practice,
    what: &str,
    limit: Duration,
    done: impl Fn(&Coach, &Practice) -> bool,
) -> Vec<PracticeEvent> {
    let deadline = Instant::now() + limit;
    let mut events = Vec::new();
    while !done(coach, practice) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; state {:?}", practice.state(coach));
        coach.wait(Duration::from_millis(20));
        events.extend(practice.poll(coach));
    }
    events
}

#[test]
fn the_controller_runs_a_whole_question_without_a_ui() {
    let Some(model) = test_model("the_controller_runs_a_whole_question_without_a_ui") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let speech = espeak(dir.path(), "channels", ANSWER, "en-us", 160);
    let speech_s = read_16k(&speech).len() as f64 / 16_000.0;

    let mut coach = coach(&data);
    coach.load_model(Some(model));
    let mut practice = Practice::start(&mut coach, "phone-screen", Some("go-fundamentals"), Mode::Solo).expect("start");
    assert_eq!(practice.state(&coach), TakeState::Idle);
    practice.set_options(TakeOptions {
        source: Source::File { path: speech.clone(), speed: 1.0 },
        max_seconds: None,
        transcribe: true,
    });
    let question = practice.question(&coach).expect("question").full_id();
    assert_eq!(question, "phone-screen/go-fundamentals/channels");

    practice.handle(&mut coach, PracticeCommand::Toggle);
    let events = run_until(&mut coach, &mut practice, "the take to start", Duration::from_secs(10), |c, p| {
        p.state(c) == TakeState::Recording
    });
    assert!(events.iter().any(|e| matches!(e, PracticeEvent::Started { .. })), "{events:?}");
    // Speak the whole answer, then a second of silence, then Space.
    let spoken_until = Instant::now() + Duration::from_secs_f64(speech_s + 1.0);
    run_until(&mut coach, &mut practice, "the answer to be spoken", Duration::from_secs(60), |_, _| {
        Instant::now() >= spoken_until
    });
    let live = practice.take().map(|t| t.key()).and_then(|k| coach.live_text(k).map(str::to_owned));
    practice.handle(&mut coach, PracticeCommand::Toggle);
    assert_eq!(practice.state(&coach), TakeState::Finishing);
    let events =
        run_until(&mut coach, &mut practice, "the take to close", Duration::from_secs(10), |_, p| !p.is_live());
    let recorded = events.iter().find_map(|e| match e {
        PracticeEvent::Recorded { duration_s, error, .. } => Some((*duration_s, error.clone())),
        _ => None,
    });
    let (duration_s, error) = recorded.expect("a Recorded event");
    assert_eq!(error, None);
    assert!(duration_s >= speech_s && duration_s < speech_s + 4.0, "{duration_s} s for {speech_s} s of speech");
    run_until(&mut coach, &mut practice, "the analysis", Duration::from_secs(120), |c, p| {
        matches!(p.state(c), TakeState::Analysed | TakeState::Failed(_))
    });
    assert_eq!(practice.state(&coach), TakeState::Analysed);

    let answer_id = practice.answer_id(&coach).expect("an answer");
    let session_id = practice.session_id().to_owned();
    let answer = coach.session(&session_id).and_then(|s| s.answer(&answer_id)).cloned().expect("answer");
    let transcript = answer.transcript.as_ref().expect("transcript");
    let error_rate = wer(ANSWER, &transcript.text);
    assert!(error_rate < 0.25, "WER {error_rate:.2}: {}", transcript.text);
    eprintln!("live transcript before Stop: {live:?}");
    let feedback = answer.feedback.as_ref().expect("feedback");
    assert!(feedback.key_points.covered.len() >= 2, "{:?}", feedback.key_points);
    assert!(!feedback.advice.is_empty());

    practice.handle(&mut coach, PracticeCommand::Grade { signal: "go-depth".into(), level: Some(Level::Senior) });
    practice.handle(&mut coach, PracticeCommand::Note("name the nil-channel trick first".into()));
    practice.handle(&mut coach, PracticeCommand::Next);
    assert_eq!(practice.index(), 1);
    assert_eq!(practice.state(&coach), TakeState::Idle, "the next question has no answer yet");
    practice.handle(&mut coach, PracticeCommand::Finish);
    coach.flush(Duration::from_secs(10));

    // What the user would find after a restart.
    let saved = Store::new(data.join("sessions")).load(&session_id).expect("saved session");
    assert!(saved.ended_at.is_some());
    let saved_answer = saved.answer(&answer_id).expect("saved answer");
    assert_eq!(saved_answer.grades.get("go-depth"), Some(&Level::Senior));
    assert_eq!(saved_answer.notes, "name the nil-channel trick first");
    assert_eq!(saved_answer.transcript.as_ref().map(|t| &t.text), Some(&transcript.text));
    assert!(saved_answer.feedback.is_some());
    let wav = data.join("sessions").join(&session_id).join(saved_answer.wav.as_ref().expect("wav"));
    let recorded = read_16k(&wav);
    assert!((recorded.len() as f64 / 16_000.0 - duration_s).abs() < 0.1);
    assert!(!interview_coach::audio::wav::marker_path(&wav).exists(), "the take is finished");
}

#[test]
fn a_take_that_cannot_start_leaves_no_answer_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut coach = coach(&dir.path().join("data"));
    let mut practice = Practice::start(&mut coach, "behavioral", None, Mode::Solo).expect("start");
    let missing = dir.path().join("no-such-answer.wav");
    practice.set_options(TakeOptions {
        source: Source::File { path: missing.clone(), speed: 1.0 },
        max_seconds: None,
        transcribe: false,
    });
    practice.handle(&mut coach, PracticeCommand::Start);
    let events = run_until(&mut coach, &mut practice, "the failure", Duration::from_secs(10), |_, p| !p.is_live());
    let message = events
        .iter()
        .find_map(|e| match e {
            PracticeEvent::FailedToStart(message) => Some(message.clone()),
            _ => None,
        })
        .expect("FailedToStart");
    assert!(message.contains("no-such-answer.wav"), "{message}");
    assert_eq!(practice.state(&coach), TakeState::Idle);
    assert!(coach.session(practice.session_id()).expect("session").answers.is_empty());
    assert!(coach.notices().iter().any(|n| n.error && n.text.contains("no-such-answer.wav")));
}

#[test]
fn history_is_held_as_summaries_and_a_review_reads_the_whole_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let store = Store::new(data.join("sessions"));
    let mut session = interview_coach::store::Session::new("behavioral", None, Mode::Solo, chrono::Utc::now());
    let mut answer =
        interview_coach::store::Answer::new("behavioral/q1-outage/incident".into(), 360, session.started_at);
    let words: Vec<interview_coach::transcribe::Word> = ["we", "rolled", "back", "first"]
        .iter()
        .enumerate()
        .map(|(i, w)| interview_coach::transcribe::Word {
            word: format!(" {w}"),
            start: i as f64 * 0.4,
            end: i as f64 * 0.4 + 0.3,
            p: 0.9,
        })
        .collect();
    answer.transcript = Some(interview_coach::transcribe::Transcript {
        text: "we rolled back first".into(),
        duration_s: 2.0,
        segments: Vec::new(),
        words: words.clone(),
        no_speech: false,
        settings: Default::default(),
    });
    let answer_id = session.push_answer(answer);
    store.save(&session).expect("save");

    let mut coach = coach(&data);
    let summary = coach.session(&session.id).expect("listed").answer(&answer_id).expect("answer").clone();
    assert!(summary.elided && summary.transcript.as_ref().is_some_and(|t| t.words.is_empty()));
    // A grade given on the summary is saved without losing the words on disk.
    coach.edit_session(&session.id, |s| {
        s.answers[0].grades.insert("ownership".into(), Level::Staff);
    });
    coach.want_full(&session.id);
    let deadline = Instant::now() + Duration::from_secs(10);
    while coach.session(&session.id).is_some_and(|s| s.has_elided()) {
        assert!(Instant::now() < deadline, "the whole session was never read");
        coach.wait(Duration::from_millis(20));
    }
    coach.flush(Duration::from_secs(10));
    let full = coach.session(&session.id).expect("session").answer(&answer_id).expect("answer").clone();
    assert_eq!(full.transcript.as_ref().map(|t| &t.words), Some(&words));
    assert_eq!(full.grades.get("ownership"), Some(&Level::Staff));
    let on_disk = store.load(&session.id).expect("load");
    assert_eq!(on_disk.answers[0].transcript.as_ref().map(|t| &t.words), Some(&words));
    assert_eq!(on_disk.answers[0].grades.get("ownership"), Some(&Level::Staff));
}

#[test]
fn the_app_saving_a_session_keeps_what_another_program_wrote_to_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let store = Store::new(data.join("sessions"));
    let mut session = interview_coach::store::Session::new("behavioral", None, Mode::Solo, chrono::Utc::now());
    let answer = interview_coach::store::Answer::new("behavioral/q1-outage/incident".into(), 360, session.started_at);
    let answer_id = session.push_answer(answer);
    store.save(&session).expect("save");

    let mut coach = coach(&data);
    // While the app is open, the CLI grades the answer and adds another.
    store
        .update(&session.id, |s| {
            s.answers[0].grades.insert("communication".into(), Level::Staff);
            let extra =
                interview_coach::store::Answer::new("behavioral/q2-conflict/disagreement".into(), 360, s.started_at);
            s.push_answer(extra);
        })
        .expect("update");
    // The app then edits the same answer, from its older copy.
    coach.edit_session(&session.id, |s| {
        if let Some(a) = s.answer_mut(&answer_id) {
            a.notes = "start with the customer impact".into();
        }
    });
    coach.flush(Duration::from_secs(10));
    let on_disk = store.load(&session.id).expect("load");
    assert_eq!(on_disk.answers.len(), 2, "their answer is kept");
    let merged = on_disk.answer(&answer_id).expect("answer");
    assert_eq!(merged.notes, "start with the customer impact");
    assert_eq!(merged.grades.get("communication"), Some(&Level::Staff), "their grade is kept");
    // And the app shows both.
    let shown = coach.session(&session.id).expect("session");
    assert_eq!(shown.answers.len(), 2);
    assert_eq!(shown.answer(&answer_id).and_then(|a| a.grades.get("communication")), Some(&Level::Staff));
    // Undoing their grade here stays undone (it does not come back from the disk).
    coach.edit_session(&session.id, |s| {
        if let Some(a) = s.answer_mut(&answer_id) {
            a.grades.remove("communication");
        }
    });
    coach.flush(Duration::from_secs(10));
    let on_disk = store.load(&session.id).expect("load");
    assert_eq!(on_disk.answer(&answer_id).and_then(|a| a.grades.get("communication")), None);
    assert_eq!(on_disk.answers.len(), 2);
    let shown = coach.session(&session.id).expect("session");
    assert_eq!(shown.answer(&answer_id).and_then(|a| a.grades.get("communication")), None);
}
