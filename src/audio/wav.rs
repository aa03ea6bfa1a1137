//! Crash-safe WAV takes: 16 kHz mono 16-bit, the header checkpointed at least
//! once a second, a marker beside the file while it is being recorded, and a
//! repair that rebuilds the header from the file size after a crash.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::util::SAMPLE_RATE;

pub fn take_spec() -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} is not a WAV file this app can repair: {reason}")]
    NotRepairable { path: PathBuf, reason: String },
    /// A header value outside what this app reads. Headers are untrusted, and
    /// buffers are sized from them: refused before anything is allocated.
    #[error("{path}: the WAV header's {field} is {value}, this app reads {accepted}")]
    Limit { path: PathBuf, field: &'static str, value: String, accepted: String },
}

/// Sample rates a take may have. Buffers are sized from the rate (a header
/// saying 1 Hz once made the resampler ask for 17 GB).
pub const TAKE_RATES: std::ops::RangeInclusive<u32> = 4_000..=384_000;
/// Channel counts read (every frame is averaged to mono).
pub const TAKE_CHANNELS: std::ops::RangeInclusive<u16> = 1..=32;
/// The longest take read, in seconds of audio at its own rate (4 hours).
pub const MAX_TAKE_S: u64 = 4 * 3600;
/// The smallest header before the samples (RIFF, a 16-byte fmt chunk, data).
const MIN_HEADER_LEN: u64 = 44;

fn limit(path: &Path, field: &'static str, value: String, accepted: String) -> WavError {
    WavError::Limit { path: path.to_owned(), field, value, accepted }
}

/// Refuses rates, channel counts and sample sizes outside what this app reads.
fn check_format(path: &Path, rate: u32, channels: u16, bits: u16, float: bool) -> Result<(), WavError> {
    if !TAKE_RATES.contains(&rate) {
        let accepted = format!("{} to {} Hz", TAKE_RATES.start(), TAKE_RATES.end());
        return Err(limit(path, "sample rate", format!("{rate} Hz"), accepted));
    }
    if !TAKE_CHANNELS.contains(&channels) {
        let accepted = format!("{} to {}", TAKE_CHANNELS.start(), TAKE_CHANNELS.end());
        return Err(limit(path, "channel count", channels.to_string(), accepted));
    }
    let bits_ok = if float { bits == 32 } else { matches!(bits, 8 | 16 | 24 | 32) };
    if !bits_ok {
        let value = format!("{bits} ({})", if float { "float" } else { "integer" });
        return Err(limit(path, "bits per sample", value, "8, 16, 24 or 32 (integer) or 32 (float)".into()));
    }
    Ok(())
}

/// Refuses a take longer than `MAX_TAKE_S` at its rate.
fn check_length(path: &Path, frames: u64, rate: u32) -> Result<(), WavError> {
    if frames > MAX_TAKE_S.saturating_mul(u64::from(rate)) {
        let value = format!("{:.0} s", frames as f64 / f64::from(rate.max(1)));
        return Err(limit(path, "length", value, format!("at most {} hours", MAX_TAKE_S / 3600)));
    }
    Ok(())
}

/// What the marker beside a take in progress says, so a take left
/// unfinished by a crash can be repaired and given back to whoever owns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TakeMarker {
    /// The recording process, so a take still being recorded (by another
    /// running instance) is never "recovered" under its feet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// When that process started (Linux: clock ticks after boot), so another
    /// process given the same pid later (after a reboot) is not taken for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_started: Option<u64>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Who the take belongs to, opaque to audio (the store writes its
    /// session and question here and reads them back at recovery).
    #[serde(flatten)]
    pub owner: serde_json::Map<String, serde_json::Value>,
}

/// The marker path for a take: `answer.wav` -> `answer.wav.recording`.
pub fn marker_path(wav: &Path) -> PathBuf {
    let mut name = wav.as_os_str().to_owned();
    name.push(".recording");
    PathBuf::from(name)
}

/// A file whose `flush` also makes the data durable, so hound's header
/// checkpoint (which flushes) survives a power cut, not only a kill.
struct DurableFile(File);

impl Write for DurableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl Seek for DurableFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

/// Writes one take. The header is rewritten every `checkpoint` so a killed
/// process leaves a file that plays up to the last checkpoint.
pub struct TakeWriter {
    path: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<DurableFile>>>,
    samples: u64,
    last_checkpoint: Instant,
    checkpoint: Duration,
}

impl TakeWriter {
    /// Creates the WAV (its header on disk at once) and then its marker
    /// (removed by `finish`): a marker never points at a missing file.
    pub fn create(path: &Path, marker: &TakeMarker) -> Result<TakeWriter, WavError> {
        let write_err = |e: &dyn std::fmt::Display| WavError::Write { path: path.to_owned(), reason: e.to_string() };
        let file = crate::util::atomic::private_options().read(true).open(path).map_err(|e| write_err(&e))?;
        let writer =
            hound::WavWriter::new(BufWriter::new(DurableFile(file)), take_spec()).map_err(|e| write_err(&e))?;
        let mut take = TakeWriter {
            path: path.to_owned(),
            writer: Some(writer),
            samples: 0,
            last_checkpoint: Instant::now(),
            checkpoint: Duration::from_millis(500),
        };
        take.checkpoint_now()?;
        if let Ok(mut open) = OPEN_TAKES.lock() {
            open.push(canonical(path));
        }
        let pid = std::process::id();
        let marker = TakeMarker { pid: Some(pid), pid_started: process_started(pid), ..marker.clone() };
        let marker_json = serde_json::to_vec(&marker).map_err(|e| write_err(&e))?;
        crate::util::atomic::write_atomic(&marker_path(path), &marker_json).map_err(|e| write_err(&e))?;
        Ok(take)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn duration_s(&self) -> f64 {
        self.samples as f64 / f64::from(SAMPLE_RATE)
    }

    /// Appends samples (-1.0..1.0) and checkpoints the header when it is due.
    pub fn write(&mut self, samples: &[f32]) -> Result<(), WavError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(WavError::Write { path: self.path.clone(), reason: "the take is already finished".into() });
        };
        for &s in samples {
            writer
                .write_sample(f32_to_i16(s))
                .map_err(|e| WavError::Write { path: self.path.clone(), reason: e.to_string() })?;
        }
        self.samples += samples.len() as u64;
        if self.last_checkpoint.elapsed() >= self.checkpoint {
            self.checkpoint_now()?;
        }
        Ok(())
    }

    /// Rewrites the header for what has been written so far and syncs it.
    pub fn checkpoint_now(&mut self) -> Result<(), WavError> {
        self.last_checkpoint = Instant::now();
        if let Some(writer) = self.writer.as_mut() {
            writer.flush().map_err(|e| WavError::Write { path: self.path.clone(), reason: e.to_string() })?;
        }
        Ok(())
    }

    /// Finalizes the header and removes the marker. On a write error the
    /// marker stays, so the start-up repair still rescues what is on disk.
    pub fn finish(mut self) -> Result<f64, WavError> {
        if let Some(writer) = self.writer.take() {
            writer.finalize().map_err(|e| WavError::Write { path: self.path.clone(), reason: e.to_string() })?;
        }
        let marker = marker_path(&self.path);
        match std::fs::remove_file(&marker) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(WavError::Write { path: marker, reason: e.to_string() }),
        }
        // Finished: no longer this process's. A take that never finishes
        // (an error) stays listed, so only the next start recovers it.
        if let Ok(mut open) = OPEN_TAKES.lock() {
            let path = canonical(&self.path);
            open.retain(|p| *p != path);
        }
        Ok(self.duration_s())
    }
}

/// The takes this process is writing now (by canonical path): recovery,
/// which runs beside recording, must never touch one (on any platform,
/// whatever the marker says).
static OPEN_TAKES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// Tests: forget a take whose writer was leaked, as a new process would.
#[cfg(test)]
pub fn forget_open_take(path: &Path) {
    let path = canonical(path);
    if let Ok(mut open) = OPEN_TAKES.lock() {
        open.retain(|p| *p != path);
    }
}

/// Is this process writing the take at `path` right now?
pub fn being_written_here(path: &Path) -> bool {
    let path = canonical(path);
    OPEN_TAKES.lock().map(|open| open.contains(&path)).unwrap_or(false)
}

impl Drop for TakeWriter {
    fn drop(&mut self) {
        // Dropped without finish (an error path): leave a playable file and the
        // marker, so the repair at start-up picks it up.
        if let Some(mut writer) = self.writer.take() {
            let _ = writer.flush();
        }
    }
}

pub fn f32_to_i16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

/// Result of repairing one take.
#[derive(Debug, Clone, PartialEq)]
pub struct Repaired {
    pub path: PathBuf,
    pub duration_s: f64,
    pub marker: Option<TakeMarker>,
}

/// Rebuilds the RIFF and data sizes of a WAV from its size on disk (a crash
/// leaves the sizes of the last checkpoint) and drops a torn last sample. A
/// file killed before its header reached the disk becomes an empty take.
/// The marker is read, not removed: the caller removes it once the take is
/// safely given back (`remove_marker`).
pub fn repair(path: &Path) -> Result<Repaired, WavError> {
    let marker =
        std::fs::read(marker_path(path)).ok().and_then(|bytes| serde_json::from_slice::<TakeMarker>(&bytes).ok());
    // The first bytes only; a file that is there but cannot be read is an
    // error, never an empty take (that would overwrite the recording).
    let mut head = Vec::with_capacity(44);
    match File::open(path) {
        Ok(file) => {
            file.take(44)
                .read_to_end(&mut head)
                .map_err(|e| WavError::Read { path: path.to_owned(), reason: e.to_string() })?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WavError::Read { path: path.to_owned(), reason: e.to_string() }),
    }
    if head.len() < 44 && (head.is_empty() || head.starts_with(b"RIFF")) {
        let write_err = |e: hound::Error| WavError::Write { path: path.to_owned(), reason: e.to_string() };
        hound::WavWriter::create(path, take_spec()).map_err(write_err)?.finalize().map_err(write_err)?;
        return Ok(Repaired { path: path.to_owned(), duration_s: 0.0, marker });
    }
    let bad = |reason: String| WavError::NotRepairable { path: path.to_owned(), reason };
    let io_err = |e: io::Error| WavError::Write { path: path.to_owned(), reason: e.to_string() };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| WavError::Read { path: path.to_owned(), reason: e.to_string() })?;
    let len = file.metadata().map_err(io_err)?.len();
    let mut head = vec![0u8; len.min(4096) as usize];
    file.read_exact(&mut head).map_err(io_err)?;
    if head.len() < 12 || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(bad("no RIFF/WAVE header".into()));
    }
    // Walk the chunks to the data chunk, noting the block size from fmt.
    let mut pos = 12usize;
    let mut block_align: u64 = 0;
    let mut channels = 0u16;
    let mut rate = 0u32;
    let mut format = 0u16;
    let mut bits = 0u16;
    let data_start = loop {
        if pos + 8 > head.len() {
            return Err(bad("no data chunk in the first 4 KiB".into()));
        }
        let id = &head[pos..pos + 4];
        let size = u32::from_le_bytes([head[pos + 4], head[pos + 5], head[pos + 6], head[pos + 7]]) as usize;
        if id == b"fmt " && pos + 8 + 16 <= head.len() {
            let fmt = &head[pos + 8..];
            format = u16::from_le_bytes([fmt[0], fmt[1]]);
            channels = u16::from_le_bytes([fmt[2], fmt[3]]);
            rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
            block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]]));
            bits = u16::from_le_bytes([fmt[14], fmt[15]]);
        }
        if id == b"data" {
            break pos + 8;
        }
        pos = pos.saturating_add(8).saturating_add(size).saturating_add(size & 1);
    };
    if block_align == 0 || rate == 0 || channels == 0 {
        return Err(bad("the fmt chunk is missing or invalid".into()));
    }
    // PCM, IEEE float and WAVE_FORMAT_EXTENSIBLE: what read_mono reads.
    const PCM: u16 = 1;
    const FLOAT: u16 = 3;
    const EXTENSIBLE: u16 = 0xfffe;
    if !matches!(format, PCM | FLOAT | EXTENSIBLE) {
        return Err(bad(format!("format tag {format:#06x} is not PCM or float")));
    }
    check_format(path, rate, channels, bits, format == FLOAT)?;
    // Whole frames of 1 to 4 bytes a sample, at least as wide as the bits.
    let sample_bytes = block_align / u64::from(channels);
    if !block_align.is_multiple_of(u64::from(channels)) || sample_bytes < u64::from(bits / 8) || sample_bytes > 4 {
        return Err(bad(format!("a block of {block_align} bytes does not fit {channels} channels of {bits} bits")));
    }
    let data_len = (len - data_start as u64) / block_align * block_align;
    let data_len_u32 = u32::try_from(data_len).map_err(|_| bad("over 4 GiB".into()))?;
    let riff_len = u32::try_from(data_start as u64 + data_len - 8).map_err(|_| bad("over 4 GiB".into()))?;
    file.set_len(data_start as u64 + data_len).map_err(io_err)?;
    file.seek(SeekFrom::Start(4)).map_err(io_err)?;
    file.write_all(&riff_len.to_le_bytes()).map_err(io_err)?;
    file.seek(SeekFrom::Start(data_start as u64 - 4)).map_err(io_err)?;
    file.write_all(&data_len_u32.to_le_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    let frames = data_len / block_align;
    Ok(Repaired { path: path.to_owned(), duration_s: frames as f64 / f64::from(rate), marker })
}

/// The take is safe: it is no longer unfinished.
pub fn remove_marker(wav: &Path) -> Result<(), WavError> {
    let marker_file = marker_path(wav);
    match std::fs::remove_file(&marker_file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(WavError::Write { path: marker_file, reason: e.to_string() }),
    }
}

/// Is the process that wrote a marker still running (and maybe still
/// recording)? This process counts too: its takes are never "recovered"
/// under its feet. A pid with another start time is another process.
pub fn recorder_alive(marker: &TakeMarker) -> bool {
    match (marker.pid, marker.pid_started) {
        (Some(pid), started) if pid != std::process::id() => {
            Path::new("/proc").join(pid.to_string()).exists() && (started.is_none() || process_started(pid) == started)
        }
        // Ours only with the same start time (markers before start times were
        // recorded cannot be told from a pid reused after a reboot).
        (Some(pid), Some(started)) => process_started(pid) == Some(started),
        _ => false,
    }
}

/// When a process started, from `/proc/PID/stat` (field 22, clock ticks
/// after boot); None where there is no /proc.
pub fn process_started(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Takes left unfinished under `dir` (recursively): WAVs with a marker.
/// Symbolic links are neither walked into nor reported: a link back to a
/// folder above made the walk endless, and takes are never links.
pub fn unfinished_takes(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    find_unfinished(dir, 0, &mut found);
    found.sort();
    found
}

/// Deeper than any session layout; stops a loop no link check can see (a bind mount).
const MAX_TAKE_DEPTH: usize = 16;

fn find_unfinished(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        // `DirEntry::file_type` does not follow links: a link is neither a dir nor a file here.
        let Ok(kind) = entry.file_type() else { continue };
        let path = entry.path();
        if kind.is_dir() {
            if depth < MAX_TAKE_DEPTH {
                find_unfinished(&path, depth + 1, found);
            }
        } else if kind.is_file()
            && let Some(wav) = path.to_str().and_then(|p| p.strip_suffix(".recording"))
        {
            found.push(PathBuf::from(wav));
        }
    }
}

/// Reads a take (any WAV hound reads, within the limits above) as mono f32
/// at its own rate. The header is untrusted: its rate, channels, sample size
/// and length are checked (the length against the file's size) before
/// anything is allocated from them, so a hostile header is an error, not
/// gigabytes of memory.
pub fn read_mono(path: &Path) -> Result<(Vec<f32>, u32), WavError> {
    let io_err = |e: io::Error| WavError::Read { path: path.to_owned(), reason: e.to_string() };
    let read_err = |e: hound::Error| WavError::Read { path: path.to_owned(), reason: e.to_string() };
    let file = File::open(path).map_err(io_err)?;
    let file_len = file.metadata().map_err(io_err)?.len();
    let mut reader = hound::WavReader::new(io::BufReader::new(file)).map_err(read_err)?;
    let spec = reader.spec();
    let float = spec.sample_format == hound::SampleFormat::Float;
    check_format(path, spec.sample_rate, spec.channels, spec.bits_per_sample, float)?;
    // Each sample takes at least bits/8 bytes of the file after its header.
    let declared = u64::from(reader.len()) * u64::from(spec.bits_per_sample / 8);
    let room = file_len.saturating_sub(MIN_HEADER_LEN);
    if declared > room {
        let accepted = format!("at most the {room} bytes a file of {file_len} bytes holds after its header");
        return Err(limit(path, "data length", format!("{declared} bytes"), accepted));
    }
    let frames = u64::from(reader.duration());
    check_length(path, frames, spec.sample_rate)?;
    let channels = usize::from(spec.channels);
    // Bounded by the file's size now, so reserving it is safe.
    let mut mono = Vec::with_capacity(usize::try_from(frames).unwrap_or(0));
    // Averaged frame by frame: no interleaved copy of the whole take.
    let (mut sum, mut in_frame) = (0.0f32, 0usize);
    let mut push = |v: f32| {
        sum += v;
        in_frame += 1;
        if in_frame == channels {
            mono.push(sum / channels as f32);
            sum = 0.0;
            in_frame = 0;
        }
    };
    if float {
        for sample in reader.samples::<f32>() {
            push(sample.map_err(read_err)?);
        }
    } else {
        let scale = 1.0 / (1i64 << (spec.bits_per_sample - 1)) as f32;
        for sample in reader.samples::<i32>() {
            push(sample.map_err(read_err)? as f32 * scale);
        }
    }
    Ok((mono, spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.05).sin() * 0.5).collect()
    }

    #[test]
    fn finished_take_reads_back_and_has_no_marker() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.wav");
        let mut writer = TakeWriter::create(&path, &TakeMarker::default()).expect("create");
        assert!(marker_path(&path).exists());
        writer.write(&tone(16_000)).expect("write");
        assert_eq!(writer.finish().expect("finish"), 1.0);
        assert!(!marker_path(&path).exists());
        let (samples, rate) = read_mono(&path).expect("read");
        assert_eq!((samples.len(), rate), (16_000, 16_000));
        assert!((samples[100] - tone(101)[100]).abs() < 1e-3);
    }

    #[test]
    fn an_abandoned_take_is_repaired_from_its_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("b.wav");
        let mut owner = serde_json::Map::new();
        owner.insert("session_id".into(), "s".into());
        let marker = TakeMarker { started_at: chrono::Utc::now(), pid: None, pid_started: None, owner };
        let mut writer = TakeWriter::create(&path, &marker).expect("create");
        writer.write(&tone(8_000)).expect("write");
        writer.checkpoint_now().expect("checkpoint");
        writer.write(&tone(8_000)).expect("write");
        // Simulate a crash: data flushed to the file, header not updated.
        if let Some(w) = writer.writer.as_mut() {
            w.flush().expect("flush");
        }
        std::mem::forget(writer);
        // Append a torn half sample, as a kill mid-write can leave.
        OpenOptions::new().append(true).open(&path).expect("open").write_all(&[7]).expect("append");
        assert_eq!(unfinished_takes(dir.path()), vec![path.clone()]);
        let repaired = repair(&path).expect("repair");
        assert_eq!(repaired.duration_s, 1.0);
        assert_eq!(
            repaired.marker,
            Some(TakeMarker {
                pid: Some(std::process::id()),
                pid_started: process_started(std::process::id()),
                ..marker
            })
        );
        remove_marker(&path).expect("remove marker");
        assert!(unfinished_takes(dir.path()).is_empty());
        let (samples, _) = read_mono(&path).expect("read");
        assert_eq!(samples.len(), 16_000);
    }

    #[test]
    fn a_header_that_says_empty_is_repaired() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.wav");
        let spec = take_spec();
        let mut w = hound::WavWriter::create(&path, spec).expect("create");
        for s in tone(4_000) {
            w.write_sample(f32_to_i16(s)).expect("write");
        }
        w.finalize().expect("finalize");
        // Zero the data length as hound leaves it before the first flush.
        let mut f = OpenOptions::new().write(true).open(&path).expect("open");
        f.seek(SeekFrom::Start(40)).expect("seek");
        f.write_all(&0u32.to_le_bytes()).expect("zero");
        drop(f);
        assert_eq!(repair(&path).expect("repair").duration_s, 0.25);
    }

    #[test]
    fn a_take_killed_before_its_header_is_an_empty_take() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("e.wav");
        std::fs::write(&path, b"").expect("write");
        assert_eq!(repair(&path).expect("repair").duration_s, 0.0);
        assert_eq!(read_mono(&path).expect("a valid empty WAV").0.len(), 0);
    }

    #[test]
    fn a_take_that_cannot_be_read_is_an_error_not_an_empty_take() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Reading a folder fails the way a failing disk does.
        let path = dir.path().join("unreadable.wav");
        std::fs::create_dir(&path).expect("dir");
        assert!(matches!(repair(&path), Err(WavError::Read { .. })), "{:?}", repair(&path));
        assert!(path.is_dir(), "left as it was");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_marker_names_its_recorder_by_pid_and_start_time() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().expect("sleep");
        let pid = child.id();
        let started = process_started(pid);
        assert!(started.is_some());
        let marker = TakeMarker { pid: Some(pid), pid_started: started, ..Default::default() };
        assert!(recorder_alive(&marker));
        // The same pid, but a process that started at another time (a
        // reboot gave the number to someone else): not our recorder.
        let other = TakeMarker { pid_started: started.map(|s| s + 1), ..marker.clone() };
        assert!(!recorder_alive(&other));
        let _ = child.kill();
        let _ = child.wait();
        assert!(!recorder_alive(&marker));
    }

    #[test]
    fn not_a_wav_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.wav");
        std::fs::write(&path, b"hello world, not audio").expect("write");
        assert!(matches!(repair(&path), Err(WavError::NotRepairable { .. })));
    }

    /// A PCM WAV with a 16-byte fmt chunk, its fields as given (hound reads
    /// any of them as long as they agree with each other).
    fn wav_bytes(channels: u16, rate: u32, bits: u16, data_len: u32, data: &[u8]) -> Vec<u8> {
        let block_align = channels.wrapping_mul(bits / 8);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"RIFF");
        bytes.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        bytes.extend_from_slice(b"WAVEfmt ");
        bytes.extend_from_slice(&16u32.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&channels.to_le_bytes());
        bytes.extend_from_slice(&rate.to_le_bytes());
        bytes.extend_from_slice(&rate.wrapping_mul(u32::from(block_align)).to_le_bytes());
        bytes.extend_from_slice(&block_align.to_le_bytes());
        bytes.extend_from_slice(&bits.to_le_bytes());
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&data_len.to_le_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    /// Overwrites `value` at `at` if the file is that long.
    fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
        if let Some(slot) = bytes.get_mut(at..at + value.len()) {
            slot.copy_from_slice(value);
        }
    }

    fn refused_field(result: Result<(Vec<f32>, u32), WavError>) -> &'static str {
        match result {
            Err(WavError::Limit { field, .. }) => field,
            other => panic!("expected a refused header field, got {other:?}"),
        }
    }

    #[test]
    fn a_header_saying_1_hz_is_refused_naming_the_file_and_field() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hostile.wav");
        let mut writer = TakeWriter::create(&path, &TakeMarker::default()).expect("create");
        writer.write(&tone(16_000)).expect("write");
        writer.finish().expect("finish");
        // 1 Hz, with the byte rate to match so the header is self-consistent.
        let mut bytes = std::fs::read(&path).expect("read");
        put(&mut bytes, 24, &1u32.to_le_bytes());
        put(&mut bytes, 28, &2u32.to_le_bytes());
        std::fs::write(&path, &bytes).expect("write");
        let err = read_mono(&path).expect_err("1 Hz is refused");
        assert!(matches!(err, WavError::Limit { field: "sample rate", .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("hostile.wav") && text.contains("1 Hz") && text.contains("4000 to 384000 Hz"), "{text}");
        assert!(matches!(repair(&path), Err(WavError::Limit { field: "sample rate", .. })), "{:?}", repair(&path));
        assert_eq!(std::fs::read(&path).expect("read"), bytes, "a refused take is left as it is");
    }

    #[test]
    fn header_fields_outside_the_limits_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("limits.wav");
        let cases: [(&str, Vec<u8>, &str); 6] = [
            ("rate 3999", wav_bytes(1, 3_999, 16, 20, &[0; 20]), "sample rate"),
            ("rate 384001", wav_bytes(1, 384_001, 16, 20, &[0; 20]), "sample rate"),
            ("33 channels", wav_bytes(33, 16_000, 16, 66 * 4, &[0; 66 * 4]), "channel count"),
            ("40 bits", wav_bytes(1, 16_000, 40, 50, &[0; 50]), "bits per sample"),
            // 1 GiB of samples claimed by a file of 144 bytes: never reserved.
            ("data length", wav_bytes(1, 16_000, 16, 1 << 30, &[0; 100]), "data length"),
            ("data length u32::MAX", wav_bytes(1, 16_000, 16, u32::MAX - 1, &[0; 100]), "data length"),
        ];
        for (name, bytes, field) in cases {
            std::fs::write(&path, &bytes).expect("write");
            assert_eq!(refused_field(read_mono(&path)), field, "{name}");
        }
        // Over 4 hours of 8-bit mono at 4 kHz, as a sparse file.
        let frames = MAX_TAKE_S * 4_000 + 2;
        let data_len = u32::try_from(frames).expect("fits");
        std::fs::write(&path, wav_bytes(1, 4_000, 8, data_len, &[])).expect("write");
        OpenOptions::new().write(true).open(&path).expect("open").set_len(44 + frames).expect("grow");
        assert_eq!(refused_field(read_mono(&path)), "length");
    }

    #[test]
    fn repair_refuses_header_fields_outside_the_limits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("limits.wav");
        for (bytes, field) in [
            (wav_bytes(1, 1, 16, 0, &[0; 100]), "sample rate"),
            (wav_bytes(40, 16_000, 16, 0, &[0; 100]), "channel count"),
            (wav_bytes(1, 16_000, 12, 0, &[0; 100]), "bits per sample"),
        ] {
            std::fs::write(&path, &bytes).expect("write");
            match repair(&path) {
                Err(WavError::Limit { field: refused, .. }) => assert_eq!(refused, field),
                other => panic!("{field}: expected a refusal, got {other:?}"),
            }
            assert_eq!(std::fs::read(&path).expect("read"), bytes, "{field}: left as it was");
        }
    }

    #[test]
    fn formats_within_the_limits_still_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ok.wav");
        // 8-bit stereo at the lowest rate: 0x80 is silence, 0xc0 half scale.
        let stereo = [0xc0, 0x80, 0xc0, 0x80, 0xc0, 0xc0, 0x80, 0x80];
        std::fs::write(&path, wav_bytes(2, 4_000, 8, 8, &stereo)).expect("write");
        assert_eq!(read_mono(&path).expect("8-bit stereo"), (vec![0.25, 0.25, 0.5, 0.0], 4_000));
        // 24-bit mono at the highest rate.
        std::fs::write(&path, wav_bytes(1, 384_000, 24, 6, &[0, 0, 0x40, 0, 0, 0xc0])).expect("write");
        assert_eq!(read_mono(&path).expect("24-bit"), (vec![0.5, -0.5], 384_000));
        // 32-bit float stereo, as hound writes it (WAVE_FORMAT_EXTENSIBLE).
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut writer = hound::WavWriter::create(&path, spec).expect("create");
        for s in [0.5f32, -0.25, 1.0, 0.0] {
            writer.write_sample(s).expect("write");
        }
        writer.finalize().expect("finalize");
        assert_eq!(read_mono(&path).expect("float"), (vec![0.125, 0.5], 48_000));
    }

    #[cfg(unix)]
    #[test]
    fn listing_unfinished_takes_never_follows_symlinks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sessions = dir.path().join("sessions");
        let session = sessions.join("s1");
        std::fs::create_dir_all(&session).expect("dirs");
        let take = session.join("q-1.wav");
        std::fs::write(&take, b"").expect("take");
        std::fs::write(marker_path(&take), b"{}").expect("marker");
        // A loop back up to sessions/, and a link to the marker: neither walked nor reported.
        std::os::unix::fs::symlink(&sessions, session.join("loop")).expect("loop link");
        std::os::unix::fs::symlink(marker_path(&take), sessions.join("linked.wav.recording")).expect("marker link");
        assert_eq!(unfinished_takes(&sessions), vec![take]);
    }

    mod properties {
        use super::super::*;
        use super::{put, tone};
        use proptest::prelude::*;

        /// A real take as `TakeWriter` writes it (0.1 s), made once.
        fn small_take() -> &'static [u8] {
            static TAKE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
            TAKE.get_or_init(|| {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("small.wav");
                let mut writer = TakeWriter::create(&path, &TakeMarker::default()).expect("create");
                writer.write(&tone(1_600)).expect("write");
                writer.finish().expect("finish");
                std::fs::read(&path).expect("read")
            })
        }

        #[derive(Debug, Clone)]
        enum Mutation {
            Flip(usize, u8),
            Replace(usize, u8),
            Truncate(usize),
            Append(Vec<u8>),
            /// The rate, and whether the byte rate is made to agree (so hound accepts it).
            Rate(u32, bool),
            Channels(u16),
            Bits(u16),
            DataLen(u32),
        }

        impl Mutation {
            fn apply(&self, bytes: &mut Vec<u8>) {
                match self {
                    Mutation::Flip(at, mask) => {
                        if let Some(byte) = bytes.get_mut(*at) {
                            *byte ^= *mask;
                        }
                    }
                    Mutation::Replace(at, value) => put(bytes, *at, &[*value]),
                    Mutation::Truncate(len) => bytes.truncate(*len),
                    Mutation::Append(extra) => bytes.extend_from_slice(extra),
                    Mutation::Rate(rate, agree) => {
                        put(bytes, 24, &rate.to_le_bytes());
                        if *agree && let Some(&[lo, hi]) = bytes.get(32..34) {
                            let byte_rate = rate.wrapping_mul(u32::from(u16::from_le_bytes([lo, hi])));
                            put(bytes, 28, &byte_rate.to_le_bytes());
                        }
                    }
                    Mutation::Channels(channels) => put(bytes, 22, &channels.to_le_bytes()),
                    Mutation::Bits(bits) => put(bytes, 34, &bits.to_le_bytes()),
                    Mutation::DataLen(len) => put(bytes, 40, &len.to_le_bytes()),
                }
            }
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            let rate =
                prop_oneof![Just(0u32), Just(1u32), Just(3_999u32), Just(384_001u32), Just(u32::MAX), any::<u32>()];
            prop_oneof![
                (0..44usize, 1..=255u8).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
                (0..44usize, any::<u8>()).prop_map(|(at, value)| Mutation::Replace(at, value)),
                (0..3_300usize).prop_map(Mutation::Truncate),
                prop::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
                (rate, any::<bool>()).prop_map(|(rate, agree)| Mutation::Rate(rate, agree)),
                prop_oneof![Just(0u16), Just(65_535u16), any::<u16>()].prop_map(Mutation::Channels),
                prop_oneof![Just(0u16), Just(12u16), Just(64u16), any::<u16>()].prop_map(Mutation::Bits),
                prop_oneof![Just(u32::MAX), any::<u32>()].prop_map(Mutation::DataLen),
            ]
        }

        /// Any successful read has a rate in the limits and no more samples
        /// than the file has bytes.
        fn check_read(path: &Path) -> Result<(), TestCaseError> {
            let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if let Ok((samples, rate)) = read_mono(path) {
                prop_assert!(TAKE_RATES.contains(&rate), "rate {rate}");
                prop_assert!(samples.len() as u64 <= file_len, "{} samples from {file_len} bytes", samples.len());
            }
            Ok(())
        }

        /// read_mono, repair, read_mono again: no panic, quick, and sane when Ok.
        fn check_file(bytes: &[u8]) -> Result<(), TestCaseError> {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("fuzz.wav");
            std::fs::write(&path, bytes).expect("write");
            let start = Instant::now();
            check_read(&path)?;
            if let Ok(repaired) = repair(&path) {
                let file_len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let most = file_len as f64 / f64::from(*TAKE_RATES.start());
                prop_assert!(
                    repaired.duration_s.is_finite() && (0.0..=most).contains(&repaired.duration_s),
                    "{} s from {file_len} bytes",
                    repaired.duration_s
                );
                check_read(&path)?;
            }
            prop_assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_bytes_never_panic(
                bytes in prop::collection::vec(any::<u8>(), 0..1_024),
                riff in any::<bool>(),
            ) {
                let mut bytes = bytes;
                if riff {
                    // Past the magic, so the fuzz reaches the chunks.
                    put(&mut bytes, 0, b"RIFF");
                    put(&mut bytes, 8, b"WAVEfmt ");
                }
                check_file(&bytes)?;
            }

            #[test]
            fn mutated_takes_never_panic_and_stay_bounded(mutations in prop::collection::vec(mutation(), 1..5)) {
                let mut bytes = small_take().to_vec();
                for mutation in &mutations {
                    mutation.apply(&mut bytes);
                }
                check_file(&bytes)?;
            }
        }
    }
}
