//! What the audio itself says: where the speaker is silent. Word times from
//! whisper are too loose for pauses; the signal's energy is not.

use crate::util::SAMPLE_RATE;
use crate::util::level::{self, Levels};

/// 30 ms analysis frames at 16 kHz.
const FRAME: usize = SAMPLE_RATE as usize * 3 / 100;
const FRAME_S: f64 = FRAME as f64 / SAMPLE_RATE as f64;
/// A gap shorter than this is part of speaking (between words, breaths).
pub const SHORT_GAP_S: f64 = 0.3;

/// Silent stretches of at least `min_s` seconds (start, end), and whether
/// each frame is speech. Silence is judged against the take's own speech
/// level (`util::level`: 26 dB below its loud frames), with an absolute floor.
pub fn silences(samples: &[f32], min_s: f64) -> Vec<(f64, f64)> {
    let voiced = voiced_frames(samples);
    let mut out = Vec::new();
    let mut run_start: Option<usize> = None;
    for (i, &v) in voiced.iter().chain(std::iter::once(&true)).enumerate() {
        match (v, run_start) {
            (false, None) => run_start = Some(i),
            (true, Some(start)) => {
                let (s, e) =
                    (start as f64 * FRAME_S, (i as f64 * FRAME_S).min(samples.len() as f64 / f64::from(SAMPLE_RATE)));
                if e - s >= min_s {
                    out.push((s, e));
                }
                run_start = None;
            }
            _ => {}
        }
    }
    out
}

pub fn voiced_frames(samples: &[f32]) -> Vec<bool> {
    let rms = level::frame_rms(samples, FRAME);
    let threshold = Levels::of(&rms).pause_threshold();
    rms.iter().map(|&r| r > threshold).collect()
}

/// Seconds of speaking: the take minus silences longer than a short gap,
/// and minus the silence before the first and after the last sound.
pub fn speaking_time(samples: &[f32]) -> f64 {
    let duration = samples.len() as f64 / f64::from(SAMPLE_RATE);
    let silent: f64 = silences(samples, SHORT_GAP_S).iter().map(|(s, e)| e - s).sum();
    (duration - silent).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(seconds: f64) -> Vec<f32> {
        (0..(seconds * 16_000.0) as usize).map(|i| (i as f32 * 0.1).sin() * 0.3).collect()
    }

    #[test]
    fn finds_a_long_pause_and_speaking_time() {
        let mut take = vec![0.0; 16_000];
        take.extend(tone(2.0));
        take.extend(vec![0.001; 40_000]); // 2.5 s of near silence
        take.extend(tone(1.0));
        let pauses = silences(&take, 2.0);
        assert_eq!(pauses.len(), 1, "{pauses:?}");
        assert!((pauses[0].0 - 3.0).abs() < 0.04 && (pauses[0].1 - 5.5).abs() < 0.04, "{pauses:?}");
        assert!((speaking_time(&take) - 3.0).abs() < 0.1, "{}", speaking_time(&take));
    }
}
