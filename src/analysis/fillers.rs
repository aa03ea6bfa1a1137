//! Filler words in the transcript, with the context rules for fillers that
//! are also real words ("like", "so", "right", "you know", "kind of", ...).

use super::text::{Token, normalise};

/// A filler occurrence found in the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The filler as configured ("um", "you know").
    pub filler: String,
    pub start: f64,
    /// Index of its first token.
    pub index: usize,
}

/// The fillers that are sounds rather than words; `canonical` folds
/// whisper's spellings of them into these.
pub const HESITATION_SOUNDS: [&str; 5] = ["um", "uh", "er", "ah", "hmm"];

/// "um", "uh", "er", "ah", "hmm" in any of whisper's spellings.
pub fn is_hesitation(word: &str) -> bool {
    HESITATION_SOUNDS.contains(&canonical(word))
}

/// Spellings whisper uses for hesitation sounds.
fn canonical(word: &str) -> &str {
    match word {
        "umm" | "ummm" | "uhm" | "hm" | "mm" => {
            if word.starts_with('h') || word == "mm" {
                "hmm"
            } else {
                "um"
            }
        }
        "uhh" | "uhhh" => "uh",
        "erm" | "err" => "er",
        "ahh" => "ah",
        "hmmm" => "hmm",
        other => other,
    }
}

const DETERMINERS: [&str; 16] = [
    "the", "a", "an", "this", "that", "these", "those", "my", "our", "your", "their", "his", "her", "its", "some",
    "any",
];

fn word(tokens: &[Token], i: isize) -> &str {
    if i < 0 { "" } else { tokens.get(i as usize).map_or("", |t| t.text.as_str()) }
}

/// A silent gap this long on both sides of "like" after a subject sets it
/// off as commas do (whisper's word times are not finer than that).
const SET_OFF_GAP_S: f64 = 0.35;

/// The subjects after which "like" is read as the verb unless set off.
const SUBJECTS: [&str; 7] = ["i", "you", "we", "they", "he", "she", "people"];

/// "like" is a verb after a subject or auxiliary ("I like Go", "would
/// like"), a comparison after "looks/sounds/something", and a preposition
/// before a noun phrase ("a downstream like the database"). Otherwise it is
/// a filler ("it was, like, slow"). Set off by commas on both sides it is a
/// filler; after a subject, pauses set it off too ("I, like, rolled it
/// back"): a verb is never cut off from its subject and its object that way.
fn like_is_filler(tokens: &[Token], i: usize) -> bool {
    let comma_before = i == 0 || tokens[i - 1].after == Some(',');
    let comma_after = match tokens.get(i + 1) {
        None => tokens[i].after.is_some(),
        Some(_) => tokens[i].after == Some(','),
    };
    if comma_before && comma_after {
        return true;
    }
    if i > 0 && SUBJECTS.contains(&tokens[i - 1].text.as_str()) {
        let before = comma_before || tokens[i].start - tokens[i - 1].end >= SET_OFF_GAP_S;
        let after = comma_after || tokens.get(i + 1).is_some_and(|n| n.start - tokens[i].end >= SET_OFF_GAP_S);
        if before && after {
            return true;
        }
    }
    let i = i as isize;
    let prev = word(tokens, i - 1);
    let next = word(tokens, i + 1);
    let prev_pause = i == 0 || tokens[(i - 1) as usize].after.is_some();
    let verb_use = [
        "i", "you", "we", "they", "would", "i'd", "we'd", "you'd", "do", "don't", "didn't", "doesn't", "really", "to",
        "people", "users", "who",
    ]
    .contains(&prev);
    let comparison = [
        "look",
        "looks",
        "looked",
        "seem",
        "seems",
        "seemed",
        "sound",
        "sounds",
        "sounded",
        "feel",
        "feels",
        "felt",
        "something",
        "things",
        "anything",
        "nothing",
        "more",
        "less",
        "much",
        "just",
        "exactly",
        "is",
        "was",
    ]
    .contains(&prev)
        && !prev_pause
        && DETERMINERS.contains(&next);
    // Before a noun phrase: a determiner or a name ("like Kafka").
    let next_is_name = tokens.get(i as usize + 1).is_some_and(|t| t.capitalized && !t.sentence_start && t.text != "i");
    let preposition =
        !prev_pause && tokens[i as usize].after.is_none() && (DETERMINERS.contains(&next) || next_is_name);
    !(verb_use || comparison || preposition)
}

/// "so" only as an answer or clause opener ("So, the consumer ...").
fn so_is_filler(tokens: &[Token], i: usize) -> bool {
    let t = &tokens[i];
    let opener = t.sentence_start
        || (i > 0 && tokens[i - 1].after.is_some())
        || ["and", "but"].contains(&word(tokens, i as isize - 1));
    let next = word(tokens, i as isize + 1);
    opener && !["much", "many", "far", "long", "called"].contains(&next)
}

/// "right" only as a tag question ("..., right?").
fn right_is_filler(tokens: &[Token], i: usize) -> bool {
    let t = &tokens[i];
    t.after == Some('?') && (i == 0 || tokens[i - 1].after == Some(','))
        || (t.after == Some(',') && i > 0 && tokens[i - 1].after == Some(',') && !t.sentence_start)
}

/// "you know that ..." and "what kind of" are real language, not fillers.
fn phrase_is_filler(phrase: &[String], tokens: &[Token], i: usize) -> bool {
    let prev = word(tokens, i as isize - 1);
    let next = word(tokens, (i + phrase.len()) as isize);
    match phrase.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["you", "know"] => {
            tokens[i + 1].after.is_some()
                || ![
                    "that", "what", "how", "why", "where", "when", "if", "whether", "the", "about", "him", "her",
                    "them", "it",
                ]
                .contains(&next)
        }
        ["kind", "of"] | ["sort", "of"] => ![
            "a",
            "the",
            "this",
            "that",
            "what",
            "which",
            "some",
            "any",
            "one",
            "every",
            "same",
            "different",
            "new",
            "that's",
            "another",
            "each",
        ]
        .contains(&prev),
        ["i", "mean"] => prev != "what" && (tokens[i + 1].after.is_some() || !["that", "it", "this"].contains(&next)),
        _ => true,
    }
}

/// Every filler of `list` in the tokens, in order. Multi-word fillers are
/// matched first so "you know" is not also counted as something else.
pub fn find(tokens: &[Token], list: &[String]) -> Vec<Found> {
    let mut phrases: Vec<(String, Vec<String>)> =
        list.iter().map(|f| (f.to_lowercase(), normalise(f))).filter(|(_, p)| !p.is_empty()).collect();
    phrases.sort_by_key(|(_, p)| std::cmp::Reverse(p.len()));
    let mut used = vec![false; tokens.len()];
    let mut found = Vec::new();
    for (filler, phrase) in &phrases {
        if phrase.len() > tokens.len() {
            continue;
        }
        for i in 0..=tokens.len() - phrase.len() {
            if used[i..i + phrase.len()].iter().any(|u| *u) {
                continue;
            }
            let matches = phrase.iter().enumerate().all(|(j, p)| canonical(&tokens[i + j].text) == p);
            if !matches {
                continue;
            }
            let keep = match phrase.as_slice() {
                [single] if single == "like" => like_is_filler(tokens, i),
                [single] if single == "so" => so_is_filler(tokens, i),
                [single] if single == "right" => right_is_filler(tokens, i),
                [_] => true,
                _ => phrase_is_filler(phrase, tokens, i),
            };
            if keep {
                used[i..i + phrase.len()].iter_mut().for_each(|u| *u = true);
                found.push(Found { filler: filler.clone(), start: tokens[i].start, index: i });
            }
        }
    }
    found.sort_by(|a, b| a.start.total_cmp(&b.start));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::text::{timed_tokens, tokens};

    #[test]
    fn whisper_spellings_fold_into_the_hesitation_sounds() {
        for spelling in [
            "umm", "ummm", "uhm", "hm", "mm", "uhh", "uhhh", "erm", "err", "ahh", "hmmm", "um", "uh", "er", "ah", "hmm",
        ] {
            assert!(HESITATION_SOUNDS.contains(&canonical(spelling)), "{spelling}");
        }
    }
    use crate::analysis::DEFAULT_FILLERS;

    fn tok(text: &str) -> Vec<Token> {
        timed_tokens(text, 0.4, 0.3)
    }

    fn count(text: &str, extra: &[&str]) -> Vec<String> {
        let mut list: Vec<String> = DEFAULT_FILLERS.iter().map(|s| (*s).to_owned()).collect();
        list.extend(extra.iter().map(|s| (*s).to_owned()));
        find(&tok(text), &list).into_iter().map(|f| f.filler).collect()
    }

    /// Hand-counted truth for each context rule.
    #[test]
    fn context_rules() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("I like Go because it is simple.", &[], &[]),
            ("We call a downstream like the database.", &[], &[]),
            ("It was, like, really slow.", &[], &["like"]),
            ("It was like really slow.", &[], &["like"]),
            ("Like, we had no alerts.", &[], &["like"]),
            ("It looks like the cache was cold.", &[], &[]),
            ("Services like Kafka and Postgres.", &[], &[]),
            ("I would like to add tracing.", &[], &[]),
            ("I, like, rolled back the deploy.", &[], &["like"]),
            ("We, like, never paged anyone.", &[], &["like"]),
            ("They, like, ignored the alert.", &[], &["like"]),
            ("I like, Go more than Java.", &[], &[]),
            ("We like Kafka, like, a lot.", &[], &["like"]),
            ("Something like, the cache was cold.", &[], &[]),
            ("A queue like Kafka fits.", &[], &[]),
            ("So, the consumer was lagging.", &["so"], &["so"]),
            ("It was slow, so we scaled it.", &["so"], &["so"]),
            ("It was so slow that we scaled it.", &["so"], &[]),
            ("So far we have two partitions.", &["so"], &[]),
            ("That is the right approach.", &["right"], &[]),
            ("We need it right now.", &["right"], &[]),
            ("You retry the publish, right?", &["right"], &["right"]),
            ("You know, the relay crashed.", &[], &["you know"]),
            ("You know that the relay is at least once.", &[], &[]),
            ("It is kind of a queue.", &[], &["kind of"]),
            ("What kind of queue is it?", &[], &[]),
            ("It is a kind of queue.", &[], &[]),
            ("We sort of rolled it back.", &[], &["sort of"]),
            ("I mean, it worked.", &[], &["I mean"]),
            ("That is what I mean.", &[], &[]),
            ("Um, the p99 went up. Uh, then, umm, we looked.", &[], &["um", "uh", "um"]),
            ("Basically we actually literally restarted it.", &[], &["basically", "actually", "literally"]),
            ("Hmm, er, ah, good question.", &[], &["hmm", "er", "ah"]),
        ];
        for (text, extra, expected) in cases {
            let expected: Vec<String> = expected.iter().map(|s| s.to_lowercase()).collect();
            assert_eq!(count(text, extra), expected, "{text}");
        }
    }

    #[test]
    fn like_set_off_by_pauses_is_a_filler_even_after_a_pronoun() {
        use crate::transcribe::Word;
        let said = |words: &[(&str, f64, f64)]| -> Vec<String> {
            let words: Vec<Word> = words
                .iter()
                .map(|(w, start, end)| Word { word: (*w).into(), start: *start, end: *end, p: 0.9 })
                .collect();
            find(&tokens(&words), &["like".to_owned()]).into_iter().map(|f| f.filler).collect()
        };
        let paused = [("I", 0.0, 0.2), ("like", 0.6, 0.8), ("rolled", 1.2, 1.5), ("back", 1.5, 1.8)];
        // Slow speech after a modal is still the verb.
        let modal = [("would", 0.0, 0.2), ("like", 0.6, 0.8), ("to", 1.2, 1.3), ("add", 1.3, 1.6)];
        assert!(said(&modal).is_empty());
        assert_eq!(said(&paused), vec!["like"]);
        let fluent = [("I", 0.0, 0.2), ("like", 0.2, 0.4), ("Go", 0.45, 0.7)];
        assert!(said(&fluent).is_empty());
        // A pause on one side only is hesitation before the object, not a filler.
        let one_side = [("I", 0.0, 0.2), ("like", 0.2, 0.4), ("Go", 0.9, 1.1)];
        assert!(said(&one_side).is_empty());
    }

    #[test]
    fn times_come_from_the_words() {
        let found = find(&tok("well um it uh works"), &["um".to_string(), "uh".to_string()]);
        let starts: Vec<f64> = found.iter().map(|f| f.start).collect();
        assert_eq!(starts.len(), 2);
        assert!((starts[0] - 0.4).abs() < 1e-9 && (starts[1] - 1.2).abs() < 1e-9, "{starts:?}");
    }
}
