//! Settings: the transcription model (catalogue with size, speed and
//! accuracy; download with progress; import; custom file), the microphone
//! with a level test, filler words, pace band, threads, data folder, theme.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use eframe::egui::{self, RichText};

use super::mic_test::MicTest;
use super::widgets::{BAD, GOOD, WARN};
use super::{Coach, Navigate};
use crate::model::{catalog as models, ggml};
use crate::pipeline::{AppEvent, Job};
use crate::transcribe::prompt;

#[derive(Default)]
pub struct SettingsScreen {
    import_dir: String,
    custom_file: String,
    devices_asked: bool,
    mic_test: MicTest,
    fillers: Option<String>,
    /// The glossary as typed, and the entries refused when it was last applied.
    glossary: Option<String>,
    glossary_refused: Vec<String>,
    /// The models folder, validated once (not every frame); refreshed after
    /// a download, or when the model in use changes (an import).
    installed: Option<(Vec<models::Installed>, Option<PathBuf>)>,
    /// The download seen last frame, to notice when it ends.
    downloading: Option<String>,
}

impl SettingsScreen {
    pub fn on_event(&mut self, event: AppEvent) {
        if let AppEvent::FolderPicked(Some(folder)) = event {
            self.import_dir = folder.display().to_string();
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Coach) -> Option<Navigate> {
        egui::ScrollArea::vertical().auto_shrink([false; 2]).show(ui, |ui| {
            self.model_section(ui, core);
            ui.separator();
            self.glossary_section(ui, core);
            ui.separator();
            self.microphone_section(ui, core);
            ui.separator();
            self.feedback_section(ui, core);
            ui.separator();
            ui.label(RichText::new("Data and appearance").heading());
            ui.label(format!("Data folder: {}", core.data.root().display()));
            ui.label(RichText::new("Sessions, recordings, models and your own mocks live here. To use another folder, start the app with --data-dir DIR or set INTERVIEW_COACH_DATA_DIR.").weak());
            let mut dark = core.settings.dark_mode;
            if ui.checkbox(&mut dark, "Dark theme").changed() {
                core.settings.dark_mode = dark;
                ui.ctx().set_theme(if dark { egui::Theme::Dark } else { egui::Theme::Light });
                core.save_settings();
            }
        });
        None
    }

    fn model_section(&mut self, ui: &mut egui::Ui, core: &mut Coach) {
        ui.label(RichText::new("Transcription model").heading());
        match (&core.model().info, &core.model().error, core.model().loading) {
            (_, _, true) => {
                ui.label("Loading the model…");
            }
            (Some(info), _, _) => {
                ui.colored_label(GOOD, format!("In use: {} ({})", info.path.display(), info.describe()));
            }
            (None, Some(err), _) => {
                ui.colored_label(WARN, err);
            }
            _ => {}
        }
        ui.label(RichText::new("Transcription runs on this computer. Downloads come from whisper.cpp's published models and are checked against their SHA-1.").weak());
        // A download ended since the last frame: scan the folder again.
        let downloading = core.download().map(|d| d.name.clone());
        if self.downloading.is_some() && downloading.is_none() {
            self.installed = None;
        }
        self.downloading = downloading;
        let installed = match self.installed.take() {
            Some((list, scanned_with)) if scanned_with == core.model().path => list,
            _ => models::installed(&core.data.models()),
        };
        egui::Grid::new("catalogue").num_columns(5).striped(true).show(ui, |ui| {
            for head in ["Model", "Size", "Speed", "Accuracy", ""] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for entry in models::CATALOG {
                let path = core.data.models().join(entry.file_name());
                let have = installed.iter().any(|m| m.path == path && m.info.is_ok());
                ui.label(if entry.recommended {
                    format!("{} (recommended)", entry.name)
                } else {
                    entry.name.to_owned()
                });
                ui.label(format!("{} MB", entry.size_mb));
                ui.label(entry.speed);
                ui.label(entry.accuracy);
                if have {
                    if ui.button(format!("Use {}", entry.name)).clicked() {
                        self.use_model(core, path);
                    }
                } else if core.download().is_some_and(|d| d.name == entry.name) {
                    ui.label("downloading…");
                } else if ui
                    .add_enabled(core.download().is_none(), egui::Button::new(format!("Download {}", entry.name)))
                    .clicked()
                {
                    core.run(Job::DownloadModel { name: entry.name.to_owned() });
                }
                ui.end_row();
            }
        });
        self.installed = Some((installed, core.model().path.clone()));
        if let Some(d) = core.download() {
            let (done, total) = (d.done.load(Ordering::Relaxed), d.total.load(Ordering::Relaxed));
            ui.horizontal(|ui| {
                let fraction = if total > 0 { done as f32 / total as f32 } else { 0.0 };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .text(format!("{}: {} of {} MB", d.name, done / 1_000_000, total.max(done) / 1_000_000))
                        .desired_width(360.0),
                );
                if ui.button("Cancel download").clicked() {
                    d.cancel.store(true, Ordering::Relaxed);
                }
            });
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        }

        ui.add_space(6.0);
        ui.label(RichText::new("Import a faster-whisper (CTranslate2) model folder").strong());
        ui.horizontal(|ui| {
            let label = ui.label("Folder:");
            ui.add(
                egui::TextEdit::singleline(&mut self.import_dir)
                    .desired_width(420.0)
                    .hint_text("…/model (with model.bin, vocabulary.txt)"),
            )
            .labelled_by(label.id);
            if ui.button("Browse…").clicked() {
                core.run(Job::PickFolder { title: "A faster-whisper model folder".into() });
            }
            if ui.add_enabled(!self.import_dir.trim().is_empty(), egui::Button::new("Import")).clicked() {
                self.import(core);
            }
        });
        ui.label(RichText::new("Or use any whisper.cpp ggml file").strong());
        ui.horizontal(|ui| {
            let label = ui.label("File:");
            ui.add(
                egui::TextEdit::singleline(&mut self.custom_file).desired_width(420.0).hint_text("…/ggml-base.en.bin"),
            )
            .labelled_by(label.id);
            if ui.add_enabled(!self.custom_file.trim().is_empty(), egui::Button::new("Use this file")).clicked() {
                let path = PathBuf::from(self.custom_file.trim());
                match ggml::validate(&path) {
                    Ok(_) => self.use_model(core, path),
                    Err(err) => core.error(err),
                }
            }
        });
        let label = ui.label("Transcription threads");
        let mut threads = core.settings.threads();
        let max = std::thread::available_parallelism().map_or(8, |n| n.get());
        let slider = ui.add(egui::Slider::new(&mut threads, 1..=max.max(1))).labelled_by(label.id);
        if slider.changed() {
            core.settings.threads = Some(threads);
            core.set_threads(threads);
        }
        // Saved when the drag ends, not on every frame of it.
        if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
            core.save_settings();
        }
        ui.label(RichText::new("Default: all cores but one, so recording and the window stay smooth.").weak());
    }

    fn glossary_section(&mut self, ui: &mut egui::Ui, core: &mut Coach) {
        ui.label(RichText::new("Your glossary").heading());
        ui.label(
            RichText::new(
                "Names whisper should spell right in every answer: your companies, products, services and stack \
                 (one per line). Each question's own terms are added by themselves.",
            )
            .weak(),
        );
        let text = self.glossary.get_or_insert_with(|| core.settings.glossary.join("\n"));
        let label = ui.label("Glossary terms");
        let response = ui
            .add(
                egui::TextEdit::multiline(text)
                    .desired_rows(3)
                    .desired_width(f32::INFINITY)
                    .hint_text("Acme Pay\nDebezium\nledger-svc"),
            )
            .labelled_by(label.id);
        if response.lost_focus() {
            let (kept, refused) = prompt::clean_glossary(text);
            self.glossary_refused = refused;
            if kept != core.settings.glossary {
                core.settings.glossary = kept;
                core.save_settings();
            }
        }
        let length: usize = core.settings.glossary.iter().map(|t| t.chars().count() + 2).sum();
        if length > prompt::TERMS_CHARS {
            ui.label(
                RichText::new(format!(
                    "whisper's prompt has room for about {} characters of terms: the first terms here are used, \
                     after each question's own.",
                    prompt::TERMS_CHARS
                ))
                .weak(),
            );
        }
        for refused in &self.glossary_refused {
            ui.colored_label(WARN, format!("Not used: {refused}"));
        }
    }

    fn use_model(&mut self, core: &mut Coach, path: PathBuf) {
        core.settings.model = Some(path.clone());
        core.save_settings();
        core.load_model(Some(path));
    }

    fn import(&mut self, core: &mut Coach) {
        let source = PathBuf::from(self.import_dir.trim());
        let name = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "imported".into());
        let dest = core.data.models().join(format!("ggml-{name}.bin"));
        core.run(Job::ImportModel { source, dest });
    }

    fn microphone_section(&mut self, ui: &mut egui::Ui, core: &mut Coach) {
        ui.label(RichText::new("Microphone").heading());
        if !self.devices_asked {
            self.devices_asked = true;
            core.run(Job::ListDevices);
        }
        let devices = core.devices().map(<[_]>::to_vec);
        let selected = core.settings.input_device.clone();
        let shown = selected.clone().unwrap_or_else(|| "System default".into());
        let mut choice = None;
        egui::ComboBox::from_label("Input device").selected_text(shown).show_ui(ui, |ui| {
            if ui.selectable_label(selected.is_none(), "System default").clicked() {
                choice = Some(None);
            }
            for device in devices.iter().flatten() {
                if ui
                    .selectable_label(
                        selected.as_deref() == Some(&device.id),
                        format!("{} ({})", device.name, device.id),
                    )
                    .clicked()
                {
                    choice = Some(Some(device.id.clone()));
                }
            }
        });
        if let Some(choice) = choice {
            core.settings.input_device = choice;
            core.save_settings();
        }
        if ui.button("Refresh devices").clicked() {
            core.run(Job::ListDevices);
        }
        self.mic_test.ui(ui, core);
    }

    fn feedback_section(&mut self, ui: &mut egui::Ui, core: &mut Coach) {
        ui.label(RichText::new("Feedback").heading());
        let text = self.fillers.get_or_insert_with(|| core.settings.fillers.join(", "));
        let label = ui.label("Filler words (comma-separated)");
        let response = ui.add(egui::TextEdit::singleline(text).desired_width(f32::INFINITY)).labelled_by(label.id);
        if response.lost_focus() {
            let list: Vec<String> = text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
            if list != core.settings.fillers {
                core.settings.fillers = list;
                core.save_settings();
            }
        }
        ui.horizontal(|ui| {
            let label = ui.label("Pace band (words per minute)");
            let mut low = core.settings.pace_min_wpm;
            let mut high = core.settings.pace_max_wpm;
            let a = ui.add(egui::DragValue::new(&mut low).range(60.0..=250.0).prefix("from ")).labelled_by(label.id);
            let b = ui.add(egui::DragValue::new(&mut high).range(60.0..=300.0).prefix("to ")).labelled_by(label.id);
            if (a.changed() || b.changed()) && low < high {
                core.settings.pace_min_wpm = low;
                core.settings.pace_max_wpm = high;
            }
            if a.drag_stopped() || b.drag_stopped() || a.lost_focus() || b.lost_focus() {
                core.save_settings();
            }
        });
        ui.label(RichText::new("New settings apply to answers analysed from now on.").weak());
        let mut follow_ups = core.settings.follow_ups;
        let checkbox = ui.checkbox(&mut follow_ups, "Ask a follow-up probe after each solo answer").on_hover_text(
            "The probe tied to a key point your answer missed, or else the next one, with its own budget.",
        );
        if checkbox.changed() {
            core.settings.follow_ups = follow_ups;
            core.save_settings();
        }
        ui.add_space(4.0);
        ui.label(RichText::new("Filler detection on your voice").strong());
        let record = core.detector_record();
        if record.takes == 0 {
            ui.label(
                RichText::new(
                    "No corrections yet. In review, mark a filler that was not one, or a missed 'um', and the \
                     detector's measured precision and recall on your voice appear here.",
                )
                .weak(),
            );
        } else {
            let pct = |x: Option<f64>| x.map_or("–".to_owned(), |v| format!("{:.0} %", v * 100.0));
            ui.label(format!(
                "Over {} corrected take(s): {} confirmed, {} removed (not fillers), {} added (missed).",
                record.takes, record.confirmed, record.removed, record.added
            ));
            ui.label(format!(
                "Precision {} (of what it reported, how much was right) · recall {} (of what you said, how much it found).",
                pct(record.precision()),
                pct(record.recall())
            ));
        }
        fit_view(ui, core);
        if core.settings.fillers.is_empty() {
            ui.colored_label(BAD, "No filler words: filler counts will be zero.");
        }
    }
}

/// Fitting the um/uh detector to the user's corrections: the button, and
/// the last fit's before and after on the corrected takes.
fn fit_view(ui: &mut egui::Ui, core: &mut Coach) {
    let pct = |x: Option<f64>| x.map_or("–".to_owned(), |v| format!("{:.0} %", v * 100.0));
    ui.horizontal(|ui| {
        let button = egui::Button::new("Fit the um/uh detector to my corrections");
        if ui.add_enabled(!core.is_fitting(), button).clicked() {
            core.run(crate::pipeline::Job::FitFillerDetector);
        }
        if core.is_fitting() {
            ui.spinner();
            ui.label("analysing your corrected takes again…");
        }
        let tuned = core.settings.filler_sensitivity == 1.0;
        if ui.add_enabled(!tuned && !core.is_fitting(), egui::Button::new("Back to the tuned detector")).clicked() {
            core.settings.filler_sensitivity = 1.0;
            core.save_settings();
        }
    });
    ui.label(
        RichText::new(format!("Sensitivity in use: {:.2} (1.00 as tuned).", core.settings.filler_sensitivity)).weak(),
    );
    let Some(fit) = core.filler_fit() else { return };
    if fit.takes == 0 {
        ui.label(RichText::new("No corrected um/uh with their recording and transcript to fit on.").weak());
        return;
    }
    let (before, after) = (fit.score_at(fit.current), fit.score_at(fit.chosen));
    let line = |s: Option<crate::analysis::adapt::Score>| {
        s.map_or("–".to_owned(), |s| format!("precision {} · recall {}", pct(s.precision()), pct(s.recall())))
    };
    if fit.corrections < crate::analysis::adapt::MIN_CORRECTIONS {
        ui.label(format!(
            "{} um/uh correction(s) on {} take(s): at least {} are needed to move the detector; it stays at {:.2}.",
            fit.corrections,
            fit.takes,
            crate::analysis::adapt::MIN_CORRECTIONS,
            fit.current
        ));
    } else {
        ui.label(format!(
            "On your {} corrected take(s) ({} corrections): before {:.2}: {}; after {:.2}: {}.",
            fit.takes,
            fit.corrections,
            fit.current,
            line(before),
            fit.chosen,
            line(after)
        ));
    }
    egui::CollapsingHeader::new("Every sensitivity tried").id_salt("fit-scores").show(ui, |ui| {
        egui::Grid::new("fit-grid").num_columns(2).striped(true).show(ui, |ui| {
            for (s, score) in &fit.scores {
                ui.label(format!("{s:.2}"));
                ui.label(format!(
                    "{} · {} right, {} false, {} missed",
                    line(Some(*score)),
                    score.found,
                    score.false_found,
                    score.missed
                ));
                ui.end_row();
            }
        });
    });
}
