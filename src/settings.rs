//! User settings (`settings.json` in the data folder), written atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis;
use crate::paths::DataDir;
use crate::util::atomic::{create_private_dir, write_atomic};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The whisper model file to use.
    pub model: Option<PathBuf>,
    /// Decoding threads; `None` means cores - 1.
    pub threads: Option<usize>,
    /// Input device id or name; `None` means the system default.
    pub input_device: Option<String>,
    pub fillers: Vec<String>,
    /// The comfortable pace band, in words per minute.
    pub pace_min_wpm: f64,
    pub pace_max_wpm: f64,
    pub dark_mode: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            model: None,
            threads: None,
            input_device: None,
            fillers: analysis::DEFAULT_FILLERS.iter().map(|s| (*s).to_owned()).collect(),
            pace_min_wpm: analysis::DEFAULT_PACE_WPM.0,
            pace_max_wpm: analysis::DEFAULT_PACE_WPM.1,
            dark_mode: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path} is not valid settings ({reason}); using the defaults until you save new ones")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot save {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

impl Settings {
    /// Loads the settings; a missing file gives the defaults, a broken one
    /// the defaults plus the problem to show (the file is left untouched).
    pub fn load(data: &DataDir) -> (Settings, Option<SettingsError>) {
        Settings::load_from(&data.settings_file())
    }

    pub fn load_from(path: &Path) -> (Settings, Option<SettingsError>) {
        match std::fs::read(path) {
            Err(_) => (Settings::default(), None),
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(settings) => (settings, None),
                Err(e) => {
                    (Settings::default(), Some(SettingsError::Corrupt { path: path.to_owned(), reason: e.to_string() }))
                }
            },
        }
    }

    pub fn save(&self, data: &DataDir) -> Result<(), SettingsError> {
        let path = data.settings_file();
        let err = |reason: String| SettingsError::Write { path: path.clone(), reason };
        create_private_dir(data.root()).map_err(|e| err(e.to_string()))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| err(e.to_string()))?;
        write_atomic(&path, &json).map_err(|e| err(e.to_string()))
    }

    /// The feedback parameters these settings choose.
    pub fn analysis_config(&self) -> analysis::Config {
        analysis::Config {
            fillers: self.fillers.clone(),
            pace_min_wpm: self.pace_min_wpm,
            pace_max_wpm: self.pace_max_wpm,
            ..analysis::Config::default()
        }
    }

    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(crate::transcribe::engine::default_threads).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corrupt_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::new(dir.path());
        let (settings, problem) = Settings::load(&data);
        assert!(problem.is_none());
        assert_eq!(settings, Settings::default());
        let changed = Settings { pace_min_wpm: 120.0, ..Settings::default() };
        changed.save(&data).expect("save");
        assert_eq!(Settings::load(&data).0, changed);
        std::fs::write(data.settings_file(), b"{ nope").expect("write");
        let (settings, problem) = Settings::load(&data);
        assert_eq!(settings, Settings::default());
        assert!(problem.expect("a problem").to_string().contains("settings.json"));
    }
}
