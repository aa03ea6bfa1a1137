//! Streaming: while the candidate is still speaking, finished chunks of the
//! take (cut at pauses, at most 30 s) are transcribed in the background, so
//! after Stop only the tail is left. Chunks are cut inside silence, so no
//! word straddles a join: nothing is dropped or said twice.
//!
//! The tail is transcribed ahead of Stop too: whenever the speaker pauses
//! (and the transcriber is idle), the unfinished tail up to the middle of
//! that pause is transcribed speculatively. At Stop, a speculation is the
//! tail's transcript if nothing but silence came after it; if speech came
//! after, the whole tail is transcribed as before. (Transcribing only the
//! speech after it, as a piece of its own, was measured: whisper heard those
//! shorter pieces worse, technical WER 0.084 → 0.097 on piper's voice.)

use super::{DecodeSettings, Transcript};
use crate::util::SAMPLE_RATE;
use crate::util::level::{self, CUT_ABOVE_BACKGROUND_DB, Levels, db_to_ratio};

/// A piece of the take to transcribe, starting `offset_s` into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub offset_s: f64,
    pub samples: Vec<f32>,
}

const RATE: usize = SAMPLE_RATE as usize;
/// Below this a chunk is not worth a whisper call on its own (and whisper
/// hears short chunks worse: it has less context).
const MIN_CHUNK: usize = 10 * RATE;
/// whisper's window is 30 s; stay below it.
const MAX_CHUNK: usize = 28 * RATE;
/// A pause this long (at 10 ms frame resolution) is a safe place to cut.
const PAUSE_FRAMES: usize = 30;
const FRAME: usize = RATE / 100;
/// Speech after a speculation: this many 10 ms frames above the silence
/// line (100 ms; the click of the Space bar is shorter, a word is not).
const SPEECH_FRAMES: usize = 10;
/// A tail shorter than this is not speculated on.
const MIN_SPECULATION: usize = RATE;
/// A new speculation needs the tail to have grown this much since the last.
const SPECULATION_STEP: usize = RATE;

/// A transcript of the unfinished tail, made before Stop: it covers `len`
/// samples from `start` (in the take), ending in the middle of a pause.
#[derive(Debug, Clone)]
pub struct Speculation {
    pub start: usize,
    pub len: usize,
    pub transcript: Transcript,
}

/// What is left to transcribe at Stop.
#[derive(Debug)]
pub enum Tail {
    /// Nothing was recorded after the last chunk.
    Empty,
    /// Only silence followed the speculation: it is the tail's transcript.
    Speculated(Speculation),
    /// No speculation holds: the whole tail is transcribed.
    Whole(Chunk),
}

/// Cuts a live take into chunks at pauses.
#[derive(Debug, Default)]
pub struct Chunker {
    pending: Vec<f32>,
    /// Where `pending` starts in the take, in samples.
    pending_start: usize,
}

impl Chunker {
    pub fn new() -> Chunker {
        Chunker::default()
    }

    /// Adds audio; returns the chunks it completes.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Chunk> {
        self.pending.extend_from_slice(samples);
        let mut chunks = Vec::new();
        while self.pending.len() >= MIN_CHUNK {
            let Some(cut) = self.cut_point() else { break };
            chunks.push(self.take(cut));
        }
        chunks
    }

    /// The unfinished tail up to the middle of the pause it ends in, when
    /// that is worth transcribing before Stop: the tail ends in a pause and
    /// holds speech, and it has grown since the last speculation, which
    /// ended at `since` (take samples; 0 for none).
    pub fn speculation(&self, since: usize) -> Option<Chunk> {
        if self.pending.len() < MIN_SPECULATION {
            return None;
        }
        let levels = level::frame_rms(&self.pending, FRAME);
        let threshold = Levels::of(&levels).cut_threshold();
        let quiet = levels.iter().rev().take_while(|&&r| r <= threshold).count();
        if quiet < PAUSE_FRAMES || quiet == levels.len() {
            return None;
        }
        let cut = ((levels.len() - quiet / 2) * FRAME).min(self.pending.len());
        if self.pending_start + cut < since + SPECULATION_STEP {
            return None;
        }
        // Speech since the last speculation (not only the pause it ended in).
        let from = since.saturating_sub(self.pending_start) / FRAME;
        let spoken = levels.get(from..levels.len() - quiet).map_or(0, |f| f.iter().filter(|&&r| r > threshold).count());
        if spoken < SPEECH_FRAMES {
            return None;
        }
        Some(Chunk { offset_s: self.pending_start as f64 / RATE as f64, samples: self.pending[..cut].to_vec() })
    }

    /// Where the unfinished tail starts in the take, in samples.
    pub fn pending_start(&self) -> usize {
        self.pending_start
    }

    /// The rest of the take at Stop, using a speculation where it holds:
    /// made on this same tail and followed by silence only (a click of the
    /// Space bar is not speech). Speech after it is judged against the
    /// tail's own pause line (quieter than the cut line: a soft last word is
    /// never taken for silence) or, in a noisy room, 6 dB over its background.
    pub fn finish_with(&mut self, speculation: Option<Speculation>) -> Tail {
        let start = self.pending_start;
        let Some(tail) = self.finish() else { return Tail::Empty };
        let Some(speculation) = speculation.filter(|s| s.start == start && s.len <= tail.samples.len()) else {
            return Tail::Whole(tail);
        };
        let levels = level::frame_rms(&tail.samples, FRAME);
        let tail_levels = Levels::of(&levels);
        let threshold =
            tail_levels.pause_threshold().max(tail_levels.background * db_to_ratio(CUT_ABOVE_BACKGROUND_DB));
        let after = &levels[(speculation.len / FRAME).min(levels.len())..];
        if after.iter().filter(|&&r| r > threshold).count() < SPEECH_FRAMES {
            Tail::Speculated(speculation)
        } else {
            Tail::Whole(tail)
        }
    }

    /// The rest of the take, after Stop.
    pub fn finish(&mut self) -> Option<Chunk> {
        if self.pending.is_empty() {
            return None;
        }
        let n = self.pending.len();
        Some(self.take(n))
    }

    fn take(&mut self, n: usize) -> Chunk {
        let samples: Vec<f32> = self.pending.drain(..n).collect();
        let chunk = Chunk { offset_s: self.pending_start as f64 / RATE as f64, samples };
        self.pending_start += n;
        chunk
    }

    /// The middle of the last long-enough pause after MIN_CHUNK, or at
    /// MAX_CHUNK the quietest point before it.
    fn cut_point(&self) -> Option<usize> {
        let levels = level::frame_rms(&self.pending, FRAME);
        // Squared, so sums over frames below compare energies. Silent is
        // judged against this stretch's own speech and background
        // (`util::level`: a cut there never splits a word, even in a noisy room).
        let energies: Vec<f32> = levels.iter().map(|r| r * r).collect();
        let threshold = Levels::of(&levels).cut_threshold().powi(2);
        let last_full = (self.pending.len().min(MAX_CHUNK)) / FRAME;
        let mut best: Option<usize> = None;
        let mut run = 0;
        for (i, &e) in energies.iter().enumerate().take(last_full) {
            if e <= threshold {
                run += 1;
                if run >= PAUSE_FRAMES && (i + 1 - run / 2) * FRAME >= MIN_CHUNK {
                    best = Some((i + 1 - run / 2) * FRAME);
                }
            } else {
                run = 0;
            }
        }
        if best.is_some() {
            return best;
        }
        if self.pending.len() >= MAX_CHUNK {
            // No pause in 28 s: cut at the quietest 100 ms of the last 4 s.
            let from = (MAX_CHUNK - 4 * RATE) / FRAME;
            let to = MAX_CHUNK / FRAME - 10;
            let quietest = (from..to)
                .min_by(|&a, &b| {
                    let sa: f32 = energies[a..a + 10].iter().sum();
                    let sb: f32 = energies[b..b + 10].iter().sum();
                    sa.total_cmp(&sb)
                })
                .unwrap_or(to);
            return Some((quietest + 5) * FRAME);
        }
        None
    }
}

/// Joins chunk transcripts (in order) into the take's transcript.
pub fn merge(parts: &[(f64, Transcript)], duration_s: f64, settings: DecodeSettings) -> Transcript {
    let mut merged = Transcript::no_speech(duration_s, settings);
    for (offset, part) in parts {
        for segment in &part.segments {
            let mut segment = segment.clone();
            segment.start += offset;
            segment.end += offset;
            merged.segments.push(segment);
        }
        for word in &part.words {
            let mut word = word.clone();
            word.start += offset;
            word.end += offset;
            merged.words.push(word);
        }
    }
    merged.text = merged.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
    merged.no_speech = merged.words.is_empty();
    merged.settings.redecoded = parts.iter().map(|(_, p)| p.settings.redecoded).sum();
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::{Segment, Word};

    fn speech(seconds: f64) -> Vec<f32> {
        (0..(seconds * RATE as f64) as usize).map(|i| (i as f32 * 0.07).sin() * 0.3).collect()
    }

    fn silence(seconds: f64) -> Vec<f32> {
        vec![0.0; (seconds * RATE as f64) as usize]
    }

    #[test]
    fn cuts_inside_a_pause_and_keeps_every_sample() {
        let mut take = speech(11.0);
        take.extend(silence(0.6));
        take.extend(speech(3.0));
        let mut chunker = Chunker::new();
        let mut chunks = Vec::new();
        for piece in take.chunks(1600) {
            chunks.extend(chunker.push(piece));
        }
        chunks.extend(chunker.finish());
        assert_eq!(chunks.len(), 2, "{:?}", chunks.iter().map(|c| c.offset_s).collect::<Vec<_>>());
        let cut = chunks[1].offset_s;
        assert!(cut > 11.0 && cut < 11.6, "cut at {cut}");
        let total: usize = chunks.iter().map(|c| c.samples.len()).sum();
        assert_eq!(total, take.len());
        let rejoined: Vec<f32> = chunks.iter().flat_map(|c| c.samples.clone()).collect();
        assert_eq!(rejoined, take);
    }

    #[test]
    fn finds_pauses_under_steady_background_noise() {
        // Speech 12 dB above a fan's loud hiss (its level alone is above the
        // quiet-room limit), with the short pauses of real speech; the last
        // pause before the chunk is full is at 11.4–12.0 s.
        let mut seed = 0x2545_f491_u32;
        let mut hiss = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    (seed as f32 / u32::MAX as f32 - 0.5) * 0.18
                })
                .collect()
        };
        let mut take = Vec::new();
        for _ in 0..3 {
            take.extend(speech(3.4));
            take.extend(silence(0.6));
        }
        take.extend(speech(17.0));
        let noise = hiss(take.len());
        for (s, n) in take.iter_mut().zip(noise) {
            *s += n;
        }
        let chunks = Chunker::new().push(&take);
        assert_eq!(chunks.len(), 1);
        let end = chunks[0].samples.len() as f64 / RATE as f64;
        assert!(end > 11.4 && end < 12.0, "cut at {end} s, not in the pause");
    }

    fn pushed(audio: &[Vec<f32>]) -> Chunker {
        let mut chunker = Chunker::new();
        for part in audio {
            assert!(chunker.push(part).is_empty(), "no chunk is due yet");
        }
        chunker
    }

    fn speculated(chunk: &Chunk) -> Speculation {
        Speculation {
            start: (chunk.offset_s * RATE as f64).round() as usize,
            len: chunk.samples.len(),
            transcript: Transcript::no_speech(0.0, DecodeSettings::default()),
        }
    }

    #[test]
    fn a_tail_is_speculated_on_once_it_ends_in_a_pause() {
        let mut chunker = pushed(&[speech(3.0), silence(0.2)]);
        assert!(chunker.speculation(0).is_none(), "a 0.2 s gap is not a pause");
        chunker.push(&silence(0.4));
        let chunk = chunker.speculation(0).expect("a tail ending in a 0.6 s pause");
        let end = chunk.samples.len() as f64 / RATE as f64;
        assert!(end > 3.2 && end < 3.4, "cut in the pause's middle, at {end} s");
        // Nothing new since: no second speculation; new speech and a pause: one.
        let since = chunk.samples.len();
        chunker.push(&silence(1.5));
        assert!(chunker.speculation(since).is_none(), "only silence came after");
        chunker.push(&speech(1.5));
        chunker.push(&silence(0.5));
        let again = chunker.speculation(since).expect("new speech, then a pause");
        assert!(again.samples.len() > since + RATE);
        assert!(pushed(&[silence(3.0)]).speculation(0).is_none(), "no speech at all");
        assert!(pushed(&[speech(0.5), silence(0.4)]).speculation(0).is_none(), "too short to bother");
    }

    #[test]
    fn at_stop_a_speculation_followed_by_silence_is_the_tail() {
        let mut chunker = pushed(&[speech(4.0), silence(0.6)]);
        let speculation = speculated(&chunker.speculation(0).expect("speculation"));
        // The speaker stays quiet, then the Space bar clicks (30 ms).
        chunker.push(&silence(1.0));
        chunker.push(&speech(0.03));
        chunker.push(&silence(0.2));
        match chunker.finish_with(Some(speculation)) {
            Tail::Speculated(_) => {}
            other => panic!("expected the speculation alone, got {other:?}"),
        }
        assert!(matches!(Chunker::new().finish_with(None), Tail::Empty));
    }

    #[test]
    fn at_stop_speech_after_a_speculation_or_a_foreign_one_gives_the_whole_tail() {
        for more in [0.15, 1.5, 6.0] {
            let mut chunker = pushed(&[speech(4.0), silence(0.6)]);
            let speculation = speculated(&chunker.speculation(0).expect("speculation"));
            chunker.push(&speech(more));
            chunker.push(&silence(0.2));
            match chunker.finish_with(Some(speculation)) {
                Tail::Whole(chunk) => {
                    let expected = ((4.8 + more) * RATE as f64).round() as usize;
                    assert!(chunk.samples.len().abs_diff(expected) <= 1, "{more} s after: the whole tail");
                    assert_eq!(chunk.offset_s, 0.0);
                }
                other => panic!("{more} s of speech after it: expected the whole tail, got {other:?}"),
            }
        }
        // A speculation on an earlier tail (a chunk was cut since).
        let mut chunker = pushed(&[speech(3.0), silence(0.6)]);
        let mut foreign = speculated(&chunker.speculation(0).expect("speculation"));
        foreign.start += RATE;
        chunker.push(&silence(0.5));
        match chunker.finish_with(Some(foreign)) {
            Tail::Whole(chunk) => assert_eq!(chunk.samples.len(), (4.1 * RATE as f64) as usize),
            other => panic!("expected the whole tail, got {other:?}"),
        }
    }

    #[test]
    fn never_waits_past_28_seconds() {
        let mut chunker = Chunker::new();
        let chunks = chunker.push(&speech(40.0));
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].samples.len() <= MAX_CHUNK);
        assert!(chunks[0].samples.len() >= MAX_CHUNK - 4 * RATE);
    }

    #[test]
    fn merge_offsets_times() {
        let part = |text: &str, start: f64| Transcript {
            text: text.into(),
            duration_s: 5.0,
            segments: vec![Segment { start, end: start + 1.0, text: text.into() }],
            words: vec![Word { word: text.into(), start, end: start + 1.0, p: 0.9 }],
            no_speech: false,
            settings: DecodeSettings::default(),
        };
        let merged = merge(&[(0.0, part("hello", 0.5)), (7.2, part("world", 0.1))], 10.0, DecodeSettings::default());
        assert_eq!(merged.text, "hello world");
        assert!((merged.words[1].start - 7.3).abs() < 1e-9);
        assert!(!merged.no_speech);
    }
}
