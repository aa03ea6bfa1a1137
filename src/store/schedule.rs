//! Questions that come back. A question answered weakly (self-graded Junior
//! or Mid on average, or with half or more of its key points missed) is due
//! again after 1 day; each later take that goes better moves it further out
//! (3, 7, then 14 days), one that goes worse starts it again at 1 day, and
//! a take at the 14-day step that is not weak and no worse takes it off the
//! list.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Local, NaiveDate, Utc};
use serde::Serialize;

use super::{Answer, Session};

/// The steps of the schedule, in days.
pub const INTERVALS_DAYS: [u64; 4] = [1, 3, 7, 14];

/// A question on the schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueQuestion {
    pub question_id: String,
    /// The local day it is due.
    pub due: NaiveDate,
    pub interval_days: u64,
    pub last_practised: DateTime<Utc>,
    /// Why it is on the list, from its latest take ("graded Mid", "missed 3 of 5 key points").
    pub reason: String,
}

impl DueQuestion {
    pub fn is_due(&self, today: NaiveDate) -> bool {
        today >= self.due
    }
}

/// How one take went: a score from 0 to 1 (the self-grade and the share of
/// key points named, each counted when there is one), whether it was
/// weak, and why. `None` when there is nothing to judge yet.
fn judge(answer: &Answer) -> Option<(f64, bool, String)> {
    let grade = answer.average_grade();
    let points = answer.feedback.as_ref().map(|f| (f.key_points.covered.len(), f.key_points.missed.len()));
    let points = points.filter(|(covered, missed)| covered + missed > 0);
    let mut parts = Vec::new();
    let mut reasons = Vec::new();
    let mut weak = false;
    if let Some(grade) = grade {
        parts.push((grade - 1.0) / 3.0);
        if grade <= 2.0 {
            weak = true;
            reasons.push(format!("graded {}", super::Level::nearest(grade).label()));
        }
    }
    if let Some((covered, missed)) = points {
        parts.push(covered as f64 / (covered + missed) as f64);
        if missed * 2 >= covered + missed {
            weak = true;
            reasons.push(format!("missed {missed} of {} key points", covered + missed));
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some((parts.iter().sum::<f64>() / parts.len() as f64, weak, reasons.join(", ")))
}

fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Local).date_naive()
}

/// Every question on the schedule, soonest first.
pub fn schedule(sessions: &[Session]) -> Vec<DueQuestion> {
    let mut takes: BTreeMap<&str, Vec<&Answer>> = BTreeMap::new();
    for answer in sessions.iter().flat_map(|s| &s.answers).filter(|a| a.is_main_take()) {
        takes.entry(answer.question_id.as_str()).or_default().push(answer);
    }
    let mut due = Vec::new();
    for (question_id, mut answers) in takes {
        answers.sort_by_key(|a| a.started_at);
        // (step, score of the last judged take, its time, why)
        let mut state: Option<(usize, f64, DateTime<Utc>, String)> = None;
        for answer in answers {
            let Some((score, weak, reason)) = judge(answer) else { continue };
            // Spacing: a take before the question was due again (say, "Record
            // again" at once) may reset it, but cannot move it further out.
            let early = state.as_ref().is_some_and(|(step, _, at, _)| {
                let due = local_day(*at).checked_add_days(Days::new(INTERVALS_DAYS[*step]));
                due.is_some_and(|due| local_day(answer.started_at) < due)
            });
            state = match state {
                None if weak => Some((0, score, answer.started_at, reason)),
                None => None,
                Some((step, previous, at, why)) if early && score >= previous => Some((step, previous, at, why)),
                Some((step, previous, _, _)) => {
                    let last = INTERVALS_DAYS.len() - 1;
                    if step == last && !weak && score >= previous {
                        None // learnt: off the list
                    } else if score > previous {
                        Some(((step + 1).min(last), score, answer.started_at, reason))
                    } else if score < previous {
                        Some((0, score, answer.started_at, reason))
                    } else {
                        Some((step, score, answer.started_at, reason))
                    }
                }
            };
        }
        if let Some((step, _, at, reason)) = state {
            let days = INTERVALS_DAYS[step];
            let day = local_day(at);
            let reason = if reason.is_empty() { "better, not yet learnt".to_owned() } else { reason };
            due.push(DueQuestion {
                question_id: question_id.to_owned(),
                due: day.checked_add_days(Days::new(days)).unwrap_or(day),
                interval_days: days,
                last_practised: at,
                reason,
            });
        }
    }
    due.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.question_id.cmp(&b.question_id)));
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Level, Mode};
    use chrono::TimeZone;

    /// One session a day: (day of November, question, grade).
    fn history(takes: &[(u32, &str, Level)]) -> Vec<Session> {
        takes
            .iter()
            .map(|(day, question, level)| {
                let at = Utc.with_ymd_and_hms(2026, 11, *day, 12, 0, 0).single().expect("time");
                let mut session = Session::new("behavioral", None, Mode::Solo, at);
                let mut answer = Answer::new(format!("behavioral/{question}"), 360, at);
                answer.grades.insert("ownership".into(), *level);
                session.push_answer(answer);
                session
            })
            .collect()
    }

    fn day(d: u32) -> NaiveDate {
        Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).single().expect("time").with_timezone(&Local).date_naive()
    }

    #[test]
    fn a_weak_answer_comes_back_the_next_day_and_a_strong_one_never() {
        let due = schedule(&history(&[(1, "q1/a", Level::Mid), (1, "q2/b", Level::Senior)]));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].question_id, "behavioral/q1/a");
        assert_eq!(due[0].reason, "graded Mid");
        assert!(!due[0].is_due(day(1)));
        assert!(due[0].is_due(day(2)));
    }

    #[test]
    fn better_takes_move_it_out_and_a_worse_one_resets_it() {
        let steps = |takes: &[(u32, &str, Level)]| schedule(&history(takes)).first().map(|d| d.interval_days);
        assert_eq!(steps(&[(1, "q", Level::Junior)]), Some(1));
        assert_eq!(steps(&[(1, "q", Level::Junior), (2, "q", Level::Mid)]), Some(3));
        assert_eq!(steps(&[(1, "q", Level::Junior), (2, "q", Level::Mid), (5, "q", Level::Senior)]), Some(7));
        let worse = [(1, "q", Level::Junior), (2, "q", Level::Mid), (5, "q", Level::Junior)];
        assert_eq!(steps(&worse), Some(1), "a worse take starts again");
        let due = schedule(&history(&worse));
        assert_eq!(due[0].due, day(6));
        // Better at every step, then strong at 14 days: learnt, off the list.
        let learnt = [
            (1, "q", Level::Junior),
            (2, "q", Level::Mid),
            (5, "q", Level::Senior),
            (12, "q", Level::Staff),
            (26, "q", Level::Staff),
        ];
        assert_eq!(steps(&learnt[..4]), Some(14));
        assert_eq!(steps(&learnt), None, "strong again at 14 days: learnt");
        let slipped = [learnt[0], learnt[1], learnt[2], learnt[3], (26, "q", Level::Mid)];
        assert_eq!(steps(&slipped), Some(1), "weaker at 14 days: from the start");
    }

    #[test]
    fn better_takes_before_the_due_day_do_not_move_it_out() {
        let steps = |takes: &[(u32, &str, Level)]| schedule(&history(takes)).first().map(|d| d.interval_days);
        // All on one day: still due the next day.
        assert_eq!(steps(&[(1, "q", Level::Junior), (1, "q", Level::Senior), (1, "q", Level::Staff)]), Some(1));
        // A worse take early still resets.
        assert_eq!(steps(&[(1, "q", Level::Junior), (2, "q", Level::Senior), (3, "q", Level::Junior)]), Some(1));
    }

    #[test]
    fn half_the_key_points_missed_is_weak_too() {
        let mut sessions = history(&[(1, "q", Level::Senior)]);
        let mut feedback = crate::analysis::Feedback::default();
        feedback.key_points.covered = vec!["outbox".into()];
        feedback.key_points.missed = vec!["relay".into(), "idempotent consumer".into()];
        sessions[0].answers[0].feedback = Some(feedback);
        let due = schedule(&sessions);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].reason, "missed 2 of 3 key points");
        // Ungraded and without feedback: nothing to judge, not on the list.
        let mut ungraded = history(&[(1, "q", Level::Junior)]);
        ungraded[0].answers[0].grades.clear();
        assert!(schedule(&ungraded).is_empty());
    }
}
