//! whisper's initial prompt: how the app asks for a transcript.
//!
//! whisper reads its prompt as the text said just before the audio and
//! continues in its style and vocabulary. Two things are asked of it here:
//! keep the fillers (a line written in a disfluent, verbatim style, since
//! whisper otherwise cleans "um" and "uh" away) and spell the question's
//! terms right (the question as asked, the content's `vocabulary` lists and
//! the user's glossary). The forms were chosen by measurement: see the
//! README's "Transcription prompt" table and `benches/prompt_eval.rs`.

use serde::{Deserialize, Serialize};

use crate::content::vocabulary::{clean_term, clean_text};
use crate::content::{Mock, Question};

/// The verbatim-style line: fillers written as a speaker says them, and a
/// plain statement that this is a word-for-word transcript.
pub const VERBATIM_LINE: &str =
    "Um, so, uh, I mean, er, hmm. Uh, okay, um. A word-for-word transcript that keeps every um, uh and false start.";

/// whisper keeps at most half its text context (224 tokens for every
/// released model) of prompt, minus one marker token.
pub const MAX_PROMPT_TOKENS: usize = 223;
/// Character budgets keep the prompt within `MAX_PROMPT_TOKENS` even at a
/// pessimistic 2.5 characters a token (technical words split into many
/// tokens); the engine still counts tokens and trims the previous text.
const QUESTION_CHARS: usize = 220;
pub const TERMS_CHARS: usize = 160;
pub const PREVIOUS_CHARS: usize = 200;

/// The user's glossary holds at most this many entries.
pub const MAX_GLOSSARY_ENTRIES: usize = 100;

/// Which parts go into the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptMode {
    /// No prompt but the text before the chunk (whisper's plain behaviour).
    Plain,
    /// The verbatim line only: keeps fillers.
    Verbatim,
    /// The question and its terms only: spells the domain words right.
    Question,
    /// The verbatim line followed by the question and its terms.
    #[default]
    VerbatimQuestion,
}

impl PromptMode {
    pub const ALL: [PromptMode; 4] =
        [PromptMode::Plain, PromptMode::Verbatim, PromptMode::Question, PromptMode::VerbatimQuestion];

    pub fn label(self) -> &'static str {
        match self {
            PromptMode::Plain => "plain",
            PromptMode::Verbatim => "verbatim",
            PromptMode::Question => "question",
            PromptMode::VerbatimQuestion => "verbatim-question",
        }
    }

    pub fn parse(text: &str) -> Option<PromptMode> {
        PromptMode::ALL.into_iter().find(|m| m.label() == text)
    }

    fn verbatim(self) -> bool {
        matches!(self, PromptMode::Verbatim | PromptMode::VerbatimQuestion)
    }

    fn question(self) -> bool {
        matches!(self, PromptMode::Question | PromptMode::VerbatimQuestion)
    }
}

/// What whisper is told before each piece of a take's audio.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Prompt {
    pub mode: PromptMode,
    /// The question as the interviewer asked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// Terms to spell right: the question's and the mock's vocabulary, then
    /// the user's glossary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
}

impl Prompt {
    /// No prompt but the text before each piece: whisper as it comes.
    pub fn plain() -> Prompt {
        Prompt { mode: PromptMode::Plain, question: None, terms: Vec::new() }
    }

    /// The prompt for an answer with no question known: keep the fillers.
    pub fn verbatim() -> Prompt {
        Prompt { mode: PromptMode::Verbatim, question: None, terms: Vec::new() }
    }

    /// The prompt for an answer to `question` of `mock`. Key-point names
    /// are left out on purpose: measured, they made whisper worse and could
    /// write a term the speaker never said (and so credit a key point).
    pub fn for_question(question: &Question, mock: &Mock, glossary: &[String], mode: PromptMode) -> Prompt {
        let mut terms: Vec<String> = Vec::new();
        // The question's own terms, then the user's (their company and
        // stack), then the mock's: the most specific first, as space is short.
        let candidates = question.vocabulary.iter().chain(glossary).chain(&mock.vocabulary);
        for term in candidates {
            let Ok(term) = clean_term(term) else { continue };
            if !terms.iter().any(|t| t.eq_ignore_ascii_case(&term)) {
                terms.push(term);
            }
        }
        Prompt { mode, question: Some(question.prompt.clone()), terms }
    }

    pub fn with_mode(mut self, mode: PromptMode) -> Prompt {
        self.mode = mode;
        self
    }

    /// The part that is the same for every piece of the take.
    pub fn fixed_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.mode.verbatim() {
            parts.push(VERBATIM_LINE.to_owned());
        }
        if self.mode.question() {
            if let Some(question) = self.question.as_deref().map(clean_text).filter(|q| !q.is_empty()) {
                parts.push(truncate_words(&question, QUESTION_CHARS));
            }
            let mut terms = String::new();
            for term in &self.terms {
                let next = if terms.is_empty() { term.clone() } else { format!("{terms}, {term}") };
                if next.chars().count() > TERMS_CHARS {
                    break;
                }
                terms = next;
            }
            if !terms.is_empty() {
                parts.push(format!("{terms}."));
            }
        }
        parts.join(" ")
    }

    /// The prompt for a piece of audio: the fixed part, then the end of
    /// what was said just before it (for continuity across chunks). `None`
    /// when there is nothing to say.
    pub fn text(&self, previous: &str) -> Option<String> {
        let fixed = self.fixed_text();
        let previous = tail_words(&clean_text(previous), PREVIOUS_CHARS);
        let text = match (fixed.is_empty(), previous.is_empty()) {
            (true, true) => return None,
            (false, true) => fixed,
            (true, false) => previous,
            (false, false) => format!("{fixed} {previous}"),
        };
        Some(text)
    }
}

/// Cleans a glossary the user typed: one entry per line or comma. Returns
/// the entries kept and a message per entry refused.
pub fn clean_glossary(raw: &str) -> (Vec<String>, Vec<String>) {
    let mut kept: Vec<String> = Vec::new();
    let mut refused = Vec::new();
    for (i, entry) in raw.split(['\n', ',', ';']).enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        match clean_term(entry) {
            Ok(term) if kept.iter().any(|k| k.eq_ignore_ascii_case(&term)) => {}
            Ok(_) if kept.len() >= MAX_GLOSSARY_ENTRIES => {
                refused.push(format!("entry {}: the glossary keeps at most {MAX_GLOSSARY_ENTRIES} terms", i + 1));
            }
            Ok(term) => kept.push(term),
            Err(err) => {
                let shown: String = clean_text(entry).chars().take(24).collect();
                refused.push(format!("entry {} (\"{shown}…\"): {err}", i + 1));
            }
        }
    }
    (kept, refused)
}

/// The first words of `text` within `max` characters.
fn truncate_words(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split(' ') {
        let len = out.chars().count() + word.chars().count() + usize::from(!out.is_empty());
        if len > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The last words of `text` within `max` characters.
pub fn tail_words(text: &str, max: usize) -> String {
    let mut words: Vec<&str> = Vec::new();
    let mut len = 0;
    for word in text.split(' ').rev().filter(|w| !w.is_empty()) {
        let next = len + word.chars().count() + usize::from(!words.is_empty());
        if next > max {
            break;
        }
        len = next;
        words.push(word);
    }
    words.reverse();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Library;

    #[test]
    fn every_builtin_question_gets_a_bounded_prompt_with_its_question() {
        let library = Library::builtin();
        let glossary: Vec<String> = (0..MAX_GLOSSARY_ENTRIES).map(|i| format!("Term{i:03} with a long name")).collect();
        let previous = "word ".repeat(500);
        for q in library.questions() {
            for mode in PromptMode::ALL {
                let prompt = Prompt::for_question(q.question, q.mock, &glossary, mode);
                let text = prompt.text(&previous).unwrap_or_default();
                let limit = QUESTION_CHARS + TERMS_CHARS + VERBATIM_LINE.len() + PREVIOUS_CHARS + 4;
                assert!(text.chars().count() <= limit, "{}: {} chars", q.full_id(), text.len());
                assert!(!text.contains('\n'));
                if mode.question() {
                    let first_words: String =
                        q.question.prompt.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                    assert!(text.contains(&first_words), "{}: {text}", q.full_id());
                }
                assert_eq!(text.contains("word-for-word"), mode.verbatim());
            }
        }
    }

    #[test]
    fn key_point_names_never_enter_the_prompt_unless_listed_as_vocabulary() {
        let library = Library::builtin();
        for q in library.questions() {
            let text = Prompt::for_question(q.question, q.mock, &[], PromptMode::VerbatimQuestion).fixed_text();
            for point in &q.question.key_points {
                let in_lists = q.question.vocabulary.iter().chain(&q.mock.vocabulary).any(|v| v == &point.name);
                let in_question = q.question.prompt.to_lowercase().contains(&point.name.to_lowercase());
                if !in_lists && !in_question {
                    assert!(!text.contains(&format!("{}.", point.name)), "{}: {}", q.full_id(), point.name);
                }
            }
        }
    }

    #[test]
    fn glossary_entries_are_cleaned_or_refused() {
        let enormous = "x".repeat(5_000);
        let raw = format!("Debezium\n\n  Kafka\tConnect  \nkafka connect\n\u{7}\u{0}\n{enormous}\nAcme\u{1b}[31mPay\n");
        let (kept, refused) = clean_glossary(&raw);
        assert_eq!(kept, vec!["Debezium", "Kafka Connect", "Acme [31mPay"]);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused[0].contains("empty"), "{refused:?}");
        assert!(refused[1].contains("5000 characters"), "{refused:?}");
        let many: String = (0..150).map(|i| format!("t{i}\n")).collect();
        let (kept, refused) = clean_glossary(&many);
        assert_eq!(kept.len(), MAX_GLOSSARY_ENTRIES);
        assert_eq!(refused.len(), 50);
    }

    #[test]
    fn the_previous_text_is_its_last_words() {
        let prompt = Prompt { mode: PromptMode::Plain, question: None, terms: vec![] };
        assert_eq!(prompt.text(""), None);
        let long = (0..100).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        let text = prompt.text(&long).unwrap_or_default();
        assert!(text.ends_with("w99") && text.len() <= PREVIOUS_CHARS && !text.starts_with(' '), "{text}");
        let verbatim = Prompt::verbatim().text("so the outbox").unwrap_or_default();
        assert!(verbatim.starts_with(VERBATIM_LINE) && verbatim.ends_with(" so the outbox"), "{verbatim}");
    }

    #[test]
    fn modes_round_trip_their_labels() {
        for mode in PromptMode::ALL {
            assert_eq!(PromptMode::parse(mode.label()), Some(mode));
        }
        assert_eq!(PromptMode::parse("loud"), None);
    }
}
