//! Whisper model files: the catalogue and checked downloads, conversion of
//! faster-whisper (CTranslate2) models to ggml, and validation of any ggml
//! file before it is loaded. Running whisper lives in `transcribe`.

pub mod catalog;
pub mod convert;
pub mod ggml;
