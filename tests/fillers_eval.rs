//! um/uh on voices the detector was never tuned on: the answers of the
//! evaluation set that hold fillers, spoken by the held-out voice families
//! (festival's HTS voice, piper's neural voice), with short fillers (as the
//! voice says them), held ones (0.30–0.60 s) and none, the last two also
//! with white noise 25 dB under the speech, transcribed as the
//! app transcribes a live take (cut at pauses, the question's prompt) and
//! analysed with the audio. Prints recall and precision per family and
//! filler length with the gap to the targets, and asserts at most 0.5 false
//! um/uh per minute without fillers and the floors measured when this test
//! was written (the targets are not all met: see the README's table). The
//! same takes measure "like", "you know" and "basically" (and "like" that is
//! not a filler).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::collections::BTreeMap;

use common::eval::{self, Rendering, Voice};
use common::*;
use interview_coach::analysis::Config;
use interview_coach::analysis::fillers::HESITATION_SOUNDS;
use interview_coach::content::Library;
use interview_coach::pipeline::answer;
use interview_coach::transcribe::prompt::{Prompt, PromptMode};
use interview_coach::transcribe::worker::WorkerClient;

/// Background noise of the noisy renderings: the middle of the 20–30 dB a
/// quiet room with a laptop fan gives.
const NOISE_SNR_DB: f64 = 25.0;

#[derive(Default)]
struct Tally {
    truth: usize,
    found: usize,
    reported: usize,
    false_reported: usize,
    clean_minutes: f64,
}

impl Tally {
    fn recall(&self) -> f64 {
        self.found as f64 / self.truth.max(1) as f64
    }
    fn precision(&self) -> f64 {
        if self.reported == 0 { 1.0 } else { (self.reported - self.false_reported) as f64 / self.reported as f64 }
    }
}

#[test]
fn um_and_uh_on_held_out_voice_families() {
    let Some(model) = test_model("um_and_uh_on_held_out_voice_families") else { return };
    let voices: Vec<Voice> = eval::VOICES.into_iter().filter(|v| v.held_out()).collect();
    for voice in &voices {
        assert!(
            eval::available(*voice) || std::env::var("CI").is_err(),
            "{} is not installed (scripts/setup-system.sh test, scripts/tts-setup.sh)",
            voice.name()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut client = WorkerClient::new(bin().into());
    client.load(&model).expect("model");
    let library = Library::builtin();
    let config = Config::default();
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut words: BTreeMap<(String, &str), Tally> = BTreeMap::new();
    for voice in voices.into_iter().filter(|v| eval::available(*v)) {
        for a in eval::answers().iter().filter(|a| a.um_uh() > 0 || a.like_not_filler > 0) {
            let q = library.question(&a.question).unwrap();
            let prompt = Prompt::for_question(q.question, q.mock, &[], PromptMode::default());
            let renderings = [
                (Rendering::Short, None),
                (Rendering::Held, None),
                (Rendering::Clean, None),
                (Rendering::Held, Some(NOISE_SNR_DB)),
                (Rendering::Clean, Some(NOISE_SNR_DB)),
            ];
            // An answer without um/uh is here for its "like" that is not a
            // filler: said once, as it is.
            let renderings = if a.um_uh() > 0 { &renderings[..] } else { &renderings[2..3] };
            for &(rendering, noise) in renderings {
                let spoken = eval::render(dir.path(), a, voice, rendering);
                let samples = match noise {
                    Some(snr) => eval::with_noise(&spoken, snr, a.id.len() as u32),
                    None => spoken,
                };
                let label = match noise {
                    Some(_) => format!("{} + noise", rendering.label()),
                    None => rendering.label().to_owned(),
                };
                let wav = dir.path().join(format!("{}-{}.wav", a.id, label.replace([' ', '/', '+'], "_")));
                eval::write_wav(&wav, &samples);
                let transcript = eval::streamed(&samples, |chunk, previous| {
                    client.transcribe_chunk(chunk, 1, &prompt, previous).expect("chunk")
                });
                let feedback = answer::feedback(&transcript, Some(&wav), Some(q.question), &config).unwrap();
                let reported: usize =
                    HESITATION_SOUNDS.iter().map(|w| feedback.fillers.by_word.get(*w).copied().unwrap_or(0)).sum();
                let truth = if rendering == Rendering::Clean { 0 } else { a.um_uh() };
                // The word fillers, said in every rendering (the fillers issue's
                // "like", "you know", "basically"; a "like" that is a verb or a
                // preposition is not one).
                for (word, said) in [("like", a.like_fillers), ("you know", a.you_know), ("basically", a.basically)] {
                    let reported = feedback.fillers.by_word.get(word).copied().unwrap_or(0);
                    let w = words.entry((voice.family().to_owned(), word)).or_default();
                    w.truth += said;
                    w.found += reported.min(said);
                    w.reported += reported;
                    w.false_reported += reported.saturating_sub(said);
                }
                let t = tallies.entry((voice.family().to_owned(), label)).or_default();
                t.truth += truth;
                t.found += reported.min(truth);
                t.reported += reported;
                t.false_reported += reported.saturating_sub(truth);
                if truth == 0 {
                    t.clean_minutes += samples.len() as f64 / 16_000.0 / 60.0;
                }
            }
        }
    }
    let mut failures = Vec::new();
    for ((family, rendering), t) in &tallies {
        if rendering.starts_with("no um/uh") {
            let per_min = t.false_reported as f64 / t.clean_minutes.max(1e-9);
            println!("{family}, {rendering}: {} false um/uh, {per_min:.2} per minute (target ≤ 0.5)", t.false_reported);
            if per_min > 0.5 {
                failures.push(format!("{family}: {per_min:.2} false um/uh per minute"));
            }
            continue;
        }
        let target = if rendering.starts_with("held") { 0.95 } else { 0.80 };
        println!(
            "{family}, {rendering} um/uh: recall {:.0} % ({}/{}; target {:.0} %, gap {:+.0} points), precision {:.0} %",
            t.recall() * 100.0,
            t.found,
            t.truth,
            target * 100.0,
            (t.recall() - target) * 100.0,
            t.precision() * 100.0
        );
        // Floors: what was measured when this test was written, in two runs
        // (held: 95–100 % recall, 79–91 % precision; short: 35 % on festival
        // HTS, 75–80 % on piper, 94–100 % precision), less a margin: piper's
        // voice is sampled (VITS noise), so its audio, and one filler or two
        // of twenty, change from run to run. The targets (precision 90 %,
        // recall 95 % held and 80 % short) are printed above with the gap.
        // In noise (25 dB SNR) the same floors hold (first measured: held
        // 100 % recall at 87–95 % precision, no false um/uh).
        let (recall_floor, precision_floor) = if rendering.starts_with("held") { (0.85, 0.7) } else { (0.25, 0.8) };
        if t.recall() < recall_floor {
            failures.push(format!("{family}, {rendering}: recall {:.2} under {recall_floor}", t.recall()));
        }
        if t.precision() < precision_floor {
            failures.push(format!("{family}, {rendering}: precision {:.2} under {precision_floor}", t.precision()));
        }
    }
    for ((family, word), w) in words.iter().filter(|(_, w)| w.truth > 0) {
        // Floors under the first measurement (100 % recall everywhere; "like"
        // 67 % precise on festival HTS, the rest 100 %), with a margin for
        // two of each word per rendering.
        if w.recall() < 0.8 || w.precision() < 0.6 {
            failures.push(format!("{family}, \"{word}\": recall {:.2}, precision {:.2}", w.recall(), w.precision()));
        }
        println!(
            "{family}, \"{word}\": recall {:.0} % ({}/{}; target 95 %, gap {:+.0} points), precision {:.0} % ({} reported)",
            w.recall() * 100.0,
            w.found,
            w.truth,
            (w.recall() - 0.95) * 100.0,
            w.precision() * 100.0,
            w.reported
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
