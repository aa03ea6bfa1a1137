//! Tokens of a transcript: lower-cased words with their times and the
//! punctuation around them, which the context rules need.

use crate::transcribe::Word;

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Lower-case, without surrounding punctuation ("don't", "time.sleep", "10x").
    pub text: String,
    pub start: f64,
    pub end: f64,
    /// Punctuation right after the word (",", ".", "?"), if any.
    pub after: Option<char>,
    /// Starts a sentence: first word, or after . ? !
    pub sentence_start: bool,
    /// Written with a capital (a name, when not at a sentence start).
    pub capitalized: bool,
}

/// Splits whisper's words into tokens. A whisper "word" may hold several
/// (e.g. "well,so"); times are shared out evenly. Hyphenated words are
/// split as `normalise` splits names ("at-least-once" is three words, so a
/// key point said as "at least once" meets it however whisper wrote it),
/// and a percentage is said as its number and "percent" ("30%").
pub fn tokens(words: &[Word]) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    for word in words {
        let parts: Vec<(&str, Option<char>)> = word.word.split_whitespace().flat_map(spoken_parts).collect();
        let n = parts.iter().filter(|(text, _)| !text.is_empty()).count().max(1) as f64;
        let mut i = 0.0;
        for (text, after) in parts {
            if text.is_empty() {
                // Bare punctuation: attach it to the previous token.
                if let (Some(prev), Some(p)) = (out.last_mut(), after) {
                    prev.after = Some(p);
                }
                continue;
            }
            let start = word.start + (word.end - word.start) * i / n;
            let end = word.start + (word.end - word.start) * (i + 1.0) / n;
            i += 1.0;
            let sentence_start = out.last().is_none_or(|prev| matches!(prev.after, Some('.' | '?' | '!')));
            let capitalized = text.chars().next().is_some_and(char::is_uppercase);
            out.push(Token { text: text.to_lowercase(), start, end, after, sentence_start, capitalized });
        }
    }
    out
}

/// One whitespace-separated part of a word as the words it says, each with
/// the punctuation after it (only the last keeps the part's); bare
/// punctuation is one empty word.
fn spoken_parts(part: &str) -> Vec<(&str, Option<char>)> {
    let after = part.chars().last().filter(|c| matches!(c, ',' | '.' | '?' | '!' | ';' | ':'));
    let trimmed = part.trim_matches(|c: char| !c.is_alphanumeric() && c != '$' && c != '%');
    if trimmed.is_empty() {
        return vec![("", after)];
    }
    let pieces: Vec<&str> = trimmed.split(['-', '\u{2013}']).filter(|p| !p.is_empty()).collect();
    let last = pieces.len().saturating_sub(1);
    let mut out = Vec::new();
    for (i, piece) in pieces.into_iter().enumerate() {
        let after = if i == last { after } else { None };
        match piece.strip_suffix('%') {
            Some(number) if number.chars().any(|c| c.is_ascii_digit()) => {
                out.push((number, None));
                out.push(("percent", after));
            }
            _ => out.push((piece, after)),
        }
    }
    out
}

/// Lower-case words without punctuation, for phrase matching.
pub fn normalise(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '/' || c == '-')
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '$' && c != '%' && c != '.')
                .trim_end_matches('.')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// A light stem so "panics", "panicked" and "panic" meet, and "receive",
/// "received" and "receives" (a final "e" is folded too).
pub fn stem(word: &str) -> &str {
    let mut base = word;
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(b) = word.strip_suffix(suffix)
            && b.len() >= 3
        {
            base = b;
            break;
        }
    }
    match base.strip_suffix('e') {
        Some(b) if b.len() >= 3 => b,
        _ => base,
    }
}

/// Where `phrase` (normalised words) occurs in `tokens`, comparing stems.
pub fn find_phrase(tokens: &[Token], phrase: &[String]) -> Vec<usize> {
    if phrase.is_empty() || phrase.len() > tokens.len() {
        return Vec::new();
    }
    (0..=tokens.len() - phrase.len())
        .filter(|&i| phrase.iter().enumerate().all(|(j, p)| stem(&tokens[i + j].text) == stem(p)))
        .collect()
}

/// Test data: `text`'s words, one every `step` seconds, each `length` long.
#[cfg(test)]
pub fn timed_words(text: &str, step: f64, length: f64) -> Vec<Word> {
    text.split_whitespace()
        .enumerate()
        .map(|(i, w)| Word { word: w.into(), start: i as f64 * step, end: i as f64 * step + length, p: 0.9 })
        .collect()
}

#[cfg(test)]
pub fn timed_tokens(text: &str, step: f64, length: f64) -> Vec<Token> {
    tokens(&timed_words(text, step, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(word: &str, start: f64) -> Word {
        Word { word: word.into(), start, end: start + 0.3, p: 0.9 }
    }

    #[test]
    fn tokens_keep_punctuation_and_sentence_starts() {
        let t = tokens(&[
            w("So,", 0.0),
            w("it", 0.3),
            w("panicked.", 0.6),
            w("Then", 0.9),
            w("time.Sleep", 1.2),
            w("?", 1.5),
        ]);
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["so", "it", "panicked", "then", "time.sleep"]);
        assert_eq!(t[0].after, Some(','));
        assert!(t[0].sentence_start && !t[1].sentence_start && t[3].sentence_start);
        assert_eq!(t[4].after, Some('?'));
    }

    #[test]
    fn hyphenated_words_and_percentages_are_said_as_their_words() {
        let t = tokens(&[w("at-least-once,", 0.0), w("30%", 1.5), w("Go-um.", 3.0)]);
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["at", "least", "once", "30", "percent", "go", "um"]);
        assert_eq!(t[2].after, Some(','));
        assert!(t[..2].iter().all(|t| t.after.is_none()));
        assert_eq!(t[6].after, Some('.'));
        // The word's time is shared out in order.
        assert!(t.windows(2).all(|p| p[0].end <= p[1].start + 1e-9));
        assert!(t[0].start == 0.0 && t[2].end <= 1.5);
        assert!(t[5].capitalized && !t[5].sentence_start);
        assert_eq!(find_phrase(&t, &normalise("at-least-once")), vec![0]);
        assert_eq!(find_phrase(&t, &normalise("percent")), vec![4]);
    }

    #[test]
    fn phrases_match_on_stems() {
        let t = tokens(&[w("it", 0.0), w("blocks", 0.3), w("forever", 0.6)]);
        assert_eq!(find_phrase(&t, &normalise("block forever")), vec![1]);
        assert!(find_phrase(&t, &normalise("blocks never")).is_empty());
        assert_eq!(normalise("Time.Sleep-based, throttling!"), ["time.sleep", "based", "throttling"]);
    }
}
