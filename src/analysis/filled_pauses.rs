//! Filled pauses ("um", "uh") recovered from the audio.
//!
//! Whisper leaves most fillers out of its transcript, so they are looked for
//! in the signal instead. A filled pause is a held vowel (for "um", a vowel
//! closing into a nasal): voiced, with a steady pitch, steady level and a
//! steady spectrum, lasting roughly 150 ms to 1 s, in a stretch that no
//! transcribed word covers. Ordinary words are rarely like that: their pitch
//! and spectrum move from sound to sound, and they sit inside word intervals.
//!
//! Pipeline: 25 ms frames every 10 ms → level, low-band fraction and a YIN
//! pitch estimate per frame → runs of voiced frames whose pitch moves
//! smoothly → runs of filler length with a steady pitch, level and spectrum,
//! next to a silent pause → runs that lie mostly between words (or, when
//! whisper stretched a longer word over the filler, inside that word, after
//! a pause and held extremely still).
//!
//! The pitch, level and length thresholds were first tuned on synthetic
//! speech (espeak-ng sentences with known fillers, 4 voices × 3 rates,
//! background noise, word times perturbed the way whisper's are). The
//! spectral-steadiness gate (MAX_FLUX_DB) and the hidden-filler rule were set
//! on espeak-ng answers transcribed by tiny.en, then checked on a held-out
//! answer in other voices (tests/analysis_e2e.rs; figures in the README).
//! Real recordings have not been measured.

use std::f64::consts::PI;

/// A filled pause found in the audio.
#[derive(Debug, Clone, PartialEq)]
pub struct FilledPause {
    /// Seconds from the first sample.
    pub start: f64,
    /// Seconds from the first sample.
    pub end: f64,
    /// mean F0 in Hz
    pub pitch_hz: f32,
    /// "um" when it ends nasal/closed (energy in low band, a drop of
    /// high-frequency energy), else "uh" — best effort
    pub word: &'static str,
}

// --- Framing -----------------------------------------------------------------

const SAMPLE_RATE: f64 = crate::util::SAMPLE_RATE as f64;
/// 10 ms hop: fine enough to time a 150 ms filler to within a frame or two.
const HOP: usize = 160;
/// 25 ms window: a couple of periods of the lowest pitch we track.
const WIN: usize = 400;
/// Both HOP and WIN are multiples of this, so frame sums are built from block
/// sums and every sample is read once for level and low-pass energy.
const BLOCK: usize = 80;
const BLOCKS_PER_HOP: usize = HOP / BLOCK;
const BLOCKS_PER_WIN: usize = WIN / BLOCK;
/// Keeps log10 finite in digital silence.
const POWER_EPS: f64 = 1e-10;

// --- Pitch (YIN) -------------------------------------------------------------

/// Lowest and highest F0 searched: deep male creak to a high female voice.
const F0_MIN_HZ: f64 = 70.0;
const F0_MAX_HZ: f64 = 400.0;
/// Lags in samples for F0_MAX_HZ and F0_MIN_HZ (16000/400, floor(16000/70)).
const TAU_MIN: usize = 40;
const TAU_MAX: usize = 228;
/// YIN's absolute threshold: the first dip below it is taken as the period,
/// which avoids picking a multiple of the period.
const YIN_THRESHOLD: f64 = 0.15;
/// A frame counts as voiced when its normalised difference at the chosen lag
/// is at most this. Loose, because breathy fillers, jittery synthetic voices
/// and room noise all raise it; the run checks below do the real filtering.
const MAX_APERIODICITY: f64 = 0.45;

// --- Level gate --------------------------------------------------------------

/// Frames quieter than this are never voiced, whatever the recording level.
const ABS_FLOOR_DB: f64 = crate::util::level::VOICED_FLOOR_DB;
/// The speech level is taken as this percentile of frame levels: robust to
/// long silences at either end and to a few clipped peaks.
const SPEECH_REF_PERCENTILE: f64 = crate::util::level::SPEECH_PERCENTILE;
/// Fillers are often softer than words, but not by more than this; quieter
/// periodic sound (mains hum, a distant TV) is background.
const REL_GATE_DB: f64 = crate::util::level::VOICED_BELOW_SPEECH_DB;

// --- Runs of voiced frames ---------------------------------------------------

/// Largest pitch change between neighbouring frames, as |ln(f1/f0)| per
/// frame (~6 %). A held vowel glides; a jump means a new sound or an octave
/// error, and ends the run.
const MAX_F0_JUMP: f64 = 0.06;
/// Unvoiced frames tolerated inside a run (a glitch in the pitch tracker).
const MAX_BRIDGED_FRAMES: usize = 2;
/// The run's "core" drops onset/offset frames this far below its loudest
/// frame; level and spectral steadiness are judged on the core only.
const EDGE_TRIM_DB: f64 = 12.0;
/// 150 ms to 1 s: shorter is a vowel in a word, longer is singing or a tone.
const MIN_RUN_FRAMES: usize = 15;
const MAX_RUN_FRAMES: usize = 100;
/// Steady pitch: standard deviation of F0 over its mean. Loose enough for the
/// gentle fall many fillers have.
const MAX_F0_REL_STD: f64 = 0.15;
/// Steady level over the core (dB standard deviation).
const MAX_ENERGY_STD_DB: f64 = 6.0;

// --- Word intervals ----------------------------------------------------------

/// Whisper's word edges are loose; every block of words is shrunk this much
/// at both ends before asking whether a run lies outside the words.
const WORD_SHRINK_S: f64 = 0.04;
/// Words closer than this are one block: a gap this short cannot hold a
/// filler, and shrinking each word separately would invent gaps between
/// words spoken without a pause.
const MERGE_GAP_S: f64 = 0.1;
/// A run is a filler candidate when at least this fraction of it lies
/// outside the (shrunk) word blocks.
const MIN_OUTSIDE_FRAC: f64 = 0.6;

/// Steady spectrum: the median change of the spectral shape over FLUX_LAG
/// frames (dB RMS over bands). A filled pause holds one vowel (for "um",
/// then a nasal: the median ignores that one change); a word moves from
/// sound to sound. Measured: espeak-ng fillers 1.0–1.3, espeak-ng words
/// 3.9–9.5, a synthetic diphthong gliding F2 by 1200 Hz in 0.4 s 3.2.
const MAX_FLUX_DB: f64 = 3.0;

// --- Fillers hidden inside a stretched word ----------------------------------
//
// Whisper often stretches a word next to a dropped filler over it (with DTW
// timing, the word before a pause often ends after the filler). A run inside
// a word is still accepted when it follows a pause and is held extremely
// still (pitch and spectrum) for a long time, which a word with several
// sounds cannot be, unless the word can be said as that one held sound
// ("a", "and", "or", a drawn-out "well").

const HIDDEN_MIN_RUN_FRAMES: usize = 25;
const HIDDEN_MAX_F0_REL_STD: f64 = 0.04;
/// Of the HIDDEN_PAUSE_WINDOW frames before the run, at least
/// HIDDEN_MIN_PAUSE_FRAMES are below the level gate: speakers pause before a
/// filler, while a word's final held vowel ("platform") follows its
/// consonants directly.
const HIDDEN_PAUSE_WINDOW: usize = 20;
const HIDDEN_MIN_PAUSE_FRAMES: usize = 5;
/// And the word holding it does not run straight on after it: a drawn-out
/// first vowel ("aaalso") is followed by the rest of its word after at most
/// a consonant's gap, while a filler is followed by a pause (at least this
/// many frames under the gate, about 100 ms of silence) or by the end of
/// the word's span.
const HIDDEN_MIN_PAUSE_AFTER_FRAMES: usize = 12;
/// Frames after a run's last voiced frame that may still be above the gate
/// (the vowel dying away) before its pause.
const HIDDEN_DECAY_FRAMES: usize = 5;
/// A word "begins with the run" when it starts no earlier than this before
/// the end of the sound that precedes the run's pause.
const WORD_START_SLACK_S: f64 = 0.05;
/// A short word overlapping this much of the run explains it.
const SHORT_WORD_MIN_OVERLAP: f64 = 0.3;

// --- Spectral shape ----------------------------------------------------------

/// 16 bands of 250 Hz up to 4 kHz, each the sum of 4 DFT bins 62.5 Hz apart.
const N_BANDS: usize = 16;
const BINS_PER_BAND: usize = 4;
/// Bin k is at k * SAMPLE_RATE / DFT_PERIOD = k * 62.5 Hz, so the DFT
/// twiddles repeat every DFT_PERIOD samples and come from one small table.
const DFT_PERIOD: usize = 256;
const BAND_EPS: f64 = 1e-12;
/// Bands further than this below the frame's strongest band are clamped:
/// they hold noise, whose random level would swamp the vowel's shape.
const FLUX_FLOOR_DB: f64 = 30.0;
/// Spectra are compared 50 ms apart: long enough for a word's sounds to
/// change, while a held vowel stays put.
const FLUX_LAG: usize = 5;

// --- "um" or "uh" ------------------------------------------------------------

/// Cut-off of the two cascaded one-pole low-pass filters that measure how
/// much of a frame's energy sits in the low band (a nasal murmur's home).
const LOWPASS_HZ: f64 = 400.0;
/// The closing part of the run compared against its first half.
const UM_TAIL_FRAC: f64 = 0.3;
/// "um" when the low-band share of energy rises by at least this at the end
/// (lips close: the high frequencies die, the nasal murmur remains).
const UM_LOW_BAND_RISE: f64 = 0.15;

/// A transcribed word's place in the audio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WordSpan {
    /// Seconds from the first sample.
    pub start: f64,
    /// Seconds from the first sample.
    pub end: f64,
    /// A word that can be said as one held sound ("a", "and", "or", a
    /// drawn-out "well"): a steady run inside it may be the word itself.
    pub short: bool,
}

impl WordSpan {
    /// A word that cannot be one held sound ("platform").
    pub const fn long(start: f64, end: f64) -> Self {
        WordSpan { start, end, short: false }
    }
}

/// samples: 16 kHz mono f32; words: every transcribed word. Returns the
/// filled pauses between/around words (or hidden in a stretched one).
pub fn detect(samples: &[f32], words: &[WordSpan]) -> Vec<FilledPause> {
    detect_with(samples, words, 1.0)
}

/// `detect` at a sensitivity (`analysis::adapt`): above 1 it takes shorter,
/// less steady and more word-covered runs (shortest filler and the share
/// outside words divided by it; the pitch, level and spectral steadiness
/// limits multiplied by it), below 1 fewer.
pub fn detect_with(samples: &[f32], words: &[WordSpan], sensitivity: f64) -> Vec<FilledPause> {
    detect_in(samples, &analyse(samples), words, sensitivity)
}

/// `detect_with` over a take's frames analysed beforehand (`analyse`: the
/// costly part, which needs only the audio, so it can run before the
/// transcript is in).
pub fn detect_in(samples: &[f32], analysis: &Analysis, words: &[WordSpan], sensitivity: f64) -> Vec<FilledPause> {
    if analysis.frames.is_empty() {
        return Vec::new();
    }
    let words = WordBlocks::new(words);
    let spectra = Spectra::new();
    voiced_runs(&analysis.frames, analysis.gate)
        .iter()
        .filter(|run| next_to_a_pause(analysis, run))
        .filter_map(|run| judge(samples, analysis, run, &words, &spectra, sensitivity))
        .collect()
}

/// Within this many frames of either edge of a run a pause is looked for.
const BORDER_WINDOW: usize = 20;
/// That many consecutive frames under the gate make a pause (with 25 ms
/// windows, about 85 ms of silence: longer than most stop closures).
const BORDER_PAUSE_FRAMES: usize = 6;
/// A steady voiced run this long needs a pause on one side only.
const LONG_RUN_FRAMES: usize = 45;

/// A filled pause is a hesitation: it sits between silent pauses, or is
/// held long next to one. In fluent speech a steady vowel between two tight word
/// estimates is a word, not a filler (measured on espeak's very steady
/// voices, which otherwise give false "uh"s mid-sentence).
fn next_to_a_pause(analysis: &Analysis, run: &Run) -> bool {
    let (Some(&first), Some(&last)) = (run.voiced.first(), run.voiced.last()) else { return false };
    let quiet = |i: usize| analysis.frames.get(i).is_some_and(|f| f.energy_db < analysis.gate);
    let has_pause = |range: std::ops::Range<usize>| {
        let mut streak = 0;
        for i in range {
            streak = if quiet(i) { streak + 1 } else { 0 };
            if streak >= BORDER_PAUSE_FRAMES {
                return true;
            }
        }
        false
    };
    let before = has_pause(first.saturating_sub(BORDER_WINDOW)..first);
    let after = has_pause(last + 1..last + 1 + BORDER_WINDOW);
    // A pause on one side only is the mark of a lengthened last syllable
    // before a pause, or of a short first word after one ("…forever. A…").
    if last + 1 - first >= LONG_RUN_FRAMES { before || after } else { before && after }
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    energy_db: f64,
    /// Share of the frame's energy below ~LOWPASS_HZ.
    low_frac: f64,
    /// 0 when the frame was below the gate and not analysed.
    f0: f64,
    aperiodicity: f64,
}

/// A take's frames (level, pitch, steadiness), from `analyse`.
#[derive(Debug, Clone)]
pub struct Analysis {
    frames: Vec<Frame>,
    /// Frames below this level are silence or background.
    gate: f64,
}

/// A sample as f64; NaN and infinities (a broken capture) count as silence.
fn sample(samples: &[f32], i: usize) -> f64 {
    match samples.get(i) {
        Some(v) if v.is_finite() => f64::from(*v),
        _ => 0.0,
    }
}

fn frame_count(len: usize) -> usize {
    if len >= WIN { (len - WIN) / HOP + 1 } else { 0 }
}

/// Centre-based frame times: a run of frames a..=b covers
/// [start(a), end(b)], (b - a + 1) hops long.
fn frame_start_s(i: usize) -> f64 {
    ((i * HOP) as f64 + (WIN - HOP) as f64 / 2.0) / SAMPLE_RATE
}

fn frame_end_s(i: usize) -> f64 {
    ((i * HOP) as f64 + (WIN + HOP) as f64 / 2.0) / SAMPLE_RATE
}

pub fn analyse(samples: &[f32]) -> Analysis {
    let n = frame_count(samples.len());
    if n == 0 {
        return Analysis { frames: Vec::new(), gate: ABS_FLOOR_DB };
    }

    // Per-block power of the signal and of its low-passed copy.
    let n_blocks = samples.len() / BLOCK;
    let alpha = 1.0 - (-2.0 * PI * LOWPASS_HZ / SAMPLE_RATE).exp();
    let (mut y1, mut y2) = (0.0_f64, 0.0_f64);
    let mut power = vec![0.0_f64; n_blocks];
    let mut low = vec![0.0_f64; n_blocks];
    for (b, (p, l)) in power.iter_mut().zip(low.iter_mut()).enumerate() {
        for i in b * BLOCK..(b + 1) * BLOCK {
            let x = sample(samples, i);
            y1 = alpha * x + (1.0 - alpha) * y1;
            y2 = alpha * y1 + (1.0 - alpha) * y2;
            *p += x * x;
            *l += y2 * y2;
        }
    }
    let window_sum = |blocks: &[f64], i: usize| -> f64 {
        let b0 = i * BLOCKS_PER_HOP;
        blocks.get(b0..b0 + BLOCKS_PER_WIN).map_or(0.0, |s| s.iter().sum())
    };

    let mut frames: Vec<Frame> = (0..n)
        .map(|i| {
            let p = window_sum(power.as_slice(), i);
            let l = window_sum(low.as_slice(), i);
            Frame {
                energy_db: 10.0 * (p / WIN as f64 + POWER_EPS).log10(),
                low_frac: l / (p + POWER_EPS),
                f0: 0.0,
                aperiodicity: 1.0,
            }
        })
        .collect();

    // Pitch only where it can matter: frames under the gate are never voiced,
    // and YIN is by far the most expensive step.
    let gate = level_gate(&frames);
    let mut buf = vec![0.0_f64; WIN + TAU_MAX];
    for (i, frame) in frames.iter_mut().enumerate() {
        if frame.energy_db < gate {
            continue;
        }
        let start = i * HOP;
        for (j, v) in buf.iter_mut().enumerate() {
            *v = sample(samples, start + j);
        }
        let (f0, aperiodicity) = yin(&buf);
        frame.f0 = f0;
        frame.aperiodicity = aperiodicity;
    }
    Analysis { frames, gate }
}

fn level_gate(frames: &[Frame]) -> f64 {
    let mut levels: Vec<f64> = frames.iter().map(|f| f.energy_db).collect();
    if levels.is_empty() {
        return ABS_FLOOR_DB;
    }
    levels.sort_by(f64::total_cmp);
    let idx = (SPEECH_REF_PERCENTILE * (levels.len() - 1) as f64) as usize;
    let reference = levels.get(idx).copied().unwrap_or(ABS_FLOOR_DB);
    (reference - REL_GATE_DB).max(ABS_FLOOR_DB)
}

/// The cumulative-mean-normalised difference function of one frame,
/// computed lazily: the period of a voiced frame is usually found long before
/// the largest lag, and the difference sums are the costliest part of the
/// whole analysis. Results are the same as computing every lag.
struct Yin<'a> {
    /// WIN + TAU_MAX samples from the frame start.
    buf: &'a [f64],
    norm: [f64; TAU_MAX + 1],
    /// Lags 1..=computed are in `norm`.
    computed: usize,
    running: f64,
}

impl<'a> Yin<'a> {
    fn new(buf: &'a [f64]) -> Self {
        Yin { buf, norm: [1.0; TAU_MAX + 1], computed: 0, running: 0.0 }
    }

    /// Normalised difference at lag `tau` (1..=TAU_MAX): 1 for noise, near 0
    /// at the period.
    fn at(&mut self, tau: usize) -> f64 {
        let tau = tau.min(TAU_MAX);
        while self.computed < tau {
            let t = self.computed + 1;
            let head = self.buf.get(..WIN).unwrap_or(&[]);
            let lagged = self.buf.get(t..t + WIN).unwrap_or(&[]);
            let diff: f64 = head.iter().zip(lagged).map(|(a, b)| (a - b) * (a - b)).sum();
            self.running += diff;
            self.norm[t] = if self.running > 0.0 { diff * t as f64 / self.running } else { 1.0 };
            self.computed = t;
        }
        self.norm[tau]
    }
}

/// YIN on one frame: `buf` holds WIN + TAU_MAX samples from the frame start.
/// Returns (F0 in Hz, aperiodicity: the normalised difference at the period).
fn yin(buf: &[f64]) -> (f64, f64) {
    let mut yin = Yin::new(buf);

    // The first dip under the threshold (followed down to its bottom), else
    // the deepest point: the aperiodicity then marks the frame unvoiced.
    let mut found = None;
    let mut tau = TAU_MIN;
    while tau <= TAU_MAX {
        if yin.at(tau) < YIN_THRESHOLD {
            while tau < TAU_MAX && yin.at(tau + 1) < yin.at(tau) {
                tau += 1;
            }
            found = Some(tau);
            break;
        }
        tau += 1;
    }
    let best = found.unwrap_or_else(|| {
        let mut m = TAU_MIN;
        for t in TAU_MIN + 1..=TAU_MAX {
            if yin.at(t) < yin.at(m) {
                m = t;
            }
        }
        m
    });

    // Parabolic interpolation: integer lags are too coarse (2 % at 300 Hz)
    // for the steadiness measures.
    let mut period = best as f64;
    if best > TAU_MIN && best < TAU_MAX {
        let (a, b, c) = (yin.at(best - 1), yin.at(best), yin.at(best + 1));
        let den = a - 2.0 * b + c;
        if den > 0.0 {
            period += 0.5 * (a - c) / den;
        }
    }
    (SAMPLE_RATE / period, yin.at(best))
}

struct Run {
    /// Voiced frames of the run, in order (bridged frames left out).
    voiced: Vec<usize>,
    /// The voiced frames without the weak onset and offset.
    core: Vec<usize>,
}

fn voiced_runs(frames: &[Frame], gate: f64) -> Vec<Run> {
    let voiced: Vec<bool> = frames
        .iter()
        .map(|f| f.energy_db >= gate && f.aperiodicity <= MAX_APERIODICITY && (F0_MIN_HZ..=F0_MAX_HZ).contains(&f.f0))
        .collect();

    // (first, last) voiced frame of each run.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    for (i, &is_voiced) in voiced.iter().enumerate() {
        if !is_voiced {
            if let Some((first, last)) = open
                && i - last > MAX_BRIDGED_FRAMES
            {
                spans.push((first, last));
                open = None;
            }
            continue;
        }
        if let Some((first, last)) = open {
            let gap = i - last;
            let jump = (frames[i].f0 / frames[last].f0).ln().abs();
            if gap - 1 <= MAX_BRIDGED_FRAMES && jump <= MAX_F0_JUMP * gap as f64 {
                open = Some((first, i));
                continue;
            }
            spans.push((first, last));
        }
        open = Some((i, i));
    }
    if let Some(span) = open {
        spans.push(span);
    }

    spans
        .into_iter()
        .filter_map(|(first, last)| {
            let voiced_frames: Vec<usize> = (first..=last).filter(|&i| voiced[i]).collect();
            let peak = voiced_frames.iter().map(|&i| frames[i].energy_db).fold(f64::NEG_INFINITY, f64::max);
            let strong = |&i: &usize| frames[i].energy_db >= peak - EDGE_TRIM_DB;
            let core_first = voiced_frames.iter().copied().find(strong)?;
            let core_last = voiced_frames.iter().copied().rfind(strong)?;
            let core = voiced_frames.iter().copied().filter(|&i| i >= core_first && i <= core_last).collect();
            Some(Run { voiced: voiced_frames, core })
        })
        .collect()
}

/// The word intervals, prepared once.
struct WordBlocks {
    /// Words merged where no real pause separates them, then shrunk.
    blocks: Vec<(f64, f64)>,
    /// The words that can be one held sound, unshrunk (for the hidden-filler
    /// rule: one covering SHORT_WORD_MIN_OVERLAP of a run explains it).
    short: Vec<(f64, f64)>,
    /// The other words, unshrunk (for the hidden-filler rule).
    long: Vec<(f64, f64)>,
}

impl WordBlocks {
    fn new(words: &[WordSpan]) -> Self {
        let valid_words = words.iter().filter(|w| w.start.is_finite() && w.end.is_finite() && w.end > w.start);
        let short = valid_words.clone().filter(|w| w.short).map(|w| (w.start, w.end)).collect();
        let long = valid_words.clone().filter(|w| !w.short).map(|w| (w.start, w.end)).collect();
        let mut valid: Vec<(f64, f64)> = valid_words.map(|w| (w.start, w.end)).collect();
        valid.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));

        let mut merged: Vec<(f64, f64)> = Vec::new();
        for (s, e) in valid.iter().copied() {
            if let Some(last) = merged.last_mut().filter(|last| s - last.1 < MERGE_GAP_S) {
                last.1 = last.1.max(e);
            } else {
                merged.push((s, e));
            }
        }
        let shrink = |list: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
            list.into_iter()
                .filter(|&(s, e)| e - s > 2.0 * WORD_SHRINK_S)
                .map(|(s, e)| (s + WORD_SHRINK_S, e - WORD_SHRINK_S))
                .collect()
        };
        WordBlocks { blocks: shrink(merged), short, long }
    }
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn judge(
    samples: &[f32],
    analysis: &Analysis,
    run: &Run,
    words: &WordBlocks,
    spectra: &Spectra,
    sensitivity: f64,
) -> Option<FilledPause> {
    let frames = &analysis.frames;
    let first = *run.voiced.first()?;
    let last = *run.voiced.last()?;
    let n_frames = last - first + 1;
    let start = frame_start_s(first);
    let end = frame_end_s(last);

    let f0s: Vec<f64> = run.voiced.iter().map(|&i| frames[i].f0).collect();
    let (f0_mean, f0_std) = mean_std(&f0s);
    if f0_mean <= 0.0 {
        return None;
    }
    let f0_rel_std = f0_std / f0_mean;
    let levels: Vec<f64> = run.core.iter().map(|&i| frames[i].energy_db).collect();
    let (_, energy_std) = mean_std(&levels);

    let min_frames = (MIN_RUN_FRAMES as f64 / sensitivity).round() as usize;
    let filler_like = (min_frames..=MAX_RUN_FRAMES).contains(&n_frames)
        && f0_rel_std <= MAX_F0_REL_STD * sensitivity
        && energy_std <= MAX_ENERGY_STD_DB * sensitivity;
    if !filler_like {
        return None;
    }
    let covered: f64 = words.blocks.iter().map(|&(s, e)| (end.min(e) - start.max(s)).max(0.0)).sum();
    let outside = 1.0 - covered / (end - start);
    let placed =
        outside >= MIN_OUTSIDE_FRAC / sensitivity || hidden_in_a_word(analysis, run, words, n_frames, f0_rel_std);
    // The costliest test, so last.
    let accepted = placed && spectra.flux(samples, &run.core) <= MAX_FLUX_DB * sensitivity;
    accepted.then(|| FilledPause { start, end, pitch_hz: f0_mean as f32, word: um_or_uh(frames, &run.voiced) })
}

/// The run is a filler that a stretched word's time span hides.
fn hidden_in_a_word(analysis: &Analysis, run: &Run, words: &WordBlocks, n_frames: usize, f0_rel_std: f64) -> bool {
    if n_frames < HIDDEN_MIN_RUN_FRAMES || f0_rel_std > HIDDEN_MAX_F0_REL_STD {
        return false;
    }
    let (Some(&first), Some(&last)) = (run.voiced.first(), run.voiced.last()) else {
        return false;
    };
    let (start, end) = (frame_start_s(first), frame_end_s(last));
    let explained_by_short_word = words
        .short
        .iter()
        .any(|&(s, e)| (end.min(e) - start.max(s)).max(0.0) >= SHORT_WORD_MIN_OVERLAP * (end - start));
    if explained_by_short_word {
        return false;
    }
    let quiet = |f: &Frame| f.energy_db < analysis.gate;
    let quiet_before =
        analysis.frames[first.saturating_sub(HIDDEN_PAUSE_WINDOW)..first].iter().filter(|f| quiet(f)).count();
    // A word that begins with the run (after the sound before its pause,
    // not a stretched earlier word) and goes on after it, with no pause
    // between: the run is that word's first vowel. (The quiet after the run
    // may start a few frames late: the vowel dies away.)
    let before = &analysis.frames[..first];
    let onset = before.iter().rev().take_while(|f| !quiet(f)).count();
    let pause = before[..before.len() - onset].iter().rev().take_while(|f| quiet(f)).count();
    let sound_before_ends = (before.len() - onset - pause).checked_sub(1).map_or(0.0, frame_end_s);
    let after = analysis.frames.get(last + 1..).unwrap_or(&[]);
    let decay = after.iter().take(HIDDEN_DECAY_FRAMES).take_while(|f| !quiet(f)).count();
    let pause_after = after[decay..].iter().take_while(|f| quiet(f)).count();
    let resumes_at = frame_start_s(last + 1 + decay + pause_after);
    let word_goes_on = pause_after < HIDDEN_MIN_PAUSE_AFTER_FRAMES
        && decay + pause_after < after.len()
        && words.long.iter().any(|&(s, e)| s >= sound_before_ends - WORD_START_SLACK_S && s < end && resumes_at < e);
    quiet_before >= HIDDEN_MIN_PAUSE_FRAMES && !word_goes_on
}

/// "um" when the end of the run is dominated by low frequencies, i.e. the
/// lips closed into a nasal; otherwise "uh".
fn um_or_uh(frames: &[Frame], voiced: &[usize]) -> &'static str {
    let n = voiced.len();
    if n == 0 {
        return "uh";
    }
    let head_len = (n / 2).max(1);
    let tail_len = ((n as f64 * UM_TAIL_FRAC) as usize).clamp(1, n);
    let mean_low =
        |idx: &[usize]| -> f64 { idx.iter().map(|&i| frames[i].low_frac).sum::<f64>() / idx.len().max(1) as f64 };
    let head = mean_low(&voiced[..head_len]);
    let tail = mean_low(&voiced[n - tail_len..]);
    if tail - head >= UM_LOW_BAND_RISE { "um" } else { "uh" }
}

/// Coarse spectra of single frames (a few DFT bins per band), used only for
/// the few runs that pass the cheaper tests.
struct Spectra {
    hann: Vec<f64>,
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl Spectra {
    fn new() -> Self {
        let hann = (0..WIN).map(|n| 0.5 - 0.5 * (2.0 * PI * n as f64 / WIN as f64).cos()).collect();
        let phase = |m: usize| 2.0 * PI * m as f64 / DFT_PERIOD as f64;
        Spectra {
            hann,
            cos: (0..DFT_PERIOD).map(|m| phase(m).cos()).collect(),
            sin: (0..DFT_PERIOD).map(|m| phase(m).sin()).collect(),
        }
    }

    /// Band levels in dB, weak bands clamped, mean removed (so the shape, not
    /// the loudness, is compared).
    fn band_shape(&self, samples: &[f32], frame: usize) -> [f64; N_BANDS] {
        let start = frame * HOP;
        let windowed: Vec<f64> = self.hann.iter().enumerate().map(|(n, w)| sample(samples, start + n) * w).collect();
        let mut bands = [0.0_f64; N_BANDS];
        for (b, band) in bands.iter_mut().enumerate() {
            let mut power = 0.0;
            for j in 0..BINS_PER_BAND {
                let k = b * BINS_PER_BAND + j + 1;
                let (mut re, mut im) = (0.0, 0.0);
                for (n, x) in windowed.iter().enumerate() {
                    let m = (k * n) % DFT_PERIOD;
                    re += x * self.cos[m];
                    im += x * self.sin[m];
                }
                power += re * re + im * im;
            }
            *band = 10.0 * (power + BAND_EPS).log10();
        }
        let top = bands.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for band in bands.iter_mut() {
            *band = band.max(top - FLUX_FLOOR_DB);
        }
        let mean = bands.iter().sum::<f64>() / N_BANDS as f64;
        for band in bands.iter_mut() {
            *band -= mean;
        }
        bands
    }

    /// Median spectral change between frames FLUX_LAG apart (dB RMS over the
    /// bands). The median ignores the single vowel-to-nasal change of "um".
    /// Too few frames to compare: not shown to be steady.
    fn flux(&self, samples: &[f32], frames: &[usize]) -> f64 {
        if frames.len() <= FLUX_LAG {
            return f64::INFINITY;
        }
        let shapes: Vec<[f64; N_BANDS]> = frames.iter().map(|&i| self.band_shape(samples, i)).collect();
        let mut changes: Vec<f64> = shapes
            .iter()
            .zip(shapes.iter().skip(FLUX_LAG))
            .map(|(a, b)| {
                let sq: f64 = a.iter().zip(b).map(|(x, y)| (y - x) * (y - x)).sum();
                (sq / N_BANDS as f64).sqrt()
            })
            .collect();
        changes.sort_by(f64::total_cmp);
        changes.get(changes.len() / 2).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f64 = 16_000.0;

    /// Deterministic noise without a crate (xorshift32), uniform in [-1, 1).
    struct XorShift(u32);

    impl XorShift {
        fn uniform(&mut self) -> f64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            self.0 = x;
            f64::from(x) / 2_147_483_648.0 - 1.0
        }
    }

    /// 20 ms raised-cosine fade in and out, so edges do not click.
    fn fade(mut y: Vec<f64>) -> Vec<f64> {
        let n = (0.02 * SR) as usize;
        let len = y.len();
        for i in 0..n.min(len / 2) {
            let g = 0.5 - 0.5 * (PI * i as f64 / n as f64).cos();
            y[i] *= g;
            y[len - 1 - i] *= g;
        }
        y
    }

    /// Harmonic amplitudes of a vowel-like spectrum for a ~120 Hz voice:
    /// formants near 700 and 1200 Hz.
    fn vowel_amp(h: usize) -> f64 {
        let f = h as f64 * 120.0;
        1.0 / (1.0 + ((f - 700.0) / 150.0).powi(2)) + 0.5 / (1.0 + ((f - 1200.0) / 200.0).powi(2)) + 0.1 / h as f64
    }

    /// A harmonic sound following `f0(t)`; from `nasal_from` seconds on, only
    /// the lowest harmonics remain, quieter (the lips closed: "m").
    fn harmonic(f0: impl Fn(f64) -> f64, dur: f64, nasal_from: Option<f64>) -> Vec<f64> {
        let n = (dur * SR) as usize;
        let mut phase = 0.0;
        let y = (0..n)
            .map(|i| {
                let t = i as f64 / SR;
                phase += 2.0 * PI * f0(t) / SR;
                let v = match nasal_from {
                    Some(t0) if t >= t0 => (1..4).map(|h| (h as f64 * phase).sin() / h as f64).sum::<f64>() * 0.3,
                    _ => (1..26).map(|h| vowel_amp(h) * (h as f64 * phase).sin()).sum(),
                };
                0.1 * v
            })
            .collect();
        fade(y)
    }

    /// A held vowel at 120 Hz with a slight (±1 %, 5 Hz) vibrato.
    fn vowel(dur: f64, nasal_from: Option<f64>) -> Vec<f64> {
        harmonic(|t| 120.0 * (1.0 + 0.01 * (2.0 * PI * 5.0 * t).sin()), dur, nasal_from)
    }

    fn noise(dur: f64, rng: &mut XorShift) -> Vec<f64> {
        fade((0..(dur * SR) as usize).map(|_| 0.1 * rng.uniform()).collect())
    }

    /// `parts` mixed into `total` seconds of very faint noise.
    fn place(total: f64, parts: &[(f64, Vec<f64>)], rng: &mut XorShift) -> Vec<f32> {
        let mut x: Vec<f64> = (0..(total * SR) as usize).map(|_| 1e-4 * rng.uniform()).collect();
        for (start, y) in parts {
            let i0 = (start * SR) as usize;
            for (j, v) in y.iter().enumerate() {
                if let Some(s) = x.get_mut(i0 + j) {
                    *s += v;
                }
            }
        }
        x.into_iter().map(|v| v as f32).collect()
    }

    /// Two "words" — noise at 0.2–0.7 s, a warbling voice (pitch ±30 % at
    /// 6 Hz) at 1.3–1.8 s — and `filler` placed at 0.8 s.
    fn scene(filler: Vec<f64>) -> Vec<f32> {
        let mut rng = XorShift(0x0123_4567);
        let word_a = noise(0.5, &mut rng);
        let word_b = harmonic(|t| 150.0 * (1.0 + 0.3 * (2.0 * PI * 6.0 * t).sin()), 0.5, None);
        place(2.0, &[(0.2, word_a), (0.8, filler), (1.3, word_b)], &mut rng)
    }

    const WORDS: [WordSpan; 2] = [WordSpan::long(0.2, 0.7), WordSpan::long(1.3, 1.8)];

    fn long_words(spans: &[(f64, f64)]) -> Vec<WordSpan> {
        spans.iter().map(|&(s, e)| WordSpan::long(s, e)).collect()
    }

    #[test]
    fn held_vowel_between_words_is_one_uh() {
        let found = detect(&scene(vowel(0.4, None)), &WORDS);
        assert_eq!(found.len(), 1, "{found:?}");
        let fp = &found[0];
        assert!((fp.start - 0.8).abs() < 0.05, "{fp:?}");
        assert!((fp.end - 1.2).abs() < 0.05, "{fp:?}");
        assert!((fp.pitch_hz - 120.0).abs() < 3.0, "{fp:?}");
        assert_eq!(fp.word, "uh");
    }

    #[test]
    fn vowel_closing_into_a_nasal_is_um() {
        let found = detect(&scene(vowel(0.4, Some(0.26))), &WORDS);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].word, "um");
    }

    #[test]
    fn held_vowel_that_a_one_sound_word_covers_is_that_word() {
        // "a" or "or", said slowly between pauses.
        let words =
            [WordSpan::long(0.2, 0.7), WordSpan { start: 0.75, end: 1.25, short: true }, WordSpan::long(1.3, 1.8)];
        assert_eq!(detect(&scene(vowel(0.4, None)), &words), vec![]);
    }

    #[test]
    fn vowel_with_moving_formants_is_a_word_not_a_filler() {
        // Steady pitch, but the spectrum glides like "I" or "way": a word
        // whisper missed, not a filled pause.
        let n = (0.4 * SR) as usize;
        let mut phase = 0.0;
        let glide: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / SR;
                let (f1, f2) = (750.0 - 900.0 * t, 1100.0 + 3000.0 * t);
                phase += 2.0 * PI * 120.0 / SR;
                0.1 * (1..26)
                    .map(|h| {
                        let f = h as f64 * 120.0;
                        let amp = 1.0 / (1.0 + ((f - f1) / 120.0).powi(2)) + 0.5 / (1.0 + ((f - f2) / 150.0).powi(2));
                        amp * (h as f64 * phase).sin()
                    })
                    .sum::<f64>()
            })
            .collect();
        assert_eq!(detect(&scene(fade(glide)), &WORDS), vec![]);
    }

    #[test]
    fn filler_hidden_in_a_stretched_long_word_is_found() {
        // Whisper stretched the first word over the pause and the filler.
        let words = long_words(&[(0.2, 1.25), (1.3, 1.8)]);
        let found = detect(&scene(vowel(0.4, None)), &words);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].start - 0.8).abs() < 0.05, "{found:?}");
    }

    #[test]
    fn filler_in_a_stretched_word_that_touches_the_next_one_is_found() {
        // The stretched word ends where the next begins, a frame or two
        // into the next sound: still the earlier word, still a filler.
        let words = long_words(&[(0.2, 1.3), (1.3, 1.8)]);
        let found = detect(&scene(vowel(0.4, None)), &words);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn drawn_out_first_vowel_of_a_word_is_not_a_filler() {
        // "aaalso": the held vowel after a pause, then the rest of the word.
        let words = long_words(&[(0.2, 0.7), (0.75, 1.8)]);
        assert_eq!(detect(&scene(vowel(0.4, None)), &words), vec![]);
    }

    #[test]
    fn silence_has_no_fillers() {
        assert_eq!(detect(&vec![0.0; 32_000], &[]), vec![]);
        assert_eq!(detect(&vec![0.0; 32_000], &WORDS), vec![]);
        assert_eq!(detect(&[], &WORDS), vec![]);
        assert_eq!(detect(&[0.0; 100], &[]), vec![]);
    }

    #[test]
    fn two_second_tone_is_too_long() {
        let x = place(3.0, &[(0.5, vowel(2.0, None))], &mut XorShift(7));
        assert_eq!(detect(&x, &[]), vec![]);
    }

    #[test]
    fn eighty_ms_tone_is_too_short() {
        assert_eq!(detect(&scene(vowel(0.08, None)), &WORDS), vec![]);
    }

    #[test]
    fn white_noise_has_no_fillers() {
        let mut rng = XorShift(99);
        let x: Vec<f32> = (0..32_000).map(|_| (0.1 * rng.uniform()) as f32).collect();
        assert_eq!(detect(&x, &[]), vec![]);
        assert_eq!(detect(&x, &WORDS), vec![]);
    }

    #[test]
    fn broken_input_does_not_panic() {
        let mut x = scene(vowel(0.4, None));
        x[100] = f32::NAN;
        x[200] = f32::INFINITY;
        let words = long_words(&[(f64::NAN, 0.5), (0.9, 0.3), (0.2, 0.7), (1.3, f64::INFINITY), (1.3, 1.8)]);
        let found = detect(&x, &words);
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
