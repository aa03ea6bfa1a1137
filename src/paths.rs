//! Where user data lives: `--data-dir`, else `INTERVIEW_COACH_DATA_DIR`, else
//! the platform data folder (e.g. `~/.local/share/interview-coach`).

use std::path::{Path, PathBuf};

pub const DATA_DIR_ENV: &str = "INTERVIEW_COACH_DATA_DIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot find a home folder for user data; pass --data-dir DIR or set {DATA_DIR_ENV}")]
pub struct NoDataDir;

impl DataDir {
    /// `explicit` comes from the flag or the environment variable (clap reads both).
    pub fn resolve(explicit: Option<PathBuf>) -> Result<DataDir, NoDataDir> {
        if let Some(root) = explicit.filter(|p| !p.as_os_str().is_empty()) {
            return Ok(DataDir { root });
        }
        directories::ProjectDirs::from("", "", "interview-coach")
            .map(|dirs| DataDir { root: dirs.data_dir().to_path_buf() })
            .ok_or(NoDataDir)
    }

    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// One folder per session, each with `session.json` and its WAV takes.
    pub fn sessions(&self) -> PathBuf {
        self.root.join("sessions")
    }
    /// User-authored mock and rubric files (`*.toml`).
    pub fn mocks(&self) -> PathBuf {
        self.root.join("mocks")
    }
    /// Whisper models (ggml `.bin` files).
    pub fn models(&self) -> PathBuf {
        self.root.join("models")
    }
    pub fn settings_file(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    /// Can sessions and settings be saved here? Creates the folder and
    /// writes (and removes) a small file: a read-only mount or a folder of
    /// another user fails here, at start, rather than at the first save.
    pub fn check_writable(&self) -> std::io::Result<()> {
        crate::util::atomic::create_private_dir(&self.root)?;
        let probe = self.root.join(format!(".write-test-{}", std::process::id()));
        std::fs::write(&probe, b"ok")?;
        std::fs::remove_file(&probe)
    }
}
