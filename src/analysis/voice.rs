//! How the answer sounds, from the audio alone (no transcript): pitch
//! variation (pYIN pitch track, spread in semitones), loudness variation,
//! sentence endings that trail off, the time to the first word, and the
//! longest stretch spoken without a pause. Thresholds are named below with
//! their reasons; the README says how they were measured.

use serde::{Deserialize, Serialize};

use super::audio::{self, SHORT_GAP_S};
use crate::util::SAMPLE_RATE;
use crate::util::level::{self, percentile};

/// Pitch below this spread (the 10th to 90th percentile of voiced frames, in
/// semitones) sounds flat. Lively speech spans about an octave; espeak-ng's
/// flat rendering (SSML `range="x-low"`) spans under 2, its normal one over 5.
pub const MONOTONE_ST: f64 = 2.0;
/// A phrase ending this much quieter than the phrase (dB) trails off:
/// the ear hears 6 dB as clearly quieter; normal endings fall 1–3 dB.
pub const TRAILING_OFF_DB: f64 = 6.0;
/// More silence than this after Record before the first word reads as a
/// hesitant start (the user pressed Record when ready to speak).
pub const SLOW_START_S: f64 = 4.0;
/// Speaking longer than this without a pause leaves the listener no room.
pub const LONG_RUN_S: f64 = 25.0;

/// pYIN's search range: low male to high female speaking voices.
const FMIN_HZ: f64 = 60.0;
const FMAX_HZ: f64 = 500.0;
/// Pitch is tracked at half the rate: speaking pitch is far below 4 kHz,
/// and it halves the work (a 3-minute answer is tracked in well under a
/// second; `scripts/bench.sh` times it).
const PITCH_RATE: u32 = SAMPLE_RATE / 2;
/// 64 ms frames (two periods of 60 Hz fit), a pitch every 40 ms: a spread
/// over a whole answer needs no finer steps.
const FRAME: usize = 512;
const HOP: usize = 320;
/// Half-semitone pitch bins: plenty for a spread of several semitones, and
/// pYIN's Viterbi pass stays small (its states grow with the bins squared).
const RESOLUTION: f64 = 0.5;
/// The level frames (30 ms) the loudness measures use.
const LEVEL_FRAME: usize = SAMPLE_RATE as usize * 3 / 100;
const LEVEL_FRAME_S: f64 = LEVEL_FRAME as f64 / SAMPLE_RATE as f64;
/// The end of a phrase whose loudness is compared with the rest of it
/// (about the last word or two).
const ENDING_S: f64 = 0.5;
/// The level of a stretch of speech: its loud frames (the vowels).
const LOUD_QUANTILE: f64 = 0.8;
/// Phrases shorter than this have no body to compare their ending with.
const MIN_PHRASE_S: f64 = 1.2;
/// Endings are judged on at least this many phrases: in one or two, a
/// single quiet ending would make the median (added after piper's held-out
/// run flagged its normal speech on two phrases; the README says so).
pub const MIN_PHRASES: usize = 3;
/// Fewer voiced pitch frames than this (1 s) give no pitch spread.
const MIN_VOICED_FRAMES: usize = 25;

/// The voice metrics of one take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Voice {
    /// The 10th–90th percentile spread of the pitch of voiced frames, in
    /// semitones; `None` with too little voiced speech.
    pub pitch_spread_st: Option<f64>,
    pub pitch_median_hz: Option<f64>,
    /// The 10th–90th percentile spread of speech loudness, in dB.
    pub loudness_spread_db: f64,
    /// How much quieter phrase endings (their last 0.5 s) are than the rest
    /// of the phrase (median over phrases, dB; loudness of the loud frames); `None` without a phrase long enough to judge.
    pub ending_drop_db: Option<f64>,
    /// Phrases judged, and those whose ending fell `TRAILING_OFF_DB` or more.
    pub phrases: usize,
    pub trailing_phrases: usize,
    /// Seconds from the start of the recording to the first sound of speech.
    pub first_word_s: Option<f64>,
    /// The longest stretch of speech with no silence of `SHORT_GAP_S` or more.
    pub longest_run_s: f64,
}

impl Voice {
    pub fn monotone(&self) -> bool {
        self.pitch_spread_st.is_some_and(|s| s < MONOTONE_ST)
    }

    pub fn trails_off(&self) -> bool {
        self.phrases >= MIN_PHRASES && self.ending_drop_db.is_some_and(|d| d >= TRAILING_OFF_DB)
    }
}

/// The voice metrics of a take at 16 kHz; `None` when it holds no speech.
pub fn analyse(samples: &[f32]) -> Option<Voice> {
    let voiced = audio::voiced_frames(samples);
    let runs = speech_runs(&voiced);
    let first = runs.first()?;
    let level_db: Vec<f64> = level::frame_rms(samples, LEVEL_FRAME).iter().map(|&r| db(r)).collect();
    let speech_db: Vec<f64> = level_db.iter().zip(&voiced).filter(|(_, v)| **v).map(|(d, _)| *d).collect();

    let mut drops = Vec::new();
    for &(start, end) in &runs {
        let frames = |from: f64, to: f64| {
            let (a, b) = ((from / LEVEL_FRAME_S) as usize, ((to / LEVEL_FRAME_S) as usize).min(level_db.len()));
            (a..b).filter(|&i| voiced[i]).map(|i| level_db[i]).collect::<Vec<f64>>()
        };
        if end - start < MIN_PHRASE_S {
            continue;
        }
        let (body, ending) = (frames(start, end - ENDING_S), frames(end - ENDING_S, end));
        if body.len() < 5 || ending.len() < 3 {
            continue;
        }
        // Loudness as heard: the vowels' peaks, not the quiet consonants
        // between them (a word's final "t" or "s" is always quiet).
        drops.push(percentile(&body, LOUD_QUANTILE) - percentile(&ending, LOUD_QUANTILE));
    }

    let (pitch_spread_st, pitch_median_hz) = pitch(samples, &voiced).unzip();
    Some(Voice {
        pitch_spread_st,
        pitch_median_hz,
        loudness_spread_db: percentile(&speech_db, 0.9) - percentile(&speech_db, 0.1),
        ending_drop_db: (!drops.is_empty()).then(|| percentile(&drops, 0.5)),
        phrases: drops.len(),
        trailing_phrases: drops.iter().filter(|&&d| d >= TRAILING_OFF_DB).count(),
        first_word_s: Some(first.0),
        longest_run_s: runs.iter().map(|(s, e)| e - s).fold(0.0, f64::max),
    })
}

/// Every other sample after a [¼ ½ ¼] low-pass (a zero at the new
/// Nyquist frequency): enough for a pitch track, which needs no treble.
fn halve_rate(samples: &[f32]) -> Vec<f32> {
    let at = |i: usize| samples.get(i).copied().unwrap_or(0.0);
    (0..samples.len() / 2)
        .map(|k| {
            let i = 2 * k;
            0.25 * at(i.wrapping_sub(1)) + 0.5 * at(i) + 0.25 * at(i + 1)
        })
        .collect()
}

fn db(rms: f32) -> f64 {
    20.0 * f64::from(rms.max(1e-6)).log10()
}

/// Stretches of speech (start, end in seconds) between silences of
/// `SHORT_GAP_S` or more; blips shorter than one frame pair are not speech.
fn speech_runs(voiced: &[bool]) -> Vec<(f64, f64)> {
    let gap_frames = (SHORT_GAP_S / LEVEL_FRAME_S).ceil() as usize;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < voiced.len() {
        if !voiced[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < voiced.len() && voiced[i] {
            i += 1;
        }
        match runs.last_mut() {
            // A gap shorter than a pause joins the runs on either side.
            Some(last) if start - last.1 < gap_frames => last.1 = i,
            _ => runs.push((start, i)),
        }
    }
    runs.into_iter()
        .filter(|(s, e)| e - s >= 2)
        .map(|(s, e)| (s as f64 * LEVEL_FRAME_S, e as f64 * LEVEL_FRAME_S))
        .collect()
}

/// The spread (semitones) and median (Hz) of the pitch of frames that pYIN
/// finds voiced and that are loud enough to be speech.
fn pitch(samples: &[f32], voiced: &[bool]) -> Option<(f64, f64)> {
    if samples.len() < 2 * FRAME {
        return None;
    }
    let half = halve_rate(samples);
    let mut tracker =
        pyin::PYINExecutor::<f32>::new(FMIN_HZ, FMAX_HZ, PITCH_RATE, FRAME, None, Some(HOP), Some(RESOLUTION));
    let (times, f0, voiced_flag, _) =
        tracker.pyin(&half, f32::NAN, pyin::Framing::Center(pyin::PadMode::Constant(0.0)));
    let loud = |t: f64| voiced.get((t / LEVEL_FRAME_S) as usize).copied().unwrap_or(false);
    let hz: Vec<f64> = times
        .iter()
        .zip(&f0)
        .zip(&voiced_flag)
        .filter(|((t, f), v)| **v && f.is_finite() && loud(**t))
        .map(|((_, f), _)| f64::from(*f))
        .collect();
    if hz.len() < MIN_VOICED_FRAMES {
        return None;
    }
    let median = percentile(&hz, 0.5);
    let semitones: Vec<f64> = hz.iter().map(|f| 12.0 * (f / median).log2()).collect();
    Some((percentile(&semitones, 0.9) - percentile(&semitones, 0.1), median))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A voiced "phrase": a harmonic tone gliding over `semitones` at `amp`.
    fn phrase(seconds: f64, base_hz: f64, semitones: f64, amp: f32) -> Vec<f32> {
        let n = (seconds * f64::from(SAMPLE_RATE)) as usize;
        let mut phase = 0.0f64;
        (0..n)
            .map(|i| {
                let t = i as f64 / n as f64;
                let hz = base_hz * 2f64.powf(semitones * (t * std::f64::consts::TAU * 2.0).sin() / 24.0);
                phase += std::f64::consts::TAU * hz / f64::from(SAMPLE_RATE);
                amp * (phase.sin() + 0.5 * (2.0 * phase).sin() + 0.25 * (3.0 * phase).sin()) as f32 / 1.75
            })
            .collect()
    }

    fn silence(seconds: f64) -> Vec<f32> {
        vec![0.0; (seconds * f64::from(SAMPLE_RATE)) as usize]
    }

    #[test]
    fn a_gliding_tone_has_the_spread_it_was_given_and_a_flat_one_none() {
        let flat = analyse(&[silence(0.5), phrase(3.0, 150.0, 0.0, 0.3)].concat()).expect("speech");
        let lively = analyse(&[silence(0.5), phrase(3.0, 150.0, 8.0, 0.3)].concat()).expect("speech");
        let (f, l) = (flat.pitch_spread_st.expect("pitch"), lively.pitch_spread_st.expect("pitch"));
        assert!(f < 1.0, "{flat:?}");
        // A sine glide of ±4 semitones spends most time near its ends: 10–90 % ≈ 7.6 st.
        assert!((l - 7.6).abs() < 1.2, "{lively:?}");
        assert!(flat.monotone() && !lively.monotone());
        assert!((flat.pitch_median_hz.expect("median") - 150.0).abs() < 5.0, "{flat:?}");
    }

    #[test]
    fn start_runs_and_a_quiet_ending_are_measured() {
        // 2 s of silence, a 3 s phrase whose last 0.5 s is 12 dB down, a
        // pause, and a 6 s phrase at an even level.
        let mut take = silence(2.0);
        take.extend(phrase(2.5, 120.0, 4.0, 0.4));
        take.extend(phrase(0.5, 120.0, 4.0, 0.1));
        take.extend(silence(0.6));
        take.extend(phrase(6.0, 120.0, 4.0, 0.4));
        take.extend(silence(0.5));
        let v = analyse(&take).expect("speech");
        assert!((v.first_word_s.expect("first word") - 2.0).abs() < 0.1, "{v:?}");
        assert!((v.longest_run_s - 6.0).abs() < 0.15, "{v:?}");
        assert_eq!((v.phrases, v.trailing_phrases), (2, 1), "{v:?}");
        // Two phrases are too few to call it trailing off.
        assert!(!v.trails_off(), "{v:?}");
        // Nine tenths of the speech is at one level.
        assert!(v.loudness_spread_db < 2.0, "{v:?}");
    }

    #[test]
    fn silence_has_no_voice_metrics() {
        assert_eq!(analyse(&silence(3.0)), None);
        assert_eq!(analyse(&[]), None);
    }
}
