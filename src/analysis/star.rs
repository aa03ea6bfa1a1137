//! STAR structure of a behavioral answer: Situation, Task, Action, Result
//! found from cue phrases in order, with the time spent in each.

use serde::{Deserialize, Serialize};

use super::text::{Token, find_phrase, normalise};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StarPart {
    /// Seconds spent in this part (0 when not found).
    pub seconds: f64,
    /// When the part starts, if found.
    pub start: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Star {
    pub situation: StarPart,
    pub task: StarPart,
    pub action: StarPart,
    pub result: StarPart,
    pub missing_result: bool,
    /// The situation took more time than action and result together.
    pub situation_heavy: bool,
    /// Share of speaking time in action + result (the seed: "most time on A and R").
    pub action_result_share: f64,
}

const SITUATION: [&str; 14] = [
    "at my previous",
    "at my last",
    "the situation",
    "the context",
    "background",
    "a few years ago",
    "last year",
    "back in",
    "when i was",
    "i was working",
    "we were working",
    "our team",
    "at the time",
    "the company",
];
const TASK: [&str; 12] = [
    "my task",
    "my responsibility",
    "i was responsible",
    "i needed to",
    "i had to",
    "the goal was",
    "my goal",
    "my role",
    "i was asked",
    "i was tasked",
    "my job was",
    "the challenge was",
];
const ACTION: [&str; 20] = [
    "i decided",
    "i started",
    "i built",
    "i wrote",
    "i proposed",
    "i set up",
    "what i did",
    "i added",
    "i organized",
    "i reached out",
    "i talked",
    "i implemented",
    "i created",
    "i worked with",
    "first i",
    "then i",
    "i led",
    "i drove",
    "so i",
    "i introduced",
];
const RESULT: [&str; 17] = [
    "as a result",
    "the result",
    "in the end",
    "the outcome",
    "ended up",
    "we reduced",
    "it reduced",
    "we cut",
    "we improved",
    "it improved",
    "we saved",
    "i learned",
    "we learned",
    "the lesson",
    "since then",
    "now we",
    "went down",
];

/// Splits the answer into S, T, A, R. Parts only move forward: a cue for
/// an earlier part later in the answer does not go back.
pub fn analyse(tokens: &[Token]) -> Star {
    let cues: [&[&str]; 4] = [&SITUATION, &TASK, &ACTION, &RESULT];
    // Token index where each cue phrase occurs, per part.
    let mut marks: Vec<(usize, usize)> = Vec::new(); // (token index, part)
    for (part, phrases) in cues.iter().enumerate() {
        for phrase in *phrases {
            for i in find_phrase(tokens, &normalise(phrase)) {
                marks.push((i, part));
            }
        }
    }
    marks.sort();
    let mut boundaries: Vec<(usize, usize)> = Vec::new(); // (part, first token)
    let mut current: Option<usize> = None;
    for (index, part) in marks {
        if current.is_none_or(|c| part > c) {
            // A part starts at the beginning of the sentence holding its cue.
            let mut start = index;
            while start > 0 && !tokens[start].sentence_start && boundaries.last().is_none_or(|(_, b)| start > *b + 1) {
                start -= 1;
            }
            if boundaries.is_empty() {
                start = 0; // the opening is the situation (or whatever comes first)
            }
            boundaries.push((part, start));
            current = Some(part);
        }
    }
    let mut star = Star::default();
    let end_time = tokens.last().map_or(0.0, |t| t.end);
    for (k, (part, first)) in boundaries.iter().enumerate() {
        let start = tokens[*first].start;
        let end = boundaries.get(k + 1).map_or(end_time, |(_, next)| tokens[*next].start);
        let slot = match part {
            0 => &mut star.situation,
            1 => &mut star.task,
            2 => &mut star.action,
            _ => &mut star.result,
        };
        *slot = StarPart { seconds: (end - start).max(0.0), start: Some(start) };
    }
    let total: f64 = [&star.situation, &star.task, &star.action, &star.result].iter().map(|p| p.seconds).sum();
    star.missing_result = star.result.start.is_none();
    star.situation_heavy = star.situation.seconds > star.action.seconds + star.result.seconds;
    star.action_result_share = if total > 0.0 { (star.action.seconds + star.result.seconds) / total } else { 0.0 };
    star
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::text::timed_tokens;

    fn tok(text: &str) -> Vec<Token> {
        timed_tokens(text, 1.0, 0.8)
    }

    #[test]
    fn finds_the_four_parts_in_order() {
        // Words 0-5 situation, 6-10 task, 11-23 action, 24-28 result (one a second).
        let text = "At my previous company checkout failed. \
                    My task was fixing it. \
                    I decided to add an outbox table and I wrote the relay myself. \
                    As a result errors dropped.";
        let star = analyse(&tok(text));
        assert_eq!(star.situation.start, Some(0.0));
        assert_eq!(star.task.start, Some(6.0));
        assert_eq!(star.action.start, Some(11.0));
        assert_eq!(star.result.start, Some(24.0));
        assert_eq!(star.situation.seconds, 6.0);
        assert!(!star.missing_result && !star.situation_heavy);
    }

    #[test]
    fn flags_a_missing_result_and_a_long_situation() {
        let text = "At my previous job we had a monolith and many teams and lots of history and old code and it was hard. I decided to split it.";
        let star = analyse(&tok(text));
        assert!(star.missing_result);
        assert!(star.situation_heavy);
        assert!(star.action_result_share < 0.5);
    }
}
