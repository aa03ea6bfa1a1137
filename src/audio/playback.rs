//! Replaying a take through cpal's output: play, pause, seek, and a playhead
//! the review screen follows word by word.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::resample::{ResampleError, resample_clip_to};
use super::wav::{WavError, read_mono};

#[derive(Debug, thiserror::Error)]
pub enum PlaybackError {
    #[error(
        "no audio output available ({0}): connect speakers or headphones, or start the sound server, then try again"
    )]
    NoOutput(String),
    #[error("the audio output cannot play this take: {0}")]
    Unsupported(String),
    #[error(transparent)]
    Read(#[from] WavError),
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

struct Shared {
    /// Mono samples at the output's rate.
    samples: Vec<f32>,
    position: AtomicUsize,
    playing: AtomicBool,
}

/// One take, ready to play on the default output.
pub struct Player {
    shared: Arc<Shared>,
    stream: cpal::Stream,
    rate: u32,
}

impl Player {
    /// Loads a WAV and opens the default output (paused at the start).
    pub fn open(path: &Path) -> Result<Player, PlaybackError> {
        let (samples, file_rate) = read_mono(path)?;
        let host = cpal::default_host();
        let device = host.default_output_device().ok_or_else(|| PlaybackError::NoOutput("no default output".into()))?;
        let supported = device.default_output_config().map_err(|e| PlaybackError::NoOutput(e.to_string()))?;
        let config: cpal::StreamConfig = supported.config();
        let rate = config.sample_rate;
        let samples = resample_clip_to(&samples, file_rate, rate)?;
        let shared = Arc::new(Shared { samples, position: AtomicUsize::new(0), playing: AtomicBool::new(false) });
        let stream = match supported.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, config, &shared),
            SampleFormat::F64 => build::<f64>(&device, config, &shared),
            SampleFormat::I16 => build::<i16>(&device, config, &shared),
            SampleFormat::I32 => build::<i32>(&device, config, &shared),
            SampleFormat::I24 => build::<cpal::I24>(&device, config, &shared),
            SampleFormat::I8 => build::<i8>(&device, config, &shared),
            SampleFormat::U8 => build::<u8>(&device, config, &shared),
            SampleFormat::U16 => build::<u16>(&device, config, &shared),
            SampleFormat::U32 => build::<u32>(&device, config, &shared),
            other => return Err(PlaybackError::Unsupported(format!("sample format {other}"))),
        }
        .map_err(|e| PlaybackError::NoOutput(e.to_string()))?;
        Ok(Player { shared, stream, rate })
    }

    pub fn play(&self) -> Result<(), PlaybackError> {
        if self.position_samples() >= self.shared.samples.len() {
            self.shared.position.store(0, Ordering::SeqCst);
        }
        self.shared.playing.store(true, Ordering::SeqCst);
        self.stream.play().map_err(|e| PlaybackError::NoOutput(e.to_string()))
    }

    pub fn pause(&self) {
        self.shared.playing.store(false, Ordering::SeqCst);
    }

    /// Jumps to `seconds` from the start (clamped to the take).
    pub fn seek(&self, seconds: f64) {
        let target = (seconds.max(0.0) * f64::from(self.rate)) as usize;
        self.shared.position.store(target.min(self.shared.samples.len()), Ordering::SeqCst);
    }

    pub fn is_playing(&self) -> bool {
        self.shared.playing.load(Ordering::SeqCst)
    }

    /// The playhead in seconds.
    pub fn position_s(&self) -> f64 {
        self.position_samples() as f64 / f64::from(self.rate)
    }

    pub fn duration_s(&self) -> f64 {
        self.shared.samples.len() as f64 / f64::from(self.rate)
    }

    fn position_samples(&self) -> usize {
        self.shared.position.load(Ordering::SeqCst)
    }
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    shared: &Arc<Shared>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let shared = Arc::clone(shared);
    device.build_output_stream(
        config,
        move |out: &mut [T], _: &cpal::OutputCallbackInfo| {
            let playing = shared.playing.load(Ordering::Relaxed);
            let start = shared.position.load(Ordering::Relaxed);
            let mut pos = start;
            for frame in out.chunks_mut(channels) {
                let sample = if playing && pos < shared.samples.len() {
                    pos += 1;
                    shared.samples[pos - 1]
                } else {
                    0.0
                };
                frame.fill(T::from_sample(sample));
            }
            if playing {
                // If the UI seeked meanwhile, its position wins.
                let _ = shared.position.compare_exchange(start, pos, Ordering::Relaxed, Ordering::Relaxed);
                if pos >= shared.samples.len() {
                    shared.playing.store(false, Ordering::Relaxed);
                }
            }
        },
        |err| log::warn!("audio output: {err}"),
        None,
    )
}
