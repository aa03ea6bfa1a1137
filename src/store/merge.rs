//! Joining two edits of one session: ours (this process's copy) and theirs
//! (what is on disk now, maybe written by another process: a second
//! recorder, the CLI while the app is open), from the base both started
//! from (what this process last read or wrote). Nothing either side added
//! is lost; where only one side changed a thing, that change wins; where
//! both did, ours wins (it is the newer edit the user is looking at).

use super::{Answer, Session};

/// The three-way merge of a session. `base` is `None` when this process
/// never read or wrote the file: then the two copies are joined.
pub fn three_way(base: Option<&Session>, ours: &Session, theirs: &Session) -> Session {
    let mut merged = ours.clone();
    merged.reflection = field(base.map(|b| &b.reflection), &ours.reflection, &theirs.reflection).clone();
    merged.ended_at = *field(base.map(|b| &b.ended_at), &ours.ended_at, &theirs.ended_at);
    merged.answers = answers(base.map(|b| b.answers.as_slice()), &ours.answers, &theirs.answers);
    merged
}

/// One field: theirs when only they changed it, else ours.
fn field<'a, T: PartialEq>(base: Option<&T>, ours: &'a T, theirs: &'a T) -> &'a T {
    match base {
        Some(base) if ours == base => theirs,
        _ => ours,
    }
}

/// Two copies of an answer are the same, but for what one of them left
/// on disk (an elided summary carries no transcript or detailed feedback).
fn same(a: &Answer, b: &Answer) -> bool {
    if a.elided || b.elided {
        let mut a = a.clone();
        let mut b = b.clone();
        for x in [&mut a, &mut b] {
            x.transcript = None;
            x.feedback = None;
            x.elided = false;
        }
        return a == b;
    }
    a == b
}

/// One answer changed on both sides: each part of it from the side that
/// changed that part (grades one signal at a time), ours where both did.
fn answer(base: Option<&Answer>, ours: &Answer, theirs: &Answer) -> Answer {
    let Some(base) = base else {
        // Never read here: ours, with any grade only they gave.
        let mut merged = ours.clone();
        for (signal, level) in &theirs.grades {
            merged.grades.entry(signal.clone()).or_insert(*level);
        }
        return merged;
    };
    let mut merged = ours.clone();
    // The transcript with its feedback, as one part. An elided copy has
    // not changed it (a new transcript ends the elision) and has none to give.
    // The filler corrections belong to it: the feedback has them applied.
    let changed = |a: &Answer| {
        !a.elided
            && (a.transcript != base.transcript
                || a.feedback != base.feedback
                || a.filler_corrections != base.filler_corrections)
    };
    if ours.elided || (!changed(ours) && changed(theirs)) {
        merged.transcript = theirs.transcript.clone();
        merged.feedback = theirs.feedback.clone();
        merged.filler_corrections = theirs.filler_corrections.clone();
        merged.transcription_error = theirs.transcription_error.clone();
        merged.elided = theirs.elided;
    }
    // The take itself: its length, how it stopped, whether it was recovered.
    let take =
        |a: &Answer| (a.duration_s, a.overrun_s, a.stopped_at, a.capture_error.clone(), a.recovered, a.wav.clone());
    if take(ours) == take(base) && take(theirs) != take(base) {
        merged.duration_s = theirs.duration_s;
        merged.overrun_s = theirs.overrun_s;
        merged.stopped_at = theirs.stopped_at;
        merged.capture_error = theirs.capture_error.clone();
        merged.recovered = theirs.recovered;
        merged.wav = theirs.wav.clone();
    }
    merged.notes = field(Some(&base.notes), &ours.notes, &theirs.notes).clone();
    merged.scratchpad = field(Some(&base.scratchpad), &ours.scratchpad, &theirs.scratchpad).clone();
    merged.listen_for_ticks =
        field(Some(&base.listen_for_ticks), &ours.listen_for_ticks, &theirs.listen_for_ticks).clone();
    let signals: std::collections::BTreeSet<&String> =
        base.grades.keys().chain(ours.grades.keys()).chain(theirs.grades.keys()).collect();
    merged.grades = signals
        .into_iter()
        .filter_map(|signal| {
            let level = *field(Some(&base.grades.get(signal)), &ours.grades.get(signal), &theirs.grades.get(signal));
            level.map(|l| (signal.clone(), *l))
        })
        .collect();
    merged
}

fn answers(base: Option<&[Answer]>, ours: &[Answer], theirs: &[Answer]) -> Vec<Answer> {
    let in_base = |id: &str| base.and_then(|b| b.iter().find(|a| a.id == id));
    let mut merged: Vec<Answer> = Vec::new();
    for ours_answer in ours {
        match theirs.iter().find(|t| t.id == ours_answer.id) {
            Some(their) => {
                let base_answer = in_base(&ours_answer.id);
                let merged_answer = match base_answer {
                    Some(b) if same(ours_answer, b) => their.clone(),
                    Some(b) if same(their, b) => ours_answer.clone(),
                    _ => answer(base_answer, ours_answer, their),
                };
                merged.push(merged_answer);
            }
            // Gone from theirs: they deleted it, unless it is new here or we
            // changed it since.
            None => match in_base(&ours_answer.id) {
                Some(base_answer) if same(base_answer, ours_answer) => {}
                _ => merged.push(ours_answer.clone()),
            },
        }
    }
    for their in theirs {
        if ours.iter().any(|a| a.id == their.id) {
            continue;
        }
        // Only in theirs: new there (keep), or we deleted it (drop, unless
        // they changed it since).
        match in_base(&their.id) {
            Some(base_answer) if same(base_answer, their) => {}
            _ => merged.push(their.clone()),
        }
    }
    merged.sort_by_key(|a| a.started_at);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Level, Mode};
    use chrono::{Duration, Utc};

    fn session_with(n: usize) -> Session {
        let start = Utc::now();
        let mut session = Session::new("behavioral", None, Mode::Solo, start);
        for i in 0..n {
            session.push_answer(Answer::new(format!("behavioral/s/q{i}"), 60, start + Duration::seconds(i as i64)));
        }
        session
    }

    #[test]
    fn two_recorders_appending_keep_both_answers() {
        let base = session_with(1);
        let mut ours = base.clone();
        ours.push_answer(Answer::new("behavioral/s/mine".into(), 60, Utc::now() + Duration::seconds(5)));
        let mut theirs = base.clone();
        theirs.push_answer(Answer::new("behavioral/s/theirs".into(), 60, Utc::now() + Duration::seconds(6)));
        assert_ne!(ours.answers[1].id, theirs.answers[1].id, "ids are unique across processes");
        let merged = three_way(Some(&base), &ours, &theirs);
        let questions: Vec<&str> = merged.answers.iter().map(|a| a.question_id.as_str()).collect();
        assert_eq!(questions, ["behavioral/s/q0", "behavioral/s/mine", "behavioral/s/theirs"]);
        // Without a base (never read here): the same union.
        assert_eq!(three_way(None, &ours, &theirs).answers.len(), 3);
    }

    #[test]
    fn each_side_keeps_what_only_it_changed() {
        let base = session_with(2);
        let mut ours = base.clone();
        ours.answers[0].grades.insert("ownership".into(), Level::Senior);
        let mut theirs = base.clone();
        theirs.answers[1].notes = "their note".into();
        theirs.reflection = "their reflection".into();
        let merged = three_way(Some(&base), &ours, &theirs);
        assert_eq!(merged.answers[0].grades.get("ownership"), Some(&Level::Senior));
        assert_eq!(merged.answers[1].notes, "their note");
        assert_eq!(merged.reflection, "their reflection");
        // Both changed one thing: ours, the newer edit here, wins.
        let mut ours = ours.clone();
        ours.reflection = "my reflection".into();
        assert_eq!(three_way(Some(&base), &ours, &theirs).reflection, "my reflection");
    }

    #[test]
    fn both_sides_editing_one_answer_keep_each_change() {
        let base = session_with(1);
        let mut ours = base.clone();
        ours.answers[0].notes = "my note".into();
        ours.answers[0].grades.insert("ownership".into(), Level::Mid);
        let mut theirs = base.clone();
        theirs.answers[0].grades.insert("communication".into(), Level::Staff);
        theirs.answers[0].set_duration(42.0);
        let merged = three_way(Some(&base), &ours, &theirs);
        let a = &merged.answers[0];
        assert_eq!(a.notes, "my note");
        assert_eq!(a.grades.get("ownership"), Some(&Level::Mid));
        assert_eq!(a.grades.get("communication"), Some(&Level::Staff));
        assert_eq!(a.duration_s, 42.0);
    }

    #[test]
    fn an_elided_copy_takes_their_changes_and_loses_no_transcript() {
        let mut base = session_with(1);
        base.answers[0].transcript = Some(crate::transcribe::Transcript::no_speech(3.0, Default::default()));
        base.answers[0].transcript.as_mut().expect("t").text = "we rolled back".into();
        let mut ours = base.clone();
        ours.elide_transcripts();
        let mut theirs = base.clone();
        theirs.answers[0].grades.insert("ownership".into(), Level::Senior);
        // Unchanged here (only elided): theirs, whole.
        let merged = three_way(Some(&base), &ours, &theirs);
        assert_eq!(merged.answers[0], theirs.answers[0]);
        // Changed here too: both changes, and their transcript.
        ours.answers[0].notes = "mine".into();
        let merged = three_way(Some(&base), &ours, &theirs);
        assert_eq!(merged.answers[0].notes, "mine");
        assert_eq!(merged.answers[0].grades.get("ownership"), Some(&Level::Senior));
        assert!(!merged.answers[0].elided);
        assert_eq!(merged.answers[0].transcript.as_ref().map(|t| t.text.as_str()), Some("we rolled back"));
    }

    #[test]
    fn a_deletion_on_one_side_stays_deleted() {
        let base = session_with(2);
        let mut ours = base.clone();
        ours.answers.remove(1); // a take that never started
        let merged = three_way(Some(&base), &ours, &base);
        assert_eq!(merged.answers.len(), 1);
        let mut theirs = base.clone();
        theirs.answers.remove(0);
        assert_eq!(three_way(Some(&base), &base, &theirs).answers.len(), 1);
    }
}
