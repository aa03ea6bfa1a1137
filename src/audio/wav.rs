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
    let data_start = loop {
        if pos + 8 > head.len() {
            return Err(bad("no data chunk in the first 4 KiB".into()));
        }
        let id = &head[pos..pos + 4];
        let size = u32::from_le_bytes([head[pos + 4], head[pos + 5], head[pos + 6], head[pos + 7]]) as usize;
        if id == b"fmt " && pos + 8 + 16 <= head.len() {
            let fmt = &head[pos + 8..];
            channels = u16::from_le_bytes([fmt[2], fmt[3]]);
            rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
            block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]]));
        }
        if id == b"data" {
            break pos + 8;
        }
        pos += 8 + size + (size & 1);
    };
    if block_align == 0 || rate == 0 || channels == 0 {
        return Err(bad("the fmt chunk is missing or invalid".into()));
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
pub fn unfinished_takes(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(unfinished_takes(&path));
        } else if let Some(wav) = path.to_str().and_then(|p| p.strip_suffix(".recording")) {
            found.push(PathBuf::from(wav));
        }
    }
    found.sort();
    found
}

/// Reads a take (any WAV hound reads) as mono f32 at its own rate.
pub fn read_mono(path: &Path) -> Result<(Vec<f32>, u32), WavError> {
    let read_err = |e: hound::Error| WavError::Read { path: path.to_owned(), reason: e.to_string() };
    let mut reader = hound::WavReader::open(path).map_err(read_err)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>().map_err(read_err)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1i64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<Result<_, _>>().map_err(read_err)?
        }
    };
    let mono = interleaved.chunks(channels).map(|frame| frame.iter().sum::<f32>() / frame.len() as f32).collect();
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
}
