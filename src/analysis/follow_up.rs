//! Which follow-up probe to ask after an answer, and why: the first probe
//! that digs into a key point the answer missed, otherwise the next probe
//! not yet asked. The question's own probes come first, then its stage's.

use crate::content::{Probe, Question, Stage};

/// The probe chosen, by its index in `probes(question, stage)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeChoice {
    pub index: usize,
    /// The missed key point that chose it; `None`: simply the next probe.
    pub missed: Option<String>,
}

impl ProbeChoice {
    /// Why this probe, in a line ("…, so the app asks this").
    pub fn reason(&self) -> String {
        match &self.missed {
            Some(point) => format!("the answer did not cover \u{201c}{point}\u{201d}"),
            None => "the next probe for this question (no missed key point has a probe)".to_owned(),
        }
    }
}

/// Every probe that may follow an answer to `question`, in order.
pub fn probes<'a>(question: &'a Question, stage: &'a Stage) -> Vec<&'a Probe> {
    question.probes.iter().chain(&stage.probes).collect()
}

/// Where a probe asked earlier (saved with its index and text) is now: at
/// its index if the text still matches, else wherever that text is (the
/// content may have changed); `None` if it is gone.
pub fn find(probes: &[&Probe], index: usize, text: &str) -> Option<usize> {
    match probes.get(index) {
        Some(p) if p.text == text => Some(index),
        _ => probes.iter().position(|p| p.text == text),
    }
}

/// The probe to ask: `missed` are the key points not covered (in the
/// question's order), `exclude` the probes already asked or passed over.
pub fn choose(probes: &[&Probe], missed: &[String], exclude: &[usize]) -> Option<ProbeChoice> {
    let open = |i: &usize| !exclude.contains(i);
    for point in missed {
        let linked = (0..probes.len()).filter(open).find(|&i| probes[i].key_points.contains(point));
        if let Some(index) = linked {
            return Some(ProbeChoice { index, missed: Some(point.clone()) });
        }
    }
    (0..probes.len()).find(open).map(|index| ProbeChoice { index, missed: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(text: &str, points: &[&str]) -> Probe {
        Probe {
            text: text.into(),
            answer: None,
            key_points: points.iter().map(|p| (*p).to_owned()).collect(),
            budget_s: None,
        }
    }

    #[test]
    fn a_missed_key_point_picks_its_probe_else_the_next_one() {
        let list = [probe("nil?", &["blocks forever"]), probe("closed?", &["panics"]), probe("free", &[])];
        let probes: Vec<&Probe> = list.iter().collect();
        let s = |v: &[&str]| v.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        // (missed key points, probes excluded, the probe chosen and the point that chose it)
        type Case<'a> = (&'a [&'a str], &'a [usize], Option<(usize, Option<&'a str>)>);
        let cases: [Case; 8] = [
            // Nothing missed: the first probe, as the next one.
            (&[], &[], Some((0, None))),
            // The second key point missed: its probe, not the first.
            (&["panics"], &[], Some((1, Some("panics")))),
            // Missed in the question's order: the first missed decides.
            (&["blocks forever", "panics"], &[], Some((0, Some("blocks forever")))),
            // Its probe already asked: the next missed point's probe.
            (&["blocks forever", "panics"], &[0], Some((1, Some("panics")))),
            // A missed point with no probe: the next probe not asked.
            (&["other"], &[0], Some((1, None))),
            (&["blocks forever", "panics"], &[0, 1], Some((2, None))),
            (&[], &[0, 1, 2], None),
            (&["panics"], &[0, 1, 2], None),
        ];
        for (missed, exclude, want) in cases {
            let got = choose(&probes, &s(missed), exclude);
            let want = want.map(|(index, point)| ProbeChoice { index, missed: point.map(str::to_owned) });
            assert_eq!(got, want, "missed {missed:?}, excluded {exclude:?}");
        }
        assert_eq!(choose(&[], &s(&["panics"]), &[]), None);
    }

    #[test]
    fn the_stage_probes_follow_the_question_probes() {
        let library = crate::content::Library::builtin();
        let q = library
            .question("system-design/deep-dive/outbox")
            .or_else(|| library.questions().find(|q| q.stage.id == "deep-dive" && q.question.probes.is_empty()));
        let q = q.expect("a deep-dive question");
        let all = probes(q.question, q.stage);
        let relay = all.iter().position(|p| p.text.contains("outbox relay crashes")).expect("the stage probe");
        assert!(relay >= q.question.probes.len(), "the question's own probes come first");
        assert_eq!(all.len(), q.question.probes.len() + q.stage.probes.len());
        // A probe is found again by its text when the content moved it.
        assert_eq!(find(&all, 0, &all[relay].text), Some(relay));
        assert_eq!(find(&all, relay, &all[relay].text), Some(relay));
        assert_eq!(find(&all, relay, "a probe that was removed"), None);
    }

    #[test]
    fn every_builtin_question_with_key_points_and_probes_links_some() {
        // The seed's probes are tied to key points in the content, so a
        // follow-up can be chosen from what the answer missed.
        let library = crate::content::Library::builtin();
        for q in library.questions().filter(|q| !q.question.probes.is_empty() && !q.question.key_points.is_empty()) {
            assert!(q.question.probes.iter().any(|p| !p.key_points.is_empty()), "{}: no probe is linked", q.full_id());
        }
    }
}
