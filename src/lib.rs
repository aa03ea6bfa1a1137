//! interview-coach: rehearse job interviews out loud, privately.
//!
//! Layers, each using only those below it (see ARCHITECTURE.md):
//! `util` < `paths`, `content`, `audio`, `model` < `transcribe` < `analysis`
//! < `store`, `settings` < `pipeline` (the path of one answer) < `ui` < `cli`.

pub mod analysis;
pub mod audio;
pub mod cli;
pub mod content;
pub mod model;
pub mod paths;
pub mod pipeline;
pub mod settings;
pub mod store;
pub mod transcribe;
pub mod ui;
pub mod util;
