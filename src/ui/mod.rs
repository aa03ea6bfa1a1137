//! The desktop app: thin egui views over the pipeline's `Coach`. One module
//! per screen, each with `fn ui(&mut self, ui, coach)`. Everything slow
//! (recording, transcription, file writes, downloads) runs on the coach's
//! workers, which report `AppEvent`s and ask for a repaint.

mod home;
mod mic_test;
mod practice;
mod progress;
mod review;
mod settings;
pub mod widgets;

use anyhow::{Result, anyhow};
use eframe::egui;

use crate::paths::DataDir;
pub use crate::pipeline::Coach;
use crate::pipeline::{AppEvent, Notify};

/// Opens the app window and runs until it is closed.
pub fn run_app(data: DataDir) -> Result<()> {
    let screen = std::env::var("INTERVIEW_COACH_SCREEN").ok();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("interview-coach")
            .with_app_id("interview-coach")
            .with_icon(window_icon())
            .with_inner_size([1180.0, 800.0])
            .with_min_inner_size([760.0, 520.0]),
        ..Default::default()
    };
    eframe::run_native(
        "interview-coach",
        options,
        Box::new(move |cc| {
            let mut app = App::new(data, cc.egui_ctx.clone());
            if let Some(screen) = screen.as_deref() {
                app.open_named(screen);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|err| anyhow!("cannot open the app window: {err}"))
}

/// Which screen is showing.
pub enum Screen {
    Home(home::Home),
    Practice(Box<practice::PracticeScreen>),
    Review(Box<review::Review>),
    Progress(progress::Progress),
    Settings(Box<settings::SettingsScreen>),
}

impl Screen {
    /// Results of background work that a screen asked for (a player opened).
    fn on_event(&mut self, event: AppEvent) {
        match self {
            Screen::Practice(practice) => practice.on_event(event),
            Screen::Review(review) => review.on_event(event),
            Screen::Settings(settings) => settings.on_event(event),
            _ => {}
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Screen::Home(_) => "Home",
            Screen::Practice(_) => "Practice",
            Screen::Review(_) => "Review",
            Screen::Progress(_) => "Progress",
            Screen::Settings(_) => "Settings",
        }
    }
}

/// What a screen asks the app to do next.
pub enum Navigate {
    Home,
    Practice(Box<practice::PracticeScreen>),
    Review { session_id: String, answer: Option<usize> },
    Progress,
    Settings,
}

pub struct App {
    pub core: Coach,
    pub screen: Screen,
    /// A screen asked for by name, opened once the sessions are read.
    pending_screen: Option<String>,
}

impl App {
    pub fn new(data: DataDir, ctx: egui::Context) -> App {
        App::with_worker(data, ctx, crate::transcribe::worker::worker_exe())
    }

    /// With the program that runs transcription workers (tests pass the
    /// crate's binary: their own executable is the test harness).
    pub fn with_worker(data: DataDir, ctx: egui::Context, worker_exe: std::path::PathBuf) -> App {
        install_fallback_font(&ctx);
        let repaint = ctx.clone();
        let notify: Notify = std::sync::Arc::new(move || repaint.request_repaint());
        let mut core = Coach::new(data, notify, worker_exe);
        // Said in the window (a notice) and on stderr, for a launcher's log.
        if let Some(problem) = core.data_problem() {
            eprintln!("warning: {problem}");
        }
        ctx.set_theme(if core.settings.dark_mode { egui::Theme::Dark } else { egui::Theme::Light });
        core.load_model(None);
        App { core, screen: Screen::Home(home::Home::default()), pending_screen: None }
    }

    /// Opens a screen by name (`INTERVIEW_COACH_SCREEN`, for screenshots),
    /// once the sessions are read (the review shows the latest one).
    pub fn open_named(&mut self, name: &str) {
        if !self.core.sessions_loaded() {
            self.pending_screen = Some(name.to_owned());
            return;
        }
        let latest = self.core.sessions().last().map(|s| s.id.clone());
        let target = match name {
            "progress" => Navigate::Progress,
            "settings" => Navigate::Settings,
            "review" => match latest {
                Some(session_id) => Navigate::Review { session_id, answer: Some(0) },
                None => Navigate::Home,
            },
            "practice" => match practice::PracticeScreen::start(
                &mut self.core,
                "phone-screen",
                Some("go-fundamentals"),
                crate::store::Mode::Solo,
            ) {
                Ok(p) => Navigate::Practice(Box::new(p)),
                Err(err) => {
                    self.core.error(err);
                    Navigate::Home
                }
            },
            // The latest answer a probe would follow up on a missed key point.
            "followup" => match self.follow_up_example() {
                Some((session_id, question_id)) => {
                    match crate::pipeline::practice::Practice::single(&mut self.core, &question_id, Some(&session_id)) {
                        Ok(p) => Navigate::Practice(Box::new(practice::PracticeScreen::over(p))),
                        Err(err) => {
                            self.core.error(err);
                            Navigate::Home
                        }
                    }
                }
                None => Navigate::Home,
            },
            _ => Navigate::Home,
        };
        self.navigate(target);
    }

    /// (session, question) of the newest analysed answer whose missed key
    /// points have a probe.
    fn follow_up_example(&self) -> Option<(String, String)> {
        use crate::analysis::follow_up;
        self.core.sessions().iter().rev().find_map(|s| {
            s.answers.iter().rev().filter(|a| a.is_main_take()).find_map(|a| {
                let missed = &a.feedback.as_ref()?.key_points.missed;
                let q = self.core.library.question(&a.question_id)?;
                let choice = follow_up::choose(&follow_up::probes(q.question, q.stage), missed, &[])?;
                choice.missed.map(|_| (s.id.clone(), a.question_id.clone()))
            })
        })
    }

    pub fn navigate(&mut self, to: Navigate) {
        if let Screen::Practice(practice) = &mut self.screen {
            practice.leave(&mut self.core);
        }
        self.screen = match to {
            Navigate::Home => Screen::Home(home::Home::default()),
            Navigate::Practice(p) => Screen::Practice(p),
            Navigate::Review { session_id, answer } => {
                Screen::Review(Box::new(review::Review::new(session_id, answer)))
            }
            Navigate::Progress => Screen::Progress(progress::Progress::default()),
            Navigate::Settings => Screen::Settings(Box::default()),
        };
    }

    /// One frame: apply what the workers reported, then draw.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        for event in self.core.poll() {
            self.screen.on_event(event);
        }
        if self.core.sessions_loaded()
            && let Some(name) = self.pending_screen.take()
        {
            self.open_named(&name);
        }
        if let Screen::Practice(practice) = &mut self.screen {
            practice.poll(&mut self.core);
        }
        let mut go: Option<Navigate> = None;
        egui::Panel::top("nav").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("interview-coach");
                ui.separator();
                let current = self.screen.name();
                for (name, target) in [("Home", 0), ("Progress", 1), ("Settings", 2)] {
                    if ui.selectable_label(current == name, name).clicked() && current != name {
                        go = Some(match target {
                            0 => Navigate::Home,
                            1 => Navigate::Progress,
                            _ => Navigate::Settings,
                        });
                    }
                }
                if matches!(self.screen, Screen::Practice(_) | Screen::Review(_)) {
                    let _ = ui.selectable_label(true, current);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    widgets::model_badge(ui, &self.core);
                });
            });
        });
        egui::Panel::bottom("notices").show(ui, |ui| {
            widgets::notices(ui, &mut self.core);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let next = match &mut self.screen {
                Screen::Home(home) => home.ui(ui, &mut self.core),
                Screen::Practice(practice) => practice.ui(ui, &mut self.core),
                Screen::Review(review) => review.ui(ui, &mut self.core),
                Screen::Progress(progress) => progress.ui(ui, &mut self.core),
                Screen::Settings(settings) => settings.ui(ui, &mut self.core),
            };
            if next.is_some() {
                go = next;
            }
        });
        if let Some(to) = go {
            self.navigate(to);
        }
        // Reactive: repaint only when something moves (workers request repaints).
        if self.core.busy() || matches!(&self.screen, Screen::Practice(p) if p.is_live()) {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(50));
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self) {
        if let Screen::Practice(practice) = &mut self.screen {
            practice.leave(&mut self.core);
        }
        self.core.flush(std::time::Duration::from_secs(5));
    }
}

/// The app's icon (the same as the launcher's), for the window.
fn window_icon() -> egui::IconData {
    let png = include_bytes!("../../assets/icons/hicolor/256x256/apps/interview-coach.png");
    eframe::icon_data::from_png_bytes(png).unwrap_or_default()
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
