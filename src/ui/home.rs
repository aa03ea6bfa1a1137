//! Home: the mocks with their stages, start a full mock or one stage, solo
//! or with a peer; what is due today; recent sessions; first-run help.

use eframe::egui::{self, RichText};

use super::mic_test::MicTest;
use super::practice::PracticeScreen;
use super::widgets::{WARN, rich_line};
use super::{Coach, Navigate};
use crate::analysis::clock;
use crate::store::{Mode, history, schedule};

pub struct Home {
    mode: Mode,
    mic_test: MicTest,
}

impl Default for Home {
    fn default() -> Home {
        Home { mode: Mode::Solo, mic_test: MicTest::default() }
    }
}

impl Home {
    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Coach) -> Option<Navigate> {
        let mut go = None;
        egui::ScrollArea::vertical().auto_shrink([false; 2]).show(ui, |ui| {
            ui.label(RichText::new(&core.library.guide.title).heading());
            ui.label(&core.library.guide.summary);
            ui.add_space(6.0);

            // First run (no model yet, or nothing practised): check that both
            // the model and the microphone work before the first answer.
            let no_model = core.model().info.is_none() && !core.model().loading;
            if no_model || (core.sessions_loaded() && core.sessions().is_empty()) {
                ui.group(|ui| {
                    ui.label(RichText::new("Before your first answer").strong().color(WARN));
                    if no_model {
                        ui.label("Answers are transcribed on this computer with whisper. Download a model (base.en is recommended) or import a faster-whisper model in Settings. You can record without one and transcribe later.");
                        if ui.button("Open Settings").clicked() {
                            go = Some(Navigate::Settings);
                        }
                    } else if let Some(info) = &core.model().info {
                        ui.label(format!("Transcription model: {} — ready.", info.describe()));
                    }
                    ui.label("Check the microphone: the meter should move when you speak.");
                    self.mic_test.ui(ui, core);
                });
            }

            // Questions that come back (weak answers on a 1-3-7-14-day schedule).
            let today = core.today();
            let due: Vec<_> = schedule::schedule(core.sessions())
                .into_iter()
                .filter(|d| d.is_due(today) && core.library.question(&d.question_id).is_some())
                .collect();
            if !due.is_empty() {
                ui.group(|ui| {
                    ui.label(RichText::new(format!("Due today: {} question(s) to answer again", due.len())).strong().color(WARN));
                    for item in due.iter().take(8) {
                        let title = core.library.question(&item.question_id).map_or(item.question_id.clone(), |q| {
                            q.question.prompt.chars().take(90).collect::<String>()
                        });
                        ui.label(format!(
                            "• {title} — {}, last answered {} (every {} day(s) until it sticks)",
                            item.reason,
                            item.last_practised.with_timezone(&chrono::Local).format("%a %d %b"),
                            item.interval_days
                        ));
                    }
                    let plan: Vec<String> = due.iter().map(|d| d.question_id.clone()).collect();
                    if ui.button(format!("Answer the {} due question(s) now", plan.len())).clicked() {
                        match PracticeScreen::start_plan(core, plan, self.mode) {
                            Ok(p) => go = Some(Navigate::Practice(Box::new(p))),
                            Err(err) => core.error(err),
                        }
                    }
                });
            }

            if let Some(weakest) = history::weakest_stage(core.sessions()) {
                let today = core.today();
                let title = core
                    .library
                    .stage(&weakest.mock_id, &weakest.stage_id)
                    .map(|(m, s)| format!("{} · {}", m.title, s.title))
                    .unwrap_or_else(|| format!("{}/{}", weakest.mock_id, weakest.stage_id));
                ui.group(|ui| {
                    if weakest.is_due(today) {
                        ui.label(RichText::new(format!("Due today: re-run {title}")).strong().color(WARN));
                    } else {
                        ui.label(RichText::new(format!("Weakest stage: {title}")).strong());
                    }
                    ui.label(format!(
                        "Average self-grade {:.1} of 4 last time ({}). The seed's advice: re-run the weakest stage a day later.",
                        weakest.average_grade,
                        weakest.last_practised.with_timezone(&chrono::Local).format("%a %d %b")
                    ));
                    if ui.button(format!("Re-run {title}")).clicked() {
                        match PracticeScreen::start(core, &weakest.mock_id, Some(&weakest.stage_id), self.mode) {
                            Ok(p) => go = Some(Navigate::Practice(Box::new(p))),
                            Err(err) => core.error(err),
                        }
                    }
                });
            }

            ui.add_space(6.0);
            ui.horizontal(|ui| {
                ui.label(RichText::new("Mode:").strong());
                ui.selectable_value(&mut self.mode, Mode::Solo, "Solo")
                    .on_hover_text("You read each question, answer aloud and review afterwards.");
                ui.selectable_value(&mut self.mode, Mode::Peer, "With a peer")
                    .on_hover_text("A peer reads the questions and probes and silently ticks the listen-for notes; you are still recorded.");
            });
            ui.add_space(4.0);

            let mut start: Option<(String, Option<String>)> = None;
            for loaded in &core.library.mocks {
                let mock = &loaded.mock;
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&mock.title).heading());
                        ui.label(RichText::new(format!("{} min · {} stages", mock.minutes, mock.stages.len())).weak());
                        if ui.button(format!("Start {}", mock.title)).clicked() {
                            start = Some((mock.id.clone(), None));
                        }
                    });
                    if let Some(format) = &mock.format {
                        rich_line(ui, format);
                    }
                    egui::CollapsingHeader::new(format!("Stages of {}", mock.title)).id_salt(("stages", &mock.id)).show(ui, |ui| {
                        for stage in &mock.stages {
                            ui.horizontal(|ui| {
                                ui.label(format!("{} — {} min, {} question(s){}", stage.title, stage.minutes, stage.questions.len(), if stage.is_optional() { ", optional" } else { "" }));
                                if ui.small_button(format!("Practise {}", stage.title)).clicked() {
                                    start = Some((mock.id.clone(), Some(stage.id.clone())));
                                }
                            });
                        }
                    });
                });
            }
            if let Some((mock, stage)) = start {
                match PracticeScreen::start(core, &mock, stage.as_deref(), self.mode) {
                    Ok(p) => go = Some(Navigate::Practice(Box::new(p))),
                    Err(err) => core.error(err),
                }
            }

            ui.add_space(8.0);
            egui::CollapsingHeader::new("How to run these mocks").default_open(false).show(ui, |ui| {
                for item in &core.library.guide.how_to_run {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(format!("{}:", item.label)).strong());
                        rich_line(ui, &item.text);
                    });
                }
            });

            ui.add_space(8.0);
            ui.label(RichText::new("Recent sessions").strong());
            if !core.sessions_loaded() {
                ui.label(RichText::new("Reading your sessions…").weak());
            } else if core.sessions().is_empty() {
                ui.label(RichText::new("No sessions yet: start a mock above.").weak());
            }
            for session in core.sessions().iter().rev().take(6) {
                ui.horizontal(|ui| {
                    let local = session.started_at.with_timezone(&chrono::Local);
                    let spoken: f64 = session.answers.iter().map(|a| a.duration_s).sum();
                    ui.label(format!(
                        "{}  {}  {} answer(s), {} spoken",
                        local.format("%a %d %b %H:%M"),
                        session.scope(),
                        session.answers.len(),
                        clock(spoken)
                    ));
                    if ui.small_button(format!("Review {}", session.id)).clicked() {
                        go = Some(Navigate::Review { session_id: session.id.clone(), answer: None });
                    }
                });
            }
        });
        go
    }
}
