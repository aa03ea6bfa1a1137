//! Audio: microphone capture into crash-safe WAV takes, and playback.

pub mod capture;
pub mod playback;
pub mod resample;
pub mod wav;
