//! Model downloads against a local HTTP server on 127.0.0.1 serving the
//! imported test model: a transfer cut off midway resumes with a Range
//! request; a wrong checksum is refused and leaves nothing to load.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use interview_coach::model::catalog::{self as models, DownloadError};

/// Serves `body` at any path; honours `Range: bytes=N-`. The first
/// `cut_first` responses stop after half the body (a dropped connection).
struct Server {
    url: String,
    ranges_seen: Arc<AtomicUsize>,
}

fn serve(body: Vec<u8>, cut_first: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}/ggml-test.bin", listener.local_addr().expect("addr"));
    let ranges_seen = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&ranges_seen);
    let body = Arc::new(body);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut start = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(range) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    start = range.trim().trim_end_matches('-').parse().unwrap_or(0);
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }
            let rest = &body[start.min(body.len())..];
            let head = if start > 0 {
                format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nConnection: close\r\n\r\n",
                    rest.len(),
                    start,
                    body.len() - 1,
                    body.len()
                )
            } else {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", rest.len())
            };
            let _ = stream.write_all(head.as_bytes());
            let send = if n < cut_first { &rest[..rest.len() / 2] } else { rest };
            let _ = stream.write_all(send);
            let _ = stream.flush();
            // Dropping the stream closes the connection (midway when cut).
        }
    });
    Server { url, ranges_seen }
}

fn model_bytes(test: &str) -> Option<Vec<u8>> {
    let model = common::test_model(test)?;
    let mut bytes = Vec::new();
    std::fs::File::open(model).expect("open").read_to_end(&mut bytes).expect("read");
    Some(bytes)
}

#[test]
fn a_download_cut_midway_resumes_and_is_checked() {
    let Some(body) = model_bytes("a_download_cut_midway_resumes_and_is_checked") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let sum = {
        let path = dir.path().join("source.bin");
        std::fs::write(&path, &body).expect("write");
        models::file_sha1(&path).expect("sha1")
    };
    let server = serve(body.clone(), 1);
    let dest = dir.path().join("models/ggml-test.bin");
    let cancel = AtomicBool::new(false);
    let mut progress = Vec::new();

    let first = models::download(&server.url, &dest, Some(&sum), &cancel, &mut |p| progress.push(p));
    assert!(matches!(first, Err(DownloadError::Network { .. })), "{first:?}");
    assert!(!dest.exists(), "a partial download is never installed");
    let partial = models::partial_path(&dest);
    assert_eq!(std::fs::metadata(&partial).expect("partial kept").len(), body.len() as u64 / 2);

    let info = models::download(&server.url, &dest, Some(&sum), &cancel, &mut |p| progress.push(p)).expect("resumed");
    assert_eq!(server.ranges_seen.load(Ordering::SeqCst), 1, "the second try asked for the rest only");
    assert_eq!(std::fs::read(&dest).expect("model"), body);
    assert!(!partial.exists());
    assert_eq!(info.kind, "tiny");
    let last = progress.last().expect("progress reported");
    assert_eq!((last.done, last.total), (body.len() as u64, Some(body.len() as u64)));
}

#[test]
fn a_wrong_checksum_is_refused_and_a_retry_starts_clean() {
    let Some(body) = model_bytes("a_wrong_checksum_is_refused_and_a_retry_starts_clean") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = serve(body, 0);
    let dest = dir.path().join("ggml-test.bin");
    let cancel = AtomicBool::new(false);
    let wrong = "0000000000000000000000000000000000000000";
    let result = models::download(&server.url, &dest, Some(wrong), &cancel, &mut |_| {});
    let Err(err @ DownloadError::Checksum { .. }) = result else { panic!("expected a checksum error, got {result:?}") };
    assert!(err.to_string().contains("download it again"), "{err}");
    assert!(!dest.exists() && !models::partial_path(&dest).exists(), "nothing left to load or resume from");
    // The model list never offers a half file either.
    assert!(models::installed(dir.path()).is_empty());
}
