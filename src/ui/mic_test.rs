//! The microphone test: records into a throwaway file and shows the live
//! level, so the user sees the microphone works before the first answer.
//! Used by Settings and by the first-run card on Home.

use eframe::egui;

use super::Coach;
use super::widgets;
use crate::audio::capture::{CaptureEvent, Level, RecordOptions, Recorder, Source};
use crate::audio::wav::TakeMarker;

struct Running {
    recorder: Recorder,
    level: Option<Level>,
    device: Option<String>,
    _dir: tempfile::TempDir,
}

#[derive(Default)]
pub struct MicTest {
    running: Option<Running>,
    /// What the last test showed, said after it stops.
    heard: Option<bool>,
}

impl MicTest {
    pub fn ui(&mut self, ui: &mut egui::Ui, core: &mut Coach) {
        ui.horizontal(|ui| match &mut self.running {
            None => {
                if ui.button("Test the microphone").clicked() {
                    self.start(core);
                }
                match self.heard {
                    Some(true) => {
                        ui.colored_label(widgets::GOOD, "The microphone works.");
                    }
                    Some(false) => {
                        ui.colored_label(widgets::WARN, "Nothing was heard: check the input device in Settings.");
                    }
                    None => {}
                }
            }
            Some(test) => {
                let mut failed = None;
                while let Ok(event) = test.recorder.events.try_recv() {
                    match event {
                        CaptureEvent::Started { device, .. } => test.device = Some(device),
                        CaptureEvent::Level(level) => test.level = Some(level),
                        CaptureEvent::FailedToStart(err) | CaptureEvent::Finished(Err((_, err))) => failed = Some(err),
                        _ => {}
                    }
                }
                widgets::level_meter(ui, test.level.as_ref());
                match &test.device {
                    Some(device) => ui.label(format!("Listening to {device}: say a few words.")),
                    None => ui.label("Opening the microphone…"),
                };
                let stop = ui.button("Stop the test").clicked();
                ui.ctx().request_repaint_after(std::time::Duration::from_millis(50));
                if let Some(err) = failed {
                    core.error(err);
                    self.running = None;
                    self.heard = None;
                } else if stop {
                    self.heard = Some(test.level.is_some_and(|l| !l.too_quiet));
                    self.running = None;
                }
            }
        });
    }

    fn start(&mut self, core: &mut Coach) {
        let Ok(dir) = tempfile::tempdir() else {
            core.error("Cannot create a temporary folder for the microphone test.");
            return;
        };
        let recorder = Recorder::start(
            RecordOptions {
                source: Source::Device(core.settings.input_device.clone()),
                out: dir.path().join("mic-test.wav"),
                marker: TakeMarker { started_at: chrono::Utc::now(), ..Default::default() },
                max_seconds: Some(120.0),
                sink: None,
            },
            core.notify(),
        );
        self.running = Some(Running { recorder, level: None, device: None, _dir: dir });
        self.heard = None;
    }
}
