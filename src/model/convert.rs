//! Converts a faster-whisper model (a CTranslate2 `WhisperSpec` folder with
//! `model.bin` and `vocabulary.txt` or `vocabulary.json`) into the ggml file
//! whisper.cpp loads: the same layout whisper.cpp's
//! `models/convert-pt-to-ggml.py` writes from OpenAI's checkpoint (see
//! `ggml.rs`), with the tensors renamed, split and typed as
//! `whisper_model_load` expects them.
//!
//! CTranslate2's `model.bin` (little-endian, binary versions 4–6): u32
//! version; the spec name and u32 revision; u32 variable count, then per
//! variable its name, u8 rank, u32 dims, u8 data type (0 f32, 1 i8, 2 i16,
//! 3 i32, 4 f16, 5 bf16), u32 byte count and the data; then u32 alias count
//! and (alias, target) name pairs. Strings are a u16 length counting a
//! trailing NUL, then the bytes.
//!
//! The mapping, for layer i (CTranslate2 → whisper):
//! - `encoder/conv{1,2}/{weight,bias}` → `encoder.conv{1,2}.*` (bias as (n, 1));
//! - `{encoder,decoder}/position_encodings/encodings` → `*.positional_embedding`;
//! - `encoder/layer_norm` → `encoder.ln_post`, `decoder/layer_norm` → `decoder.ln`;
//! - `decoder/embeddings/weight` → `decoder.token_embedding.weight` (the output
//!   projection is an alias of it, and whisper.cpp ties them too);
//! - `*/layer_i/self_attention/layer_norm` → `*.blocks.i.attn_ln`;
//!   `self_attention/linear_0` is the fused (3n × n) query/key/value: its row
//!   thirds become `attn.query`, `attn.key`, `attn.value`; `linear_1` → `attn.out`;
//! - `decoder/layer_i/attention/layer_norm` → `cross_attn_ln`; `linear_0` →
//!   `cross_attn.query`; the fused (2n × n) `linear_1` → `cross_attn.key` and
//!   `cross_attn.value`; `linear_2` → `cross_attn.out`;
//! - `*/ffn/layer_norm` → `mlp_ln`, `ffn/linear_0` → `mlp.0`, `ffn/linear_1` → `mlp.2`;
//! - layer norms' `gamma`/`beta` → `weight`/`bias`.
//!
//! Whisper has no key biases: CTranslate2 stores zeros for them, and they are
//! dropped (a key bias only shifts every attention score of a query by the
//! same amount, which the softmax cancels, so dropping one is exact anyway).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::ggml::{self, Hparams, ReadError, SizedReader, TensorSpec, TensorType};

/// What a conversion produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertSummary {
    pub out: PathBuf,
    pub n_vocab: u32,
    pub n_audio_layer: u32,
    pub n_text_layer: u32,
    pub n_audio_state: u32,
    pub tensors: usize,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(
        "{path} not found: a faster-whisper model folder holds model.bin and vocabulary.txt \
         (or vocabulary.json); pass that folder"
    )]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} is truncated ({have} of at least {need} bytes); download the model again")]
    Truncated { path: PathBuf, have: u64, need: u64 },
    #[error("{path} is not a Whisper model this converter can read: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    #[error(
        "{path} holds a quantized model ({detail}); whisper.cpp needs float weights: use a float16 \
         or float32 faster-whisper model (e.g. made with ct2-transformers-converter --quantization float16)"
    )]
    Quantized { path: PathBuf, detail: String },
    #[error("{path} is not a usable Whisper vocabulary: {reason}")]
    Vocabulary { path: PathBuf, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("the converted model {path} did not pass validation and was not kept (a converter bug): {source}")]
    Check { path: PathBuf, source: ggml::ModelError },
}

/// Converts the faster-whisper model in `ct2_dir` to a ggml model at `out`.
///
/// The file is written to `out` + ".partial", synced, checked with
/// [`ggml::validate`], then renamed to `out`: a failed or interrupted
/// conversion never leaves a half-written model under the final name.
pub fn convert_ct2(ct2_dir: &Path, out: &Path) -> Result<ConvertSummary, ConvertError> {
    let model_path = ct2_dir.join("model.bin");
    let model = Ct2Model::read(&model_path)?;
    model.check_float_weights()?;
    let h = model.hparams()?;
    let wtype = h.check().map_err(|reason| ConvertError::Unsupported {
        path: model_path.clone(),
        reason: format!("whisper.cpp cannot run it: {reason}"),
    })?;
    let specs = ggml::expected_tensors(&h, wtype);
    let slices = specs.iter().map(|spec| model.slice_for(spec)).collect::<Result<Vec<_>, _>>()?;
    let (vocab_path, vocab) = read_vocabulary(ct2_dir)?;
    let tokens = text_tokens(&vocab_path, &vocab, h.n_vocab)?;

    let write_err = |reason: String| ConvertError::Write { path: out.to_path_buf(), reason };
    if same_file(out, &model_path) {
        return Err(write_err("it is the model being converted; choose another output file".into()));
    }
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| write_err(e.to_string()))?;

    let partial = partial_path(out);
    let result = write_model(&partial, &model, &h, &specs, &slices, &tokens)
        .and_then(|bytes| match ggml::validate(&partial) {
            Ok(_) => Ok(bytes),
            Err(source) => Err(ConvertError::Check { path: out.to_path_buf(), source }),
        })
        .and_then(|bytes| fs::rename(&partial, out).map(|()| bytes).map_err(|e| write_err(e.to_string())));
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(e) => {
            // Best effort: nothing was renamed, so the final name is untouched.
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
    };
    if let Err(e) = crate::util::atomic::sync_dir(dir) {
        log::warn!("converted {} but could not sync its folder: {e}", out.display());
    }
    log::info!("converted {} to {} ({} tensors, {bytes} bytes)", ct2_dir.display(), out.display(), specs.len());
    Ok(ConvertSummary {
        out: out.to_path_buf(),
        n_vocab: h.n_vocab as u32,
        n_audio_layer: h.n_audio_layer as u32,
        n_text_layer: h.n_text_layer as u32,
        n_audio_state: h.n_audio_state as u32,
        tensors: specs.len(),
        bytes,
    })
}

/// `out` with ".partial" appended to its file name.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// CTranslate2's data types (`ctranslate2::DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Dtype {
    fn from_id(id: u8) -> Option<Dtype> {
        Some(match id {
            0 => Dtype::F32,
            1 => Dtype::I8,
            2 => Dtype::I16,
            3 => Dtype::I32,
            4 => Dtype::F16,
            5 => Dtype::Bf16,
            _ => return None,
        })
    }

    fn size(self) -> u64 {
        match self {
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F16 | Dtype::Bf16 | Dtype::I16 => 2,
            Dtype::I8 => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::I8 => "int8",
            Dtype::I16 => "int16",
            Dtype::I32 => "int32",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Dtype::F32 | Dtype::F16 | Dtype::Bf16)
    }
}

/// One variable of `model.bin`: where its data is (scalars are kept).
#[derive(Debug)]
struct Variable {
    dims: Vec<u64>,
    dtype: Dtype,
    offset: u64,
    /// The data of rank-0 variables (flags, head counts); empty otherwise.
    scalar: Vec<u8>,
}

/// The table of contents of a CTranslate2 `model.bin`.
#[derive(Debug)]
struct Ct2Model {
    path: PathBuf,
    vars: BTreeMap<String, Variable>,
    aliases: HashMap<String, String>,
}

/// The bytes of one output tensor inside `model.bin`.
#[derive(Debug, Clone, Copy)]
struct Slice {
    start: u64,
    len: u64,
    dtype: Dtype,
}

const CT2_VERSIONS: std::ops::RangeInclusive<u32> = 4..=6;
const MAX_VARIABLES: u32 = 100_000;
const MAX_RANK: u8 = 8;

impl Ct2Model {
    /// Reads the variable table, seeking over the data.
    fn read(path: &Path) -> Result<Ct2Model, ConvertError> {
        let unsupported = |reason: String| ConvertError::Unsupported { path: path.to_path_buf(), reason };
        let read_err = |e: io::Error| ConvertError::Read { path: path.to_path_buf(), reason: e.to_string() };
        let short = |e: ReadError| match e {
            ReadError::Short { have, need } => ConvertError::Truncated { path: path.to_path_buf(), have, need },
            ReadError::Io(e) => read_err(e),
        };
        let file = File::open(path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                ConvertError::Missing { path: path.to_path_buf() }
            } else {
                read_err(e)
            }
        })?;
        let meta = file.metadata().map_err(read_err)?;
        if meta.is_dir() {
            return Err(unsupported("it is a folder".into()));
        }
        let mut r = SizedReader::new(file, meta.len());

        let version = r.u32(0).map_err(short)?;
        if version == ggml::MAGIC {
            return Err(unsupported("it is already a whisper.cpp (ggml) model: use it as it is".into()));
        }
        if !CT2_VERSIONS.contains(&version) {
            return Err(unsupported(format!(
                "it is not a CTranslate2 model of a version this converter reads (binary version {version}, \
                 expected {} to {})",
                CT2_VERSIONS.start(),
                CT2_VERSIONS.end()
            )));
        }
        let spec = read_string(&mut r).map_err(short)?;
        if spec != "WhisperSpec" {
            return Err(unsupported(format!("it holds a {spec:?} model, not a Whisper one")));
        }
        let revision = r.u32(0).map_err(short)?;
        let count = r.u32(0).map_err(short)?;
        if count > MAX_VARIABLES {
            return Err(unsupported(format!("it claims {count} variables")));
        }
        log::debug!(
            "{}: CTranslate2 binary version {version}, WhisperSpec revision {revision}, {count} variables",
            path.display()
        );

        let mut vars = BTreeMap::new();
        for _ in 0..count {
            let name = read_string(&mut r).map_err(short)?;
            let rank = r.u8(0).map_err(short)?;
            if rank > MAX_RANK {
                return Err(unsupported(format!("variable {name} has {rank} dimensions")));
            }
            let mut dims = Vec::with_capacity(usize::from(rank));
            for _ in 0..rank {
                dims.push(u64::from(r.u32(0).map_err(short)?));
            }
            let type_id = r.u8(0).map_err(short)?;
            let dtype = Dtype::from_id(type_id)
                .ok_or_else(|| unsupported(format!("variable {name} has unknown data type {type_id}")))?;
            let nbytes = u64::from(r.u32(0).map_err(short)?);
            let expected = dims.iter().try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
            if expected != Some(nbytes) {
                return Err(unsupported(format!(
                    "variable {name} has {nbytes} bytes of data for shape {dims:?} of {}",
                    dtype.name()
                )));
            }
            let offset = r.pos();
            let scalar = if dims.is_empty() {
                r.bytes(nbytes, offset + nbytes).map_err(short)?
            } else {
                r.skip(nbytes, offset + nbytes).map_err(short)?;
                Vec::new()
            };
            if vars.contains_key(&name) {
                return Err(unsupported(format!("variable {name} appears twice")));
            }
            vars.insert(name, Variable { dims, dtype, offset, scalar });
        }

        let n_aliases = r.u32(0).map_err(short)?;
        if n_aliases > MAX_VARIABLES {
            return Err(unsupported(format!("it claims {n_aliases} aliases")));
        }
        let mut aliases = HashMap::new();
        for _ in 0..n_aliases {
            let alias = read_string(&mut r).map_err(short)?;
            let target = read_string(&mut r).map_err(short)?;
            aliases.insert(alias, target);
        }
        Ok(Ct2Model { path: path.to_path_buf(), vars, aliases })
    }

    fn unsupported(&self, reason: String) -> ConvertError {
        ConvertError::Unsupported { path: self.path.clone(), reason }
    }

    /// A variable by name, following an alias.
    fn get(&self, name: &str) -> Result<&Variable, ConvertError> {
        self.vars
            .get(name)
            .or_else(|| self.aliases.get(name).and_then(|target| self.vars.get(target)))
            .ok_or_else(|| self.unsupported(format!("variable {name} is missing")))
    }

    fn shape(&self, name: &str, rank: usize) -> Result<Vec<u64>, ConvertError> {
        let var = self.get(name)?;
        if var.dims.len() != rank {
            return Err(self.unsupported(format!("{name} has shape {:?}, expected {rank} dimensions", var.dims)));
        }
        Ok(var.dims.clone())
    }

    /// An integer scalar such as `encoder/num_heads`, if present.
    fn scalar_int(&self, name: &str) -> Option<i64> {
        let var = self.vars.get(name)?;
        let b = var.scalar.as_slice();
        match (var.dtype, b) {
            (Dtype::I8, [a]) => Some(i64::from(*a as i8)),
            (Dtype::I16, [a, b]) => Some(i64::from(i16::from_le_bytes([*a, *b]))),
            (Dtype::I32, [a, b, c, d]) => Some(i64::from(i32::from_le_bytes([*a, *b, *c, *d]))),
            _ => None,
        }
    }

    /// whisper.cpp runs float weights only: refuse int8/int16 quantized models
    /// (CTranslate2 quantizes the variables whose names end in "weight").
    fn check_float_weights(&self) -> Result<(), ConvertError> {
        for (name, var) in &self.vars {
            if name.ends_with("weight") && !var.dtype.is_float() {
                return Err(ConvertError::Quantized {
                    path: self.path.clone(),
                    detail: format!("{name} is stored as {}", var.dtype.name()),
                });
            }
        }
        Ok(())
    }

    /// Layers are `{side}/layer_{i}/…`, numbered from 0.
    fn count_layers(&self, side: &str) -> Result<i32, ConvertError> {
        let prefix = format!("{side}/layer_");
        let layers: BTreeSet<u32> =
            self.vars.keys().filter_map(|name| name.strip_prefix(&prefix)?.split_once('/')?.0.parse().ok()).collect();
        let n = layers.len();
        if n == 0 {
            return Err(self.unsupported(format!("it has no {side} layers")));
        }
        if layers.last().map(|&last| last as usize + 1) != Some(n) {
            return Err(self.unsupported(format!("its {side} layers are not numbered 0 to {}", n - 1)));
        }
        i32::try_from(n).map_err(|_| self.unsupported(format!("it has {n} {side} layers")))
    }

    /// Attention heads: the spec's `num_heads`, else Whisper's 64-wide heads.
    fn heads(&self, side: &str, width: u64) -> Result<i32, ConvertError> {
        let name = format!("{side}/num_heads");
        match self.scalar_int(&name) {
            Some(n) => {
                i32::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| self.unsupported(format!("{name} is {n}")))
            }
            None if width.is_multiple_of(64) => {
                i32::try_from(width / 64).map_err(|_| self.unsupported(format!("the width {width} is too large")))
            }
            None => Err(self.unsupported(format!("{name} is missing and the width {width} is not a multiple of 64"))),
        }
    }

    /// The hparams, from the tensor shapes and the head counts.
    fn hparams(&self) -> Result<Hparams, ConvertError> {
        let conv1 = self.shape("encoder/conv1/weight", 3)?; // (state, mels, 3)
        let enc_pe = self.shape("encoder/position_encodings/encodings", 2)?; // (ctx, state)
        let emb = self.shape("decoder/embeddings/weight", 2)?; // (vocab, state)
        let dec_pe = self.shape("decoder/position_encodings/encodings", 2)?; // (ctx, state)
        let (audio_state, text_state) = (conv1[0], emb[1]);
        if conv1[2] != 3 {
            return Err(self.unsupported(format!("encoder/conv1/weight has shape {conv1:?}, expected a kernel of 3")));
        }
        if enc_pe[1] != audio_state || dec_pe[1] != text_state {
            return Err(self.unsupported(format!(
                "the position encodings ({enc_pe:?}, {dec_pe:?}) do not match the widths {audio_state} and {text_state}"
            )));
        }
        let int =
            |what: &str, v: u64| i32::try_from(v).map_err(|_| self.unsupported(format!("{what} is {v}, too large")));
        Ok(Hparams {
            n_vocab: int("the vocabulary size", emb[0])?,
            n_audio_ctx: int("the audio context", enc_pe[0])?,
            n_audio_state: int("the audio width", audio_state)?,
            n_audio_head: self.heads("encoder", audio_state)?,
            n_audio_layer: self.count_layers("encoder")?,
            n_text_ctx: int("the text context", dec_pe[0])?,
            n_text_state: int("the text width", text_state)?,
            n_text_head: self.heads("decoder", text_state)?,
            n_text_layer: self.count_layers("decoder")?,
            n_mels: int("the number of mel bands", conv1[1])?,
            ftype: 1, // f16 weights, f32 for the small tensors
        })
    }

    /// Where the data of the ggml tensor `spec` is, checking its shape.
    fn slice_for(&self, spec: &TensorSpec) -> Result<Slice, ConvertError> {
        let (name, part, parts) = ct2_source(&spec.name)
            .ok_or_else(|| self.unsupported(format!("no CTranslate2 variable maps to {}", spec.name)))?;
        let var = self.get(&name)?;
        if !var.dtype.is_float() {
            return Err(self.unsupported(format!("{name} is stored as {}, expected floats", var.dtype.name())));
        }
        // ggml lists dims innermost first; CTranslate2 outermost first. Part
        // `part` of `parts` is a block of rows (of the fused attention matrices).
        let mut want: Vec<u64> = spec.ne.iter().rev().copied().collect();
        trim_trailing_ones(&mut want);
        let (rows, rest) = var.dims.split_first().map_or((0, &[][..]), |(r, rest)| (*r, rest));
        let part_rows = rows / parts;
        let mut got = vec![part_rows];
        got.extend_from_slice(rest);
        trim_trailing_ones(&mut got);
        if rows == 0 || rows % parts != 0 || got != want {
            let mut need = want.clone();
            if let Some(first) = need.first_mut() {
                *first *= parts;
            }
            return Err(self.unsupported(format!(
                "{name} has shape {:?}, whisper.cpp needs {need:?} for {}",
                var.dims, spec.name
            )));
        }
        let row_bytes = rest.iter().product::<u64>() * var.dtype.size();
        Ok(Slice { start: var.offset + part * part_rows * row_bytes, len: part_rows * row_bytes, dtype: var.dtype })
    }
}

fn trim_trailing_ones(dims: &mut Vec<u64>) {
    while dims.len() > 1 && dims.last() == Some(&1) {
        dims.pop();
    }
}

/// A CTranslate2 string: u16 length counting a trailing NUL, then the bytes.
fn read_string(r: &mut SizedReader) -> Result<String, ReadError> {
    let len = r.u16(0)?;
    let bytes = r.bytes(u64::from(len), 0)?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
}

/// The CTranslate2 variable holding ggml tensor `name`, and which row block
/// of it: (variable, part, parts).
fn ct2_source(name: &str) -> Option<(String, u64, u64)> {
    let fixed = match name {
        "encoder.positional_embedding" => Some("encoder/position_encodings/encodings"),
        "encoder.conv1.weight" => Some("encoder/conv1/weight"),
        "encoder.conv1.bias" => Some("encoder/conv1/bias"),
        "encoder.conv2.weight" => Some("encoder/conv2/weight"),
        "encoder.conv2.bias" => Some("encoder/conv2/bias"),
        "encoder.ln_post.weight" => Some("encoder/layer_norm/gamma"),
        "encoder.ln_post.bias" => Some("encoder/layer_norm/beta"),
        "decoder.positional_embedding" => Some("decoder/position_encodings/encodings"),
        "decoder.token_embedding.weight" => Some("decoder/embeddings/weight"),
        "decoder.ln.weight" => Some("decoder/layer_norm/gamma"),
        "decoder.ln.bias" => Some("decoder/layer_norm/beta"),
        _ => None,
    };
    if let Some(var) = fixed {
        return Some((var.to_owned(), 0, 1));
    }
    let (side, rest) = if let Some(rest) = name.strip_prefix("encoder.blocks.") {
        ("encoder", rest)
    } else {
        ("decoder", name.strip_prefix("decoder.blocks.")?)
    };
    let (layer, rest) = rest.split_once('.')?;
    let (module, kind) = rest.rsplit_once('.')?;
    let norm = match kind {
        "weight" => "gamma",
        "bias" => "beta",
        _ => return None,
    };
    let (var, part, parts) = match module {
        "attn_ln" => (format!("self_attention/layer_norm/{norm}"), 0, 1),
        "attn.query" => (format!("self_attention/linear_0/{kind}"), 0, 3),
        "attn.key" => (format!("self_attention/linear_0/{kind}"), 1, 3),
        "attn.value" => (format!("self_attention/linear_0/{kind}"), 2, 3),
        "attn.out" => (format!("self_attention/linear_1/{kind}"), 0, 1),
        "cross_attn_ln" => (format!("attention/layer_norm/{norm}"), 0, 1),
        "cross_attn.query" => (format!("attention/linear_0/{kind}"), 0, 1),
        "cross_attn.key" => (format!("attention/linear_1/{kind}"), 0, 2),
        "cross_attn.value" => (format!("attention/linear_1/{kind}"), 1, 2),
        "cross_attn.out" => (format!("attention/linear_2/{kind}"), 0, 1),
        "mlp_ln" => (format!("ffn/layer_norm/{norm}"), 0, 1),
        "mlp.0" => (format!("ffn/linear_0/{kind}"), 0, 1),
        "mlp.2" => (format!("ffn/linear_1/{kind}"), 0, 1),
        _ => return None,
    };
    Some((format!("{side}/layer_{layer}/{var}"), part, parts))
}

/// The vocabulary file and its tokens, one per id.
fn read_vocabulary(dir: &Path) -> Result<(PathBuf, Vec<String>), ConvertError> {
    let txt = dir.join("vocabulary.txt");
    let json = dir.join("vocabulary.json");
    let read = |path: &Path| {
        fs::read_to_string(path).map_err(|e| ConvertError::Read { path: path.to_path_buf(), reason: e.to_string() })
    };
    if txt.is_file() {
        let text = read(&txt)?;
        let mut tokens: Vec<String> =
            text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line).to_owned()).collect();
        if tokens.last().is_some_and(String::is_empty) {
            tokens.pop();
        }
        Ok((txt, tokens))
    } else if json.is_file() {
        let text = read(&json)?;
        let tokens: Vec<String> = serde_json::from_str(&text)
            .map_err(|e| ConvertError::Vocabulary { path: json.clone(), reason: e.to_string() })?;
        Ok((json, tokens))
    } else {
        Err(ConvertError::Missing { path: txt })
    }
}

const END_OF_TEXT: &str = "<|endoftext|>";

/// The text tokens (those before `<|endoftext|>`: 50256 for English-only
/// models, 50257 for multilingual ones), as raw bytes. whisper.cpp adds the
/// special tokens itself.
fn text_tokens(path: &Path, tokens: &[String], n_vocab: i32) -> Result<Vec<Vec<u8>>, ConvertError> {
    let bad = |reason: String| ConvertError::Vocabulary { path: path.to_path_buf(), reason };
    let end =
        tokens.iter().position(|t| t == END_OF_TEXT).ok_or_else(|| bad(format!("it has no {END_OF_TEXT} token")))?;
    if end == 0 || end as u64 > u64::try_from(n_vocab).unwrap_or(0) {
        return Err(bad(format!("{END_OF_TEXT} is token {end}, the model has {n_vocab} tokens")));
    }
    if tokens.len() as u64 != u64::try_from(n_vocab).unwrap_or(0) {
        log::warn!("{}: {} tokens for a model of {n_vocab}", path.display(), tokens.len());
    }
    Ok(tokens[..end].iter().map(|t| gpt2_bytes(t)).collect())
}

/// The bytes of a GPT-2 byte-level BPE token: inverts GPT-2's
/// `bytes_to_unicode`, which maps each byte to a printable character
/// (bytes that are already printable map to themselves, the other 68 to
/// U+0100…U+0143 in order; e.g. "Ġ" is a space, "Ċ" a newline).
pub(crate) fn gpt2_bytes(token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len());
    for c in token.chars() {
        match gpt2_byte(c) {
            Some(b) => out.push(b),
            // Not a byte-level character (never in Whisper's text tokens): keep it as UTF-8.
            None => out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes()),
        }
    }
    out
}

fn gpt2_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    match cp {
        0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF => u8::try_from(cp).ok(),
        // The non-printable bytes in order: 0x00–0x20, 0x7F–0xA0, 0xAD.
        0x100..=0x120 => u8::try_from(cp - 0x100).ok(),
        0x121..=0x142 => u8::try_from(cp - 0x121 + 0x7F).ok(),
        0x143 => Some(0xAD),
        _ => None,
    }
}

/// Whisper's mel filterbank for 16 kHz audio and a 400-point FFT:
/// `librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels)` (Slaney mel
/// scale, Slaney area normalization), row-major `n_mels × 201`. Computed as
/// librosa does, in f64 with its two roundings to f32, so the values equal
/// the `mel_filters.npz` that OpenAI's Whisper ships (and
/// convert-pt-to-ggml.py copies).
pub(crate) fn mel_filters(n_mels: usize) -> Vec<f32> {
    const SAMPLE_RATE: f64 = 16_000.0;
    const N_FFT: usize = 400;
    let n_freq = N_FFT / 2 + 1;
    // np.fft.rfftfreq(n_fft, 1 / sr)
    let bin_hz = 1.0 / (N_FFT as f64 * (1.0 / SAMPLE_RATE));
    let fft_freqs: Vec<f64> = (0..n_freq).map(|k| k as f64 * bin_hz).collect();
    // mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2): np.linspace on the mel scale.
    let n = n_mels + 2;
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0));
    let step = (hi - lo) / (n - 1) as f64;
    let mel_f: Vec<f64> = (0..n).map(|i| mel_to_hz(if i == n - 1 { hi } else { i as f64 * step + lo })).collect();

    let mut out = Vec::with_capacity(n_mels * n_freq);
    for i in 0..n_mels {
        let (below, above) = (mel_f[i + 1] - mel_f[i], mel_f[i + 2] - mel_f[i + 1]);
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for &f in &fft_freqs {
            let lower = -(mel_f[i] - f) / below;
            let upper = (mel_f[i + 2] - f) / above;
            let w = lower.min(upper);
            let w = if w > 0.0 { w } else { 0.0 };
            // librosa fills a float32 array, then scales it in place.
            out.push((f64::from(w as f32) * enorm) as f32);
        }
    }
    out
}

// Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
const MEL_F_SP: f64 = 200.0 / 3.0;
const MEL_MIN_LOG_HZ: f64 = 1000.0;

fn mel_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    let min_log_mel = MEL_MIN_LOG_HZ / MEL_F_SP;
    if hz >= MEL_MIN_LOG_HZ { min_log_mel + (hz / MEL_MIN_LOG_HZ).ln() / mel_log_step() } else { hz / MEL_F_SP }
}

fn mel_to_hz(mel: f64) -> f64 {
    let min_log_mel = MEL_MIN_LOG_HZ / MEL_F_SP;
    if mel >= min_log_mel { MEL_MIN_LOG_HZ * (mel_log_step() * (mel - min_log_mel)).exp() } else { MEL_F_SP * mel }
}

/// IEEE half to single precision (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x03ff);
    if exp == 0 {
        // Zero or subnormal: mant × 2^-24, exact in f32.
        let v = mant as f32 * (1.0 / 16_777_216.0);
        return if sign != 0 { -v } else { v };
    }
    let bits = if exp == 0x1f { sign | 0x7f80_0000 | (mant << 13) } else { sign | ((exp + 112) << 23) | (mant << 13) };
    f32::from_bits(bits)
}

/// Single to half precision, rounding to nearest even (as numpy's
/// `astype(float16)`); too large becomes infinity, NaN stays NaN.
pub(crate) fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x007f_ffff;
    if exp == 0xff {
        let payload = if mant != 0 { 0x0200 | (mant >> 13) as u16 } else { 0 };
        return sign | 0x7c00 | payload;
    }
    // The exponent biased for f16.
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        // Subnormal in f16 (or zero): the mantissa with its implicit bit, shifted down.
        if e < -10 {
            return sign;
        }
        let full = mant | 0x0080_0000;
        let shift = (14 - e) as u32;
        let mut m = full >> shift;
        let rem = full & ((1u32 << shift) - 1);
        let half = 1u32 << (shift - 1);
        if rem > half || (rem == half && (m & 1) == 1) {
            m += 1;
        }
        return sign | m as u16;
    }
    let mut h = ((e as u32) << 10) | (mant >> 13);
    let rem = mant & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1) {
        h += 1; // may carry into the exponent, up to infinity: still correct
    }
    sign | h as u16
}

/// Calls `f` with each value of `src` (f32, f16 or bf16, little-endian).
fn for_each_value(src: &[u8], from: Dtype, mut f: impl FnMut(f32)) -> Result<(), String> {
    match from {
        Dtype::F32 => {
            for c in src.chunks_exact(4) {
                f(f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            }
        }
        Dtype::F16 => {
            for c in src.chunks_exact(2) {
                f(f16_to_f32(u16::from_le_bytes([c[0], c[1]])));
            }
        }
        Dtype::Bf16 => {
            for c in src.chunks_exact(2) {
                f(f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16));
            }
        }
        other => return Err(format!("{} data", other.name())),
    }
    Ok(())
}

/// Converts tensor data to the f32 or f16 whisper.cpp stores.
fn convert_data(src: &[u8], from: Dtype, to: TensorType, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    match (from, to) {
        (Dtype::F32, TensorType::F32) | (Dtype::F16, TensorType::F16) => out.extend_from_slice(src),
        (_, TensorType::F32) => for_each_value(src, from, |v| out.extend_from_slice(&v.to_le_bytes()))?,
        (_, TensorType::F16) => {
            for_each_value(src, from, |v| out.extend_from_slice(&f32_to_f16(v).to_le_bytes()))?;
        }
        (_, other) => return Err(format!("{} output", other.name())),
    }
    Ok(())
}

/// Writes and syncs the ggml file; returns its size.
fn write_model(
    partial: &Path,
    model: &Ct2Model,
    h: &Hparams,
    specs: &[TensorSpec],
    slices: &[Slice],
    tokens: &[Vec<u8>],
) -> Result<u64, ConvertError> {
    let werr = |e: io::Error| ConvertError::Write { path: partial.to_path_buf(), reason: e.to_string() };
    let rerr = |e: io::Error| ConvertError::Read { path: model.path.clone(), reason: e.to_string() };
    let too_big = |what: &str| werr(io::Error::new(io::ErrorKind::InvalidInput, format!("{what} is too large")));

    let file = OpenOptions::new().write(true).create(true).truncate(true).open(partial).map_err(werr)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);

    ggml::write_header(&mut w, h).map_err(werr)?;

    let n_mels = usize::try_from(h.n_mels).map_err(|_| too_big("n_mels"))?;
    w.write_all(&h.n_mels.to_le_bytes()).map_err(werr)?;
    w.write_all(&ggml::N_FFT_BINS.to_le_bytes()).map_err(werr)?;
    for v in mel_filters(n_mels) {
        w.write_all(&v.to_le_bytes()).map_err(werr)?;
    }

    let count = i32::try_from(tokens.len()).map_err(|_| too_big("the vocabulary"))?;
    w.write_all(&count.to_le_bytes()).map_err(werr)?;
    for t in tokens {
        let len = u32::try_from(t.len()).map_err(|_| too_big("a token"))?;
        w.write_all(&len.to_le_bytes()).map_err(werr)?;
        w.write_all(t).map_err(werr)?;
    }

    let mut src = File::open(&model.path).map_err(rerr)?;
    let mut buf = Vec::new();
    let mut converted = Vec::new();
    for (spec, slice) in specs.iter().zip(slices) {
        let len = usize::try_from(slice.len).map_err(|_| too_big(&spec.name))?;
        buf.resize(len, 0);
        src.seek(SeekFrom::Start(slice.start)).map_err(rerr)?;
        src.read_exact(&mut buf).map_err(rerr)?;
        convert_data(&buf, slice.dtype, spec.ttype, &mut converted)
            .map_err(|what| model.unsupported(format!("{}: cannot convert {what}", spec.name)))?;
        ggml::write_tensor_header(&mut w, spec).map_err(werr)?;
        w.write_all(&converted).map_err(werr)?;
    }

    let file = w.into_inner().map_err(|e| werr(e.into_error()))?;
    file.sync_all().map_err(werr)?;
    Ok(file.metadata().map_err(werr)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- mel filters -------------------------------------------------------

    /// (row, bin, value) from OpenAI Whisper's `assets/mel_filters.npz`
    /// (`mel_80`), which is librosa.filters.mel(sr=16000, n_fft=400, n_mels=80).
    const MEL80_POINTS: [(usize, usize, f64); 8] = [
        (0, 1, 0.02486259490251541),
        (1, 2, 0.022871771827340126),
        (10, 10, 0.01990821771323681),
        (10, 11, 0.004954374860972166),
        (40, 43, 0.014735566452145576),
        (60, 90, 0.0014345343224704266),
        (79, 186, 0.000366741674952209),
        (79, 190, 0.0022320549469441175),
    ];

    #[test]
    fn mel_filters_match_whisper_assets() {
        let m = mel_filters(80);
        assert_eq!(m.len(), 80 * 201);
        for (row, bin, want) in MEL80_POINTS {
            let got = f64::from(m[row * 201 + bin]);
            assert!((got - want).abs() < 1e-8, "[{row}][{bin}] = {got}, want {want}");
        }
        // Zeros outside each triangle.
        assert_eq!(m[0], 0.0);
        assert_eq!(m[40 * 201 + 55], 0.0);
        assert_eq!(m[79 * 201 + 200], 0.0);
        assert!(m.iter().all(|&v| v >= 0.0));
        let row_sum = |r: usize| m[r * 201..(r + 1) * 201].iter().map(|&v| f64::from(v)).sum::<f64>();
        for (row, want) in [
            (0, 0.02486259490251541),
            (10, 0.024862592574208975),
            (40, 0.026664861012250185),
            (79, 0.024925339792389423),
        ] {
            assert!((row_sum(row) - want).abs() < 1e-7, "row {row} sums to {}, want {want}", row_sum(row));
        }
        let total: f64 = m.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 1.999024092387117).abs() < 1e-6, "total {total}");
    }

    #[test]
    fn mel_filters_128_match_whisper_assets() {
        // `mel_128` (large-v3).
        let m = mel_filters(128);
        assert!((f64::from(m[1]) - 0.012373986653983593).abs() < 1e-8);
        assert!((f64::from(m[127 * 201 + 195]) - 0.005041601601988077).abs() < 1e-8);
        let total: f64 = m.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 3.1909855409403463).abs() < 1e-6, "total {total}");
    }

    // ---- tokens and floats -------------------------------------------------

    #[test]
    fn gpt2_byte_decoder() {
        assert_eq!(gpt2_bytes("Ġhello"), b" hello");
        assert_eq!(gpt2_bytes("Ċ"), b"\n");
        assert_eq!(gpt2_bytes("hello"), b"hello");
        assert_eq!(gpt2_bytes("ĠĠ"), b"  ");
        assert_eq!(gpt2_bytes("âĢĻ"), "\u{2019}".as_bytes()); // a curly apostrophe
        assert_eq!(gpt2_bytes("Ā"), [0x00]);
        assert_eq!(gpt2_bytes("ł"), [0xA0]);
        assert_eq!(gpt2_bytes("Ń"), [0xAD]);
        assert_eq!(gpt2_bytes("<|endoftext|>"), b"<|endoftext|>");
        // All 256 bytes are reachable, each from exactly one character.
        let mut seen = [false; 256];
        for cp in 0u32..0x200 {
            if let Some(b) = char::from_u32(cp).and_then(gpt2_byte) {
                assert!(!seen[usize::from(b)], "byte {b} twice");
                seen[usize::from(b)] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn half_floats() {
        assert_eq!(f32_to_f16(1.0), 0x3c00);
        assert_eq!(f32_to_f16(-2.0), 0xc000);
        assert_eq!(f32_to_f16(0.1), 0x2e66);
        assert_eq!(f32_to_f16(65504.0), 0x7bff);
        assert_eq!(f32_to_f16(65520.0), 0x7c00); // rounds up to infinity
        assert_eq!(f32_to_f16(f32::INFINITY), 0x7c00);
        assert_eq!(f32_to_f16(-0.0), 0x8000);
        assert_eq!(f32_to_f16(5.960_464_5e-8), 0x0001); // 2^-24, the smallest subnormal
        assert_eq!(f32_to_f16(2.980_232_2e-8), 0x0000); // 2^-25 ties to even: zero
        assert_eq!(f32_to_f16(1e-9), 0x0000);
        assert_eq!(f32_to_f16(1.0 + 1.0 / 2048.0), 0x3c00); // tie to even
        assert_eq!(f32_to_f16(1.0 + 3.0 / 2048.0), 0x3c02); // tie to even (up)
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        // Every non-NaN half survives a round trip through f32.
        for h in 0..=u16::MAX {
            let v = f16_to_f32(h);
            if !v.is_nan() {
                assert_eq!(f32_to_f16(v), h, "{h:#06x}");
            }
        }
        let mut out = Vec::new();
        convert_data(&[0x80, 0x3f], Dtype::Bf16, TensorType::F32, &mut out).expect("bf16");
        assert_eq!(out, 1.0f32.to_le_bytes());
        convert_data(&[1], Dtype::I8, TensorType::F32, &mut out).expect_err("int8");
    }

    // ---- a synthetic CTranslate2 model --------------------------------------

    const WIDTH: u32 = 8;
    const LAYERS: u32 = 2;
    const N_MELS: u32 = 4;
    const AUDIO_CTX: u32 = 6;
    const TEXT_CTX: u32 = 5;
    const N_VOCAB: u32 = 51_864;

    struct Var {
        name: String,
        dims: Vec<u32>,
        dtype: u8,
        data: Vec<u8>,
    }

    /// Values that f16, bf16 and f32 all hold exactly (multiples of 1/16 in [-0.5, 0.5]).
    fn value(seed: usize, i: usize) -> f32 {
        ((i * 7 + seed * 3) % 17) as f32 / 16.0 - 0.5
    }

    fn float_var(name: &str, dims: &[u32], dtype: u8, seed: usize) -> Var {
        let n: usize = dims.iter().map(|&d| d as usize).product();
        let mut data = Vec::new();
        for i in 0..n {
            let v = value(seed, i);
            match dtype {
                0 => data.extend_from_slice(&v.to_le_bytes()),
                4 => data.extend_from_slice(&f32_to_f16(v).to_le_bytes()),
                5 => data.extend_from_slice(&((v.to_bits() >> 16) as u16).to_le_bytes()),
                _ => panic!("not a float type"),
            }
        }
        Var { name: name.to_owned(), dims: dims.to_vec(), dtype, data }
    }

    fn scalar(name: &str, dtype: u8, data: &[u8]) -> Var {
        Var { name: name.to_owned(), dims: Vec::new(), dtype, data: data.to_vec() }
    }

    /// A WhisperSpec with 2 + 2 layers, width 8, as CTranslate2 lays it out.
    fn synthetic_vars(dtype: u8) -> Vec<Var> {
        let (s, l) = (WIDTH, LAYERS);
        let mut vars = vec![
            scalar("decoder/activation", 1, &[3]),
            scalar("decoder/alignment_heads", 2, &[1, 0]),
            scalar("decoder/num_heads", 2, &2i16.to_le_bytes()),
            scalar("encoder/num_heads", 2, &2i16.to_le_bytes()),
        ];
        let mut specs: Vec<(String, Vec<u32>)> = vec![
            ("encoder/conv1/weight".into(), vec![s, N_MELS, 3]),
            ("encoder/conv1/bias".into(), vec![s]),
            ("encoder/conv2/weight".into(), vec![s, s, 3]),
            ("encoder/conv2/bias".into(), vec![s]),
            ("encoder/position_encodings/encodings".into(), vec![AUDIO_CTX, s]),
            ("encoder/layer_norm/gamma".into(), vec![s]),
            ("encoder/layer_norm/beta".into(), vec![s]),
            ("decoder/embeddings/weight".into(), vec![N_VOCAB, s]),
            ("decoder/position_encodings/encodings".into(), vec![TEXT_CTX, s]),
            ("decoder/layer_norm/gamma".into(), vec![s]),
            ("decoder/layer_norm/beta".into(), vec![s]),
        ];
        for side in ["encoder", "decoder"] {
            for i in 0..l {
                let p = format!("{side}/layer_{i}");
                let mut layer: Vec<(String, Vec<u32>)> = vec![
                    (format!("{p}/self_attention/layer_norm/gamma"), vec![s]),
                    (format!("{p}/self_attention/layer_norm/beta"), vec![s]),
                    (format!("{p}/self_attention/linear_0/weight"), vec![3 * s, s]),
                    (format!("{p}/self_attention/linear_0/bias"), vec![3 * s]),
                    (format!("{p}/self_attention/linear_1/weight"), vec![s, s]),
                    (format!("{p}/self_attention/linear_1/bias"), vec![s]),
                    (format!("{p}/ffn/layer_norm/gamma"), vec![s]),
                    (format!("{p}/ffn/layer_norm/beta"), vec![s]),
                    (format!("{p}/ffn/linear_0/weight"), vec![4 * s, s]),
                    (format!("{p}/ffn/linear_0/bias"), vec![4 * s]),
                    (format!("{p}/ffn/linear_1/weight"), vec![s, 4 * s]),
                    (format!("{p}/ffn/linear_1/bias"), vec![s]),
                ];
                if side == "decoder" {
                    layer.extend([
                        (format!("{p}/attention/layer_norm/gamma"), vec![s]),
                        (format!("{p}/attention/layer_norm/beta"), vec![s]),
                        (format!("{p}/attention/linear_0/weight"), vec![s, s]),
                        (format!("{p}/attention/linear_0/bias"), vec![s]),
                        (format!("{p}/attention/linear_1/weight"), vec![2 * s, s]),
                        (format!("{p}/attention/linear_1/bias"), vec![2 * s]),
                        (format!("{p}/attention/linear_2/weight"), vec![s, s]),
                        (format!("{p}/attention/linear_2/bias"), vec![s]),
                    ]);
                }
                specs.extend(layer);
            }
        }
        for (seed, (name, dims)) in specs.iter().enumerate() {
            vars.push(float_var(name, dims, dtype, seed));
        }
        vars.sort_by(|a, b| a.name.cmp(&b.name));
        vars
    }

    fn put_str(b: &mut Vec<u8>, s: &str) {
        b.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
        b.push(0);
    }

    fn ct2_bytes(vars: &[Var]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        put_str(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for v in vars {
            put_str(&mut b, &v.name);
            b.push(v.dims.len() as u8);
            for d in &v.dims {
                b.extend_from_slice(&d.to_le_bytes());
            }
            b.push(v.dtype);
            b.extend_from_slice(&(v.data.len() as u32).to_le_bytes());
            b.extend_from_slice(&v.data);
        }
        b.extend_from_slice(&1u32.to_le_bytes());
        put_str(&mut b, "decoder/projection/weight");
        put_str(&mut b, "decoder/embeddings/weight");
        b
    }

    fn vocabulary() -> String {
        let mut lines = vec!["!".to_owned(), "Ġhello".to_owned(), "Ċ".to_owned()];
        lines.extend((3..50_256).map(|i| format!("t{i}")));
        lines.push(END_OF_TEXT.to_owned());
        lines.extend((50_257..N_VOCAB).map(|i| format!("<|x{i}|>")));
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }

    fn write_ct2_dir(dir: &Path, vars: &[Var]) {
        fs::create_dir_all(dir).expect("model dir");
        fs::write(dir.join("model.bin"), ct2_bytes(vars)).expect("model.bin");
        fs::write(dir.join("vocabulary.txt"), vocabulary()).expect("vocabulary");
        fs::write(dir.join("config.json"), "{\"suppress_ids\": []}").expect("config");
    }

    struct Ggml {
        hparams: Vec<i32>,
        mel: (i32, i32, Vec<f32>),
        tokens: Vec<Vec<u8>>,
        tensors: BTreeMap<String, (Vec<i32>, i32, Vec<u8>)>,
    }

    struct Cursor {
        b: Vec<u8>,
        o: usize,
    }

    impl Cursor {
        fn take(&mut self, n: usize) -> Vec<u8> {
            let s = self.b[self.o..self.o + n].to_vec();
            self.o += n;
            s
        }

        fn i32(&mut self) -> i32 {
            let v = self.take(4);
            i32::from_le_bytes([v[0], v[1], v[2], v[3]])
        }
    }

    fn read_ggml(path: &Path) -> Ggml {
        let mut c = Cursor { b: fs::read(path).expect("read ggml"), o: 0 };
        assert_eq!(c.i32() as u32, ggml::MAGIC);
        let hparams: Vec<i32> = (0..11).map(|_| c.i32()).collect();
        let (n_mel, n_fft) = (c.i32(), c.i32());
        let mel = c
            .take((n_mel * n_fft * 4) as usize)
            .chunks_exact(4)
            .map(|v| f32::from_le_bytes([v[0], v[1], v[2], v[3]]))
            .collect();
        let n_tokens = c.i32();
        let mut tokens = Vec::new();
        for _ in 0..n_tokens {
            let len = c.i32() as usize;
            tokens.push(c.take(len));
        }
        let mut tensors = BTreeMap::new();
        while c.o < c.b.len() {
            let n_dims = c.i32();
            let name_len = c.i32() as usize;
            let ttype = c.i32();
            let ne: Vec<i32> = (0..n_dims).map(|_| c.i32()).collect();
            let name = String::from_utf8(c.take(name_len)).expect("utf-8 name");
            let n: usize = ne.iter().map(|&d| d as usize).product();
            let data = c.take(n * if ttype == 0 { 4 } else { 2 });
            assert!(tensors.insert(name, (ne, ttype, data)).is_none(), "duplicate tensor");
        }
        Ggml { hparams, mel: (n_mel, n_fft, mel), tokens, tensors }
    }

    fn var<'a>(vars: &'a [Var], name: &str) -> &'a Var {
        vars.iter().find(|v| v.name == name).expect(name)
    }

    /// f16 bytes as f32 bytes.
    fn f16_bytes_to_f32(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        convert_data(b, Dtype::F16, TensorType::F32, &mut out).expect("convert");
        out
    }

    #[test]
    fn converts_a_synthetic_model() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let ct2 = tmp.path().join("faster-whisper");
        let vars = synthetic_vars(4);
        write_ct2_dir(&ct2, &vars);
        let out = tmp.path().join("models").join("ggml-test.bin");

        let summary = convert_ct2(&ct2, &out).expect("convert");
        let tensors = 7 + 15 * LAYERS as usize + 4 + 24 * LAYERS as usize;
        assert_eq!(
            summary,
            ConvertSummary {
                out: out.clone(),
                n_vocab: N_VOCAB,
                n_audio_layer: LAYERS,
                n_text_layer: LAYERS,
                n_audio_state: WIDTH,
                tensors,
                bytes: fs::metadata(&out).expect("out").len(),
            }
        );
        assert!(!partial_path(&out).exists());

        let g = read_ggml(&out);
        assert_eq!(g.hparams, vec![51_864, 6, 8, 2, 2, 5, 8, 2, 2, 4, 1]);
        assert_eq!((g.mel.0, g.mel.1), (4, 201));
        assert_eq!(g.mel.2, mel_filters(4));
        assert_eq!(g.tokens.len(), 50_256);
        assert_eq!(g.tokens[0], b"!");
        assert_eq!(g.tokens[1], b" hello");
        assert_eq!(g.tokens[2], b"\n");
        assert_eq!(g.tokens[50_255], b"t50255");

        // Exactly the tensors whisper.cpp creates, with its shapes and types.
        let h = Hparams::from_array([51_864, 6, 8, 2, 2, 5, 8, 2, 2, 4, 1]);
        let expected = ggml::expected_tensors(&h, TensorType::F16);
        assert_eq!(g.tensors.len(), tensors);
        for spec in &expected {
            let (ne, ttype, _) = g.tensors.get(&spec.name).expect(&spec.name);
            let want: Vec<i32> = spec.ne.iter().map(|&d| d as i32).collect();
            assert_eq!(ne, &want, "{}", spec.name);
            assert_eq!(*ttype, spec.ttype.id(), "{}", spec.name);
        }
        assert!(g.tensors.keys().all(|n| !n.contains("key.bias")));
        let t = |n: &str| g.tensors.get(n).expect(n);
        assert_eq!(t("encoder.conv1.bias").0, vec![1, 8]);
        assert_eq!(t("encoder.conv1.bias").1, 0);
        assert_eq!(t("encoder.conv1.weight").0, vec![3, 4, 8]);
        assert_eq!(t("encoder.positional_embedding").1, 0);
        assert_eq!(t("decoder.token_embedding.weight").0, vec![8, 51_864]);
        assert_eq!(t("decoder.token_embedding.weight").1, 1);

        // The fused matrices are split by rows (8 values of 2 bytes per row).
        let row = (WIDTH * 2) as usize;
        let qkv = &var(&vars, "encoder/layer_1/self_attention/linear_0/weight").data;
        assert_eq!(t("encoder.blocks.1.attn.query.weight").2, qkv[..8 * row]);
        assert_eq!(t("encoder.blocks.1.attn.key.weight").2, qkv[8 * row..16 * row]);
        assert_eq!(t("encoder.blocks.1.attn.value.weight").2, qkv[16 * row..]);
        let qkv_bias = &var(&vars, "decoder/layer_0/self_attention/linear_0/bias").data;
        assert_eq!(t("decoder.blocks.0.attn.query.bias").2, f16_bytes_to_f32(&qkv_bias[..16]));
        assert_eq!(t("decoder.blocks.0.attn.value.bias").2, f16_bytes_to_f32(&qkv_bias[32..]));
        let kv = &var(&vars, "decoder/layer_1/attention/linear_1/weight").data;
        assert_eq!(t("decoder.blocks.1.cross_attn.key.weight").2, kv[..8 * row]);
        assert_eq!(t("decoder.blocks.1.cross_attn.value.weight").2, kv[8 * row..]);
        let kv_bias = &var(&vars, "decoder/layer_1/attention/linear_1/bias").data;
        assert_eq!(t("decoder.blocks.1.cross_attn.value.bias").2, f16_bytes_to_f32(&kv_bias[16..]));
        let gamma = &var(&vars, "decoder/layer_1/attention/layer_norm/gamma").data;
        assert_eq!(t("decoder.blocks.1.cross_attn_ln.weight").2, f16_bytes_to_f32(gamma));
        let fc2 = &var(&vars, "encoder/layer_0/ffn/linear_1/weight").data;
        assert_eq!(&t("encoder.blocks.0.mlp.2.weight").2, fc2);

        let info = ggml::validate(&out).expect("valid ggml");
        assert_eq!(info.tensors, tensors);
        assert!(info.english_only);

        // Converting again replaces the file.
        convert_ct2(&ct2, &out).expect("convert again");
        assert_eq!(read_ggml(&out).tensors.len(), tensors);
    }

    #[test]
    fn float32_and_bfloat16_models_give_the_same_file() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut files = Vec::new();
        for dtype in [4u8, 0, 5] {
            let ct2 = tmp.path().join(format!("m{dtype}"));
            write_ct2_dir(&ct2, &synthetic_vars(dtype));
            let out = tmp.path().join(format!("ggml-{dtype}.bin"));
            convert_ct2(&ct2, &out).expect("convert");
            files.push(fs::read(&out).expect("read"));
        }
        assert!(files[0] == files[1], "f32 source differs from f16");
        assert!(files[0] == files[2], "bf16 source differs from f16");
    }

    #[test]
    fn truncated_model_bin_names_the_file() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let ct2 = tmp.path().join("cut");
        write_ct2_dir(&ct2, &synthetic_vars(4));
        let model = ct2.join("model.bin");
        let len = fs::metadata(&model).expect("meta").len();
        // Each cut is shorter than the one before (growing the file would pad it with zeros).
        for cut in [len - 10, len / 2, 30] {
            fs::OpenOptions::new().write(true).open(&model).expect("open").set_len(cut).expect("cut");
            let out = tmp.path().join("out.bin");
            let err = convert_ct2(&ct2, &out).expect_err("truncated");
            assert!(matches!(err, ConvertError::Truncated { have, .. } if have == cut), "{err:?}");
            let text = err.to_string();
            assert!(text.contains("model.bin") && text.contains("truncated"), "{text}");
            assert!(!out.exists() && !partial_path(&out).exists());
        }
    }

    #[test]
    fn int8_model_is_refused() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let ct2 = tmp.path().join("int8");
        let mut vars = synthetic_vars(4);
        for v in vars.iter_mut().filter(|v| v.name.ends_with("linear_0/weight")) {
            v.dtype = 1;
            v.data.truncate(v.data.len() / 2);
        }
        vars.push(float_var("encoder/layer_0/ffn/linear_0/weight_scale", &[4 * WIDTH], 0, 0));
        vars.sort_by(|a, b| a.name.cmp(&b.name));
        write_ct2_dir(&ct2, &vars);
        let out = tmp.path().join("out.bin");
        let err = convert_ct2(&ct2, &out).expect_err("int8");
        assert!(matches!(err, ConvertError::Quantized { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("int8") && text.contains("model.bin") && text.contains("float16"), "{text}");
        assert!(!out.exists());
    }

    #[test]
    fn missing_files_and_other_inputs() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("out.bin");
        let err = convert_ct2(&tmp.path().join("nowhere"), &out).expect_err("missing");
        assert!(matches!(err, ConvertError::Missing { .. }) && err.to_string().contains("model.bin"), "{err}");

        let ct2 = tmp.path().join("novocab");
        write_ct2_dir(&ct2, &synthetic_vars(4));
        fs::remove_file(ct2.join("vocabulary.txt")).expect("rm");
        let err = convert_ct2(&ct2, &out).expect_err("no vocabulary");
        assert!(err.to_string().contains("vocabulary.txt"), "{err}");

        // vocabulary.json (newer CTranslate2) works too.
        let tokens: Vec<String> = vocabulary().lines().map(str::to_owned).collect();
        fs::write(ct2.join("vocabulary.json"), serde_json::to_string(&tokens).expect("json")).expect("write");
        convert_ct2(&ct2, &out).expect("json vocabulary");

        // A missing layer variable is named.
        let broken = tmp.path().join("broken");
        let vars: Vec<Var> =
            synthetic_vars(4).into_iter().filter(|v| v.name != "decoder/layer_1/attention/linear_2/bias").collect();
        write_ct2_dir(&broken, &vars);
        let err = convert_ct2(&broken, &out).expect_err("missing variable");
        assert!(err.to_string().contains("decoder/layer_1/attention/linear_2/bias"), "{err}");

        // A ggml file is not a CTranslate2 model.
        let ggml_dir = tmp.path().join("ggml");
        fs::create_dir_all(&ggml_dir).expect("dir");
        fs::copy(&out, ggml_dir.join("model.bin")).expect("copy");
        let err = convert_ct2(&ggml_dir, &tmp.path().join("x.bin")).expect_err("ggml input");
        assert!(err.to_string().contains("already"), "{err}");
    }
}
