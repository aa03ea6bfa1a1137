//! Review: one answer (transcript with highlights beside the strong answer,
//! listen-for, red flags and rubric; metrics with advice; replay; self-grade;
//! notes), and the whole session (reflection with a 5-minute countdown,
//! per-stage summary, the weakest stage, Markdown export).

use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use super::practice::PracticeScreen;
use super::widgets::{self, BAD, GOOD, WARN};
use super::{Coach, Navigate};
use crate::analysis::clock;
use crate::analysis::corrections::{CorrectionAction, FillerCorrection};
use crate::audio::playback::Player;
use crate::pipeline::{AppEvent, Job};
use crate::store::{Answer, Session, compare, history, report};

/// The review of one answer, with its player (opened in the background:
/// reading and resampling the take and opening the output take a moment).
#[derive(Default)]
pub struct AnswerPanel {
    player: Option<Player>,
    /// The (session, answer id) the player or the one being opened is for.
    player_for: Option<(String, String)>,
    opening: bool,
    /// Play from here once the player is open.
    play_from: Option<f64>,
    /// Why the player did not open or play, for the next frame to show.
    failed: Option<String>,
    /// Space was pressed on the review screen this frame: play or pause.
    space_pressed: bool,
    /// The earlier take this one is compared with (session, answer id);
    /// `None`: the one just before it.
    compare_with: Option<(String, String)>,
    /// "Answer again" was clicked: the question to answer again.
    pub answer_again: Option<String>,
    /// "Mark a missed 'um'" is on: the next word clicked is where it was said.
    marking: Option<String>,
    /// Shown in the review screen (Space plays; "Answer again" offered),
    /// rather than under a practice question (Space records there).
    pub in_review: bool,
}

impl AnswerPanel {
    /// Starts playing at `at` (seconds), opening the player first if needed.
    fn play(&mut self, core: &mut Coach, session_id: &str, answer_id: &str, at: Option<f64>) {
        let key = (session_id.to_owned(), answer_id.to_owned());
        if self.player_for.as_ref() == Some(&key) {
            if let Some(p) = &self.player {
                if let Some(t) = at {
                    p.seek(t);
                }
                if let Err(err) = p.play() {
                    core.error(err);
                }
                return;
            }
            if self.opening {
                self.play_from = at.or(self.play_from);
                return;
            }
        }
        self.player = None;
        self.player_for = Some(key.clone());
        let Some(path) = core.answer_wav(session_id, answer_id) else {
            core.error("This answer has no recording.");
            return;
        };
        core.run(Job::OpenPlayer { session_id: key.0, answer_id: key.1, path });
        self.opening = true;
        self.play_from = Some(at.unwrap_or(0.0));
    }

    /// Whether `event` is the player this panel is opening.
    pub fn is_for(&self, event: &AppEvent) -> bool {
        matches!(event, AppEvent::PlayerOpened { session_id, answer_id, .. }
            if self.player_for.as_ref().is_some_and(|(s, a)| s == session_id && a == answer_id))
    }

    /// Takes the player once it is open, and starts it.
    pub fn on_event(&mut self, event: AppEvent) {
        let AppEvent::PlayerOpened { session_id, answer_id, result } = event else { return };
        if self.player_for.as_ref() != Some(&(session_id, answer_id)) {
            return; // opened for an answer no longer shown
        }
        self.opening = false;
        match result {
            Ok(player) => {
                if let Some(t) = self.play_from.take() {
                    player.seek(t);
                    if let Err(err) = player.play() {
                        self.failed = Some(err.to_string());
                    }
                }
                self.player = Some(player);
            }
            Err(err) => self.failed = Some(format!("Cannot play the recording: {err}")),
        }
    }

    /// This take beside an earlier one of the same question (any session):
    /// what changed, each change coloured, and the change that matters most.
    fn retake_view(&mut self, ui: &mut egui::Ui, core: &Coach, answer: &Answer) {
        let takes = compare::takes_of(core.sessions(), &answer.question_id);
        let earlier: Vec<&compare::TakeRef> = takes.iter().filter(|t| t.started_at < answer.started_at).collect();
        if self.in_review && ui.button("Answer this question again").clicked() {
            self.answer_again = Some(answer.question_id.clone());
        }
        let Some(previous) = earlier.last() else { return };
        let chosen = self
            .compare_with
            .as_ref()
            .and_then(|(s, a)| earlier.iter().find(|t| &t.session_id == s && &t.answer_id == a))
            .unwrap_or(previous);
        let when =
            |t: &compare::TakeRef| t.started_at.with_timezone(&chrono::Local).format("%a %d %b %H:%M").to_string();
        ui.separator();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Compared with your take of").heading());
            egui::ComboBox::from_id_salt("compare-with").selected_text(when(chosen)).show_ui(ui, |ui| {
                for take in earlier.iter().rev() {
                    if ui.selectable_label(**take == **chosen, when(take)).clicked() {
                        self.compare_with = Some((take.session_id.clone(), take.answer_id.clone()));
                    }
                }
            });
        });
        let Some(before) = core.session(&chosen.session_id).and_then(|s| s.answer(&chosen.answer_id)) else { return };
        let comparison = compare::compare(before, answer);
        ui.label(RichText::new(&comparison.headline).strong());
        if !comparison.gained.is_empty() {
            ui.colored_label(GOOD, format!("Key points gained: {}", comparison.gained.join(", ")));
        }
        if !comparison.lost.is_empty() {
            ui.colored_label(BAD, format!("Key points lost: {}", comparison.lost.join(", ")));
        }
        egui::Grid::new("retake-deltas").num_columns(3).striped(true).show(ui, |ui| {
            for head in ["", "Then", "Now"] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for d in &comparison.deltas {
                ui.label(d.what);
                ui.label(&d.before);
                let now = RichText::new(&d.after);
                ui.label(match d.better {
                    Some(true) => now.color(GOOD),
                    Some(false) => now.color(BAD),
                    None => now,
                });
                ui.end_row();
            }
        });
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Coach, session_id: &str, answer_index: usize) {
        if let Some(err) = self.failed.take() {
            core.error(err);
        }
        core.want_full(session_id);
        let Some(answer) = core.session(session_id).and_then(|s| s.answers.get(answer_index)).cloned() else { return };
        let answer_id = answer.id.clone();
        let Some(q) = core.library.question(&answer.question_id) else {
            ui.colored_label(WARN, format!("The question {} is no longer in the content.", answer.question_id));
            return;
        };
        let (stage, question) = (q.stage.clone(), q.question.clone());
        let playing = self.player.as_ref().is_some_and(|p| p.is_playing());
        let playhead = self
            .player
            .as_ref()
            .filter(|_| self.player_for == Some((session_id.to_owned(), answer_id.clone())))
            .map(|p| p.position_s());
        if playing {
            ui.ctx().request_repaint_after(Duration::from_millis(50));
        }

        ui.columns(2, |cols| {
            // Left: what you said, how it sounded, your grade.
            let ui = &mut cols[0];
            let heading = if answer.follow_up.is_some() { "Your follow-up answer" } else { "Your answer" };
            ui.label(RichText::new(heading).heading());
            ui.horizontal(|ui| {
                ui.label(format!("{} of {}", clock(answer.duration_s), clock(f64::from(answer.budget_s))));
                if answer.overrun_s > 0.0 {
                    ui.colored_label(BAD, format!("over by {}", clock(answer.overrun_s)));
                }
                if answer.recovered {
                    ui.colored_label(WARN, "recovered after a crash");
                }
            });
            if let Some(err) = &answer.capture_error {
                ui.colored_label(WARN, err);
            }
            ui.horizontal(|ui| {
                let label = match (playing, self.in_review) {
                    (true, true) => "Pause (Space)",
                    (false, true) => "Play (Space)",
                    (true, false) => "Pause",
                    (false, false) => "Play",
                };
                if ui.button(label).clicked() || self.space_pressed {
                    if playing {
                        if let Some(p) = &self.player {
                            p.pause();
                        }
                    } else {
                        self.play(core, session_id, &answer_id, None);
                    }
                }
                if self.opening {
                    ui.spinner();
                }
                if let Some(p) = &self.player {
                    let mut at = p.position_s() as f32;
                    let slider = egui::Slider::new(&mut at, 0.0..=p.duration_s() as f32).text("position (s)");
                    if ui.add(slider).changed() {
                        p.seek(f64::from(at));
                    }
                }
            });
            match (&answer.transcript, core.is_transcribing(session_id, &answer_id)) {
                (Some(_), _) if answer.elided && core.is_reading(session_id) => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("reading the transcript…");
                    });
                }
                (Some(_), _) if answer.elided => {
                    ui.colored_label(WARN, "The transcript could not be read from disk (see the message below).");
                }
                (Some(transcript), _) => {
                    widgets::transcript_legend(ui);
                    if let Some(t) = widgets::transcript_words(ui, transcript, answer.feedback.as_ref(), playhead) {
                        match self.marking.take() {
                            // Marking a missed filler: the clicked word is where it was said.
                            Some(word) => {
                                let missed = FillerCorrection { at_s: t, action: CorrectionAction::Missed { word } };
                                if let Err(err) = core.correct_filler(session_id, &answer_id, missed) {
                                    core.error(err);
                                }
                            }
                            None => self.play(core, session_id, &answer_id, Some(t)),
                        }
                    }
                    if let Some(feedback) = &answer.feedback
                        && let Some(correction) =
                            widgets::filler_corrections(ui, feedback, &core.settings.fillers, &mut self.marking)
                        && let Err(err) = core.correct_filler(session_id, &answer_id, correction)
                    {
                        core.error(err);
                    }
                }
                (None, true) => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("transcribing…");
                    });
                }
                (None, false) => {
                    if let Some(err) = &answer.transcription_error {
                        ui.colored_label(WARN, format!("Not transcribed: {err}"));
                    } else {
                        ui.label(RichText::new("Not transcribed yet.").weak());
                    }
                    if ui.button("Transcribe").clicked() {
                        core.retranscribe(session_id, &answer_id);
                    }
                }
            }
            if let Some(pad) = &answer.scratchpad {
                ui.label(RichText::new("Scratchpad").strong());
                let mut text = pad.clone();
                ui.add(
                    egui::TextEdit::multiline(&mut text).code_editor().interactive(false).desired_width(f32::INFINITY),
                );
            }
            ui.separator();
            match &answer.feedback {
                Some(feedback) => {
                    widgets::feedback_view(ui, feedback);
                    if let (Some(shown), Some(first)) = (answer.question_shown_s, answer.time_to_first_word_s()) {
                        ui.label(format!(
                            "· The question was on screen {shown:.1} s before you pressed Record: your first word \
                             came {first:.1} s after it appeared."
                        ));
                    }
                }
                None if answer.transcript.is_some() => {
                    ui.label(RichText::new("Analysing…").weak());
                }
                None => {}
            }
            if answer.follow_up.is_some() {
                // Graded with the question's own answer, not on its own.
                self.notes(ui, core, session_id, &answer);
            } else {
                self.retake_view(ui, core, &answer);
                self.grades_and_notes(ui, core, session_id, &answer, &question);
            }

            // Right: what the interviewer was after.
            let ui = &mut cols[1];
            if let Some(follow_up) = &answer.follow_up {
                widgets::follow_up_notes(ui, &stage, &question, follow_up);
            } else {
                ui.label(RichText::new("What a strong answer covers").heading());
                widgets::answer_notes(ui, &stage, &question);
            }
            if !answer.listen_for_ticks.is_empty() {
                ui.label(
                    RichText::new(format!("Your peer ticked {} listen-for item(s).", answer.listen_for_ticks.len()))
                        .color(GOOD),
                );
            }
        });
    }

    fn grades_and_notes(
        &mut self,
        ui: &mut egui::Ui,
        core: &mut Coach,
        session_id: &str,
        answer: &Answer,
        question: &crate::content::Question,
    ) {
        let answer_id = answer.id.clone();
        {
            ui.separator();
            ui.label(RichText::new("Self-grade").heading());
            let mut grades = answer.grades.clone();
            if widgets::rubric_grades(ui, &core.library, question, &mut grades) {
                core.edit_session(session_id, |s| {
                    if let Some(a) = s.answer_mut(&answer_id) {
                        a.grades = grades;
                    }
                });
            }
        }
        self.notes(ui, core, session_id, answer);
    }

    fn notes(&mut self, ui: &mut egui::Ui, core: &mut Coach, session_id: &str, answer: &Answer) {
        let answer_id = answer.id.clone();
        {
            let label = ui.label(RichText::new("Notes").strong());
            let mut notes = answer.notes.clone();
            let response = ui
                .add(
                    egui::TextEdit::multiline(&mut notes)
                        .desired_rows(3)
                        .desired_width(f32::INFINITY)
                        .hint_text("What would you say differently?"),
                )
                .labelled_by(label.id);
            if response.changed() {
                // Saved as typed (on the saver thread): closing the window loses nothing.
                core.edit_session(session_id, |s| {
                    if let Some(a) = s.answer_mut(&answer_id) {
                        a.notes = notes;
                    }
                });
            }
        }
    }
}

pub struct Review {
    session_id: String,
    selected: Option<usize>,
    panel: AnswerPanel,
    countdown: Option<Instant>,
    confirm_delete: bool,
}

const REFLECTION: Duration = Duration::from_secs(5 * 60);

impl Review {
    pub fn new(session_id: String, answer: Option<usize>) -> Review {
        Review { session_id, selected: answer, panel: AnswerPanel::default(), countdown: None, confirm_delete: false }
    }

    pub fn on_event(&mut self, event: AppEvent) {
        self.panel.on_event(event);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Coach) -> Option<Navigate> {
        core.want_full(&self.session_id);
        let Some(session) = core.session(&self.session_id).cloned() else {
            ui.label("This session no longer exists.");
            return Some(Navigate::Home);
        };
        let mut go = None;
        ui.horizontal(|ui| {
            let title = core.library.mock(&session.mock_id).map_or(session.mock_id.clone(), |m| m.title.clone());
            ui.label(
                RichText::new(format!(
                    "{title} — {}",
                    session.started_at.with_timezone(&chrono::Local).format("%a %d %b %Y %H:%M")
                ))
                .heading(),
            );
            // (Not before the whole session is read: the report quotes the transcripts.)
            let export_button = egui::Button::new("Export Markdown report");
            if ui.add_enabled(!session.has_elided(), export_button).clicked() {
                export(core, &session);
            }
            if ui.button("Transcribe all again").clicked() {
                for answer in &session.answers {
                    core.retranscribe(&session.id, &answer.id);
                }
            }
            if self.confirm_delete {
                if ui.button(RichText::new("Really delete this session and its recordings").color(BAD)).clicked() {
                    core.delete_session(&session.id);
                    go = Some(Navigate::Home);
                }
            } else if ui.button("Delete session").clicked() {
                self.confirm_delete = true;
            }
        });
        egui::Panel::left("answers").resizable(true).default_size(240.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                if ui.selectable_label(self.selected.is_none(), "Session summary & reflection").clicked() {
                    self.selected = None;
                    self.panel = AnswerPanel::default();
                }
                for (i, answer) in session.answers.iter().enumerate() {
                    let title = match &answer.follow_up {
                        Some(f) => format!("↳ follow-up: {}…", f.text.chars().take(40).collect::<String>()),
                        None => core.library.question(&answer.question_id).map_or(answer.question_id.clone(), |q| {
                            let prompt: String = q.question.prompt.chars().take(40).collect();
                            format!("{}: {prompt}…", q.stage.title)
                        }),
                    };
                    let mark = if answer.overrun_s > 0.0 { " (over time)" } else { "" };
                    if ui.selectable_label(self.selected == Some(i), format!("{}. {title}{mark}", i + 1)).clicked()
                        && self.selected != Some(i)
                    {
                        self.selected = Some(i);
                        // A new answer: its own player (the old one stops).
                        self.panel = AnswerPanel::default();
                    }
                }
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false; 2]).show(ui, |ui| match self.selected {
                Some(i) if i < session.answers.len() => {
                    let id = self.session_id.clone();
                    // Space plays and pauses (a fresh press, not while typing a note).
                    let typing = ui.ctx().egui_wants_keyboard_input();
                    self.panel.space_pressed = !typing
                        && ui.input(|i| {
                            i.events.iter().any(|e| {
                                matches!(e, egui::Event::Key { key: egui::Key::Space, pressed: true, repeat: false, modifiers, .. }
                                    if modifiers.is_none())
                            })
                        });
                    self.panel.in_review = true;
                    self.panel.ui(ui, core, &id, i);
                    self.panel.space_pressed = false;
                    if let Some(question) = self.panel.answer_again.take() {
                        // A new take of the same question, with the same budget.
                        match PracticeScreen::start_plan(core, vec![question], crate::store::Mode::Solo) {
                            Ok(p) => go = Some(Navigate::Practice(Box::new(p))),
                            Err(err) => core.error(err),
                        }
                    }
                }
                _ => self.summary(ui, core, &session),
            });
        });
        go
    }

    fn summary(&mut self, ui: &mut egui::Ui, core: &mut Coach, session: &Session) {
        ui.label(RichText::new("Reflection").heading());
        ui.label("Spend 5 minutes writing down what you'd improve.");
        ui.horizontal(|ui| match self.countdown {
            None => {
                if ui.button("Start the 5-minute reflection").clicked() {
                    self.countdown = Some(Instant::now());
                }
            }
            Some(started) => {
                let left = REFLECTION.saturating_sub(started.elapsed());
                if left.is_zero() {
                    ui.colored_label(GOOD, "Time: five minutes are up.");
                } else {
                    ui.add(
                        egui::ProgressBar::new(left.as_secs_f32() / REFLECTION.as_secs_f32())
                            .text(format!("{} left", clock(left.as_secs_f64())))
                            .desired_width(300.0),
                    );
                    ui.ctx().request_repaint_after(Duration::from_millis(500));
                }
            }
        });
        let label = ui.label(RichText::new("What I'd improve").strong());
        let mut reflection = session.reflection.clone();
        let response = ui
            .add(egui::TextEdit::multiline(&mut reflection).desired_rows(6).desired_width(f32::INFINITY))
            .labelled_by(label.id);
        if response.changed() {
            core.edit_session(&session.id, |s| s.reflection = reflection);
        }

        ui.add_space(8.0);
        ui.label(RichText::new("Per stage").heading());
        let rows = report::stage_summary(&core.library, session);
        egui::Grid::new("stages").num_columns(5).striped(true).show(ui, |ui| {
            for head in ["Stage", "Answers", "Time", "Budget", "Self-grade"] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for row in &rows {
                ui.label(&row.title);
                ui.label(format!("{} of {}", row.answered, row.questions));
                let over = row.spent_s > f64::from(row.budget_s);
                ui.label(RichText::new(clock(row.spent_s)).color(if over { BAD } else { ui.visuals().text_color() }));
                ui.label(clock(f64::from(row.budget_s)));
                ui.label(row.average_grade.map_or("not graded".into(), |g| {
                    format!("{:.1} ({})", g, crate::store::Level::nearest(g).label())
                }));
                ui.end_row();
            }
        });
        if let Some(weakest) = history::weakest_stage(std::slice::from_ref(session)) {
            let title = core
                .library
                .stage(&weakest.mock_id, &weakest.stage_id)
                .map_or(weakest.stage_id.clone(), |(_, s)| s.title.clone());
            ui.add_space(6.0);
            ui.label(
                RichText::new(format!("Weakest stage this time: {title} ({:.1} of 4)", weakest.average_grade))
                    .strong()
                    .color(WARN),
            );
            ui.label(format!(
                "Re-run it tomorrow ({}): it will be on the home screen as due.",
                weakest.due.format("%a %d %b")
            ));
        } else {
            ui.label(RichText::new("Self-grade your answers to find the weakest stage.").weak());
        }
    }
}

/// Writes the session's Markdown report beside it and says where.
fn export(core: &mut Coach, session: &Session) {
    let markdown = report::markdown(&core.library, session);
    let Ok(dir) = core.store().session_dir(&session.id) else { return };
    core.run(Job::WriteReport { path: dir.join("report.md"), markdown });
}
