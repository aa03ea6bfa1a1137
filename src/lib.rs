//! interview-coach: rehearse job interviews out loud, privately.
//!
//! The domain core (`content`, `audio`, `transcribe`, `analysis`, `store`)
//! knows nothing of the UI; `ui` is a thin egui layer over it and `cli` a
//! thin command-line layer.

pub mod analysis;
pub mod audio;
pub mod cli;
pub mod content;
pub mod paths;
pub mod settings;
pub mod store;
pub mod transcribe;
pub mod ui;
