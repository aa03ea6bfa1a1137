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
    /// The user's own terms (company, product and stack names) that whisper
    /// should spell right in every answer; cleaned by `prompt::clean_glossary`.
    pub glossary: Vec<String>,
    /// Solo mode: after an answer is transcribed, ask one follow-up probe.
    pub follow_ups: bool,
    /// The audio um/uh detector's sensitivity, fitted to the user's
    /// corrections (`analysis::adapt`); 1.0 is the detector as tuned.
    pub filler_sensitivity: f64,
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
            glossary: Vec::new(),
            follow_ups: true,
            filler_sensitivity: 1.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path} is not valid settings ({reason}); it was kept as {kept} and the defaults apply")]
    Corrupt { path: PathBuf, reason: String, kept: PathBuf },
    #[error("{path} is not valid settings ({reason}) and could not be set aside ({detail}); the defaults apply")]
    CorruptStuck { path: PathBuf, reason: String, detail: String },
    #[error("cannot read {path}: {reason}; the defaults apply")]
    Read { path: PathBuf, reason: String },
    #[error("cannot save {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

impl Settings {
    /// Loads the settings; a missing file gives the defaults. A damaged one
    /// is renamed `settings.json.bad-<time>` (so nothing the user wrote is
    /// ever overwritten, and they are told once) and the defaults apply.
    pub fn load(data: &DataDir) -> (Settings, Option<SettingsError>) {
        Settings::load_from(&data.settings_file())
    }

    pub fn load_from(path: &Path) -> (Settings, Option<SettingsError>) {
        match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Settings::default(), None),
            Err(e) => (Settings::default(), Some(SettingsError::Read { path: path.to_owned(), reason: e.to_string() })),
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(settings) => (settings, None),
                Err(e) => (Settings::default(), Some(set_aside(path, e.to_string()))),
            },
        }
    }

    pub fn save(&self, data: &DataDir) -> Result<(), SettingsError> {
        let path = data.settings_file();
        let err = |reason: String| SettingsError::Write { path: path.clone(), reason };
        create_private_dir(data.root()).map_err(|e| err(e.to_string()))?;
        // A file that appeared or broke since it was loaded is kept, not overwritten.
        if let Ok(bytes) = std::fs::read(&path)
            && let Err(e) = serde_json::from_slice::<Settings>(&bytes)
            && let SettingsError::CorruptStuck { detail, .. } = set_aside(&path, e.to_string())
        {
            return Err(err(format!("the damaged file could not be set aside first ({detail})")));
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| err(e.to_string()))?;
        write_atomic(&path, &json).map_err(|e| err(e.to_string()))
    }

    /// The feedback parameters these settings choose.
    pub fn analysis_config(&self) -> analysis::Config {
        analysis::Config {
            fillers: self.fillers.clone(),
            pace_min_wpm: self.pace_min_wpm,
            pace_max_wpm: self.pace_max_wpm,
            filler_sensitivity: analysis::adapt::bounded(self.filler_sensitivity),
            ..analysis::Config::default()
        }
    }

    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(crate::transcribe::engine::default_threads).max(1)
    }
}

/// Renames a damaged settings file aside; says where it went.
fn set_aside(path: &Path, reason: String) -> SettingsError {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    let name = |n: u32| {
        let mut kept = path.as_os_str().to_owned();
        kept.push(if n == 1 { format!(".bad-{stamp}") } else { format!(".bad-{stamp}-{n}") });
        PathBuf::from(kept)
    };
    // Never over an earlier kept file.
    let kept = (1..).map(name).find(|p| !p.exists()).unwrap_or_else(|| name(0));
    match std::fs::rename(path, &kept) {
        Ok(()) => SettingsError::Corrupt { path: path.to_owned(), reason, kept },
        Err(e) => SettingsError::CorruptStuck { path: path.to_owned(), reason, detail: e.to_string() },
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

    #[test]
    fn a_damaged_file_is_kept_aside_said_once_and_never_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::new(dir.path());
        let user_file = br#"{ "fillers": ["um", "so"], "pace_min_wpm": 110.0, "dark_mode": false, }"#;
        std::fs::write(data.settings_file(), user_file).expect("write");
        let (settings, problem) = Settings::load(&data);
        assert_eq!(settings, Settings::default());
        let Some(SettingsError::Corrupt { kept, .. }) = problem else { panic!("{problem:?}") };
        assert_eq!(std::fs::read(&kept).expect("kept aside"), user_file);
        assert!(Settings::load(&data).1.is_none(), "said once");
        // Saving now (e.g. `model use`) writes new settings beside the kept file.
        Settings::default().save(&data).expect("save");
        assert_eq!(std::fs::read(&kept).expect("still kept"), user_file);
        // A file broken after loading is set aside before a save, not overwritten.
        std::fs::write(data.settings_file(), b"{ broken").expect("write");
        Settings::default().save(&data).expect("save");
        let aside = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| std::fs::read(e.expect("entry").path()).ok())
            .any(|bytes| bytes == b"{ broken");
        assert!(aside, "the broken file was kept");
        assert_eq!(std::fs::read(&kept).expect("the first still kept"), user_file);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

            /// Arbitrary bytes and mutations of a real file: settings or a
            /// problem, never a panic, and the file is never lost.
            #[test]
            fn damaged_files_never_panic_and_are_kept(
                bytes in proptest::collection::vec(any::<u8>(), 0..512),
                at in 0usize..512,
                byte in any::<u8>(),
                mutate_real in any::<bool>(),
            ) {
                let dir = tempfile::tempdir().expect("temp dir");
                let data = DataDir::new(dir.path());
                let content = if mutate_real {
                    let mut real = serde_json::to_vec_pretty(&Settings::default()).expect("json");
                    let at = at % real.len();
                    real[at] = byte;
                    real
                } else {
                    bytes
                };
                std::fs::write(data.settings_file(), &content).expect("write");
                let (_, problem) = Settings::load(&data);
                if let Some(SettingsError::Corrupt { kept, .. }) = problem {
                    prop_assert_eq!(std::fs::read(kept).expect("kept"), content);
                }
            }
        }
    }
}
