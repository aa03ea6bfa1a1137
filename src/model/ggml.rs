//! whisper.cpp's ggml model files: the layout (shared with the converter in
//! `convert.rs`) and [`validate`], which walks a whole file before it is
//! handed to whisper.cpp, so a bad or half-downloaded model gives a clear
//! error instead of an abort or a crash inside C++.
//!
//! The layout (little-endian), as whisper.cpp's `models/convert-pt-to-ggml.py`
//! writes it and `whisper_model_load` (whisper.cpp `src/whisper.cpp`) reads it:
//! - u32 magic `0x67676d6c` ("ggml");
//! - 11 × i32 hparams: n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
//!   n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer,
//!   n_mels, ftype (quantization version × 1000 + `ggml_ftype`);
//! - mel filters: i32 n_mel, i32 n_fft (201), then n_mel × n_fft f32;
//! - vocabulary: i32 count, then per token a u32 length and the bytes
//!   (whisper.cpp adds the special tokens itself);
//! - tensors until the end of the file: i32 n_dims, i32 name length,
//!   i32 `ggml_type`, n_dims × i32 dims (innermost first: reversed from the
//!   numpy/PyTorch order), the name, then the data.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// "ggml" as a little-endian u32 (`GGML_FILE_MAGIC`).
pub(crate) const MAGIC: u32 = 0x6767_6d6c;
/// "GGUF" as a little-endian u32: the newer container whisper.cpp does not read.
const GGUF_MAGIC: u32 = 0x4655_4747;
/// hparams.ftype = quantization version × this + `ggml_ftype` (`GGML_QNT_VERSION_FACTOR`).
pub(crate) const QNT_VERSION_FACTOR: i32 = 1000;
/// The newest quantization format the vendored ggml knows (`GGML_QNT_VERSION`).
pub(crate) const QNT_VERSION: i32 = 2;
/// Frequency bins of the mel filters: 1 + WHISPER_N_FFT / 2 (whisper.cpp asserts this).
pub(crate) const N_FFT_BINS: i32 = 201;
/// English-only whisper models have this many tokens; multilingual ones more.
pub(crate) const N_VOCAB_ENGLISH: i32 = 51_864;
/// whisper.cpp calls a model multilingual from this vocabulary size on.
const N_VOCAB_MULTILINGUAL: i32 = 51_865;
/// Magic plus the 11 hparams.
const HEADER_BYTES: u64 = 4 + 11 * 4;
/// Tensor header before the dims: n_dims, name length, type.
const TENSOR_HEAD_BYTES: u64 = 12;
/// whisper.cpp reads dims into an `int32_t ne[4]`.
const MAX_DIMS: i32 = 4;
/// Longer names than any whisper tensor has; bounds the loader's allocation.
const MAX_NAME_LEN: i32 = 256;
/// GPT-2 tokens are at most 128 bytes; bounds the loader's allocation.
const MAX_TOKEN_LEN: u32 = 1024;

/// What a valid model file holds, for the UI and the logs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub n_vocab: u32,
    pub n_audio_state: u32,
    pub n_audio_layer: u32,
    pub n_text_layer: u32,
    pub n_mels: u32,
    /// The weight format without the quantization version (`ggml_ftype`):
    /// 0 f32, 1 f16, 2 q4_0, 3 q4_1, 7 q8_0, 8 q5_0, 9 q5_1, 10–14 q2_K–q6_K, 24 bf16.
    pub ftype: u32,
    pub tensors: usize,
    pub file_size: u64,
    /// "tiny", "base", "small", "medium", "large", "large-v3", "large-v3-turbo",
    /// or "custom (…)" for other shapes (e.g. distilled models).
    pub kind: String,
    /// True for the `.en` models (51864 tokens); false for multilingual ones.
    pub english_only: bool,
}

impl ModelInfo {
    /// The weight format's ggml name ("f16", "q5_0", …).
    pub fn weight_type(&self) -> &'static str {
        i32::try_from(self.ftype).ok().and_then(TensorType::from_ftype).map_or("unknown", TensorType::name)
    }

    /// A short description for people: "tiny.en, f16", "large-v3, q5_0",
    /// "custom (…), English-only, f16".
    pub fn describe(&self) -> String {
        let name = match (self.english_only, self.kind.contains(' ')) {
            (true, false) => format!("{}.en", self.kind),
            (true, true) => format!("{}, English-only", self.kind),
            (false, _) => self.kind.clone(),
        };
        format!("{name}, {}", self.weight_type())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {path} does not exist")]
    NotFound { path: PathBuf },
    #[error("cannot read model file {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error(
        "{path} is not a whisper model in ggml format (it does not start with \"ggml\"); \
         use a ggml-*.bin model made for whisper.cpp, or convert a faster-whisper model"
    )]
    NotGgml { path: PathBuf },
    #[error("model file {path} is truncated ({have} of {need} bytes); download it again")]
    Truncated { path: PathBuf, have: u64, need: u64 },
    #[error("model file {path} is not a valid whisper model: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// A ggml tensor type used by whisper models (values of `enum ggml_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TensorType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
    Bf16,
}

impl TensorType {
    const ALL: [TensorType; 13] = [
        TensorType::F32,
        TensorType::F16,
        TensorType::Q4_0,
        TensorType::Q4_1,
        TensorType::Q5_0,
        TensorType::Q5_1,
        TensorType::Q8_0,
        TensorType::Q2K,
        TensorType::Q3K,
        TensorType::Q4K,
        TensorType::Q5K,
        TensorType::Q6K,
        TensorType::Bf16,
    ];

    /// The `ggml_type` value written in tensor headers.
    pub(crate) fn id(self) -> i32 {
        match self {
            TensorType::F32 => 0,
            TensorType::F16 => 1,
            TensorType::Q4_0 => 2,
            TensorType::Q4_1 => 3,
            TensorType::Q5_0 => 6,
            TensorType::Q5_1 => 7,
            TensorType::Q8_0 => 8,
            TensorType::Q2K => 10,
            TensorType::Q3K => 11,
            TensorType::Q4K => 12,
            TensorType::Q5K => 13,
            TensorType::Q6K => 14,
            TensorType::Bf16 => 30,
        }
    }

    pub(crate) fn from_id(id: i32) -> Option<TensorType> {
        TensorType::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The weight type of a file type (hparams ftype without the quantization
    /// version), as ggml's `ggml_ftype_to_ggml_type` maps it. whisper.cpp
    /// aborts on a value that has no mapping, so those are refused here.
    pub(crate) fn from_ftype(ftype: i32) -> Option<TensorType> {
        Some(match ftype {
            0 => TensorType::F32,
            1 => TensorType::F16,
            2 => TensorType::Q4_0,
            3 => TensorType::Q4_1,
            7 => TensorType::Q8_0,
            8 => TensorType::Q5_0,
            9 => TensorType::Q5_1,
            10 => TensorType::Q2K,
            11 => TensorType::Q3K,
            12 => TensorType::Q4K,
            13 => TensorType::Q5K,
            14 => TensorType::Q6K,
            24 => TensorType::Bf16,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            TensorType::F32 => "f32",
            TensorType::F16 => "f16",
            TensorType::Q4_0 => "q4_0",
            TensorType::Q4_1 => "q4_1",
            TensorType::Q5_0 => "q5_0",
            TensorType::Q5_1 => "q5_1",
            TensorType::Q8_0 => "q8_0",
            TensorType::Q2K => "q2_K",
            TensorType::Q3K => "q3_K",
            TensorType::Q4K => "q4_K",
            TensorType::Q5K => "q5_K",
            TensorType::Q6K => "q6_K",
            TensorType::Bf16 => "bf16",
        }
    }

    /// (elements per block, bytes per block), from the block structs in ggml's
    /// `ggml-common.h` (QK4_0 = QK5_0 = QK8_0 = 32, QK_K = 256).
    pub(crate) fn block(self) -> (u64, u64) {
        match self {
            TensorType::F32 => (1, 4),
            TensorType::F16 | TensorType::Bf16 => (1, 2),
            TensorType::Q4_0 => (32, 18), // f16 d + 16 nibble bytes
            TensorType::Q4_1 => (32, 20), // f16 d, m + 16
            TensorType::Q5_0 => (32, 22), // f16 d + u32 high bits + 16
            TensorType::Q5_1 => (32, 24), // f16 d, m + u32 + 16
            TensorType::Q8_0 => (32, 34), // f16 d + 32 bytes
            TensorType::Q2K => (256, 84),
            TensorType::Q3K => (256, 110),
            TensorType::Q4K => (256, 144),
            TensorType::Q5K => (256, 176),
            TensorType::Q6K => (256, 210),
        }
    }
}

/// The 11 header integers, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    pub ftype: i32,
}

impl Hparams {
    pub(crate) fn to_array(self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    pub(crate) fn from_array(a: [i32; 11]) -> Hparams {
        Hparams {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }

    /// Checks the ranges whisper.cpp relies on (it asserts or allocates from
    /// these without checking) and returns the type of the big weights.
    pub(crate) fn check(&self) -> Result<TensorType, String> {
        fn range(what: &str, v: i32, lo: i32, hi: i32) -> Result<(), String> {
            if (lo..=hi).contains(&v) { Ok(()) } else { Err(format!("{what} is {v}, expected {lo} to {hi}")) }
        }
        // whisper.cpp hard-codes the special token ids (50256…50363 and up),
        // so a smaller vocabulary would index past the logits.
        if !(N_VOCAB_ENGLISH..=52_000).contains(&self.n_vocab) {
            return Err(format!(
                "n_vocab is {}, but whisper vocabularies have 51864 (English-only) to 51866 tokens",
                self.n_vocab
            ));
        }
        range("n_audio_state", self.n_audio_state, 1, 8192)?;
        if self.n_text_state != self.n_audio_state {
            return Err(format!(
                "n_text_state ({}) differs from n_audio_state ({}); whisper.cpp needs them equal",
                self.n_text_state, self.n_audio_state
            ));
        }
        range("n_audio_layer", self.n_audio_layer, 1, 128)?;
        range("n_text_layer", self.n_text_layer, 1, 128)?;
        range("n_audio_ctx", self.n_audio_ctx, 1, 16_384)?;
        range("n_text_ctx", self.n_text_ctx, 1, 16_384)?;
        range("n_mels", self.n_mels, 1, 512)?;
        for (what, heads) in [("n_audio_head", self.n_audio_head), ("n_text_head", self.n_text_head)] {
            range(what, heads, 1, self.n_audio_state)?;
            if self.n_audio_state % heads != 0 {
                return Err(format!("{what} ({heads}) does not divide the width {}", self.n_audio_state));
            }
        }
        if self.ftype < 0 {
            return Err(format!("ftype is {}, expected a non-negative number", self.ftype));
        }
        let qntvr = self.ftype / QNT_VERSION_FACTOR;
        let base = self.ftype % QNT_VERSION_FACTOR;
        if qntvr > QNT_VERSION {
            return Err(format!(
                "it uses quantization format version {qntvr}, newer than this app's whisper.cpp reads ({QNT_VERSION})"
            ));
        }
        let wtype = TensorType::from_ftype(base)
            .ok_or_else(|| format!("weight format (ftype) {base} is not one whisper.cpp can load"))?;
        let (block, _) = wtype.block();
        if !(self.n_audio_state as u64).is_multiple_of(block) {
            return Err(format!(
                "{} weights come in blocks of {block}, which the width {} is not a multiple of",
                wtype.name(),
                self.n_audio_state
            ));
        }
        Ok(wtype)
    }
}

/// One tensor whisper.cpp expects: its name, ggml dims (innermost first) and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TensorSpec {
    pub name: String,
    pub ne: Vec<u64>,
    pub ttype: TensorType,
}

impl TensorSpec {
    pub(crate) fn n_elements(&self) -> u64 {
        self.ne.iter().product()
    }

    /// Bytes of data (whole blocks: `Hparams::check` makes row lengths fit).
    pub(crate) fn data_bytes(&self) -> u64 {
        let (block, bytes) = self.ttype.block();
        self.n_elements() / block * bytes
    }

    /// Bytes of header plus data in the file.
    pub(crate) fn file_bytes(&self) -> u64 {
        TENSOR_HEAD_BYTES + 4 * self.ne.len() as u64 + self.name.len() as u64 + self.data_bytes()
    }
}

/// The tensors `whisper_model_load` creates, with the names of whisper.cpp's
/// `ASR_TENSOR_NAMES` (whisper-arch.h) and the shapes and types it gives
/// them: biases, layer norms, positional embeddings and the conv biases are
/// f32; the conv kernels f16 (f32 in an all-f32 model); the matrices and the
/// token embedding `wtype`. A file must hold exactly these: whisper.cpp
/// refuses unknown tensors (e.g. a key bias) and missing ones.
pub(crate) fn expected_tensors(h: &Hparams, wtype: TensorType) -> Vec<TensorSpec> {
    fn dim(v: i32) -> u64 {
        u64::try_from(v).unwrap_or(0)
    }
    fn push(out: &mut Vec<TensorSpec>, name: String, ne: &[u64], ttype: TensorType) {
        out.push(TensorSpec { name, ne: ne.to_vec(), ttype });
    }
    fn block(out: &mut Vec<TensorSpec>, p: &str, cross: bool, s: u64, wtype: TensorType) {
        let f32t = TensorType::F32;
        push(out, format!("{p}.mlp_ln.weight"), &[s], f32t);
        push(out, format!("{p}.mlp_ln.bias"), &[s], f32t);
        push(out, format!("{p}.mlp.0.weight"), &[s, 4 * s], wtype);
        push(out, format!("{p}.mlp.0.bias"), &[4 * s], f32t);
        push(out, format!("{p}.mlp.2.weight"), &[4 * s, s], wtype);
        push(out, format!("{p}.mlp.2.bias"), &[s], f32t);
        push(out, format!("{p}.attn_ln.weight"), &[s], f32t);
        push(out, format!("{p}.attn_ln.bias"), &[s], f32t);
        push(out, format!("{p}.attn.query.weight"), &[s, s], wtype);
        push(out, format!("{p}.attn.query.bias"), &[s], f32t);
        push(out, format!("{p}.attn.key.weight"), &[s, s], wtype);
        push(out, format!("{p}.attn.value.weight"), &[s, s], wtype);
        push(out, format!("{p}.attn.value.bias"), &[s], f32t);
        push(out, format!("{p}.attn.out.weight"), &[s, s], wtype);
        push(out, format!("{p}.attn.out.bias"), &[s], f32t);
        if cross {
            push(out, format!("{p}.cross_attn_ln.weight"), &[s], f32t);
            push(out, format!("{p}.cross_attn_ln.bias"), &[s], f32t);
            push(out, format!("{p}.cross_attn.query.weight"), &[s, s], wtype);
            push(out, format!("{p}.cross_attn.query.bias"), &[s], f32t);
            push(out, format!("{p}.cross_attn.key.weight"), &[s, s], wtype);
            push(out, format!("{p}.cross_attn.value.weight"), &[s, s], wtype);
            push(out, format!("{p}.cross_attn.value.bias"), &[s], f32t);
            push(out, format!("{p}.cross_attn.out.weight"), &[s, s], wtype);
            push(out, format!("{p}.cross_attn.out.bias"), &[s], f32t);
        }
    }

    let s = dim(h.n_audio_state);
    let f32t = TensorType::F32;
    let vtype = if wtype == TensorType::F32 { TensorType::F32 } else { TensorType::F16 };
    let mut out = Vec::new();
    push(&mut out, "encoder.positional_embedding".into(), &[s, dim(h.n_audio_ctx)], f32t);
    push(&mut out, "encoder.conv1.weight".into(), &[3, dim(h.n_mels), s], vtype);
    push(&mut out, "encoder.conv1.bias".into(), &[1, s], f32t);
    push(&mut out, "encoder.conv2.weight".into(), &[3, s, s], vtype);
    push(&mut out, "encoder.conv2.bias".into(), &[1, s], f32t);
    push(&mut out, "encoder.ln_post.weight".into(), &[s], f32t);
    push(&mut out, "encoder.ln_post.bias".into(), &[s], f32t);
    for i in 0..h.n_audio_layer.max(0) {
        block(&mut out, &format!("encoder.blocks.{i}"), false, s, wtype);
    }
    push(&mut out, "decoder.positional_embedding".into(), &[s, dim(h.n_text_ctx)], f32t);
    push(&mut out, "decoder.token_embedding.weight".into(), &[s, dim(h.n_vocab)], wtype);
    push(&mut out, "decoder.ln.weight".into(), &[s], f32t);
    push(&mut out, "decoder.ln.bias".into(), &[s], f32t);
    for i in 0..h.n_text_layer.max(0) {
        block(&mut out, &format!("decoder.blocks.{i}"), true, s, wtype);
    }
    out
}

/// Writes the magic and the hparams.
pub(crate) fn write_header(w: &mut impl Write, h: &Hparams) -> io::Result<()> {
    w.write_all(&MAGIC.to_le_bytes())?;
    for v in h.to_array() {
        w.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}

/// Writes one tensor header (the data follows it).
pub(crate) fn write_tensor_header(w: &mut impl Write, t: &TensorSpec) -> io::Result<()> {
    let too_big = || io::Error::new(io::ErrorKind::InvalidInput, format!("tensor {} is too large", t.name));
    let n_dims = i32::try_from(t.ne.len()).map_err(|_| too_big())?;
    let name_len = i32::try_from(t.name.len()).map_err(|_| too_big())?;
    w.write_all(&n_dims.to_le_bytes())?;
    w.write_all(&name_len.to_le_bytes())?;
    w.write_all(&t.ttype.id().to_le_bytes())?;
    for &d in &t.ne {
        let d = i32::try_from(d).map_err(|_| too_big())?;
        w.write_all(&d.to_le_bytes())?;
    }
    w.write_all(t.name.as_bytes())
}

/// A buffered file reader that knows the file's size, so running out of bytes
/// is reported as "have X, need Y" instead of a bare end-of-file, and large
/// spans are skipped with a seek. Shared with the converter's CT2 reader.
pub(crate) struct SizedReader {
    inner: BufReader<File>,
    pos: u64,
    size: u64,
}

pub(crate) enum ReadError {
    /// The file ends before `need` bytes (`need` > `have`).
    Short {
        have: u64,
        need: u64,
    },
    Io(io::Error),
}

impl SizedReader {
    pub(crate) fn new(file: File, size: u64) -> SizedReader {
        SizedReader { inner: BufReader::with_capacity(64 * 1024, file), pos: 0, size }
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    /// Fails with `Short` when fewer than `n` bytes remain; `need` is the file
    /// size to report as needed (raised to at least the end of this read).
    pub(crate) fn ensure(&self, n: u64, need: u64) -> Result<(), ReadError> {
        if n <= self.remaining() {
            Ok(())
        } else {
            Err(ReadError::Short { have: self.size, need: need.max(self.pos.saturating_add(n)) })
        }
    }

    pub(crate) fn read_into(&mut self, buf: &mut [u8], need: u64) -> Result<(), ReadError> {
        self.ensure(buf.len() as u64, need)?;
        self.inner.read_exact(buf).map_err(ReadError::Io)?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    pub(crate) fn bytes(&mut self, n: u64, need: u64) -> Result<Vec<u8>, ReadError> {
        self.ensure(n, need)?;
        let len = usize::try_from(n).map_err(|_| ReadError::Io(io::Error::other("length too large")))?;
        let mut buf = vec![0u8; len];
        self.read_into(&mut buf, need)?;
        Ok(buf)
    }

    pub(crate) fn u8(&mut self, need: u64) -> Result<u8, ReadError> {
        let mut b = [0u8; 1];
        self.read_into(&mut b, need)?;
        Ok(b[0])
    }

    pub(crate) fn u16(&mut self, need: u64) -> Result<u16, ReadError> {
        let mut b = [0u8; 2];
        self.read_into(&mut b, need)?;
        Ok(u16::from_le_bytes(b))
    }

    pub(crate) fn u32(&mut self, need: u64) -> Result<u32, ReadError> {
        let mut b = [0u8; 4];
        self.read_into(&mut b, need)?;
        Ok(u32::from_le_bytes(b))
    }

    pub(crate) fn i32(&mut self, need: u64) -> Result<i32, ReadError> {
        let mut b = [0u8; 4];
        self.read_into(&mut b, need)?;
        Ok(i32::from_le_bytes(b))
    }

    /// Moves `n` bytes ahead without reading them.
    pub(crate) fn skip(&mut self, n: u64, need: u64) -> Result<(), ReadError> {
        self.ensure(n, need)?;
        let offset = i64::try_from(n).map_err(|_| ReadError::Io(io::Error::other("offset too large")))?;
        self.inner.seek_relative(offset).map_err(ReadError::Io)?;
        self.pos += n;
        Ok(())
    }
}

/// Checks that `path` is a whisper model whisper.cpp can load: the magic, the
/// hparams (sane ranges), the mel filters, the vocabulary, then every tensor
/// header against the tensors whisper.cpp expects (name, shape, type) and
/// each tensor's data size against the file's length. Data is skipped with
/// seeks, so this is quick even for large models.
pub fn validate(path: &Path) -> Result<ModelInfo, ModelError> {
    let invalid = |reason: String| ModelError::Invalid { path: path.to_path_buf(), reason };
    let io_err = |e: io::Error| ModelError::Io { path: path.to_path_buf(), reason: e.to_string() };
    let read_err = |e: ReadError| match e {
        ReadError::Short { have, need } => ModelError::Truncated { path: path.to_path_buf(), have, need },
        ReadError::Io(e) => ModelError::Io { path: path.to_path_buf(), reason: e.to_string() },
    };

    let file = File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound { ModelError::NotFound { path: path.to_path_buf() } } else { io_err(e) }
    })?;
    let meta = file.metadata().map_err(io_err)?;
    if meta.is_dir() {
        return Err(invalid("it is a folder, not a model file".into()));
    }
    let size = meta.len();
    if size < 4 {
        return Err(ModelError::NotGgml { path: path.to_path_buf() });
    }
    let mut r = SizedReader::new(file, size);

    let magic = r.u32(4).map_err(read_err)?;
    if magic == GGUF_MAGIC {
        return Err(invalid(
            "it is a GGUF file; whisper.cpp reads whisper models in the ggml .bin format (ggml-*.bin)".into(),
        ));
    }
    if magic != MAGIC {
        return Err(ModelError::NotGgml { path: path.to_path_buf() });
    }

    let mut a = [0i32; 11];
    for v in &mut a {
        *v = r.i32(HEADER_BYTES).map_err(read_err)?;
    }
    let h = Hparams::from_array(a);
    let wtype = h.check().map_err(invalid)?;
    let tensors = expected_tensors(&h, wtype);
    let tensors_total: u64 = tensors.iter().map(TensorSpec::file_bytes).sum();

    // Mel filters. While the file is short, report (at least) what the rest
    // needs: the filters, the token count, and the tensors (known from the hparams).
    let mel_bytes = h.n_mels as u64 * N_FFT_BINS as u64 * 4;
    let mel_need = r.pos() + 8 + mel_bytes + 4 + tensors_total;
    let n_mel = r.i32(mel_need).map_err(read_err)?;
    let n_fft = r.i32(mel_need).map_err(read_err)?;
    if n_mel != h.n_mels {
        return Err(invalid(format!("the mel filters have {n_mel} bands but the model has {}", h.n_mels)));
    }
    if n_fft != N_FFT_BINS {
        return Err(invalid(format!("the mel filters have {n_fft} frequency bins, whisper.cpp needs {N_FFT_BINS}")));
    }
    r.skip(mel_bytes, mel_need).map_err(read_err)?;

    // Vocabulary: lengths are read, token bytes skipped.
    let n_tokens = r.i32(r.pos() + 4 + tensors_total).map_err(read_err)?;
    if !(0..=h.n_vocab).contains(&n_tokens) {
        return Err(invalid(format!("the vocabulary has {n_tokens} tokens, expected at most {}", h.n_vocab)));
    }
    let n_tokens = n_tokens as u64;
    for i in 0..n_tokens {
        let rest = 4 * (n_tokens - i) + tensors_total;
        let len = r.u32(r.pos() + rest).map_err(read_err)?;
        if len > MAX_TOKEN_LEN {
            return Err(invalid(format!("token {i} is {len} bytes long; whisper tokens are short")));
        }
        let len = u64::from(len);
        r.skip(len, r.pos() + len + rest - 4).map_err(read_err)?;
    }

    // Tensors, in any order, each exactly once.
    let index: HashMap<&str, usize> = tensors.iter().enumerate().map(|(i, t)| (t.name.as_str(), i)).collect();
    let mut seen = vec![false; tensors.len()];
    let mut n_seen = 0usize;
    // Header and data bytes of the tensors not seen yet.
    let mut missing = tensors_total;
    loop {
        let start = r.pos();
        let remaining = r.remaining();
        if remaining == 0 {
            break;
        }
        if remaining < TENSOR_HEAD_BYTES && n_seen == tensors.len() {
            // whisper.cpp stops at a short read here, so a few stray bytes are harmless.
            log::warn!("{}: {remaining} stray bytes after the last tensor", path.display());
            break;
        }
        let need = start + missing;
        let n_dims = r.i32(need).map_err(read_err)?;
        let name_len = r.i32(need).map_err(read_err)?;
        let type_id = r.i32(need).map_err(read_err)?;
        if !(1..=MAX_DIMS).contains(&n_dims) {
            return Err(invalid(format!(
                "the tensor at byte {start} has {n_dims} dimensions, whisper tensors have 1 to {MAX_DIMS}"
            )));
        }
        if !(1..=MAX_NAME_LEN).contains(&name_len) {
            return Err(invalid(format!("the tensor at byte {start} has a name of {name_len} bytes")));
        }
        let ttype = TensorType::from_id(type_id)
            .ok_or_else(|| invalid(format!("the tensor at byte {start} has unknown type {type_id}")))?;
        let mut ne = [1u64; MAX_DIMS as usize];
        for d in ne.iter_mut().take(n_dims as usize) {
            let v = r.i32(need).map_err(read_err)?;
            if v < 1 {
                return Err(invalid(format!("the tensor at byte {start} has a dimension of {v}")));
            }
            *d = v as u64;
        }
        let name = r.bytes(name_len as u64, need).map_err(read_err)?;
        let name =
            String::from_utf8(name).map_err(|_| invalid(format!("the tensor name at byte {start} is not text")))?;
        let Some(&i) = index.get(name.as_str()) else {
            return Err(invalid(format!("unknown tensor \"{name}\" (at byte {start}); whisper.cpp would refuse it")));
        };
        if seen[i] {
            return Err(invalid(format!("tensor \"{name}\" appears twice (again at byte {start})")));
        }
        let spec = &tensors[i];
        let mut want = [1u64; MAX_DIMS as usize];
        for (w, &d) in want.iter_mut().zip(&spec.ne) {
            *w = d;
        }
        if ne != want {
            return Err(invalid(format!(
                "tensor \"{name}\" has shape {:?}, this model needs {:?}",
                &ne[..n_dims as usize],
                spec.ne
            )));
        }
        if ttype != spec.ttype {
            return Err(invalid(format!(
                "tensor \"{name}\" is stored as {}, a model with {} weights needs {}",
                ttype.name(),
                wtype.name(),
                spec.ttype.name()
            )));
        }
        seen[i] = true;
        n_seen += 1;
        missing -= spec.file_bytes();
        let data = spec.data_bytes();
        r.skip(data, r.pos() + data + missing).map_err(read_err)?;
    }

    if n_seen < tensors.len() {
        // The file ended cleanly between two tensors: the rest is missing.
        return Err(ModelError::Truncated { path: path.to_path_buf(), have: size, need: size + missing });
    }

    Ok(ModelInfo {
        path: path.to_path_buf(),
        n_vocab: h.n_vocab as u32,
        n_audio_state: h.n_audio_state as u32,
        n_audio_layer: h.n_audio_layer as u32,
        n_text_layer: h.n_text_layer as u32,
        n_mels: h.n_mels as u32,
        ftype: (h.ftype % QNT_VERSION_FACTOR) as u32,
        tensors: n_seen,
        file_size: size,
        kind: kind(&h),
        english_only: h.n_vocab < N_VOCAB_MULTILINGUAL,
    })
}

/// The model's size name, from its encoder depth and width (as whisper.cpp
/// names models by their encoder depth).
fn kind(h: &Hparams) -> String {
    let name = match (h.n_audio_layer, h.n_audio_state) {
        (4, 384) => "tiny",
        (6, 512) => "base",
        (12, 768) => "small",
        (24, 1024) => "medium",
        (32, 1280) if h.n_vocab == 51_866 && h.n_text_layer == 4 => "large-v3-turbo",
        (32, 1280) if h.n_vocab == 51_866 => "large-v3",
        (32, 1280) => "large",
        (layers, width) => {
            return format!("custom ({layers} encoder layers, {} decoder layers, width {width})", h.n_text_layer);
        }
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Small but valid hparams: real vocabulary size, tiny everything else.
    fn small_hparams(width: i32, layers: i32, ftype: i32) -> Hparams {
        Hparams {
            n_vocab: N_VOCAB_ENGLISH,
            n_audio_ctx: 6,
            n_audio_state: width,
            n_audio_head: 2,
            n_audio_layer: layers,
            n_text_ctx: 5,
            n_text_state: width,
            n_text_head: 2,
            n_text_layer: layers,
            n_mels: 4,
            ftype,
        }
    }

    /// Writes a structurally valid model with zero weights.
    fn write_model(path: &Path, h: &Hparams) -> u64 {
        let wtype = h.check().expect("valid hparams");
        let mut bytes = Vec::new();
        write_header(&mut bytes, h).expect("header");
        bytes.extend_from_slice(&h.n_mels.to_le_bytes());
        bytes.extend_from_slice(&N_FFT_BINS.to_le_bytes());
        bytes.resize(bytes.len() + (h.n_mels * N_FFT_BINS * 4) as usize, 0);
        let tokens: [&[u8]; 3] = [b"!", b" hello", b""];
        bytes.extend_from_slice(&(tokens.len() as i32).to_le_bytes());
        for t in tokens {
            bytes.extend_from_slice(&(t.len() as u32).to_le_bytes());
            bytes.extend_from_slice(t);
        }
        for t in expected_tensors(h, wtype) {
            write_tensor_header(&mut bytes, &t).expect("tensor header");
            bytes.resize(bytes.len() + t.data_bytes() as usize, 0);
        }
        fs::write(path, &bytes).expect("write model");
        bytes.len() as u64
    }

    fn truncate(path: &Path, len: u64) {
        let f = fs::OpenOptions::new().write(true).open(path).expect("open");
        f.set_len(len).expect("truncate");
    }

    #[test]
    fn valid_small_model() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.bin");
        let size = write_model(&path, &small_hparams(8, 1, 1));
        let info = validate(&path).expect("valid");
        assert_eq!(info.n_vocab, 51_864);
        assert_eq!(info.n_audio_state, 8);
        assert_eq!((info.n_audio_layer, info.n_text_layer), (1, 1));
        assert_eq!(info.n_mels, 4);
        assert_eq!(info.ftype, 1);
        assert_eq!(info.weight_type(), "f16");
        assert_eq!(info.tensors, 7 + 15 + 4 + 24);
        assert_eq!(info.file_size, size);
        assert!(info.english_only);
        assert!(info.kind.starts_with("custom"), "{}", info.kind);
        assert!(info.describe().ends_with(", English-only, f16"), "{}", info.describe());
        let tiny = ModelInfo { kind: "tiny".into(), ..info.clone() };
        assert_eq!(tiny.describe(), "tiny.en, f16");
        let large = ModelInfo { kind: "large-v3".into(), english_only: false, ftype: 8, ..info };
        assert_eq!(large.describe(), "large-v3, q5_0");
    }

    #[test]
    fn tensor_table_matches_whisper_cpp_counts() {
        // whisper_model_load: 15 tensors per encoder block, 24 per decoder block.
        let h = Hparams {
            n_vocab: 51_864,
            n_audio_ctx: 1500,
            n_audio_state: 384,
            n_audio_head: 6,
            n_audio_layer: 4,
            n_text_ctx: 448,
            n_text_state: 384,
            n_text_head: 6,
            n_text_layer: 4,
            n_mels: 80,
            ftype: 1,
        };
        let t = expected_tensors(&h, TensorType::F16);
        assert_eq!(t.len(), 7 + 4 * 15 + 4 + 4 * 24);
        let find = |n: &str| t.iter().find(|s| s.name == n).expect(n).clone();
        assert_eq!(find("encoder.conv1.weight").ne, vec![3, 80, 384]);
        assert_eq!(find("encoder.conv1.bias").ne, vec![1, 384]);
        assert_eq!(find("encoder.positional_embedding").ttype, TensorType::F32);
        assert_eq!(find("decoder.token_embedding.weight").ne, vec![384, 51_864]);
        assert_eq!(find("decoder.blocks.3.mlp.0.weight").ne, vec![384, 1536]);
        assert!(t.iter().all(|s| !s.name.contains("key.bias")));
        assert_eq!(kind(&h), "tiny");
    }

    #[test]
    fn quantized_model_is_walked_with_block_sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("q.bin");
        // q5_0 (ggml_ftype 8) with quantization version 2, as whisper.cpp's quantize writes it.
        let size = write_model(&path, &small_hparams(32, 1, 2 * QNT_VERSION_FACTOR + 8));
        let info = validate(&path).expect("valid");
        assert_eq!(info.ftype, 8);
        assert_eq!(info.weight_type(), "q5_0");
        assert_eq!(info.file_size, size);
    }

    #[test]
    fn block_sizes_match_ggml() {
        assert_eq!(TensorType::Q4_0.block(), (32, 18));
        assert_eq!(TensorType::Q4_1.block(), (32, 20));
        assert_eq!(TensorType::Q5_0.block(), (32, 22));
        assert_eq!(TensorType::Q5_1.block(), (32, 24));
        assert_eq!(TensorType::Q8_0.block(), (32, 34));
        assert_eq!(TensorType::from_id(7), Some(TensorType::Q5_1));
        assert_eq!(TensorType::from_ftype(9), Some(TensorType::Q5_1));
        assert_eq!(TensorType::from_ftype(4), None);
        for t in TensorType::ALL {
            assert_eq!(TensorType::from_id(t.id()), Some(t));
        }
    }

    #[test]
    fn truncated_copy_reports_both_sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.bin");
        let size = write_model(&path, &small_hparams(8, 1, 1));
        for cut in [size - 100, size - 1, size / 2, size - 3] {
            truncate(&path, cut);
            let err = validate(&path).expect_err("truncated");
            match &err {
                ModelError::Truncated { have, need, .. } => {
                    assert_eq!(*have, cut);
                    assert_eq!(*need, size, "cut at {cut}");
                }
                other => panic!("expected Truncated, got {other:?}"),
            }
            let text = err.to_string();
            assert!(text.contains("truncated ("), "{text}");
            assert!(text.contains(&cut.to_string()) && text.contains(&size.to_string()), "{text}");
            write_model(&path, &small_hparams(8, 1, 1));
        }
    }

    #[test]
    fn header_only_file_is_truncated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("h.bin");
        let mut bytes = Vec::new();
        write_header(&mut bytes, &small_hparams(8, 1, 1)).expect("header");
        fs::write(&path, &bytes).expect("write");
        match validate(&path) {
            Err(ModelError::Truncated { have, need, .. }) => {
                assert_eq!(have, HEADER_BYTES);
                assert!(need > have + 51_864 * 8 * 2, "{need}");
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
        // A file cut inside the hparams is truncated too.
        fs::write(&path, &bytes[..20]).expect("write");
        assert!(matches!(validate(&path), Err(ModelError::Truncated { have: 20, need: HEADER_BYTES, .. })));
    }

    #[test]
    fn other_files_are_not_ggml() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notes.txt");
        fs::write(&path, b"this is not a model at all").expect("write");
        let err = validate(&path).expect_err("not ggml");
        assert!(matches!(err, ModelError::NotGgml { .. }), "{err:?}");
        assert!(err.to_string().contains("notes.txt"), "{err}");
        fs::write(&path, b"").expect("write");
        assert!(matches!(validate(&path), Err(ModelError::NotGgml { .. })));
        fs::write(&path, b"GGUF\x03\0\0\0 rest").expect("write");
        let err = validate(&path).expect_err("gguf");
        assert!(err.to_string().contains("GGUF"), "{err}");
        let missing = dir.path().join("absent.bin");
        assert!(matches!(validate(&missing), Err(ModelError::NotFound { .. })));
        // A folder: Invalid where it can be opened (Unix), Io where it cannot.
        assert!(matches!(validate(dir.path()), Err(ModelError::Invalid { .. } | ModelError::Io { .. })));
    }

    #[test]
    fn bad_headers_and_tensors_are_invalid() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.bin");
        let expect_invalid = |path: &Path, needle: &str| match validate(path) {
            Err(e @ ModelError::Invalid { .. }) => assert!(e.to_string().contains(needle), "{e}"),
            other => panic!("expected Invalid containing {needle:?}, got {other:?}"),
        };

        // ftype 5 has no ggml weight type: whisper.cpp would abort.
        let mut h = small_hparams(8, 1, 1);
        write_model(&path, &h);
        let mut bytes = fs::read(&path).expect("read");
        bytes[4 + 10 * 4..4 + 11 * 4].copy_from_slice(&5i32.to_le_bytes());
        fs::write(&path, &bytes).expect("write");
        expect_invalid(&path, "ftype");

        h.n_vocab = 1000;
        let mut bytes = Vec::new();
        write_header(&mut bytes, &h).expect("header");
        fs::write(&path, &bytes).expect("write");
        expect_invalid(&path, "n_vocab");

        // A wrong shape in the first tensor (encoder.positional_embedding, dims at its header + 12).
        let h = small_hparams(8, 1, 1);
        write_model(&path, &h);
        let mut bytes = fs::read(&path).expect("read");
        let first = (HEADER_BYTES + 8 + 4 * 201 * 4 + 4 + (4 + 1) + (4 + 6) + 4) as usize;
        assert_eq!(&bytes[first..first + 4], &2i32.to_le_bytes(), "n_dims of the first tensor");
        bytes[first + 12..first + 16].copy_from_slice(&9i32.to_le_bytes());
        fs::write(&path, &bytes).expect("write");
        expect_invalid(&path, "encoder.positional_embedding");

        // An unknown tensor type.
        let mut bytes = fs::read(&path).expect("read");
        bytes[first + 12..first + 16].copy_from_slice(&8i32.to_le_bytes());
        bytes[first + 8..first + 12].copy_from_slice(&99i32.to_le_bytes());
        fs::write(&path, &bytes).expect("write");
        expect_invalid(&path, "unknown type 99");
    }
}
