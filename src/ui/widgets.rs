//! Small views shared by the screens.

use eframe::egui::{self, Color32, RichText};

use super::Coach;
use crate::analysis::corrections::{CorrectionAction, FillerCorrection};
use crate::analysis::{Feedback, FillerItem, FillerSource, clock};
use crate::audio::capture::Level;
use crate::content::{Library, Probe, Question, Stage};
use crate::store::Level as Grade;
use crate::transcribe::Transcript;

pub const WARN: Color32 = Color32::from_rgb(230, 160, 40);
pub const BAD: Color32 = Color32::from_rgb(220, 70, 60);
pub const GOOD: Color32 = Color32::from_rgb(80, 170, 100);

pub fn model_badge(ui: &mut egui::Ui, core: &Coach) {
    let m = &core.model();
    if m.loading {
        ui.label(RichText::new("loading model…").weak());
    } else if let Some(info) = &m.info {
        ui.label(RichText::new(format!("model: {}", info.describe())).weak());
    } else if m.error.is_some() {
        ui.label(RichText::new("no transcription model").color(WARN))
            .on_hover_text(m.error.clone().unwrap_or_default());
    }
}

pub fn notices(ui: &mut egui::Ui, core: &mut Coach) {
    let mut dismiss = None;
    for (i, notice) in core.notices().iter().enumerate().rev().take(4) {
        ui.horizontal(|ui| {
            let text = RichText::new(&notice.text);
            ui.label(if notice.error { text.color(BAD) } else { text });
            if notice.error && ui.small_button("Dismiss").clicked() {
                dismiss = Some(i);
            }
        });
    }
    if let Some(i) = dismiss {
        core.dismiss_notice(i);
    }
}

/// A bar filling towards a budget, amber near it, red past it.
pub fn budget_bar(ui: &mut egui::Ui, label: &str, elapsed: f64, budget: f64) {
    let fraction = if budget > 0.0 { (elapsed / budget) as f32 } else { 0.0 };
    let color = if fraction >= 1.0 {
        BAD
    } else if fraction >= 0.8 {
        WARN
    } else {
        GOOD
    };
    let text = if elapsed > budget {
        format!("{label}: {} over the {} budget", clock(elapsed - budget), clock(budget))
    } else {
        format!("{label}: {} of {}", clock(elapsed), clock(budget))
    };
    // At 0 % egui still draws the fill's rounded end: a dot over the text.
    let fill = if fraction > 0.0 { color } else { Color32::TRANSPARENT };
    ui.add(egui::ProgressBar::new(fraction.min(1.0)).fill(fill).text(text).desired_width(ui.available_width()));
}

/// What the colours of a transcript mean.
pub fn transcript_legend(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Colours:").weak().small());
        for (color, what) in [
            (WARN, "filler (in brackets: heard in the audio or added by you; struck through: not a filler)"),
            (BAD, "red-flag phrase"),
            (GOOD, "I"),
            (WE_COLOR, "we"),
            (NUMBER_COLOR, "a number"),
        ] {
            ui.label(RichText::new(what).color(color).strong().small());
        }
    });
}

const WE_COLOR: Color32 = Color32::from_rgb(120, 150, 230);
const NUMBER_COLOR: Color32 = Color32::from_rgb(90, 180, 200);

pub fn level_meter(ui: &mut egui::Ui, level: Option<&Level>) {
    let (peak, rms) = level.map_or((0.0, 0.0), |l| (l.peak, l.rms));
    // A dB scale reads like a real meter: -60 dBFS empty, 0 dBFS full.
    let db = 20.0 * rms.max(1e-6).log10();
    let fill = ((db + 60.0) / 60.0).clamp(0.0, 1.0);
    let color = if peak >= 0.99 { BAD } else { GOOD };
    ui.add(egui::ProgressBar::new(fill).fill(color).text(format!("input level {db:.0} dB")).desired_width(220.0));
    if let Some(level) = level {
        if level.clipping {
            ui.colored_label(BAD, "clipping: move back from the microphone");
        } else if level.too_quiet {
            ui.colored_label(WARN, "too quiet: is the right microphone selected?");
        }
    }
}

/// Text with `inline code` shown in monospace.
pub fn rich_line(ui: &mut egui::Ui, text: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for (i, part) in text.split('`').enumerate() {
            if part.is_empty() {
                continue;
            }
            if i % 2 == 1 {
                ui.label(RichText::new(part).code());
            } else {
                ui.label(part);
            }
        }
    });
}

pub fn bullet_list(ui: &mut egui::Ui, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    ui.label(RichText::new(title).strong());
    for item in items {
        ui.horizontal_wrapped(|ui| {
            ui.label("•");
            rich_line(ui, item);
        });
    }
}

pub fn probes(ui: &mut egui::Ui, title: &str, probes: &[Probe], with_answers: bool) {
    if probes.is_empty() {
        return;
    }
    ui.label(RichText::new(title).strong());
    for probe in probes {
        ui.horizontal_wrapped(|ui| {
            ui.label("•");
            rich_line(ui, &probe.text);
        });
        if let (true, Some(answer)) = (with_answers, &probe.answer) {
            ui.horizontal_wrapped(|ui| {
                ui.add_space(16.0);
                ui.label(RichText::new("→").weak());
                rich_line(ui, answer);
            });
        }
    }
}

/// The interviewer's notes for a question: strong answer, code, listen-for,
/// red flags (question and stage), probes with their answers.
pub fn answer_notes(ui: &mut egui::Ui, stage: &Stage, question: &Question) {
    if let Some(strong) = &question.strong_answer {
        ui.label(RichText::new("Strong answer").strong());
        rich_line(ui, strong);
    }
    for block in &question.code {
        if let Some(title) = &block.title {
            ui.label(RichText::new(title).italics());
        }
        let mut code = block.text.clone();
        ui.add(egui::TextEdit::multiline(&mut code).code_editor().interactive(false).desired_width(f32::INFINITY));
    }
    probes(ui, "Probes", &question.probes, true);
    bullet_list(ui, "Listen for", &question.listen_for);
    bullet_list(ui, "Listen for (stage)", &stage.listen_for);
    bullet_list(ui, "Expect", &stage.expect);
    bullet_list(ui, "Red flags", &question.red_flags);
    bullet_list(ui, "Red flags (stage)", &stage.red_flags);
    probes(ui, "Stage probes", &stage.probes, true);
}

/// Beside a follow-up answer: the probe, the answer it is after, the key
/// points it digs into, and the question's strong answer for context.
pub fn follow_up_notes(ui: &mut egui::Ui, stage: &Stage, question: &Question, follow_up: &crate::store::FollowUp) {
    ui.label(RichText::new("The follow-up").heading());
    ui.label(RichText::new(&follow_up.text).strong());
    if let Some(point) = &follow_up.missed {
        ui.label(RichText::new(format!("Asked because the answer did not cover \u{201c}{point}\u{201d}.")).weak());
    }
    let all = crate::analysis::follow_up::probes(question, stage);
    let found = crate::analysis::follow_up::find(&all, follow_up.probe, &follow_up.text);
    if let Some(probe) = found.and_then(|i| all.get(i)) {
        if let Some(answer) = &probe.answer {
            ui.label(RichText::new("What it is after").strong());
            rich_line(ui, answer);
        }
        bullet_list(ui, "Key points it digs into", &probe.key_points);
    }
    if let Some(strong) = &question.strong_answer {
        ui.label(RichText::new("The question's strong answer").strong());
        rich_line(ui, strong);
    }
}

/// What the interviewer needs while the candidate answers (peer mode): the
/// strong answer, probes and red flags, without code the candidate would
/// read off the screen.
pub fn interviewer_notes(ui: &mut egui::Ui, stage: &Stage, question: &Question) {
    if let Some(strong) = &question.strong_answer {
        ui.label(RichText::new("Strong answer").strong());
        rich_line(ui, strong);
    }
    probes(ui, "Probes", &question.probes, true);
    probes(ui, "Stage probes", &stage.probes, true);
    bullet_list(ui, "Red flags", &question.red_flags);
    bullet_list(ui, "Red flags (stage)", &stage.red_flags);
}

/// This question's rubric rows with their level descriptions, and a
/// self-grade selector per signal. Returns true when a grade changed.
pub fn rubric_grades(
    ui: &mut egui::Ui,
    library: &Library,
    question: &Question,
    grades: &mut std::collections::BTreeMap<String, Grade>,
) -> bool {
    let mut changed = false;
    for signal_id in &question.signals {
        let Some(signal) = library.signal(signal_id) else { continue };
        ui.label(RichText::new(&signal.name).strong());
        let text_width = (ui.available_width() - 90.0).max(120.0);
        egui::Grid::new(("rubric", signal_id)).num_columns(2).striped(true).max_col_width(text_width).show(ui, |ui| {
            for (level, cell) in Grade::ALL.iter().zip(signal.cells()) {
                let selected = grades.get(signal_id) == Some(level);
                let response =
                    ui.selectable_label(selected, level.label()).on_hover_text(format!("{}: {cell}", signal.name));
                if response.clicked() {
                    grades.insert(signal_id.clone(), *level);
                    changed = true;
                }
                ui.add(egui::Label::new(RichText::new(cell).small()).wrap());
                ui.end_row();
            }
        });
        ui.add_space(4.0);
    }
    changed
}

/// Why a word is highlighted, if it is.
fn word_note(feedback: Option<&Feedback>, start: f64, text: &str) -> Option<(Color32, String)> {
    let f = feedback?;
    let near = |t: f64| (t - start).abs() < 0.05;
    let transcript_filler = f.fillers.items.iter().find(|i| i.source == FillerSource::Transcript && near(i.start));
    if let Some(item) = transcript_filler {
        if item.removed {
            return Some((REMOVED_FILLER, NOT_A_FILLER.into()));
        }
        return Some((WARN, "filler word".into()));
    }
    if f.red_flags.iter().any(|m| near(m.start)) {
        return Some((BAD, "red-flag phrase".into()));
    }
    let lower = text.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase();
    if ["i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll"].contains(&lower.as_str()) {
        return Some((GOOD, "'I': your own action".into()));
    }
    if ["we", "us", "our", "ours", "ourselves", "we're", "we've", "we'd", "we'll"].contains(&lower.as_str()) {
        return Some((WE_COLOR, "'we': whose action was it?".into()));
    }
    if f.numbers.iter().any(|q| near(q.start)) {
        return Some((NUMBER_COLOR, "a number: quantified".into()));
    }
    None
}

/// The transcript as clickable words; fillers, I/we, numbers and red flags
/// highlighted with a hover note; audio-detected fillers shown inline.
/// Returns the time of a clicked word. `playhead` marks the word being spoken.
pub fn transcript_words(
    ui: &mut egui::Ui,
    transcript: &Transcript,
    feedback: Option<&Feedback>,
    playhead: Option<f64>,
) -> Option<f64> {
    if transcript.no_speech {
        ui.colored_label(WARN, "No speech detected in this take.");
        return None;
    }
    let mut clicked = None;
    // Fillers that are not whisper's words: heard in the audio, or added by you.
    let inline_fillers: Vec<&FillerItem> = feedback
        .map(|f| f.fillers.items.iter().filter(|i| i.source != FillerSource::Transcript).collect())
        .unwrap_or_default();
    let inline = |ui: &mut egui::Ui, item: &FillerItem| {
        let (text, hover) = match (item.source, item.removed) {
            (_, true) => (
                RichText::new(format!("({})", item.word)).strikethrough().weak(),
                format!("'{}' at {}: you marked it not a filler", item.word, clock(item.start)),
            ),
            (FillerSource::User, _) => (
                RichText::new(format!("({})", item.word)).color(WARN).italics().underline(),
                format!("'{}' at {}: added by you", item.word, clock(item.start)),
            ),
            _ => (
                RichText::new(format!("({})", item.word)).color(WARN).italics(),
                format!("'{}' heard in the audio at {} (whisper leaves these out)", item.word, clock(item.start)),
            ),
        };
        ui.label(text).on_hover_text(hover);
    };
    let mut next_inline = 0;
    ui.horizontal_wrapped(|ui| {
        for word in &transcript.words {
            while next_inline < inline_fillers.len() && inline_fillers[next_inline].start <= word.start {
                inline(ui, inline_fillers[next_inline]);
                next_inline += 1;
            }
            let mut text = RichText::new(&word.word);
            let note = word_note(feedback, word.start, &word.word);
            if let Some((color, why)) = &note {
                text =
                    if why == NOT_A_FILLER { text.strikethrough().color(*color) } else { text.color(*color).strong() };
            }
            if playhead.is_some_and(|t| t >= word.start && t < word.end.max(word.start + 0.15)) {
                text = text.background_color(ui.visuals().selection.bg_fill);
            }
            let hover = match &note {
                Some((_, why)) => format!("{} at {}: click to play from here", why, clock(word.start)),
                None => format!("{}: click to play from here", clock(word.start)),
            };
            if ui.add(egui::Label::new(text).sense(egui::Sense::click())).on_hover_text(hover).clicked() {
                clicked = Some(word.start);
            }
        }
        for item in &inline_fillers[next_inline..] {
            inline(ui, item);
        }
    });
    clicked
}

/// A filler the user marked "not a filler": struck through, grey.
const REMOVED_FILLER: Color32 = Color32::GRAY;
const NOT_A_FILLER: &str = "you marked this: not a filler";

/// The fillers found, each with a button to say it was not one (or to count
/// it again), and buttons to mark a missed "um" or "uh" by clicking the
/// word it came before. Returns the correction the user asked for.
pub fn filler_corrections(
    ui: &mut egui::Ui,
    feedback: &Feedback,
    counted: &[String],
    marking: &mut Option<String>,
) -> Option<FillerCorrection> {
    let mut asked = None;
    ui.label(RichText::new("Fillers found").strong()).on_hover_text(
        "Wrong? Mark it: the counts, the advice and your history follow, and the detector's record on your voice is in Settings.",
    );
    if feedback.fillers.items.is_empty() {
        ui.label(RichText::new("None found.").weak());
    }
    for item in &feedback.fillers.items {
        ui.horizontal(|ui| {
            let source = match item.source {
                FillerSource::Transcript => "in the transcript",
                FillerSource::Audio => "heard in the audio",
                FillerSource::User => "added by you",
            };
            // Tenths, so two fillers in one second have their own buttons.
            let at = format!("{}.{}", clock(item.start), ((item.start.fract() * 10.0) as u32).min(9));
            let text = RichText::new(format!("'{}' at {at}, {source}", item.word));
            ui.label(if item.removed { text.strikethrough().weak() } else { text });
            let (label, action) = match (item.source, item.removed) {
                (_, true) => (
                    format!("Count it again ({} at {at})", item.word),
                    CorrectionAction::NotAFiller { word: item.word.clone() },
                ),
                (FillerSource::User, false) => {
                    (format!("Remove ({} at {at})", item.word), CorrectionAction::Missed { word: item.word.clone() })
                }
                _ => (
                    format!("Not a filler ({} at {at})", item.word),
                    CorrectionAction::NotAFiller { word: item.word.clone() },
                ),
            };
            if ui.small_button(label).clicked() {
                asked = Some(FillerCorrection { at_s: item.start, action });
            }
        });
    }
    ui.horizontal(|ui| {
        ui.label("Missed one?");
        for word in ["um", "uh"] {
            if !counted.iter().any(|f| f.eq_ignore_ascii_case(word)) {
                continue;
            }
            let on = marking.as_deref() == Some(word);
            if ui.selectable_label(on, format!("Mark a missed '{word}'")).clicked() {
                *marking = if on { None } else { Some(word.to_owned()) };
            }
        }
    });
    if let Some(word) = marking {
        ui.colored_label(WARN, format!("Click the word you said '{word}' before (Esc to cancel)."));
        if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            *marking = None;
        }
    }
    asked
}

/// The metrics with their advice.
pub fn feedback_view(ui: &mut egui::Ui, f: &Feedback) {
    let value_width = (ui.available_width() - 140.0).max(120.0);
    egui::Grid::new("metrics").num_columns(2).striped(true).max_col_width(value_width).show(ui, |ui| {
        let mut row = |name: &str, value: String| {
            ui.label(RichText::new(name).strong());
            ui.add(egui::Label::new(value).wrap());
            ui.end_row();
        };
        row("Duration", format!("{} ({} speaking)", clock(f.duration_s), clock(f.speaking_s)));
        row("Words", format!("{}", f.words));
        row("Pace", format!("{:.0} wpm ({:.0} while speaking)", f.wpm, f.articulation_wpm));
        let by: Vec<String> = f.fillers.by_word.iter().map(|(w, n)| format!("{w} ×{n}")).collect();
        row(
            "Fillers",
            format!(
                "{} · {:.1}/min · {:.1}/100 words {}",
                f.fillers.total,
                f.fillers.per_min,
                f.fillers.per_100_words,
                if by.is_empty() { String::new() } else { format!("({})", by.join(", ")) }
            ),
        );
        row(
            "Pauses ≥ 2 s",
            format!(
                "{} · longest {:.1} s · {:.0}% silent",
                f.pauses.count,
                f.pauses.longest_s,
                f.pauses.silent_share * 100.0
            ),
        );
        row(
            "I / we",
            format!(
                "{} / {}{}",
                f.i_words,
                f.we_words,
                f.i_share.map_or(String::new(), |s| format!(" ({:.0}% I)", s * 100.0))
            ),
        );
        if let Some(star) = &f.star {
            row(
                "STAR (s)",
                format!(
                    "S {:.0} · T {:.0} · A {:.0} · R {:.0}",
                    star.situation.seconds, star.task.seconds, star.action.seconds, star.result.seconds
                ),
            );
        }
        row(
            "Numbers",
            if f.numbers.is_empty() {
                "none".into()
            } else {
                f.numbers.iter().map(|n| n.text.clone()).collect::<Vec<_>>().join(", ")
            },
        );
        if !(f.key_points.covered.is_empty() && f.key_points.missed.is_empty()) {
            row(
                "Key points said",
                if f.key_points.covered.is_empty() { "none".into() } else { f.key_points.covered.join(", ") },
            );
            row(
                "Key points missed",
                if f.key_points.missed.is_empty() { "none".into() } else { f.key_points.missed.join(", ") },
            );
        }
        row("Trade-off phrases", format!("{}", f.tradeoffs.len()));
        match &f.voice {
            Some(v) if v.first_word_s.is_none() => row("Voice", "no speech heard in the recording".to_owned()),
            Some(v) => {
                let pitch = v.pitch_spread_st.map_or("not enough voiced speech".to_owned(), |s| {
                    format!(
                        "{s:.1} semitones{}{}",
                        v.pitch_median_hz.map_or(String::new(), |m| format!(" around {m:.0} Hz")),
                        if v.monotone() { " · monotone" } else { "" }
                    )
                });
                row("Pitch spread", pitch);
                row("Loudness spread", format!("{:.0} dB between quiet and loud syllables", v.loudness_spread_db));
                row(
                    "Sentence endings",
                    v.ending_drop_db.map_or("no sentence long enough to judge".to_owned(), |d| {
                        if v.phrases < crate::analysis::voice::MIN_PHRASES {
                            format!("{d:+.1} dB · too few sentences ({}) to judge", v.phrases)
                        } else {
                            format!("{d:+.1} dB · {} of {} trail off", v.trailing_phrases, v.phrases)
                        }
                    }),
                );
                row("First word", v.first_word_s.map_or("–".to_owned(), |s| format!("{s:.1} s after Record")));
                row("Longest run", format!("{:.0} s without a pause", v.longest_run_s));
            }
            None => row("Voice", "no recording to measure".to_owned()),
        }
        row("Hedges", format!("{}", f.hedges.len()));
        if let Some(budget) = f.budget_s {
            row(
                "Budget",
                format!(
                    "{} of {}{}",
                    clock(f.duration_s),
                    clock(f64::from(budget)),
                    if f.overrun_s > 0.0 { format!(", over by {}", clock(f.overrun_s)) } else { String::new() }
                ),
            );
        }
    });
    ui.add_space(6.0);
    for advice in &f.advice {
        let text = RichText::new(format!("{} {}", if advice.warn() { "!" } else { "·" }, advice.text()));
        ui.label(if advice.warn() { text.color(WARN) } else { text });
    }
}
