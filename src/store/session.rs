//! A practice session as it is kept on disk (`session.json`).

use std::collections::BTreeMap;

use chrono::{DateTime, Local, Utc};
use serde::{Deserialize, Serialize};

use crate::analysis::Feedback;
use crate::analysis::corrections::FillerCorrection;
use crate::transcribe::Transcript;

/// Bumped when the file format changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Solo,
    Peer,
}

/// A self-grade on one rubric signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    Junior,
    Mid,
    Senior,
    Staff,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Junior, Level::Mid, Level::Senior, Level::Staff];

    /// 1 (Junior) to 4 (Staff), for averages and trends.
    pub fn score(self) -> f64 {
        match self {
            Level::Junior => 1.0,
            Level::Mid => 2.0,
            Level::Senior => 3.0,
            Level::Staff => 4.0,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Junior => "Junior",
            Level::Mid => "Mid",
            Level::Senior => "Senior",
            Level::Staff => "Staff",
        }
    }

    /// The level nearest to an average score.
    pub fn nearest(score: f64) -> Level {
        Level::ALL
            .into_iter()
            .min_by(|a, b| (a.score() - score).abs().total_cmp(&(b.score() - score).abs()))
            .unwrap_or(Level::Junior)
    }
}

/// What makes an answer a follow-up: the probe asked after an earlier answer
/// to the same question, and why that probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// The answer it follows (same session, same question).
    pub to: String,
    /// The probe's index among the question's probes, then its stage's.
    pub probe: usize,
    /// The probe as asked (kept: the content may change later).
    pub text: String,
    /// The key point the answer had missed, when that chose the probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<String>,
}

/// One recorded answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Stable within its session (`a1`, `a2`, ...): work that finishes on
    /// another thread finds its answer by id, not by a position that a
    /// deletion can shift. Older files get ids when read.
    #[serde(default)]
    pub id: String,
    /// Full question id, `mock/stage/question`.
    pub question_id: String,
    /// The take's WAV file, relative to the session folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wav: Option<String>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    /// Length of the recording in seconds.
    #[serde(default)]
    pub duration_s: f64,
    pub budget_s: u32,
    /// Seconds past the budget (0 when within it).
    #[serde(default)]
    pub overrun_s: f64,
    /// The take was left unfinished (crash, kill) and repaired at start-up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
    /// Why the recording stopped early, when it did (device lost, disk full).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Transcript>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Feedback>,
    /// Self-grade per rubric signal id.
    #[serde(default)]
    pub grades: BTreeMap<String, Level>,
    /// Peer mode: the "listen for" items the interviewer ticked, by index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listen_for_ticks: Vec<usize>,
    #[serde(default)]
    pub notes: String,
    /// The user's corrections of the fillers found ("not a filler", "I said
    /// 'um' here"), by time in the take; `feedback` has them applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filler_corrections: Vec<FillerCorrection>,
    /// Coding questions: the candidate's scratchpad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratchpad: Option<String>,
    /// Seconds the question was on screen before Record was pressed (the
    /// first take after it appeared; `None` for retakes and follow-ups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_shown_s: Option<f64>,
    /// Set on a follow-up: the answer to a probe, part of its question's
    /// answer (not a take of the question itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
    /// In memory only: the transcript's timed words and segments were left
    /// on disk (a year of history would otherwise hold every word); its text
    /// is here. Filled in again when the answer is opened or saved.
    #[serde(skip)]
    pub elided: bool,
}

impl Answer {
    pub fn new(question_id: String, budget_s: u32, started_at: DateTime<Utc>) -> Answer {
        Answer {
            id: String::new(),
            question_id,
            wav: None,
            started_at,
            stopped_at: None,
            duration_s: 0.0,
            budget_s,
            overrun_s: 0.0,
            recovered: false,
            capture_error: None,
            transcript: None,
            transcription_error: None,
            feedback: None,
            grades: BTreeMap::new(),
            listen_for_ticks: Vec::new(),
            notes: String::new(),
            filler_corrections: Vec::new(),
            scratchpad: None,
            question_shown_s: None,
            follow_up: None,
            elided: false,
        }
    }

    /// A take of the question itself (not the answer to a follow-up probe).
    pub fn is_main_take(&self) -> bool {
        self.follow_up.is_none()
    }

    /// Records the take's length and the overrun against the budget.
    pub fn set_duration(&mut self, duration_s: f64) {
        self.duration_s = duration_s;
        self.overrun_s = (duration_s - f64::from(self.budget_s)).max(0.0);
    }

    /// Seconds from the question appearing to the first word, when both
    /// are known; else from Record to the first word.
    pub fn time_to_first_word_s(&self) -> Option<f64> {
        let from_record = self.feedback.as_ref()?.voice.as_ref()?.first_word_s?;
        Some(from_record + self.question_shown_s.unwrap_or(0.0))
    }

    /// The mock and stage ids of this answer's question.
    pub fn stage_key(&self) -> Option<(&str, &str)> {
        let mut parts = self.question_id.splitn(3, '/');
        Some((parts.next()?, parts.next()?))
    }

    pub fn average_grade(&self) -> Option<f64> {
        if self.grades.is_empty() {
            return None;
        }
        Some(self.grades.values().map(|l| l.score()).sum::<f64>() / self.grades.len() as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub schema_version: u32,
    pub id: String,
    pub mock_id: String,
    /// Set when a single stage was practised rather than the whole mock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<String>,
    pub mode: Mode,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub answers: Vec<Answer>,
    /// The end-of-mock "what I'd improve" note.
    #[serde(default)]
    pub reflection: String,
}

impl Session {
    /// A new session; its id is its local start time plus what was practised,
    /// so folders sort by time and say what they hold.
    pub fn new(mock_id: &str, stage_id: Option<&str>, mode: Mode, started_at: DateTime<Utc>) -> Session {
        let local: DateTime<Local> = started_at.into();
        let what = match stage_id {
            Some(stage) => format!("{mock_id}-{stage}"),
            None => mock_id.to_owned(),
        };
        Session {
            schema_version: SCHEMA_VERSION,
            id: format!("{}_{what}", local.format("%Y-%m-%d_%H%M%S")),
            mock_id: mock_id.to_owned(),
            stage_id: stage_id.map(str::to_owned),
            mode,
            started_at,
            ended_at: None,
            answers: Vec::new(),
            reflection: String::new(),
        }
    }

    /// What was practised, for lists: "phone-screen" or "phone-screen / live-coding".
    pub fn scope(&self) -> String {
        match &self.stage_id {
            Some(stage) => format!("{} / {stage}", self.mock_id),
            None => self.mock_id.clone(),
        }
    }

    /// Time spent on the questions whose ids start with `prefix` (a stage's
    /// `mock/stage/`): the latest take of each, with its follow-ups.
    pub fn time_spent_s(&self, prefix: &str) -> f64 {
        let mut latest: BTreeMap<&str, &Answer> = BTreeMap::new();
        for answer in self.answers.iter().filter(|a| a.question_id.starts_with(prefix) && a.is_main_take()) {
            latest.insert(&answer.question_id, answer);
        }
        latest.values().map(|a| a.duration_s + self.follow_ups_of(&a.id).map(|f| f.duration_s).sum::<f64>()).sum()
    }

    /// The answers to follow-up probes asked after `answer_id`, in order.
    pub fn follow_ups_of<'a>(&'a self, answer_id: &'a str) -> impl Iterator<Item = &'a Answer> + 'a {
        self.answers.iter().filter(move |a| a.follow_up.as_ref().is_some_and(|f| f.to == answer_id))
    }

    pub fn total_overrun_s(&self) -> f64 {
        self.answers.iter().map(|a| a.overrun_s).sum()
    }

    /// Adds an answer with a fresh id and returns that id.
    pub fn push_answer(&mut self, mut answer: Answer) -> String {
        answer.id = self.next_answer_id();
        let id = answer.id.clone();
        self.answers.push(answer);
        id
    }

    /// Gives answers read from an older file (without ids) their ids: by
    /// position, so every reading of the same file gives the same ids.
    pub fn assign_missing_answer_ids(&mut self) {
        for (i, answer) in self.answers.iter_mut().enumerate() {
            if answer.id.is_empty() {
                answer.id = format!("a{}", i + 1);
            }
        }
    }

    /// `a<n>-<tag>`: numbered in order here, with a tag so that answers two
    /// processes add to one session at once never share an id.
    fn next_answer_id(&self) -> String {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let number = |id: &str| id.strip_prefix('a')?.split('-').next()?.parse::<u64>().ok();
        let highest = self.answers.iter().filter_map(|a| number(&a.id)).max().unwrap_or(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tag = (nanos ^ std::process::id().wrapping_mul(2_654_435_761) ^ count.wrapping_mul(40_503)) & 0xff_ffff;
        format!("a{}-{tag:06x}", highest + 1)
    }

    /// Leaves what only a review shows out of this copy: the transcript
    /// (its text, timed words and segments) and the feedback's lists
    /// (fillers and pauses with their times, advice, ...). The numbers that
    /// history, trends and lists use stay.
    pub fn elide_transcripts(&mut self) {
        for answer in &mut self.answers {
            let Some(t) = &mut answer.transcript else { continue };
            t.text = String::new();
            t.words = Vec::new();
            t.segments = Vec::new();
            if let Some(f) = &mut answer.feedback {
                f.fillers.items = Vec::new();
                f.pace = Vec::new();
                f.pauses.items = Vec::new();
                f.numbers = Vec::new();
                f.tradeoffs = Vec::new();
                f.hedges = Vec::new();
                f.repetitions = Vec::new();
                f.red_flags = Vec::new();
                f.advice = Vec::new();
            }
            answer.elided = true;
        }
    }

    pub fn has_elided(&self) -> bool {
        self.answers.iter().any(|a| a.elided)
    }

    /// Puts back what `elide_transcripts` left out, from a full copy of the
    /// session (an elided answer's transcript and feedback are never changed
    /// here: a new transcript replaces both and ends the elision).
    pub fn fill_elided_from(&mut self, full: &Session) {
        for answer in self.answers.iter_mut().filter(|a| a.elided) {
            if let Some(source) = full.answer(&answer.id) {
                answer.transcript = source.transcript.clone();
                answer.feedback = source.feedback.clone();
                answer.elided = false;
            }
        }
    }

    pub fn answer(&self, id: &str) -> Option<&Answer> {
        self.answers.iter().find(|a| a.id == id)
    }

    pub fn answer_mut(&mut self, id: &str) -> Option<&mut Answer> {
        self.answers.iter_mut().find(|a| a.id == id)
    }

    pub fn answer_index(&self, id: &str) -> Option<usize> {
        self.answers.iter().position(|a| a.id == id)
    }
}
