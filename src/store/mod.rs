//! Sessions on disk: one folder per session with `session.json` and the
//! session's WAV takes. Writes are atomic; unreadable files are reported and
//! skipped, never overwritten.

pub mod compare;
pub mod evidence;
pub mod history;
pub mod merge;
pub mod report;
pub mod schedule;
mod session;
pub mod takes;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use crate::util::atomic::{create_private_dir, write_atomic};
pub use session::{Answer, FollowUp, Level, Mode, SCHEMA_VERSION, Session};

pub const SESSION_FILE: &str = "session.json";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not a valid session file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path} was written by a newer version (schema {found}, this app reads {SCHEMA_VERSION}); update interview-coach"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("no session \"{0}\"")]
    NotFound(String),
    #[error("\"{0}\" is not a valid session id")]
    BadId(String),
    #[error(
        "session \"{id}\" is being recorded into by another interview-coach (process {pid}); \
         it was left as it is: try again when that recording has ended"
    )]
    Recording { id: String, pid: u32 },
    #[error("session \"{0}\" was deleted by another program while it was open here; its recordings on disk were kept")]
    DeletedElsewhere(String),
    #[error("cannot lock {path} (another program holds it?): {source}")]
    Lock { path: PathBuf, source: io::Error },
}

/// A session folder that could not be loaded: shown to the user, then skipped.
#[derive(Debug)]
pub struct StoreProblem {
    pub path: PathBuf,
    pub error: StoreError,
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// A store keeping its sessions in `root` (usually `<data dir>/sessions`).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn session_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        // Ids become folder names: refuse anything that could leave the store.
        if id.is_empty() || id.starts_with('.') || id.contains(['/', '\\']) {
            return Err(StoreError::BadId(id.to_owned()));
        }
        Ok(self.root.join(id))
    }

    /// Makes a new session's id unique on disk (two sessions started in the
    /// same second, or in the repeated hour when clocks go back).
    pub fn make_unique(&self, session: &mut Session) {
        let base = session.id.clone();
        let mut n = 2;
        while self.session_dir(&session.id).is_ok_and(|dir| dir.exists()) {
            session.id = format!("{base}-{n}");
            n += 1;
        }
    }

    /// Holds the session's lock (`<session>/.lock`, an advisory lock every
    /// interview-coach process takes) until dropped: one writer at a time.
    /// `None` when the session's folder is gone (deleted, maybe while we
    /// waited for the lock).
    fn lock(&self, id: &str, create: bool) -> Result<Option<SessionLock>, StoreError> {
        let dir = self.session_dir(id)?;
        if create {
            create_private_dir(&dir).map_err(|source| StoreError::Write { path: dir.clone(), source })?;
        }
        let path = dir.join(LOCK_FILE);
        let file = match crate::util::atomic::private_options().truncate(false).open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Lock { path, source }),
        };
        file.lock().map_err(|source| StoreError::Lock { path: path.clone(), source })?;
        // Deleted while we waited: the lock is on a file no longer there.
        if !same_file(&file, &path) {
            return Ok(None);
        }
        Ok(Some(SessionLock { _file: file }))
    }

    /// Writes the session as it is, atomically, creating its folder if
    /// needed (the caller owns the session: tests, recovery of a new one).
    pub fn save(&self, session: &Session) -> Result<(), StoreError> {
        let _lock = self.lock(&session.id, true)?;
        self.write(session)
    }

    fn write(&self, session: &Session) -> Result<(), StoreError> {
        let dir = self.session_dir(&session.id)?;
        create_private_dir(&dir).map_err(|source| StoreError::Write { path: dir.clone(), source })?;
        let path = dir.join(SESSION_FILE);
        let json = serde_json::to_vec_pretty(session)
            .map_err(|e| StoreError::Write { path: path.clone(), source: io::Error::other(e) })?;
        write_atomic(&path, &json).map_err(|source| StoreError::Write { path, source })
    }

    /// Saves this process's copy of a session without losing what another
    /// process wrote since: under the session's lock, the copy on disk is
    /// read and merged with ours (`base`: what this process last sent, `None`
    /// for a session it never read or wrote). A session this process knew
    /// that is gone from disk was deleted elsewhere: it is not brought back.
    pub fn save_merged(&self, base: Option<&Session>, ours: &Session) -> Result<MergedSave, StoreError> {
        let deleted = || StoreError::DeletedElsewhere(ours.id.clone());
        let _lock = self.lock(&ours.id, base.is_none())?.ok_or_else(deleted)?;
        let theirs = self.read_if_there(&ours.id)?;
        if theirs.is_none() && base.is_some() {
            return Err(deleted());
        }
        // What this process left on disk (elided transcripts) goes back in
        // before anything is compared or written.
        let mut ours = ours.clone();
        let mut base = base.cloned();
        if let Some(theirs) = &theirs {
            ours.fill_elided_from(theirs);
            if let Some(base) = &mut base {
                base.fill_elided_from(theirs);
            }
        }
        let mut written = match &theirs {
            Some(theirs) if Some(theirs) != base.as_ref() => merge::three_way(base.as_ref(), &ours, theirs),
            _ => ours.clone(),
        };
        // An answer still elided was deleted elsewhere and edited here: kept,
        // without the transcript that no longer exists anywhere.
        for answer in written.answers.iter_mut().filter(|a| a.elided) {
            answer.transcript = None;
            answer.feedback = None;
            answer.elided = false;
        }
        self.write(&written)?;
        Ok(MergedSave { written, sent: ours })
    }

    /// Changes a session on disk as one read-modify-write under its lock.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Session)) -> Result<Session, StoreError> {
        let _lock = self.lock(id, false)?.ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        let mut session = self.read_if_there(id)?.ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        change(&mut session);
        self.write(&session)?;
        Ok(session)
    }

    fn read_if_there(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let path = self.session_dir(id)?.join(SESSION_FILE);
        match fs::symlink_metadata(&path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            _ => read_session(&path).map(Some),
        }
    }

    pub fn load(&self, id: &str) -> Result<Session, StoreError> {
        self.read_if_there(id)?.ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    /// Every readable session as a summary (transcripts without their timed
    /// words: `Session::elide_transcripts`), for history and lists.
    pub fn load_all_summaries(&self) -> (Vec<Session>, Vec<StoreProblem>) {
        self.read_all(true)
    }

    /// Every readable session, oldest first, and the problems met on the
    /// way (each with its path and reason). Links are not followed: the
    /// data folder is walked as it is.
    pub fn load_all(&self) -> (Vec<Session>, Vec<StoreProblem>) {
        self.read_all(false)
    }

    /// Each session is elided as it is read, so the full set is never in memory.
    fn read_all(&self, elide: bool) -> (Vec<Session>, Vec<StoreProblem>) {
        let mut sessions = Vec::new();
        let mut problems = Vec::new();
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return (sessions, problems),
            Err(source) => {
                problems.push(StoreProblem {
                    path: self.root.clone(),
                    error: StoreError::Read { path: self.root.clone(), source },
                });
                return (sessions, problems);
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(source) => {
                    let path = self.root.clone();
                    problems.push(StoreProblem { path: path.clone(), error: StoreError::Read { path, source } });
                    continue;
                }
            };
            let dir = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if !is_dir || entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = dir.join(SESSION_FILE);
            match fs::symlink_metadata(&path) {
                // A folder being created, or not ours.
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                // Unreadable (permissions): said, not silently missing.
                Err(source) => {
                    problems.push(StoreProblem { path: path.clone(), error: StoreError::Read { path, source } });
                    continue;
                }
                Ok(meta) if !meta.is_file() => continue,
                Ok(_) => {}
            }
            match read_session(&path) {
                Ok(mut session) => {
                    if elide {
                        session.elide_transcripts();
                    }
                    sessions.push(session);
                }
                Err(error) => problems.push(StoreProblem { path, error }),
            }
        }
        sessions.sort_by(|a, b| a.started_at.cmp(&b.started_at).then_with(|| a.id.cmp(&b.id)));
        (sessions, problems)
    }

    /// Deletes a session with all its audio, under its lock. A session that
    /// another running process is recording into is refused, not deleted.
    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        let dir = self.session_dir(id)?;
        // (A damaged session file can be deleted too: it is not parsed.)
        if fs::symlink_metadata(dir.join(SESSION_FILE)).is_err() {
            return Err(StoreError::NotFound(id.to_owned()));
        }
        let _lock = self.lock(id, false)?.ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        if let Some(pid) = live_recording(&dir) {
            return Err(StoreError::Recording { id: id.to_owned(), pid });
        }
        fs::remove_dir_all(&dir).map_err(|source| StoreError::Write { path: dir, source })
    }
}

/// What `save_merged` did.
#[derive(Debug, Clone)]
pub struct MergedSave {
    /// What is on disk now.
    pub written: Session,
    /// Our copy as it was sent (elided transcripts filled in): the base of
    /// the next merge, so that what another process wrote since is seen.
    pub sent: Session,
}

/// The lock file inside each session folder.
pub const LOCK_FILE: &str = ".lock";

/// A held session lock; released when dropped (or when the process ends).
pub struct SessionLock {
    _file: fs::File,
}

/// Is the open `file` still the one at `path` (not deleted and replaced)?
fn same_file(file: &fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// The pid of another process still recording a take in `dir`, if any.
fn live_recording(dir: &Path) -> Option<u32> {
    let entries = fs::read_dir(dir).ok()?;
    entries.flatten().find_map(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        name.strip_suffix(".recording")?;
        let marker: crate::audio::wav::TakeMarker = serde_json::from_slice(&fs::read(entry.path()).ok()?).ok()?;
        let pid = marker.pid?;
        (pid != std::process::id() && crate::audio::wav::recorder_alive(&marker)).then_some(pid)
    })
}

fn read_session(path: &Path) -> Result<Session, StoreError> {
    let bytes = fs::read(path).map_err(|source| StoreError::Read { path: path.to_owned(), source })?;
    // Check the version first so a newer file says so instead of "missing field".
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
    let found = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { path: path.to_owned(), found });
    }
    let mut session: Session = serde_json::from_value(value)
        .map_err(|e| StoreError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
    session.assign_missing_answer_ids();
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn sample() -> Session {
        let start = Utc.with_ymd_and_hms(2026, 11, 1, 18, 0, 0).single().expect("valid time");
        let mut session = Session::new("phone-screen", None, Mode::Solo, start);
        let mut answer = Answer::new("phone-screen/intro/recent-service".into(), 300, start);
        answer.set_duration(320.5);
        answer.grades.insert("trade-offs".into(), Level::Senior);
        session.push_answer(answer);
        session
    }

    #[test]
    fn round_trips_and_lists() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let session = sample();
        store.save(&session).expect("save");
        assert_eq!(store.load(&session.id).expect("load"), session);
        let (all, problems) = store.load_all();
        assert_eq!(all, vec![session.clone()]);
        assert!(problems.is_empty());
        assert!((all[0].answers[0].overrun_s - 20.5).abs() < 1e-9);
        store.delete(&session.id).expect("delete");
        assert!(store.load_all().0.is_empty());
        assert!(!dir.path().join(&session.id).exists());
    }

    #[test]
    fn corrupt_file_is_reported_skipped_and_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        store.save(&sample()).expect("save");
        let bad_dir = dir.path().join("2026-01-01_000000_x");
        fs::create_dir(&bad_dir).expect("mkdir");
        fs::write(bad_dir.join(SESSION_FILE), b"{\"schema_version\": 1, \"id\": ").expect("write");
        let (all, problems) = store.load_all();
        assert_eq!(all.len(), 1);
        assert_eq!(problems.len(), 1);
        let message = problems[0].error.to_string();
        assert!(message.contains("2026-01-01_000000_x") && message.contains("not a valid session file"), "{message}");
        assert_eq!(fs::read(bad_dir.join(SESSION_FILE)).expect("read"), b"{\"schema_version\": 1, \"id\": ");
    }

    #[test]
    fn newer_schema_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let mut session = sample();
        session.schema_version = SCHEMA_VERSION + 1;
        store.save(&session).expect("save");
        assert!(matches!(store.load(&session.id), Err(StoreError::TooNew { .. })));
    }

    #[test]
    fn ids_cannot_escape_the_store() {
        let store = Store::new("/tmp/x");
        assert!(matches!(store.delete("../etc"), Err(StoreError::BadId(_))));
        assert!(matches!(store.load(".."), Err(StoreError::BadId(_))));
    }

    #[test]
    fn summaries_leave_timed_words_on_disk_and_saving_one_loses_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let mut session = sample();
        let words = crate::analysis::text::timed_words("we rolled back the deploy first", 0.3, 0.25);
        let transcript = crate::transcribe::Transcript {
            text: "we rolled back the deploy first".into(),
            duration_s: 2.0,
            segments: vec![crate::transcribe::Segment { start: 0.0, end: 2.0, text: "we rolled back".into() }],
            words: words.clone(),
            no_speech: false,
            settings: crate::transcribe::DecodeSettings::default(),
        };
        session.answers[0].transcript = Some(transcript.clone());
        store.save(&session).expect("save");

        let (summaries, _) = store.load_all_summaries();
        let mut summary = summaries[0].clone();
        assert!(summary.answers[0].elided);
        let kept = summary.answers[0].transcript.as_ref().expect("transcript");
        assert!(kept.words.is_empty() && kept.text.is_empty());
        // Edited and saved as a summary: the words on disk stay.
        summary.answers[0].notes = "lead with the rollback".into();
        let saved = store.save_merged(None, &summary).expect("save");
        assert!(!saved.written.answers[0].elided);
        let on_disk = store.load(&session.id).expect("load");
        assert_eq!(on_disk.answers[0].notes, "lead with the rollback");
        assert_eq!(on_disk.answers[0].transcript.as_ref().map(|t| &t.words), Some(&words));
        // And a summary filled from the full copy is the full session.
        summary.fill_elided_from(&on_disk);
        assert_eq!(summary.answers[0].transcript, on_disk.answers[0].transcript);
    }

    #[test]
    fn a_second_save_built_before_the_first_merged_keeps_their_answer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let session = sample();
        store.save(&session).expect("save");
        // Another process adds an answer.
        store
            .update(&session.id, |s| {
                s.push_answer(Answer::new("behavioral/s/theirs".into(), 60, Utc::now()));
            })
            .expect("update");
        // Two saves of ours, both built before the first came back.
        let mut first = session.clone();
        first.reflection = "one".into();
        let mut second = first.clone();
        second.reflection = "two".into();
        let saved = store.save_merged(Some(&session), &first).expect("first");
        assert_eq!(saved.written.answers.len(), 2);
        store.save_merged(Some(&saved.sent), &second).expect("second");
        let on_disk = store.load(&session.id).expect("load");
        assert_eq!(on_disk.answers.len(), 2, "their answer is kept");
        assert_eq!(on_disk.reflection, "two");
    }

    #[test]
    fn a_damaged_session_can_be_deleted_and_a_deleted_one_is_not_brought_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let session = sample();
        store.save(&session).expect("save");
        let saved = store.save_merged(Some(&session), &session).expect("save");
        fs::write(dir.path().join(&session.id).join(SESSION_FILE), b"{ broken").expect("write");
        store.delete(&session.id).expect("a damaged session can be deleted");
        assert!(matches!(store.save_merged(Some(&saved.sent), &session), Err(StoreError::DeletedElsewhere(_))));
        assert!(!dir.path().join(&session.id).exists(), "not brought back");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn check(store: &Store, dir: &Path, bytes: &[u8]) {
            let folder = dir.join("2026-11-01_180000_phone-screen");
            fs::create_dir_all(&folder).expect("mkdir");
            fs::write(folder.join(SESSION_FILE), bytes).expect("write");
            // Never a panic: a session or a reported problem.
            let (sessions, problems) = store.load_all();
            assert_eq!(sessions.len() + problems.len(), 1);
            let _ = store.load("2026-11-01_180000_phone-screen");
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let dir = tempfile::tempdir().expect("temp dir");
                check(&Store::new(dir.path()), dir.path(), &bytes);
            }

            #[test]
            fn mutated_sessions_never_panic(at in 0usize..4096, len in 0usize..64, byte in any::<u8>(), cut in any::<bool>()) {
                let dir = tempfile::tempdir().expect("temp dir");
                let store = Store::new(dir.path());
                let mut json = serde_json::to_vec_pretty(&sample()).expect("json");
                let at = at % json.len().max(1);
                if cut {
                    let end = (at + len).min(json.len());
                    json.drain(at..end);
                } else {
                    json[at] = byte;
                }
                check(&store, dir.path(), &json);
            }
        }
    }
}
