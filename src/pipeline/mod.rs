//! The answer pipeline, shared by the app and the CLI: `Coach` holds the
//! state and the workers; `practice::Practice` drives one practice session
//! question by question (record -> transcribe -> analyse -> grade), as a
//! state machine fed by commands; `answer` turns a take into feedback.

pub mod adapt;
pub mod answer;
mod coach;
pub mod practice;

pub use coach::{AppEvent, Coach, Job, ModelDownload, ModelStatus, Notice, Notify, TakeJob};
