//! Streaming resampling of mono audio to the 16 kHz whisper reads (rubato).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::util::SAMPLE_RATE;

#[derive(Debug, thiserror::Error)]
#[error("cannot resample from {rate} Hz: {reason}")]
pub struct ResampleError {
    pub rate: u32,
    pub reason: String,
}

/// Rates the resampler takes on either side. Its buffers are sized from the
/// ratio, so a hostile rate (a WAV header saying 1 Hz) must be an error, not
/// an allocation of gigabytes that aborts the process.
pub const RESAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// Takes mono chunks of any size at one rate and gives samples at another,
/// aligned with the input (the resampler's delay is dropped) and of the
/// exact length once flushed.
pub struct StreamResampler {
    inner: Option<Inner>,
    rate: u32,
}

/// The capture path: any rate to the 16 kHz whisper reads.
pub type To16k = StreamResampler;

struct Inner {
    resampler: Fft<f32>,
    pending: Vec<f32>,
    out_buf: Vec<f32>,
    in_total: u64,
    out_total: u64,
    skip: usize,
}

impl StreamResampler {
    /// From `in_rate` to 16 kHz.
    pub fn new(in_rate: u32) -> Result<StreamResampler, ResampleError> {
        StreamResampler::between(in_rate, SAMPLE_RATE)
    }

    pub fn between(in_rate: u32, out_rate: u32) -> Result<StreamResampler, ResampleError> {
        for (side, rate) in [("input", in_rate), ("output", out_rate)] {
            if !RESAMPLE_RATES.contains(&rate) {
                let (low, high) = (*RESAMPLE_RATES.start(), *RESAMPLE_RATES.end());
                let reason = format!("the {side} rate {rate} Hz is outside {low} to {high} Hz");
                return Err(ResampleError { rate: in_rate, reason });
            }
        }
        if in_rate == out_rate {
            return Ok(StreamResampler { inner: None, rate: in_rate });
        }
        let err = |e: &dyn std::fmt::Display| ResampleError { rate: in_rate, reason: e.to_string() };
        let resampler =
            Fft::<f32>::new(in_rate as usize, out_rate as usize, 1024, 1, FixedSync::Input).map_err(|e| err(&e))?;
        let out_buf = vec![0.0; resampler.output_frames_max()];
        let skip = resampler.output_delay();
        Ok(To16k {
            inner: Some(Inner {
                resampler,
                pending: Vec::with_capacity(in_rate as usize),
                out_buf,
                in_total: 0,
                out_total: 0,
                skip,
            }),
            rate: in_rate,
        })
    }

    pub fn input_rate(&self) -> u32 {
        self.rate
    }

    /// Appends the 16 kHz samples that `input` completes to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), ResampleError> {
        let rate = self.rate;
        let Some(inner) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            return Ok(());
        };
        let err = |e: &dyn std::fmt::Display| ResampleError { rate, reason: e.to_string() };
        inner.pending.extend_from_slice(input);
        inner.in_total += input.len() as u64;
        let mut pos = 0;
        while inner.pending.len() - pos >= inner.resampler.input_frames_next() {
            let need = inner.resampler.input_frames_next();
            let input = InterleavedSlice::new(&inner.pending[pos..], 1, need).map_err(|e| err(&e))?;
            let max_out = inner.resampler.output_frames_max();
            let mut output = InterleavedSlice::new_mut(&mut inner.out_buf, 1, max_out).map_err(|e| err(&e))?;
            let (used, written) =
                inner.resampler.process_into_buffer(&input, &mut output, None).map_err(|e| err(&e))?;
            pos += used;
            inner.emit(written, out);
        }
        inner.pending.drain(..pos);
        Ok(())
    }

    /// End of the stream: pushes the rest through and trims to the exact length.
    pub fn flush(&mut self, out: &mut Vec<f32>) -> Result<(), ResampleError> {
        let rate = self.rate;
        let Some(inner) = self.inner.as_mut() else { return Ok(()) };
        let err = |e: &dyn std::fmt::Display| ResampleError { rate, reason: e.to_string() };
        let want = (inner.in_total as f64 * inner.resampler.resample_ratio()).round() as u64;
        let mut rest = std::mem::take(&mut inner.pending);
        let start_len = out.len();
        while inner.out_total < want {
            let need = inner.resampler.input_frames_next();
            let n = rest.len().min(need);
            if rest.len() < need {
                rest.resize(need, 0.0);
            }
            let input = InterleavedSlice::new(&rest[..], 1, need).map_err(|e| err(&e))?;
            let max_out = inner.resampler.output_frames_max();
            let mut output = InterleavedSlice::new_mut(&mut inner.out_buf, 1, max_out).map_err(|e| err(&e))?;
            let indexing = Indexing::new().partial_len(n);
            let (_, written) =
                inner.resampler.process_into_buffer(&input, &mut output, Some(&indexing)).map_err(|e| err(&e))?;
            rest.drain(..n);
            inner.emit(written, out);
        }
        let overshoot = (inner.out_total - want) as usize;
        out.truncate((out.len() - overshoot).max(start_len));
        inner.resampler.reset();
        inner.in_total = 0;
        inner.out_total = 0;
        inner.skip = inner.resampler.output_delay();
        Ok(())
    }
}

impl Inner {
    fn emit(&mut self, written: usize, out: &mut Vec<f32>) {
        let dropped = self.skip.min(written);
        self.skip -= dropped;
        out.extend_from_slice(&self.out_buf[dropped..written]);
        self.out_total += (written - dropped) as u64;
    }
}

/// Resamples a whole clip to 16 kHz (files at other rates).
pub fn resample_clip(samples: &[f32], in_rate: u32) -> Result<Vec<f32>, ResampleError> {
    resample_clip_to(samples, in_rate, SAMPLE_RATE)
}

pub fn resample_clip_to(samples: &[f32], in_rate: u32, out_rate: u32) -> Result<Vec<f32>, ResampleError> {
    // Checks both rates before anything is sized from them.
    let mut resampler = StreamResampler::between(in_rate, out_rate)?;
    let expected = (samples.len() as u64).saturating_mul(u64::from(out_rate)) / u64::from(in_rate.max(1));
    let mut out = Vec::with_capacity(usize::try_from(expected).unwrap_or(0).saturating_add(16));
    resampler.push(samples, &mut out)?;
    resampler.flush(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frequency by zero crossings: robust and independent of the resampler.
    fn frequency(samples: &[f32], rate: u32) -> f64 {
        let crossings = samples.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        crossings as f64 * f64::from(rate) / samples.len() as f64
    }

    fn tone(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n).map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32 * 0.5).collect()
    }

    #[test]
    fn keeps_a_tones_frequency_and_length_at_common_rates() {
        for rate in [8_000, 22_050, 44_100, 48_000, 96_000] {
            let input = tone(440.0, rate, 2.0);
            // Feed in uneven chunks, as an audio callback does.
            let mut resampler = To16k::new(rate).expect("resampler");
            let mut out = Vec::new();
            for chunk in input.chunks(333) {
                resampler.push(chunk, &mut out).expect("push");
            }
            resampler.flush(&mut out).expect("flush");
            assert_eq!(out.len(), 32_000, "rate {rate}");
            let f = frequency(&out[1000..31_000], SAMPLE_RATE);
            assert!((f - 440.0).abs() < 2.0, "rate {rate}: {f} Hz");
            // Aligned with the input: the tone starts at the start.
            assert!(out[..40].iter().any(|s| s.abs() > 0.1), "rate {rate}: delayed output");
        }
    }

    #[test]
    fn refuses_rates_it_cannot_size_buffers_for() {
        for (from, to) in [(1, 16_000), (0, 16_000), (999, 16_000), (768_001, 16_000), (u32::MAX, 16_000)] {
            assert!(StreamResampler::between(from, to).is_err(), "{from} Hz -> {to} Hz");
            assert!(StreamResampler::between(to, from).is_err(), "{to} Hz -> {from} Hz");
            assert!(resample_clip_to(&[0.0; 64], from, to).is_err(), "clip {from} Hz -> {to} Hz");
        }
        // Even at the same rate: a caller must not size anything from it either.
        assert!(StreamResampler::between(1, 1).is_err());
        let err = resample_clip(&[0.0; 64], 1).map(|out| out.len()).expect_err("1 Hz refused");
        assert!(err.to_string().contains("outside 1000 to 768000 Hz"), "{err}");
        assert!(StreamResampler::between(8_000, 16_000).is_ok());
    }

    #[test]
    fn passes_16k_through() {
        let input = tone(300.0, 16_000, 0.5);
        assert_eq!(resample_clip(&input, 16_000).expect("clip"), input);
    }
}
