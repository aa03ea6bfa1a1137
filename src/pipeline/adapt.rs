//! Fits the audio um/uh detector to the user's corrected takes (the rule is
//! `analysis::adapt`): each take the user corrected is analysed again from
//! its recording and transcript at every sensitivity tried, and what each
//! finds is scored against the take's um/uh as corrected.

use crate::analysis::adapt::{self, Fit, SENSITIVITIES, Score};
use crate::analysis::corrections::CorrectionAction;
use crate::analysis::{self, Config};
use crate::store::{Answer, Store};

fn is_um_uh(word: &str) -> bool {
    word.eq_ignore_ascii_case("um") || word.eq_ignore_ascii_case("uh")
}

/// The user's corrections of um/uh in a take ("not a filler" without a word
/// counts: it may have been one).
fn um_uh_corrections(answer: &Answer) -> usize {
    answer
        .filler_corrections
        .iter()
        .filter(|c| match &c.action {
            CorrectionAction::NotAFiller { word } => word.is_empty() || is_um_uh(word),
            CorrectionAction::Missed { word } => is_um_uh(word),
        })
        .count()
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
            let n = um_uh_corrections(answer);
            let (Some(transcript), Some(feedback), Some(wav)) = (&answer.transcript, &answer.feedback, &answer.wav)
            else {
                continue;
            };
            if n == 0 {
                continue;
            }
            let Ok(audio) = super::answer::take_audio(&dir.join(wav)) else { continue };
            let truth: Vec<f64> =
                feedback.fillers.items.iter().filter(|i| !i.removed && is_um_uh(&i.word)).map(|i| i.start).collect();
            takes += 1;
            corrections += n;
            for (score, &sensitivity) in scores.iter_mut().zip(&SENSITIVITIES) {
                let config = Config { filler_sensitivity: sensitivity, ..config.clone() };
                let raw = analysis::analyze(transcript, Some(&audio), None, &config);
                let found: Vec<f64> = raw.fillers.items.iter().filter(|i| is_um_uh(&i.word)).map(|i| i.start).collect();
                score.add(adapt::score(&found, &truth));
            }
        }
    }
    Fit::new(takes, corrections, SENSITIVITIES.iter().copied().zip(scores).collect(), config.filler_sensitivity)
}
