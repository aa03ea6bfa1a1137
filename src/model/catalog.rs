//! Whisper models for users: the catalogue of whisper.cpp's published ggml
//! files, the models installed in the data folder, and downloads that resume
//! and are checked before they are ever loaded.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha1::{Digest, Sha1};

use super::ggml::{self, ModelInfo};

/// One downloadable model with whisper.cpp's published size and SHA-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    pub name: &'static str,
    pub size_mb: u32,
    pub sha1: &'static str,
    /// Plain-English speed and accuracy, for the settings screen.
    pub speed: &'static str,
    pub accuracy: &'static str,
    pub recommended: bool,
}

pub const BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

pub const CATALOG: [CatalogEntry; 9] = [
    CatalogEntry {
        name: "tiny.en",
        size_mb: 75,
        sha1: "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
        speed: "fastest",
        accuracy: "fair",
        recommended: false,
    },
    CatalogEntry {
        name: "tiny.en-q5_1",
        size_mb: 31,
        sha1: "3fb92ec865cbbc769f08137f22470d6b66e071b6",
        speed: "fastest",
        accuracy: "fair",
        recommended: false,
    },
    CatalogEntry {
        name: "tiny.en-q8_0",
        size_mb: 42,
        sha1: "802d6668e7d411123e672abe4cb6c18f12306abb",
        speed: "fastest",
        accuracy: "fair",
        recommended: false,
    },
    CatalogEntry {
        name: "base.en",
        size_mb: 142,
        sha1: "137c40403d78fd54d454da0f9bd998f78703390c",
        speed: "fast",
        accuracy: "good",
        recommended: true,
    },
    CatalogEntry {
        name: "base.en-q5_1",
        size_mb: 57,
        sha1: "d26d7ce5a1b6e57bea5d0431b9c20ae49423c94a",
        speed: "fast",
        accuracy: "good",
        recommended: false,
    },
    CatalogEntry {
        name: "base.en-q8_0",
        size_mb: 78,
        sha1: "bb1574182e9b924452bf0cd1510ac034d323e948",
        speed: "fast",
        accuracy: "good",
        recommended: false,
    },
    CatalogEntry {
        name: "small.en",
        size_mb: 466,
        sha1: "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
        speed: "slower",
        accuracy: "very good",
        recommended: false,
    },
    CatalogEntry {
        name: "small.en-q5_1",
        size_mb: 181,
        sha1: "20f54878d608f94e4a8ee3ae56016571d47cba34",
        speed: "slower",
        accuracy: "very good",
        recommended: false,
    },
    CatalogEntry {
        name: "small.en-q8_0",
        size_mb: 252,
        sha1: "9d75ff4ccfa0a8217870d7405cf8cef0a5579852",
        speed: "slower",
        accuracy: "very good",
        recommended: false,
    },
];

impl CatalogEntry {
    pub fn file_name(&self) -> String {
        format!("ggml-{}.bin", self.name)
    }
    pub fn url(&self) -> String {
        format!("{BASE_URL}/{}", self.file_name())
    }
}

pub fn catalog_entry(name: &str) -> Option<&'static CatalogEntry> {
    let name = name.strip_prefix("ggml-").unwrap_or(name).strip_suffix(".bin").unwrap_or(name);
    CATALOG.iter().find(|e| e.name == name)
}

/// A model file in the models folder.
#[derive(Debug)]
pub struct Installed {
    pub path: PathBuf,
    pub info: Result<ModelInfo, ggml::ModelError>,
}

/// The `.bin` files in the models folder, each validated (a truncated or
/// foreign file is listed with its problem, never loaded).
pub fn installed(models_dir: &Path) -> Vec<Installed> {
    let mut paths: Vec<PathBuf> = fs::read_dir(models_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "bin"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths.into_iter().map(|path| Installed { info: ggml::validate(&path), path }).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("no model \"{0}\" in the catalogue; choose one of: {list}", list = CATALOG.iter().map(|e| e.name).collect::<Vec<_>>().join(", "))]
    Unknown(String),
    #[error("download of {url} failed: {reason}; run the download again to resume")]
    Network { url: String, reason: String },
    #[error("the server answered {status} for {url}")]
    Status { url: String, status: u16 },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error(
        "the downloaded file does not match the published checksum (SHA-1 {actual}, expected {expected}); it was deleted, download it again"
    )]
    Checksum { expected: String, actual: String },
    #[error("the download was cancelled; run it again to resume")]
    Cancelled,
    #[error(transparent)]
    Invalid(#[from] ggml::ModelError),
}

/// Progress of a download, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: Option<u64>,
}

/// Downloads `url` to `dest`, resuming a `.partial` file left by an earlier
/// try (HTTP Range), checking the SHA-1 and the ggml structure before the
/// file gets its final name. A mismatched file is deleted so a retry starts
/// clean; nothing half-downloaded is ever loaded.
pub fn download(
    url: &str,
    dest: &Path,
    sha1_hex: Option<&str>,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<ModelInfo, DownloadError> {
    let partial = partial_path(dest);
    let write_err =
        |path: &Path, e: &dyn std::fmt::Display| DownloadError::Write { path: path.to_owned(), reason: e.to_string() };
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| write_err(dir, &e))?;
    }
    let have = fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    let net_err = |e: &dyn std::fmt::Display| DownloadError::Network { url: url.to_owned(), reason: e.to_string() };
    let mut request = ureq::get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(response) => Some(response),
        // Asked to resume past the end: the partial file is complete.
        Err(ureq::Error::StatusCode(416)) if have > 0 => None,
        Err(ureq::Error::StatusCode(status)) => return Err(DownloadError::Status { url: url.to_owned(), status }),
        Err(e) => return Err(net_err(&e)),
    };
    if let Some(response) = response {
        let resumed = response.status().as_u16() == 206;
        let length: Option<u64> =
            response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let start = if resumed { have } else { 0 };
        let total = length.map(|l| l + start);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&partial)
            .map_err(|e| write_err(&partial, &e))?;
        let mut reader = response.into_body().into_reader();
        let mut buf = vec![0u8; 256 * 1024];
        let mut done = start;
        on_progress(Progress { done, total });
        loop {
            if cancel.load(Ordering::Relaxed) {
                let _ = file.sync_all();
                return Err(DownloadError::Cancelled);
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = file.sync_all();
                    return Err(net_err(&e));
                }
            };
            file.write_all(&buf[..n]).map_err(|e| write_err(&partial, &e))?;
            done += n as u64;
            on_progress(Progress { done, total });
        }
        file.sync_all().map_err(|e| write_err(&partial, &e))?;
        if let Some(total) = total
            && done < total
        {
            return Err(net_err(&format!("the connection closed after {done} of {total} bytes")));
        }
    }
    if let Some(expected) = sha1_hex {
        let actual = file_sha1(&partial).map_err(|e| write_err(&partial, &e))?;
        if !actual.eq_ignore_ascii_case(expected) {
            let _ = fs::remove_file(&partial);
            return Err(DownloadError::Checksum { expected: expected.to_owned(), actual });
        }
    }
    let info = match ggml::validate(&partial) {
        Ok(info) => info,
        Err(err) => {
            let _ = fs::remove_file(&partial);
            return Err(err.into());
        }
    };
    fs::rename(&partial, dest).map_err(|e| write_err(dest, &e))?;
    Ok(ModelInfo { path: dest.to_owned(), ..info })
}

/// Downloads a catalogue model into the models folder.
pub fn download_named(
    name: &str,
    models_dir: &Path,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<ModelInfo, DownloadError> {
    let entry = catalog_entry(name).ok_or_else(|| DownloadError::Unknown(name.to_owned()))?;
    download(&entry.url(), &models_dir.join(entry.file_name()), Some(entry.sha1), cancel, on_progress)
}

pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

pub fn file_sha1(path: &Path) -> io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_names_and_urls() {
        assert_eq!(CATALOG.iter().filter(|e| e.recommended).count(), 1);
        let base = catalog_entry("base.en").expect("base.en");
        assert_eq!(base.url(), "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.en.bin");
        assert_eq!(catalog_entry("ggml-tiny.en-q5_1.bin").map(|e| e.name), Some("tiny.en-q5_1"));
        assert!(catalog_entry("huge").is_none());
    }

    #[test]
    fn sha1_of_a_known_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("abc");
        fs::write(&path, b"abc").expect("write");
        assert_eq!(file_sha1(&path).expect("sha1"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
