//! Session writes survive a kill -9 at any point: the file on disk is always
//! a complete session (the previous version or the new one).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use interview_coach::store::{Answer, Mode, Session, Store};

const CHILD_ENV: &str = "STORE_KILL_CHILD_DIR";

/// Runs only as the child of `session_writes_survive_kill_9`: saves a growing
/// session as fast as it can until it is killed.
#[test]
fn writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let store = Store::new(dir);
    let mut session = Session::new("behavioral", None, Mode::Solo, Utc::now());
    session.id = "kill-test".into();
    for i in 0..100_000u32 {
        let mut answer = Answer::new("behavioral/q1-outage/outage".into(), 360, Utc::now());
        answer.notes = format!("answer {i}: {}", "a long note that makes each write take a while ".repeat(50));
        session.answers.push(answer);
        session.reflection = format!("version {i}");
        store.save(&session).expect("save");
    }
}

#[test]
fn session_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::new(dir.path());
    let exe = std::env::current_exe().expect("test binary");
    let mut last_version = 0usize;
    for round in 0..20u64 {
        let mut child = Command::new(&exe)
            .args(["writer_child", "--exact", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        // Vary the moment of the kill so it lands at many points of a write.
        std::thread::sleep(Duration::from_millis(40 + round * 23));
        child.kill().expect("kill -9");
        child.wait().expect("reap");

        let (sessions, problems) = store.load_all();
        assert!(
            problems.is_empty(),
            "round {round}: {:?}",
            problems.iter().map(|p| p.error.to_string()).collect::<Vec<_>>()
        );
        if let Some(session) = sessions.first() {
            let version: usize = session.reflection.trim_start_matches("version ").parse().expect("version number");
            assert_eq!(session.answers.len(), version + 1, "round {round}: a consistent session");
            last_version = last_version.max(version);
        }
    }
    assert!(last_version > 0, "the writer never got a session written");
}
