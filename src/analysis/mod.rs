//! Feedback on an answer: pure functions from a transcript (with word
//! timings), the audio and the question to fluency and content metrics, each
//! with a line of plain-English advice. Definitions are in the README.

pub mod adapt;
pub mod advice;
pub mod audio;
pub mod content;
pub mod corrections;
pub mod filled_pauses;
pub mod fillers;
pub mod follow_up;
pub mod star;
pub mod text;
pub mod voice;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use advice::{Advice, Metric};
pub use content::{Mention, Quantity, QuantityKind, Repetition};
pub use star::Star;

use crate::content::{KeyPoint, QuestionKind};
use crate::transcribe::Transcript;
use crate::util::SAMPLE_RATE;

/// The filler words counted by default.
pub const DEFAULT_FILLERS: [&str; 13] = [
    "um",
    "uh",
    "er",
    "ah",
    "hmm",
    "like",
    "you know",
    "basically",
    "actually",
    "literally",
    "sort of",
    "kind of",
    "I mean",
];
/// The comfortable pace band by default, in words per minute.
pub const DEFAULT_PACE_WPM: (f64, f64) = (130.0, 170.0);

/// Where a filler was found: in whisper's words, or recovered from the audio
/// (whisper drops most "um" and "uh").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillerSource {
    Transcript,
    Audio,
    /// Added by the user in review ("I said 'um' here").
    User,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillerItem {
    pub word: String,
    pub start: f64,
    pub source: FillerSource,
    /// The user marked it "not a filler": shown, not counted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Fillers {
    pub total: usize,
    pub per_min: f64,
    pub per_100_words: f64,
    pub by_word: BTreeMap<String, usize>,
    pub items: Vec<FillerItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start: f64,
    pub end: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Pauses {
    /// Silent pauses of `long_pause_s` or more between the first and last sound.
    pub count: usize,
    pub longest_s: f64,
    /// Share of the whole take that is silent (gaps over 0.3 s).
    pub silent_share: f64,
    pub items: Vec<Span>,
}

/// A stretch spoken outside the pace band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaceStretch {
    pub start: f64,
    pub end: f64,
    pub wpm: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct KeyPoints {
    pub covered: Vec<String>,
    pub missed: Vec<String>,
}

/// The feedback for one answer. Field names are the `analyze --json` keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Feedback {
    pub duration_s: f64,
    pub speaking_s: f64,
    pub words: usize,
    pub wpm: f64,
    pub articulation_wpm: f64,
    pub fillers: Fillers,
    pub pace: Vec<PaceStretch>,
    pub pauses: Pauses,
    pub i_words: usize,
    pub we_words: usize,
    pub i_share: Option<f64>,
    pub star: Option<Star>,
    pub numbers: Vec<Quantity>,
    pub key_points: KeyPoints,
    pub tradeoffs: Vec<Mention>,
    pub hedges: Vec<Mention>,
    pub repetitions: Vec<Repetition>,
    pub red_flags: Vec<Mention>,
    pub budget_s: Option<u32>,
    pub overrun_s: f64,
    /// How it sounded (pitch, loudness, start, runs); `None` without audio
    /// or speech in it.
    pub voice: Option<voice::Voice>,
    pub advice: Vec<Advice>,
}

/// The user's settings that shape the feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub fillers: Vec<String>,
    pub pace_min_wpm: f64,
    pub pace_max_wpm: f64,
    pub long_pause_s: f64,
    /// The audio um/uh detector's sensitivity (`adapt`: 1.0 as tuned; fitted
    /// to the user's corrections within `adapt::SENSITIVITIES`).
    pub filler_sensitivity: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            fillers: DEFAULT_FILLERS.iter().map(|s| (*s).to_owned()).collect(),
            pace_min_wpm: DEFAULT_PACE_WPM.0,
            pace_max_wpm: DEFAULT_PACE_WPM.1,
            long_pause_s: 2.0,
            filler_sensitivity: 1.0,
        }
    }
}

/// What the question contributes to the feedback.
#[derive(Debug, Clone, Copy)]
pub struct QuestionContext<'a> {
    pub kind: QuestionKind,
    pub key_points: &'a [KeyPoint],
    pub red_flag_phrases: &'a [String],
    pub budget_s: u32,
}

impl<'a> QuestionContext<'a> {
    pub fn of(question: &'a crate::content::Question) -> QuestionContext<'a> {
        QuestionContext {
            kind: question.kind,
            key_points: &question.key_points,
            red_flag_phrases: &question.red_flag_phrases,
            budget_s: question.budget_s,
        }
    }
}

const I_WORDS: [&str; 9] = ["i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll"];
const WE_WORDS: [&str; 9] = ["we", "us", "our", "ours", "ourselves", "we're", "we've", "we'd", "we'll"];

/// What the analysis takes from a recording alone, before (or without)
/// the transcript: its pauses, the filler detector's frames and the voice
/// metrics. The costly part of the analysis; the app starts it at Stop,
/// while whisper finishes the transcript.
#[derive(Debug, Clone)]
pub struct AudioFeatures {
    duration_s: f64,
    silences: Vec<(f64, f64)>,
    frames: filled_pauses::Analysis,
    voice: Option<voice::Voice>,
}

impl AudioFeatures {
    /// The voice metrics (a pitch track of the whole take) run beside the
    /// rest, on a second thread.
    pub fn of(samples: &[f32]) -> AudioFeatures {
        std::thread::scope(|scope| {
            let voice = scope.spawn(|| voice::analyse(samples));
            let silences = audio::silences(samples, audio::SHORT_GAP_S);
            let frames = filled_pauses::analyse(samples);
            AudioFeatures {
                duration_s: samples.len() as f64 / f64::from(SAMPLE_RATE),
                silences,
                frames,
                voice: voice.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            }
        })
    }
}

/// The feedback for one answer. `audio` is the take at 16 kHz (pauses,
/// speaking time and fillers whisper dropped come from it).
pub fn analyze(
    transcript: &Transcript,
    audio: Option<&[f32]>,
    question: Option<QuestionContext<'_>>,
    config: &Config,
) -> Feedback {
    let features = audio.map(AudioFeatures::of);
    analyze_with(transcript, audio.zip(features.as_ref()), question, config)
}

/// `analyze` with the recording's features computed beforehand (`audio`:
/// the samples and their `AudioFeatures`).
pub fn analyze_with(
    transcript: &Transcript,
    audio: Option<(&[f32], &AudioFeatures)>,
    question: Option<QuestionContext<'_>>,
    config: &Config,
) -> Feedback {
    let mut feedback = analyze_except_voice(transcript, audio, question, config);
    // With a recording, always a `Voice`: empty when no speech was heard.
    feedback.voice = audio.map(|(_, features)| features.voice.clone().unwrap_or_default());
    feedback.advice = advice::advise(&feedback, question.map(|q| q.kind), transcript.no_speech, config);
    feedback
}

/// Everything but the voice metrics (and the advice, which needs them).
fn analyze_except_voice(
    transcript: &Transcript,
    audio: Option<(&[f32], &AudioFeatures)>,
    question: Option<QuestionContext<'_>>,
    config: &Config,
) -> Feedback {
    let tokens = text::tokens(&transcript.words);
    let duration_s = audio.map_or(transcript.duration_s, |(_, features)| features.duration_s);
    // Words, for pace: hesitation sounds are not words (whisper writes more
    // of them with the verbatim prompt; the pace must not change with it).
    let spoken: Vec<text::Token> = tokens.iter().filter(|t| !fillers::is_hesitation(&t.text)).cloned().collect();
    let words = spoken.len();
    let minutes = duration_s / 60.0;

    // Speaking time and pauses from the signal when there is one.
    let (speaking_s, pause_items, silent_s) = match audio {
        Some((_, features)) => {
            let gaps = &features.silences;
            let silent: f64 = gaps.iter().map(|(s, e)| e - s).sum();
            let (first, last) = (tokens.first().map_or(0.0, |t| t.start), tokens.last().map_or(duration_s, |t| t.end));
            let long: Vec<Span> = gaps
                .iter()
                .filter(|(s, e)| e - s >= config.long_pause_s && *s >= first - 0.2 && *e <= last + 0.2)
                .map(|&(start, end)| Span { start, end })
                .collect();
            ((duration_s - silent).max(0.0), long, silent)
        }
        None => {
            let mut long = Vec::new();
            let mut silent = tokens.first().map_or(duration_s, |t| t.start)
                + (duration_s - tokens.last().map_or(duration_s, |t| t.end)).max(0.0);
            for pair in tokens.windows(2) {
                let gap = pair[1].start - pair[0].end;
                if gap >= audio::SHORT_GAP_S {
                    silent += gap;
                }
                if gap >= config.long_pause_s {
                    long.push(Span { start: pair[0].end, end: pair[1].start });
                }
            }
            ((duration_s - silent).max(0.0), long, silent)
        }
    };

    // Fillers: whisper's words, plus um/uh heard in the audio but not transcribed.
    let mut items: Vec<FillerItem> = fillers::find(&tokens, &config.fillers)
        .into_iter()
        .map(|f| FillerItem { word: f.filler, start: f.start, source: FillerSource::Transcript, removed: false })
        .collect();
    let counts_um_uh = config.fillers.iter().any(|f| f.eq_ignore_ascii_case("um") || f.eq_ignore_ascii_case("uh"));
    if let (Some((samples, features)), true) = (audio, counts_um_uh) {
        let spans: Vec<filled_pauses::WordSpan> = acoustic_spans(&tokens, transcript.settings.dtw)
            .into_iter()
            .zip(&tokens)
            .map(|((start, end), token)| filled_pauses::WordSpan {
                start,
                end,
                short: could_be_one_held_sound(&token.text),
            })
            .collect();
        let sensitivity = adapt::bounded(config.filler_sensitivity);
        add_audio_fillers(
            &mut items,
            filled_pauses::detect_in(samples, &features.frames, &spans, sensitivity),
            &tokens,
        );
    }
    let mut by_word = BTreeMap::new();
    for item in &items {
        *by_word.entry(item.word.clone()).or_insert(0) += 1;
    }
    let total = items.len();
    let filler_stats = Fillers {
        total,
        per_min: if minutes > 0.0 { total as f64 / minutes } else { 0.0 },
        per_100_words: if words > 0 { total as f64 * 100.0 / words as f64 } else { 0.0 },
        by_word,
        items,
    };

    let i_words = content::count_words(&tokens, &I_WORDS);
    let we_words = content::count_words(&tokens, &WE_WORDS);
    let kind = question.map(|q| q.kind);
    let star = (kind == Some(QuestionKind::BehavioralStar)).then(|| star::analyse(&tokens));
    let (covered, missed) = question.map_or((Vec::new(), Vec::new()), |q| content::key_points(&tokens, q.key_points));
    let budget_s = question.map(|q| q.budget_s);

    Feedback {
        duration_s,
        speaking_s,
        words,
        wpm: if minutes > 0.0 { words as f64 / minutes } else { 0.0 },
        articulation_wpm: if speaking_s > 0.0 { words as f64 / (speaking_s / 60.0) } else { 0.0 },
        fillers: filler_stats,
        pace: pace_stretches(&spoken, config),
        pauses: Pauses {
            count: pause_items.len(),
            longest_s: pause_items.iter().map(|p| p.end - p.start).fold(0.0, f64::max),
            silent_share: if duration_s > 0.0 { (silent_s / duration_s).clamp(0.0, 1.0) } else { 0.0 },
            items: pause_items,
        },
        i_words,
        we_words,
        i_share: (i_words + we_words > 0).then(|| i_words as f64 / (i_words + we_words) as f64),
        star,
        numbers: content::quantities(&tokens),
        key_points: KeyPoints { covered, missed },
        tradeoffs: content::mentions(&tokens, &content::TRADEOFF_PHRASES),
        hedges: content::mentions(&tokens, &content::HEDGES),
        repetitions: content::repetitions(&tokens),
        red_flags: question.map_or(Vec::new(), |q| content::red_flags(&tokens, q.red_flag_phrases)),
        budget_s,
        overrun_s: budget_s.map_or(0.0, |b| (duration_s - f64::from(b)).max(0.0)),
        voice: None,
        advice: Vec::new(),
    }
}

/// Adds the filled pauses heard in the audio that whisper did not
/// transcribe, keeping `items` in time order. Each um/uh whisper wrote
/// stands for at most one pause heard near it (so two fillers are never
/// one). Where whisper's times around it are broken (words piled up at one
/// instant, or one word stretched over seconds: it happens at the end of a
/// segment), "near" reaches back and on to the words beside it.
fn add_audio_fillers(items: &mut Vec<FillerItem>, pauses: Vec<filled_pauses::FilledPause>, tokens: &[text::Token]) {
    let broken = |t: &text::Token| t.end - t.start < 0.02 || t.end - t.start > 1.5;
    // (start, window) of each transcribed hesitation; `None` once it has a pause.
    let mut hesitations: Vec<Option<(f64, f64, f64)>> = items
        .iter()
        .filter(|i| fillers::HESITATION_SOUNDS.contains(&i.word.as_str()))
        .map(|i| {
            // Token timestamps often start a word early, in the pause before it.
            let (mut lo, mut hi) = (i.start - 0.3, i.start + 0.6);
            if let Some(k) = tokens.iter().position(|t| (t.start - i.start).abs() < 1e-6) {
                let near = &tokens[k.saturating_sub(1)..(k + 3).min(tokens.len())];
                if near.iter().any(broken) {
                    lo = lo.min(tokens[k.saturating_sub(2)].start - 0.3);
                    hi = hi.max(tokens[(k + 2).min(tokens.len() - 1)].end + 0.3);
                }
            }
            Some((i.start, lo, hi))
        })
        .collect();
    for pause in pauses {
        // whisper kept this one: the same um/uh, not another. Other fillers
        // ("you know" right after an "um") are different words.
        let same = hesitations
            .iter_mut()
            .filter_map(|h| h.as_ref().map(|(start, lo, hi)| (*start, *lo, *hi)).map(|w| (h, w)))
            .filter(|(_, (_, lo, hi))| pause.start <= *hi && pause.end >= *lo)
            .min_by(|(_, a), (_, b)| (a.0 - pause.start).abs().total_cmp(&(b.0 - pause.start).abs()));
        match same {
            Some((slot, _)) => *slot = None,
            None => items.push(FillerItem {
                word: pause.word.to_owned(),
                start: pause.start,
                source: FillerSource::Audio,
                removed: false,
            }),
        }
    }
    items.sort_by(|a, b| a.start.total_cmp(&b.start));
}

/// Words that can be said as one held sound, so a steady voiced stretch
/// inside one may be the word itself: every word of up to three letters
/// ("a", "and", "or", "the") and the words people draw out.
fn could_be_one_held_sound(word: &str) -> bool {
    const DRAWN_OUT: [&str; 5] = ["well", "yeah", "okay", "like", "right"];
    word.chars().filter(|c| c.is_alphanumeric()).count() <= 3 || DRAWN_OUT.contains(&word)
}

const FILLER_LIKE_WORDS: [&str; 10] = ["a", "an", "and", "uh", "um", "er", "ah", "oh", "the", "of"];

/// Speaking rate (seconds per letter) when a take has too few words to
/// measure its own: about 150 words a minute of 5-letter words.
const DEFAULT_S_PER_LETTER: f64 = 0.07;
/// The measured rate is kept between very fast and very slow speech.
const S_PER_LETTER_RANGE: (f64, f64) = (0.03, 0.12);
/// Generous: a word's estimated span is half as long again as its letters
/// need, plus 50 ms for its onset, so real speech is never read as a gap.
const SPAN_STRETCH: f64 = 1.5;
const SPAN_ONSET_S: f64 = 0.05;
/// Filler-like words get at least the length of a short held "uh".
const FILLER_LIKE_MIN_SPAN_S: f64 = 0.4;

/// Where each word really is, for finding what lies between words. whisper's
/// token timestamps run words together (a dropped "um" is swallowed by the
/// next word's start); with DTW a word's end is accurate, so its start is
/// estimated back from its end at this take's own speaking rate (seconds
/// per letter), generously, never before the previous word's end.
pub fn acoustic_spans(tokens: &[text::Token], dtw: bool) -> Vec<(f64, f64)> {
    if !dtw {
        return tokens.iter().map(|t| (t.start, t.end)).collect();
    }
    let letters = |t: &text::Token| t.text.chars().filter(|c| c.is_alphanumeric()).count().max(1) as f64;
    let mut rates: Vec<f64> =
        tokens.windows(2).map(|w| (w[1].end - w[0].end) / letters(&w[1])).filter(|r| *r > 0.0).collect();
    rates.sort_by(f64::total_cmp);
    let per_letter = rates
        .get(rates.len() / 2)
        .copied()
        .unwrap_or(DEFAULT_S_PER_LETTER)
        .clamp(S_PER_LETTER_RANGE.0, S_PER_LETTER_RANGE.1);
    let mut spans = Vec::with_capacity(tokens.len());
    let mut previous_end = 0.0f64;
    for token in tokens {
        let mut length = letters(token) * per_letter * SPAN_STRETCH + SPAN_ONSET_S;
        // Words that sound like a filled pause ("a" said as "uh", a reduced
        // "and" as "um"): give them room, or their vowel reads as a filler.
        if FILLER_LIKE_WORDS.contains(&token.text.as_str()) {
            length = length.max(FILLER_LIKE_MIN_SPAN_S);
        }
        let estimated = token.end - length;
        let start = estimated.max(previous_end).max(token.start).min(token.end);
        spans.push((start, token.end));
        previous_end = token.end;
    }
    spans
}

/// 20-second windows (every 5 s) spoken outside the pace band, merged.
fn pace_stretches(tokens: &[text::Token], config: &Config) -> Vec<PaceStretch> {
    const WINDOW: f64 = 20.0;
    const STEP: f64 = 5.0;
    let Some(last) = tokens.last() else { return Vec::new() };
    let first = tokens[0].start;
    let mut stretches: Vec<PaceStretch> = Vec::new();
    // Windows merged into the last stretch, for its average pace.
    let mut merged = 0.0f64;
    let mut at = first;
    while at + WINDOW <= last.end + 0.01 {
        let n = tokens.iter().filter(|t| t.start >= at && t.start < at + WINDOW).count();
        let wpm = n as f64 * 60.0 / WINDOW;
        if wpm < config.pace_min_wpm || wpm > config.pace_max_wpm {
            let fast = wpm > config.pace_max_wpm;
            match stretches.last_mut() {
                Some(s) if s.end >= at && (s.wpm > config.pace_max_wpm) == fast => {
                    s.wpm = (s.wpm * merged + wpm) / (merged + 1.0);
                    merged += 1.0;
                    s.end = at + WINDOW;
                }
                _ => {
                    stretches.push(PaceStretch { start: at, end: at + WINDOW, wpm });
                    merged = 1.0;
                }
            }
        }
        at += STEP;
    }
    stretches
}

pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::DecodeSettings;

    /// A transcript with one word per `step` seconds.
    fn transcript(text: &str, step: f64) -> Transcript {
        let words = text::timed_words(text, step, step * 0.8);
        let duration_s = words.len() as f64 * step;
        Transcript {
            text: text.into(),
            duration_s,
            segments: Vec::new(),
            words,
            no_speech: false,
            settings: DecodeSettings::default(),
        }
    }

    #[test]
    fn words_that_can_be_one_held_sound() {
        for word in ["a", "and", "or", "the", "uh", "well", "okay"] {
            assert!(could_be_one_held_sound(word), "{word}");
        }
        for word in ["platform", "minutes", "throwing", "kafka"] {
            assert!(!could_be_one_held_sound(word), "{word}");
        }
    }

    #[test]
    fn a_transcribed_um_with_broken_times_still_stands_for_the_pause_heard_before() {
        let word = |w: &str, start: f64, end: f64| crate::transcribe::Word { word: w.into(), start, end, p: 0.9 };
        // "kept throwing. Um, you know, the database ..." with the segment's
        // end piled up: the um said at 12.6 is written at 16.59.
        let words = [
            word("kept", 12.16, 13.27),
            word("throwing.", 13.57, 16.59),
            word("Um,", 16.59, 17.03),
            word("you", 17.03, 17.03),
            word("know,", 17.03, 17.03),
            word("the", 17.03, 17.03),
        ];
        let tokens = text::tokens(&words);
        let heard = |start: f64, end: f64| filled_pauses::FilledPause { start, end, pitch_hz: 110.0, word: "um" };
        let transcribed =
            FillerItem { word: "um".into(), start: 16.59, source: FillerSource::Transcript, removed: false };
        let mut items = vec![transcribed.clone()];
        add_audio_fillers(&mut items, vec![heard(12.59, 13.28)], &tokens);
        assert_eq!(items, vec![transcribed.clone()]);
        // Two pauses heard, one um written: the other is a second filler.
        let mut items = vec![transcribed];
        add_audio_fillers(&mut items, vec![heard(12.59, 13.28), heard(16.3, 16.6)], &tokens);
        assert_eq!(items.len(), 2, "{items:?}");
    }

    #[test]
    fn audio_fillers_count_once_but_not_against_other_fillers() {
        let transcribed = |word: &str, start: f64| FillerItem {
            word: word.into(),
            start,
            source: FillerSource::Transcript,
            removed: false,
        };
        let heard = |start: f64, end: f64| filled_pauses::FilledPause { start, end, pitch_hz: 110.0, word: "um" };
        // whisper put "you know" where the um was: both count.
        let mut items = vec![transcribed("you know", 12.5)];
        add_audio_fillers(&mut items, vec![heard(12.59, 13.28)], &[]);
        assert_eq!(
            items.iter().map(|i| (i.word.as_str(), i.source)).collect::<Vec<_>>(),
            [("you know", FillerSource::Transcript), ("um", FillerSource::Audio)]
        );
        // whisper wrote the um itself (its time late by a little): once.
        let mut items = vec![transcribed("um", 13.4), transcribed("like", 20.0)];
        add_audio_fillers(&mut items, vec![heard(12.59, 13.28), heard(30.0, 30.5)], &[]);
        assert_eq!(
            items.iter().map(|i| (i.word.as_str(), i.start)).collect::<Vec<_>>(),
            [("um", 13.4), ("like", 20.0), ("um", 30.0)]
        );
    }

    #[test]
    fn fluency_numbers_on_a_hand_counted_transcript() {
        // 30 tokens at 0.4 s each = 12 s; 29 words (the "um" is not one),
        // 145 wpm; fillers: um, like, you know = 3.
        let text = "So um I owned the checkout service and it was like really busy at 2,000 QPS. You know, \
                    we split the outbox relay and I reduced p99 to 80 ms.";
        let t = transcript(text, 0.4);
        let f = analyze(&t, None, None, &Config::default());
        assert_eq!(f.words, 29);
        assert!((f.wpm - 145.0).abs() < 1e-9, "{}", f.wpm);
        assert_eq!(f.fillers.total, 3, "{:?}", f.fillers.items);
        assert_eq!(f.fillers.by_word.get("you know"), Some(&1));
        assert!((f.fillers.per_min - 15.0).abs() < 1e-9);
        assert!((f.fillers.per_100_words - 300.0 / 29.0).abs() < 1e-9);
        assert_eq!((f.i_words, f.we_words), (2, 1));
        assert!((f.i_share.expect("share") - 2.0 / 3.0).abs() < 1e-9);
        let numbers: Vec<&str> = f.numbers.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(numbers, ["2,000 qps", "80 ms"]);
        assert!(
            f.advice.iter().any(|a| a.metric() == Metric::Fillers && a.warn() && a.text().contains("15.0 per minute"))
        );
    }

    #[test]
    fn word_gap_pauses_and_budget_without_audio() {
        let mut t = transcript("one two three four", 1.0);
        t.words[2].start = 5.0; // a 3.2 s gap after "two"
        t.words[2].end = 5.8;
        t.words[3].start = 6.0;
        t.words[3].end = 6.8;
        t.duration_s = 130.0;
        let points: Vec<KeyPoint> = Vec::new();
        let flags: Vec<String> = Vec::new();
        let q = QuestionContext {
            kind: QuestionKind::Technical,
            key_points: &points,
            red_flag_phrases: &flags,
            budget_s: 120,
        };
        let f = analyze(&t, None, Some(q), &Config::default());
        assert_eq!(f.pauses.count, 1);
        assert!((f.pauses.longest_s - 3.2).abs() < 1e-9);
        assert_eq!(f.overrun_s, 10.0);
        assert!(f.advice.iter().any(|a| a.metric() == Metric::Time && a.warn()));
    }

    #[test]
    fn pace_stretches_outside_the_band() {
        // 40 s at 1 word per 0.25 s (240 wpm): one fast stretch.
        let words = vec!["go"; 160].join(" ");
        let f = analyze(&transcript(&words, 0.25), None, None, &Config::default());
        assert_eq!(f.pace.len(), 1);
        assert!((f.pace[0].wpm - 240.0).abs() < 1.0, "{:?}", f.pace);
        assert_eq!(f.pace[0].start, 0.0);
    }

    #[test]
    fn star_answer_feedback() {
        let text = "At my previous company checkout failed. My task was fixing it. I decided to add an outbox and we shipped it. \
                    As a result errors dropped by 90 percent.";
        let points = vec![
            KeyPoint { name: "outbox".into(), synonyms: vec![] },
            KeyPoint { name: "postmortem".into(), synonyms: vec![] },
        ];
        let flags = vec!["we restarted it".to_string()];
        let q = QuestionContext {
            kind: QuestionKind::BehavioralStar,
            key_points: &points,
            red_flag_phrases: &flags,
            budget_s: 360,
        };
        let f = analyze(&transcript(text, 0.5), None, Some(q), &Config::default());
        let star = f.star.expect("STAR for behavioral answers");
        assert!(!star.missing_result);
        assert_eq!(f.key_points.covered, ["outbox"]);
        assert_eq!(f.key_points.missed, ["postmortem"]);
        assert_eq!((f.i_words, f.we_words), (3, 1)); // I, my, my; we
        assert!(f.red_flags.is_empty());
        // Without the audio the text metrics stand, and the review says why
        // the voice metrics are missing.
        assert_eq!(f.voice, None);
        assert!(f.advice.contains(&Advice::NoVoiceMetrics), "{:?}", f.advice);
    }

    #[test]
    fn silence_gets_no_speech_advice_only() {
        let t = Transcript::no_speech(10.0, DecodeSettings::default());
        let f = analyze(&t, Some(&vec![0.0; 160_000]), None, &Config::default());
        assert_eq!(f.words, 0);
        assert_eq!(f.advice.len(), 1);
        assert!(f.advice[0].text().starts_with("No speech detected"));
    }
}
