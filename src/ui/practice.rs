//! Practice: one question at a time with its clock against the question and
//! stage budgets; Space records and stops; a live transcript while speaking.
//! The strong answer, listen-for and red flags stay hidden until the answer
//! is recorded. Peer mode shows the interviewer's view. A thin view over
//! `pipeline::practice::Practice`: keys and buttons become commands.

use eframe::egui::{self, Key, RichText};

use super::review::AnswerPanel;
use super::widgets::{self, BAD, WARN, rich_line};
use super::{Coach, Navigate};
use crate::analysis::clock;
use crate::content::QuestionKind;
use crate::pipeline::practice::{Practice, PracticeCommand, PracticeError, TakeState};
use crate::store::Mode;

pub struct PracticeScreen {
    practice: Practice,
    panel: AnswerPanel,
    /// One per follow-up answered after the current answer.
    follow_up_panels: Vec<AnswerPanel>,
    /// Edited here, kept with the answer through a command.
    scratchpad: String,
    confirm_finish: bool,
}

impl PracticeScreen {
    /// A new session over a whole mock, or one of its stages.
    pub fn start(
        coach: &mut Coach,
        mock_id: &str,
        stage_id: Option<&str>,
        mode: Mode,
    ) -> Result<PracticeScreen, PracticeError> {
        let practice = Practice::start(coach, mock_id, stage_id, mode)?;
        Ok(PracticeScreen::over(practice))
    }

    /// A new session over chosen questions (those due today).
    pub fn start_plan(coach: &mut Coach, plan: Vec<String>, mode: Mode) -> Result<PracticeScreen, PracticeError> {
        Ok(PracticeScreen::over(Practice::start_plan(coach, plan, mode)?))
    }

    pub fn over(practice: Practice) -> PracticeScreen {
        let scratchpad = practice.scratchpad().to_owned();
        PracticeScreen {
            practice,
            panel: AnswerPanel::default(),
            follow_up_panels: Vec::new(),
            scratchpad,
            confirm_finish: false,
        }
    }

    pub fn is_live(&self) -> bool {
        self.practice.is_live()
    }

    /// Applies the recorder's events (errors become notices in the coach).
    pub fn poll(&mut self, coach: &mut Coach) {
        self.practice.poll(coach);
    }

    pub fn leave(&mut self, coach: &mut Coach) {
        self.send(coach, PracticeCommand::Scratchpad(self.scratchpad.clone()));
        self.practice.leave(coach);
    }

    pub fn on_event(&mut self, event: crate::pipeline::AppEvent) {
        match self.follow_up_panels.iter_mut().find(|p| p.is_for(&event)) {
            Some(panel) => panel.on_event(event),
            None => self.panel.on_event(event),
        }
    }

    fn send(&mut self, coach: &mut Coach, command: PracticeCommand) {
        let moves = matches!(command, PracticeCommand::Next | PracticeCommand::Back | PracticeCommand::GoTo(_));
        let index = self.practice.index();
        self.practice.handle(coach, command);
        if moves && self.practice.index() != index {
            self.scratchpad = self.practice.scratchpad().to_owned();
            self.panel = AnswerPanel::default();
            self.follow_up_panels.clear();
            self.confirm_finish = false;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Coach) -> Option<Navigate> {
        let Some(q) = self.practice.question(core) else { return Some(Navigate::Home) };
        // Owned copies: the frame also changes `core` (saves, recording).
        let (mock_id, mock_title, mock_prompt) = (q.mock.id.clone(), q.mock.title.clone(), q.mock.prompt.clone());
        let (stage, question) = (q.stage.clone(), q.question.clone());
        let session_id = self.practice.session_id().to_owned();
        let (index, count, mode) = (self.practice.index(), self.practice.len(), self.practice.mode());
        let state = self.practice.state(core);
        let live = self.practice.is_live();
        let answer_id = self.practice.answer_id(core);
        let answer_index = answer_id.as_deref().and_then(|id| core.session(&session_id)?.answer_index(id));
        let recorded = answer_index.is_some() && !live;
        let offer = self.practice.follow_up_offer(core);
        let live_follow_up = self.practice.take().and_then(|t| t.follow_up().cloned());
        let follow_up_ids = self.practice.follow_up_ids(core);

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
        let mut command: Option<PracticeCommand> = None;
        if !typing {
            if space {
                command = Some(PracticeCommand::Toggle);
            } else if next && !live {
                command = Some(PracticeCommand::Next);
            } else if prev && !live {
                command = Some(PracticeCommand::Back);
            }
        }

        // Clocks: this answer, and the stage (answers so far in this session).
        let elapsed = self.practice.take().map_or_else(
            || {
                answer_index
                    .and_then(|i| core.session(&session_id)?.answers.get(i).map(|a| a.duration_s))
                    .unwrap_or(0.0)
            },
            |t| t.elapsed_s(),
        );
        let stage_prefix = format!("{}/{}/", mock_id, stage.id);
        let stage_spent: f64 =
            core.session(&session_id).map_or(0.0, |s| s.time_spent_s(&stage_prefix)) + if live { elapsed } else { 0.0 };
        let over = self.practice.take().is_some_and(|t| t.elapsed_s() > f64::from(t.budget_s()));

        ui.horizontal(|ui| {
            ui.label(RichText::new(&mock_title).strong());
            ui.label("·");
            ui.label(RichText::new(&stage.title).strong());
            ui.label(RichText::new(format!("question {} of {count}", index + 1)).weak());
            ui.label(
                RichText::new(format!(
                    "{} · {}",
                    question.kind.label(),
                    if mode == Mode::Peer { "peer" } else { "solo" }
                ))
                .weak(),
            );
        });
        let budget = self.practice.take().map_or(question.budget_s, |t| t.budget_s());
        let clock_label = if live_follow_up.is_some() { "This follow-up" } else { "This question" };
        widgets::budget_bar(ui, clock_label, elapsed, f64::from(budget));
        widgets::budget_bar(ui, &format!("Stage ({})", stage.title), stage_spent, f64::from(stage.budget_s()));
        if live && over {
            let text = if mode == Mode::Peer {
                "STOP NOW — the time budget is up"
            } else {
                "Time is up — land the answer now"
            };
            ui.label(RichText::new(text).heading().color(BAD));
        } else if live && elapsed > f64::from(budget) * 0.8 {
            ui.label(RichText::new("Less than 20% of the budget left").color(WARN));
        }

        let mut go = None;
        egui::ScrollArea::vertical().auto_shrink([false; 2]).show(ui, |ui| {
            if let (Some(prompt), 0) = (&mock_prompt, index) {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.label(RichText::new("The problem").strong());
                    rich_line(ui, prompt);
                });
            }
            for note in &stage.notes {
                ui.label(RichText::new(note).italics().weak());
            }
            ui.add_space(6.0);
            // The page's main line: the question itself.
            ui.label(RichText::new(&question.prompt).size(22.0).strong());
            ui.add_space(4.0);
            for note in &question.notes {
                ui.label(RichText::new(note).italics().weak());
            }
            if let Some(follow_up) = &live_follow_up {
                follow_up_box(ui, "Follow-up", &follow_up.text);
            }
            // The interviewer's view: probes and silent listen-for ticks.
            // The interviewer's view, from the start: what a strong answer
            // covers, the probes and red flags, and silent ticks.
            if mode == Mode::Peer {
                egui::CollapsingHeader::new("Interviewer's notes: strong answer, probes, red flags")
                    .default_open(true)
                    .show(ui, |ui| widgets::interviewer_notes(ui, &stage, &question));
                let listen: Vec<String> = question.listen_for.iter().chain(&stage.listen_for).cloned().collect();
                let points: Vec<String> =
                    question.key_points.iter().map(|k| format!("Key point: {}", k.name)).collect();
                if !listen.is_empty() || !points.is_empty() {
                    ui.label(RichText::new("Listen for (tick silently)").strong());
                    let mut ticks = self.practice.ticks().to_vec();
                    let mut changed = false;
                    for (i, item) in listen.iter().chain(&points).enumerate() {
                        if let Some(tick) = ticks.get_mut(i) {
                            changed |= ui.checkbox(tick, item.as_str()).changed();
                        }
                    }
                    if changed {
                        command = Some(PracticeCommand::Ticks(ticks));
                    }
                }
                // The interviewer stays in charge: the app only says which
                // probe it would ask from the points not yet ticked, and why.
                if let Some(suggestion) = self.practice.suggested_follow_up(core) {
                    ui.add_space(4.0);
                    ui.label(RichText::new("The follow-up the app would ask").strong());
                    ui.label(RichText::new(&suggestion.probe.text).size(16.0));
                    ui.label(
                        RichText::new(format!(
                            "Why: {} ({} budget).",
                            suggestion.choice.reason(),
                            clock(f64::from(suggestion.budget_s()))
                        ))
                        .weak(),
                    );
                }
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let label = if live {
                    "Stop (Space)"
                } else if recorded && offer.is_some() {
                    // Space answers the follow-up; this button retakes the question.
                    "Record the question again"
                } else if recorded {
                    "Record again (Space)"
                } else {
                    "Record answer (Space)"
                };
                let button = egui::Button::new(RichText::new(label).size(18.0));
                if ui.add(button).clicked() {
                    command = Some(if offer.is_some() { PracticeCommand::Start } else { PracticeCommand::Toggle });
                }
                match (&state, self.practice.take()) {
                    (TakeState::Starting, _) => {
                        ui.spinner();
                        ui.label("starting the microphone…");
                    }
                    (TakeState::Recording, Some(take)) => {
                        let clock = crate::analysis::clock(take.elapsed_s());
                        ui.label(RichText::new(format!("Recording {clock}")).color(BAD));
                        widgets::level_meter(ui, take.level());
                    }
                    (TakeState::Finishing, _) => {
                        ui.spinner();
                        ui.label("saving the take…");
                    }
                    _ => {}
                }
            });
            if question.kind == QuestionKind::BehavioralStar && live {
                ui.label(
                    RichText::new(
                        "STAR: Situation (two sentences) → Task → Action (what I did) → Result (with a number)",
                    )
                    .color(WARN),
                );
            }
            if let (Some(offer), false) = (&offer, live) {
                follow_up_box(
                    ui,
                    &format!("Follow-up ({} budget)", clock(f64::from(offer.budget_s()))),
                    &offer.probe.text,
                );
                ui.label(RichText::new(format!("Why this one: {}.", offer.choice.reason())).weak());
                ui.horizontal(|ui| {
                    if ui.button(RichText::new("Answer the follow-up (Space)").size(16.0)).clicked() {
                        command = Some(PracticeCommand::FollowUp);
                    }
                    if ui.button("Another follow-up").clicked() {
                        command = Some(PracticeCommand::AnotherFollowUp);
                    }
                    if ui.button("No follow-up").clicked() {
                        command = Some(PracticeCommand::NoFollowUp);
                    }
                });
            } else if recorded && mode == Mode::Solo && !live {
                let waiting = matches!(state, TakeState::Transcribing)
                    && core.settings.follow_ups
                    && !crate::analysis::follow_up::probes(&question, &stage).is_empty()
                    && follow_up_ids.is_empty();
                if waiting {
                    ui.label(RichText::new("A follow-up question comes once your answer is transcribed.").weak());
                } else if !follow_up_ids.is_empty()
                    && core.settings.follow_ups
                    && self.practice.suggested_follow_up(core).is_some()
                    && ui.button("Ask me another follow-up").clicked()
                {
                    command = Some(PracticeCommand::AnotherFollowUp);
                }
            }
            if !recorded || live_follow_up.is_some() {
                ui.label(RichText::new("Live transcript").strong());
                let text = self.practice.take().and_then(|take| core.live_text(take.key()));
                match text {
                    Some(text) => ui.label(RichText::new(text).italics()),
                    None if live => ui.label(RichText::new("(listening: the first words appear after a pause)").weak()),
                    None => ui.label(RichText::new("Your words appear here while you speak.").weak()),
                };
            }
            if question.kind == QuestionKind::Coding {
                let label = ui.label(RichText::new("Scratchpad (saved with the answer)").strong());
                let edit = ui
                    .add(
                        egui::TextEdit::multiline(&mut self.scratchpad)
                            .code_editor()
                            .desired_rows(10)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label.id);
                // Kept with the answer when the editor lets go (not every keystroke).
                if edit.lost_focus() {
                    command = Some(PracticeCommand::Scratchpad(self.scratchpad.clone()));
                }
            }
            if question.kind == QuestionKind::CandidateQuestions {
                ui.label(
                    RichText::new("Ask your questions aloud: they are recorded and transcribed like an answer.").weak(),
                );
            }

            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.add_enabled(index > 0 && !live, egui::Button::new("← Back (P)")).clicked() {
                    command = Some(PracticeCommand::Back);
                }
                let last = self.practice.is_last();
                let next_label = if recorded { "Next → (N)" } else { "Skip → (N)" };
                if !last && ui.add_enabled(!live, egui::Button::new(next_label)).clicked() {
                    command = Some(PracticeCommand::Next);
                }
                if ui.add_enabled(!live, egui::Button::new("Finish and reflect")).clicked() {
                    if last || self.confirm_finish {
                        command = Some(PracticeCommand::Finish);
                        go = Some(Navigate::Review { session_id: session_id.clone(), answer: None });
                    } else {
                        self.confirm_finish = true;
                    }
                }
                if self.confirm_finish && !last {
                    ui.colored_label(WARN, "Questions remain: click Finish again to end here.");
                }
            });
            ui.label(RichText::new("Shortcuts: Space record/stop · N or → next · P or ← back").weak().small());

            // After the answer: reveal the notes and the review, then the
            // follow-ups answered after it.
            if let (true, Some(answer)) = (recorded || live_follow_up.is_some(), answer_index) {
                ui.separator();
                self.panel.ui(ui, core, &session_id, answer);
                self.follow_up_panels.resize_with(follow_up_ids.len(), AnswerPanel::default);
                for (n, (id, panel)) in follow_up_ids.iter().zip(&mut self.follow_up_panels).enumerate() {
                    let Some(i) = core.session(&session_id).and_then(|s| s.answer_index(id)) else { continue };
                    let text = core
                        .session(&session_id)
                        .and_then(|s| s.answers.get(i)?.follow_up.as_ref().map(|f| f.text.clone()))
                        .unwrap_or_default();
                    ui.separator();
                    ui.push_id(id, |ui| {
                        egui::CollapsingHeader::new(RichText::new(format!("Follow-up {}: {text}", n + 1)).heading())
                            .default_open(n + 1 == follow_up_ids.len())
                            .show(ui, |ui| panel.ui(ui, core, &session_id, i));
                    });
                }
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

        if let Some(command) = command {
            if !matches!(command, PracticeCommand::Scratchpad(_) | PracticeCommand::Ticks(_)) {
                // The scratchpad goes with the answer it was written for
                // (before a take starts, a move, or the end).
                self.practice.handle(core, PracticeCommand::Scratchpad(self.scratchpad.clone()));
            }
            if matches!(command, PracticeCommand::Toggle) && !live {
                self.panel = AnswerPanel::default();
            }
            self.send(core, command);
        }
        go
    }
}

/// A probe asked as a follow-up: framed, in the weight of a question.
fn follow_up_box(ui: &mut egui::Ui, title: &str, text: &str) {
    egui::Frame::group(ui.style()).stroke(egui::Stroke::new(1.5, WARN)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(RichText::new(title).strong().color(WARN));
        ui.label(RichText::new(text).size(20.0).strong());
    });
}
