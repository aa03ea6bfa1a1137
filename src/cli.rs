//! The command-line interface: one thin layer over the core.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::audio::{capture, wav};
use crate::content::{self, Library, Mock, Question, Stage};
use crate::paths::{DATA_DIR_ENV, DataDir};
use crate::store::{Session, Store, takes};

#[derive(Debug, Parser)]
#[command(name = "interview-coach", version, about = "Rehearse job interviews out loud: timed mocks, local recording and transcription, honest feedback.")]
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
    },
    /// Play a recording (from a position, in seconds).
    Play {
        file: PathBuf,
        #[arg(long, default_value_t = 0.0)]
        from: f64,
    },
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
    /// Delete a session with its recordings.
    Delete { id: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // `interview-coach content list | head`: a closed pipe is not an error.
        Err(err) if err.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
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
        Command::Record { seconds, out, device, question, session } => {
            recover_takes(&data);
            record_command(&data, seconds, out, device, question, session)
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
                return Ok(if reports.iter().any(|r| r.error.is_some()) { ExitCode::FAILURE } else { ExitCode::SUCCESS });
            }
            for file in files {
                let repaired = wav::repair(&file)?;
                println!("{}: repaired, {:.2} s", file.display(), repaired.duration_s);
            }
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
) -> Result<ExitCode> {
    if !(seconds > 0.0 && seconds.is_finite()) {
        bail!("--seconds must be more than 0");
    }
    let store = Store::new(data.sessions());
    // Into a session: the answer is saved before recording starts, so a crash
    // leaves a take that the next start repairs and gives back to it.
    let mut filed: Option<(Session, usize)> = None;
    let (path, marker) = match (&question, out) {
        (Some(question_id), _) => {
            let library = load_library(data);
            let q = library
                .question(question_id)
                .with_context(|| format!("no question \"{question_id}\"; see `interview-coach content list`"))?;
            let budget = q.question.budget_s;
            let mut session = match &session_id {
                Some(id) => store.load(id)?,
                None => Session::new(&q.mock.id, None, crate::store::Mode::Solo, chrono::Utc::now()),
            };
            let (index, path, marker) = takes::begin_answer(&store, &mut session, question_id, budget, chrono::Utc::now())?;
            filed = Some((session, index));
            (path, marker)
        }
        (None, Some(out)) => (out, wav::TakeMarker { started_at: chrono::Utc::now(), ..Default::default() }),
        (None, None) => bail!("give --out FILE.wav or --question ID"),
    };

    let recorder = capture::Recorder::start(
        capture::RecordOptions { device, out: path.clone(), marker, max_seconds: Some(seconds), stream_audio: false },
        std::sync::Arc::new(|| {}),
    );
    let result = loop {
        match recorder.events.recv() {
            Ok(capture::CaptureEvent::Started { device, sample_rate, channels, format }) => {
                eprintln!("recording from {device} ({sample_rate} Hz, {channels} ch, {format}) for {seconds} s into {}", path.display());
            }
            Ok(capture::CaptureEvent::Finished(result)) => break result,
            Ok(capture::CaptureEvent::FailedToStart(err)) => {
                if let Some((mut session, index)) = filed {
                    session.answers.remove(index);
                    store.save(&session)?;
                }
                return Err(err.into());
            }
            Ok(_) => {}
            Err(_) => bail!("the recorder stopped without a result"),
        }
    };
    let (take, error) = match result {
        Ok(take) => (take, None),
        Err((take, err)) => (take, Some(err)),
    };
    if let Some((mut session, index)) = filed {
        let answer = &mut session.answers[index];
        answer.set_duration(take.duration_s);
        answer.stopped_at = Some(chrono::Utc::now());
        answer.capture_error = error.as_ref().map(|e| e.to_string());
        store.save(&session)?;
        println!("session {}: answer {} recorded", session.id, index + 1);
    }
    println!("{}: {:.2} s", take.path.display(), take.duration_s);
    if take.dropped_samples > 0 {
        eprintln!("warning: {} samples were dropped (the machine was too busy)", take.dropped_samples);
    }
    match error {
        None => Ok(ExitCode::SUCCESS),
        Some(err) => Err(err.into()),
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
    let mock = library.mock(parts[0]).with_context(|| format!("no mock \"{}\"; see `interview-coach content list`", parts[0]))?;
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
                eprintln!("warning: skipped {}: {}", problem.path.display(), problem.error);
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
                        if answer.overrun_s > 0.0 { format!(" (over by {:.0} s)", answer.overrun_s) } else { String::new() },
                        if answer.recovered { " [recovered]" } else { "" }
                    )?;
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
