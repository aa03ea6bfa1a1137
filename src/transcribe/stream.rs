//! Streaming: while the candidate is still speaking, finished chunks of the
//! take (cut at pauses, at most 30 s) are transcribed in the background, so
//! after Stop only the tail is left. Chunks are cut inside silence, so no
//! word straddles a join: nothing is dropped or said twice.

use super::{DecodeSettings, Transcript};
use crate::util::SAMPLE_RATE;
use crate::util::level::{self, Levels};

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
