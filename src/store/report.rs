//! Summaries of a session: per stage, and as a Markdown report with the
//! transcripts, metrics and grades.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Session;
use crate::analysis::clock;
use crate::content::Library;

#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    pub mock_id: String,
    pub stage_id: String,
    pub title: String,
    pub questions: usize,
    /// Questions with at least one answer.
    pub answered: usize,
    /// Seconds spoken (the latest answer to each question).
    pub spent_s: f64,
    pub budget_s: u32,
    pub average_grade: Option<f64>,
}

/// One row per stage practised in the session, in the mock's order.
pub fn stage_summary(library: &Library, session: &Session) -> Vec<StageRow> {
    let Some(mock) = library.mock(&session.mock_id) else { return Vec::new() };
    let mut rows = Vec::new();
    for stage in &mock.stages {
        if session.stage_id.as_ref().is_some_and(|s| s != &stage.id) {
            continue;
        }
        let prefix = format!("{}/{}/", mock.id, stage.id);
        let mut latest: BTreeMap<&str, &super::Answer> = BTreeMap::new();
        for answer in session.answers.iter().filter(|a| a.question_id.starts_with(&prefix) && a.is_main_take()) {
            latest.insert(&answer.question_id, answer);
        }
        let grades: Vec<f64> = latest.values().filter_map(|a| a.average_grade()).collect();
        rows.push(StageRow {
            mock_id: mock.id.clone(),
            stage_id: stage.id.clone(),
            title: stage.title.clone(),
            questions: stage.questions.len(),
            answered: latest.len(),
            spent_s: session.time_spent_s(&prefix),
            budget_s: stage.budget_s(),
            average_grade: (!grades.is_empty()).then(|| grades.iter().sum::<f64>() / grades.len() as f64),
        });
    }
    rows
}

/// The session as a Markdown report.
pub fn markdown(library: &Library, session: &Session) -> String {
    let mut md = String::new();
    let title = library.mock(&session.mock_id).map_or(session.mock_id.clone(), |m| m.title.clone());
    let _ = writeln!(md, "# {title}\n");
    let _ = writeln!(
        md,
        "{} · {:?} mode · {} answer(s)\n",
        session.started_at.with_timezone(&chrono::Local).format("%A %d %B %Y, %H:%M"),
        session.mode,
        session.answers.len()
    );
    let _ = writeln!(md, "## Stages\n\n| Stage | Answered | Time | Budget | Self-grade |\n|---|---|---|---|---|");
    for row in stage_summary(library, session) {
        let _ = writeln!(
            md,
            "| {} | {} of {} | {} | {} | {} |",
            row.title,
            row.answered,
            row.questions,
            clock(row.spent_s),
            clock(f64::from(row.budget_s)),
            row.average_grade.map_or("–".into(), |g| format!("{g:.1}"))
        );
    }
    if !session.reflection.trim().is_empty() {
        let _ = writeln!(md, "\n## Reflection\n\n{}", session.reflection.trim());
    }
    for (i, answer) in session.answers.iter().enumerate() {
        let q = library.question(&answer.question_id);
        let _ = writeln!(md, "\n## {}. {}\n", i + 1, q.map_or(answer.question_id.clone(), |q| q.stage.title.clone()));
        if let Some(q) = q {
            let _ = writeln!(md, "> {}\n", q.question.prompt);
        }
        if let Some(follow_up) = &answer.follow_up {
            let _ = writeln!(md, "Follow-up: **{}**\n", follow_up.text);
        }
        let _ = writeln!(
            md,
            "Time: {} of {}{}{}\n",
            clock(answer.duration_s),
            clock(f64::from(answer.budget_s)),
            if answer.overrun_s > 0.0 { format!(" (over by {})", clock(answer.overrun_s)) } else { String::new() },
            if answer.recovered { " · recovered after a crash" } else { "" }
        );
        match &answer.transcript {
            Some(t) if t.no_speech => md.push_str("_No speech detected._\n"),
            Some(t) => {
                let _ = writeln!(md, "### Transcript\n\n{}\n", t.text.trim());
            }
            None => md.push_str("_Not transcribed._\n"),
        }
        if let Some(f) = &answer.feedback {
            let _ = writeln!(md, "### Metrics\n");
            for advice in &f.advice {
                let _ = writeln!(md, "- {}{}", if advice.warn() { "⚠ " } else { "" }, advice.text());
            }
            md.push('\n');
        }
        if !answer.grades.is_empty() {
            let _ = writeln!(md, "### Self-grade\n");
            for (signal, level) in &answer.grades {
                let name = library.signal(signal).map_or(signal.clone(), |s| s.name.clone());
                let _ = writeln!(md, "- {name}: {}", level.label());
            }
            md.push('\n');
        }
        if let Some(pad) = &answer.scratchpad {
            let _ = writeln!(md, "### Scratchpad\n\n```\n{}\n```\n", pad.trim_end());
        }
        if !answer.notes.trim().is_empty() {
            let _ = writeln!(md, "### Notes\n\n{}\n", answer.notes.trim());
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Answer, Level, Mode};

    #[test]
    fn summary_and_report() {
        let library = Library::builtin();
        let mut session = Session::new("phone-screen", None, Mode::Solo, chrono::Utc::now());
        let mut a = Answer::new("phone-screen/scenarios/p99-latency".into(), 180, chrono::Utc::now());
        a.set_duration(200.0);
        a.grades.insert("problem-solving".into(), Level::Senior);
        a.grades.insert("failure-thinking".into(), Level::Mid);
        session.answers.push(a);
        session.reflection = "Lead with the tail-latency causes.".into();
        let rows = stage_summary(&library, &session);
        assert_eq!(rows.len(), 5);
        let scenarios = rows.iter().find(|r| r.stage_id == "scenarios").expect("scenarios row");
        assert_eq!((scenarios.answered, scenarios.questions, scenarios.budget_s), (1, 2, 360));
        assert_eq!(scenarios.average_grade, Some(2.5));
        let md = markdown(&library, &session);
        assert!(md.contains("| Stage 3 — Quick Scenarios | 1 of 2 | 3:20 | 6:00 | 2.5 |"), "{md}");
        assert!(md.contains("Time: 3:20 of 3:00 (over by 0:20)"));
        assert!(md.contains("- Problem solving: Senior"));
        assert!(md.contains("Lead with the tail-latency causes."));
    }
}
