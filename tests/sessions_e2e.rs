//! Nothing lost when two things touch a session, and hostile files rejected
//! fast: each case, end to end through the command line (and the real
//! capture path where a recording is involved).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn cli(data: &Path) -> Command {
    let mut command = Command::new(bin());
    command.arg("--data-dir").arg(data);
    command
}

/// Runs the CLI; (success, stdout, stderr).
fn run(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = cli(data).args(args).output().expect("run interview-coach");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits for a child with a bound (a hang is a failure, not a stuck suite).
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `record` into a session; returns once it says it is recording.
fn start_record(data: &Path, seconds: &str, question: &str, session: Option<&str>) -> Child {
    let mut command = cli(data);
    command.args(["record", "--seconds", seconds, "--question", question]);
    if let Some(session) = session {
        command.args(["--session", session]);
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start record");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines.next().expect("record said nothing").expect("stderr line");
        assert!(!line.starts_with("error"), "record failed: {line}");
        if line.starts_with("recording from") {
            break;
        }
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn session_json(data: &Path, id: &str) -> Value {
    let (ok, stdout, stderr) = run(data, &["sessions", "show", id, "--json"]);
    assert!(ok, "{stderr}");
    serde_json::from_str(&stdout).expect("session JSON")
}

fn only_session_id(data: &Path) -> String {
    let dirs: Vec<PathBuf> = std::fs::read_dir(data.join("sessions"))
        .expect("sessions folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("session.json").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].file_name().expect("name").to_string_lossy().into_owned()
}

fn answers_with_their_takes(data: &Path, id: &str) -> Vec<String> {
    let session = session_json(data, id);
    let answers = session["answers"].as_array().expect("answers").clone();
    answers
        .iter()
        .map(|a| {
            let wav = data.join("sessions").join(id).join(a["wav"].as_str().expect("a take"));
            assert!(read_16k(&wav).len() >= 8_000, "{} holds audio", wav.display());
            a["question_id"].as_str().expect("question").to_owned()
        })
        .collect()
}

#[test]
fn two_recordings_into_one_session_keep_both_answers() {
    if !virtual_mic_available("two_recordings_into_one_session_keep_both_answers") {
        return;
    }
    let _mic = lock_mic();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let mut first = start_record(data, "2", "phone-screen/intro/recent-service", None);
    assert!(wait_bounded(&mut first, Duration::from_secs(30), "the first recording").success());
    let id = only_session_id(data);

    let mut long = start_record(data, "6", "phone-screen/intro/recent-service", Some(&id));
    std::thread::sleep(Duration::from_millis(1500));
    let mut short = start_record(data, "2", "behavioral/q1-outage/incident", Some(&id));
    assert!(wait_bounded(&mut short, Duration::from_secs(30), "the short recording").success());
    assert!(wait_bounded(&mut long, Duration::from_secs(30), "the long recording").success());

    let mut questions = answers_with_their_takes(data, &id);
    questions.sort();
    assert_eq!(
        questions,
        ["behavioral/q1-outage/incident", "phone-screen/intro/recent-service", "phone-screen/intro/recent-service"]
    );
}

#[test]
fn a_session_being_recorded_into_cannot_be_deleted() {
    if !virtual_mic_available("a_session_being_recorded_into_cannot_be_deleted") {
        return;
    }
    let _mic = lock_mic();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let mut first = start_record(data, "2", "behavioral/q1-outage/incident", None);
    assert!(wait_bounded(&mut first, Duration::from_secs(30), "the first recording").success());
    let id = only_session_id(data);
    let mut recording = start_record(data, "4", "behavioral/q1-outage/incident", Some(&id));
    let (deleted, _, stderr) = run(data, &["sessions", "delete", &id]);
    assert!(!deleted, "a delete during a recording is refused");
    assert!(stderr.contains("being recorded into") && stderr.contains(&id), "{stderr}");
    assert!(wait_bounded(&mut recording, Duration::from_secs(30), "the recording").success());
    assert_eq!(answers_with_their_takes(data, &id).len(), 2, "the session and both takes are there");
    // Once the recording has ended, the delete goes through.
    let (deleted, _, stderr) = run(data, &["sessions", "delete", &id]);
    assert!(deleted, "{stderr}");
    assert!(!data.join("sessions").join(&id).exists());
}

#[test]
fn concurrent_recorders_graders_and_readers_lose_nothing() {
    if !virtual_mic_available("concurrent_recorders_graders_and_readers_lose_nothing") {
        return;
    }
    let _mic = lock_mic();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let mut first = start_record(data, "1", "phone-screen/intro/recent-service", None);
    assert!(wait_bounded(&mut first, Duration::from_secs(30), "the first recording").success());
    let id = only_session_id(data);
    // Three recorders, graders and readers at once, for a bounded time.
    let recorders: Vec<Child> =
        ["phone-screen/intro/recent-service", "behavioral/q1-outage/incident", "behavioral/q1-outage/incident"]
            .iter()
            .map(|q| start_record(data, "3", q, Some(&id)))
            .collect();
    let levels = ["junior", "mid", "senior", "staff"];
    let graders: Vec<std::thread::JoinHandle<()>> = (0..2)
        .map(|g| {
            let (data, id) = (data.to_owned(), id.clone());
            std::thread::spawn(move || {
                for round in 0..8 {
                    let level = levels[(g + round) % 4];
                    let (ok, _, stderr) = run(&data, &["sessions", "grade", &id, "1", "communication", level]);
                    assert!(ok, "{stderr}");
                    let (ok, _, stderr) = run(&data, &["sessions", "show", &id, "--json"]);
                    assert!(ok, "{stderr}");
                }
            })
        })
        .collect();
    for grader in graders {
        grader.join().expect("grader");
    }
    for mut recorder in recorders {
        assert!(wait_bounded(&mut recorder, Duration::from_secs(60), "a recorder").success());
    }
    let session = session_json(data, &id);
    assert!(session["answers"][0]["grades"]["communication"].is_string(), "the grade is kept: {session}");
    assert_eq!(answers_with_their_takes(data, &id).len(), 4, "every answer with its take");
    // Every file in the data folder that should parse does.
    for entry in std::fs::read_dir(data.join("sessions").join(&id)).expect("list") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "wav") {
            interview_coach::audio::wav::read_mono(&path).expect("a readable take");
            assert!(!interview_coach::audio::wav::marker_path(&path).exists(), "every take finished");
        }
    }
}

#[test]
fn a_wav_whose_header_says_1_hz_is_refused_with_a_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wav = dir.path().join("one-hertz.wav");
    // A valid 16-bit mono header with a 1 Hz rate, and a second of samples.
    let mut bytes = Vec::new();
    let data_len: u32 = 32_000;
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&1u32.to_le_bytes()); // 1 Hz
    bytes.extend_from_slice(&2u32.to_le_bytes()); // byte rate
    bytes.extend_from_slice(&2u16.to_le_bytes()); // block align
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    bytes.extend(std::iter::repeat_n(0x11u8, data_len as usize));
    std::fs::write(&wav, &bytes).expect("write");
    let transcript = dir.path().join("t.json");
    std::fs::write(
        &transcript,
        r#"{"text":"","duration_s":1.0,"segments":[],"words":[],"settings":{"model":"x","threads":1,"language":"en"}}"#,
    )
    .expect("write transcript");
    let started = Instant::now();
    let (ok, _, stderr) =
        run(dir.path(), &["analyze", wav.to_str().expect("path"), "--transcript", transcript.to_str().expect("path")]);
    assert!(!ok);
    assert!(stderr.contains("one-hertz.wav") && stderr.to_lowercase().contains("sample rate"), "{stderr}");
    assert!(!stderr.contains("memory allocation"), "{stderr}");
    eprintln!("refused in {:?}", started.elapsed());
    if let Some(model) = test_model("a_wav_whose_header_says_1_hz_is_refused_with_a_message") {
        let (ok, _, stderr) =
            run(dir.path(), &["transcribe", "--model", model.to_str().expect("path"), wav.to_str().expect("path")]);
        assert!(!ok);
        assert!(stderr.contains("one-hertz.wav") && stderr.to_lowercase().contains("sample rate"), "{stderr}");
    }
}

#[test]
fn a_damaged_settings_file_is_kept_aside_not_overwritten() {
    let Some(model) = test_model("a_damaged_settings_file_is_kept_aside_not_overwritten") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let user_file = "{ \"fillers\": [\"um\", \"so\"], \"pace_min_wpm\": 110.0, \"dark_mode\": false, }";
    std::fs::write(dir.path().join("settings.json"), user_file).expect("write");
    let (ok, _, stderr) = run(dir.path(), &["model", "use", model.to_str().expect("path")]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("settings.json") && stderr.contains("kept as"), "the user is told: {stderr}");
    let kept: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().contains("settings.json.bad-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read_to_string(&kept[0]).expect("read"), user_file);
    let (_, _, stderr) = run(dir.path(), &["model", "list"]);
    assert!(!stderr.contains("not valid settings"), "said once: {stderr}");
}

#[cfg(unix)]
#[test]
fn a_session_folder_the_user_cannot_read_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let sessions = data.join("sessions");
    for id in ["2026-11-01_100000_behavioral", "2026-11-02_100000_behavioral"] {
        std::fs::create_dir_all(sessions.join(id)).expect("mkdir");
        let session = format!(
            r#"{{"schema_version":1,"id":"{id}","mock_id":"behavioral","mode":"solo","started_at":"2026-11-01T10:00:00Z"}}"#
        );
        std::fs::write(sessions.join(id).join("session.json"), session).expect("write");
    }
    let hidden = sessions.join("2026-11-02_100000_behavioral");
    let mut command = Command::new(bin());
    // Root reads everything: run as nobody, who owns the data but not the hidden session.
    let as_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if as_root {
        let chown = Command::new("chown").args(["-R", "65534:65534"]).arg(dir.path()).status().expect("chown");
        assert!(chown.success());
        let chown = Command::new("chown").args(["-R", "0:0"]).arg(&hidden).status().expect("chown");
        assert!(chown.success());
        std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin()]);
    } else {
        std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    }
    let out = command.arg("--data-dir").arg(&data).args(["sessions", "list"]).output().expect("run");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("2026-11-01_100000_behavioral"), "{stdout}");
    assert!(stderr.contains("2026-11-02_100000_behavioral") && stderr.contains("ermission denied"), "{stderr}");
    assert_eq!(stderr.matches("2026-11-02_100000_behavioral").count(), 1, "the path once: {stderr}");
    if !as_root {
        std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o700)).expect("chmod back");
    }
}

#[cfg(unix)]
#[test]
fn links_inside_the_sessions_folder_are_not_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sessions = dir.path().join("sessions");
    std::fs::create_dir_all(&sessions).expect("mkdir");
    std::os::unix::fs::symlink(&sessions, sessions.join("loop-a")).expect("link");
    std::os::unix::fs::symlink("..", sessions.join("loop-b")).expect("link");
    let mut child = cli(dir.path()).args(["sessions", "list"]).stdout(Stdio::null()).spawn().expect("run");
    let status = wait_bounded(&mut child, Duration::from_secs(20), "sessions list");
    assert!(status.success());
}

#[test]
fn recovering_a_file_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nonexistent.wav");
    let (ok, _, stderr) = run(dir.path(), &["recover", missing.to_str().expect("path")]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("nonexistent.wav") && !stderr.contains("still being recorded"), "{stderr}");
}

#[test]
fn huge_minutes_do_not_wrap_around() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("huge.toml");
    let mock = "id = \"huge\"\ntitle = \"Huge\"\nminutes = 71582789\nrubric = \"technical\"\n\n[[stage]]\nid = \"s\"\n\
        title = \"S\"\nminutes = 71582789\n\n[[stage.question]]\nid = \"q\"\nkind = \"technical\"\nbudget_s = 60\n\
        prompt = \"?\"\nsignals = [\"go-depth\"]\n";
    std::fs::write(&file, mock).expect("write");
    let (ok, _, stderr) = run(dir.path(), &["content", "check", file.to_str().expect("path")]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("huge.toml:3") && stderr.contains("minutes"), "{stderr}");
}

#[test]
fn a_recording_that_cannot_start_leaves_no_empty_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = cli(dir.path())
        .args(["record", "--seconds", "1", "--question", "behavioral/q1-outage/incident"])
        .env("PULSE_SERVER", format!("unix:{}/no-server-here", dir.path().display()))
        .output()
        .expect("run record");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no microphone available"), "{stderr}");
    let (ok, stdout, stderr) = run(dir.path(), &["sessions", "list"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("no sessions yet"), "{stdout}");
}

#[test]
fn messages_say_what_happened_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Nothing was recorded: no "kept up to that moment".
    let (ok, _, stderr) = run(dir.path(), &["record", "--seconds", "1", "--out", "/nonexistent-folder/x.wav"]);
    assert!(!ok);
    assert!(stderr.contains("/nonexistent-folder/x.wav"), "{stderr}");
    assert!(!stderr.contains("kept up to that moment"), "{stderr}");
    // A cause is said once.
    let transcript = dir.path().join("t.json");
    std::fs::write(&transcript, "{}").expect("write");
    let (ok, _, stderr) =
        run(dir.path(), &["analyze", "/nonexistent-folder/a.wav", "--transcript", transcript.to_str().expect("path")]);
    assert!(!ok);
    for line in stderr.lines() {
        let parts: Vec<&str> = line.split(": ").collect();
        let mut seen = std::collections::HashSet::new();
        assert!(parts.iter().all(|p| seen.insert(*p)), "a repeated cause: {line}");
    }
}

#[test]
fn a_big_mock_file_loads_and_every_command_still_starts() {
    // A valid 2 MB mock: 8 stages of 50 questions with long texts (loading
    // was quadratic in the file's size: 2 MB took 4 s, 10 MB 79 s).
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("mocks")).expect("mkdir");
    let mut mock = String::from("id = \"big\"\ntitle = \"Big\"\nminutes = 400\nrubric = \"technical\"\n");
    let padding = "a long listen-for note that a real interviewer might write down ".repeat(8);
    for stage in 0..8 {
        mock.push_str(&format!("\n[[stage]]\nid = \"s{stage}\"\ntitle = \"Stage {stage}\"\nminutes = 50\n"));
        for question in 0..50 {
            mock.push_str(&format!(
                "\n[[stage.question]]\nid = \"q{question}\"\nkind = \"technical\"\nbudget_s = 60\nprompt = \"Question {question}?\"\n\
                 signals = [\"go-depth\"]\nlisten_for = [\"{padding}\", \"{padding}\", \"{padding}\", \"{padding}\"]\n"
            ));
        }
    }
    assert!(mock.len() > 800_000, "{} bytes", mock.len());
    std::fs::write(dir.path().join("mocks/big.toml"), &mock).expect("write");
    let mut child = cli(dir.path()).args(["content", "list"]).stdout(Stdio::null()).spawn().expect("run");
    let status = wait_bounded(&mut child, Duration::from_secs(60), "content list with a big mock");
    assert!(status.success());
    let (ok, stdout, stderr) = run(dir.path(), &["content", "show", "big/s7/q49"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Question 49?"), "{stdout}");
}
