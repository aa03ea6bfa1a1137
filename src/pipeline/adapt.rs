//! Fits the audio um/uh detector to the user's corrected takes (the rule is
//! `analysis::adapt`): each take the user corrected is analysed again from
//! its recording and transcript at every sensitivity tried, and what each
//! finds is scored against the take's um/uh as corrected.

use crate::analysis::adapt::{self, Fit, SENSITIVITIES, Score};
use crate::analysis::{Config, FillerItem, FillerSource};
use crate::store::Store;

fn is_um_uh(word: &str) -> bool {
    word.eq_ignore_ascii_case("um") || word.eq_ignore_ascii_case("uh")
}

/// An um/uh the audio detector found, or the user added (what the
/// detector should have found): whisper's own are not the detector's.
fn detector_item(item: &FillerItem) -> bool {
    is_um_uh(&item.word) && matches!(item.source, FillerSource::Audio | FillerSource::User)
}

/// The user's corrections of the audio detector in a take: its um/uh they
/// removed, and those they added.
fn detector_corrections(items: &[FillerItem]) -> usize {
    items.iter().filter(|i| detector_item(i) && (i.removed || i.source == FillerSource::User)).count()
}

/// Fits over the takes with um/uh corrections in the sessions `ids` (read
/// whole from the store). Takes whose recording or transcript is gone are
/// left out. `config` is the analysis as set now (its sensitivity is the
/// one in use).
pub fn fit_filler_detector(store: &Store, ids: &[String], config: &Config) -> Fit {
    let mut scores = vec![Score::default(); SENSITIVITIES.len()];
    let (mut takes, mut corrections) = (0, 0);
    for id in ids {
        let Ok(session) = store.load(id) else { continue };
        let Ok(dir) = store.session_dir(id) else { continue };
        for answer in &session.answers {
            let (Some(transcript), Some(feedback), Some(wav)) = (&answer.transcript, &answer.feedback, &answer.wav)
            else {
                continue;
            };
            let n = detector_corrections(&feedback.fillers.items);
            if n == 0 {
                continue;
            }
            // Read and analysed once; only the detector's judgement differs by sensitivity.
            let Ok(audio) = super::answer::AnalysedAudio::read(&dir.join(wav)) else { continue };
            let truth: Vec<f64> =
                feedback.fillers.items.iter().filter(|i| !i.removed && detector_item(i)).map(|i| i.start).collect();
            takes += 1;
            corrections += n;
            for (score, &sensitivity) in scores.iter_mut().zip(&SENSITIVITIES) {
                let config = Config { filler_sensitivity: sensitivity, ..config.clone() };
                let raw = super::answer::feedback_with(transcript, Some(&audio), None, &config);
                let found: Vec<f64> = raw.fillers.items.iter().filter(|i| detector_item(i)).map(|i| i.start).collect();
                score.add(adapt::score(&found, &truth));
            }
        }
    }
    Fit::new(takes, corrections, SENSITIVITIES.iter().copied().zip(scores).collect(), config.filler_sensitivity)
}
