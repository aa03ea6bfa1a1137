//! Practice: one question at a time with its clock against the question and
//! stage budgets; Space records and stops; a live transcript while speaking.
//! The strong answer, listen-for and red flags stay hidden until the answer
//! is recorded. Peer mode shows the interviewer's view.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use eframe::egui::{self, Key, RichText};

use super::review::AnswerPanel;
use super::widgets::{self, BAD, WARN, rich_line};
use super::{Core, Navigate};
use crate::audio::capture::{CaptureEvent, Level, RecordOptions, Recorder};
use crate::content::{QuestionKind, QuestionRef, question_id};
use crate::store::{Mode, Session, takes};
use crate::transcribe::service::{Command, TakeKey};

struct LiveTake {
    recorder: Recorder,
    key: TakeKey,
    answer: usize,
    /// Set when the first audio arrives: the clock starts then.
    started: Option<Instant>,
    elapsed_s: f64,
    level: Option<Level>,
    stopping: bool,
}

pub struct Practice {
    session_id: String,
    mode: Mode,
    plan: Vec<String>,
    index: usize,
    take: Option<LiveTake>,
    panel: AnswerPanel,
    /// Shown with the question, so a stopped take can say when time ran out.
    scratchpad: String,
    ticks: Vec<bool>,
    confirm_finish: bool,
}

impl Practice {
    /// A new session over a whole mock, or one of its stages.
    pub fn start(core: &mut Core, mock_id: &str, stage_id: Option<&str>, mode: Mode) -> Result<Practice> {
        let mock = core.library.mock(mock_id).with_context(|| format!("no mock \"{mock_id}\""))?;
        let plan: Vec<String> = mock
            .stages
            .iter()
            .filter(|s| stage_id.is_none_or(|id| s.id == id))
            .flat_map(|s| s.questions.iter().map(move |q| question_id(&mock.id, &s.id, &q.id)))
            .collect();
        if plan.is_empty() {
            bail!("nothing to practise in {mock_id}/{}", stage_id.unwrap_or_default());
        }
        let mut session = Session::new(mock_id, stage_id, mode, chrono::Utc::now());
        core.store.make_unique(&mut session);
        while core.session(&session.id).is_some() {
            session.id.push('+');
        }
        let session_id = session.id.clone();
        core.put_session(session);
        let mut practice = Practice {
            session_id,
            mode,
            plan,
            index: 0,
            take: None,
            panel: AnswerPanel::default(),
            scratchpad: String::new(),
            ticks: Vec::new(),
            confirm_finish: false,
        };
        practice.enter_question(core);
        Ok(practice)
    }

    pub fn is_live(&self) -> bool {
        self.take.is_some()
    }

    fn question<'a>(&self, core: &'a Core) -> Option<QuestionRef<'a>> {
        core.library.question(self.plan.get(self.index)?)
    }

    /// The latest answer to the current question in this session.
    fn answer_index(&self, core: &Core) -> Option<usize> {
        let qid = self.plan.get(self.index)?;
        core.session(&self.session_id)?.answers.iter().rposition(|a| &a.question_id == qid)
    }

    fn enter_question(&mut self, core: &Core) {
        let listen = self.question(core).map_or(0, |q| q.question.listen_for.len() + q.stage.listen_for.len());
        let answer = self.answer_index(core).and_then(|i| core.session(&self.session_id)?.answers.get(i));
        self.scratchpad = answer.and_then(|a| a.scratchpad.clone()).unwrap_or_default();
        self.ticks = vec![false; listen];
        if let Some(a) = answer {
            for &i in &a.listen_for_ticks {
                if let Some(t) = self.ticks.get_mut(i) {
                    *t = true;
                }
            }
        }
        self.panel = AnswerPanel::default();
    }

    fn go_to(&mut self, core: &mut Core, index: usize) {
        if self.take.is_some() || index >= self.plan.len() {
            return;
        }
        self.keep_scratchpad(core);
        self.index = index;
        self.enter_question(core);
    }

    fn keep_scratchpad(&mut self, core: &mut Core) {
        if let Some(i) = self.answer_index(core) {
            let pad = (!self.scratchpad.trim().is_empty()).then(|| self.scratchpad.clone());
            let ticks: Vec<usize> = self.ticks.iter().enumerate().filter(|(_, t)| **t).map(|(i, _)| i).collect();
            if let Some(a) = core.session_mut(&self.session_id).and_then(|s| s.answers.get_mut(i))
                && (a.scratchpad != pad || a.listen_for_ticks != ticks)
            {
                a.scratchpad = pad;
                a.listen_for_ticks = ticks;
                core.save(&self.session_id);
            }
        }
    }

    /// Starts recording an answer to the current question.
    pub fn start_recording(&mut self, core: &mut Core) {
        if self.take.is_some() {
            return;
        }
        let Some(q) = self.question(core) else { return };
        let (qid, budget) = (q.full_id(), q.question.budget_s);
        let store = core.store.clone();
        let Some(session) = core.session_mut(&self.session_id) else { return };
        let planned = takes::new_answer(&store, session, &qid, budget, chrono::Utc::now());
        let (answer, wav_path, marker) = match planned {
            Ok(planned) => planned,
            Err(err) => return core.error(format!("Cannot start recording: {err}")),
        };
        core.save(&self.session_id);
        let key = core.new_take_key();
        let ctx = core.ctx.clone();
        let recorder = Recorder::start(
            RecordOptions {
                device: core.settings.input_device.clone(),
                out: wav_path,
                marker,
                max_seconds: None,
                stream_audio: true,
            },
            Arc::new(move || ctx.request_repaint()),
        );
        self.take =
            Some(LiveTake { recorder, key, answer, started: None, elapsed_s: 0.0, level: None, stopping: false });
        self.panel = AnswerPanel::default();
    }

    pub fn stop_recording(&mut self) {
        if let Some(take) = &mut self.take {
            take.stopping = true;
            take.recorder.stop();
        }
    }

    /// Applies the recorder's events.
    pub fn poll(&mut self, core: &mut Core) {
        let Some(take) = self.take.as_mut() else { return };
        let mut finished = None;
        // `Finished` is the recorder's last word (its thread ends right after,
        // closing the channel): stop reading there.
        while finished.is_none() {
            let event = match take.recorder.events.try_recv() {
                Ok(event) => event,
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                // The recorder thread is gone without a word: close the take.
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    let reason = "the recorder stopped unexpectedly; the take was kept up to that moment";
                    finished = Some((None, Some(reason.to_owned())));
                    break;
                }
            };
            match event {
                CaptureEvent::Started { .. } => take.started = Some(Instant::now()),
                CaptureEvent::Level(level) => {
                    take.elapsed_s = level.elapsed_s;
                    take.level = Some(level);
                }
                CaptureEvent::Audio(samples) => core.transcriber.send(Command::StreamAudio { key: take.key, samples }),
                CaptureEvent::Finished(Ok(t)) => finished = Some((Some(t.duration_s), t.dropped_warning())),
                CaptureEvent::Finished(Err((t, e))) => finished = Some((Some(t.duration_s), Some(e.to_string()))),
                CaptureEvent::FailedToStart(err) => {
                    self.abandon_take(core, &format!("Cannot record: {err}"));
                    return;
                }
            }
        }
        if let Some((duration, error)) = finished {
            self.close_take(core, duration, error);
        }
    }

    /// The take never started: its answer goes, with the reason shown.
    fn abandon_take(&mut self, core: &mut Core, message: &str) {
        let Some(take) = self.take.take() else { return };
        if let Some(session) = core.session_mut(&self.session_id)
            && take.answer < session.answers.len()
        {
            session.answers.remove(take.answer);
        }
        core.save(&self.session_id);
        core.transcriber.send(Command::Forget { key: take.key });
        core.error(message);
    }

    /// The take is on disk: record its length and why it stopped, save, and
    /// let the transcriber finish (it falls back to the WAV if a chunk failed).
    fn close_take(&mut self, core: &mut Core, duration_s: Option<f64>, error: Option<String>) {
        let Some(take) = self.take.take() else { return };
        let (key, answer) = (take.key, take.answer);
        let duration_s = duration_s.unwrap_or(take.elapsed_s);
        let pad = (!self.scratchpad.trim().is_empty()).then(|| self.scratchpad.clone());
        if let Some(a) = core.session_mut(&self.session_id).and_then(|s| s.answers.get_mut(answer)) {
            a.set_duration(duration_s);
            a.stopped_at = Some(chrono::Utc::now());
            a.capture_error = error.clone();
            a.scratchpad = pad;
        }
        core.save(&self.session_id);
        if let Some(err) = error {
            core.error(err);
        }
        let wav = core.answer_wav(&self.session_id, answer);
        core.expect_transcript(key, &self.session_id, answer);
        core.transcriber.send(Command::StreamEnd { key, duration_s, wav });
    }

    /// Leaving the screen: a take in progress is stopped and kept (waiting
    /// briefly for the recorder to close it) and transcribed in the background.
    pub fn leave(&mut self, core: &mut Core) {
        if let Some(take) = &self.take {
            take.recorder.stop();
            let deadline = Instant::now() + std::time::Duration::from_secs(2);
            while self.take.is_some() && Instant::now() < deadline {
                self.poll(core);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            // Still not closed: keep what was recorded; the start-up repair
            // fixes the header if the recorder never finishes.
            if self.take.is_some() {
                self.close_take(core, None, None);
            }
        }
        self.keep_scratchpad(core);
        core.save(&self.session_id);
    }

    fn finish(&mut self, core: &mut Core) -> Option<Navigate> {
        self.keep_scratchpad(core);
        if let Some(session) = core.session_mut(&self.session_id) {
            session.ended_at = Some(chrono::Utc::now());
        }
        core.save(&self.session_id);
        Some(Navigate::Review { session_id: self.session_id.clone(), answer: None })
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Core) -> Option<Navigate> {
        let Some(q) = self.question(core) else { return Some(Navigate::Home) };
        // Owned copies: the frame also changes `core` (saves, recording).
        let (mock_id, mock_title, mock_prompt) = (q.mock.id.clone(), q.mock.title.clone(), q.mock.prompt.clone());
        let (stage, question) = (q.stage.clone(), q.question.clone());
        let live = self.take.is_some();
        let answer_index = self.answer_index(core);
        let recorded = answer_index.is_some() && !live;

        // Keyboard first: Space records/stops, N/P or arrows move. Only a
        // fresh press without modifiers: holding Space repeats the key, and
        // must not start and stop takes.
        let typing = ui.ctx().egui_wants_keyboard_input();
        let (space, next, prev) = ui.input(|i| {
            let pressed = |key: Key| {
                i.events.iter().any(|e| matches!(e, egui::Event::Key { key: k, pressed: true, repeat: false, modifiers, .. } if *k == key && modifiers.is_none()))
            };
            (pressed(Key::Space), pressed(Key::N) || pressed(Key::ArrowRight), pressed(Key::P) || pressed(Key::ArrowLeft))
        });
        let mut action: Option<&str> = None;
        if !typing {
            if space {
                action = Some(if live { "stop" } else { "record" });
            } else if next {
                action = Some("next");
            } else if prev {
                action = Some("back");
            }
        }

        // Clocks: this answer, and the stage (answers so far in this session).
        let elapsed = self.take.as_ref().map_or_else(
            || {
                answer_index
                    .and_then(|i| core.session(&self.session_id)?.answers.get(i).map(|a| a.duration_s))
                    .unwrap_or(0.0)
            },
            |t| t.elapsed_s,
        );
        let stage_prefix = format!("{}/{}/", mock_id, stage.id);
        let stage_spent: f64 = core
            .session(&self.session_id)
            .map(|s| {
                let mut latest: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
                for a in s.answers.iter().filter(|a| a.question_id.starts_with(&stage_prefix)) {
                    latest.insert(&a.question_id, a.duration_s);
                }
                latest.values().sum::<f64>()
            })
            .unwrap_or(0.0)
            + if live { elapsed } else { 0.0 };
        let over = elapsed > f64::from(question.budget_s);

        ui.horizontal(|ui| {
            ui.label(RichText::new(&mock_title).strong());
            ui.label("·");
            ui.label(RichText::new(&stage.title).strong());
            ui.label(RichText::new(format!("question {} of {}", self.index + 1, self.plan.len())).weak());
            ui.label(
                RichText::new(format!(
                    "{} · {}",
                    question.kind.label(),
                    if self.mode == Mode::Peer { "peer" } else { "solo" }
                ))
                .weak(),
            );
        });
        widgets::budget_bar(ui, "This question", elapsed, f64::from(question.budget_s));
        widgets::budget_bar(ui, &format!("Stage ({})", stage.title), stage_spent, f64::from(stage.budget_s()));
        if live && over {
            let text = if self.mode == Mode::Peer {
                "STOP NOW — the time budget is up"
            } else {
                "Time is up — land the answer now"
            };
            ui.label(RichText::new(text).heading().color(BAD));
        } else if live && elapsed > f64::from(question.budget_s) * 0.8 {
            ui.label(RichText::new("Less than 20% of the budget left").color(WARN));
        }

        let mut go = None;
        egui::ScrollArea::vertical().auto_shrink([false; 2]).show(ui, |ui| {
            if let (Some(prompt), 0) = (&mock_prompt, self.index) {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.label(RichText::new("The problem").strong());
                    rich_line(ui, prompt);
                });
            }
            for note in &stage.notes {
                ui.label(RichText::new(note).italics().weak());
            }
            ui.add_space(4.0);
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(RichText::new(&question.prompt).size(20.0));
            });
            for note in &question.notes {
                ui.label(RichText::new(note).italics().weak());
            }
            // The interviewer's view: probes and silent listen-for ticks.
            if self.mode == Mode::Peer {
                widgets::probes(ui, "Probes (interviewer)", &question.probes, false);
                widgets::probes(ui, "Stage probes (interviewer)", &stage.probes, false);
                let items: Vec<&String> = question.listen_for.iter().chain(&stage.listen_for).collect();
                if !items.is_empty() {
                    ui.label(RichText::new("Listen for (tick silently)").strong());
                    let mut changed = false;
                    for (i, item) in items.iter().enumerate() {
                        if let Some(tick) = self.ticks.get_mut(i) {
                            changed |= ui.checkbox(tick, item.as_str()).changed();
                        }
                    }
                    if changed {
                        self.keep_scratchpad(core);
                    }
                }
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let label = if live {
                    "Stop (Space)"
                } else if recorded {
                    "Record again (Space)"
                } else {
                    "Record answer (Space)"
                };
                let button = egui::Button::new(RichText::new(label).size(18.0));
                if ui.add(button).clicked() {
                    action = Some(if live { "stop" } else { "record" });
                }
                if let Some(take) = &self.take {
                    if take.started.is_none() {
                        ui.spinner();
                        ui.label("starting the microphone…");
                    } else {
                        ui.label(
                            RichText::new(format!("Recording {}", crate::analysis::clock(take.elapsed_s))).color(BAD),
                        );
                        widgets::level_meter(ui, take.level.as_ref());
                    }
                }
            });
            if let Some(take) = &self.take
                && let Some(text) = core.live_text.get(&take.key)
            {
                ui.label(RichText::new("Live transcript").strong());
                ui.label(RichText::new(text).italics());
            }
            if question.kind == QuestionKind::Coding {
                let label = ui.label(RichText::new("Scratchpad (saved with the answer)").strong());
                ui.add(
                    egui::TextEdit::multiline(&mut self.scratchpad)
                        .code_editor()
                        .desired_rows(10)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            }
            if question.kind == QuestionKind::CandidateQuestions {
                ui.label(
                    RichText::new("Ask your questions aloud: they are recorded and transcribed like an answer.").weak(),
                );
            }

            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.add_enabled(self.index > 0 && !live, egui::Button::new("← Back (P)")).clicked() {
                    action = Some("back");
                }
                let last = self.index + 1 == self.plan.len();
                let next_label = if recorded { "Next → (N)" } else { "Skip → (N)" };
                if !last && ui.add_enabled(!live, egui::Button::new(next_label)).clicked() {
                    action = Some("next");
                }
                if ui.add_enabled(!live, egui::Button::new("Finish and reflect")).clicked() {
                    if last || self.confirm_finish {
                        go = self.finish(core);
                    } else {
                        self.confirm_finish = true;
                    }
                }
                if self.confirm_finish && !last {
                    ui.colored_label(WARN, "Questions remain: click Finish again to end here.");
                }
            });
            ui.label(RichText::new("Shortcuts: Space record/stop · N or → next · P or ← back").weak().small());

            // After the answer: reveal the notes and the review.
            if let (true, Some(answer)) = (recorded, answer_index) {
                ui.separator();
                let session_id = self.session_id.clone();
                self.panel.ui(ui, core, &session_id, answer);
            } else if !live {
                ui.separator();
                ui.label(
                    RichText::new(
                        "The strong answer, listen-for notes and red flags appear after you record your answer.",
                    )
                    .weak(),
                );
            }
        });

        match action {
            Some("record") => self.start_recording(core),
            Some("stop") => self.stop_recording(),
            Some("next") if !live && self.index + 1 < self.plan.len() => {
                let i = self.index + 1;
                self.go_to(core, i);
            }
            Some("back") if !live && self.index > 0 => {
                let i = self.index - 1;
                self.go_to(core, i);
            }
            _ => {}
        }
        go
    }
}
