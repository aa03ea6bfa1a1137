//! The data model of mock-interview content, exactly as it is written in the
//! TOML files under `content/` (and in user-authored files in the data folder).

use serde::{Deserialize, Serialize};

/// The longest mock or stage, in minutes (10 hours): more is a typo, and a
/// range keeps `minutes * 60` far from overflowing.
pub const MAX_MINUTES: u32 = 600;
/// The longest question budget, in seconds (10 hours), for the same reasons.
pub const MAX_BUDGET_S: u32 = 36_000;

/// The kind of a question decides which feedback applies (STAR structure only
/// for behavioral answers, trade-off language for design and scenarios, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionKind {
    Intro,
    Technical,
    Coding,
    Scenario,
    Design,
    #[serde(rename = "behavioral-star")]
    BehavioralStar,
    CandidateQuestions,
}

impl QuestionKind {
    pub fn label(self) -> &'static str {
        match self {
            QuestionKind::Intro => "intro",
            QuestionKind::Technical => "technical",
            QuestionKind::Coding => "coding",
            QuestionKind::Scenario => "scenario",
            QuestionKind::Design => "design",
            QuestionKind::BehavioralStar => "behavioral-STAR",
            QuestionKind::CandidateQuestions => "candidate-questions",
        }
    }
}

/// A follow-up's budget when its probe names none, in seconds.
pub const DEFAULT_FOLLOW_UP_BUDGET_S: u32 = 90;

/// A follow-up the interviewer asks, optionally with the answer it is after
/// (the seed's "→ refill in batches").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The question's key points this probe digs into (by name): when an
    /// answer misses one of them, this is the follow-up the app asks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_points: Vec<String>,
    /// The follow-up's own budget, 1..=`MAX_BUDGET_S` seconds
    /// (`DEFAULT_FOLLOW_UP_BUDGET_S` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_s: Option<u32>,
}

impl Probe {
    pub fn budget_s(&self) -> u32 {
        self.budget_s.unwrap_or(DEFAULT_FOLLOW_UP_BUDGET_S)
    }
}

/// A code snippet kept verbatim (the live-coding strong answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBlock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default = "default_lang")]
    pub lang: String,
    pub text: String,
}

fn default_lang() -> String {
    "go".to_owned()
}

/// A concept a strong answer names, with the other ways a speaker may say it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPoint {
    pub name: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Local id, unique within its stage; the full id is `mock/stage/question`.
    pub id: String,
    pub kind: QuestionKind,
    /// Time budget in seconds, 1..=`MAX_BUDGET_S`.
    pub budget_s: u32,
    /// What the interviewer says (or the task, for coding).
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<Probe>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listen_for: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strong_answer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<CodeBlock>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<String>,
    /// Rubric signal ids this answer is graded on.
    pub signals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_points: Vec<KeyPoint>,
    /// Phrases that, when said, hint at one of the red flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flag_phrases: Vec<String>,
    /// Terms whisper should spell right in answers to this question (its
    /// product names, acronyms, jargon), added to the mock's list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vocabulary: Vec<String>,
}

impl Question {
    pub fn is_optional(&self) -> bool {
        self.optional.unwrap_or(false)
    }

    /// The question a follow-up answer is transcribed and judged against:
    /// the probe is what was asked, with its own budget, and only the key
    /// points it digs into count (an unlinked probe judges none). Its kind
    /// is technical: a 90-second follow-up is not a whole STAR story or
    /// design, so it gets the fluency, numbers and key points, not the
    /// structure checks of its question.
    pub fn as_follow_up(&self, probe_text: &str, budget_s: u32, key_points: &[String]) -> Question {
        Question {
            kind: QuestionKind::Technical,
            prompt: probe_text.to_owned(),
            budget_s,
            notes: Vec::new(),
            probes: Vec::new(),
            listen_for: Vec::new(),
            strong_answer: None,
            code: Vec::new(),
            key_points: self.key_points.iter().filter(|k| key_points.contains(&k.name)).cloned().collect(),
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    pub title: String,
    /// Stage budget in minutes, 1..=`MAX_MINUTES`.
    pub minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// Guidance for the interviewer ("Ask rapid-fire; ...").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What the candidate is expected to cover (the seed's "Expect: ...").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<Probe>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listen_for: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<String>,
    #[serde(rename = "question")]
    pub questions: Vec<Question>,
}

impl Stage {
    /// Saturates instead of wrapping: validated content has at most `MAX_MINUTES`.
    pub fn budget_s(&self) -> u32 {
        self.minutes.saturating_mul(60)
    }
    pub fn is_optional(&self) -> bool {
        self.optional.unwrap_or(false)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mock {
    pub id: String,
    pub title: String,
    /// Total length in minutes (1..=`MAX_MINUTES`); the stages' minutes must add up to it.
    pub minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A prompt that frames the whole mock (the system-design problem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// "Trade-offs a strong candidate raises unprompted".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unprompted_tradeoffs: Vec<String>,
    /// How the budget is split when the seed leaves it open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_note: Option<String>,
    /// The rubric table this mock is graded against.
    pub rubric: String,
    /// Terms whisper should spell right in every answer of this mock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vocabulary: Vec<String>,
    #[serde(rename = "stage")]
    pub stages: Vec<Stage>,
}

impl Mock {
    /// Saturates instead of wrapping: validated content has at most `MAX_MINUTES`.
    pub fn budget_s(&self) -> u32 {
        self.minutes.saturating_mul(60)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    pub id: String,
    pub name: String,
    pub junior: String,
    pub mid: String,
    pub senior: String,
    pub staff: String,
}

impl Signal {
    /// The description of a level, in Junior/Mid/Senior/Staff order.
    pub fn cells(&self) -> [&str; 4] {
        [&self.junior, &self.mid, &self.senior, &self.staff]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricTable {
    pub id: String,
    pub title: String,
    #[serde(rename = "signal")]
    pub signals: Vec<Signal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communication_bar: Option<String>,
    #[serde(rename = "table")]
    pub tables: Vec<RubricTable>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideItem {
    pub label: String,
    pub text: String,
}

/// The document-level guidance: title, who it is for, how to run the mocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    pub title: String,
    pub summary: String,
    #[serde(rename = "how_to_run")]
    pub how_to_run: Vec<GuideItem>,
}
