//! The one definition of speech and silence levels. Every part of the app
//! that asks "is this speech?" measures a frame the same way (RMS of 16 kHz
//! samples, compared in decibels) and judges it against the take's own
//! speech level, with an absolute floor so a silent take is not "speech"
//! just because its loudest frames are the loudest it has. Each use has its
//! own margin below speech, named here with the reason for its number.

/// The take's speech level: the level of its loud frames. The 90th
/// percentile, not the maximum: a cough or a click must not set it.
pub const SPEECH_PERCENTILE: f64 = 0.90;
/// The take's background level: its quietest frames (5th percentile).
pub const BACKGROUND_PERCENTILE: f64 = 0.05;

/// Pauses in feedback: a frame is silent 26 dB (a 20th of the amplitude)
/// below the take's speech (a soft word ending stays speech; breath and room
/// noise do not)...
pub const PAUSE_BELOW_SPEECH_DB: f32 = 26.0206;
/// ...and always at or under -50.5 dBFS (RMS 0.003), the noise of a quiet room.
pub const PAUSE_FLOOR_RMS: f32 = 0.003;

/// Cutting a live take into chunks: silent 20 dB below speech (a cut there
/// never splits a word)...
pub const CUT_BELOW_SPEECH_DB: f32 = 20.0;
/// ...and never above -30 dBFS (absolute quiet), ...
pub const CUT_CEILING_RMS: f32 = 0.0316;
/// ...in a noisy room 6 dB (twice the amplitude) above the background, ...
pub const CUT_ABOVE_BACKGROUND_DB: f32 = 6.0206;
/// ...but always at least 10 dB below speech, ...
pub const CUT_MIN_BELOW_SPEECH_DB: f32 = 10.0;
/// ...and never below -70 dBFS (digital silence is always silent).
pub const CUT_FLOOR_RMS: f32 = 3.16e-4;

/// A take "has speech" when some frame is louder than -40 dBFS (RMS 0.01):
/// quiet room noise stays below it, a voice at a normal distance does not.
/// Also the level meter's "too quiet" line (on the peak of 50 ms windows).
pub const SPEECH_RMS: f32 = 0.01;

/// Filled-pause analysis (YIN, in dB of frame power): frames 25 dB below the
/// take's speech are not analysed (too quiet for a reliable pitch)...
pub const VOICED_BELOW_SPEECH_DB: f64 = 25.0;
/// ...and nothing under -60 dB of power is.
pub const VOICED_FLOOR_DB: f64 = -60.0;

/// The RMS of a frame.
pub fn rms(frame: &[f32]) -> f32 {
    if frame.is_empty() {
        return 0.0;
    }
    (frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32).sqrt()
}

/// The RMS of each `frame`-sample frame (the last may be shorter).
pub fn frame_rms(samples: &[f32], frame: usize) -> Vec<f32> {
    samples.chunks(frame.max(1)).map(rms).collect()
}

/// Decibels to an amplitude ratio (20 dB = 10×).
pub fn db_to_ratio(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// The `q` quantile (0..=1) of `values` (lower element; 0 when empty).
pub fn percentile<T: Copy + PartialOrd + Default>(values: &[T], q: f64) -> T {
    if values.is_empty() {
        return T::default();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let idx = ((q * sorted.len() as f64) as usize).min(sorted.len() - 1);
    sorted[idx]
}

/// The levels of one stretch of audio, from its frames' RMS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    /// The loud frames (speech).
    pub speech: f32,
    /// The quietest frames (the room).
    pub background: f32,
}

impl Levels {
    pub fn of(frame_rms: &[f32]) -> Levels {
        Levels {
            speech: percentile(frame_rms, SPEECH_PERCENTILE),
            background: percentile(frame_rms, BACKGROUND_PERCENTILE),
        }
    }

    /// The RMS under which a frame is a pause (feedback's pauses and speaking time).
    pub fn pause_threshold(&self) -> f32 {
        (self.speech / db_to_ratio(PAUSE_BELOW_SPEECH_DB)).max(PAUSE_FLOOR_RMS)
    }

    /// The RMS under which a frame is a safe place to cut a live take.
    pub fn cut_threshold(&self) -> f32 {
        (self.speech / db_to_ratio(CUT_BELOW_SPEECH_DB))
            .min(CUT_CEILING_RMS)
            .max(self.background * db_to_ratio(CUT_ABOVE_BACKGROUND_DB))
            .min(self.speech / db_to_ratio(CUT_MIN_BELOW_SPEECH_DB))
            .max(CUT_FLOOR_RMS)
    }
}

/// Is any frame of `samples` louder than quiet room noise?
pub fn has_speech(samples: &[f32], frame: usize) -> bool {
    samples.chunks(frame.max(1)).any(|f| rms(f) > SPEECH_RMS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_keep_their_documented_values() {
        let levels = Levels { speech: 0.1, background: 0.0 };
        assert!((levels.pause_threshold() - 0.005).abs() < 1e-5);
        // Quiet speech: the absolute floor decides.
        assert_eq!(Levels { speech: 0.01, background: 0.0 }.pause_threshold(), PAUSE_FLOOR_RMS);
        // Cut: 20 dB below speech, capped at -30 dBFS.
        assert!((levels.cut_threshold() - 0.01).abs() < 1e-4);
        assert!((Levels { speech: 0.9, background: 0.0 }.cut_threshold() - CUT_CEILING_RMS).abs() < 1e-4);
        // Noisy room: 6 dB over the background, but 10 dB under speech.
        let noisy = Levels { speech: 0.2, background: 0.02 };
        assert!((noisy.cut_threshold() - 0.04).abs() < 1e-4, "{}", noisy.cut_threshold());
        let loud_noise = Levels { speech: 0.1, background: 0.05 };
        assert!((loud_noise.cut_threshold() - 0.0316).abs() < 1e-3, "{}", loud_noise.cut_threshold());
    }

    #[test]
    fn speech_is_louder_than_a_quiet_room() {
        assert!(!has_speech(&[0.002; 1600], 480));
        assert!(has_speech(&[0.2; 1600], 480));
        assert_eq!(percentile::<f32>(&[], 0.9), 0.0);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.9), 3.0);
    }
}
