//! Word error rate, shared by the tests and the transcription benchmark.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

/// Lower-case words without punctuation (hyphens split words; numbers
/// written in digits are spelled out, as whisper writes either).
pub fn normalise_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .flat_map(|w| match w.parse::<u32>() {
            Ok(n) if n < 1_000_000 => spell(n),
            _ => vec![w],
        })
        .collect()
}

fn spell(n: u32) -> Vec<String> {
    const ONES: [&str; 20] = [
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
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    let mut out = Vec::new();
    let mut n = n;
    if n >= 1000 {
        out.extend(spell(n / 1000));
        out.push("thousand".into());
        n %= 1000;
        if n == 0 {
            return out;
        }
    }
    if n >= 100 {
        out.push(ONES[(n / 100) as usize].into());
        out.push("hundred".into());
        n %= 100;
        if n == 0 {
            return out;
        }
    }
    if n >= 20 {
        out.push(TENS[(n / 10) as usize].into());
        if !n.is_multiple_of(10) {
            out.push(ONES[(n % 10) as usize].into());
        }
    } else {
        out.push(ONES[n as usize].into());
    }
    out
}

/// Word error rate: word-level edit distance over the reference length.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (normalise_words(reference), normalise_words(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for i in 1..=r.len() {
        let mut cur = vec![i; h.len() + 1];
        for j in 1..=h.len() {
            let sub = prev[j - 1] + usize::from(r[i - 1] != h[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len().max(1) as f64
}
