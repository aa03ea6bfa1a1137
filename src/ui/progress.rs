//! Progress: trends over time (fillers per minute, pace, I-share in STAR
//! answers, overruns, self-grade per rubric signal), filtered by mock and
//! stage; the table of sessions with review, re-transcribe and delete.

use eframe::egui::{self, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::widgets::BAD;
use super::{Coach, Navigate};
use crate::analysis::clock;
use crate::content::QuestionKind;
use crate::store::history::{self, Filter, Metric, Point};
use crate::store::{compare, evidence};

#[derive(Default)]
pub struct Progress {
    mock: Option<String>,
    stage: Option<String>,
    confirm_delete: Option<String>,
    /// The question followed in "One question over time".
    question: Option<String>,
}

fn days(point: &Point) -> f64 {
    point.at.timestamp() as f64 / 86_400.0
}

fn plot(ui: &mut egui::Ui, id: &str, series: &[(String, Vec<Point>)], y_label: &str) {
    Plot::new(id)
        .height(150.0)
        .legend(Legend::default())
        .y_axis_label(y_label)
        .allow_scroll(false)
        .x_axis_formatter(|mark, _| {
            chrono::DateTime::from_timestamp((mark.value * 86_400.0) as i64, 0)
                .map(|t| t.with_timezone(&chrono::Local).format("%d %b").to_string())
                .unwrap_or_default()
        })
        .show(ui, |plot_ui| {
            for (name, points) in series {
                let xy: Vec<[f64; 2]> = points.iter().map(|p| [days(p), p.value]).collect();
                plot_ui.line(Line::new(name.clone(), PlotPoints::from(xy.clone())));
                plot_ui.points(Points::new(name.clone(), PlotPoints::from(xy)).radius(3.0));
            }
        });
}

/// How many of the latest graded answers are set beside each self-grade.
const EVIDENCE_ANSWERS: usize = 5;

/// Per rubric signal: the latest self-grades beside what those answers show.
fn grades_beside_evidence(ui: &mut egui::Ui, core: &Coach, filter: &Filter) {
    ui.label(RichText::new("Your self-grades beside the evidence").heading());
    let all = evidence::grade_evidence(core.sessions(), filter, EVIDENCE_ANSWERS);
    if all.is_empty() {
        ui.label(
            RichText::new("Grade your answers in review: each grade is set here beside what the answer shows.").weak(),
        );
        return;
    }
    ui.label(
        RichText::new("What the analysis found in the answers you graded; no score is made from it, you judge.").weak(),
    );
    for signal in &all {
        let name = core.library.signal(&signal.signal).map_or(signal.signal.clone(), |s| s.name.clone());
        ui.label(RichText::new(signal.summary(&name)).strong());
        egui::CollapsingHeader::new(format!("The {} answer(s) graded on {name}", signal.answers.len()))
            .id_salt(("evidence", &signal.signal))
            .show(ui, |ui| {
                egui::Grid::new(("evidence-grid", &signal.signal)).num_columns(7).striped(true).show(ui, |ui| {
                    for head in ["When", "Question", "Your grade", "Key points said", "Numbers", "Trade-offs", "Time"] {
                        ui.label(RichText::new(head).strong());
                    }
                    ui.end_row();
                    let count = |n: Option<usize>| n.map_or("not analysed".to_owned(), |n| n.to_string());
                    for a in &signal.answers {
                        ui.label(a.at.with_timezone(&chrono::Local).format("%d %b").to_string());
                        let title = core.library.question(&a.question_id).map_or(a.question_id.clone(), |q| {
                            q.question.prompt.chars().take(48).collect::<String>() + "…"
                        });
                        ui.label(title);
                        ui.label(a.grade.label());
                        let points = a.key_points.map_or("–".to_owned(), |(said, of)| format!("{said} of {of}"));
                        ui.label(if a.missed_half() {
                            RichText::new(points).color(BAD)
                        } else {
                            RichText::new(points)
                        });
                        ui.label(count(a.numbers));
                        ui.label(count(a.tradeoffs));
                        ui.label(if a.overrun_s > 0.0 {
                            RichText::new(format!("over by {}", clock(a.overrun_s))).color(BAD)
                        } else {
                            RichText::new("on time")
                        });
                        ui.end_row();
                    }
                });
            });
    }
}

impl Progress {
    /// Every take of one question over time, across sessions.
    fn one_question(&mut self, ui: &mut egui::Ui, core: &Coach) {
        ui.label(RichText::new("One question over time").heading());
        let mut answered: Vec<&str> = core
            .sessions()
            .iter()
            .flat_map(|s| &s.answers)
            .filter(|a| a.duration_s > 0.0 && a.is_main_take())
            .map(|a| a.question_id.as_str())
            .collect();
        answered.sort_unstable();
        answered.dedup();
        let Some(first) = answered.first() else {
            ui.label(RichText::new("Answer a question to follow it here, take after take.").weak());
            return;
        };
        let chosen = self.question.clone().filter(|q| answered.contains(&q.as_str())).unwrap_or((*first).to_owned());
        let title = |id: &str| {
            core.library.question(id).map_or(id.to_owned(), |q| {
                let prompt: String = q.question.prompt.chars().take(80).collect();
                if prompt.len() < q.question.prompt.len() { format!("{prompt}…") } else { prompt }
            })
        };
        egui::ComboBox::from_label("Question").selected_text(title(&chosen)).width(560.0).show_ui(ui, |ui| {
            for id in &answered {
                if ui.selectable_label(*id == chosen, title(id)).clicked() {
                    self.question = Some((*id).to_owned());
                }
            }
        });
        let takes = compare::takes_of(core.sessions(), &chosen);
        egui::Grid::new("one-question").num_columns(6).striped(true).show(ui, |ui| {
            for head in ["When", "Length of budget", "Fillers / min", "Words / min", "Key points", "Self-grade"] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for take in &takes {
                let Some(answer) = core.session(&take.session_id).and_then(|s| s.answer(&take.answer_id)) else {
                    continue;
                };
                ui.label(take.started_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string());
                let length = format!("{} of {}", clock(answer.duration_s), clock(f64::from(answer.budget_s)));
                ui.label(if answer.overrun_s > 0.0 { RichText::new(length).color(BAD) } else { RichText::new(length) });
                match &answer.feedback {
                    Some(f) => {
                        ui.label(format!("{:.1}", f.fillers.per_min));
                        ui.label(format!("{:.0}", f.wpm));
                        let total = f.key_points.covered.len() + f.key_points.missed.len();
                        ui.label(if total > 0 {
                            format!("{} of {total}", f.key_points.covered.len())
                        } else {
                            "–".into()
                        });
                    }
                    None => {
                        for _ in 0..3 {
                            ui.label(RichText::new("not analysed").weak());
                        }
                    }
                }
                ui.label(
                    answer.average_grade().map_or("not graded".into(), |g| {
                        format!("{g:.1} ({})", crate::store::Level::nearest(g).label())
                    }),
                );
                ui.end_row();
            }
        });
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Coach) -> Option<Navigate> {
        let mut go = None;
        ui.horizontal(|ui| {
            ui.label(RichText::new("Progress").heading());
            egui::ComboBox::from_label("Mock")
                .selected_text(
                    self.mock
                        .as_deref()
                        .and_then(|id| core.library.mock(id))
                        .map_or("All mocks".to_owned(), |m| m.title.clone()),
                )
                .show_ui(ui, |ui| {
                    if ui.selectable_label(self.mock.is_none(), "All mocks").clicked() {
                        self.mock = None;
                        self.stage = None;
                    }
                    for loaded in &core.library.mocks {
                        if ui
                            .selectable_label(self.mock.as_deref() == Some(&loaded.mock.id), &loaded.mock.title)
                            .clicked()
                        {
                            self.mock = Some(loaded.mock.id.clone());
                            self.stage = None;
                        }
                    }
                });
            if let Some(mock) = self.mock.as_deref().and_then(|id| core.library.mock(id)) {
                egui::ComboBox::from_label("Stage")
                    .selected_text(
                        self.stage
                            .as_deref()
                            .and_then(|id| mock.stages.iter().find(|s| s.id == id))
                            .map_or("All stages".to_owned(), |s| s.title.clone()),
                    )
                    .show_ui(ui, |ui| {
                        if ui.selectable_label(self.stage.is_none(), "All stages").clicked() {
                            self.stage = None;
                        }
                        for stage in &mock.stages {
                            if ui.selectable_label(self.stage.as_deref() == Some(&stage.id), &stage.title).clicked() {
                                self.stage = Some(stage.id.clone());
                            }
                        }
                    });
            }
        });
        let filter = Filter { mock_id: self.mock.clone(), stage_id: self.stage.clone() };
        let mut delete = None;
        let mut retranscribe = None;
        let core_ref: &Coach = core;
        let kind_of = |id: &str| -> Option<QuestionKind> { core_ref.library.question(id).map(|q| q.question.kind) };

        egui::ScrollArea::vertical().auto_shrink([false; 2]).show(ui, |ui| {
            if !core_ref.sessions_loaded() {
                ui.label(RichText::new("Reading your sessions…").weak());
            } else if core_ref.sessions().is_empty() {
                ui.label(
                    RichText::new("No sessions yet: your trends appear here after a few practice sessions.").weak(),
                );
            }
            ui.columns(2, |cols| {
                for (i, metric) in Metric::ALL.iter().enumerate() {
                    let ui = &mut cols[i % 2];
                    ui.label(RichText::new(metric.label()).strong());
                    let series = history::metric_series(core_ref.sessions(), *metric, &filter, &kind_of);
                    if series.is_empty() {
                        ui.label(RichText::new("no data yet").weak());
                    } else {
                        plot(ui, metric.label(), &[(metric.label().to_owned(), series)], "");
                    }
                }
                let ui = &mut cols[1];
                ui.label(RichText::new("Self-grade per rubric signal (1 Junior – 4 Staff)").strong());
                let series: Vec<(String, Vec<Point>)> = core_ref
                    .library
                    .rubric
                    .tables
                    .iter()
                    .flat_map(|t| &t.signals)
                    .map(|s| (s.name.clone(), history::grade_series(core_ref.sessions(), &s.id, &filter)))
                    .filter(|(_, points)| !points.is_empty())
                    .collect();
                if series.is_empty() {
                    ui.label(RichText::new("no grades yet").weak());
                } else {
                    plot(ui, "grades", &series, "level");
                }
            });

            ui.add_space(8.0);
            self.one_question(ui, core_ref);

            ui.add_space(8.0);
            grades_beside_evidence(ui, core_ref, &filter);

            ui.add_space(8.0);
            ui.label(RichText::new("Sessions").heading());
            egui::Grid::new("sessions").num_columns(7).striped(true).show(ui, |ui| {
                for head in ["When", "Practised", "Answers", "Spoken", "Over budget", "Self-grade", ""] {
                    ui.label(RichText::new(head).strong());
                }
                ui.end_row();
                for session in core_ref.sessions().iter().rev() {
                    ui.label(session.started_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string());
                    let title =
                        core_ref.library.mock(&session.mock_id).map_or(session.mock_id.clone(), |m| m.title.clone());
                    let what =
                        match session.stage_id.as_deref().and_then(|st| core_ref.library.stage(&session.mock_id, st)) {
                            Some((_, stage)) => format!("{title} · {}", stage.title),
                            None => title,
                        };
                    ui.label(what);
                    ui.label(session.answers.len().to_string());
                    ui.label(clock(session.answers.iter().map(|a| a.duration_s).sum()));
                    let over = session.answers.iter().filter(|a| a.overrun_s > 0.0).count();
                    ui.label(if over == 0 {
                        "–".to_owned()
                    } else {
                        format!("{over} ({})", clock(session.total_overrun_s()))
                    });
                    let grades: Vec<f64> = session.answers.iter().filter_map(|a| a.average_grade()).collect();
                    ui.label(if grades.is_empty() {
                        "–".to_owned()
                    } else {
                        format!("{:.1}", grades.iter().sum::<f64>() / grades.len() as f64)
                    });
                    ui.horizontal(|ui| {
                        if ui.small_button("Review").on_hover_text(format!("Open session {}", session.id)).clicked() {
                            go = Some(Navigate::Review { session_id: session.id.clone(), answer: None });
                        }
                        if ui
                            .small_button("Transcribe again")
                            .on_hover_text("All answers, with the current model")
                            .clicked()
                        {
                            retranscribe = Some(session.id.clone());
                        }
                        if self.confirm_delete.as_deref() == Some(&session.id) {
                            if ui.small_button(RichText::new("Really delete?").color(super::widgets::BAD)).clicked() {
                                delete = Some(session.id.clone());
                            }
                        } else if ui
                            .small_button("Delete")
                            .on_hover_text("Delete this session and its recordings")
                            .clicked()
                        {
                            self.confirm_delete = Some(session.id.clone());
                        }
                    });
                    ui.end_row();
                }
            });
        });
        if let Some(id) = retranscribe {
            let answers: Vec<String> =
                core.session(&id).map(|s| s.answers.iter().map(|a| a.id.clone()).collect()).unwrap_or_default();
            for answer_id in answers {
                core.retranscribe(&id, &answer_id);
            }
        }
        if let Some(id) = delete {
            core.delete_session(&id);
            self.confirm_delete = None;
        }
        go
    }
}
