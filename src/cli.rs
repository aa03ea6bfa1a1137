//! The command-line interface: one thin layer over the core.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::content::{self, Library, Mock, Question, Stage};
use crate::paths::{DATA_DIR_ENV, DataDir};
use crate::store::{Session, Store};

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
        Command::Sessions(cmd) => sessions_command(&data, cmd),
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
