//! The desktop app: thin egui views over the core.

use anyhow::{Result, anyhow};
use eframe::egui;

use crate::content::Library;
use crate::paths::DataDir;

/// Opens the app window and runs until it is closed.
pub fn run_app(data: DataDir) -> Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("interview-coach").with_inner_size([1100.0, 760.0]),
        ..Default::default()
    };
    eframe::run_native("interview-coach", options, Box::new(move |_cc| Ok(Box::new(App::new(data)))))
        .map_err(|err| anyhow!("cannot open the app window: {err}"))
}

pub struct App {
    library: Library,
}

impl App {
    pub fn new(data: DataDir) -> App {
        App { library: Library::load(Some(&data.mocks())) }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading(&self.library.guide.title);
            for loaded in &self.library.mocks {
                let mock = &loaded.mock;
                ui.label(format!("{} — {} min, {} stages", mock.title, mock.minutes, mock.stages.len()));
            }
            for problem in &self.library.problems {
                ui.colored_label(ui.visuals().warn_fg_color, problem.to_string());
            }
        });
    }
}
