//! Leaf utilities every layer may use: atomic private file writes, the
//! audio sample rate and the one definition of speech and silence levels.

pub mod atomic;
pub mod level;

/// The rate whisper reads; every take is stored and analysed at it.
pub const SAMPLE_RATE: u32 = 16_000;
