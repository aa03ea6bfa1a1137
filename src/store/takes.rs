//! Recorded takes in sessions: where a take's WAV goes, recording it into the
//! session before it starts (so a crash cannot orphan it), and the start-up
//! repair of takes left unfinished.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use super::{Answer, FollowUp, Session, Store, StoreError};
use crate::audio::wav::{self, TakeMarker};

/// What a take's marker says about its owner, so recovery can give a take
/// back to its session even if the session's own save never landed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TakeOwner {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_id: Option<String>,
    #[serde(default)]
    pub budget_s: u32,
    /// Set for the answer to a follow-up probe: recovery keeps the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
}

impl TakeOwner {
    /// The owner as the marker's opaque payload.
    pub fn into_marker(self, started_at: DateTime<Utc>) -> TakeMarker {
        let owner = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        TakeMarker { started_at, pid: None, pid_started: None, owner }
    }

    /// The owner a marker names (nothing for a take outside any session).
    pub fn of(marker: &TakeMarker) -> TakeOwner {
        serde_json::from_value(serde_json::Value::Object(marker.owner.clone())).unwrap_or_default()
    }
}

/// Adds an answer for `question_id` to the session with a fresh WAV path,
/// saves the session, and returns the answer's index, the WAV path and the
/// marker to write beside the take.
pub fn begin_answer(
    store: &Store,
    session: &mut Session,
    question_id: &str,
    budget_s: u32,
    started_at: DateTime<Utc>,
) -> Result<(usize, PathBuf, TakeMarker), StoreError> {
    let planned = new_answer(store, session, question_id, budget_s, started_at, None)?;
    store.save(session)?;
    Ok(planned)
}

/// Like `begin_answer` but leaves saving to the caller (the app saves on
/// its saver thread); the session folder is created so the take can start.
/// The take's marker names the session and question, so even if the save
/// has not landed when the app dies, recovery gives the take back.
pub fn new_answer(
    store: &Store,
    session: &mut Session,
    question_id: &str,
    budget_s: u32,
    started_at: DateTime<Utc>,
    follow_up: Option<FollowUp>,
) -> Result<(usize, PathBuf, TakeMarker), StoreError> {
    let dir = store.session_dir(&session.id)?;
    super::create_private_dir(&dir).map_err(|source| StoreError::Write { path: dir.clone(), source })?;
    // Named by the answer's id, unique even when two processes add answers
    // to one session at once (they must never write one file).
    let slug: String = question_id.replace('/', "_");
    let id = session.push_answer(Answer::new(question_id.to_owned(), budget_s, started_at));
    let wav_name = format!("{slug}-{id}.wav");
    if let Some(added) = session.answer_mut(&id) {
        added.wav = Some(wav_name.clone());
        added.follow_up = follow_up.clone();
    }
    let owner = TakeOwner {
        session_id: Some(session.id.clone()),
        question_id: Some(question_id.to_owned()),
        budget_s,
        follow_up,
    };
    let marker = owner.into_marker(started_at);
    Ok((session.answers.len() - 1, dir.join(wav_name), marker))
}

/// What the start-up repair did with one unfinished take.
#[derive(Debug)]
pub struct Recovery {
    pub wav: PathBuf,
    pub duration_s: f64,
    pub session_id: Option<String>,
    /// Set when the take could not be repaired or attached (the file is left as it is).
    pub error: Option<String>,
}

/// Repairs every take under the store left unfinished by a crash or kill and
/// marks its answer "recovered" with the repaired duration. Takes another
/// running process is still recording are left alone, and so are takes
/// finished (or removed) since they were listed.
pub fn recover_unfinished(store: &Store) -> Vec<Recovery> {
    wav::unfinished_takes(store.root()).into_iter().filter_map(|path| recover_one(store, &path).ok()).collect()
}

/// Repairs one take and gives it back to its session; the marker goes only
/// once that is saved, so a failure is retried at the next start. `None`
/// when the take is still being recorded. A path that is no unfinished take
/// (missing, not a file, no marker) is a failed `Recovery` saying so: asked
/// for by name, that is an error, never "still being recorded".
pub fn recover_take(store: &Store, path: &Path) -> Option<Recovery> {
    match recover_one(store, path) {
        Ok(recovery) => Some(recovery),
        Err(Skipped::Recording) => None,
        Err(Skipped::NotUnfinished(reason)) => Some(failed(path, reason)),
    }
}

/// Why a take was not recovered.
enum Skipped {
    /// A running process (maybe this one) is still recording it.
    Recording,
    /// There is nothing to recover there; says why.
    NotUnfinished(String),
}

fn failed(path: &Path, error: String) -> Recovery {
    Recovery { wav: path.to_owned(), duration_s: 0.0, session_id: None, error: Some(error) }
}

fn recover_one(store: &Store, path: &Path) -> Result<Recovery, Skipped> {
    let marker_file = wav::marker_path(path);
    let has_marker = marker_file.exists();
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Ok(failed(path, "not a regular file: left as it is".into())),
        Ok(_) => {}
        // A marker without its WAV: killed before the file reached the disk;
        // the repair makes it an empty take.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && has_marker => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Skipped::NotUnfinished("the file does not exist: nothing to repair".into()));
        }
        Err(e) => return Ok(failed(path, format!("cannot read it: {e}"))),
    }
    if !has_marker {
        let reason = "not an unfinished take (there is no .recording marker beside it): nothing to repair";
        return Err(Skipped::NotUnfinished(reason.into()));
    }
    let marker = std::fs::read(&marker_file).ok().and_then(|b| serde_json::from_slice::<TakeMarker>(&b).ok());
    if wav::being_written_here(path) || marker.as_ref().is_some_and(wav::recorder_alive) {
        return Err(Skipped::Recording);
    }
    let repaired = match wav::repair(path) {
        Ok(repaired) => repaired,
        Err(err) => return Ok(failed(path, err.to_string())),
    };
    let session_id = repaired.marker.as_ref().and_then(|m| TakeOwner::of(m).session_id);
    let error = match attach(store, &repaired) {
        Ok(()) => wav::remove_marker(path).err().map(|e| e.to_string()),
        Err(err) => Some(err.to_string()),
    };
    Ok(Recovery { wav: path.to_owned(), duration_s: repaired.duration_s, session_id, error })
}

fn attach(store: &Store, repaired: &wav::Repaired) -> Result<(), StoreError> {
    let Some(marker) = &repaired.marker else { return Ok(()) };
    let owner = TakeOwner::of(marker);
    let (Some(session_id), Some(question_id)) = (&owner.session_id, &owner.question_id) else { return Ok(()) };
    let base = match store.load(session_id) {
        Ok(session) => Some(session),
        // The app died before the session's first save: rebuild it from the marker.
        Err(StoreError::NotFound(_)) => None,
        Err(err) => return Err(err),
    };
    let mut session = base.clone().unwrap_or_else(|| {
        let mock_id = question_id.split('/').next().unwrap_or_default();
        let mut session = Session::new(mock_id, None, super::Mode::Solo, marker.started_at);
        session.id = session_id.clone();
        session
    });
    let wav_name = repaired.path.file_name().map(|n| n.to_string_lossy().into_owned());
    let index = match session.answers.iter().position(|a| a.wav.is_some() && a.wav == wav_name) {
        Some(index) => index,
        None => {
            let mut answer = Answer::new(question_id.clone(), owner.budget_s, marker.started_at);
            answer.wav = wav_name;
            answer.follow_up = owner.follow_up.clone();
            session.push_answer(answer);
            session.answers.len() - 1
        }
    };
    let answer = &mut session.answers[index];
    answer.recovered = true;
    answer.set_duration(repaired.duration_s);
    answer.stopped_at = Some(marker.started_at + chrono::Duration::milliseconds((repaired.duration_s * 1000.0) as i64));
    // Merged under the session's lock with whatever was written meanwhile.
    store.save_merged(base.as_ref(), &session).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Mode;

    #[test]
    fn a_killed_take_is_repaired_and_attached_to_its_answer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let now = Utc::now();
        let mut session = Session::new("behavioral", None, Mode::Solo, now);
        let (index, path, marker) =
            begin_answer(&store, &mut session, "behavioral/q1-outage/incident", 360, now).expect("begin");
        assert_eq!(index, 0);
        let mut writer = wav::TakeWriter::create(&path, &marker).expect("create");
        writer.write(&vec![0.1; 32_000]).expect("write");
        writer.checkpoint_now().expect("checkpoint");
        std::mem::forget(writer); // the process "dies" here
        let marker_file = wav::marker_path(&path);
        let mut written: wav::TakeMarker =
            serde_json::from_slice(&std::fs::read(&marker_file).expect("marker")).expect("marker json");
        if cfg!(target_os = "linux") {
            assert!(wav::recorder_alive(&written), "this process, by pid and start time");
        }
        // The marker names a recorder that has ended (a pid reused after a
        // reboot): only this process's list of open takes keeps it safe.
        written.pid_started = Some(0);
        std::fs::write(&marker_file, serde_json::to_vec(&written).expect("json")).expect("write marker");
        assert!(!wav::recorder_alive(&written));
        assert!(recover_unfinished(&store).is_empty(), "a take this process is writing is never recovered");
        // Recovery as a later process sees it.
        wav::forget_open_take(&path);

        let report = recover_unfinished(&store);
        assert_eq!(report.len(), 1);
        assert!(report[0].error.is_none(), "{:?}", report[0].error);
        let session = store.load(&session.id).expect("load");
        assert!(session.answers[0].recovered);
        assert_eq!(session.answers[0].duration_s, 2.0);
        assert!(recover_unfinished(&store).is_empty(), "recovery runs once");
    }

    #[test]
    fn a_killed_follow_up_keeps_its_link_even_if_the_session_was_never_saved() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let now = Utc::now();
        let mut session = Session::new("behavioral", None, Mode::Solo, now);
        let link = FollowUp { to: "a1".into(), probe: 1, text: "Why?".into(), missed: Some("timeline".into()) };
        // As the app does: the session is saved later, on its saver thread; the app dies first.
        let (_, path, marker) =
            new_answer(&store, &mut session, "behavioral/q1-outage/incident", 90, now, Some(link.clone()))
                .expect("new answer");
        let mut writer = wav::TakeWriter::create(&path, &marker).expect("create");
        writer.write(&vec![0.1; 16_000]).expect("write");
        writer.checkpoint_now().expect("checkpoint");
        std::mem::forget(writer);
        wav::forget_open_take(&path);
        let marker_file = wav::marker_path(&path);
        let mut written: wav::TakeMarker =
            serde_json::from_slice(&std::fs::read(&marker_file).expect("marker")).expect("marker json");
        written.pid_started = Some(0);
        std::fs::write(&marker_file, serde_json::to_vec(&written).expect("json")).expect("write marker");

        let report = recover_unfinished(&store);
        assert_eq!(report.len(), 1, "{report:?}");
        let recovered = store.load(&session.id).expect("rebuilt from the marker");
        assert_eq!(recovered.answers[0].follow_up, Some(link));
        assert_eq!(recovered.answers[0].budget_s, 90);
        assert!(!recovered.answers[0].is_main_take());
    }

    #[test]
    fn recovering_what_is_no_unfinished_take_is_an_error_not_still_recording() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path());
        let error_for = |path: &Path| match recover_take(&store, path) {
            Some(Recovery { error: Some(error), .. }) => error,
            other => panic!("{}: expected an error, got {other:?}", path.display()),
        };
        let missing = dir.path().join("nonexistent.wav");
        assert!(error_for(&missing).contains("does not exist"));
        assert!(!missing.exists(), "nothing is created for it");
        let folder = dir.path().join("folder.wav");
        std::fs::create_dir(&folder).expect("dir");
        assert!(error_for(&folder).contains("not a regular file"));
        let finished = dir.path().join("finished.wav");
        let mut writer = wav::TakeWriter::create(&finished, &TakeMarker::default()).expect("create");
        writer.write(&[0.1; 1_600]).expect("write");
        writer.finish().expect("finish");
        let before = std::fs::read(&finished).expect("read");
        assert!(error_for(&finished).contains("not an unfinished take"));
        assert_eq!(std::fs::read(&finished).expect("read"), before, "left as it was");
        assert!(recover_unfinished(&store).is_empty(), "none of them is listed");
    }
}
