//! History over sessions: per-metric series for trends, the weakest stage and
//! when it is due for a re-run ("Re-run the weakest stage a day later").

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Local, NaiveDate, Utc};
use serde::Serialize;

use super::session::{Answer, Session};
use crate::content::QuestionKind;

/// The metrics the progress screen can plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    FillersPerMinute,
    WordsPerMinute,
    /// I-share in STAR answers (0..1).
    IShare,
    /// Answers over their budget, as a share of answers (0..1).
    OverrunShare,
    /// Seconds over budget, summed over the session.
    OverrunSeconds,
    /// Pitch spread in semitones (mean over the session's takes).
    PitchSpread,
    /// How much quieter sentence endings are, dB (mean over takes).
    EndingDrop,
    /// Seconds from the question appearing (or, for retakes, from Record)
    /// to the first word (mean over takes).
    FirstWord,
    /// The longest stretch without a pause, seconds (mean over takes).
    LongestRun,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::FillersPerMinute,
        Metric::WordsPerMinute,
        Metric::IShare,
        Metric::OverrunShare,
        Metric::OverrunSeconds,
        Metric::PitchSpread,
        Metric::EndingDrop,
        Metric::FirstWord,
        Metric::LongestRun,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Metric::FillersPerMinute => "Fillers per minute",
            Metric::WordsPerMinute => "Words per minute",
            Metric::IShare => "I-share in STAR answers",
            Metric::OverrunShare => "Answers over budget",
            Metric::OverrunSeconds => "Seconds over budget",
            Metric::PitchSpread => "Pitch spread (semitones)",
            Metric::EndingDrop => "Sentence endings quieter by (dB)",
            Metric::FirstWord => "Seconds from the question to the first word",
            Metric::LongestRun => "Longest stretch without a pause (s)",
        }
    }
}

/// One point of a trend: a session's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub session_id: String,
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// Which sessions count for a trend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub mock_id: Option<String>,
    pub stage_id: Option<String>,
}

impl Filter {
    pub(crate) fn keeps(&self, answer: &Answer) -> bool {
        let Some((mock, stage)) = answer.stage_key() else { return false };
        self.mock_id.as_deref().is_none_or(|m| m == mock) && self.stage_id.as_deref().is_none_or(|s| s == stage)
    }
}

/// A metric's series over sessions, oldest first; sessions without data for
/// it are left out. `kind_of` tells a question's kind (for the STAR-only I-share).
pub fn metric_series(
    sessions: &[Session],
    metric: Metric,
    filter: &Filter,
    kind_of: &dyn Fn(&str) -> Option<QuestionKind>,
) -> Vec<Point> {
    sessions
        .iter()
        .filter_map(|session| {
            let answers: Vec<&Answer> = session.answers.iter().filter(|a| filter.keeps(a)).collect();
            let value = session_metric(&answers, metric, kind_of)?;
            Some(Point { session_id: session.id.clone(), at: session.started_at, value })
        })
        .collect()
}

fn session_metric(answers: &[&Answer], metric: Metric, kind_of: &dyn Fn(&str) -> Option<QuestionKind>) -> Option<f64> {
    let timed: Vec<&&Answer> = answers.iter().filter(|a| a.duration_s > 0.0).collect();
    match metric {
        Metric::FillersPerMinute | Metric::WordsPerMinute => {
            // Weighted by speaking time: total count over total minutes.
            let mut count = 0.0;
            let mut minutes = 0.0;
            for answer in answers {
                let Some(feedback) = &answer.feedback else { continue };
                if feedback.duration_s <= 0.0 {
                    continue;
                }
                minutes += feedback.duration_s / 60.0;
                count += match metric {
                    Metric::FillersPerMinute => feedback.fillers.total as f64,
                    _ => feedback.words as f64,
                };
            }
            (minutes > 0.0).then(|| count / minutes)
        }
        Metric::IShare => {
            let (mut i, mut we) = (0usize, 0usize);
            for answer in answers {
                if kind_of(&answer.question_id) != Some(QuestionKind::BehavioralStar) {
                    continue;
                }
                if let Some(feedback) = &answer.feedback {
                    i += feedback.i_words;
                    we += feedback.we_words;
                }
            }
            (i + we > 0).then(|| i as f64 / (i + we) as f64)
        }
        Metric::OverrunShare => {
            (!timed.is_empty()).then(|| timed.iter().filter(|a| a.overrun_s > 0.0).count() as f64 / timed.len() as f64)
        }
        Metric::OverrunSeconds => (!timed.is_empty()).then(|| timed.iter().map(|a| a.overrun_s).sum()),
        Metric::PitchSpread | Metric::EndingDrop | Metric::FirstWord | Metric::LongestRun => {
            let values: Vec<f64> = answers
                .iter()
                .filter(|a| a.is_main_take())
                .filter_map(|a| {
                    let v = a.feedback.as_ref()?.voice.as_ref()?;
                    match metric {
                        Metric::PitchSpread => v.pitch_spread_st,
                        Metric::EndingDrop => {
                            v.ending_drop_db.filter(|_| v.phrases >= crate::analysis::voice::MIN_PHRASES)
                        }
                        Metric::FirstWord => a.time_to_first_word_s(),
                        _ => v.first_word_s.map(|_| v.longest_run_s),
                    }
                })
                .collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        }
    }
}

/// Self-grade trend for one rubric signal: the session's average score (1-4).
pub fn grade_series(sessions: &[Session], signal: &str, filter: &Filter) -> Vec<Point> {
    sessions
        .iter()
        .filter_map(|session| {
            let scores: Vec<f64> = session
                .answers
                .iter()
                .filter(|a| filter.keeps(a))
                .filter_map(|a| a.grades.get(signal).map(|l| l.score()))
                .collect();
            (!scores.is_empty()).then(|| Point {
                session_id: session.id.clone(),
                at: session.started_at,
                value: scores.iter().sum::<f64>() / scores.len() as f64,
            })
        })
        .collect()
}

/// The stage to re-run: lowest average self-grade in its latest graded
/// attempt; ties go to the most recently practised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeakestStage {
    pub mock_id: String,
    pub stage_id: String,
    pub average_grade: f64,
    pub last_practised: DateTime<Utc>,
    /// The local day it is due again: the day after it was last practised.
    pub due: NaiveDate,
}

impl WeakestStage {
    pub fn is_due(&self, today: NaiveDate) -> bool {
        today >= self.due
    }
}

pub fn weakest_stage(sessions: &[Session]) -> Option<WeakestStage> {
    // (mock, stage) -> (time of latest graded attempt, its average grade)
    let mut latest: BTreeMap<(String, String), (DateTime<Utc>, f64)> = BTreeMap::new();
    for session in sessions {
        let mut per_stage: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        for answer in &session.answers {
            if let (Some((mock, stage)), Some(avg)) = (answer.stage_key(), answer.average_grade()) {
                per_stage.entry((mock.to_owned(), stage.to_owned())).or_default().push(avg);
            }
        }
        for (key, grades) in per_stage {
            let avg = grades.iter().sum::<f64>() / grades.len() as f64;
            let at = session.started_at;
            match latest.get(&key) {
                Some((seen, _)) if *seen > at => {}
                _ => {
                    latest.insert(key, (at, avg));
                }
            }
        }
    }
    latest
        .into_iter()
        .min_by(|(_, (at_a, avg_a)), (_, (at_b, avg_b))| avg_a.total_cmp(avg_b).then_with(|| at_b.cmp(at_a)))
        .map(|((mock_id, stage_id), (at, average_grade))| {
            let day = at.with_timezone(&Local).date_naive();
            WeakestStage {
                mock_id,
                stage_id,
                average_grade,
                last_practised: at,
                due: day.checked_add_days(Days::new(1)).unwrap_or(day),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Level, Mode};
    use chrono::{Duration, TimeZone};

    fn session_at(day: u32, grades: &[(&str, Level)]) -> Session {
        let at = Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).single().expect("valid time");
        let mut session = Session::new("phone-screen", None, Mode::Solo, at);
        for (i, (question, level)) in grades.iter().enumerate() {
            let mut answer = Answer::new(format!("phone-screen/{question}"), 120, at + Duration::minutes(i as i64));
            answer.set_duration(if i == 0 { 150.0 } else { 100.0 });
            answer.grades.insert("go-depth".into(), *level);
            session.answers.push(answer);
        }
        session
    }

    #[test]
    fn weakest_stage_uses_the_latest_attempt_and_is_due_next_day() {
        let sessions = vec![
            session_at(1, &[("intro/q", Level::Junior), ("scenarios/a", Level::Senior)]),
            // intro improved since; scenarios is now the weakest
            session_at(3, &[("intro/q", Level::Staff), ("scenarios/a", Level::Mid)]),
        ];
        let weakest = weakest_stage(&sessions).expect("some stage");
        assert_eq!((weakest.mock_id.as_str(), weakest.stage_id.as_str()), ("phone-screen", "scenarios"));
        assert_eq!(weakest.average_grade, 2.0);
        let practised = weakest.last_practised.with_timezone(&Local).date_naive();
        assert!(!weakest.is_due(practised));
        assert!(weakest.is_due(practised.succ_opt().expect("next day")));
    }

    #[test]
    fn ties_go_to_the_most_recent() {
        let sessions = vec![session_at(1, &[("intro/q", Level::Mid)]), session_at(2, &[("scenarios/a", Level::Mid)])];
        assert_eq!(weakest_stage(&sessions).expect("stage").stage_id, "scenarios");
        assert_eq!(weakest_stage(&[]), None);
    }

    #[test]
    fn overrun_and_grade_series() {
        let sessions = vec![session_at(1, &[("intro/q", Level::Junior), ("scenarios/a", Level::Senior)])];
        let none = |_: &str| None;
        let share = metric_series(&sessions, Metric::OverrunShare, &Filter::default(), &none);
        assert_eq!(share[0].value, 0.5);
        let secs = metric_series(&sessions, Metric::OverrunSeconds, &Filter::default(), &none);
        assert_eq!(secs[0].value, 30.0);
        let grades = grade_series(&sessions, "go-depth", &Filter::default());
        assert_eq!(grades[0].value, 2.0);
        let only_intro = Filter { mock_id: None, stage_id: Some("intro".into()) };
        assert_eq!(grade_series(&sessions, "go-depth", &only_intro)[0].value, 1.0);
        // No feedback yet: no pace series rather than a made-up zero.
        assert!(metric_series(&sessions, Metric::WordsPerMinute, &Filter::default(), &none).is_empty());
    }
}
