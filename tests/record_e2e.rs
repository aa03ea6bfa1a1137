//! Recording end to end through the real cpal capture path: espeak-ng speech
//! is played into a virtual microphone and recorded with `interview-coach
//! record`; a kill -9 mid-take is recovered at the next start.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SPEECH: &str = "Tell me about a recent Go service you owned end to end: what it did, the scale, and one technical decision you would defend.";

/// Starts `record` and returns once it says it is recording.
fn start_recording(args: &[&str], data_dir: &std::path::Path) -> (std::process::Child, Instant) {
    let mut child = Command::new(bin())
        .arg("--data-dir")
        .arg(data_dir)
        .arg("record")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start record");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines.next().expect("record said nothing").expect("stderr line");
        if line.starts_with("recording from") {
            break;
        }
        assert!(!line.starts_with("error"), "record failed: {line}");
    }
    let started = Instant::now();
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, started)
}

#[test]
fn records_real_speech_at_the_right_time() {
    if !virtual_mic_available("records_real_speech_at_the_right_time") {
        return;
    }
    let _mic = lock_mic();
    let dir = tempfile::tempdir().expect("temp dir");
    let speech = espeak(dir.path(), "speech", SPEECH, "en-us", 160);
    let out = dir.path().join("take.wav");
    let (child, started) =
        start_recording(&["--seconds", "14", "--out", out.to_str().expect("utf-8 path")], dir.path());
    std::thread::sleep(Duration::from_millis(1500));
    let played_at = started.elapsed().as_secs_f64();
    play_into_mic(&speech);
    let output = child.wait_with_output().expect("record finishes");
    assert!(output.status.success(), "record failed: {}", String::from_utf8_lossy(&output.stdout));

    let recorded = read_16k(&out);
    let reference = read_16k(&speech);
    // Duration: exactly what was asked for.
    assert!((recorded.len() as f64 / 16_000.0 - 14.0).abs() < 0.01, "duration {}", recorded.len());
    // Silence before the speech, speech where it was played.
    let (lag, correlation) = best_alignment(&recorded, &reference, 5 * 16_000);
    let offset = lag as f64 / 16_000.0;
    println!("speech found at {offset:.3} s (played at {played_at:.3} s), correlation {correlation:.3}");
    assert!(correlation > 0.9, "recorded audio does not match the speech: correlation {correlation}");
    // paplay's own start-up adds a little on a busy machine.
    assert!(
        offset >= played_at - 0.1 && offset - played_at < 0.8,
        "speech at {offset:.2} s, played at {played_at:.2} s"
    );
    assert!(rms(&recorded[..(lag.saturating_sub(1600))]) < 1e-3, "noise before the speech");
    let end = (lag + reference.len()).min(recorded.len());
    assert!(rms(&recorded[lag..end]) > 0.02, "speech too quiet");
}

#[test]
fn a_take_killed_mid_answer_is_recovered_at_the_next_start() {
    if !virtual_mic_available("a_take_killed_mid_answer_is_recovered_at_the_next_start") {
        return;
    }
    let _mic = lock_mic();
    let dir = tempfile::tempdir().expect("temp dir");
    let speech = espeak(dir.path(), "speech", SPEECH, "en-gb", 150);
    let (mut child, started) =
        start_recording(&["--seconds", "60", "--question", "phone-screen/intro/recent-service"], dir.path());
    std::thread::sleep(Duration::from_millis(500));
    play_into_mic(&speech);
    std::thread::sleep(Duration::from_millis(500));
    let recorded_for = started.elapsed().as_secs_f64();
    child.kill().expect("kill -9");
    child.wait().expect("reap");

    // The take is on disk with its marker, and the session has its answer.
    let sessions = dir.path().join("sessions");
    let session_dir = std::fs::read_dir(&sessions).expect("sessions").next().expect("a session").expect("entry").path();
    let session_id = session_dir.file_name().expect("name").to_string_lossy().into_owned();

    // "Restart": any start of the program repairs unfinished takes.
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["sessions", "show", &session_id, "--json"])
        .output()
        .expect("sessions show");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("recovered an unfinished take"));
    let session: serde_json::Value = serde_json::from_slice(&out.stdout).expect("session JSON");
    let answer = &session["answers"][0];
    assert_eq!(answer["recovered"], true);
    let duration = answer["duration_s"].as_f64().expect("duration");
    println!("recorded for {recorded_for:.2} s before the kill; recovered {duration:.2} s");
    assert!(duration >= recorded_for - 1.0, "lost more than a second: {duration} of {recorded_for}");
    assert!(duration <= recorded_for + 0.5);

    // The repaired WAV plays: every sample decodes and the speech is in it.
    let wav = session_dir.join(answer["wav"].as_str().expect("wav name"));
    let recorded = read_16k(&wav);
    assert!((recorded.len() as f64 / 16_000.0 - duration).abs() < 0.01);
    let sox = Command::new("sox").arg(&wav).args(["-n", "stat"]).output().expect("sox");
    assert!(sox.status.success(), "sox cannot play the repaired take: {}", String::from_utf8_lossy(&sox.stderr));
    let (_, correlation) = best_alignment(&recorded, &read_16k(&speech), 2 * 16_000);
    assert!(correlation > 0.9, "correlation {correlation}");
}

/// The sound server frozen (SIGSTOP) until dropped: a microphone that stops
/// sending audio without reporting an error.
struct FrozenSoundServer(String);

impl FrozenSoundServer {
    fn freeze() -> FrozenSoundServer {
        // The private daemon of scripts/virtual-mic.sh keeps its pid beside its socket.
        let server = std::env::var("PULSE_SERVER").expect("PULSE_SERVER");
        let socket = std::path::PathBuf::from(server.trim_start_matches("unix:"));
        let pid_file = socket.parent().expect("socket folder").join("pid");
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()))
            .trim()
            .to_owned();
        assert!(Command::new("kill").args(["-STOP", &pid]).status().expect("kill").success());
        FrozenSoundServer(pid)
    }
}

impl Drop for FrozenSoundServer {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

#[test]
fn a_microphone_that_stops_sending_audio_ends_the_take_and_keeps_it() {
    if !virtual_mic_available("a_microphone_that_stops_sending_audio_ends_the_take_and_keeps_it") {
        return;
    }
    let _mic = lock_mic();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("take.wav");
    let (mut child, _) = start_recording(&["--seconds", "30", "--out", out.to_str().expect("utf-8 path")], dir.path());
    std::thread::sleep(Duration::from_secs(2));
    let frozen = FrozenSoundServer::freeze();
    let frozen_at = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if frozen_at.elapsed() > Duration::from_secs(12) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let waited = frozen_at.elapsed();
    drop(frozen);
    let status =
        status.unwrap_or_else(|| panic!("record still waiting {:.0} s after the audio stopped", waited.as_secs_f64()));
    assert!(!status.success(), "a lost microphone is an error");
    // What came before the stall is kept, in a valid file.
    let seconds = read_16k(&out).len() as f64 / 16_000.0;
    assert!((1.0..3.5).contains(&seconds), "kept {seconds:.2} s");
}

#[test]
fn record_without_an_audio_server_says_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["record", "--seconds", "1", "--out"])
        .arg(dir.path().join("x.wav"))
        .env("PULSE_SERVER", format!("unix:{}/no-server-here", dir.path().display()))
        .output()
        .expect("run record");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected, got:\n{stderr}");
    assert!(lines[0].starts_with("error: no microphone available"), "{stderr}");
    assert!(lines[0].contains("start the sound server"), "{stderr}");
    assert!(!dir.path().join("x.wav").exists(), "no empty take is left behind");
}

#[test]
fn a_take_plays_back_through_the_output() {
    if !virtual_mic_available("a_take_plays_back_through_the_output") {
        return;
    }
    let _mic = lock_mic();
    let dir = tempfile::tempdir().expect("temp dir");
    let speech = espeak(dir.path(), "speech", "Send on a closed channel panics.", "en-us", 170);
    let out = dir.path().join("loop.wav");
    // The default output is the virtual microphone's sink: what we play is
    // what we record.
    let (child, _) = start_recording(&["--seconds", "5", "--out", out.to_str().expect("utf-8 path")], dir.path());
    std::thread::sleep(Duration::from_millis(1000));
    let played = Command::new(bin()).arg("play").arg(&speech).output().expect("play");
    assert!(played.status.success(), "play failed: {}", String::from_utf8_lossy(&played.stderr));
    assert!(child.wait_with_output().expect("record").status.success());
    let (lag, correlation) = best_alignment(&read_16k(&out), &read_16k(&speech), 3 * 16_000);
    println!("played take found at {:.2} s, correlation {correlation:.3}", lag as f64 / 16_000.0);
    assert!(correlation > 0.9, "correlation {correlation}");
}
