//! Feedback numbers on real speech with known counts: espeak-ng answers with
//! um/uh fillers, "like", "you know", I/we words, through the real
//! transcriber (tiny.en in the worker) and the audio filler detector.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::path::Path;
use std::process::Command;

use common::eval;
use common::*;
use interview_coach::analysis::{self, Config, FillerSource};
use interview_coach::transcribe::prompt::Prompt;
use interview_coach::transcribe::worker::WorkerClient;

/// One piece of a scripted answer.
enum Piece {
    Words(&'static str),
    /// A filled pause ("um" or "uh"), held like a real one.
    Filler(&'static str),
    Pause(f64),
}

use Piece::{Filler, Pause, Words};

/// A scripted answer and its hand-counted truth.
struct Script {
    pieces: Vec<Piece>,
    um_uh: usize,
    i_words: usize,
    we_words: usize,
    /// Transcript fillers other than um/uh, with their counts.
    word_fillers: &'static [(&'static str, usize)],
}

/// The answer the detector's thresholds were measured on: 4 um, 4 uh, 1
/// "like" (filler), 1 "you know"; 6 I-words, 4 we-words.
fn tuning_script() -> Script {
    let pieces = vec![
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
    ];
    // I-words: my, I, I, I, my, me; we-words: we, we, our, we.
    Script { pieces, um_uh: 8, i_words: 6, we_words: 4, word_fillers: &[("like", 1), ("you know", 1)] }
}

/// A second answer, never used for tuning, with shorter and uneven pauses
/// around its fillers: 4 uh, 4 um, 1 "basically"; 4 I-words, 4 we-words.
fn held_out_script() -> Script {
    let pieces = vec![
        Pause(0.4),
        Words("We had to move the billing jobs off an old cron server."),
        Pause(0.2),
        Filler("uh"),
        Pause(0.2),
        Words("I wrote a small scheduler in Go with a Postgres lock."),
        Pause(0.45),
        Filler("um"),
        Pause(0.15),
        Words("Basically the hard part was making retries safe."),
        Pause(0.3),
        Filler("uh"),
        Pause(0.3),
        Words("My first version ran every job twice after a deploy."),
        Pause(0.2),
        Filler("um"),
        Pause(0.35),
        Words("We fixed it with a unique key on the job name and the hour."),
        Pause(0.25),
        Filler("uh"),
        Pause(0.2),
        Words("After that our error rate went down to zero."),
        Pause(0.3),
        Filler("um"),
        Pause(0.3),
        Words("I still think a queue would have been cleaner."),
        Pause(0.35),
        Filler("uh"),
        Pause(0.25),
        Words("Next time I would start with one."),
        Pause(0.3),
        Filler("um"),
        Pause(0.2),
        Words("We agreed on that as a team."),
        Pause(0.6),
    ];
    // I-words: I, my, I, I; we-words: we, we, our, we.
    Script { pieces, um_uh: 8, i_words: 4, we_words: 4, word_fillers: &[("basically", 1)] }
}

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
fn render(
    dir: &Path,
    script: &Script,
    voice: &str,
    rate: u32,
    with_fillers: bool,
) -> (Vec<f32>, Vec<(f64, f64)>, String) {
    let mut audio = Vec::new();
    let mut fillers = Vec::new();
    let mut text = Vec::new();
    for (n, piece) in script.pieces.iter().enumerate() {
        match *piece {
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

/// um/uh found against the truth, over some takes.
#[derive(Default)]
struct Tally {
    /// True fillers with a detection near them.
    hits: usize,
    truths: usize,
    /// Detections near a true filler.
    correct: usize,
    /// All detections, including those on the filler-free takes.
    detections: usize,
    /// Detections on the filler-free takes, and those takes' minutes.
    false_on_clean: usize,
    clean_minutes: f64,
}

impl Tally {
    fn recall(&self) -> f64 {
        self.hits as f64 / self.truths.max(1) as f64
    }

    fn precision(&self) -> f64 {
        if self.detections == 0 { 0.0 } else { self.correct as f64 / self.detections as f64 }
    }

    fn false_per_minute(&self) -> f64 {
        self.false_on_clean as f64 / self.clean_minutes.max(1e-9)
    }

    fn add(&mut self, other: &Tally) {
        self.hits += other.hits;
        self.truths += other.truths;
        self.correct += other.correct;
        self.detections += other.detections;
        self.false_on_clean += other.false_on_clean;
        self.clean_minutes += other.clean_minutes;
    }

    fn report(&self, name: &str) -> String {
        format!(
            "{name}: recall {:.0}% ({}/{}), precision {:.0}% ({}/{} detections, filler-free takes included), {:.1} false um/uh per minute of filler-free speech ({:.1} min)",
            self.recall() * 100.0,
            self.hits,
            self.truths,
            self.precision() * 100.0,
            self.correct,
            self.detections,
            self.false_per_minute(),
            self.clean_minutes
        )
    }
}

/// How many detections (start times) match a true filler span one to one: a
/// detection matches when it starts within the filler or up to 0.3 s before
/// it (whisper's token times often start a word early, in the pause).
fn match_one_to_one(detections: &[f64], fillers: &[(f64, f64)]) -> usize {
    let mut used = vec![false; detections.len()];
    let mut matched = 0;
    for &(s, e) in fillers {
        let candidate = (0..detections.len())
            .filter(|&i| !used[i] && detections[i] >= s - 0.3 && detections[i] <= e)
            .min_by(|&a, &b| (detections[a] - s).abs().total_cmp(&(detections[b] - s).abs()));
        if let Some(i) = candidate {
            used[i] = true;
            matched += 1;
        }
    }
    matched
}

/// Runs one script in several voices, with and without its fillers, checks
/// every count, and tallies um/uh detections.
fn measure(client: &mut WorkerClient, dir: &Path, name: &str, script: &Script, voices: &[(&str, u32)]) -> Tally {
    let config = Config::default();
    let show = std::env::var_os("SHOW_WORDS").is_some();
    let mut tally = Tally::default();
    for &(voice, rate) in voices {
        let (audio, true_fillers, text) = render(dir, script, voice, rate, true);
        let wav = dir.join(format!("{name}-{voice}-{rate}.wav"));
        eval::write_wav(&wav, &audio);
        let transcript = client.transcribe_file(&wav, 1, &Prompt::verbatim()).expect("transcribe");
        let feedback = analysis::analyze(&transcript, Some(&audio), None, &config);

        // um/uh: each true filler is matched to at most one detection and
        // each detection to at most one filler, so a double count is a false one.
        let found: Vec<&analysis::FillerItem> =
            feedback.fillers.items.iter().filter(|i| i.word == "um" || i.word == "uh").collect();
        let matched = match_one_to_one(&found.iter().map(|f| f.start).collect::<Vec<_>>(), &true_fillers);
        let correct = matched;
        tally.hits += matched;
        tally.correct += correct;
        tally.detections += found.len();
        tally.truths += true_fillers.len();
        let from_audio = found.iter().filter(|f| f.source == FillerSource::Audio).count();
        let count = |word: &str| feedback.fillers.by_word.get(word).copied().unwrap_or(0);
        println!(
            "{name}, {voice} {rate} wpm: um/uh {matched}/{} found ({} detections, {correct} correct, {from_audio} from the audio); {}; I {} we {}; {:.0} wpm",
            true_fillers.len(),
            found.len(),
            script.word_fillers.iter().map(|(w, _)| format!("{w} {}", count(w))).collect::<Vec<_>>().join(", "),
            feedback.i_words,
            feedback.we_words,
            feedback.wpm
        );
        println!("  transcript: {}", transcript.text);
        if show {
            println!("  fillers: {true_fillers:?}");
            for w in &transcript.words {
                println!("    {:>6.2} {:>6.2} {}", w.start, w.end, w.word);
            }
            for f in &found {
                println!("  detected {} at {:.2} ({:?})", f.word, f.start, f.source);
            }
        }

        // Known counts, within stated tolerances.
        assert_eq!(true_fillers.len(), script.um_uh);
        for &(word, expected) in script.word_fillers {
            assert_eq!(count(word), expected, "{name}, {voice}: '{word}' as a filler");
        }
        assert!(
            feedback.i_words.abs_diff(script.i_words) <= 1,
            "{name}, {voice}: I-words {} (expected {} ± 1)",
            feedback.i_words,
            script.i_words
        );
        assert!(
            feedback.we_words.abs_diff(script.we_words) <= 1,
            "{name}, {voice}: we-words {} (expected {} ± 1)",
            feedback.we_words,
            script.we_words
        );
        // Words per minute: the script's words over the take's length, ±10 %.
        let words = normalise_words(&text).len() as f64;
        let expected_wpm = words / (audio.len() as f64 / 16_000.0 / 60.0);
        assert!(
            (feedback.wpm - expected_wpm).abs() <= expected_wpm * 0.1,
            "{name}, {voice}: wpm {:.0}, expected {expected_wpm:.0}",
            feedback.wpm
        );
        assert_eq!(feedback.pauses.count, 0, "no pause of 2 s or more in the script");

        // The same answer without its fillers: every um/uh is a false one.
        let (audio, _, _) = render(dir, script, voice, rate, false);
        let wav = dir.join(format!("{name}-clean-{voice}-{rate}.wav"));
        eval::write_wav(&wav, &audio);
        let transcript = client.transcribe_file(&wav, 1, &Prompt::verbatim()).expect("transcribe");
        let feedback = analysis::analyze(&transcript, Some(&audio), None, &config);
        let false_here: Vec<f64> =
            feedback.fillers.items.iter().filter(|i| i.word == "um" || i.word == "uh").map(|i| i.start).collect();
        if !false_here.is_empty() {
            println!("  without fillers: false um/uh at {false_here:?}");
            if show {
                for w in &transcript.words {
                    println!("    {:>6.2} {:>6.2} {}", w.start, w.end, w.word);
                }
            }
        }
        tally.false_on_clean += false_here.len();
        tally.detections += false_here.len();
        tally.clean_minutes += audio.len() as f64 / 16_000.0 / 60.0;
    }
    tally
}

#[test]
fn feedback_counts_on_real_speech_with_known_fillers() {
    let Some(model) = test_model("feedback_counts_on_real_speech_with_known_fillers") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut client = WorkerClient::new(bin().into());
    client.load(&model).expect("model");

    let tuning = measure(
        &mut client,
        dir.path(),
        "tuning",
        &tuning_script(),
        &[("en-us", 150), ("en-gb", 170), ("en-us+f3", 140)],
    );
    // Other voices, rates and pauses than the thresholds were set on.
    let held_out = measure(
        &mut client,
        dir.path(),
        "held out",
        &held_out_script(),
        &[("en-us+m3", 180), ("en-us+f2", 145), ("en-gb-x-rp+f4", 155), ("en-us+m1", 165)],
    );
    let mut all = Tally::default();
    all.add(&tuning);
    all.add(&held_out);
    println!("{}", tuning.report("um/uh, tuning answer"));
    println!("{}", held_out.report("um/uh, held-out answer"));
    println!("{}", all.report("um/uh, all"));
    // The product targets: at least 85 % recall and 90 % precision.
    assert!(all.recall() >= 0.85, "{}", all.report("um/uh recall under 85 %"));
    assert!(all.precision() >= 0.9, "{}", all.report("um/uh precision under 90 %"));
    // Neither answer may fall far below it on its own (measured: 100 % and
    // 88 %), and fluent speech stays clean (measured: no false um/uh).
    assert!(tuning.recall() >= 0.85, "{}", tuning.report("tuning answer"));
    assert!(held_out.recall() >= 0.8, "{}", held_out.report("held-out answer"));
    assert!(all.false_on_clean <= 1, "{}", all.report("false um/uh on filler-free speech"));
}
