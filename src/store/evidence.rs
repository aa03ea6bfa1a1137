//! Self-grades beside what the answers show: for one rubric signal, the
//! user's latest graded answers with the facts the analysis found in each
//! (key points said, numbers quoted, trade-offs named, time over budget).
//! No score is made up from them: the facts are listed, the user judges.

use chrono::{DateTime, Utc};

use super::history::Filter;
use super::session::{Level, Session};

/// One graded answer and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct GradedAnswer {
    pub session_id: String,
    pub answer_id: String,
    pub question_id: String,
    pub at: DateTime<Utc>,
    pub grade: Level,
    /// (said, of) the question's key points; `None` before analysis or for
    /// questions without key points.
    pub key_points: Option<(usize, usize)>,
    /// `None` before analysis.
    pub numbers: Option<usize>,
    pub tradeoffs: Option<usize>,
    pub overrun_s: f64,
}

impl GradedAnswer {
    /// Half or more of its key points were not said.
    pub fn missed_half(&self) -> bool {
        self.key_points.is_some_and(|(said, of)| of > 0 && (of - said) * 2 >= of)
    }
}

/// A signal's latest self-grades and their evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalEvidence {
    pub signal: String,
    /// Newest first.
    pub answers: Vec<GradedAnswer>,
}

impl SignalEvidence {
    pub fn average_grade(&self) -> f64 {
        self.answers.iter().map(|a| a.grade.score()).sum::<f64>() / self.answers.len().max(1) as f64
    }

    /// The self-grade and the facts in one sentence ("You graded Senior on
    /// Go depth, but missed 4 of 6 key points in 3 of your last 5 answers").
    pub fn summary(&self, signal_name: &str) -> String {
        let n = self.answers.len();
        let grade = Level::nearest(self.average_grade()).label();
        let last = if n == 1 { "your last answer".to_owned() } else { format!("your last {n} answers") };
        let mut facts = Vec::new();
        let missed: Vec<&GradedAnswer> = self.answers.iter().filter(|a| a.missed_half()).collect();
        if let Some(worst) =
            missed.iter().filter_map(|a| a.key_points).max_by_key(|(said, of)| (of - said) * 100 / of.max(&1))
        {
            facts.push(format!("missed {} of {} key points in {} of {last}", worst.1 - worst.0, worst.1, missed.len()));
        }
        let analysed = self.answers.iter().filter(|a| a.numbers.is_some()).count();
        let no_numbers = self.answers.iter().filter(|a| a.numbers == Some(0)).count();
        if no_numbers > 0 {
            facts.push(format!("quoted no number in {no_numbers} of {analysed}"));
        }
        let over = self.answers.iter().filter(|a| a.overrun_s > 0.0).count();
        if over > 0 {
            facts.push(format!("ran over budget in {over} of {n}"));
        }
        if analysed == 0 {
            format!(
                "You graded {grade} on {signal_name} in {last}; none is analysed yet, so there is nothing to set beside it."
            )
        } else if facts.is_empty() {
            let of = if analysed == n { String::new() } else { format!(" ({analysed} of them analysed)") };
            format!(
                "You graded {grade} on {signal_name} in {last}{of}: none missed half its key points, each \
                 quoted a number, none ran over budget."
            )
        } else {
            format!("You graded {grade} on {signal_name}, but {}.", join_facts(&facts))
        }
    }
}

fn join_facts(facts: &[String]) -> String {
    match facts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

/// For each signal graded in the filtered sessions: its latest `last`
/// graded answers, newest first, with what they show. Signals in the order
/// of their latest grade.
pub fn grade_evidence(sessions: &[Session], filter: &Filter, last: usize) -> Vec<SignalEvidence> {
    let mut graded: Vec<(&Session, &super::Answer)> = sessions
        .iter()
        .flat_map(|s| s.answers.iter().map(move |a| (s, a)))
        .filter(|(_, a)| a.is_main_take() && !a.grades.is_empty() && filter.keeps(a))
        .collect();
    graded.sort_by_key(|(_, a)| std::cmp::Reverse(a.started_at));
    let mut out: Vec<SignalEvidence> = Vec::new();
    for (session, answer) in graded {
        for (signal, &grade) in &answer.grades {
            let evidence = match out.iter_mut().position(|e| &e.signal == signal) {
                Some(i) => &mut out[i],
                None => {
                    out.push(SignalEvidence { signal: signal.clone(), answers: Vec::new() });
                    let end = out.len() - 1;
                    &mut out[end]
                }
            };
            if evidence.answers.len() >= last {
                continue;
            }
            let feedback = answer.feedback.as_ref();
            evidence.answers.push(GradedAnswer {
                session_id: session.id.clone(),
                answer_id: answer.id.clone(),
                question_id: answer.question_id.clone(),
                at: answer.started_at,
                grade,
                key_points: feedback
                    .map(|f| (f.key_points.covered.len(), f.key_points.covered.len() + f.key_points.missed.len()))
                    .filter(|(_, of)| *of > 0),
                numbers: feedback.map(|f| f.numbers.len()),
                tradeoffs: feedback.map(|f| f.tradeoffs.len()),
                overrun_s: answer.overrun_s,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Feedback, Quantity, QuantityKind};
    use crate::store::{Answer, Mode};

    fn answer(days_ago: i64, grade: Level, said: usize, missed: usize, numbers: usize, over_s: f64) -> Answer {
        let at = Utc::now() - chrono::Duration::days(days_ago);
        let mut a = Answer::new("phone-screen/go-fundamentals/channels".into(), 144, at);
        a.set_duration(144.0 + over_s);
        let mut f = Feedback::default();
        f.key_points.covered = (0..said).map(|i| format!("said {i}")).collect();
        f.key_points.missed = (0..missed).map(|i| format!("missed {i}")).collect();
        f.numbers =
            (0..numbers).map(|i| Quantity { text: i.to_string(), start: 0.0, kind: QuantityKind::Count }).collect();
        a.feedback = Some(f);
        a.grades.insert("go-depth".into(), grade);
        a
    }

    fn sessions(answers: Vec<Answer>) -> Vec<Session> {
        answers
            .into_iter()
            .map(|a| {
                let mut s = Session::new("phone-screen", None, Mode::Solo, a.started_at);
                s.push_answer(a);
                s
            })
            .collect()
    }

    #[test]
    fn the_self_grade_is_set_beside_the_misses() {
        let all = sessions(vec![
            answer(9, Level::Senior, 6, 0, 2, 0.0), // the sixth: beyond the last five
            answer(5, Level::Senior, 2, 4, 1, 0.0),
            answer(4, Level::Senior, 5, 1, 0, 0.0),
            answer(3, Level::Staff, 3, 3, 1, 30.0),
            answer(2, Level::Senior, 2, 3, 2, 0.0),
            answer(1, Level::Mid, 6, 0, 1, 0.0),
        ]);
        let evidence = grade_evidence(&all, &Filter::default(), 5);
        assert_eq!(evidence.len(), 1);
        let go = &evidence[0];
        assert_eq!(go.answers.len(), 5);
        assert_eq!(go.answers[0].grade, Level::Mid, "newest first");
        assert_eq!(
            go.summary("Go depth"),
            "You graded Senior on Go depth, but missed 4 of 6 key points in 3 of your last 5 answers, \
             quoted no number in 1 of 5, and ran over budget in 1 of 5."
        );
    }

    #[test]
    fn answers_that_back_the_grade_say_so_and_nothing_is_invented() {
        let all = sessions(vec![answer(1, Level::Senior, 5, 1, 2, 0.0)]);
        let go = &grade_evidence(&all, &Filter::default(), 5)[0];
        assert_eq!(
            go.summary("Go depth"),
            "You graded Senior on Go depth in your last answer: none missed half its key points, each quoted a \
             number, none ran over budget."
        );
        // Not analysed: no facts are claimed.
        let mut bare = answer(1, Level::Staff, 0, 0, 0, 0.0);
        bare.feedback = None;
        let go = &grade_evidence(&sessions(vec![bare]), &Filter::default(), 5)[0];
        assert_eq!((go.answers[0].key_points, go.answers[0].numbers), (None, None));
        assert_eq!(
            go.summary("Go depth"),
            "You graded Staff on Go depth in your last answer; none is analysed yet, so there is nothing to set \
             beside it."
        );
    }
}
