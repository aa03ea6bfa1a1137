//! The app's state over the domain core, and the workers the screens use:
//! a saver thread (session files), the transcription service, and one-off
//! background jobs. Screens read and change state here; nothing here blocks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Instant;

use eframe::egui;

use crate::analysis::{self, Feedback};
use crate::audio::{resample, wav};
use crate::content::Library;
use crate::paths::DataDir;
use crate::settings::Settings;
use crate::store::{Session, Store, takes};
use crate::transcribe::ggml::ModelInfo;
use crate::transcribe::service::{Command, Event, TakeKey, Transcriber};
use crate::transcribe::{Transcript, models};

/// A model download in progress. Kept by `Core`, not by the settings
/// screen, so leaving and reopening Settings shows it (and cannot start a
/// second download of the same file).
pub struct ModelDownload {
    pub name: String,
    pub done: Arc<AtomicU64>,
    pub total: Arc<AtomicU64>,
    pub cancel: Arc<AtomicBool>,
    /// Set by the download thread when it ends (either way).
    pub ended: Arc<AtomicBool>,
}

/// A message at the bottom of the window.
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

/// Results of background jobs.
pub enum JobDone {
    Saved { session_id: String, result: Result<(), String> },
    Deleted { session_id: String, result: Result<(), String> },
    Feedback { session_id: String, answer: usize, generation: u64, result: Result<Box<Feedback>, String> },
    Other(Box<dyn FnOnce(&mut Core) + Send>),
}

/// Where a transcription result goes.
#[derive(Debug, Clone)]
struct Pending {
    session_id: String,
    answer: usize,
}

pub struct Core {
    pub data: DataDir,
    pub library: Library,
    pub settings: Settings,
    pub store: Store,
    /// All readable sessions, oldest first: the single copy screens edit.
    pub sessions: Vec<Session>,
    /// False until the sessions on disk are read (a background job).
    pub sessions_loaded: bool,
    deleted_while_loading: Vec<String>,
    pub notices: Vec<Notice>,
    pub model: ModelStatus,
    pub transcriber: Transcriber,
    /// Live transcript text per take, while it is being recorded.
    pub live_text: HashMap<TakeKey, String>,
    /// Takes waiting for their transcript.
    pending: HashMap<TakeKey, Pending>,
    /// The latest transcript of each answer: an older analysis finishing
    /// late (two re-transcriptions racing) is not applied over a newer one.
    generations: HashMap<(String, usize), u64>,
    next_key: TakeKey,
    saver: Sender<(SaverJob, Sender<JobDone>)>,
    jobs_tx: Sender<JobDone>,
    jobs_rx: Receiver<JobDone>,
    pub ctx: egui::Context,
    running_jobs: usize,
    /// Input devices listed by a background job, for the settings screen.
    pub ui_devices: Option<Vec<crate::audio::capture::DeviceInfo>>,
    pub download: Option<ModelDownload>,
}

impl Core {
    pub fn new(data: DataDir, ctx: egui::Context, worker_exe: PathBuf) -> Core {
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
        install_fallback_font(&ctx);
        if settings.dark_mode {
            ctx.set_theme(egui::Theme::Dark);
        } else {
            ctx.set_theme(egui::Theme::Light);
        }
        let repaint = ctx.clone();
        let transcriber =
            Transcriber::start(worker_exe, settings.threads(), Arc::new(move || repaint.request_repaint()));
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let saver = spawn_saver(store.clone(), ctx.clone());
        let mut core = Core {
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
            pending: HashMap::new(),
            generations: HashMap::new(),
            next_key: 1,
            saver,
            jobs_tx,
            jobs_rx,
            ctx,
            running_jobs: 0,
            ui_devices: None,
            download: None,
        };
        core.load_model(None);
        // A year of sessions takes a second or so to read: the window opens
        // at once and the history appears when it is in.
        let store = core.store.clone();
        core.spawn(move || {
            // Takes a crash left unfinished are repaired before anything reads them.
            let recoveries = takes::recover_unfinished(&store);
            let (sessions, problems) = store.load_all();
            Box::new(move |core: &mut Core| core.sessions_arrived(recoveries, sessions, problems))
        });
        core
    }

    fn sessions_arrived(
        &mut self,
        recoveries: Vec<takes::Recovery>,
        loaded: Vec<Session>,
        problems: Vec<crate::store::StoreProblem>,
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
        let started_meanwhile = std::mem::take(&mut self.sessions);
        let deleted = std::mem::take(&mut self.deleted_while_loading);
        self.sessions = merge_loaded(loaded, started_meanwhile, &deleted);
        self.sessions_loaded = true;
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.notices.push(Notice { text: text.into(), error: false, at: Instant::now() });
    }

    pub fn error(&mut self, text: impl std::fmt::Display) {
        self.notices.push(Notice { text: text.to_string(), error: true, at: Instant::now() });
    }

    /// Something is still working (for the repaint cadence).
    pub fn busy(&self) -> bool {
        self.running_jobs > 0 || !self.pending.is_empty() || self.model.loading
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

    pub fn new_take_key(&mut self) -> TakeKey {
        let key = self.next_key;
        self.next_key += 1;
        key
    }

    /// The transcript for `key` belongs to this answer.
    pub fn expect_transcript(&mut self, key: TakeKey, session_id: &str, answer: usize) {
        self.pending.insert(key, Pending { session_id: session_id.to_owned(), answer });
    }

    pub fn is_transcribing(&self, session_id: &str, answer: usize) -> bool {
        self.pending.values().any(|p| p.session_id == session_id && p.answer == answer)
    }

    /// Transcribes a recorded answer again (after a crash, or with a new model).
    pub fn retranscribe(&mut self, session_id: &str, answer: usize) {
        let Some(wav_path) = self.answer_wav(session_id, answer) else {
            self.error("This answer has no recording to transcribe.");
            return;
        };
        let key = self.new_take_key();
        self.expect_transcript(key, session_id, answer);
        self.transcriber.send(Command::TranscribeFile { key, path: wav_path });
    }

    pub fn answer_wav(&self, session_id: &str, answer: usize) -> Option<PathBuf> {
        let session = self.session(session_id)?;
        let name = session.answers.get(answer)?.wav.as_ref()?;
        Some(self.store.session_dir(session_id).ok()?.join(name))
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    pub fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    /// Adds or replaces a session in memory and saves it (on the saver thread).
    pub fn put_session(&mut self, session: Session) {
        match self.sessions.iter_mut().find(|s| s.id == session.id) {
            Some(existing) => *existing = session.clone(),
            None => self.sessions.push(session.clone()),
        }
        self.save(&session.id);
    }

    /// Saves the in-memory session (atomic write on the saver thread).
    pub fn save(&mut self, session_id: &str) {
        if let Some(session) = self.session(session_id).cloned() {
            self.running_jobs += 1;
            let _ = self.saver.send((SaverJob::Save(Box::new(session)), self.jobs_tx.clone()));
        }
    }

    /// Deletes a session and its recordings, in order with its saves (a save
    /// queued before the delete cannot bring it back).
    pub fn delete_session(&mut self, session_id: &str) {
        self.sessions.retain(|s| s.id != session_id);
        if !self.sessions_loaded {
            self.deleted_while_loading.push(session_id.to_owned());
        }
        self.running_jobs += 1;
        let _ = self.saver.send((SaverJob::Delete(session_id.to_owned()), self.jobs_tx.clone()));
    }

    /// Runs `work` on a thread; its result is applied on the UI thread.
    pub fn spawn(&mut self, work: impl FnOnce() -> Box<dyn FnOnce(&mut Core) + Send> + Send + 'static) {
        let tx = self.jobs_tx.clone();
        let ctx = self.ctx.clone();
        self.running_jobs += 1;
        std::thread::spawn(move || {
            let apply = work();
            let _ = tx.send(JobDone::Other(apply));
            ctx.request_repaint();
        });
    }

    /// Applies what the workers reported since the last frame.
    pub fn poll(&mut self) {
        while let Ok(event) = self.transcriber.events.try_recv() {
            self.on_transcriber(event);
        }
        while let Ok(done) = self.jobs_rx.try_recv() {
            self.running_jobs = self.running_jobs.saturating_sub(1);
            match done {
                JobDone::Saved { session_id, result: Err(err) } => {
                    self.error(format!("Could not save session {session_id}: {err}"))
                }
                JobDone::Saved { .. } => {}
                JobDone::Deleted { session_id, result: Ok(()) } => self.info(format!("Deleted session {session_id}.")),
                JobDone::Deleted { session_id, result: Err(err) } => {
                    self.error(format!("Could not delete session {session_id}: {err}"))
                }
                JobDone::Feedback { session_id, answer, generation, .. }
                    if self.generations.get(&(session_id.clone(), answer)) != Some(&generation) => {}
                JobDone::Feedback { session_id, answer, result, .. } => match result {
                    Ok(feedback) => {
                        if let Some(a) = self.session_mut(&session_id).and_then(|s| s.answers.get_mut(answer)) {
                            a.feedback = Some(*feedback);
                        }
                        self.save(&session_id);
                    }
                    Err(err) => self.error(format!("Could not analyse the answer: {err}")),
                },
                JobDone::Other(apply) => apply(self),
            }
        }
        // Old notices fade away; errors stay until dismissed.
        self.notices.retain(|n| n.error || n.at.elapsed().as_secs() < 8);
    }

    fn on_transcriber(&mut self, event: Event) {
        match event {
            Event::ModelLoaded(info) => {
                self.model.loading = false;
                self.model.error = None;
                self.model.info = Some(info);
            }
            Event::ModelFailed(err) => {
                self.model.loading = false;
                self.model.info = None;
                self.model.error = Some(err);
            }
            Event::Partial { key, text } => {
                self.live_text.insert(key, text);
            }
            Event::Done { key, transcript } => {
                self.live_text.remove(&key);
                if let Some(p) = self.pending.remove(&key) {
                    self.set_transcript(&p.session_id, p.answer, transcript);
                }
            }
            Event::Failed { key, error } => {
                self.live_text.remove(&key);
                if let Some(p) = self.pending.remove(&key) {
                    if let Some(a) = self.session_mut(&p.session_id).and_then(|s| s.answers.get_mut(p.answer)) {
                        a.transcription_error = Some(error.clone());
                    }
                    self.save(&p.session_id);
                    self.error(format!("Transcription failed: {error}"));
                }
            }
        }
    }

    fn set_transcript(&mut self, session_id: &str, answer: usize, transcript: Transcript) {
        let Some(a) = self.session_mut(session_id).and_then(|s| s.answers.get_mut(answer)) else { return };
        a.transcript = Some(transcript.clone());
        a.transcription_error = None;
        let question_id = a.question_id.clone();
        self.save(session_id);
        // Feedback needs the audio: read and analyse it off the UI thread.
        let wav_path = self.answer_wav(session_id, answer);
        let question = self.library.question(&question_id).map(|q| q.question.clone());
        let config = analysis::Config::from(&self.settings);
        let tx = self.jobs_tx.clone();
        let ctx = self.ctx.clone();
        let session_id = session_id.to_owned();
        let generation = {
            let g = self.generations.entry((session_id.clone(), answer)).or_insert(0);
            *g += 1;
            *g
        };
        self.running_jobs += 1;
        std::thread::spawn(move || {
            let result = (|| -> Result<Feedback, String> {
                let audio = match wav_path {
                    Some(path) => {
                        let (samples, rate) = wav::read_mono(&path).map_err(|e| e.to_string())?;
                        Some(resample::resample_clip(&samples, rate).map_err(|e| e.to_string())?)
                    }
                    None => None,
                };
                let context = question.as_ref().map(analysis::QuestionContext::of);
                Ok(analysis::analyze(&transcript, audio.as_deref(), context, &config))
            })();
            let _ = tx.send(JobDone::Feedback { session_id, answer, generation, result: result.map(Box::new) });
            ctx.request_repaint();
        });
    }

    /// Saves the settings now (small file; reported on failure).
    pub fn save_settings(&mut self) {
        if let Err(err) = self.settings.save(&self.data) {
            self.error(err);
        }
    }

    /// At exit: waits for queued saves and analyses, saving what arrives.
    pub fn flush(&mut self) {
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while self.running_jobs > 0 && Instant::now() < deadline {
            let Ok(done) = self.jobs_rx.recv_timeout(std::time::Duration::from_millis(50)) else { continue };
            self.running_jobs = self.running_jobs.saturating_sub(1);
            match done {
                JobDone::Saved { session_id, result: Err(err) } => {
                    log::error!("could not save session {session_id}: {err}")
                }
                JobDone::Feedback { session_id, answer, result: Ok(feedback), .. } => {
                    if let Some(a) = self.session_mut(&session_id).and_then(|s| s.answers.get_mut(answer)) {
                        a.feedback = Some(*feedback);
                    }
                    // Through the saver, after the saves queued before it.
                    self.save(&session_id);
                }
                _ => {}
            }
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

/// DejaVu Sans as the last fallback: the scripts use arrows and symbols
/// (→ ≈ ≥) that egui's default font lacks, and the app must draw them on
/// any machine.
fn install_fallback_font(ctx: &egui::Context) {
    use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
    let data = egui::FontData::from_static(include_bytes!("../../assets/fonts/DejaVuSans.ttf"));
    let families = [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
        .into_iter()
        .map(|family| InsertFontFamily { family, priority: FontPriority::Lowest })
        .collect();
    ctx.add_font(FontInsert::new("DejaVuSans", data, families));
}

/// Work for the saver thread.
pub enum SaverJob {
    Save(Box<Session>),
    Delete(String),
}

/// One thread writes session files, in order, so a newer state is never
/// overtaken by an older one, and a deleted session is not saved again.
fn spawn_saver(store: Store, ctx: egui::Context) -> Sender<(SaverJob, Sender<JobDone>)> {
    let (tx, rx) = mpsc::channel::<(SaverJob, Sender<JobDone>)>();
    std::thread::Builder::new()
        .name("saver".into())
        .spawn(move || {
            let mut deleted = std::collections::HashSet::new();
            while let Ok((job, reply)) = rx.recv() {
                let done = match job {
                    SaverJob::Save(session) if deleted.contains(&session.id) => {
                        JobDone::Saved { session_id: session.id.clone(), result: Ok(()) }
                    }
                    SaverJob::Save(session) => {
                        let result = store.save(&session).map_err(|e| e.to_string());
                        JobDone::Saved { session_id: session.id.clone(), result }
                    }
                    SaverJob::Delete(session_id) => {
                        let result = store.delete(&session_id).map_err(|e| e.to_string());
                        deleted.insert(session_id.clone());
                        JobDone::Deleted { session_id, result }
                    }
                };
                let _ = reply.send(done);
                ctx.request_repaint();
            }
        })
        .ok();
    tx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Mode;

    #[test]
    fn sessions_started_while_loading_win_over_their_older_saves() {
        let at = |day: u32| chrono::Utc::now() - chrono::Duration::days(i64::from(day));
        let old = Session::new("phone-screen", None, Mode::Solo, at(3));
        let gone = Session::new("behavioral", None, Mode::Solo, at(2));
        let mut current = Session::new("system-design", None, Mode::Solo, at(0));
        // The loader read the new session's first save, without its answer.
        let first_save = current.clone();
        current.answers.push(crate::store::Answer::new("system-design/a/b".into(), 60, at(0)));
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
