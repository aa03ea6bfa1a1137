//! Memory with a long history: the app's state (`Coach`) after reading 10
//! and 1,000 sessions of 8 three-minute answers each (every answer with a
//! full transcript, timed words and feedback), each in a fresh process,
//! measured as resident memory (VmRSS). Target: 1,000 sessions within 50 MB
//! of 10. For comparison, the same history read whole (every timed word).
//!
//!   cargo bench --bench memory

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench fails loudly

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use interview_coach::analysis;
use interview_coach::paths::DataDir;
use interview_coach::pipeline::Coach;
use interview_coach::store::{Answer, Level, Mode, Session, Store};
use interview_coach::transcribe::{DecodeSettings, Segment, Transcript, Word};

const ANSWERS: usize = 8;
/// About three minutes at 150 words a minute.
const WORDS: usize = 450;

fn answer_text(seed: usize) -> String {
    const VOCABULARY: [&str; 16] = [
        "we",
        "moved",
        "the",
        "order",
        "events",
        "to",
        "a",
        "transactional",
        "outbox",
        "so",
        "um",
        "consumers",
        "stayed",
        "idempotent",
        "under",
        "retries",
    ];
    (0..WORDS).map(|i| VOCABULARY[(i * 7 + seed) % VOCABULARY.len()]).collect::<Vec<_>>().join(" ")
}

fn make_history(dir: &Path, sessions: usize) {
    let store = Store::new(DataDir::new(dir).sessions());
    let config = analysis::Config::default();
    for s in 0..sessions {
        let start = chrono::Utc::now() - chrono::Duration::hours(s as i64 * 9);
        let mut session = Session::new("phone-screen", None, Mode::Solo, start);
        session.id = format!("{}-{s}", session.id);
        for a in 0..ANSWERS {
            let text_value = answer_text(s * ANSWERS + a);
            let words: Vec<Word> = text_value
                .split(' ')
                .enumerate()
                .map(|(i, w)| Word { word: format!(" {w}"), start: i as f64 * 0.4, end: i as f64 * 0.4 + 0.3, p: 0.9 })
                .collect();
            let segments = (0..WORDS / 15)
                .map(|i| Segment { start: i as f64 * 6.0, end: i as f64 * 6.0 + 6.0, text: "a segment".into() })
                .collect();
            let transcript = Transcript {
                text: text_value,
                duration_s: 180.0,
                segments,
                words,
                no_speech: false,
                settings: DecodeSettings::default(),
            };
            let mut answer = Answer::new("phone-screen/intro/recent-service".into(), 300, start);
            answer.set_duration(180.0);
            answer.feedback = Some(analysis::analyze(&transcript, None, None, &config));
            answer.transcript = Some(transcript);
            answer.grades.insert("communication".into(), Level::Senior);
            session.push_answer(answer);
        }
        store.save(&session).expect("save");
    }
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In a child process: read the history as the app does (or whole), print RSS in kB.
fn measure(dir: &Path, whole: bool) {
    let started = Instant::now();
    if whole {
        let (sessions, _) = Store::new(DataDir::new(dir).sessions()).load_all();
        println!("{} {} {:.2}", rss_kb(), sessions.len(), started.elapsed().as_secs_f64());
        return;
    }
    let exe = std::env::current_exe().expect("exe");
    let mut coach = Coach::new(DataDir::new(dir), Arc::new(|| {}), exe);
    while !coach.sessions_loaded() {
        coach.wait(Duration::from_millis(10));
    }
    println!("{} {} {:.2}", rss_kb(), coach.sessions().len(), started.elapsed().as_secs_f64());
}

fn child(dir: &Path, whole: bool) -> (f64, usize, f64) {
    let exe = std::env::current_exe().expect("exe");
    let mut command = Command::new(exe);
    command.arg("--measure").arg(dir);
    if whole {
        command.arg("--whole");
    }
    let out = command.output().expect("run the measuring child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let kb: f64 = parts.next().and_then(|p| p.parse().ok()).expect("rss");
    let sessions: usize = parts.next().and_then(|p| p.parse().ok()).expect("sessions");
    let seconds: f64 = parts.next().and_then(|p| p.parse().ok()).expect("seconds");
    (kb / 1024.0, sessions, seconds)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        measure(Path::new(&args[i + 1]), args.iter().any(|a| a == "--whole"));
        return;
    }
    let small = tempfile::tempdir().expect("temp dir");
    let large = tempfile::tempdir().expect("temp dir");
    make_history(small.path(), 10);
    make_history(large.path(), 1000);
    let (small_mb, n_small, _) = child(small.path(), false);
    let (large_mb, n_large, seconds) = child(large.path(), false);
    let (whole_mb, _, _) = child(large.path(), true);
    println!("sessions  resident memory (MB)");
    println!("{n_small:>8}  {small_mb:>8.1}");
    println!("{n_large:>8}  {large_mb:>8.1}   (read in {seconds:.1} s)");
    println!(
        "1,000 sessions cost {:.1} MB over 10 (target: within 50 MB: {}); read whole they would cost {:.1} MB",
        large_mb - small_mb,
        if large_mb - small_mb <= 50.0 { "met" } else { "MISSED" },
        whole_mb - small_mb,
    );
}
