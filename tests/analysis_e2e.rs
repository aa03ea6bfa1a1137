//! Feedback numbers on real speech with known counts: espeak-ng answers with
//! um/uh fillers, "like", "you know", I/we words, through the real
//! transcriber (tiny.en in the worker) and the audio filler detector.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use interview_coach::analysis::{self, Config, FillerSource};
use interview_coach::transcribe::worker::WorkerClient;

/// One piece of a scripted answer.
enum Piece {
    Words(&'static str),
    /// A filled pause ("um" or "uh"), held like a real one.
    Filler(&'static str),
    Pause(f64),
}

use Piece::{Filler, Pause, Words};

/// The script: 4 um, 4 uh, 1 "like" (filler), 1 "you know"; 6 I-words, 4 we-words.
fn script() -> Vec<Piece> {
    vec![
        Pause(0.5),
        Words("At my last company we ran the checkout service."),
        Pause(0.3),
        Filler("um"),
        Pause(0.25),
        Words("I owned the payment consumer and it was like really busy at peak."),
        Pause(0.35),
        Filler("uh"),
        Pause(0.3),
        Words("One night the consumer lag kept growing."),
        Pause(0.3),
        Filler("um"),
        Pause(0.3),
        Words("You know, the database was slow on a few hot keys."),
        Pause(0.4),
        Filler("uh"),
        Pause(0.25),
        Words("I added an alert and we scaled the consumers to the partition count."),
        Pause(0.3),
        Filler("um"),
        Pause(0.3),
        Words("Then I wrote the post mortem with my team."),
        Pause(0.35),
        Filler("uh"),
        Pause(0.3),
        Words("Our recovery time went down to ten minutes."),
        Pause(0.3),
        Filler("um"),
        Pause(0.3),
        Words("We still review that alert every month."),
        Pause(0.4),
        Filler("uh"),
        Pause(0.3),
        Words("That was the main lesson for me."),
        Pause(0.6),
    ]
}

const EXPECTED_UM_UH: usize = 8;
const EXPECTED_I: usize = 6; // my, I, I, I, my, me
const EXPECTED_WE: usize = 4; // we, we, our, we

fn synth(dir: &Path, n: usize, text: &str, voice: &str, rate: u32, ssml: bool) -> Vec<f32> {
    let path = dir.join(format!("piece{n}.wav"));
    let mut cmd = Command::new("espeak-ng");
    cmd.args(["-v", voice, "-s", &rate.to_string(), "-w"]).arg(&path);
    if ssml {
        cmd.arg("-m");
    }
    let status = cmd.arg(text).status().expect("espeak-ng");
    assert!(status.success());
    let mut samples = read_16k(&path);
    // Trim espeak's own leading/trailing silence: the script sets the pauses.
    let first = samples.iter().position(|s| s.abs() > 0.01).unwrap_or(0);
    let last = samples.iter().rposition(|s| s.abs() > 0.01).map_or(samples.len(), |i| i + 1);
    samples.truncate(last);
    samples.drain(..first);
    samples
}

/// Renders the script; returns the audio (16 kHz) and the true filler spans.
fn render(dir: &Path, voice: &str, rate: u32, with_fillers: bool) -> (Vec<f32>, Vec<(f64, f64)>, String) {
    let mut audio = Vec::new();
    let mut fillers = Vec::new();
    let mut text = Vec::new();
    for (n, piece) in script().into_iter().enumerate() {
        match piece {
            Words(words) => {
                audio.extend(synth(dir, n, words, voice, rate, false));
                text.push(words);
            }
            Filler(_) if !with_fillers => {}
            Filler(word) => {
                // espeak's own "um" is a clipped 0.2 s: slow it to a held filler.
                let ssml = format!("<speak><prosody rate=\"40%\" range=\"x-low\">{word}</prosody></speak>");
                let start = audio.len() as f64 / 16_000.0;
                audio.extend(synth(dir, n, &ssml, voice, rate, true));
                fillers.push((start, audio.len() as f64 / 16_000.0));
            }
            Pause(seconds) => audio.extend(vec![0.0; (seconds * 16_000.0) as usize]),
        }
    }
    (audio, fillers, text.join(" "))
}

fn write_wav(path: &Path, samples: &[f32]) {
    let mut writer = hound::WavWriter::create(path, interview_coach::audio::wav::take_spec()).expect("create");
    for &s in samples {
        writer.write_sample(interview_coach::audio::wav::f32_to_i16(s)).expect("write");
    }
    writer.finalize().expect("finalize");
}

#[test]
fn feedback_counts_on_real_speech_with_known_fillers() {
    let Some(model) = test_model("feedback_counts_on_real_speech_with_known_fillers") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut client = WorkerClient::new(bin().into());
    client.load(&model).expect("model");
    let config = Config::default();
    let (mut hits, mut correct_total, mut detections, mut truths) = (0usize, 0usize, 0usize, 0usize);
    for (voice, rate) in [("en-us", 150), ("en-gb", 170), ("en-us+f3", 140)] {
        let (audio, true_fillers, text) = render(dir.path(), voice, rate, true);
        let wav = dir.path().join(format!("{voice}-{rate}.wav"));
        write_wav(&wav, &audio);
        let transcript = client.transcribe_file(&wav, 1).expect("transcribe");
        let feedback = analysis::analyze(&transcript, Some(&audio), None, &config);

        // um/uh: each detection near a true filler is a hit.
        let found: Vec<&analysis::FillerItem> = feedback.fillers.items.iter().filter(|i| i.word == "um" || i.word == "uh").collect();
        let near = |t: f64, (s, e): (f64, f64)| t >= s - 0.3 && t <= e + 0.3;
        let matched = true_fillers.iter().filter(|span| found.iter().any(|f| near(f.start, **span))).count();
        let correct = found.iter().filter(|f| true_fillers.iter().any(|span| near(f.start, *span))).count();
        hits += matched;
        correct_total += correct;
        detections += found.len();
        truths += true_fillers.len();
        let from_audio = found.iter().filter(|f| f.source == FillerSource::Audio).count();
        println!(
            "{voice} {rate} wpm: um/uh {matched}/{} found ({} detections, {correct} correct, {from_audio} from the audio); like {}, you know {}; I {} we {}; {:.0} wpm",
            true_fillers.len(),
            found.len(),
            feedback.fillers.by_word.get("like").copied().unwrap_or(0),
            feedback.fillers.by_word.get("you know").copied().unwrap_or(0),
            feedback.i_words,
            feedback.we_words,
            feedback.wpm
        );
        println!("  transcript: {}", transcript.text);
        if std::env::var_os("SHOW_WORDS").is_some() {
            println!("  fillers: {true_fillers:?}");
            for w in &transcript.words {
                println!("    {:>6.2} {:>6.2} {}", w.start, w.end, w.word);
            }
            for f in &found {
                println!("  detected {} at {:.2} ({:?})", f.word, f.start, f.source);
            }
        }

        // Known counts, within stated tolerances.
        assert_eq!(true_fillers.len(), EXPECTED_UM_UH);
        assert_eq!(feedback.fillers.by_word.get("like").copied().unwrap_or(0), 1, "'like' as a filler, once");
        assert_eq!(feedback.fillers.by_word.get("you know").copied().unwrap_or(0), 1, "'you know', once");
        assert!(feedback.i_words.abs_diff(EXPECTED_I) <= 1, "I-words {} (expected {EXPECTED_I} ± 1)", feedback.i_words);
        assert!(feedback.we_words.abs_diff(EXPECTED_WE) <= 1, "we-words {} (expected {EXPECTED_WE} ± 1)", feedback.we_words);
        // Words per minute: the script's words over the take's length, ±10 %.
        let words = normalise_words(&text).len() as f64;
        let expected_wpm = words / (audio.len() as f64 / 16_000.0 / 60.0);
        assert!((feedback.wpm - expected_wpm).abs() <= expected_wpm * 0.1, "wpm {:.0}, expected {expected_wpm:.0}", feedback.wpm);
        assert_eq!(feedback.pauses.count, 0, "no pause of 2 s or more in the script");
    }
    // The same answers without fillers: every audio filler is a false one.
    let (mut false_fillers, mut clean_minutes) = (0usize, 0.0f64);
    for (voice, rate) in [("en-us", 150), ("en-gb", 170), ("en-us+f3", 140)] {
        let (audio, _, _) = render(dir.path(), voice, rate, false);
        let wav = dir.path().join(format!("clean-{voice}-{rate}.wav"));
        write_wav(&wav, &audio);
        let transcript = client.transcribe_file(&wav, 1).expect("transcribe");
        let feedback = analysis::analyze(&transcript, Some(&audio), None, &config);
        let false_here: Vec<f64> = feedback.fillers.items.iter().filter(|i| i.source == FillerSource::Audio).map(|i| i.start).collect();
        if std::env::var_os("SHOW_WORDS").is_some() && !false_here.is_empty() {
            println!("  {voice}: false fillers at {false_here:?}");
            for w in &transcript.words {
                println!("    {:>6.2} {:>6.2} {}", w.start, w.end, w.word);
            }
        }
        false_fillers += false_here.len();
        clean_minutes += audio.len() as f64 / 16_000.0 / 60.0;
    }
    let false_per_min = false_fillers as f64 / clean_minutes;
    println!("filler-free answers: {false_fillers} false um/uh in {clean_minutes:.1} min ({false_per_min:.1} per minute)");
    // Measured 3.2 per minute (README); a regression floor, not the goal.
    assert!(false_per_min <= 4.5, "{false_per_min:.1} false fillers per minute on clean speech");

    let recall = hits as f64 / truths as f64;
    let precision = if detections == 0 { 0.0 } else { correct_total as f64 / detections as f64 };
    println!(
        "um/uh over all voices: recall {:.0}% ({hits}/{truths}), precision {:.0}% ({correct_total}/{detections} detections)",
        recall * 100.0,
        precision * 100.0
    );
    // The product targets are 85 % recall and 90 % precision; measured here
    // (README) precision is met, recall on the US voices only. These floors
    // catch regressions without making CI flaky.
    assert!(recall >= 0.75, "um/uh recall {recall:.2}");
    assert!(precision >= 0.9, "um/uh precision {precision:.2}");
}
