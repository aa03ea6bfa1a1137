//! Retakes, compared: every take of a question across sessions, and what
//! changed from one take to another (key points gained and lost, fillers,
//! pace, pauses, time against the budget, self-grade), each change marked
//! better or worse, with one sentence naming the change that matters most.

use chrono::{DateTime, Utc};

use super::{Answer, Session};

/// One take of a question, wherever it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct TakeRef {
    pub session_id: String,
    pub answer_id: String,
    pub started_at: DateTime<Utc>,
}

/// Every recorded take of `question_id`, oldest first (follow-ups are
/// answers to their probes, not takes of the question).
pub fn takes_of(sessions: &[Session], question_id: &str) -> Vec<TakeRef> {
    let mut takes: Vec<TakeRef> = sessions
        .iter()
        .flat_map(|s| {
            s.answers
                .iter()
                .filter(|a| a.question_id == question_id && a.is_main_take() && a.duration_s > 0.0)
                .map(|a| TakeRef { session_id: s.id.clone(), answer_id: a.id.clone(), started_at: a.started_at })
        })
        .collect();
    takes.sort_by_key(|t| t.started_at);
    takes
}

/// One number before and after, and whether the change is for the better
/// (`None`: no better or worse, or nothing to compare).
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub what: &'static str,
    pub before: String,
    pub after: String,
    pub better: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub gained: Vec<String>,
    pub lost: Vec<String>,
    pub deltas: Vec<Delta>,
    /// The most important change, in one sentence.
    pub headline: String,
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Lower is better for some numbers, higher for others; a change under
/// `noise` is no change.
fn delta(
    what: &'static str,
    before: f64,
    after: f64,
    lower_is_better: bool,
    noise: f64,
    show: impl Fn(f64) -> String,
) -> Delta {
    let better = if (after - before).abs() < noise { None } else { Some((after < before) == lower_is_better) };
    Delta { what, before: show(before), after: show(after), better }
}

/// What changed from `before` to `after` (two takes of one question).
pub fn compare(before: &Answer, after: &Answer) -> Comparison {
    // Key points only when both takes are analysed: a take still being
    // transcribed has not "lost" anything.
    let (gained, lost) = match (&before.feedback, &after.feedback) {
        (Some(b), Some(a)) => {
            let (was, now) = (&b.key_points.covered, &a.key_points.covered);
            (
                now.iter().filter(|p| !was.contains(p)).cloned().collect(),
                was.iter().filter(|p| !now.contains(p)).cloned().collect(),
            )
        }
        _ => (Vec::new(), Vec::new()),
    };
    let mut deltas = Vec::new();
    if let (Some(b), Some(a)) = (&before.feedback, &after.feedback) {
        deltas
            .push(delta("Fillers per minute", b.fillers.per_min, a.fillers.per_min, true, 0.5, |v| format!("{v:.1}")));
        deltas.push(delta("Words per minute", b.wpm, a.wpm, false, 8.0, |v| format!("{v:.0}")));
        // Pace is better inside the band than outside; here: closer to 150.
        if let Some(last) = deltas.last_mut() {
            let off = |wpm: f64| (wpm - 150.0).abs();
            last.better = if (off(a.wpm) - off(b.wpm)).abs() < 8.0 { None } else { Some(off(a.wpm) < off(b.wpm)) };
        }
        deltas.push(delta("Pauses of 2 s or more", b.pauses.count as f64, a.pauses.count as f64, true, 1.0, |v| {
            format!("{v:.0}")
        }));
    }
    deltas.push(delta("Over the budget", before.overrun_s, after.overrun_s, true, 5.0, clock));
    deltas.push(delta("Length", before.duration_s, after.duration_s, true, f64::INFINITY, clock));
    if let (Some(b), Some(a)) = (before.average_grade(), after.average_grade()) {
        deltas.push(delta("Self-grade (1-4)", b, a, false, 0.25, |v| format!("{v:.1}")));
    }
    let mut headline = headline(&gained, &lost, before, after, &deltas);
    if before.feedback.is_none() || after.feedback.is_none() {
        headline = format!("{headline} (Not analysed yet: only times and grades are compared.)");
    }
    Comparison { gained, lost, deltas, headline }
}

fn headline(gained: &[String], lost: &[String], before: &Answer, after: &Answer, deltas: &[Delta]) -> String {
    let mut parts = Vec::new();
    if !gained.is_empty() {
        parts.push(format!("you now name {}", join(gained)));
    }
    if !lost.is_empty() {
        parts.push(format!("you no longer name {}", join(lost)));
    }
    let over = after.overrun_s - before.overrun_s;
    if after.overrun_s > 0.0 && over >= 5.0 {
        parts.push(format!("you went {:.0} s over the budget", after.overrun_s));
    } else if before.overrun_s > 0.0 && after.overrun_s == 0.0 {
        parts.push("you finished within the budget".to_owned());
    }
    if parts.is_empty() {
        // No content or time change: the biggest fluency change, if any.
        if let Some(d) = deltas.iter().find(|d| d.better.is_some() && d.what != "Length") {
            let direction = if d.better == Some(true) { "better" } else { "worse" };
            parts.push(format!("{} went from {} to {} ({direction})", d.what.to_lowercase(), d.before, d.after));
        }
    }
    match parts.is_empty() {
        true => "About the same as the take before.".to_owned(),
        false => {
            let mut sentence = parts.join("; ");
            if let Some(first) = sentence.get(..1) {
                sentence = first.to_uppercase() + &sentence[1..];
            }
            sentence + "."
        }
    }
}

/// Key point names, quoted (they are phrases: "disable a select case").
fn join(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Feedback;
    use crate::store::Level;

    fn take(covered: &[&str], fillers_per_min: f64, duration_s: f64, grade: Level) -> Answer {
        let mut answer = Answer::new("system-design/deep-dive/outbox".into(), 300, Utc::now());
        answer.set_duration(duration_s);
        let mut feedback = Feedback::default();
        feedback.key_points.covered = covered.iter().map(|s| (*s).to_owned()).collect();
        feedback.fillers.per_min = fillers_per_min;
        feedback.wpm = 150.0;
        answer.feedback = Some(feedback);
        answer.grades.insert("trade-offs".into(), grade);
        answer
    }

    #[test]
    fn the_headline_says_what_matters_most() {
        let before = take(&["transactional outbox"], 6.0, 280.0, Level::Mid);
        let after = take(&["transactional outbox", "outbox relay", "idempotent consumer"], 2.0, 340.0, Level::Senior);
        let c = compare(&before, &after);
        assert_eq!(c.gained, ["outbox relay", "idempotent consumer"]);
        assert!(c.lost.is_empty());
        assert_eq!(c.headline, "You now name 'outbox relay' and 'idempotent consumer'; you went 40 s over the budget.");
        let fillers = c.deltas.iter().find(|d| d.what == "Fillers per minute").expect("fillers");
        assert_eq!((fillers.before.as_str(), fillers.after.as_str(), fillers.better), ("6.0", "2.0", Some(true)));
        let over = c.deltas.iter().find(|d| d.what == "Over the budget").expect("overrun");
        assert_eq!(over.better, Some(false));
        let grade = c.deltas.iter().find(|d| d.what == "Self-grade (1-4)").expect("grade");
        assert_eq!(grade.better, Some(true));
    }

    #[test]
    fn lost_points_and_no_change_are_said_too() {
        let before = take(&["transactional outbox", "outbox relay"], 3.0, 200.0, Level::Senior);
        let after = take(&["transactional outbox"], 3.2, 210.0, Level::Senior);
        let c = compare(&before, &after);
        assert_eq!(c.headline, "You no longer name 'outbox relay'.");
        assert!(c.deltas.iter().all(|d| d.better.is_none()), "{:?}", c.deltas);
        let same = compare(&after, &after);
        assert_eq!(same.headline, "About the same as the take before.");
        // A take still being transcribed has lost nothing.
        let mut pending = after.clone();
        pending.feedback = None;
        let c = compare(&before, &pending);
        assert!(c.lost.is_empty() && c.gained.is_empty());
        assert!(c.headline.contains("Not analysed yet"), "{}", c.headline);
    }

    #[test]
    fn takes_are_found_across_sessions_in_order() {
        let mut older =
            Session::new("system-design", None, crate::store::Mode::Solo, Utc::now() - chrono::Duration::days(3));
        older.push_answer(take(&[], 0.0, 100.0, Level::Mid));
        let mut newer = Session::new("system-design", None, crate::store::Mode::Solo, Utc::now());
        let mut answer = take(&[], 0.0, 120.0, Level::Senior);
        answer.started_at = Utc::now();
        older.answers[0].started_at = Utc::now() - chrono::Duration::days(3);
        newer.push_answer(answer);
        let takes = takes_of(&[newer.clone(), older.clone()], "system-design/deep-dive/outbox");
        assert_eq!(takes.len(), 2);
        assert_eq!(takes[0].session_id, older.id);
        assert_eq!(takes[1].session_id, newer.id);
        assert!(takes_of(&[newer], "other/q/x").is_empty());
    }
}
