//! whisper's failure mode with a prompt: a decoding loop that repeats a
//! sentence or a phrase, or copies the prompt back. Such text is never
//! shown or counted; the engine decodes the audio again without the prompt.

use std::io::Write;

/// faster-whisper's rule: text that gzip squeezes more than 2.4 times is a loop.
pub const MAX_COMPRESSION_RATIO: f64 = 2.4;
/// A run of this many words said again straight after itself is a loop
/// (people restart a phrase of a few words, "I think that the problem, I
/// think that the problem was", but not a whole sentence).
const MIN_REPEATED_WORDS: usize = 8;
/// A shorter phrase (2–7 words) repeated back to back this many times is one.
const MIN_PHRASE_REPEATS: usize = 4;
/// A piece that is mostly a copy of the prompt: at least this many words
/// in order, and this share of the piece (a candidate may restate the question).
const MIN_COPIED_WORDS: usize = 8;
const MIN_COPIED_SHARE: f64 = 0.6;

/// Why a decoded text is taken for a loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Loop {
    Compression(f64),
    Repeated(String),
    CopiedPrompt(String),
}

/// zlib's compression ratio of the text, as faster-whisper computes it.
pub fn compression_ratio(text: &str) -> f64 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = encoder.write_all(bytes).and_then(|()| encoder.finish());
    match compressed {
        Ok(out) if !out.is_empty() => bytes.len() as f64 / out.len() as f64,
        _ => 0.0,
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Finds a loop in `text` (one decoded piece), given the prompt it was decoded with.
pub fn detect(text: &str, prompt: Option<&str>) -> Option<Loop> {
    let ratio = compression_ratio(text);
    if ratio > MAX_COMPRESSION_RATIO {
        return Some(Loop::Compression(ratio));
    }
    let w = words(text);
    // A run said twice back to back: "... it was fine. it was fine ..."
    for len in (2..=w.len() / 2).rev() {
        let needed = if len >= MIN_REPEATED_WORDS { 2 } else { MIN_PHRASE_REPEATS };
        for start in 0..w.len().saturating_sub(len * needed - 1) {
            let run = &w[start..start + len];
            let repeats = (1..needed).all(|k| w.get(start + k * len..start + (k + 1) * len) == Some(run));
            if repeats {
                return Some(Loop::Repeated(run.join(" ")));
            }
        }
    }
    if let Some(prompt) = prompt {
        let p = words(prompt);
        let (start, len) = longest_common_run(&w, &p);
        if len >= MIN_COPIED_WORDS && len as f64 >= MIN_COPIED_SHARE * w.len() as f64 {
            return Some(Loop::CopiedPrompt(w[start..start + len].join(" ")));
        }
    }
    None
}

/// The longest run of words of `a` found in order in `b`: (start in `a`, length).
fn longest_common_run(a: &[String], b: &[String]) -> (usize, usize) {
    let mut best = (0, 0);
    let mut prev = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        let mut cur = vec![0usize; b.len() + 1];
        for j in 1..=b.len() {
            if a[i - 1] == b[j - 1] {
                cur[j] = prev[j - 1] + 1;
                if cur[j] > best.1 {
                    best = (i - cur[j], cur[j]);
                }
            }
        }
        prev = cur;
    }
    best
}

/// Whether `segment` only says again what `before` said (a loop's leftover).
pub fn repeats(before: &str, segment: &str) -> bool {
    let (b, s) = (words(before), words(segment));
    !s.is_empty() && s.len() <= b.len() && b.windows(s.len()).any(|w| w == s.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_answers_are_not_loops() {
        let answers = [
            "Sending on a closed channel panics, and receiving from it returns the zero value at once. \
             A nil channel blocks forever, which is useful to disable a case in a select.",
            "I, um, owned the payment consumer. We scaled it to the partition count, and I wrote the post mortem.",
            "No, no. That was the first thing we checked, and it was fine.",
            "Yes. Yes, it was.",
            "I think that the problem, I think that the problem was the retry loop.",
            "So the question is how to make a Kafka consumer safe to run twice, and my answer is an idempotency key \
             stored with a unique constraint, checked before the side effect.",
            "The outbox table is written in the same transaction as the order, and a relay publishes it to Kafka.",
        ];
        for answer in answers {
            assert_eq!(detect(answer, None), None, "{answer}");
        }
    }

    #[test]
    fn repeated_sentences_and_phrases_are_loops() {
        let sentence = "And that is why we moved the billing jobs to a queue.";
        let looped = format!("We had a cron server. {sentence} {sentence} {sentence}");
        assert!(matches!(detect(&looped, None), Some(Loop::Compression(_) | Loop::Repeated(_))), "{looped}");
        let twice =
            "I would start with the outbox table and the relay. I would start with the outbox table and the relay.";
        assert!(matches!(detect(twice, None), Some(Loop::Repeated(_))), "{twice}");
        assert!(repeats("I would start with the outbox table and the relay.", "I would start with the outbox"));
        assert!(!repeats("I would start with the outbox table.", "Then the relay publishes."));
        let phrase = "so the the so the so the so the so the";
        assert!(detect(phrase, None).is_some());
        let stutter = "the the the the the the the the the the the the the the the the the the the the";
        assert!(matches!(detect(stutter, None), Some(Loop::Compression(_))));
    }

    #[test]
    fn text_copied_from_the_prompt_is_a_loop() {
        let prompt = "Um, uh. How would you make a Kafka consumer safe to run twice on the same message?";
        let copied = "How would you make a Kafka consumer safe to run twice on the same message";
        assert!(matches!(detect(copied, Some(prompt)), Some(Loop::CopiedPrompt(_))));
        let answer = "I would make the Kafka consumer idempotent with a processed-messages table.";
        assert_eq!(detect(answer, Some(prompt)), None);
        // Restating the question, then answering it, is not a copy.
        let restated = "How would you make a Kafka consumer safe to run twice on the same message? I would store \
                        an idempotency key per message with a unique constraint and skip the ones already seen, \
                        inside the same transaction as the side effect.";
        assert_eq!(detect(restated, Some(prompt)), None);
    }

    #[test]
    fn compression_ratio_matches_zlib_on_known_text() {
        assert_eq!(compression_ratio(""), 0.0);
        assert!(compression_ratio("short answer") < 1.5);
        assert!(compression_ratio(&"over and over ".repeat(30)) > 5.0);
    }
}
