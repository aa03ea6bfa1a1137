//! The command-line interface: one thin layer over the core.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::audio::{capture, wav};
use crate::content::{self, Library, Mock, Question, QuestionRef, Stage};
use crate::model::{catalog as models, convert};
use crate::paths::{DATA_DIR_ENV, DataDir};
use crate::settings::Settings;
use crate::store::{Session, Store, takes};
use crate::transcribe::prompt::{Prompt, PromptMode};
use crate::transcribe::worker::{self, WorkerClient};

#[derive(Debug, Parser)]
#[command(
    name = "interview-coach",
    version,
    about = "Rehearse job interviews out loud: timed mocks, local recording and transcription, honest feedback."
)]
pub struct Cli {
    /// Folder for sessions, recordings, models and user mocks.
    #[arg(long, global = true, env = DATA_DIR_ENV, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The mock interviews: list, show, check, export.
    #[command(subcommand)]
    Content(ContentCommand),
    /// Practice sessions on disk: list, show, delete.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// List the input devices (microphones); the first is the system default.
    Devices,
    /// Record from the microphone into a 16 kHz mono WAV, without the app.
    Record {
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: f64,
        /// The WAV file to write.
        #[arg(long, required_unless_present = "question", conflicts_with = "question")]
        out: Option<PathBuf>,
        /// Input device name or id (see `devices`); default: the system default.
        #[arg(long)]
        device: Option<String>,
        /// Record an answer to this question (`mock/stage/question`) into a session.
        #[arg(long)]
        question: Option<String>,
        /// The session to add the answer to (default: a new session).
        #[arg(long, requires = "question")]
        session: Option<String>,
        /// Transcribe and analyse the answer into the session afterwards.
        #[arg(long, requires = "question")]
        transcribe: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Play a recording (from a position, in seconds).
    Play {
        file: PathBuf,
        #[arg(long, default_value_t = 0.0)]
        from: f64,
    },
    /// Transcribe recordings locally with whisper.
    Transcribe {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The question answered (`mock/stage/question`): its words and vocabulary guide whisper.
        #[arg(long)]
        question: Option<String>,
        /// How whisper is prompted: plain, verbatim, question or verbatim-question (the default).
        #[arg(long, value_name = "MODE")]
        prompt: Option<String>,
        #[command(flatten)]
        engine: EngineArgs,
        /// One JSON object per file and line.
        #[arg(long)]
        json: bool,
    },
    /// Feedback on recorded answers: fillers, pace, pauses, I/we, STAR, key points, ...
    Analyze {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The question answered (`mock/stage/question`), for key points, red flags and the budget.
        #[arg(long)]
        question: Option<String>,
        /// How whisper is prompted: plain, verbatim, question or verbatim-question (the default).
        #[arg(long, value_name = "MODE")]
        prompt: Option<String>,
        /// Use this transcript (`transcribe --json` output) instead of transcribing.
        #[arg(long, value_name = "FILE.json", conflicts_with = "prompt")]
        transcript: Option<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
        /// One JSON object per file and line.
        #[arg(long)]
        json: bool,
    },
    /// Whisper models: list, download, import, use.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Internal: the transcription worker process (JSON lines on stdin/stdout).
    #[command(hide = true)]
    Worker,
    /// Repair takes left unfinished by a crash: the given WAVs, or all in the data folder.
    Recover { files: Vec<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// List the mocks with their stages, questions and budgets.
    List,
    /// Show a mock, a stage (`mock/stage`) or a question (`mock/stage/question`) in full.
    Show { id: String },
    /// Validate content files (default: the built-ins and your own mocks); exit 1 on errors.
    Check { files: Vec<PathBuf> },
    /// Print all loaded content as JSON.
    Export {
        /// JSON is the only export format; the flag is accepted for clarity.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// The ggml model file (default: the one chosen with `model use`, else the first installed).
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Decoding threads (default: cores - 1).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// The catalogue and the installed models.
    List,
    /// Download a catalogue model (resumes; checks the published SHA-1).
    Download { name: String },
    /// Convert a faster-whisper (CTranslate2) model folder to ggml and install it.
    Import {
        ct2_dir: PathBuf,
        /// Install as models/ggml-NAME.bin (default: the folder's name).
        #[arg(long, conflicts_with = "out")]
        name: Option<String>,
        /// Write the ggml file here instead of installing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Use this model file from now on.
    Use { path: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List sessions, oldest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one session.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a session with its recordings (refused while another
    /// interview-coach is recording into it).
    Delete { id: String },
    /// Self-grade an answer on a rubric signal (ANSWER: its number, 1 for the first, or its id).
    Grade {
        id: String,
        answer: String,
        signal: String,
        /// junior, mid, senior or staff.
        level: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // `interview-coach content list | head`: a closed pipe is not an error.
        Err(err)
            if err.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {}", describe(&err));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let data = DataDir::resolve(cli.data_dir)?;
    let Some(command) = cli.command else {
        return crate::ui::run_app(data).map(|()| ExitCode::SUCCESS);
    };
    match command {
        Command::Content(cmd) => content_command(&data, cmd),
        Command::Sessions(cmd) => {
            recover_takes(&data);
            sessions_command(&data, cmd)
        }
        Command::Devices => {
            let devices = capture::input_devices()?;
            let mut out = std::io::stdout().lock();
            for (i, device) in devices.iter().enumerate() {
                writeln!(out, "{}{}  ({})", device.name, if i == 0 { " [default]" } else { "" }, device.id)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Record { seconds, out, device, question, session, transcribe, engine } => {
            let engine = transcribe.then_some(engine);
            record_command(&data, seconds, out, device, question, session, engine.as_ref())
        }
        Command::Worker => crate::transcribe::worker::serve().map(|()| ExitCode::SUCCESS),
        Command::Transcribe { files, question, prompt, engine, json } => {
            transcribe_command(&data, &files, question.as_deref(), prompt.as_deref(), &engine, json)
        }
        Command::Model(cmd) => model_command(&data, cmd),
        Command::Analyze { files, question, prompt, transcript, engine, json } => {
            let answer = AnswerArgs { question_id: question.as_deref(), prompt_mode: prompt.as_deref() };
            analyze_command(&data, &files, answer, transcript.as_deref(), &engine, json)
        }
        Command::Play { file, from } => {
            let player = crate::audio::playback::Player::open(&file)?;
            player.seek(from);
            player.play()?;
            while player.is_playing() {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            // Let the output drain its last buffer.
            std::thread::sleep(std::time::Duration::from_millis(200));
            Ok(ExitCode::SUCCESS)
        }
        Command::Recover { files } => {
            if files.is_empty() {
                let reports = recover_takes(&data);
                if reports.is_empty() {
                    println!("nothing to recover");
                }
                return Ok(if reports.iter().any(|r| r.error.is_some()) {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                });
            }
            let store = Store::new(data.sessions());
            let mut failed = false;
            for file in files {
                match takes::recover_take(&store, &file) {
                    None => {
                        eprintln!("{}: still being recorded by a running interview-coach; left alone", file.display())
                    }
                    Some(report) => match report.error {
                        None => println!(
                            "{}: repaired, {:.2} s{}",
                            file.display(),
                            report.duration_s,
                            report.session_id.map(|s| format!(", given back to session {s}")).unwrap_or_default()
                        ),
                        Some(err) => {
                            failed = true;
                            eprintln!("error: {}: {err}", file.display());
                        }
                    },
                }
            }
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
    }
}

/// The model to use: `--model`, else the one chosen with `model use`, else
/// the first valid model in the models folder.
pub fn resolve_model(data: &DataDir, flag: Option<&PathBuf>) -> Result<PathBuf> {
    if let Some(path) = flag {
        return Ok(path.clone());
    }
    let settings = load_settings(data);
    if let Some(path) = settings.model {
        return Ok(path);
    }
    models::installed(&data.models())
        .into_iter()
        .find(|m| m.info.is_ok())
        .map(|m| m.path)
        .with_context(|| {
            format!(
                "no whisper model yet: download one (`interview-coach model download base.en`), import a faster-whisper model (`model import DIR`), or pass --model FILE (models folder: {})",
                data.models().display()
            )
        })
}

/// A worker process with the model loaded.
fn start_worker(data: &DataDir, engine: &EngineArgs) -> Result<(WorkerClient, usize)> {
    let model = resolve_model(data, engine.model.as_ref())?;
    let mut client = WorkerClient::new(worker::worker_exe());
    client.load(&model)?;
    let threads = engine.threads.unwrap_or_else(|| load_settings(data).threads()).max(1);
    Ok((client, threads))
}

/// whisper's prompt for answers to `question` (or none known), in the
/// mode `--prompt` asks for.
fn prompt_for(data: &DataDir, question: Option<QuestionRef<'_>>, mode: Option<&str>) -> Result<Prompt> {
    let explicit = mode.is_some();
    let mode = match mode {
        Some(label) => PromptMode::parse(label).with_context(|| {
            let labels: Vec<&str> = PromptMode::ALL.iter().map(|m| m.label()).collect();
            format!("no prompt mode \"{label}\"; use one of: {}", labels.join(", "))
        })?,
        None => PromptMode::default(),
    };
    Ok(match (question, mode) {
        (Some(q), _) => Prompt::for_question(q.question, q.mock, &load_settings(data).glossary, mode),
        (None, PromptMode::Question | PromptMode::VerbatimQuestion) if explicit => {
            bail!("--prompt {} needs --question ID", mode.label())
        }
        (None, PromptMode::Plain) => Prompt::plain(),
        // No question known: the verbatim part is all there is.
        (None, _) => Prompt::verbatim(),
    })
}

fn find_question<'a>(library: &'a Library, id: Option<&str>) -> Result<Option<QuestionRef<'a>>> {
    id.map(|id| {
        library.question(id).with_context(|| format!("no question \"{id}\"; see `interview-coach content list`"))
    })
    .transpose()
}

fn transcribe_command(
    data: &DataDir,
    files: &[PathBuf],
    question_id: Option<&str>,
    prompt_mode: Option<&str>,
    engine: &EngineArgs,
    json: bool,
) -> Result<ExitCode> {
    let library = load_library(data);
    let prompt = prompt_for(data, find_question(&library, question_id)?, prompt_mode)?;
    let (mut client, threads) = start_worker(data, engine)?;
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for file in files {
        match client.transcribe_file(file, threads, &prompt) {
            Ok(transcript) => {
                if json {
                    let value = serde_json::json!({
                        "file": file,
                        "text": transcript.text,
                        "duration_s": transcript.duration_s,
                        "no_speech": transcript.no_speech,
                        "segments": transcript.segments,
                        "words": transcript.words,
                        "settings": transcript.settings,
                    });
                    serde_json::to_writer(&mut out, &value)?;
                    writeln!(out)?;
                } else if transcript.no_speech {
                    writeln!(out, "{}: (no speech detected)", file.display())?;
                } else {
                    writeln!(out, "{}: {}", file.display(), transcript.text)?;
                }
            }
            Err(err) => {
                failed = true;
                eprintln!("error: {}: {err}", file.display());
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// What `analyze` knows of the answer: its question and how to prompt whisper.
struct AnswerArgs<'a> {
    question_id: Option<&'a str>,
    prompt_mode: Option<&'a str>,
}

fn analyze_command(
    data: &DataDir,
    files: &[PathBuf],
    AnswerArgs { question_id, prompt_mode }: AnswerArgs<'_>,
    transcript_file: Option<&std::path::Path>,
    engine: &EngineArgs,
    json: bool,
) -> Result<ExitCode> {
    if transcript_file.is_some() && files.len() > 1 {
        bail!("--transcript goes with one recording; give one FILE.wav");
    }
    let library = load_library(data);
    let question = find_question(&library, question_id)?;
    let prompt = prompt_for(data, question, prompt_mode)?;
    let config = load_settings(data).analysis_config();
    let given: Option<crate::transcribe::Transcript> =
        match transcript_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                Some(parse_transcript(&text).with_context(|| {
                    format!("{} is not a transcript (use `transcribe --json` output)", path.display())
                })?)
            }
            None => None,
        };
    let mut worker = if given.is_none() { Some(start_worker(data, engine)?) } else { None };
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for file in files {
        let result = (|| -> Result<crate::analysis::Feedback> {
            let transcript = match (&given, worker.as_mut()) {
                (Some(t), _) => t.clone(),
                (None, Some((client, threads))) => client.transcribe_file(file, *threads, &prompt)?,
                (None, None) => bail!("no transcript and no transcriber"),
            };
            Ok(crate::pipeline::answer::feedback(&transcript, Some(file), question.map(|q| q.question), &config)?)
        })();
        match result {
            Ok(feedback) => {
                if json {
                    let mut value = serde_json::to_value(&feedback)?;
                    value["file"] = serde_json::json!(file);
                    serde_json::to_writer(&mut out, &value)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}", file.display())?;
                    for advice in &feedback.advice {
                        writeln!(out, "  {} {}", if advice.warn() { "!" } else { "·" }, advice.text())?;
                    }
                }
            }
            Err(err) => {
                failed = true;
                eprintln!("error: {}: {}", file.display(), describe(&err));
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// An error with its causes, each said once: most messages already carry
/// their cause's text ("cannot write X: Permission denied").
fn describe(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// The settings, saying on stderr if the file was damaged (and set aside).
fn load_settings(data: &DataDir) -> Settings {
    let (settings, problem) = Settings::load(data);
    if let Some(problem) = problem {
        eprintln!("warning: {problem}");
    }
    settings
}

/// A transcript as `transcribe --json` prints it (or as stored in a session).
fn parse_transcript(text: &str) -> Result<crate::transcribe::Transcript> {
    let value: serde_json::Value = serde_json::from_str(text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text))?;
    Ok(serde_json::from_value(value)?)
}

fn model_command(data: &DataDir, cmd: ModelCommand) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        ModelCommand::List => {
            let chosen = load_settings(data).model;
            writeln!(out, "Installed ({}):", data.models().display())?;
            let installed = models::installed(&data.models());
            if installed.is_empty() {
                writeln!(out, "  (none)")?;
            }
            for model in &installed {
                let mark = if chosen.as_ref() == Some(&model.path) { " [in use]" } else { "" };
                match &model.info {
                    Ok(info) => writeln!(
                        out,
                        "  {}  {} {} MB{mark}",
                        model.path.display(),
                        info.describe(),
                        info.file_size / 1_000_000
                    )?,
                    Err(err) => writeln!(out, "  {}  unusable: {err}", model.path.display())?,
                }
            }
            if let Some(path) = chosen.filter(|p| !installed.iter().any(|m| &m.path == p)) {
                writeln!(out, "  {} [in use]", path.display())?;
            }
            writeln!(out, "Catalogue (interview-coach model download NAME):")?;
            for entry in models::CATALOG {
                writeln!(
                    out,
                    "  {:<14} {:>4} MB  speed: {:<8} accuracy: {}{}",
                    entry.name,
                    entry.size_mb,
                    entry.speed,
                    entry.accuracy,
                    if entry.recommended { "  (recommended)" } else { "" }
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Download { name } => {
            let cancel = std::sync::atomic::AtomicBool::new(false);
            let mut last = 0u64;
            let info = models::download_named(&name, &data.models(), &cancel, &mut |p| {
                if p.done - last >= 5_000_000 || Some(p.done) == p.total {
                    last = p.done;
                    match p.total {
                        Some(total) => eprint!("\r{} / {} MB", p.done / 1_000_000, total / 1_000_000),
                        None => eprint!("\r{} MB", p.done / 1_000_000),
                    }
                }
            })?;
            eprintln!();
            writeln!(out, "installed {}", info.path.display())?;
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Import { ct2_dir, name, out: out_file } => {
            let dest = match out_file {
                Some(path) => path,
                None => {
                    let name = name.unwrap_or_else(|| {
                        ct2_dir
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| "imported".into())
                    });
                    crate::util::atomic::create_private_dir(&data.models())?;
                    data.models().join(format!("ggml-{name}.bin"))
                }
            };
            let summary = convert::convert_ct2(&ct2_dir, &dest)?;
            let info = crate::model::ggml::validate(&dest)?;
            writeln!(out, "imported {} ({}, {} tensors)", summary.out.display(), info.describe(), summary.tensors)?;
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Use { path } => {
            let info = crate::model::ggml::validate(&path)?;
            let path = path.canonicalize().unwrap_or(path);
            let mut settings = load_settings(data);
            settings.model = Some(path.clone());
            settings.save(data)?;
            writeln!(out, "using {} ({})", path.display(), info.describe())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Start-up repair of takes a crash left unfinished; reports on stderr.
fn recover_takes(data: &DataDir) -> Vec<takes::Recovery> {
    let reports = takes::recover_unfinished(&Store::new(data.sessions()));
    for report in &reports {
        match &report.error {
            None => eprintln!(
                "recovered an unfinished take: {} ({:.1} s{})",
                report.wav.display(),
                report.duration_s,
                report.session_id.as_deref().map(|s| format!(", session {s}")).unwrap_or_default()
            ),
            Some(err) => eprintln!("warning: could not recover {}: {err}", report.wav.display()),
        }
    }
    reports
}

fn record_command(
    data: &DataDir,
    seconds: f64,
    out: Option<PathBuf>,
    device: Option<String>,
    question: Option<String>,
    session_id: Option<String>,
    transcribe: Option<&EngineArgs>,
) -> Result<ExitCode> {
    if !(seconds > 0.0 && seconds.is_finite()) {
        bail!("--seconds must be more than 0");
    }
    match (question, out) {
        (Some(question), _) => record_answer(data, seconds, device, &question, session_id.as_deref(), transcribe),
        (None, Some(out)) => record_file(seconds, device, out),
        (None, None) => bail!("give --out FILE.wav or --question ID"),
    }
}

/// A plain recording, outside any session.
fn record_file(seconds: f64, device: Option<String>, out: PathBuf) -> Result<ExitCode> {
    let recorder = capture::Recorder::start(
        capture::RecordOptions {
            source: capture::Source::Device(device),
            out: out.clone(),
            marker: wav::TakeMarker { started_at: chrono::Utc::now(), ..Default::default() },
            max_seconds: Some(seconds),
            sink: None,
        },
        std::sync::Arc::new(|| {}),
    );
    let result = loop {
        match recorder.events.recv() {
            Ok(capture::CaptureEvent::Started { device, sample_rate, channels, format }) => {
                eprintln!(
                    "recording from {device} ({sample_rate} Hz, {channels} ch, {format}) for {seconds} s into {}",
                    out.display()
                );
            }
            Ok(capture::CaptureEvent::Finished(result)) => break result,
            Ok(capture::CaptureEvent::FailedToStart(err)) => return Err(err.into()),
            Ok(_) => {}
            Err(_) => bail!("the recorder stopped without a result"),
        }
    };
    let (take, error) = match result {
        Ok(take) => (take, None),
        Err((take, err)) => (take, Some(err)),
    };
    println!("{}: {:.2} s", take.path.display(), take.duration_s);
    if let Some(warning) = take.dropped_warning() {
        eprintln!("warning: {warning}");
    }
    match error {
        None => Ok(ExitCode::SUCCESS),
        Some(err) => Err(err.into()),
    }
}

/// An answer recorded into a session through the same pipeline as the app:
/// saved before the take starts (a crash leaves a take the next start gives
/// back), then, with `--transcribe`, streamed to whisper and analysed.
fn record_answer(
    data: &DataDir,
    seconds: f64,
    device: Option<String>,
    question: &str,
    session_id: Option<&str>,
    transcribe: Option<&EngineArgs>,
) -> Result<ExitCode> {
    use crate::pipeline::practice::{Practice, PracticeCommand, PracticeEvent, TakeOptions, TakeState};
    let mut coach = crate::pipeline::Coach::new(data.clone(), std::sync::Arc::new(|| {}), worker::worker_exe());
    // Recovery and reading the sessions come first, as in the app.
    while !coach.sessions_loaded() {
        coach.wait(std::time::Duration::from_millis(50));
    }
    print_notices(&mut coach);
    if let Some(engine) = transcribe {
        coach.load_model(Some(resolve_model(data, engine.model.as_ref())?));
        if let Some(threads) = engine.threads {
            coach.set_threads(threads.max(1));
        }
    }
    let mut practice = Practice::single(&mut coach, question, session_id)?;
    let device = device.or_else(|| coach.settings.input_device.clone());
    practice.set_options(TakeOptions {
        source: capture::Source::Device(device),
        max_seconds: Some(seconds),
        transcribe: transcribe.is_some(),
    });
    practice.handle(&mut coach, PracticeCommand::Start);
    let mut recorded = None;
    while recorded.is_none() {
        coach.wait(std::time::Duration::from_millis(50));
        for event in practice.poll(&mut coach) {
            match event {
                PracticeEvent::Started { device, sample_rate, channels, format } => {
                    eprintln!("recording from {device} ({sample_rate} Hz, {channels} ch, {format}) for {seconds} s");
                }
                PracticeEvent::Recorded { answer_id, duration_s, error, warning } => {
                    recorded = Some((answer_id, duration_s, error, warning));
                }
                PracticeEvent::FailedToStart(message) => {
                    // A session this command made for the answer goes too.
                    let empty = coach.session(practice.session_id()).is_some_and(|s| s.answers.is_empty());
                    if session_id.is_none() && empty {
                        let id = practice.session_id().to_owned();
                        coach.delete_session(&id);
                    }
                    coach.flush(std::time::Duration::from_secs(5));
                    coach.take_notices();
                    bail!("{message}");
                }
            }
        }
    }
    let Some((answer_id, duration_s, error, warning)) = recorded else {
        bail!("the recorder stopped without a result")
    };
    if transcribe.is_some() {
        // Generous: a big model on one thread takes a while; never forever.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(120.0 + 10.0 * duration_s);
        while practice.state(&coach) == TakeState::Transcribing && std::time::Instant::now() < deadline {
            coach.wait(std::time::Duration::from_millis(100));
        }
    }
    // Every save queued so far lands before the command ends.
    coach.flush(std::time::Duration::from_secs(30));
    let session_id = practice.session_id().to_owned();
    let session = coach.session(&session_id).cloned();
    let answer = session.as_ref().and_then(|s| Some((s.answer_index(&answer_id)?, s.answer(&answer_id)?.clone())));
    if let Some((index, answer)) = &answer {
        println!("session {session_id}: answer {} recorded", index + 1);
        if let Some(transcript) = &answer.transcript {
            println!("\"{}\"", transcript.text);
        }
        for advice in answer.feedback.iter().flat_map(|f| &f.advice) {
            println!("  {} {}", if advice.warn() { "!" } else { "·" }, advice.text());
        }
        if let Some(path) = &answer.wav {
            println!("{}: {duration_s:.2} s", data.sessions().join(&session_id).join(path).display());
        }
    }
    // The capture's own error and warning are said once, below.
    let said = [error.as_deref(), warning.as_deref()];
    for notice in coach.take_notices() {
        if !said.contains(&Some(notice.text.as_str())) {
            eprintln!("{}{}", if notice.error { "warning: " } else { "" }, notice.text);
        }
    }
    if let Some(err) = &coach.model().error
        && transcribe.is_some()
    {
        eprintln!("warning: the model could not be loaded: {err}");
    }
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    if let Some(err) = error {
        bail!("{err}");
    }
    if coach.save_failures() > 0 {
        bail!("the session could not be saved (see the warnings above); the recording is kept on disk");
    }
    if transcribe.is_some()
        && answer.as_ref().is_some_and(|(_, a)| a.transcript.is_none() && a.transcription_error.is_none())
    {
        eprintln!(
            "warning: the transcript was not ready in time; the recording is kept: run `interview-coach transcribe` on it"
        );
        return Ok(ExitCode::FAILURE);
    }
    if transcribe.is_some() && answer.as_ref().is_none_or(|(_, a)| a.transcription_error.is_some()) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the coach's notices on stderr (what failed is also in the exit code).
fn print_notices(coach: &mut crate::pipeline::Coach) {
    for notice in coach.take_notices() {
        if notice.error {
            eprintln!("warning: {}", notice.text);
        } else {
            eprintln!("{}", notice.text);
        }
    }
}

fn content_command(data: &DataDir, cmd: ContentCommand) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        ContentCommand::List => {
            let library = load_library(data);
            for loaded in &library.mocks {
                let mock = &loaded.mock;
                writeln!(out, "{}  {} ({} min) [{}]", mock.id, mock.title, mock.minutes, loaded.source)?;
                for stage in &mock.stages {
                    writeln!(out, "  {}/{}  {} ({} min)", mock.id, stage.id, stage.title, stage.minutes)?;
                    for q in &stage.questions {
                        writeln!(
                            out,
                            "    {}  {} · {}{}",
                            content::question_id(&mock.id, &stage.id, &q.id),
                            q.kind.label(),
                            format_budget(q.budget_s),
                            if q.is_optional() { " · optional" } else { "" }
                        )?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ContentCommand::Show { id } => {
            let library = load_library(data);
            let text = show_content(&library, &id)?;
            write!(out, "{text}")?;
            Ok(ExitCode::SUCCESS)
        }
        ContentCommand::Check { files } => {
            let errors: Vec<content::ContentError> = if files.is_empty() {
                Library::load(Some(&data.mocks())).problems
            } else {
                files.iter().flat_map(|f| content::check_file(f)).collect()
            };
            if errors.is_empty() {
                writeln!(out, "content OK")?;
                Ok(ExitCode::SUCCESS)
            } else {
                for err in &errors {
                    eprintln!("{err}");
                }
                eprintln!("{} problem(s) found", errors.len());
                Ok(ExitCode::FAILURE)
            }
        }
        ContentCommand::Export { json: _ } => {
            let library = load_library(data);
            let mocks: Vec<serde_json::Value> = library
                .mocks
                .iter()
                .map(|loaded| {
                    let mut value = serde_json::to_value(&loaded.mock)?;
                    value["source"] = serde_json::Value::String(loaded.source.to_string());
                    Ok(value)
                })
                .collect::<Result<_, serde_json::Error>>()?;
            let export = serde_json::json!({
                "guide": library.guide,
                "rubric": library.rubric,
                "mocks": mocks,
            });
            serde_json::to_writer_pretty(&mut out, &export)?;
            writeln!(out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads the built-ins and user mocks, reporting skipped user files on stderr.
fn load_library(data: &DataDir) -> Library {
    let library = Library::load(Some(&data.mocks()));
    for problem in &library.problems {
        eprintln!("warning: skipped content: {problem}");
    }
    library
}

pub fn format_budget(seconds: u32) -> String {
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

fn show_content(library: &Library, id: &str) -> Result<String> {
    let parts: Vec<&str> = id.split('/').collect();
    let mock = library
        .mock(parts[0])
        .with_context(|| format!("no mock \"{}\"; see `interview-coach content list`", parts[0]))?;
    let mut text = String::new();
    match parts.as_slice() {
        [_] => {
            push_mock_header(&mut text, mock);
            for stage in &mock.stages {
                push_stage(&mut text, mock, stage, true);
            }
        }
        [_, stage_id] => {
            let stage = find_stage(mock, stage_id)?;
            push_stage(&mut text, mock, stage, true);
        }
        [_, stage_id, question_id] => {
            let stage = find_stage(mock, stage_id)?;
            let question = stage
                .questions
                .iter()
                .find(|q| q.id == *question_id)
                .with_context(|| format!("no question \"{question_id}\" in {}/{}", mock.id, stage.id))?;
            push_question(&mut text, mock, stage, question);
        }
        _ => bail!("\"{id}\" is not an id: use mock, mock/stage or mock/stage/question"),
    }
    Ok(text)
}

fn find_stage<'a>(mock: &'a Mock, stage_id: &str) -> Result<&'a Stage> {
    mock.stages
        .iter()
        .find(|s| s.id == stage_id)
        .with_context(|| format!("no stage \"{stage_id}\" in mock \"{}\"", mock.id))
}

fn push_list(text: &mut String, label: &str, items: &[String]) {
    if !items.is_empty() {
        text.push_str(&format!("{label}:\n"));
        for item in items {
            text.push_str(&format!("  - {item}\n"));
        }
    }
}

fn push_mock_header(text: &mut String, mock: &Mock) {
    text.push_str(&format!("{} ({} min)\n", mock.title, mock.minutes));
    if let Some(format) = &mock.format {
        text.push_str(&format!("Format: {format}\n"));
    }
    if let Some(prompt) = &mock.prompt {
        text.push_str(&format!("Prompt: {prompt}\n"));
    }
    push_list(text, "Notes", &mock.notes);
    if let Some(note) = &mock.budget_note {
        text.push_str(&format!("Budget: {note}\n"));
    }
    push_list(text, "Trade-offs a strong candidate raises unprompted", &mock.unprompted_tradeoffs);
    text.push('\n');
}

fn push_stage(text: &mut String, mock: &Mock, stage: &Stage, with_questions: bool) {
    text.push_str(&format!("== {} ({} min) [{}/{}]\n", stage.title, stage.minutes, mock.id, stage.id));
    push_list(text, "Notes", &stage.notes);
    push_list(text, "Expect", &stage.expect);
    let probes: Vec<String> = stage.probes.iter().map(format_probe).collect();
    push_list(text, "Probes", &probes);
    push_list(text, "Listen for", &stage.listen_for);
    push_list(text, "Red flags", &stage.red_flags);
    text.push('\n');
    if with_questions {
        for question in &stage.questions {
            push_question(text, mock, stage, question);
        }
    }
}

fn format_probe(probe: &content::Probe) -> String {
    match &probe.answer {
        Some(answer) => format!("{} → {answer}", probe.text),
        None => probe.text.clone(),
    }
}

fn push_question(text: &mut String, mock: &Mock, stage: &Stage, q: &Question) {
    text.push_str(&format!(
        "-- {} ({}, {}{})\n",
        content::question_id(&mock.id, &stage.id, &q.id),
        q.kind.label(),
        format_budget(q.budget_s),
        if q.is_optional() { ", optional" } else { "" }
    ));
    text.push_str(&format!("{}\n", q.prompt));
    push_list(text, "Notes", &q.notes);
    let probes: Vec<String> = q.probes.iter().map(format_probe).collect();
    push_list(text, "Probes", &probes);
    push_list(text, "Listen for", &q.listen_for);
    if let Some(strong) = &q.strong_answer {
        text.push_str(&format!("Strong answer: {strong}\n"));
    }
    for block in &q.code {
        text.push_str(&format!("```{}\n{}\n```\n", block.lang, block.text.trim_end()));
    }
    push_list(text, "Red flags", &q.red_flags);
    text.push_str(&format!("Signals: {}\n", q.signals.join(", ")));
    let points: Vec<String> = q.key_points.iter().map(|k| k.name.clone()).collect();
    push_list(text, "Key points", &points);
    text.push('\n');
}

fn sessions_command(data: &DataDir, cmd: SessionsCommand) -> Result<ExitCode> {
    let store = Store::new(data.sessions());
    let mut out = std::io::stdout().lock();
    match cmd {
        SessionsCommand::List { json } => {
            let (sessions, problems) = store.load_all();
            for problem in &problems {
                // (The error names the path.)
                eprintln!("warning: skipped a session: {}", problem.error);
            }
            if json {
                serde_json::to_writer_pretty(&mut out, &sessions)?;
                writeln!(out)?;
            } else if sessions.is_empty() {
                writeln!(out, "no sessions yet in {}", store.root().display())?;
            } else {
                for session in &sessions {
                    writeln!(out, "{}", session_line(session))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SessionsCommand::Show { id, json } => {
            let session = store.load(&id)?;
            if json {
                serde_json::to_writer_pretty(&mut out, &session)?;
                writeln!(out)?;
            } else {
                writeln!(out, "{}", session_line(&session))?;
                for answer in &session.answers {
                    writeln!(
                        out,
                        "  {}  {:.0} s of {} s{}{}",
                        answer.question_id,
                        answer.duration_s,
                        answer.budget_s,
                        if answer.overrun_s > 0.0 {
                            format!(" (over by {:.0} s)", answer.overrun_s)
                        } else {
                            String::new()
                        },
                        if answer.recovered { " [recovered]" } else { "" }
                    )?;
                    if let Some(follow_up) = &answer.follow_up {
                        writeln!(out, "    follow-up: {}", follow_up.text)?;
                    }
                    if let Some(transcript) = &answer.transcript {
                        writeln!(out, "    \"{}\"", transcript.text.trim())?;
                    }
                    for (signal, level) in &answer.grades {
                        writeln!(out, "    {signal}: {}", level.label())?;
                    }
                    if !answer.notes.is_empty() {
                        writeln!(out, "    notes: {}", answer.notes)?;
                    }
                }
                if !session.reflection.is_empty() {
                    writeln!(out, "Reflection: {}", session.reflection)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SessionsCommand::Delete { id } => {
            store.delete(&id)?;
            writeln!(out, "deleted {id}")?;
            Ok(ExitCode::SUCCESS)
        }
        SessionsCommand::Grade { id, answer, signal, level } => {
            let level = crate::store::Level::ALL
                .into_iter()
                .find(|l| l.label().eq_ignore_ascii_case(&level))
                .with_context(|| format!("\"{level}\" is not a level: use junior, mid, senior or staff"))?;
            let mut found = None;
            // One read-modify-write under the session's lock: nothing another
            // process writes meanwhile is lost.
            store.update(&id, |session| {
                let index = match answer.parse::<usize>() {
                    Ok(n) if n >= 1 => Some(n - 1).filter(|&i| i < session.answers.len()),
                    _ => session.answer_index(&answer),
                };
                if let Some(a) = index.and_then(|i| session.answers.get_mut(i)) {
                    a.grades.insert(signal.clone(), level);
                    found = Some(a.question_id.clone());
                }
            })?;
            let Some(question) = found else {
                bail!("session {id} has no answer \"{answer}\"; see `interview-coach sessions show {id}`")
            };
            writeln!(out, "{id}: {question}: {signal} = {}", level.label())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn session_line(session: &Session) -> String {
    let local = session.started_at.with_timezone(&chrono::Local);
    format!(
        "{}  {}  {:?}  {} answer(s){}",
        session.id,
        local.format("%Y-%m-%d %H:%M"),
        session.mode,
        session.answers.len(),
        if session.ended_at.is_some() { "" } else { "  (unfinished)" }
    )
}
