//! The transcription coordinator the app talks to: a thread that owns the
//! worker process, fed by commands, reporting typed events (and asking the UI
//! to repaint). Live takes are streamed in chunks so only the tail is left
//! after Stop, and whenever the coordinator is idle and the speaker pauses,
//! the tail itself is transcribed ahead of Stop (`stream::Speculation`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};

use super::prompt::Prompt;
use super::stream::{Chunker, Speculation, Tail, merge};
use super::worker::{CancelHandle, WorkerClient, WorkerError};
use super::{DecodeSettings, Transcript};
use crate::model::ggml::ModelInfo;

/// Identifies a take (the app's answer being transcribed).
pub type TakeKey = u64;

#[derive(Debug)]
pub enum Command {
    LoadModel(PathBuf),
    SetThreads(usize),
    /// How to prompt whisper for this take (the question's vocabulary);
    /// sent before its audio or file. Without it, `Prompt::verbatim()`.
    Prompt {
        key: TakeKey,
        prompt: Prompt,
    },
    TranscribeFile {
        key: TakeKey,
        path: PathBuf,
    },
    /// Live audio (16 kHz mono) of a take being recorded.
    StreamAudio {
        key: TakeKey,
        samples: Vec<f32>,
    },
    /// The take is finished: transcribe what is left and report `Done`. If
    /// a chunk failed (say the worker crashed mid-answer), the take's WAV is
    /// transcribed whole instead.
    StreamEnd {
        key: TakeKey,
        duration_s: f64,
        wav: Option<PathBuf>,
    },
    /// Drop queued work for a take.
    Forget {
        key: TakeKey,
    },
}

#[derive(Debug)]
pub enum Event {
    ModelLoaded(ModelInfo),
    ModelFailed(String),
    /// The take's audio is complete (`StreamEnd` arrived); its transcript
    /// follows (`Done` or `Failed`). Work that needs only the recording can
    /// start now.
    Ended {
        key: TakeKey,
    },
    /// The live transcript so far.
    Partial {
        key: TakeKey,
        text: String,
    },
    Done {
        key: TakeKey,
        transcript: Transcript,
    },
    Failed {
        key: TakeKey,
        error: String,
    },
}

pub struct Transcriber {
    commands: Sender<Command>,
    cancel: CancelHandle,
}

impl Transcriber {
    /// Starts the coordinator thread; the worker process starts on first
    /// use. Its events arrive on the returned receiver.
    pub fn start(
        worker_exe: PathBuf,
        threads: usize,
        notify: Arc<dyn Fn() + Send + Sync>,
    ) -> (Transcriber, Receiver<Event>) {
        let (commands, rx) = mpsc::channel();
        let (tx, events) = mpsc::channel();
        let client = WorkerClient::new(worker_exe);
        let cancel = client.cancel_handle();
        let spawned = std::thread::Builder::new().name("transcriber".into()).spawn(move || {
            let send = |event: Event| {
                let _ = tx.send(event);
                notify();
            };
            run(client, threads, &rx, &send);
        });
        if let Err(err) = spawned {
            log::error!("cannot start the transcriber thread: {err}");
        }
        (Transcriber { commands, cancel }, events)
    }

    pub fn send(&self, command: Command) {
        // The thread only ends when the app does.
        let _ = self.commands.send(command);
    }

    /// A sender for another thread (the recorder feeds live audio through it).
    pub fn sender(&self) -> Sender<Command> {
        self.commands.clone()
    }

    /// Stops the transcription in progress (the worker process is killed and
    /// restarted for the next take).
    pub fn cancel_running(&self) {
        self.cancel.cancel();
    }
}

struct Live {
    prompt: Prompt,
    chunker: Chunker,
    parts: Vec<(f64, Transcript)>,
    failed: Option<String>,
    /// The latest transcript of the unfinished tail, made before Stop.
    speculation: Option<Speculation>,
    /// Where the last speculation ended (take samples).
    speculated_to: usize,
}

impl Live {
    fn new(prompt: Prompt) -> Live {
        Live { prompt, chunker: Chunker::new(), parts: Vec::new(), failed: None, speculation: None, speculated_to: 0 }
    }

    /// The text just before the unfinished tail, for whisper's prompt.
    fn previous(&self) -> String {
        self.parts.last().map(|(_, p)| p.text.clone()).unwrap_or_default()
    }

    /// The live transcript: finished chunks, then the speculation on the tail.
    fn text(&self) -> String {
        let tail = self.speculation.as_ref().filter(|s| s.start == self.chunker.pending_start());
        self.parts
            .iter()
            .map(|(_, p)| p.text.as_str())
            .chain(tail.map(|s| s.transcript.text.as_str()))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Idle time: transcribes one live take's tail ahead of Stop if it ends in
/// a pause with new speech before it. True if whisper ran.
fn speculate(
    client: &mut WorkerClient,
    threads: usize,
    live: &mut HashMap<TakeKey, Live>,
    send: &dyn Fn(Event),
) -> bool {
    for (&key, take) in live.iter_mut() {
        if take.failed.is_some() {
            continue;
        }
        let Some(chunk) = take.chunker.speculation(take.speculated_to) else { continue };
        let start = take.chunker.pending_start();
        take.speculated_to = start + chunk.samples.len();
        match client.transcribe_chunk(&chunk.samples, threads, &take.prompt, &take.previous()) {
            Ok(transcript) => {
                take.speculation = Some(Speculation { start, len: chunk.samples.len(), transcript });
                send(Event::Partial { key, text: take.text() });
            }
            // Only a guess was lost: the tail is transcribed at Stop as before.
            Err(err) => log::warn!("transcribing the tail ahead of Stop failed: {err}"),
        }
        return true;
    }
    false
}

fn run(mut client: WorkerClient, mut threads: usize, commands: &Receiver<Command>, send: &dyn Fn(Event)) {
    let mut live: HashMap<TakeKey, Live> = HashMap::new();
    let mut forgotten: HashSet<TakeKey> = HashSet::new();
    let mut prompts: HashMap<TakeKey, Prompt> = HashMap::new();
    let mut model_name = String::new();
    let mut had_model = false;
    loop {
        // Commands first; with none waiting, speculate on a live tail.
        let command = match commands.try_recv() {
            Ok(command) => command,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                if client.has_model() && speculate(&mut client, threads, &mut live, send) {
                    continue;
                }
                match commands.recv() {
                    Ok(command) => command,
                    Err(_) => break,
                }
            }
        };
        let loading = matches!(command, Command::LoadModel(_));
        'command: {
            match command {
                Command::LoadModel(path) => match client.load(&path) {
                    Ok(info) => {
                        model_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        send(Event::ModelLoaded(info));
                    }
                    Err(err) => send(Event::ModelFailed(err.to_string())),
                },
                Command::SetThreads(n) => threads = n.max(1),
                Command::Prompt { key, prompt } => {
                    prompts.insert(key, prompt);
                }
                Command::TranscribeFile { key, path } => {
                    forgotten.remove(&key);
                    let prompt = prompts.remove(&key).unwrap_or_else(Prompt::verbatim);
                    match client.transcribe_file(&path, threads, &prompt) {
                        Ok(transcript) => send(Event::Done { key, transcript }),
                        Err(err) => send(Event::Failed { key, error: err.to_string() }),
                    }
                }
                Command::StreamAudio { key, samples } => {
                    if forgotten.contains(&key) {
                        break 'command;
                    }
                    let take = live
                        .entry(key)
                        .or_insert_with(|| Live::new(prompts.remove(&key).unwrap_or_else(Prompt::verbatim)));
                    for chunk in take.chunker.push(&samples) {
                        if take.failed.is_some() {
                            break;
                        }
                        match client.transcribe_chunk(&chunk.samples, threads, &take.prompt, &take.previous()) {
                            Ok(part) => {
                                take.parts.push((chunk.offset_s, part));
                                send(Event::Partial { key, text: take.text() });
                            }
                            Err(err) => take.failed = Some(err.to_string()),
                        }
                    }
                }
                Command::StreamEnd { key, duration_s, wav } => {
                    if forgotten.remove(&key) {
                        live.remove(&key);
                        break 'command;
                    }
                    send(Event::Ended { key });
                    let mut take = live
                        .remove(&key)
                        .unwrap_or_else(|| Live::new(prompts.remove(&key).unwrap_or_else(Prompt::verbatim)));
                    if take.failed.is_none() {
                        let speculation = take.speculation.take();
                        match take.chunker.finish_with(speculation) {
                            Tail::Empty => {}
                            Tail::Speculated(speculation) => {
                                let offset = speculation.start as f64 / f64::from(crate::util::SAMPLE_RATE);
                                take.parts.push((offset, speculation.transcript));
                            }
                            Tail::Whole(tail) => {
                                match client.transcribe_chunk(&tail.samples, threads, &take.prompt, &take.previous()) {
                                    Ok(part) => take.parts.push((tail.offset_s, part)),
                                    Err(err) => take.failed = Some(err.to_string()),
                                }
                            }
                        }
                    }
                    if let Some(error) = take.failed {
                        // The recording is complete on disk: transcribe it whole.
                        match wav.map(|path| client.transcribe_file(&path, threads, &take.prompt)) {
                            Some(Ok(transcript)) => send(Event::Done { key, transcript }),
                            Some(Err(err)) => send(Event::Failed { key, error: err.to_string() }),
                            None => send(Event::Failed { key, error }),
                        }
                        break 'command;
                    }
                    if !client.has_model() {
                        send(Event::Failed { key, error: WorkerError::NoModel.to_string() });
                        break 'command;
                    }
                    let settings = take.parts.first().map(|(_, p)| p.settings.clone()).unwrap_or(DecodeSettings {
                        model: model_name.clone(),
                        threads,
                        language: "en".into(),
                        dtw: false,
                        prompt: Some(take.prompt.mode),
                        redecoded: 0,
                    });
                    send(Event::Done { key, transcript: merge(&take.parts, duration_s, settings) });
                }
                Command::Forget { key } => {
                    live.remove(&key);
                    prompts.remove(&key);
                    forgotten.insert(key);
                }
            }
        }
        // A worker that restarted after a crash but could not load the model
        // again: the model is gone, and the app must say so.
        if had_model && !loading && !client.has_model() {
            send(Event::ModelFailed(
                "the transcriber restarted but could not load the model again: choose it again in Settings".into(),
            ));
        }
        had_model = client.has_model();
    }
}
