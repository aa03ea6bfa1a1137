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

fn answers(base: Option<&[Answer]>, ours: &[Answer], theirs: &[Answer]) -> Vec<Answer> {
    let in_base = |id: &str| base.and_then(|b| b.iter().find(|a| a.id == id));
    let mut merged: Vec<Answer> = Vec::new();
    for answer in ours {
        match theirs.iter().find(|t| t.id == answer.id) {
            Some(their) => {
                merged.push(field(in_base(&answer.id), answer, their).clone());
            }
            // Gone from theirs: they deleted it, unless it is new here or we
            // changed it since.
            None => match in_base(&answer.id) {
                Some(base_answer) if base_answer == answer => {}
                _ => merged.push(answer.clone()),
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
            Some(base_answer) if base_answer == their => {}
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
