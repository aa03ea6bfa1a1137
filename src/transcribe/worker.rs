//! Transcription in a worker process (`interview-coach worker`): JSON lines
//! over stdin/stdout, the model kept loaded between takes. A native crash in
//! whisper.cpp (a ggml assertion aborts the process) ends the worker, not the
//! app; the client reports it and starts a new worker for the next take.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::Transcript;
use super::engine::Engine;
use super::prompt::Prompt;
use crate::audio::{resample, wav};
use crate::model::ggml::ModelInfo;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    Load {
        model: PathBuf,
    },
    TranscribeFile {
        path: PathBuf,
        threads: usize,
        #[serde(default)]
        prompt: Prompt,
    },
    /// 16 kHz mono audio as base64 of little-endian i16; `previous` is the
    /// text just before it (the previous chunk), for continuity.
    TranscribeSamples {
        pcm16: String,
        threads: usize,
        #[serde(default)]
        prompt: Prompt,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        previous: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Envelope {
    id: u64,
    #[serde(flatten)]
    request: Request,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Loaded(ModelInfo),
    Transcript(Transcript),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Response {
    id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ok: Option<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the transcriber crashed ({status}){detail}; the recording is kept and can be transcribed again")]
    Crashed { status: String, detail: String },
    #[error("cannot start the transcriber ({exe}): {reason}")]
    Spawn { exe: String, reason: String },
    #[error("{0}")]
    Failed(String),
    #[error("no model is loaded: choose or import one in Settings (or pass --model)")]
    NoModel,
    #[error("transcription was cancelled")]
    Cancelled,
    #[error(
        "the transcriber did not answer for {0} s and was stopped; the recording is kept and can be transcribed again"
    )]
    Hung(u64),
}

/// Loading a model reads up to a few GB.
const LOAD_TIMEOUT: Duration = Duration::from_secs(300);

fn samples_seconds(samples: &[f32]) -> f64 {
    samples.len() as f64 / f64::from(crate::util::SAMPLE_RATE)
}

pub fn encode_pcm16(samples: &[f32]) -> String {
    let bytes: Vec<u8> = samples.iter().flat_map(|&s| wav::f32_to_i16(s).to_le_bytes()).collect();
    BASE64.encode(bytes)
}

fn decode_pcm16(text: &str) -> Result<Vec<f32>, String> {
    let bytes = BASE64.decode(text).map_err(|e| format!("bad audio payload: {e}"))?;
    Ok(bytes.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0).collect())
}

/// The worker's main loop: reads requests from stdin until it closes.
pub fn serve() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut engine: Option<Engine> = None;
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<Envelope>(&line) {
            Err(err) => Response { id: 0, ok: None, error: Some(format!("bad request: {err}")) },
            Ok(Envelope { id, request }) => match handle(&mut engine, request) {
                Ok(reply) => Response { id, ok: Some(reply), error: None },
                Err(err) => Response { id, ok: None, error: Some(err) },
            },
        };
        serde_json::to_writer(&mut stdout, &response)?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    Ok(())
}

fn handle(engine: &mut Option<Engine>, request: Request) -> Result<Reply, String> {
    match request {
        Request::Load { model } => {
            let loaded = Engine::load(&model).map_err(|e| e.to_string())?;
            let info = loaded.info().clone();
            *engine = Some(loaded);
            Ok(Reply::Loaded(info))
        }
        Request::TranscribeFile { path, threads, prompt } => {
            let engine = engine.as_ref().ok_or_else(|| WorkerError::NoModel.to_string())?;
            let (samples, rate) = wav::read_mono(&path).map_err(|e| e.to_string())?;
            let samples = resample::resample_clip(&samples, rate).map_err(|e| e.to_string())?;
            engine.transcribe_long(&samples, threads, &prompt).map(Reply::Transcript).map_err(|e| e.to_string())
        }
        Request::TranscribeSamples { pcm16, threads, prompt, previous } => {
            let engine = engine.as_ref().ok_or_else(|| WorkerError::NoModel.to_string())?;
            let samples = decode_pcm16(&pcm16)?;
            engine.transcribe(&samples, threads, &prompt, &previous).map(Reply::Transcript).map_err(|e| e.to_string())
        }
    }
}

enum FromWorker {
    Line(Response),
    Closed,
}

/// The app's side of one worker process. Calls block: use it from a
/// background thread (the `service`) or the CLI.
pub struct WorkerClient {
    exe: PathBuf,
    process: Option<Running>,
    /// Shared so another thread can cancel by killing the process.
    child: Arc<Mutex<Option<Child>>>,
    /// Set by a cancel, so its kill is told apart from a crash.
    cancelled: Arc<std::sync::atomic::AtomicBool>,
    model: Option<PathBuf>,
    /// Seconds a take may take per second of audio before the worker counts
    /// as hung: more for bigger models.
    allowance_per_audio_s: f64,
    next_id: u64,
}

struct Running {
    stdin: ChildStdin,
    replies: Receiver<FromWorker>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

/// Generous: 5 s per second of audio up to base's size (tiny.en runs at
/// about 0.07 on one slow core), growing with the encoder's work
/// (layers × width²), so a large model on one thread (several times real
/// time) is not taken for a hung worker.
fn allowance_per_audio_s(info: &ModelInfo) -> f64 {
    const BASE_WORK: f64 = 6.0 * 512.0 * 512.0;
    let work = f64::from(info.n_audio_layer) * f64::from(info.n_audio_state).powi(2);
    5.0 * (work / BASE_WORK).max(1.0)
}

/// A handle that can stop the worker from another thread.
#[derive(Clone)]
pub struct CancelHandle(Arc<Mutex<Option<Child>>>, Arc<std::sync::atomic::AtomicBool>);

impl CancelHandle {
    pub fn cancel(&self) {
        self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut guard) = self.0.lock()
            && let Some(child) = guard.as_mut()
        {
            let _ = child.kill();
        }
    }
}

/// The program that runs workers: `INTERVIEW_COACH_WORKER_EXE`, else this one.
pub fn worker_exe() -> PathBuf {
    std::env::var_os("INTERVIEW_COACH_WORKER_EXE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| PathBuf::from("interview-coach"))
}

impl WorkerClient {
    pub fn new(exe: PathBuf) -> WorkerClient {
        WorkerClient {
            exe,
            process: None,
            child: Arc::new(Mutex::new(None)),
            cancelled: Arc::default(),
            model: None,
            allowance_per_audio_s: 5.0,
            next_id: 1,
        }
    }

    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(Arc::clone(&self.child), Arc::clone(&self.cancelled))
    }

    fn ensure_started(&mut self) -> Result<(), WorkerError> {
        if self.process.is_some() {
            return Ok(());
        }
        let spawn_err =
            |e: std::io::Error| WorkerError::Spawn { exe: self.exe.display().to_string(), reason: e.to_string() };
        let mut child = Command::new(&self.exe)
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(WorkerError::Spawn { exe: self.exe.display().to_string(), reason: "no pipes".into() });
        };
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Response>(&line) {
                    Ok(response) => {
                        if tx.send(FromWorker::Line(response)).is_err() {
                            return;
                        }
                    }
                    Err(err) => log::warn!("transcriber said something unexpected: {err}"),
                }
            }
            let _ = tx.send(FromWorker::Closed);
        });
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr_tail);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log::debug!("transcriber: {line}");
                if let Ok(mut tail) = tail.lock() {
                    if tail.len() == 8 {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        });
        if let Ok(mut guard) = self.child.lock() {
            *guard = Some(child);
        }
        self.process = Some(Running { stdin, replies, stderr_tail });
        if let Some(model) = self.model.clone() {
            // A fresh worker after a crash: load the model again. If that
            // fails, no model is loaded: say so now and every time after,
            // rather than let the next take fail with a puzzling message.
            if let Err(err) = self.call(Request::Load { model: model.clone() }, LOAD_TIMEOUT) {
                self.model = None;
                self.kill();
                let _ = self.reap();
                return Err(WorkerError::Failed(format!(
                    "the transcriber restarted but could not load {} again ({err}); choose the model again in Settings",
                    model.display()
                )));
            }
        }
        Ok(())
    }

    /// Sends a request and waits for its reply, at most `timeout`: a worker
    /// that hangs is stopped rather than blocking transcription for good.
    fn call(&mut self, request: Request, timeout: Duration) -> Result<Reply, WorkerError> {
        self.ensure_started()?;
        let id = self.next_id;
        self.next_id += 1;
        let line = serde_json::to_string(&Envelope { id, request }).map_err(|e| WorkerError::Failed(e.to_string()))?;
        let sent = match self.process.as_mut() {
            Some(running) => running
                .stdin
                .write_all(line.as_bytes())
                .and_then(|()| running.stdin.write_all(b"\n"))
                .and_then(|()| running.stdin.flush()),
            None => return Err(WorkerError::Failed("transcriber not running".into())),
        };
        loop {
            let message = match (&sent, self.process.as_ref()) {
                (Ok(()), Some(running)) => match running.replies.recv_timeout(timeout) {
                    Ok(message) => message,
                    Err(RecvTimeoutError::Timeout) => {
                        self.kill();
                        let _ = self.reap();
                        return Err(WorkerError::Hung(timeout.as_secs()));
                    }
                    Err(RecvTimeoutError::Disconnected) => FromWorker::Closed,
                },
                _ => FromWorker::Closed,
            };
            match message {
                FromWorker::Line(response) if response.id == id => {
                    return match (response.ok, response.error) {
                        (Some(reply), _) => Ok(reply),
                        (None, Some(error)) => Err(WorkerError::Failed(error)),
                        (None, None) => Err(WorkerError::Failed("empty reply from the transcriber".into())),
                    };
                }
                FromWorker::Line(_) => continue, // a reply to a request given up on
                FromWorker::Closed => return Err(self.reap()),
            }
        }
    }

    fn kill(&self) {
        if let Ok(mut guard) = self.child.lock()
            && let Some(child) = guard.as_mut()
        {
            let _ = child.kill();
        }
    }

    /// The worker is gone: collect how it ended.
    fn reap(&mut self) -> WorkerError {
        let running = self.process.take();
        let child = self.child.lock().ok().and_then(|mut guard| guard.take());
        let status = child.and_then(|mut c| c.wait().ok());
        let tail: Vec<String> =
            running.and_then(|r| r.stderr_tail.lock().ok().map(|t| t.iter().cloned().collect())).unwrap_or_default();
        if self.cancelled.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return WorkerError::Cancelled;
        }
        let detail = tail.last().map(|l| format!(": {l}")).unwrap_or_default();
        WorkerError::Crashed {
            status: status.map(|s| s.to_string()).unwrap_or_else(|| "no exit status".into()),
            detail,
        }
    }

    /// Loads a model (kept for later takes and reloaded after a crash).
    pub fn load(&mut self, model: &Path) -> Result<ModelInfo, WorkerError> {
        self.model = None;
        match self.call(Request::Load { model: model.to_owned() }, LOAD_TIMEOUT)? {
            Reply::Loaded(info) => {
                self.model = Some(model.to_owned());
                self.allowance_per_audio_s = allowance_per_audio_s(&info);
                Ok(info)
            }
            Reply::Transcript(_) => Err(WorkerError::Failed("unexpected reply to load".into())),
        }
    }

    /// The worker's process id, once it runs.
    pub fn pid(&mut self) -> Option<u32> {
        self.ensure_started().ok()?;
        self.child.lock().ok()?.as_ref().map(Child::id)
    }

    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    pub fn transcribe_file(&mut self, path: &Path, threads: usize, prompt: &Prompt) -> Result<Transcript, WorkerError> {
        let seconds = hound::WavReader::open(path)
            .map_or(600.0, |r| f64::from(r.duration()) / f64::from(r.spec().sample_rate.max(1)));
        self.expect_transcript(
            Request::TranscribeFile { path: path.to_owned(), threads, prompt: prompt.clone() },
            seconds,
        )
    }

    pub fn transcribe_samples(
        &mut self,
        samples: &[f32],
        threads: usize,
        prompt: &Prompt,
    ) -> Result<Transcript, WorkerError> {
        self.transcribe_chunk(samples, threads, prompt, "")
    }

    /// A chunk of a longer take, with the text before it as context.
    pub fn transcribe_chunk(
        &mut self,
        samples: &[f32],
        threads: usize,
        prompt: &Prompt,
        previous: &str,
    ) -> Result<Transcript, WorkerError> {
        let request = Request::TranscribeSamples {
            pcm16: encode_pcm16(samples),
            threads,
            prompt: prompt.clone(),
            previous: previous.to_owned(),
        };
        self.expect_transcript(request, samples_seconds(samples))
    }

    fn expect_transcript(&mut self, request: Request, audio_seconds: f64) -> Result<Transcript, WorkerError> {
        if self.model.is_none() {
            return Err(WorkerError::NoModel);
        }
        let timeout =
            Duration::from_secs(60) + Duration::from_secs_f64(audio_seconds.max(0.0) * self.allowance_per_audio_s);
        match self.call(request, timeout)? {
            Reply::Transcript(transcript) => Ok(transcript),
            Reply::Loaded(_) => Err(WorkerError::Failed("unexpected reply".into())),
        }
    }
}

impl Drop for WorkerClient {
    fn drop(&mut self) {
        // Closing stdin ends the worker's loop; kill in case it is mid-take.
        self.process = None;
        if let Ok(mut guard) = self.child.lock()
            && let Some(mut child) = guard.take()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn bigger_models_get_more_time_before_counting_as_hung() {
        let info = |n_audio_layer, n_audio_state| ModelInfo {
            path: PathBuf::new(),
            n_vocab: 51864,
            n_audio_state,
            n_audio_layer,
            n_text_layer: n_audio_layer,
            n_mels: 80,
            ftype: 1,
            tensors: 0,
            file_size: 0,
            kind: String::new(),
            english_only: true,
        };
        assert_eq!(allowance_per_audio_s(&info(4, 384)), 5.0);
        assert_eq!(allowance_per_audio_s(&info(6, 512)), 5.0);
        let small = allowance_per_audio_s(&info(12, 768));
        let large = allowance_per_audio_s(&info(32, 1280));
        assert!((20.0..25.0).contains(&small), "{small}");
        assert!(large > 150.0, "{large}");
    }

    use super::*;

    #[test]
    fn pcm16_round_trips() {
        let samples = [0.0f32, 0.5, -0.5, 1.0, -1.0];
        let back = decode_pcm16(&encode_pcm16(&samples)).expect("decode");
        for (a, b) in samples.iter().zip(&back) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn requests_are_one_json_line() {
        let line =
            serde_json::to_string(&Envelope { id: 7, request: Request::Load { model: "m.bin".into() } }).expect("json");
        assert_eq!(line, r#"{"id":7,"load":{"model":"m.bin"}}"#);
    }
}
