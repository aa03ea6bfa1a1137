//! One practice session, question by question: the controller the practice
//! screen and `record --question` drive with commands. Its take goes
//! through explicit states (idle, starting, recording, finishing,
//! transcribing, analysed, failed); the recorder feeds the streaming
//! transcriber on its own thread, the answer thread analyses the transcript
//! as soon as it is in, and the coach saves every step.

use std::sync::mpsc::{Sender, TryRecvError};
use std::time::Instant;

use super::Coach;
use crate::analysis::follow_up::{self, ProbeChoice};
use crate::audio::capture::{CaptureEvent, Level, RecordOptions, Recorder, Source, Take, TakeSink};
use crate::content::{Probe, QuestionRef, question_id};
use crate::store::{FollowUp, Level as Grade, Mode, Session, StoreError, takes};
use crate::transcribe::service::{Command, TakeKey};

#[derive(Debug, thiserror::Error)]
pub enum PracticeError {
    #[error("no mock \"{0}\"; see `interview-coach content list`")]
    NoMock(String),
    #[error("no question \"{0}\"; see `interview-coach content list`")]
    NoQuestion(String),
    #[error("nothing to practise in {0}")]
    Empty(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the current question's answer is.
#[derive(Debug, Clone, PartialEq)]
pub enum TakeState {
    /// Not answered yet in this session.
    Idle,
    /// The microphone is opening; the clock has not started.
    Starting,
    Recording,
    /// Stop was pressed; the recorder is closing the take.
    Finishing,
    /// Recorded; the transcript (and then the feedback) is being made.
    Transcribing,
    /// Recorded, and not transcribed (no transcription was asked for).
    Recorded,
    /// Transcribed and analysed: the review can show everything.
    Analysed,
    /// Transcription failed (the take is kept and can be transcribed again).
    Failed(String),
}

/// What the user (or the CLI) asks the controller to do.
#[derive(Debug, Clone, PartialEq)]
pub enum PracticeCommand {
    /// Space: start a take, or stop the one being recorded.
    Toggle,
    Start,
    Stop,
    Next,
    Back,
    GoTo(usize),
    /// End the session (it is marked ended and saved).
    Finish,
    /// Record the answer to the follow-up on offer.
    FollowUp,
    /// Pass over the follow-up on offer for the next one; with none on offer
    /// (one was answered), ask one more.
    AnotherFollowUp,
    /// No follow-up after this answer.
    NoFollowUp,
    /// Coding questions: the candidate's scratchpad, kept with the answer.
    Scratchpad(String),
    /// Peer mode: the listen-for items the interviewer ticked.
    Ticks(Vec<bool>),
    Grade {
        signal: String,
        level: Option<Grade>,
    },
    Note(String),
}

/// What happened, for whoever drives the controller (the CLI prints these;
/// the app reads the state instead).
#[derive(Debug, Clone, PartialEq)]
pub enum PracticeEvent {
    Started {
        device: String,
        sample_rate: u32,
        channels: u16,
        format: String,
    },
    /// The take is closed and saved (with the reason, if it stopped early).
    Recorded {
        answer_id: String,
        duration_s: f64,
        error: Option<String>,
        warning: Option<String>,
    },
    /// The take could not start; its answer was removed.
    FailedToStart(String),
}

/// Longer on screen than this before Record is not thinking time (the
/// window was left open): it is kept as this.
const MAX_QUESTION_SHOWN_S: f64 = 300.0;

/// The follow-up probe the app asks (solo) or would ask (peer), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpOffer {
    pub choice: ProbeChoice,
    pub probe: Probe,
}

impl FollowUpOffer {
    pub fn budget_s(&self) -> u32 {
        self.probe.budget_s()
    }
}

/// What the user said about follow-ups after one answer.
#[derive(Debug, Clone, Default)]
struct FollowUpState {
    /// Probes passed over ("another one").
    passed: Vec<usize>,
    /// How many follow-ups were asked for ("one more" adds one).
    extra: usize,
    declined: bool,
}

/// A take being recorded.
pub struct LiveTake {
    recorder: Recorder,
    key: TakeKey,
    session_id: String,
    answer_id: String,
    /// Set when the first audio arrives: the clock starts then.
    started: Option<Instant>,
    elapsed_s: f64,
    level: Option<Level>,
    stopping: bool,
    transcribe: bool,
    budget_s: u32,
    follow_up: Option<FollowUp>,
}

impl LiveTake {
    pub fn budget_s(&self) -> u32 {
        self.budget_s
    }
    /// Set when this take answers a follow-up probe.
    pub fn follow_up(&self) -> Option<&FollowUp> {
        self.follow_up.as_ref()
    }
    pub fn key(&self) -> TakeKey {
        self.key
    }
    pub fn elapsed_s(&self) -> f64 {
        self.elapsed_s
    }
    pub fn level(&self) -> Option<&Level> {
        self.level.as_ref()
    }

    /// Applies the recorder's events; `true` once the take is closed.
    pub(crate) fn poll(&mut self, coach: &mut Coach, events: &mut Vec<PracticeEvent>) -> bool {
        loop {
            // `Finished` is the recorder's last word (its thread ends right
            // after, closing the channel): stop reading there.
            let event = match self.recorder.events.try_recv() {
                Ok(event) => event,
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => {
                    let reason = "the recorder stopped unexpectedly; the take was kept up to that moment";
                    // The sink may not have closed the stream: do it here.
                    if self.transcribe {
                        let wav = coach.answer_wav(&self.session_id, &self.answer_id);
                        coach.transcriber().send(Command::StreamEnd { key: self.key, duration_s: self.elapsed_s, wav });
                    }
                    self.close(coach, self.elapsed_s, Some(reason.to_owned()), None, events);
                    return true;
                }
            };
            match event {
                CaptureEvent::Started { device, sample_rate, channels, format } => {
                    self.started = Some(Instant::now());
                    events.push(PracticeEvent::Started { device, sample_rate, channels, format });
                }
                CaptureEvent::Level(level) => {
                    self.elapsed_s = level.elapsed_s;
                    self.level = Some(level);
                }
                CaptureEvent::Finished(Ok(take)) => {
                    self.close(coach, take.duration_s, None, take.dropped_warning(), events);
                    return true;
                }
                CaptureEvent::Finished(Err((take, err))) if self.started.is_some() || take.duration_s > 0.0 => {
                    self.close(coach, take.duration_s, Some(err.to_string()), take.dropped_warning(), events);
                    return true;
                }
                // A device that opened but never sent audio: nothing was
                // recorded, so nothing is kept (its empty file goes too).
                CaptureEvent::Finished(Err((take, err))) => {
                    let _ = std::fs::remove_file(&take.path);
                    self.abandon(coach, &err.to_string(), events);
                    return true;
                }
                CaptureEvent::FailedToStart(err) => {
                    self.abandon(coach, &err.to_string(), events);
                    return true;
                }
            }
        }
    }

    /// The take never started: its answer goes, with the reason shown.
    fn abandon(&mut self, coach: &mut Coach, reason: &str, events: &mut Vec<PracticeEvent>) {
        let answer_id = self.answer_id.clone();
        coach.edit_session(&self.session_id, |s| s.answers.retain(|a| a.id != answer_id));
        coach.forget_take(self.key);
        let message = format!("Cannot record: {reason}");
        coach.error(&message);
        events.push(PracticeEvent::FailedToStart(message));
    }

    /// The take is on disk: its length and why it stopped are saved.
    fn close(
        &mut self,
        coach: &mut Coach,
        duration_s: f64,
        error: Option<String>,
        warning: Option<String>,
        events: &mut Vec<PracticeEvent>,
    ) {
        let answer_id = self.answer_id.clone();
        coach.edit_session(&self.session_id, |s| {
            if let Some(a) = s.answer_mut(&answer_id) {
                a.set_duration(duration_s);
                a.stopped_at = Some(chrono::Utc::now());
                a.capture_error = error.clone();
            }
        });
        if let Some(err) = &error {
            coach.error(err);
        }
        if let Some(warning) = &warning {
            coach.error(warning);
        }
        events.push(PracticeEvent::Recorded { answer_id, duration_s, error, warning });
    }
}

/// A new session, saved, with an id unique on disk and in memory (two
/// started in the same second).
fn new_session(coach: &mut Coach, mock_id: &str, stage_id: Option<&str>, mode: Mode) -> String {
    let mut session = Session::new(mock_id, stage_id, mode, chrono::Utc::now());
    coach.store().make_unique(&mut session);
    while coach.session(&session.id).is_some() {
        session.id.push('+');
    }
    let id = session.id.clone();
    coach.put_session(session);
    id
}

/// Streams a take's audio to the transcriber from the recorder's thread.
struct StreamToTranscriber {
    key: TakeKey,
    commands: Sender<Command>,
}

impl TakeSink for StreamToTranscriber {
    fn audio(&mut self, samples: &[f32]) {
        let _ = self.commands.send(Command::StreamAudio { key: self.key, samples: samples.to_vec() });
    }
    fn finished(&mut self, take: &Take) {
        let end = Command::StreamEnd { key: self.key, duration_s: take.duration_s, wav: Some(take.path.clone()) };
        let _ = self.commands.send(end);
    }
}

/// How takes are recorded.
#[derive(Debug, Clone)]
pub struct TakeOptions {
    pub source: Source,
    /// Stop by itself after this long (the CLI's `--seconds`).
    pub max_seconds: Option<f64>,
    /// Transcribe and analyse each take (the CLI can record only).
    pub transcribe: bool,
}

impl Default for TakeOptions {
    fn default() -> TakeOptions {
        TakeOptions { source: Source::Device(None), max_seconds: None, transcribe: true }
    }
}

pub struct Practice {
    session_id: String,
    mode: Mode,
    plan: Vec<String>,
    index: usize,
    take: Option<LiveTake>,
    scratchpad: String,
    ticks: Vec<bool>,
    options: TakeOptions,
    /// When the current question appeared, until its first take starts.
    shown_at: Option<Instant>,
    /// What the user said about follow-ups, by the answer they follow.
    follow_ups: std::collections::HashMap<String, FollowUpState>,
    /// Events from commands (a take that could not even be set up), for `poll`.
    events: Vec<PracticeEvent>,
}

impl Practice {
    /// A new session over a whole mock, or one of its stages.
    pub fn start(
        coach: &mut Coach,
        mock_id: &str,
        stage_id: Option<&str>,
        mode: Mode,
    ) -> Result<Practice, PracticeError> {
        let mock = coach.library.mock(mock_id).ok_or_else(|| PracticeError::NoMock(mock_id.to_owned()))?;
        let plan: Vec<String> = mock
            .stages
            .iter()
            .filter(|s| stage_id.is_none_or(|id| s.id == id))
            .flat_map(|s| s.questions.iter().map(move |q| question_id(&mock.id, &s.id, &q.id)))
            .collect();
        if plan.is_empty() {
            return Err(PracticeError::Empty(format!("{mock_id}/{}", stage_id.unwrap_or_default())));
        }
        let session_id = new_session(coach, mock_id, stage_id, mode);
        Ok(Practice::over(coach, session_id, mode, plan))
    }

    /// A new session over chosen questions (those due today), in order.
    pub fn start_plan(coach: &mut Coach, plan: Vec<String>, mode: Mode) -> Result<Practice, PracticeError> {
        // Questions no longer in the content are left out.
        let plan: Vec<String> = plan.into_iter().filter(|id| coach.library.question(id).is_some()).collect();
        let first = plan.first().ok_or_else(|| PracticeError::Empty("the plan".into()))?;
        let q = coach.library.question(first).ok_or_else(|| PracticeError::NoQuestion(first.clone()))?;
        let mock_id = q.mock.id.clone();
        let session_id = new_session(coach, &mock_id, None, mode);
        Ok(Practice::over(coach, session_id, mode, plan))
    }

    /// One question, in an existing session or a new one (`record --question`).
    pub fn single(coach: &mut Coach, question: &str, session_id: Option<&str>) -> Result<Practice, PracticeError> {
        let q = coach.library.question(question).ok_or_else(|| PracticeError::NoQuestion(question.to_owned()))?;
        let mock_id = q.mock.id.clone();
        let session_id = match session_id {
            Some(id) => match coach.session(id) {
                Some(session) => session.id.clone(),
                // Not read yet (or made by another program since): from disk.
                None => {
                    let session = coach.store().load(id)?;
                    let id = session.id.clone();
                    coach.hold_loaded(session);
                    id
                }
            },
            None => new_session(coach, &mock_id, None, Mode::Solo),
        };
        Ok(Practice::over(coach, session_id, Mode::Solo, vec![question.to_owned()]))
    }

    fn over(coach: &Coach, session_id: String, mode: Mode, plan: Vec<String>) -> Practice {
        let source = Source::Device(coach.settings.input_device.clone());
        let mut practice = Practice {
            session_id,
            mode,
            plan,
            index: 0,
            take: None,
            scratchpad: String::new(),
            ticks: Vec::new(),
            options: TakeOptions { source, ..TakeOptions::default() },
            follow_ups: std::collections::HashMap::new(),
            shown_at: None,
            events: Vec::new(),
        };
        practice.enter_question(coach);
        practice
    }

    pub fn set_options(&mut self, options: TakeOptions) {
        self.options = options;
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }
    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn index(&self) -> usize {
        self.index
    }
    pub fn len(&self) -> usize {
        self.plan.len()
    }
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty()
    }
    pub fn is_last(&self) -> bool {
        self.index + 1 == self.plan.len()
    }
    pub fn take(&self) -> Option<&LiveTake> {
        self.take.as_ref()
    }
    pub fn is_live(&self) -> bool {
        self.take.is_some()
    }
    pub fn scratchpad(&self) -> &str {
        &self.scratchpad
    }
    pub fn ticks(&self) -> &[bool] {
        &self.ticks
    }

    pub fn question<'a>(&self, coach: &'a Coach) -> Option<QuestionRef<'a>> {
        coach.library.question(self.plan.get(self.index)?)
    }

    /// The latest answer to the current question in this session.
    pub fn answer_id(&self, coach: &Coach) -> Option<String> {
        let qid = self.plan.get(self.index)?;
        let session = coach.session(&self.session_id)?;
        session.answers.iter().rev().find(|a| &a.question_id == qid && a.is_main_take()).map(|a| a.id.clone())
    }

    pub fn state(&self, coach: &Coach) -> TakeState {
        if let Some(take) = &self.take {
            return if take.stopping {
                TakeState::Finishing
            } else if take.started.is_none() {
                TakeState::Starting
            } else {
                TakeState::Recording
            };
        }
        let Some(answer_id) = self.answer_id(coach) else { return TakeState::Idle };
        let Some(answer) = coach.session(&self.session_id).and_then(|s| s.answer(&answer_id)) else {
            return TakeState::Idle;
        };
        if coach.is_transcribing(&self.session_id, &answer_id) {
            TakeState::Transcribing
        } else if let Some(err) = &answer.transcription_error {
            TakeState::Failed(err.clone())
        } else if answer.feedback.is_some() {
            TakeState::Analysed
        } else {
            TakeState::Recorded
        }
    }

    /// The answers to follow-ups asked after the current answer, in order.
    pub fn follow_up_ids(&self, coach: &Coach) -> Vec<String> {
        let (Some(answer_id), Some(session)) = (self.answer_id(coach), coach.session(&self.session_id)) else {
            return Vec::new();
        };
        session.follow_ups_of(&answer_id).map(|a| a.id.clone()).collect()
    }

    /// The probe the app picks after the current answer, and why: from the
    /// key points the transcript missed (solo), or those the interviewer has
    /// not ticked (peer, even before the answer ends). Probes already asked
    /// after this answer, or passed over, are not picked again.
    pub fn suggested_follow_up(&self, coach: &Coach) -> Option<FollowUpOffer> {
        let q = self.question(coach)?;
        let probes = follow_up::probes(q.question, q.stage);
        let answer_id = self.answer_id(coach);
        let session = coach.session(&self.session_id)?;
        let answer = answer_id.as_deref().and_then(|id| session.answer(id));
        let missed: Vec<String> = match self.mode {
            Mode::Peer => {
                // The ticks list the listen-for items, then the key points.
                let first = q.question.listen_for.len() + q.stage.listen_for.len();
                let ticked = |i: usize| self.ticks.get(first + i).copied().unwrap_or(false);
                q.question
                    .key_points
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !ticked(*i))
                    .map(|(_, k)| k.name.clone())
                    .collect()
            }
            Mode::Solo => answer?.feedback.as_ref()?.key_points.missed.clone(),
        };
        // Probes are known by their text (the content may have changed since).
        let mut exclude: Vec<usize> = answer_id
            .as_deref()
            .map(|id| {
                session
                    .follow_ups_of(id)
                    .filter_map(|a| a.follow_up.as_ref())
                    .filter_map(|f| follow_up::find(&probes, f.probe, &f.text))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(state) = answer_id.as_ref().and_then(|id| self.follow_ups.get(id)) {
            exclude.extend(&state.passed);
        }
        let choice = follow_up::choose(&probes, &missed, &exclude)?;
        let probe = probes.get(choice.index).map(|p| (*p).clone())?;
        Some(FollowUpOffer { choice, probe })
    }

    /// The follow-up the app asks now (solo mode, follow-ups on, the answer
    /// analysed, and not yet followed up as often as asked).
    pub fn follow_up_offer(&self, coach: &Coach) -> Option<FollowUpOffer> {
        if self.mode != Mode::Solo || !coach.settings.follow_ups || self.take.is_some() {
            return None;
        }
        let answer_id = self.answer_id(coach)?;
        // Not from feedback about to be replaced (the take is transcribed again).
        if coach.is_transcribing(&self.session_id, &answer_id) {
            return None;
        }
        let (declined, extra) = self.follow_ups.get(&answer_id).map_or((false, 0), |s| (s.declined, s.extra));
        let asked = self.follow_up_ids(coach).len();
        if declined || asked > extra {
            return None;
        }
        self.suggested_follow_up(coach)
    }

    /// What the user said about follow-ups after the current answer.
    fn follow_ups_mut(&mut self, coach: &Coach) -> Option<&mut FollowUpState> {
        let answer_id = self.answer_id(coach)?;
        Some(self.follow_ups.entry(answer_id).or_default())
    }

    pub fn handle(&mut self, coach: &mut Coach, command: PracticeCommand) {
        match command {
            PracticeCommand::Toggle if self.take.is_some() => self.stop(),
            PracticeCommand::Toggle | PracticeCommand::FollowUp if self.follow_up_offer(coach).is_some() => {
                self.start_follow_up(coach)
            }
            PracticeCommand::FollowUp => {}
            PracticeCommand::AnotherFollowUp => {
                let offer = self.follow_up_offer(coach);
                let asked = self.follow_up_ids(coach).len();
                if let Some(state) = self.follow_ups_mut(coach) {
                    state.declined = false;
                    match offer {
                        Some(offer) => state.passed.push(offer.choice.index),
                        None => state.extra = asked,
                    }
                }
            }
            PracticeCommand::NoFollowUp => {
                if let Some(state) = self.follow_ups_mut(coach) {
                    state.declined = true;
                }
            }
            PracticeCommand::Toggle | PracticeCommand::Start => self.start_take(coach, None),
            PracticeCommand::Stop => self.stop(),
            PracticeCommand::Next => self.go_to(coach, self.index + 1),
            PracticeCommand::Back => {
                if let Some(i) = self.index.checked_sub(1) {
                    self.go_to(coach, i);
                }
            }
            PracticeCommand::GoTo(i) => self.go_to(coach, i),
            PracticeCommand::Finish => {
                self.keep_scratchpad(coach);
                coach.edit_session(&self.session_id, |s| s.ended_at = Some(chrono::Utc::now()));
            }
            PracticeCommand::Scratchpad(text) => {
                self.scratchpad = text;
                if self.take.is_none() {
                    self.keep_scratchpad(coach);
                }
            }
            PracticeCommand::Ticks(ticks) => {
                self.ticks = ticks;
                self.keep_scratchpad(coach);
            }
            PracticeCommand::Grade { signal, level } => self.edit_answer(coach, |a| match level {
                Some(level) => {
                    a.grades.insert(signal, level);
                }
                None => {
                    a.grades.remove(&signal);
                }
            }),
            PracticeCommand::Note(text) => self.edit_answer(coach, |a| a.notes = text),
        }
    }

    fn edit_answer(&mut self, coach: &mut Coach, change: impl FnOnce(&mut crate::store::Answer)) {
        let Some(answer_id) = self.answer_id(coach) else { return };
        coach.edit_session(&self.session_id, |s| {
            if let Some(a) = s.answer_mut(&answer_id) {
                change(a);
            }
        });
    }

    /// Applies what the recorder reported.
    pub fn poll(&mut self, coach: &mut Coach) -> Vec<PracticeEvent> {
        let mut events = std::mem::take(&mut self.events);
        let Some(take) = self.take.as_mut() else { return events };
        if take.poll(coach, &mut events) {
            self.take = None;
            // Recorded (not abandoned): the next take is a retake.
            if self.answer_id(coach).is_some() {
                self.shown_at = None;
            }
            self.keep_scratchpad(coach);
        }
        events
    }

    fn enter_question(&mut self, coach: &Coach) {
        // Timed from here to the first take, if it is not answered yet.
        self.shown_at = self.answer_id(coach).is_none().then(Instant::now);
        // The interviewer's silent ticks: the listen-for items, then the key points.
        let listen = self
            .question(coach)
            .map_or(0, |q| q.question.listen_for.len() + q.stage.listen_for.len() + q.question.key_points.len());
        let answer = self.answer_id(coach).and_then(|id| coach.session(&self.session_id)?.answer(&id).cloned());
        self.scratchpad = answer.as_ref().and_then(|a| a.scratchpad.clone()).unwrap_or_default();
        self.ticks = vec![false; listen];
        for &i in answer.iter().flat_map(|a| &a.listen_for_ticks) {
            if let Some(t) = self.ticks.get_mut(i) {
                *t = true;
            }
        }
    }

    fn go_to(&mut self, coach: &mut Coach, index: usize) {
        if self.take.is_some() || index >= self.plan.len() || index == self.index {
            return;
        }
        self.keep_scratchpad(coach);
        self.index = index;
        self.enter_question(coach);
    }

    /// Keeps the scratchpad and the ticks with the current answer.
    fn keep_scratchpad(&mut self, coach: &mut Coach) {
        let Some(answer_id) = self.answer_id(coach) else { return };
        let pad = (!self.scratchpad.trim().is_empty()).then(|| self.scratchpad.clone());
        let ticks: Vec<usize> = self.ticks.iter().enumerate().filter(|(_, t)| **t).map(|(i, _)| i).collect();
        let unchanged = coach
            .session(&self.session_id)
            .and_then(|s| s.answer(&answer_id))
            .is_some_and(|a| a.scratchpad == pad && a.listen_for_ticks == ticks);
        if !unchanged {
            self.edit_answer(coach, |a| {
                a.scratchpad = pad;
                a.listen_for_ticks = ticks;
            });
        }
    }

    /// Records the answer to the follow-up on offer.
    fn start_follow_up(&mut self, coach: &mut Coach) {
        let (Some(offer), Some(to)) = (self.follow_up_offer(coach), self.answer_id(coach)) else { return };
        let follow_up =
            FollowUp { to, probe: offer.choice.index, text: offer.probe.text.clone(), missed: offer.choice.missed };
        self.start_take(coach, Some((follow_up, offer.probe.budget_s())));
    }

    /// Starts recording an answer to the current question, or to a
    /// follow-up probe (with its own budget).
    fn start_take(&mut self, coach: &mut Coach, follow_up: Option<(FollowUp, u32)>) {
        if self.take.is_some() {
            return;
        }
        let Some(q) = self.question(coach) else { return };
        let qid = q.full_id();
        let budget = follow_up.as_ref().map_or(q.question.budget_s, |(_, budget)| *budget);
        let follow_up = follow_up.map(|(f, _)| f);
        let Some(mut session) = coach.session(&self.session_id).cloned() else { return };
        let planned =
            takes::new_answer(coach.store(), &mut session, &qid, budget, chrono::Utc::now(), follow_up.clone());
        let (index, wav_path, marker) = match planned {
            Ok(planned) => planned,
            Err(err) => {
                let message = format!("Cannot start recording: {err}");
                coach.error(&message);
                self.events.push(PracticeEvent::FailedToStart(message));
                return;
            }
        };
        // Only the first take after the question appeared: a retake's
        // question has been on screen through the review.
        // (Kept until the take is recorded: a start that fails must not lose it.)
        if follow_up.is_none() {
            session.answers[index].question_shown_s =
                self.shown_at.map(|at| at.elapsed().as_secs_f64().min(MAX_QUESTION_SHOWN_S));
        }
        let answer_id = session.answers[index].id.clone();
        coach.put_session(session);
        let key = coach.new_take_key();
        let transcribe = self.options.transcribe;
        let sink: Option<Box<dyn TakeSink>> = if transcribe {
            coach.expect_transcript(key, &self.session_id, &answer_id);
            Some(Box::new(StreamToTranscriber { key, commands: coach.transcriber().sender() }))
        } else {
            None
        };
        let recorder = Recorder::start(
            RecordOptions {
                source: self.options.source.clone(),
                out: wav_path,
                marker,
                max_seconds: self.options.max_seconds,
                sink,
            },
            coach.notify(),
        );
        self.take = Some(LiveTake {
            recorder,
            key,
            session_id: self.session_id.clone(),
            answer_id,
            started: None,
            elapsed_s: 0.0,
            level: None,
            stopping: false,
            transcribe,
            budget_s: budget,
            follow_up,
        });
    }

    fn stop(&mut self) {
        if let Some(take) = &mut self.take {
            take.stopping = true;
            take.recorder.stop();
        }
    }

    /// Leaving the screen (or the app): a take in progress is stopped and
    /// handed to the coach, which closes and saves it in the background.
    pub fn leave(&mut self, coach: &mut Coach) {
        self.stop();
        if let Some(take) = self.take.take() {
            coach.adopt_take(take);
        }
        self.keep_scratchpad(coach);
    }
}
