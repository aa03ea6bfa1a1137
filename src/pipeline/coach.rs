//! The state the app and the CLI share, over the domain core: the content,
//! the settings, the sessions in memory (the one copy that is edited), and
//! the workers: a saver thread (session files, in order), the transcription
//! service with the answer thread behind it (transcript -> analysis), and
//! background jobs. Every result comes back as one typed `AppEvent`; nothing
//! here blocks, and nothing knows of egui (the UI passes a repaint request
//! as `Notify`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::answer;
use super::practice::LiveTake;
use crate::analysis::Feedback;
use crate::analysis::corrections::{self, DetectorRecord, FillerCorrection};
use crate::audio::capture::{self, DeviceInfo};
use crate::audio::playback::Player;
use crate::content::{Library, Question};
use crate::model::catalog as models;
use crate::model::convert;
use crate::model::ggml::ModelInfo;
use crate::paths::DataDir;
use crate::settings::Settings;
use crate::store::{Session, Store, StoreProblem, merge, takes};
use crate::transcribe::Transcript;
use crate::transcribe::prompt::{Prompt, PromptMode};
use crate::transcribe::service::{self, Command, TakeKey, Transcriber};

/// Asks whoever shows the state to look again (the app: a repaint).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// A model download in progress. Kept here, not by a screen, so leaving and
/// reopening Settings shows it (and cannot start a second download).
pub struct ModelDownload {
    pub name: String,
    pub done: Arc<AtomicU64>,
    pub total: Arc<AtomicU64>,
    pub cancel: Arc<AtomicBool>,
}

/// A message for the user (the app shows them at the bottom of the window).
#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub at: Instant,
}

/// The model the transcriber uses.
#[derive(Debug, Default)]
pub struct ModelStatus {
    pub path: Option<PathBuf>,
    pub info: Option<ModelInfo>,
    pub loading: bool,
    pub error: Option<String>,
}

/// Background work; each job reports one `AppEvent` when it ends.
pub enum Job {
    WriteReport {
        path: PathBuf,
        markdown: String,
    },
    ListDevices,
    DownloadModel {
        name: String,
    },
    ImportModel {
        source: PathBuf,
        dest: PathBuf,
    },
    /// Reading and resampling a take and opening the output take a moment.
    OpenPlayer {
        session_id: String,
        answer_id: String,
        path: PathBuf,
    },
    /// The system's folder dialog (it blocks until the user answers).
    PickFolder {
        title: String,
    },
    /// The whole session (elided transcripts) read again, for review.
    ReadSession {
        id: String,
    },
    /// Fit the audio um/uh detector to the takes the user corrected.
    FitFillerDetector,
}

/// Everything background work reports, in one type. `Coach::poll` applies
/// what concerns the shared state and hands the rest to the screens.
pub enum AppEvent {
    SessionsLoaded {
        recoveries: Vec<takes::Recovery>,
        sessions: Vec<Session>,
        problems: Vec<StoreProblem>,
    },
    Saved {
        session_id: String,
        result: Result<(), String>,
        /// When another process had changed the file: what we sent and
        /// what was written (both joined), to join into the copy here.
        merged: Option<(Box<Session>, Box<Session>)>,
        /// What is on disk now: the base of the next merge.
        written: Option<Box<Session>>,
    },
    Deleted {
        session_id: String,
        result: Result<(), String>,
    },
    ModelLoaded(ModelInfo),
    ModelFailed(String),
    /// The live transcript of a take being recorded, so far.
    LiveText {
        key: TakeKey,
        text: String,
    },
    /// A take's transcript, and the feedback computed from it and its audio.
    Transcribed {
        key: TakeKey,
        session_id: String,
        answer_id: String,
        transcript: Box<Transcript>,
        feedback: Result<Box<Feedback>, String>,
    },
    TranscriptionFailed {
        key: TakeKey,
        session_id: String,
        answer_id: String,
        error: String,
    },
    ReportWritten {
        path: PathBuf,
        result: Result<(), String>,
    },
    Devices(Result<Vec<DeviceInfo>, String>),
    /// A model downloaded or imported (`verb` says which), to use from now on.
    ModelInstalled {
        verb: &'static str,
        result: Result<PathBuf, String>,
    },
    PlayerOpened {
        session_id: String,
        answer_id: String,
        result: Result<Player, String>,
    },
    /// The folder the user picked, if any.
    FolderPicked(Option<PathBuf>),
    SessionRead {
        id: String,
        result: Result<Box<Session>, String>,
    },
    /// The detector fitted to the user's corrections (the fit is applied).
    FillerFit(Box<crate::analysis::adapt::Fit>),
}

/// What the answer thread needs to finish a take once its transcript is in.
#[derive(Debug, Clone)]
pub struct TakeJob {
    pub session_id: String,
    pub answer_id: String,
    pub wav: Option<PathBuf>,
    pub question: Option<Question>,
    pub config: crate::analysis::Config,
}

/// Takes waiting for their transcript, shared with the answer thread.
type PendingTakes = Arc<Mutex<HashMap<TakeKey, TakeJob>>>;

/// A take's recording being read and analysed while its transcript finishes.
type AudioJob = std::thread::JoinHandle<Result<answer::AnalysedAudio, String>>;

pub struct Coach {
    pub data: DataDir,
    pub library: Library,
    pub settings: Settings,
    store: Store,
    /// All readable sessions, oldest first.
    sessions: Vec<Session>,
    /// False until the sessions on disk are read (a background job).
    sessions_loaded: bool,
    deleted_while_loading: Vec<String>,
    notices: Vec<Notice>,
    model: ModelStatus,
    transcriber: Transcriber,
    /// Live transcript text per take, while it is being recorded.
    live_text: HashMap<TakeKey, String>,
    pending: PendingTakes,
    next_key: TakeKey,
    saver: Sender<SaverJob>,
    events_tx: Sender<AppEvent>,
    events_rx: Receiver<AppEvent>,
    notify: Notify,
    running_jobs: usize,
    devices: Option<Vec<DeviceInfo>>,
    download: Option<ModelDownload>,
    /// Takes whose screen was left while they were recording: closed and
    /// saved here as their recorder reports.
    closing: Vec<LiveTake>,
    /// What this process last read or wrote of each session, as its copy
    /// here holds it: the base of the next merge.
    bases: HashMap<String, Session>,
    /// Sessions whose full copy was asked for (`want_full`), once each.
    reading: Vec<String>,
    /// ... and those still being read.
    read_pending: Vec<String>,
    /// Saves that failed since the start (the CLI's exit code says so).
    save_failures: usize,
    /// Why the data folder cannot be written, if it cannot (said at start).
    data_problem: Option<String>,
    /// The day it is, when set (tests); else the local date.
    today: Option<chrono::NaiveDate>,
    /// The last fit of the filler detector to the user's corrections, and
    /// whether one is running.
    filler_fit: Option<crate::analysis::adapt::Fit>,
    fitting: bool,
}

impl Coach {
    /// Today's local date: what is due is judged against it.
    pub fn today(&self) -> chrono::NaiveDate {
        self.today.unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// Sets the day the app takes for today (`None`: the clock's), so tests
    /// can move through a schedule.
    pub fn set_today(&mut self, day: Option<chrono::NaiveDate>) {
        self.today = day;
    }

    /// Starts the workers and reads the sessions in the background (the
    /// window opens at once; a year of sessions takes a second or so). No
    /// model is loaded until `load_model` is called.
    pub fn new(data: DataDir, notify: Notify, worker_exe: PathBuf) -> Coach {
        let library = Library::load(Some(&data.mocks()));
        let (settings, settings_problem) = Settings::load(&data);
        let store = Store::new(data.sessions());
        let mut notices = Vec::new();
        let mut note = |text: String, error: bool| notices.push(Notice { text, error, at: Instant::now() });
        for problem in &library.problems {
            note(format!("Skipped content: {problem}"), true);
        }
        if let Some(problem) = settings_problem {
            note(problem.to_string(), true);
        }
        let data_problem = data.check_writable().err().map(|err| {
            format!(
                "The data folder {} cannot be written ({err}): sessions, recordings and settings cannot be saved. \
                 Fix its permissions, or start with --data-dir DIR (or INTERVIEW_COACH_DATA_DIR) on a writable disk.",
                data.root().display()
            )
        });
        if let Some(problem) = &data_problem {
            note(problem.clone(), true);
        }
        let (events_tx, events_rx) = mpsc::channel();
        let (transcriber, transcriber_events) = Transcriber::start(worker_exe, settings.threads(), Arc::new(|| {}));
        let pending: PendingTakes = Arc::default();
        spawn_answer_thread(transcriber_events, Arc::clone(&pending), events_tx.clone(), Arc::clone(&notify));
        let saver = spawn_saver(store.clone(), events_tx.clone(), Arc::clone(&notify));
        let mut coach = Coach {
            data,
            library,
            settings,
            store,
            sessions: Vec::new(),
            sessions_loaded: false,
            deleted_while_loading: Vec::new(),
            notices,
            model: ModelStatus::default(),
            transcriber,
            live_text: HashMap::new(),
            pending,
            next_key: 1,
            saver,
            events_tx,
            events_rx,
            notify,
            running_jobs: 0,
            devices: None,
            download: None,
            closing: Vec::new(),
            bases: HashMap::new(),
            reading: Vec::new(),
            read_pending: Vec::new(),
            save_failures: 0,
            data_problem,
            today: None,
            filler_fit: None,
            fitting: false,
        };
        let store = coach.store.clone();
        coach.spawn(move || {
            // Takes a crash left unfinished are repaired before anything reads them.
            let recoveries = takes::recover_unfinished(&store);
            // Summaries: a year of history without every transcript's timed words.
            let (sessions, problems) = store.load_all_summaries();
            AppEvent::SessionsLoaded { recoveries, sessions, problems }
        });
        coach
    }

    /// How many saves failed since the start.
    pub fn save_failures(&self) -> usize {
        self.save_failures
    }

    /// Why the data folder cannot be written, when it cannot.
    pub fn data_problem(&self) -> Option<&str> {
        self.data_problem.as_deref()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    pub fn sessions_loaded(&self) -> bool {
        self.sessions_loaded
    }

    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// The notices so far, taken (the CLI prints them).
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    pub fn dismiss_notice(&mut self, index: usize) {
        if index < self.notices.len() {
            self.notices.remove(index);
        }
    }

    pub fn model(&self) -> &ModelStatus {
        &self.model
    }

    pub fn download(&self) -> Option<&ModelDownload> {
        self.download.as_ref()
    }

    /// The input devices, once a `Job::ListDevices` has listed them.
    pub fn devices(&self) -> Option<&[DeviceInfo]> {
        self.devices.as_deref()
    }

    pub fn live_text(&self, key: TakeKey) -> Option<&str> {
        self.live_text.get(&key).map(String::as_str)
    }

    pub fn notify(&self) -> Notify {
        Arc::clone(&self.notify)
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.notices.push(Notice { text: text.into(), error: false, at: Instant::now() });
    }

    pub fn error(&mut self, text: impl std::fmt::Display) {
        self.notices.push(Notice { text: text.to_string(), error: true, at: Instant::now() });
    }

    /// Something is still working (for the repaint cadence).
    pub fn busy(&self) -> bool {
        self.running_jobs > 0
            || self.has_pending_takes()
            || self.model.loading
            || self.download.is_some()
            || !self.closing.is_empty()
    }

    /// A take still recording whose screen is gone: stopped, it is closed
    /// and saved here when its recorder reports.
    pub(crate) fn adopt_take(&mut self, take: LiveTake) {
        self.closing.push(take);
    }

    fn poll_closing(&mut self) {
        let mut closing = std::mem::take(&mut self.closing);
        closing.retain_mut(|take| !take.poll(self, &mut Vec::new()));
        self.closing.extend(closing);
    }

    fn has_pending_takes(&self) -> bool {
        self.pending.lock().map(|p| !p.is_empty()).unwrap_or(false)
    }

    /// Loads `path`, or the chosen model, or the first valid installed one.
    pub fn load_model(&mut self, path: Option<PathBuf>) {
        let path = path
            .or_else(|| self.settings.model.clone())
            .or_else(|| models::installed(&self.data.models()).into_iter().find(|m| m.info.is_ok()).map(|m| m.path));
        self.model = ModelStatus { path: path.clone(), info: None, loading: path.is_some(), error: None };
        match path {
            Some(path) => self.transcriber.send(Command::LoadModel(path)),
            None => {
                self.model.error = Some("No whisper model yet: download or import one in Settings.".into());
            }
        }
    }

    /// Decoding threads from now on (the settings are saved by the caller).
    pub fn set_threads(&mut self, threads: usize) {
        self.transcriber.send(Command::SetThreads(threads));
    }

    /// The command channel of the transcriber (the recorder streams into it).
    pub(crate) fn transcriber(&self) -> &Transcriber {
        &self.transcriber
    }

    pub(crate) fn new_take_key(&mut self) -> TakeKey {
        let key = self.next_key;
        self.next_key += 1;
        key
    }

    /// The transcript for `key` belongs to this answer: when it comes, the
    /// answer thread analyses it and reports `AppEvent::Transcribed`.
    pub(crate) fn expect_transcript(&mut self, key: TakeKey, session_id: &str, answer_id: &str) {
        let Some(answer) = self.session(session_id).and_then(|s| s.answer(answer_id)) else { return };
        let question_ref = self.library.question(&answer.question_id);
        let prompt = question_ref.map_or_else(Prompt::verbatim, |q| {
            Prompt::for_question(q.question, q.mock, &self.settings.glossary, PromptMode::default())
        });
        let question = question_ref.map(|q| match &answer.follow_up {
            // A follow-up: the probe was the question, with its own budget.
            Some(follow_up) => {
                use crate::analysis::follow_up;
                let probes = follow_up::probes(q.question, q.stage);
                // Judged on the key points of the probe that was asked (none if it is gone).
                let linked = follow_up::find(&probes, follow_up.probe, &follow_up.text)
                    .and_then(|i| probes.get(i))
                    .map(|p| p.key_points.clone())
                    .unwrap_or_default();
                q.question.as_follow_up(&follow_up.text, answer.budget_s, &linked)
            }
            None => q.question.clone(),
        });
        let prompt = match (&answer.follow_up, &question, question_ref) {
            (Some(_), Some(asked), Some(q)) => {
                Prompt::for_question(asked, q.mock, &self.settings.glossary, PromptMode::default())
            }
            _ => prompt,
        };
        let job = TakeJob {
            session_id: session_id.to_owned(),
            answer_id: answer_id.to_owned(),
            wav: self.answer_wav(session_id, answer_id),
            question,
            config: self.settings.analysis_config(),
        };
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(key, job);
        }
        self.transcriber.send(Command::Prompt { key, prompt });
    }

    /// Drops a take that never started.
    pub(crate) fn forget_take(&mut self, key: TakeKey) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&key);
        }
        self.live_text.remove(&key);
        self.transcriber.send(Command::Forget { key });
    }

    pub fn is_transcribing(&self, session_id: &str, answer_id: &str) -> bool {
        self.pending
            .lock()
            .map(|p| p.values().any(|t| t.session_id == session_id && t.answer_id == answer_id))
            .unwrap_or(false)
    }

    /// Transcribes a recorded answer again (after a crash, or with a new model).
    pub fn retranscribe(&mut self, session_id: &str, answer_id: &str) {
        let Some(wav_path) = self.answer_wav(session_id, answer_id) else {
            self.error("This answer has no recording to transcribe.");
            return;
        };
        let key = self.new_take_key();
        self.expect_transcript(key, session_id, answer_id);
        self.transcriber.send(Command::TranscribeFile { key, path: wav_path });
    }

    /// Applies the user's correction of a filler (or undoes the same one)
    /// to a take: its counts and advice change at once, and the correction is
    /// saved with the take. Refused, with the reason, when it points outside
    /// the take or at a take whose recording or feedback is gone.
    pub fn correct_filler(
        &mut self,
        session_id: &str,
        answer_id: &str,
        correction: FillerCorrection,
    ) -> Result<(), String> {
        let answer = self.session(session_id).and_then(|s| s.answer(answer_id)).ok_or("This take no longer exists.")?;
        if answer.elided {
            return Err("This take's details are still being read: try again in a moment.".into());
        }
        let wav_kept = self.answer_wav(session_id, answer_id).is_some_and(|p| p.exists());
        if !wav_kept {
            return Err("The recording of this take is gone, so its fillers cannot be corrected.".into());
        }
        let (Some(feedback), Some(transcript)) = (&answer.feedback, &answer.transcript) else {
            return Err("This take has no transcript yet: correct its fillers once it is transcribed.".into());
        };
        let config = self.settings.analysis_config();
        // Undoing a correction is always allowed; a new one must make sense.
        if corrections::undone_by(&answer.filler_corrections, &correction).is_none() {
            corrections::check(feedback, &correction, &config).map_err(|e| format!("Not applied: {e}."))?;
        }
        let list = corrections::toggle(&answer.filler_corrections, correction);
        let kind = self.library.question(&answer.question_id).map(|q| q.question.kind);
        let mut feedback = feedback.clone();
        corrections::apply(&mut feedback, &list, kind, transcript.no_speech, &config);
        self.edit_session(session_id, |session| {
            if let Some(a) = session.answer_mut(answer_id) {
                a.filler_corrections = list;
                a.feedback = Some(feedback);
            }
        });
        Ok(())
    }

    /// The last fit of the um/uh detector to the user's corrections.
    pub fn filler_fit(&self) -> Option<&crate::analysis::adapt::Fit> {
        self.filler_fit.as_ref()
    }

    pub fn is_fitting(&self) -> bool {
        self.fitting
    }

    /// The filler detector's record on the takes the user corrected.
    pub fn detector_record(&self) -> DetectorRecord {
        let mut record = DetectorRecord::default();
        for answer in self.sessions.iter().flat_map(|s| &s.answers) {
            if let Some(feedback) = &answer.feedback {
                record.add(feedback, &answer.filler_corrections);
            }
        }
        record
    }

    pub fn answer_wav(&self, session_id: &str, answer_id: &str) -> Option<PathBuf> {
        let name = self.session(session_id)?.answer(answer_id)?.wav.as_ref()?;
        Some(self.store.session_dir(session_id).ok()?.join(name))
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// Asks for a session's elided transcripts (a review opens it): read in
    /// the background, once.
    pub fn want_full(&mut self, id: &str) {
        let elided = self.session(id).is_some_and(Session::has_elided);
        // Once per session: a failed read is said once, not retried every frame.
        if elided && !self.reading.iter().any(|r| r == id) {
            self.reading.push(id.to_owned());
            self.run(Job::ReadSession { id: id.to_owned() });
        }
    }

    /// Is the session's full copy still being read (`want_full`)?
    pub fn is_reading(&self, id: &str) -> bool {
        self.read_pending.iter().any(|r| r == id)
    }

    /// Changes a session in memory and saves it (on the saver thread).
    pub fn edit_session(&mut self, id: &str, change: impl FnOnce(&mut Session)) {
        if let Some(session) = self.sessions.iter_mut().find(|s| s.id == id) {
            change(session);
            self.save(id);
        }
    }

    /// A session just read from disk, held here from now on (not saved:
    /// it is what the disk has, and the base of its first merge).
    pub fn hold_loaded(&mut self, session: Session) {
        self.bases.insert(session.id.clone(), session.clone());
        match self.sessions.iter_mut().find(|s| s.id == session.id) {
            Some(existing) => *existing = session,
            None => self.sessions.push(session),
        }
    }

    /// Adds or replaces a session in memory and saves it.
    pub fn put_session(&mut self, session: Session) {
        let id = session.id.clone();
        match self.sessions.iter_mut().find(|s| s.id == session.id) {
            Some(existing) => *existing = session,
            None => self.sessions.push(session),
        }
        self.save(&id);
    }

    /// Saves the in-memory session (atomic write on the saver thread).
    /// Each save carries the base its copy came from (what this process
    /// last read or wrote and joined in), so another process's changes are
    /// merged, and a change undone here stays undone.
    fn save(&mut self, session_id: &str) {
        if let Some(session) = self.session(session_id).cloned() {
            self.running_jobs += 1;
            let base = self.bases.get(session_id).cloned().map(Box::new);
            let _ = self.saver.send(SaverJob::Save { session: Box::new(session), base });
        }
    }

    /// Deletes a session and its recordings, in order with its saves (a save
    /// queued before the delete cannot bring it back).
    pub fn delete_session(&mut self, session_id: &str) {
        self.sessions.retain(|s| s.id != session_id);
        self.bases.remove(session_id);
        if !self.sessions_loaded {
            self.deleted_while_loading.push(session_id.to_owned());
        }
        self.running_jobs += 1;
        let _ = self.saver.send(SaverJob::Delete(session_id.to_owned()));
    }

    /// Starts background work; its `AppEvent` arrives through `poll`.
    pub fn run(&mut self, job: Job) {
        match job {
            Job::WriteReport { path, markdown } => {
                self.spawn(move || {
                    let result =
                        crate::util::atomic::write_atomic(&path, markdown.as_bytes()).map_err(|e| e.to_string());
                    AppEvent::ReportWritten { path, result }
                });
            }
            Job::ListDevices => {
                self.spawn(|| AppEvent::Devices(capture::input_devices().map_err(|e| e.to_string())));
            }
            Job::DownloadModel { name } => self.start_download(name),
            Job::ImportModel { source, dest } => {
                if let Err(err) = crate::util::atomic::create_private_dir(&self.data.models()) {
                    self.error(format!("Cannot create {}: {err}", self.data.models().display()));
                    return;
                }
                self.info(format!("Importing {}…", source.display()));
                self.spawn(move || AppEvent::ModelInstalled {
                    verb: "Imported",
                    result: convert::convert_ct2(&source, &dest).map(|s| s.out).map_err(|e| e.to_string()),
                });
            }
            Job::OpenPlayer { session_id, answer_id, path } => {
                self.spawn(move || AppEvent::PlayerOpened {
                    session_id,
                    answer_id,
                    result: Player::open(&path).map_err(|e| e.to_string()),
                });
            }
            Job::ReadSession { id } => {
                self.read_pending.push(id.clone());
                let store = self.store.clone();
                let reading = id.clone();
                let started = self.spawn(move || AppEvent::SessionRead {
                    result: store.load(&reading).map(Box::new).map_err(|e| e.to_string()),
                    id: reading,
                });
                if !started {
                    self.read_pending.retain(|pending| *pending != id);
                }
            }
            Job::FitFillerDetector => {
                if self.fitting {
                    return;
                }
                self.fitting = true;
                let store = self.store.clone();
                let config = self.settings.analysis_config();
                let ids: Vec<String> = self
                    .sessions
                    .iter()
                    .filter(|s| s.answers.iter().any(|a| !a.filler_corrections.is_empty()))
                    .map(|s| s.id.clone())
                    .collect();
                let started = self.spawn(move || {
                    AppEvent::FillerFit(Box::new(super::adapt::fit_filler_detector(&store, &ids, &config)))
                });
                // Without its thread the fit never reports: the button comes back.
                self.fitting = started;
            }
            Job::PickFolder { title } => {
                self.spawn(move || AppEvent::FolderPicked(rfd::FileDialog::new().set_title(title).pick_folder()));
            }
        }
    }

    fn start_download(&mut self, name: String) {
        if self.download.is_some() {
            return; // one at a time
        }
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        self.download = Some(ModelDownload {
            name: name.clone(),
            done: Arc::clone(&done),
            total: Arc::clone(&total),
            cancel: Arc::clone(&cancel),
        });
        let dir = self.data.models();
        let notify = self.notify();
        let started = self.spawn(move || {
            let result = models::download_named(&name, &dir, &cancel, &mut |p| {
                done.store(p.done, Ordering::Relaxed);
                total.store(p.total.unwrap_or(0), Ordering::Relaxed);
                notify();
            });
            AppEvent::ModelInstalled {
                verb: "Downloaded",
                result: result.map(|info| info.path).map_err(|e| e.to_string()),
            }
        });
        if !started {
            self.download = None; // nothing runs: the button comes back
        }
    }

    /// Runs `work` on a thread of its own; false (and the error shown) when
    /// no thread could be started.
    fn spawn(&mut self, work: impl FnOnce() -> AppEvent + Send + 'static) -> bool {
        let tx = self.events_tx.clone();
        let notify = self.notify();
        self.running_jobs += 1;
        let spawned = std::thread::Builder::new().name("job".into()).spawn(move || {
            let _ = tx.send(work());
            notify();
        });
        match spawned {
            Ok(_) => true,
            Err(err) => {
                self.running_jobs -= 1;
                self.error(format!("Cannot start background work: {err}"));
                false
            }
        }
    }

    /// Applies what the workers reported since the last call; returns the
    /// events that concern a screen rather than the shared state.
    pub fn poll(&mut self) -> Vec<AppEvent> {
        let mut for_screens = Vec::new();
        while let Ok(event) = self.events_rx.try_recv() {
            for_screens.extend(self.apply(event));
        }
        self.poll_closing();
        // Old notices fade away; errors stay until dismissed.
        self.notices.retain(|n| n.error || n.at.elapsed().as_secs() < 8);
        for_screens
    }

    /// Like `poll`, but waits up to `timeout` for the first event (the CLI).
    pub fn wait(&mut self, timeout: Duration) -> Vec<AppEvent> {
        let mut out: Vec<AppEvent> = match self.events_rx.recv_timeout(timeout) {
            Ok(event) => self.apply(event).into_iter().collect(),
            Err(_) => Vec::new(),
        };
        out.extend(self.poll());
        out
    }

    fn apply(&mut self, event: AppEvent) -> Option<AppEvent> {
        match event {
            AppEvent::SessionsLoaded { recoveries, sessions, problems } => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                self.sessions_arrived(recoveries, sessions, problems);
            }
            AppEvent::Saved { session_id, result, merged, written } => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                if let Err(err) = result {
                    self.save_failures += 1;
                    self.error(format!("Could not save session {session_id}: {err}"));
                }
                // Another program changed the session: its changes join ours
                // (changes made here since that save are kept).
                if let Some((sent, written)) = merged
                    && let Some(session) = self.sessions.iter_mut().find(|s| s.id == session_id)
                {
                    *session = merge::three_way(Some(&sent), session, &written);
                }
                // The copy here now holds what was written: the base of its next save.
                if let Some(written) = written
                    && self.session(&session_id).is_some()
                {
                    self.bases.insert(session_id, *written);
                }
            }
            AppEvent::Deleted { session_id, result } => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                match result {
                    Ok(()) => self.info(format!("Deleted session {session_id}.")),
                    Err(err) => {
                        self.error(format!("Could not delete session {session_id}: {err}"));
                        // Still on disk (say, being recorded into elsewhere): show it again.
                        if let Ok(session) = self.store.load(&session_id)
                            && self.session(&session_id).is_none()
                        {
                            self.sessions.push(session);
                            self.sessions.sort_by(|a, b| a.started_at.cmp(&b.started_at).then_with(|| a.id.cmp(&b.id)));
                        }
                    }
                }
            }
            AppEvent::ModelLoaded(info) => {
                self.model.loading = false;
                self.model.error = None;
                self.model.info = Some(info);
            }
            AppEvent::ModelFailed(err) => {
                self.model.loading = false;
                self.model.info = None;
                self.model.error = Some(err);
            }
            AppEvent::LiveText { key, text } => {
                self.live_text.insert(key, text);
            }
            AppEvent::Transcribed { key, session_id, answer_id, transcript, feedback } => {
                self.live_text.remove(&key);
                let mut failure = None;
                let config = self.settings.analysis_config();
                let library = &self.library;
                let kind_of = |question_id: &str| library.question(question_id).map(|q| q.question.kind);
                if let Some(session) = self.sessions.iter_mut().find(|s| s.id == session_id)
                    && let Some(a) = session.answer_mut(&answer_id)
                {
                    match feedback {
                        Ok(mut feedback) => {
                            // The user's corrections outlive a new transcript.
                            let kind = kind_of(&a.question_id);
                            corrections::apply(
                                &mut feedback,
                                &a.filler_corrections,
                                kind,
                                transcript.no_speech,
                                &config,
                            );
                            a.feedback = Some(*feedback);
                        }
                        Err(err) => failure = Some(err),
                    }
                    a.transcript = Some(*transcript);
                    a.elided = false;
                    a.transcription_error = None;
                    self.save(&session_id);
                }
                if let Some(err) = failure {
                    self.error(format!("Could not analyse the answer: {err}"));
                }
            }
            AppEvent::TranscriptionFailed { key, session_id, answer_id, error } => {
                self.live_text.remove(&key);
                self.edit_session(&session_id, |session| {
                    if let Some(a) = session.answer_mut(&answer_id) {
                        a.transcription_error = Some(error.clone());
                    }
                });
                self.error(format!("Transcription failed: {error}"));
            }
            AppEvent::ReportWritten { path, result } => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                match result {
                    Ok(()) => self.info(format!("Report written to {}", path.display())),
                    Err(err) => self.error(format!("Cannot write {}: {err}", path.display())),
                }
            }
            AppEvent::Devices(result) => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                match result {
                    Ok(devices) => self.devices = Some(devices),
                    Err(err) => {
                        self.error(err);
                        self.devices = Some(Vec::new());
                    }
                }
            }
            AppEvent::ModelInstalled { verb, result } => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                if verb == "Downloaded" {
                    self.download = None;
                }
                match result {
                    Ok(path) => {
                        self.info(format!("{verb} {}", path.display()));
                        self.settings.model = Some(path.clone());
                        self.save_settings();
                        self.load_model(Some(path));
                    }
                    Err(err) => self.error(err),
                }
            }
            AppEvent::FillerFit(fit) => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                self.fitting = false;
                // Only a fit with enough corrections moves the detector, and
                // not if the user changed the setting while it ran.
                let unchanged = self.settings.filler_sensitivity == fit.current;
                let enough = fit.corrections >= crate::analysis::adapt::MIN_CORRECTIONS;
                if enough && unchanged && fit.chosen != fit.current {
                    self.settings.filler_sensitivity = fit.chosen;
                    self.save_settings();
                    self.info(format!(
                        "The um/uh detector now runs at sensitivity {:.2} (was {:.2}) for answers analysed from now on.",
                        fit.chosen, fit.current
                    ));
                }
                self.filler_fit = Some(*fit);
            }
            AppEvent::SessionRead { id, result } => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                self.read_pending.retain(|r| r != &id);
                match result {
                    Ok(full) => {
                        if let Some(session) = self.sessions.iter_mut().find(|s| s.id == id) {
                            session.fill_elided_from(&full);
                        }
                    }
                    Err(err) => self.error(format!("Cannot read session {id}: {err}")),
                }
            }
            event @ (AppEvent::PlayerOpened { .. } | AppEvent::FolderPicked(_)) => {
                self.running_jobs = self.running_jobs.saturating_sub(1);
                return Some(event);
            }
        }
        None
    }

    fn sessions_arrived(
        &mut self,
        recoveries: Vec<takes::Recovery>,
        loaded: Vec<Session>,
        problems: Vec<StoreProblem>,
    ) {
        for recovery in recoveries {
            match recovery.error {
                None => self.info(format!(
                    "Recovered an unfinished recording ({:.0} s): {}",
                    recovery.duration_s,
                    recovery.wav.display()
                )),
                Some(err) => self.error(format!("Could not recover {}: {err}", recovery.wav.display())),
            }
        }
        // (A session deleted while it was being read is no problem.)
        let deleted_here = |path: &std::path::Path| {
            self.deleted_while_loading.iter().any(|id| path.components().any(|c| c.as_os_str() == id.as_str()))
        };
        let problems: Vec<_> = problems.into_iter().filter(|p| !deleted_here(&p.path)).collect();
        for problem in problems {
            self.error(format!("Skipped a session: {}", problem.error));
        }
        for session in &loaded {
            self.bases.entry(session.id.clone()).or_insert_with(|| session.clone());
        }
        let started_meanwhile = std::mem::take(&mut self.sessions);
        let deleted = std::mem::take(&mut self.deleted_while_loading);
        self.sessions = merge_loaded(loaded, started_meanwhile, &deleted);
        self.sessions_loaded = true;
    }

    /// Saves the settings now (small file; reported on failure).
    pub fn save_settings(&mut self) {
        if let Err(err) = self.settings.save(&self.data) {
            self.error(err);
        }
    }

    /// Cancels the model download in progress.
    pub fn cancel_download(&self) {
        if let Some(d) = &self.download {
            d.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Waits (up to `limit`) until queued saves, jobs and transcriptions are
    /// done, applying what arrives: at exit, and at the end of a CLI command.
    pub fn flush(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            // Idle is read before the channel is drained: a result is sent
            // before its take stops counting as pending, so a take no longer
            // pending has its result in the channel by now.
            let idle = self.running_jobs == 0 && !self.has_pending_takes() && self.closing.is_empty();
            self.poll();
            if (idle && self.running_jobs == 0) || Instant::now() >= deadline {
                break;
            }
            self.wait(Duration::from_millis(50));
        }
        for notice in self.notices.iter().filter(|n| n.error) {
            log::error!("{}", notice.text);
        }
    }
}

/// The sessions read from disk, joined with those started while they were
/// being read. Those are newer than anything read (which may hold an older
/// save of them): the copies in memory win and go last, and sessions
/// deleted meanwhile stay deleted.
fn merge_loaded(mut loaded: Vec<Session>, started_meanwhile: Vec<Session>, deleted: &[String]) -> Vec<Session> {
    loaded.retain(|s| !deleted.contains(&s.id) && !started_meanwhile.iter().any(|m| m.id == s.id));
    loaded.extend(started_meanwhile);
    loaded
}

/// The answer thread: transcripts in, analysed answers out. It runs the
/// analysis as soon as a transcript is done (nothing waits for the UI), one
/// take after another, so an older result never lands after a newer one.
/// The part that needs only the recording starts when the take ends, on a
/// thread of its own, while whisper finishes the transcript.
fn spawn_answer_thread(
    transcriber: Receiver<service::Event>,
    pending: PendingTakes,
    out: Sender<AppEvent>,
    notify: Notify,
) {
    let spawned = std::thread::Builder::new().name("answers".into()).spawn(move || {
        let take_job = |key: TakeKey| pending.lock().ok().and_then(|mut p| p.remove(&key));
        let mut audio_jobs: HashMap<TakeKey, AudioJob> = HashMap::new();
        for event in transcriber {
            let mut finished = None;
            let event = match event {
                service::Event::Ended { key } => {
                    let wav = pending.lock().ok().and_then(|p| p.get(&key).and_then(|job| job.wav.clone()));
                    if let Some(wav) = wav {
                        let job = std::thread::Builder::new()
                            .name("take audio".into())
                            .spawn(move || answer::AnalysedAudio::read(&wav).map_err(|e| format!("{e:#}")));
                        match job {
                            Ok(job) => {
                                audio_jobs.insert(key, job);
                            }
                            // Not a loss: the audio is read with the transcript instead.
                            Err(err) => log::warn!("cannot start reading the take's audio early: {err}"),
                        }
                    }
                    continue;
                }
                service::Event::ModelLoaded(info) => AppEvent::ModelLoaded(info),
                service::Event::ModelFailed(err) => AppEvent::ModelFailed(err),
                service::Event::Partial { key, text } => AppEvent::LiveText { key, text },
                service::Event::Done { key, transcript } => {
                    // The take stays "transcribing" until its result is sent.
                    let job = pending.lock().ok().and_then(|p| p.get(&key).cloned());
                    let Some(job) = job else {
                        audio_jobs.remove(&key);
                        continue;
                    };
                    let audio = match (audio_jobs.remove(&key), job.wav.as_deref()) {
                        (Some(early), _) => early
                            .join()
                            .unwrap_or_else(|_| Err("reading the take's audio failed unexpectedly".into()))
                            .map(Some),
                        (None, Some(wav)) => answer::AnalysedAudio::read(wav).map(Some).map_err(|e| format!("{e:#}")),
                        (None, None) => Ok(None),
                    };
                    let feedback = audio.map(|audio| {
                        Box::new(answer::feedback_with(&transcript, audio.as_ref(), job.question.as_ref(), &job.config))
                    });
                    finished = Some(key);
                    AppEvent::Transcribed {
                        key,
                        session_id: job.session_id,
                        answer_id: job.answer_id,
                        transcript: Box::new(transcript),
                        feedback,
                    }
                }
                service::Event::Failed { key, error } => {
                    audio_jobs.remove(&key);
                    let job = pending.lock().ok().and_then(|p| p.get(&key).cloned());
                    let Some(job) = job else { continue };
                    finished = Some(key);
                    AppEvent::TranscriptionFailed { key, session_id: job.session_id, answer_id: job.answer_id, error }
                }
            };
            let sent = out.send(event);
            // Only now is the take no longer pending: whoever waits for it
            // (the CLI, `flush`) finds its result in the channel.
            if let Some(key) = finished {
                take_job(key);
            }
            if sent.is_err() {
                break;
            }
            notify();
        }
    });
    if let Err(err) = spawned {
        log::error!("cannot start the answer thread: {err}");
    }
}

/// Work for the saver thread.
enum SaverJob {
    /// A session and the base its copy came from (`None`: never read here).
    Save {
        session: Box<Session>,
        base: Option<Box<Session>>,
    },
    Delete(String),
}

/// The base of a save's merge. The app's base is what it last heard was
/// written; when saves follow each other faster than it hears back, that is
/// older than the file, whose newer content is then this process's own last
/// save. Joined against that older base, an undo in between would count as
/// another program's change and win (a "not a filler" undone and redone came
/// back undone). So: the app's base if it is what was last written here, else
/// what this process last wrote (a failed save wrote nothing and is skipped).
fn base_for_save<'a>(app_base: Option<&'a Session>, last_ok: Option<&'a (Session, Session)>) -> Option<&'a Session> {
    match last_ok {
        Some((sent, written)) if app_base != Some(written) => Some(sent),
        _ => app_base,
    }
}

/// One thread writes session files, in order, so a newer state is never
/// overtaken by an older one, and a deleted session is not saved again.
fn spawn_saver(store: Store, out: Sender<AppEvent>, notify: Notify) -> Sender<SaverJob> {
    let (tx, rx) = mpsc::channel::<SaverJob>();
    let spawned = std::thread::Builder::new().name("saver".into()).spawn(move || {
        let mut deleted = std::collections::HashSet::new();
        // Per session, the last save written here: (sent, written).
        let mut last_ok: HashMap<String, (Session, Session)> = HashMap::new();
        while let Ok(job) = rx.recv() {
            let done = match job {
                SaverJob::Save { session, .. } if deleted.contains(&session.id) => {
                    AppEvent::Saved { session_id: session.id.clone(), result: Ok(()), merged: None, written: None }
                }
                SaverJob::Save { session, base } => {
                    match store.save_merged(base_for_save(base.as_deref(), last_ok.get(&session.id)), &session) {
                        Ok(saved) => {
                            last_ok.insert(session.id.clone(), (saved.sent.clone(), saved.written.clone()));
                            let merged = (saved.written != saved.sent)
                                .then(|| (Box::new(saved.sent.clone()), Box::new(saved.written.clone())));
                            let written = Some(Box::new(saved.written));
                            AppEvent::Saved { session_id: session.id.clone(), result: Ok(()), merged, written }
                        }
                        Err(err) => AppEvent::Saved {
                            session_id: session.id.clone(),
                            result: Err(err.to_string()),
                            merged: None,
                            written: None,
                        },
                    }
                }
                SaverJob::Delete(session_id) => {
                    let result = store.delete(&session_id).map_err(|e| e.to_string());
                    if result.is_ok() {
                        deleted.insert(session_id.clone());
                        last_ok.remove(&session_id);
                    }
                    AppEvent::Deleted { session_id, result }
                }
            };
            let _ = out.send(done);
            notify();
        }
    });
    if let Err(err) = spawned {
        log::error!("cannot start the saver thread: {err}");
    }
    tx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Mode;

    /// Saves queued faster than the app hears back all carry the base it
    /// read at start; the file must still end as the last one sent.
    #[test]
    fn an_undo_and_redo_saved_in_quick_succession_end_as_the_last_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::new(dir.path().join("sessions"));
        let at = chrono::Utc::now();
        let mut loaded = Session::new("system-design", None, Mode::Solo, at);
        loaded.push_answer(crate::store::Answer::new("system-design/a/b".into(), 60, at));
        store.save(&loaded).expect("save");
        let (events, received) = mpsc::channel();
        let saver = spawn_saver(store.clone(), events, Arc::new(|| {}));
        let with_note = |note: &str| {
            let mut s = loaded.clone();
            s.answers[0].notes = note.into();
            s
        };
        // Set, undone, set again: three saves, each with the start's base.
        let states = [with_note("not a filler"), loaded.clone(), with_note("not a filler")];
        for state in &states {
            let job = SaverJob::Save { session: Box::new(state.clone()), base: Some(Box::new(loaded.clone())) };
            saver.send(job).expect("saver");
        }
        for _ in &states {
            match received.recv_timeout(Duration::from_secs(10)) {
                Ok(AppEvent::Saved { result, merged, .. }) => {
                    assert_eq!(result, Ok(()));
                    assert!(merged.is_none(), "nobody else wrote: nothing to join");
                }
                _ => panic!("no save reported"),
            }
        }
        assert_eq!(store.load(&loaded.id).expect("load").answers[0].notes, "not a filler");
        // A failed save writes nothing: the next one is joined against the file.
        assert_eq!(base_for_save(None, None), None);
        let written = (states[0].clone(), states[0].clone());
        assert_eq!(base_for_save(Some(&states[0]), Some(&written)), Some(&states[0]));
        assert_eq!(base_for_save(Some(&loaded), Some(&written)), Some(&states[0]));
    }

    #[test]
    fn sessions_started_while_loading_win_over_their_older_saves() {
        let at = |day: u32| chrono::Utc::now() - chrono::Duration::days(i64::from(day));
        let old = Session::new("phone-screen", None, Mode::Solo, at(3));
        let gone = Session::new("behavioral", None, Mode::Solo, at(2));
        let mut current = Session::new("system-design", None, Mode::Solo, at(0));
        // The loader read the new session's first save, without its answer.
        let first_save = current.clone();
        current.push_answer(crate::store::Answer::new("system-design/a/b".into(), 60, at(0)));
        let merged = merge_loaded(
            vec![old.clone(), gone.clone(), first_save],
            vec![current.clone()],
            std::slice::from_ref(&gone.id),
        );
        let ids: Vec<&str> = merged.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, [old.id.as_str(), current.id.as_str()]);
        assert_eq!(merged[1].answers.len(), 1, "the copy in memory, with its answer");
    }
}
