//! Microphone capture with cpal into a crash-safe 16 kHz WAV take.
//!
//! The audio callback only downmixes into a lock-free ring buffer; a recorder
//! thread resamples, writes the take, measures the level and reports events.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, Sample, SampleFormat, SizedSample};
use ringbuf::HeapRb;
use ringbuf::traits::{Consumer, Producer, Split};

use super::resample::{ResampleError, To16k};
use super::wav::{TakeMarker, TakeWriter, WavError};
use crate::util::SAMPLE_RATE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Stable id (e.g. `alsa:pulse`), accepted by `--device`.
    pub id: String,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "no microphone available ({detail}): connect one, or start the sound server (PulseAudio/PipeWire), then try again; `interview-coach devices` lists inputs"
    )]
    NoDevice { detail: String },
    #[error("no input device \"{0}\": run `interview-coach devices` to list them")]
    UnknownDevice(String),
    #[error("the microphone \"{device}\" is busy (used by another program?): {detail}")]
    Busy { device: String, detail: String },
    #[error("no permission to use the microphone \"{device}\": {detail}")]
    PermissionDenied { device: String, detail: String },
    #[error("the microphone \"{device}\" cannot record in a format this app reads: {detail}")]
    Unsupported { device: String, detail: String },
    #[error("the microphone \"{device}\" was lost while recording ({detail}); the take was kept up to that moment")]
    DeviceLost { device: String, detail: String },
    #[error("recording stopped: {0}; the take was kept up to that moment")]
    Write(#[from] WavError),
    #[error("cannot start recording: {0}")]
    Create(WavError),
    #[error("{0}")]
    Resample(#[from] ResampleError),
    #[error("audio error on \"{device}\": {detail}")]
    Backend { device: String, detail: String },
    #[error("cannot play {path} as a microphone: {detail}")]
    SourceFile { path: String, detail: String },
}

/// Maps a cpal error from opening a device to what the user should know.
pub fn open_error(device: &str, err: &cpal::Error) -> CaptureError {
    let device = device.to_owned();
    let detail = err.to_string();
    match err.kind() {
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => CaptureError::NoDevice { detail },
        ErrorKind::DeviceBusy => CaptureError::Busy { device, detail },
        ErrorKind::PermissionDenied => CaptureError::PermissionDenied { device, detail },
        ErrorKind::UnsupportedConfig | ErrorKind::UnsupportedOperation | ErrorKind::InvalidInput => {
            CaptureError::Unsupported { device, detail }
        }
        // ALSA without a server behind "default" fails with a backend error.
        _ => CaptureError::NoDevice { detail: format!("\"{device}\": {detail}") },
    }
}

/// What an error reported while recording means: stop (device gone) or go on.
pub fn stream_error_is_fatal(err: &cpal::Error) -> bool {
    !matches!(err.kind(), ErrorKind::Xrun | ErrorKind::DeviceChanged | ErrorKind::RealtimeDenied)
}

/// While alive, ALSA's own error messages on this thread go to a buffer
/// instead of the terminal; our errors say what went wrong instead.
struct QuietAlsa {
    #[cfg(target_os = "linux")]
    _handler: Option<std::rc::Rc<std::cell::RefCell<alsa::Output>>>,
}

impl QuietAlsa {
    fn new() -> QuietAlsa {
        QuietAlsa {
            #[cfg(target_os = "linux")]
            _handler: alsa::Output::local_error_handler().ok(),
        }
    }
}

/// ALSA plug-ins that are not microphones (resamplers, mixers, sinks).
const NOT_MICROPHONES: [&str; 11] =
    ["null", "lavrate", "samplerate", "speexrate", "jack", "oss", "speex", "upmix", "vdownmix", "a52", "usbstream"];

fn is_plausible_microphone(info: &DeviceInfo) -> bool {
    let pcm = info.id.strip_prefix("alsa:").unwrap_or(&info.id);
    let base = pcm.split(':').next().unwrap_or(pcm);
    !NOT_MICROPHONES.contains(&base)
}

/// Lists input devices. The first entry is the system default.
pub fn input_devices() -> Result<Vec<DeviceInfo>, CaptureError> {
    let _quiet = QuietAlsa::new();
    let host = cpal::default_host();
    let mut devices = Vec::new();
    if let Some(device) = host.default_input_device() {
        devices.push(describe(&device));
    }
    let inputs = host.input_devices().map_err(|e| open_error("(all)", &e))?;
    for device in inputs {
        let info = describe(&device);
        if !devices.iter().any(|d| d.id == info.id) && is_plausible_microphone(&info) {
            devices.push(info);
        }
    }
    Ok(devices)
}

fn describe(device: &cpal::Device) -> DeviceInfo {
    let id = device.id().map(|id| id.to_string()).unwrap_or_else(|_| device.to_string());
    let name = device.description().map(|d| d.name().to_owned()).unwrap_or_else(|_| device.to_string());
    DeviceInfo { id, name }
}

fn find_device(wanted: Option<&str>) -> Result<(cpal::Device, DeviceInfo), CaptureError> {
    let host = cpal::default_host();
    let Some(wanted) = wanted else {
        let device = host
            .default_input_device()
            .ok_or_else(|| CaptureError::NoDevice { detail: "the system reports no default input".into() })?;
        let info = describe(&device);
        return Ok((device, info));
    };
    let mut candidates: Vec<cpal::Device> = host.default_input_device().into_iter().collect();
    candidates.extend(host.input_devices().map_err(|e| open_error(wanted, &e))?);
    candidates
        .into_iter()
        .map(|d| {
            let info = describe(&d);
            (d, info)
        })
        .find(|(_, info)| info.id == wanted || info.name == wanted || info.id.strip_prefix("alsa:") == Some(wanted))
        .ok_or_else(|| CaptureError::UnknownDevice(wanted.to_owned()))
}

/// Live level of the input, about 20 times a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub rms: f32,
    pub peak: f32,
    /// Seconds of audio recorded so far.
    pub elapsed_s: f64,
    /// Nothing above a whisper for the last two seconds.
    pub too_quiet: bool,
    /// The signal hit full scale in this window.
    pub clipping: bool,
}

#[derive(Debug)]
pub enum CaptureEvent {
    Started {
        device: String,
        sample_rate: u32,
        channels: u16,
        format: String,
    },
    Level(Level),
    /// The take is closed. On error, what was captured is kept on disk.
    Finished(Result<Take, (Take, CaptureError)>),
    /// The take could not even start (no device, ...); no file is left.
    FailedToStart(CaptureError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Take {
    pub path: PathBuf,
    pub duration_s: f64,
    /// Samples (at 16 kHz) lost because the recorder fell behind (should be 0).
    pub dropped_samples: u64,
}

impl Take {
    /// Said when the recorder fell behind and the take has gaps.
    pub fn dropped_warning(&self) -> Option<String> {
        (self.dropped_samples > 0).then(|| {
            format!(
                "{:.1} s of audio were lost because the machine was too busy (the disk or the CPU); the rest of the take is kept",
                self.dropped_samples as f64 / f64::from(SAMPLE_RATE)
            )
        })
    }
}

/// Where a take's audio comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A microphone by name or id (`None`: the system default).
    Device(Option<String>),
    /// A recording played as if spoken into a microphone, in real time
    /// times `speed`, followed by silence until the take is stopped (tests,
    /// and replaying a talk through the whole pipeline).
    File { path: PathBuf, speed: f64 },
}

/// Receives a take's 16 kHz audio on the recorder's own thread, as it is
/// written (the live transcriber is fed from here, not through the UI).
pub trait TakeSink: Send {
    fn audio(&mut self, samples: &[f32]);
    /// The take is closed and complete on disk (also after an error).
    fn finished(&mut self, take: &Take);
}

pub struct RecordOptions {
    pub source: Source,
    pub out: PathBuf,
    pub marker: TakeMarker,
    /// Stop by itself after this long (the CLI's `--seconds`).
    pub max_seconds: Option<f64>,
    pub sink: Option<Box<dyn TakeSink>>,
}

/// A recording in progress. Stop it with `stop`; events arrive on `events`.
pub struct Recorder {
    stop: Arc<AtomicBool>,
    pub events: Receiver<CaptureEvent>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Starts recording on a thread of its own and returns at once; the first
    /// event says whether it started. `notify` runs after every event (the
    /// UI passes its repaint request).
    pub fn start(options: RecordOptions, notify: Arc<dyn Fn() + Send + Sync>) -> Recorder {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, events) = mpsc::channel();
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                let send = |event: CaptureEvent| {
                    let _ = tx.send(event);
                    notify();
                };
                record(options, &thread_stop, &send);
            })
            .ok();
        if thread.is_none() {
            // Could not even spawn a thread: report it as an event like any other.
            let (tx, rx) = mpsc::channel();
            let _ = tx.send(CaptureEvent::FailedToStart(CaptureError::Backend {
                device: String::new(),
                detail: "cannot start the recorder thread".into(),
            }));
            return Recorder { stop, events: rx, thread: None };
        }
        Recorder { stop, events, thread }
    }

    /// Asks the recorder to stop; the `Finished` event follows.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Stops and waits for the take to be closed.
    pub fn stop_and_wait(mut self) {
        self.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Downmixes interleaved frames of any sample type to mono f32 and hands each
/// sample on. Used in the audio callback: no allocation.
pub fn downmix<T>(data: &[T], channels: usize, mut push: impl FnMut(f32))
where
    T: Sample,
    f32: FromSample<T>,
{
    let channels = channels.max(1);
    let scale = 1.0 / channels as f32;
    for frame in data.chunks(channels) {
        let sum: f32 = frame.iter().map(|s| s.to_sample::<f32>()).sum();
        push(sum * scale);
    }
}

type SampleProducer = <HeapRb<f32> as Split>::Prod;

fn build_stream<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut producer: SampleProducer,
    dropped: Arc<AtomicU64>,
    errors: Sender<cpal::Error>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels);
    device.build_input_stream(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            let mut lost = 0u64;
            downmix(data, channels, |s| {
                if producer.try_push(s).is_err() {
                    lost += 1;
                }
            });
            if lost > 0 {
                dropped.fetch_add(lost, Ordering::Relaxed);
            }
        },
        move |err| {
            let _ = errors.send(err);
        },
        None,
    )
}

fn record(mut options: RecordOptions, stop: &AtomicBool, send: &dyn Fn(CaptureEvent)) {
    let _quiet = QuietAlsa::new();
    let started = match &options.source {
        Source::Device(device) => open(device.as_deref()),
        Source::File { path, speed } => open_file(path, *speed),
    };
    let started = match started {
        Ok(started) => started,
        Err(err) => return send(CaptureEvent::FailedToStart(err)),
    };
    let Opened { stream, mut consumer, errors, dropped, device, sample_rate, channels, format } = started;
    let mut resampler = match To16k::new(sample_rate) {
        Ok(r) => r,
        Err(err) => return send(CaptureEvent::FailedToStart(err.into())),
    };
    let mut writer = match TakeWriter::create(&options.out, &options.marker) {
        Ok(w) => w,
        Err(err) => return send(CaptureEvent::FailedToStart(CaptureError::Create(err))),
    };
    if let Err(err) = stream.play() {
        drop(writer);
        let _ = std::fs::remove_file(&options.out);
        let _ = std::fs::remove_file(super::wav::marker_path(&options.out));
        return send(CaptureEvent::FailedToStart(open_error(&device, &err)));
    }
    let play_requested = Instant::now();
    // "Started" goes out with the first audio, not when the stream is asked to
    // play: some devices take a moment, and the clock must not run before them.
    let mut started = Some(CaptureEvent::Started { device: device.clone(), sample_rate, channels, format });

    let mut raw = vec![0.0f32; sample_rate as usize]; // up to 1 s per pop
    let mut out16 = Vec::with_capacity(SAMPLE_RATE as usize);
    let mut meter = Meter::new();
    let mut failure: Option<CaptureError> = None;
    let max_samples = options.max_seconds.map(|s| (s * f64::from(SAMPLE_RATE)).round() as u64);
    let mut written: u64 = 0;
    let mut draining = false;
    let mut last_audio = Instant::now();
    loop {
        if !draining {
            if stop.load(Ordering::SeqCst) || max_samples.is_some_and(|m| written >= m) {
                draining = true;
            }
            while let Ok(err) = errors.try_recv() {
                if stream_error_is_fatal(&err) {
                    failure = Some(CaptureError::DeviceLost { device: device.clone(), detail: err.to_string() });
                    draining = true;
                } else {
                    log::warn!("audio input on {device}: {err}");
                }
            }
            if draining {
                // Stop the callback; what is in the ring buffer is still written.
                let _ = stream.pause();
            }
        }
        let n = consumer.pop_slice(&mut raw);
        if n > 0 {
            last_audio = Instant::now();
            if let Some(event) = started.take() {
                send(event);
            }
        } else if started.is_none() && !draining && last_audio.elapsed() > STALL_TIMEOUT {
            // The device (or the sound server) stopped sending audio without
            // an error: end the take rather than let its clock stand still.
            failure = Some(CaptureError::DeviceLost {
                device: device.clone(),
                detail: format!("it sent no audio for {} s", STALL_TIMEOUT.as_secs()),
            });
            draining = true;
            let _ = stream.pause();
        } else if started.is_some() && !draining && play_requested.elapsed() > NO_AUDIO_TIMEOUT {
            failure = Some(CaptureError::NoDevice {
                detail: format!("\"{device}\" sent no audio for {} s", NO_AUDIO_TIMEOUT.as_secs()),
            });
            draining = true;
            let _ = stream.pause();
        }
        out16.clear();
        if let Err(err) = resampler.push(&raw[..n], &mut out16) {
            failure.get_or_insert(err.into());
            break;
        }
        if draining
            && n == 0
            && let Err(err) = resampler.flush(&mut out16)
        {
            failure.get_or_insert(err.into());
        }
        if let Some(max) = max_samples {
            let room = max.saturating_sub(written) as usize;
            out16.truncate(room);
        }
        if !out16.is_empty() {
            if let Err(err) = writer.write(&out16) {
                failure.get_or_insert(err.into());
                break;
            }
            written += out16.len() as u64;
            if let Some(sink) = options.sink.as_mut() {
                sink.audio(&out16);
            }
            for level in meter.feed(&out16, written) {
                send(CaptureEvent::Level(level));
            }
        }
        if draining && n == 0 {
            break;
        }
        if n == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let take = Take {
        path: options.out.clone(),
        duration_s: written as f64 / f64::from(SAMPLE_RATE),
        // Counted at the device's rate; the take's rate is 16 kHz.
        dropped_samples: dropped.load(Ordering::Relaxed) * u64::from(SAMPLE_RATE) / u64::from(sample_rate.max(1)),
    };
    let finished = match writer.finish() {
        Ok(_) => take,
        // The header could not be finalized: the marker stays, so the take is
        // repaired from its size at the next start.
        Err(err) => {
            failure.get_or_insert(err.into());
            take
        }
    };
    if let Some(sink) = options.sink.as_mut() {
        sink.finished(&finished);
    }
    match failure {
        None => send(CaptureEvent::Finished(Ok(finished))),
        Some(err) => send(CaptureEvent::Finished(Err((finished, err)))),
    }
    // Closed last: a stalled sound server can keep this waiting for many
    // seconds, and the take is already safe and reported.
    drop(stream);
}

struct Opened {
    stream: Input,
    consumer: <HeapRb<f32> as Split>::Cons,
    errors: Receiver<cpal::Error>,
    dropped: Arc<AtomicU64>,
    device: String,
    sample_rate: u32,
    channels: u16,
    format: String,
}

/// What delivers samples into the ring buffer: a cpal stream, or a file
/// played in real time by a feeder thread.
enum Input {
    Device(cpal::Stream),
    File { playing: Arc<AtomicBool>, ended: Arc<AtomicBool> },
}

impl Input {
    fn play(&self) -> Result<(), cpal::Error> {
        match self {
            Input::Device(stream) => stream.play(),
            Input::File { playing, .. } => {
                playing.store(true, Ordering::SeqCst);
                Ok(())
            }
        }
    }

    fn pause(&self) -> Result<(), cpal::Error> {
        match self {
            Input::Device(stream) => stream.pause(),
            Input::File { playing, .. } => {
                playing.store(false, Ordering::SeqCst);
                Ok(())
            }
        }
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        if let Input::File { ended, .. } = self {
            ended.store(true, Ordering::SeqCst);
        }
    }
}

/// A file as a microphone: its samples (mono, at its own rate) are pushed
/// into the ring buffer at `speed` times real time in 10 ms blocks, then
/// silence, as a quiet room would send.
fn open_file(path: &std::path::Path, speed: f64) -> Result<Opened, CaptureError> {
    let name = path.display().to_string();
    let (samples, sample_rate) = super::wav::read_mono(path)
        .map_err(|e| CaptureError::SourceFile { path: name.clone(), detail: e.to_string() })?;
    let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
    let (mut producer, consumer) = HeapRb::<f32>::new(sample_rate as usize * 4).split();
    let (_err_tx, errors) = mpsc::channel();
    let playing = Arc::new(AtomicBool::new(false));
    let ended = Arc::new(AtomicBool::new(false));
    let (feeder_playing, feeder_ended) = (Arc::clone(&playing), Arc::clone(&ended));
    let block = (sample_rate as usize / 100).max(1);
    let spawned = std::thread::Builder::new().name("file-microphone".into()).spawn(move || {
        let silence = vec![0.0f32; block];
        let mut pos = 0;
        let start = Instant::now();
        let mut sent = 0usize;
        while !feeder_ended.load(Ordering::SeqCst) {
            if !feeder_playing.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            // Keep pace with the clock: as much as `speed` real time allows.
            let due = (start.elapsed().as_secs_f64() * speed * f64::from(sample_rate)) as usize;
            while sent + block <= due {
                let piece = samples.get(pos..(pos + block).min(samples.len())).filter(|p| !p.is_empty());
                let piece = piece.unwrap_or(&silence);
                pos += piece.len();
                producer.push_slice(piece);
                sent += block;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    if let Err(err) = spawned {
        return Err(CaptureError::SourceFile { path: name, detail: format!("cannot start its player thread: {err}") });
    }
    Ok(Opened {
        stream: Input::File { playing, ended },
        consumer,
        errors,
        dropped: Arc::new(AtomicU64::new(0)),
        device: name,
        sample_rate,
        channels: 1,
        format: "file".into(),
    })
}

fn open(device_name: Option<&str>) -> Result<Opened, CaptureError> {
    let (device, info) = find_device(device_name)?;
    let name = info.name.clone();
    let supported = device.default_input_config().map_err(|e| open_error(&name, &e))?;
    let format = supported.sample_format();
    let mut config: cpal::StreamConfig = supported.config();
    let sample_rate = config.sample_rate;
    // A short buffer (about 20 ms): the default can be seconds long (ALSA's
    // PulseAudio plug-in), and what sits in it is lost if the app is killed.
    if let cpal::SupportedBufferSize::Range { min, max } = *supported.buffer_size() {
        config.buffer_size = cpal::BufferSize::Fixed((sample_rate / 50).max(min).min(max.max(min)));
    }
    // Four seconds of slack: the recorder drains every 10 ms.
    let (producer, consumer) = HeapRb::<f32>::new(sample_rate as usize * 4).split();
    let (err_tx, errors) = mpsc::channel();
    let dropped = Arc::new(AtomicU64::new(0));
    let d = Arc::clone(&dropped);
    let stream = match format {
        SampleFormat::I8 => build_stream::<i8>(&device, config, producer, d, err_tx),
        SampleFormat::I16 => build_stream::<i16>(&device, config, producer, d, err_tx),
        SampleFormat::I24 => build_stream::<cpal::I24>(&device, config, producer, d, err_tx),
        SampleFormat::I32 => build_stream::<i32>(&device, config, producer, d, err_tx),
        SampleFormat::I64 => build_stream::<i64>(&device, config, producer, d, err_tx),
        SampleFormat::U8 => build_stream::<u8>(&device, config, producer, d, err_tx),
        SampleFormat::U16 => build_stream::<u16>(&device, config, producer, d, err_tx),
        SampleFormat::U24 => build_stream::<cpal::U24>(&device, config, producer, d, err_tx),
        SampleFormat::U32 => build_stream::<u32>(&device, config, producer, d, err_tx),
        SampleFormat::U64 => build_stream::<u64>(&device, config, producer, d, err_tx),
        SampleFormat::F32 => build_stream::<f32>(&device, config, producer, d, err_tx),
        SampleFormat::F64 => build_stream::<f64>(&device, config, producer, d, err_tx),
        other => {
            return Err(CaptureError::Unsupported { device: name, detail: format!("sample format {other}") });
        }
    }
    .map_err(|e| open_error(&name, &e))?;
    Ok(Opened {
        stream: Input::Device(stream),
        consumer,
        errors,
        dropped,
        device: name,
        sample_rate,
        channels: config.channels,
        format: format.to_string(),
    })
}

/// A device that has sent nothing by then is treated as absent.
const NO_AUDIO_TIMEOUT: Duration = Duration::from_secs(5);
/// A device that stops sending audio mid-take for this long is treated as
/// lost (audio arrives every few tens of milliseconds while it works).
const STALL_TIMEOUT: Duration = Duration::from_secs(4);

/// Level metering over 50 ms windows of 16 kHz audio.
struct Meter {
    window: Vec<f32>,
    quiet_since: Option<u64>,
    last_loud: Instant,
}

const METER_WINDOW: usize = SAMPLE_RATE as usize / 20;
/// Below this peak for 2 s the input is "too quiet": no speech (-40 dBFS).
const QUIET_PEAK: f32 = crate::util::level::SPEECH_RMS;
const CLIP_PEAK: f32 = 0.99;

impl Meter {
    fn new() -> Meter {
        Meter { window: Vec::with_capacity(METER_WINDOW), quiet_since: Some(0), last_loud: Instant::now() }
    }

    fn feed(&mut self, samples: &[f32], written: u64) -> Vec<Level> {
        let mut levels = Vec::new();
        let first = written - samples.len() as u64;
        for (i, &s) in samples.iter().enumerate() {
            self.window.push(s);
            if self.window.len() == METER_WINDOW {
                let at = first + i as u64 + 1;
                let peak = self.window.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                let rms = (self.window.iter().map(|s| s * s).sum::<f32>() / METER_WINDOW as f32).sqrt();
                if peak >= QUIET_PEAK {
                    self.quiet_since = None;
                    self.last_loud = Instant::now();
                } else if self.quiet_since.is_none() {
                    self.quiet_since = Some(at);
                }
                let too_quiet = self.quiet_since.is_some_and(|since| at - since >= 2 * u64::from(SAMPLE_RATE));
                levels.push(Level {
                    rms,
                    peak,
                    elapsed_s: at as f64 / f64::from(SAMPLE_RATE),
                    too_quiet,
                    clipping: peak >= CLIP_PEAK,
                });
                self.window.clear();
            }
        }
        levels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mono<T>(data: &[T], channels: usize) -> Vec<f32>
    where
        T: Sample,
        f32: FromSample<T>,
    {
        let mut out = Vec::new();
        downmix(data, channels, |s| out.push(s));
        out
    }

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-3)
    }

    #[test]
    fn every_sample_format_converts_to_f32() {
        let expect = [-1.0, 0.0, 0.5];
        assert!(close(&mono(&[-1.0f32, 0.0, 0.5], 1), &expect));
        assert!(close(&mono(&[-1.0f64, 0.0, 0.5], 1), &expect));
        assert!(close(&mono(&[i8::MIN, 0, 64], 1), &expect));
        assert!(close(&mono(&[i16::MIN, 0, 16_384], 1), &expect));
        assert!(close(&mono(&[i32::MIN, 0, 1 << 30], 1), &expect));
        assert!(close(&mono(&[i64::MIN, 0, 1 << 62], 1), &expect));
        let i24 =
            [cpal::I24::new(-(1 << 23)), cpal::I24::new(0), cpal::I24::new(1 << 22)].map(|s| s.expect("in range"));
        assert!(close(&mono(&i24, 1), &expect));
        assert!(close(&mono(&[0u8, 128, 192], 1), &expect));
        assert!(close(&mono(&[0u16, 32_768, 49_152], 1), &expect));
        let u24 = [cpal::U24::new(0), cpal::U24::new(1 << 23), cpal::U24::new(3 << 22)].map(|s| s.expect("in range"));
        assert!(close(&mono(&u24, 1), &expect));
        assert!(close(&mono(&[0u32, 1 << 31, 3 << 30], 1), &expect));
        assert!(close(&mono(&[0u64, 1 << 63, 3 << 62], 1), &expect));
    }

    #[test]
    fn channels_are_averaged() {
        assert!(close(&mono(&[0.2f32, 0.4, -1.0, 1.0], 2), &[0.3, 0.0]));
        assert!(close(&mono(&[i16::MAX, i16::MAX, i16::MAX, 0, 0, 0], 3), &[1.0, 0.0]));
    }

    #[test]
    fn open_errors_say_what_to_do() {
        let no_device = open_error("default", &cpal::Error::new(ErrorKind::DeviceNotAvailable));
        assert!(matches!(no_device, CaptureError::NoDevice { .. }));
        let message = no_device.to_string();
        assert!(
            message.contains("no microphone available") && message.contains("interview-coach devices"),
            "{message}"
        );
        assert!(matches!(open_error("mic", &cpal::Error::new(ErrorKind::DeviceBusy)), CaptureError::Busy { .. }));
        assert!(matches!(
            open_error("mic", &cpal::Error::new(ErrorKind::UnsupportedConfig)),
            CaptureError::Unsupported { .. }
        ));
    }

    #[test]
    fn losing_the_device_mid_take_is_fatal_but_an_overrun_is_not() {
        assert!(stream_error_is_fatal(&cpal::Error::new(ErrorKind::DeviceNotAvailable)));
        assert!(stream_error_is_fatal(&cpal::Error::new(ErrorKind::StreamInvalidated)));
        assert!(!stream_error_is_fatal(&cpal::Error::new(ErrorKind::Xrun)));
        let lost = CaptureError::DeviceLost { device: "USB mic".into(), detail: "unplugged".into() };
        assert!(lost.to_string().contains("the take was kept"));
    }

    #[test]
    fn meter_reports_twenty_levels_a_second_with_hints() {
        let mut meter = Meter::new();
        let quiet = vec![0.001f32; 16_000 * 3];
        let levels = meter.feed(&quiet, quiet.len() as u64);
        assert_eq!(levels.len(), 60);
        assert!(!levels[10].too_quiet && levels[59].too_quiet);
        let loud = vec![1.0f32; 1600];
        let levels = meter.feed(&loud, (quiet.len() + loud.len()) as u64);
        assert!(levels.iter().all(|l| l.clipping && !l.too_quiet));
        assert!((levels[1].elapsed_s - 3.1).abs() < 1e-9);
    }
}
