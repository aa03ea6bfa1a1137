//! What the answer says: numbers, the question's key points, trade-off
//! language, hedges, repeated phrases and red-flag phrases.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::text::{Token, find_phrase, normalise, stem};
use crate::content::KeyPoint;

/// A phrase found in the answer, with when it was said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub text: String,
    pub start: f64,
}

/// A quantity: "200 ms", "10,000 QPS", "40 percent", "$3,000", "two weeks".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub text: String,
    pub start: f64,
    pub kind: QuantityKind,
}

/// What a quantity measures, from its unit; the JSON names are the strings saved before this was an enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantityKind {
    Percent,
    /// "10x", "3 times".
    Ratio,
    Duration,
    Rate,
    Money,
    Size,
    /// A bare number, or a number of things ("3 partitions").
    Count,
}

const NUMBER_WORDS: [&str; 32] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "billion",
    "half",
    "dozen",
    "hundreds",
    "thousands",
    "millions",
    "billions",
];

fn unit_kind(word: &str) -> Option<QuantityKind> {
    unit_kind_exact(word).or_else(|| word.strip_suffix('s').and_then(unit_kind_exact))
}

fn unit_kind_exact(w: &str) -> Option<QuantityKind> {
    Some(match w {
        "percent" | "%" | "percentage" => QuantityKind::Percent,
        "x" | "time" => QuantityKind::Ratio,
        "ms" | "millisecond" | "second" | "sec" | "minute" | "min" | "hour" | "day" | "week" | "month" | "year" => {
            QuantityKind::Duration
        }
        "qp" | "rp" | "tp" | "request" | "transaction" | "event" | "message" | "order" | "user" | "customer"
        | "call" | "per" => QuantityKind::Rate,
        "dollar" | "euro" | "pound" | "buck" => QuantityKind::Money,
        "kb" | "mb" | "gb" | "tb" | "pb" | "byte" | "kilobyte" | "megabyte" | "gigabyte" | "terabyte" | "row"
        | "record" => QuantityKind::Size,
        _ => return None,
    })
}

fn is_number(token: &str) -> bool {
    let digits = token.trim_start_matches('$').trim_end_matches('%').trim_end_matches(['k', 'm', 'x']);
    (!digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
        && digits.chars().any(|c| c.is_ascii_digit()))
        || NUMBER_WORDS.contains(&token)
}

/// Numbers with their unit when one follows ("p99" and "1.22" as version
/// names are not quantities: a digit inside a word does not count).
pub fn quantities(tokens: &[Token]) -> Vec<Quantity> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !is_number(&tokens[i].text)
            || (tokens[i].text == "one" && tokens.get(i + 1).is_none_or(|t| unit_kind(&t.text).is_none()))
        {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < tokens.len() && is_number(&tokens[i + 1].text) && tokens[i].after.is_none() {
            i += 1;
        }
        let mut kind = if tokens[start].text.starts_with('$') {
            QuantityKind::Money
        } else if tokens[start].text.ends_with('x') {
            QuantityKind::Ratio
        } else {
            QuantityKind::Count
        };
        if kind == QuantityKind::Count
            && tokens[i].after.is_none()
            && let Some(next) = tokens.get(i + 1)
        {
            if let Some(unit) = unit_kind(&next.text) {
                kind = unit;
                i += 1;
            } else if next.text.chars().all(char::is_alphabetic) && !STOPWORDS.contains(&next.text.as_str()) {
                // "3 partitions": keep what was counted.
                i += 1;
            }
        }
        let text = tokens[start..=i].iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" ");
        out.push(Quantity { text, start: tokens[start].start, kind });
        i += 1;
    }
    out
}

/// Each key point is covered when any of its names is said (stems
/// compared), or when all the content words of one of its names of two or
/// more words are said close together in one sentence, in any order
/// ("useful to disable a case in a select" names "disable a select case").
pub fn key_points(tokens: &[Token], points: &[KeyPoint]) -> (Vec<String>, Vec<String>) {
    let mut covered = Vec::new();
    let mut missed = Vec::new();
    for point in points {
        let mut names = std::iter::once(&point.name).chain(&point.synonyms);
        let said = names.any(|name| {
            let words = content_stems(name);
            !find_phrase(tokens, &normalise(name)).is_empty() || (words.len() >= 2 && said_together(tokens, &words))
        });
        if said { covered.push(point.name.clone()) } else { missed.push(point.name.clone()) }
    }
    (covered, missed)
}

/// Words that carry no meaning of their own in a key point's name (not
/// "not" or "never": those change what is said).
const GLUE_WORDS: [&str; 24] = [
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "is", "are", "be", "it", "its", "that",
    "this", "by", "from", "as", "into", "your",
];

/// The stems of a name's content words, each once.
fn content_stems(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in normalise(name) {
        if GLUE_WORDS.contains(&word.as_str()) {
            continue;
        }
        let word = stem(&word).to_owned();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// All of `words` (stems) said within a short window inside one sentence,
/// in any order: the window is twice as many tokens as there are words, so
/// a few small words may come between, but not a second thought.
fn said_together(tokens: &[Token], words: &[String]) -> bool {
    let window = words.len() * 2;
    (0..tokens.len()).any(|start| {
        let mut seen: Vec<&str> = Vec::new();
        for (k, token) in tokens[start..].iter().enumerate().take(window) {
            if k > 0 && token.sentence_start {
                break;
            }
            let word = stem(&token.text);
            if k == 0 && !words.iter().any(|w| w == word) {
                return false; // a window starts on one of the words
            }
            if words.iter().any(|w| w == word) && !seen.contains(&word) {
                seen.push(word);
            }
            if seen.len() == words.len() {
                return true;
            }
        }
        false
    })
}

/// Every occurrence of any of `phrases`.
pub fn mentions(tokens: &[Token], phrases: &[&str]) -> Vec<Mention> {
    let mut out: Vec<Mention> = phrases
        .iter()
        .flat_map(|phrase| {
            let words = normalise(phrase);
            find_phrase(tokens, &words)
                .into_iter()
                .map(move |i| Mention { text: (*phrase).to_owned(), start: tokens[i].start })
        })
        .collect();
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

pub const TRADEOFF_PHRASES: [&str; 12] = [
    "trade-off",
    "tradeoff",
    "trade off",
    "on the other hand",
    "the downside",
    "it depends",
    "versus",
    "at the cost of",
    "the cost is",
    "the price is",
    "in exchange",
    "the catch is",
];
pub const HEDGES: [&str; 8] = ["maybe", "i guess", "sort of", "just", "probably", "i suppose", "perhaps", "possibly"];

const STOPWORDS: [&str; 40] = [
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "is", "was", "it", "that",
    "this", "we", "i", "you", "they", "be", "are", "so", "as", "if", "then", "there", "by", "from", "had", "have",
    "do", "did", "not", "um", "uh", "like", "its",
];

/// A phrase of 2 to 4 words said three times or more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repetition {
    pub phrase: String,
    pub count: usize,
}

/// Repeated 2–4 word phrases (not only small words), longest first; a
/// phrase inside a longer one repeated as often is not listed again.
pub fn repetitions(tokens: &[Token]) -> Vec<Repetition> {
    let words: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    let mut found: Vec<Repetition> = Vec::new();
    for n in (2..=4).rev() {
        if words.len() < n {
            continue;
        }
        let mut counts: HashMap<Vec<&str>, usize> = HashMap::new();
        for gram in words.windows(n) {
            if gram.iter().all(|w| STOPWORDS.contains(w)) {
                continue;
            }
            *counts.entry(gram.to_vec()).or_default() += 1;
        }
        let mut grams: Vec<(Vec<&str>, usize)> = counts.into_iter().filter(|(_, c)| *c >= 3).collect();
        grams.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for (gram, count) in grams {
            let phrase = gram.join(" ");
            let inside_longer =
                found.iter().any(|r| r.count >= count && format!(" {} ", r.phrase).contains(&format!(" {phrase} ")));
            if !inside_longer {
                found.push(Repetition { phrase, count });
            }
        }
    }
    found
}

/// Red-flag phrases said in the answer.
pub fn red_flags(tokens: &[Token], phrases: &[String]) -> Vec<Mention> {
    let refs: Vec<&str> = phrases.iter().map(String::as_str).collect();
    mentions(tokens, &refs)
}

/// Words in one list or the other, counted.
pub fn count_words(tokens: &[Token], words: &[&str]) -> usize {
    tokens.iter().filter(|t| words.contains(&t.text.as_str())).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::text::timed_tokens;

    fn tok(text: &str) -> Vec<Token> {
        timed_tokens(text, 1.0, 0.5)
    }

    #[test]
    fn quantities_with_units() {
        let q = quantities(&tok(
            "We served 10,000 QPS with p99 of 200 ms, saved $3,000 and 40 percent, cut errors 30%, over two weeks, on Go 1.22 with 3 partitions.",
        ));
        let got: Vec<(&str, QuantityKind)> = q.iter().map(|q| (q.text.as_str(), q.kind)).collect();
        assert_eq!(
            got,
            [
                ("10,000 qps", QuantityKind::Rate),
                ("200 ms", QuantityKind::Duration),
                ("$3,000", QuantityKind::Money),
                ("40 percent", QuantityKind::Percent),
                ("30 percent", QuantityKind::Percent),
                ("two weeks", QuantityKind::Duration),
                ("1.22", QuantityKind::Count),
                ("3 partitions", QuantityKind::Count)
            ]
        );
    }

    #[test]
    fn quantity_kinds_keep_their_json_names() {
        let q = Quantity { text: "40 percent".into(), start: 1.0, kind: QuantityKind::Percent };
        let json = serde_json::to_string(&q).expect("serialize");
        assert_eq!(json, r#"{"text":"40 percent","start":1.0,"kind":"percent"}"#);
        assert_eq!(serde_json::from_str::<Quantity>(&json).expect("deserialize"), q);
    }

    #[test]
    fn key_points_match_synonyms_and_stems() {
        let points = vec![
            KeyPoint { name: "blocks forever".into(), synonyms: vec!["hangs forever".into()] },
            KeyPoint { name: "panics".into(), synonyms: vec![] },
            KeyPoint { name: "zero value".into(), synonyms: vec![] },
        ];
        let (covered, missed) =
            key_points(&tok("A nil channel send just hangs forever and a closed one will panic."), &points);
        assert_eq!(covered, ["blocks forever", "panics"]);
        assert_eq!(missed, ["zero value"]);
    }

    /// Paraphrases that name a key point, and talk that does not.
    #[test]
    fn key_points_match_content_words_close_together_in_any_order() {
        let point = |name: &str, synonyms: &[&str]| KeyPoint {
            name: name.into(),
            synonyms: synonyms.iter().map(|s| (*s).to_owned()).collect(),
        };
        let cases: &[(&str, KeyPoint, bool)] = &[
            ("A nil channel is useful to disable a case in a select.", point("disable a select case", &[]), true),
            ("We disable the select case when the channel is nil.", point("disable a select case", &[]), true),
            ("Set it to nil and the select case is disabled.", point("disable a select case", &[]), true),
            ("The send blocks until it is received.", point("synchronous handoff", &["blocks until receive"]), true),
            ("Consumers are made idempotent with a dedup table.", point("idempotent consumers", &[]), true),
            ("Each message id is used to dedupe.", point("dedupe by message id", &[]), true),
            // Not said: one word only, words in two sentences, or far apart.
            ("We disable retries on that path.", point("disable a select case", &[]), false),
            (
                "We disable retries. The select statement has a default case.",
                point("disable a select case", &[]),
                false,
            ),
            (
                "We disable the old consumer first and later, after the migration is done and verified, we select a \
                 new case study.",
                point("disable a select case", &[]),
                false,
            ),
            ("The consumer reads from Kafka.", point("idempotent consumers", &[]), false),
            ("It blocks until the timeout fires.", point("synchronous handoff", &["blocks until receive"]), false),
        ];
        for (text, point, expected) in cases {
            let (covered, _) = key_points(&tok(text), std::slice::from_ref(point));
            assert_eq!(!covered.is_empty(), *expected, "{text:?} for {:?}", point.name);
        }
    }

    #[test]
    fn tradeoffs_hedges_and_red_flags() {
        let t = tok("It depends. The downside is latency, maybe. I guess we just restarted it and it went away.");
        let tradeoffs: Vec<String> = mentions(&t, &TRADEOFF_PHRASES).into_iter().map(|m| m.text).collect();
        assert_eq!(tradeoffs, ["it depends", "the downside"]);
        let hedges: Vec<String> = mentions(&t, &HEDGES).into_iter().map(|m| m.text).collect();
        assert_eq!(hedges, ["maybe", "i guess", "just"]);
        let flags = red_flags(&t, &["restarted it and it went away".to_string(), "time.sleep".to_string()]);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].start, 11.0);
    }

    #[test]
    fn repeated_phrases() {
        let t = tok(
            "the outbox relay reads rows. the outbox relay publishes. the outbox relay marks rows. of the of the of the",
        );
        let reps = repetitions(&t);
        assert_eq!(reps, vec![Repetition { phrase: "the outbox relay".into(), count: 3 }]);
    }
}
