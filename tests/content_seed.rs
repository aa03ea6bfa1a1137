//! The built-in content carries the user's whole document faithfully: checked
//! against the seed text itself, through `content export --json`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn seed_path() -> PathBuf {
    if let Ok(path) = std::env::var("INTERVIEW_COACH_SEED") {
        return PathBuf::from(path);
    }
    // The user's original document travels with the repository.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed.txt")
}

fn seed() -> String {
    let path = seed_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("the seed document is needed for this test: {}: {e} (set INTERVIEW_COACH_SEED)", path.display())
    })
}

fn export() -> Value {
    let data = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_interview-coach"))
        .args(["--data-dir"])
        .arg(data.path())
        .args(["content", "export", "--json"])
        .output()
        .expect("run interview-coach");
    assert!(out.status.success(), "export failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("export is JSON")
}

/// White space, backticks and straight quotes removed: the seed's line-break
/// artefacts glue inline code to its neighbours, the content spaces it out.
fn norm(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '`' && *c != '"').collect()
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// All strings under a given key anywhere in the export.
fn field_strings(value: &Value, key: &str, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| field_strings(v, key, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    strings(v, out);
                } else {
                    field_strings(v, key, out);
                }
            }
        }
        _ => {}
    }
}

const LABELS: [&str; 9] = [
    "Probe relentlessly:",
    "Strong answer:",
    "Listen for:",
    "Red flags:",
    "Probes:",
    "Probe:",
    "Expect:",
    "Problem:",
    "Prompt (pick this one):",
];

/// Headings that organise the document but are not content themselves.
const STRUCTURE_ONLY: [&str; 2] = ["How to Run These Mocks", "Scoring Rubric"];

/// "Solo: read each question..." -> "read each question...": short labels
/// before a colon become field names in the content.
fn strip_field_label(part: &str) -> &str {
    match part.split_once(": ") {
        Some((label, rest)) if label.split(' ').count() <= 6 && !label.contains(['.', ',', ';']) => rest,
        _ => part.strip_suffix(':').filter(|p| p.split(' ').count() <= 6).map(|_| "").unwrap_or(part),
    }
}

/// Splits a seed line into fragments at labels, quotes, arrows, parentheses,
/// table bars and inline bullets.
fn fragments(line: &str) -> Vec<String> {
    let mut line = line.trim().trim_end_matches('¶').to_owned();
    for label in LABELS {
        line = line.replace(label, "\u{1}");
    }
    line = line.replace(".- ", ".\u{1}");
    line.split(['\u{1}', '"', '→', '(', ')', '|'])
        .flat_map(|part| part.split(" - "))
        .map(|part| part.trim().trim_start_matches("- ").trim_end_matches(" -").trim())
        .map(|part| part.trim_start_matches(':').trim().to_owned())
        // "(6 min, ~3 min each)": budgets live in numeric fields.
        .filter(|part| !part.split(' ').nth(1).is_some_and(|w| w.starts_with("min")))
        .filter(|part| norm(part).chars().count() >= 12)
        .filter(|part| !STRUCTURE_ONLY.contains(&part.as_str()))
        .collect()
}

#[test]
fn every_sentence_of_the_seed_is_in_the_content() {
    let seed = seed();
    let export = export();
    let mut all = Vec::new();
    strings(&export, &mut all);
    let haystack = norm(&all.join("\n"));
    let mut missing = Vec::new();
    let mut checked = 0;
    for line in seed.lines() {
        for fragment in fragments(line) {
            checked += 1;
            let found = haystack.contains(&norm(&fragment)) || {
                // Labels become field names; inline lists and sentences may be
                // split into list items.
                let unlabelled = strip_field_label(&fragment);
                unlabelled.is_empty()
                    || haystack.contains(&norm(unlabelled))
                    || unlabelled
                        .split(". ")
                        .flat_map(|s| s.split(", "))
                        .all(|item| haystack.contains(&norm(item.trim_end_matches('.'))))
            };
            if !found {
                missing.push(fragment);
            }
        }
    }
    assert!(checked > 300, "only {checked} fragments read from the seed");
    assert!(missing.is_empty(), "{} seed fragments missing from the content:\n{}", missing.len(), missing.join("\n"));
}

/// Quoted text on a line that starts with one of `prefixes`.
fn quoted_after(seed: &str, prefixes: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for line in seed.lines() {
        let t = line.trim();
        if let Some(rest) = prefixes.iter().find_map(|p| t.strip_prefix(p)) {
            let parts: Vec<&str> = rest.split('"').collect();
            for (i, part) in parts.iter().enumerate() {
                if i % 2 == 1 && norm(part).len() > 8 {
                    found.push((*part).to_owned());
                }
            }
        }
    }
    found
}

fn assert_all_in(expected: &[String], field_values: &[String], what: &str) {
    let fields: Vec<String> = field_values.iter().map(|s| norm(s)).collect();
    let missing: Vec<&String> = expected.iter().filter(|e| !fields.iter().any(|f| f.contains(&norm(e)))).collect();
    assert!(missing.is_empty(), "{what} missing from their fields: {missing:#?}");
}

#[test]
fn questions_probes_and_red_flags_are_in_their_fields() {
    let seed = seed();
    let export = export();

    // Interview questions: quoted lines, bullets and labelled deep-dive
    // questions; a quote broken over two lines is joined first.
    let lines: Vec<&str> = seed.lines().map(str::trim).collect();
    let starts =
        ["\"", "Problem: \"", "Dual-write problem: \"", "Idempotency on the consumer: \"", "Saga / compensation: \""];
    let mut questions = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_start_matches("- ");
        let Some(start) = starts.iter().find(|s| line.starts_with(**s)) else { continue };
        let mut rest = line[start.len()..].to_owned();
        if !rest.contains('"') {
            rest = format!("{rest} {}", lines.get(i + 1).copied().unwrap_or_default());
        }
        questions.push(rest.split('"').next().unwrap_or_default().to_owned());
    }
    let mut prompts = Vec::new();
    field_strings(&export, "prompt", &mut prompts);
    assert!(questions.len() >= 23, "only {} questions found in the seed", questions.len());
    assert_all_in(&questions, &prompts, "questions");

    let probes = quoted_after(&seed, &["- Probe: ", "Probe: ", "- Probes: ", "Probe relentlessly: "]);
    assert!(probes.len() >= 20, "only {} probes found in the seed", probes.len());
    let mut probe_texts = Vec::new();
    field_strings(&export, "probes", &mut probe_texts);
    assert_all_in(&probes, &probe_texts, "probes");

    let red_flags: Vec<String> = seed
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("Red flags:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(red_flags.len(), 8, "red-flag lines in the seed");
    let mut flag_fields = Vec::new();
    field_strings(&export, "red_flags", &mut flag_fields);
    let joined = vec![flag_fields.join(" ")];
    assert_all_in(
        &red_flags.iter().flat_map(|l| l.split(", ").map(str::to_owned)).collect::<Vec<_>>(),
        &joined,
        "red flags",
    );

    let strong: Vec<String> = seed
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("Strong answer:"))
        .map(|s| s.trim().to_owned())
        .filter(|s| norm(s).len() > 12)
        .collect();
    assert!(strong.len() >= 19, "only {} strong answers found", strong.len());
    let mut strong_fields = Vec::new();
    field_strings(&export, "strong_answer", &mut strong_fields);
    assert_all_in(&strong, &[strong_fields.join(" ")], "strong answers");
}

#[test]
fn rubric_is_complete_and_budgets_add_up() {
    let seed = seed();
    let export = export();
    let tables = export["rubric"]["table"].as_array().expect("rubric tables");
    assert_eq!(tables.len(), 2);
    let mut cells = Vec::new();
    let mut signal_ids = HashSet::new();
    for table in tables {
        let signals = table["signal"].as_array().expect("signals");
        assert_eq!(signals.len(), 5, "signals in {}", table["title"]);
        for signal in signals {
            assert!(signal_ids.insert(signal["id"].as_str().expect("id").to_owned()));
            for level in ["junior", "mid", "senior", "staff"] {
                let cell = signal[level].as_str().expect("cell");
                assert!(!cell.trim().is_empty());
                cells.push(format!("{} {}", signal["name"].as_str().expect("name"), cell));
            }
        }
    }
    assert_eq!(cells.len(), 40);
    // Each table row of the seed is a signal's name and its four cells.
    for row in seed.lines().filter(|l| l.starts_with('|') && !l.contains("---") && !l.contains("| Signal |")) {
        let parts: Vec<&str> = row.split('|').map(str::trim).filter(|p| !p.is_empty()).collect();
        assert_eq!(parts.len(), 5, "{row}");
        let joined = cells.iter().map(|c| norm(c)).collect::<Vec<_>>().join("\n");
        for part in parts {
            assert!(joined.contains(&norm(part)), "rubric cell missing: {part}");
        }
    }

    let mocks = export["mocks"].as_array().expect("mocks");
    let expected = [("phone-screen", 45), ("system-design", 60), ("behavioral", 45)];
    assert_eq!(mocks.len(), 3);
    let mut ids = HashSet::new();
    for ((id, minutes), mock) in expected.iter().zip(mocks) {
        assert_eq!(mock["id"], *id);
        assert_eq!(mock["minutes"], *minutes);
        let stages = mock["stage"].as_array().expect("stages");
        let stage_minutes: u64 = stages.iter().map(|s| s["minutes"].as_u64().expect("minutes")).sum();
        assert_eq!(stage_minutes, *minutes as u64, "{id}: stage minutes");
        for stage in stages {
            let budget: u64 = stage["question"]
                .as_array()
                .expect("questions")
                .iter()
                .map(|q| q["budget_s"].as_u64().expect("budget"))
                .sum();
            assert_eq!(
                budget,
                stage["minutes"].as_u64().expect("minutes") * 60,
                "{id}/{}: question budgets",
                stage["id"]
            );
            for question in stage["question"].as_array().expect("questions") {
                let full =
                    format!("{id}/{}/{}", stage["id"].as_str().expect("id"), question["id"].as_str().expect("id"));
                assert!(ids.insert(full.clone()), "duplicate id {full}");
                for signal in question["signals"].as_array().expect("signals") {
                    assert!(signal_ids.contains(signal.as_str().expect("signal")), "{full}: unknown signal {signal}");
                }
                if question["strong_answer"].is_string() && question["kind"] != "candidate-questions" {
                    assert!(question["key_points"].as_array().is_some_and(|k| k.len() >= 2), "{full}: key points");
                }
            }
        }
    }
    assert!(ids.contains("phone-screen/go-fundamentals/channels"));
    assert!(mocks[2]["budget_note"].is_string(), "mock 3 says how its 45 minutes split");
    // The live-coding snippets are kept verbatim.
    let code: Vec<String> = mocks[0]["stage"]
        .as_array()
        .expect("stages")
        .iter()
        .flat_map(|s| s["question"].as_array().cloned().unwrap_or_default())
        .flat_map(|q| q["code"].as_array().cloned().unwrap_or_default())
        .map(|c| c["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(code.len(), 2);
    assert!(code[0].contains("select { case l.tokens <- struct{}{}: default: } // refill, don't block"));
    assert!(code[1].contains("err := g.Wait() // first non-nil error, others cancelled via ctx"));
}

#[test]
fn content_check_names_file_and_line_of_a_broken_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "id = \"x\"\ntitle = \"X\"\nminutes = 1\nrubric = \"technical\"\n\n[[stage]]\nid = \"s\"\ntitle = \"S\"\nminutes = 1\n\n[[stage.question]]\nid = \"q\"\nkind = \"technical\"\nbudget_s = 60\nprompt = \"?\"\nsignals = [\"no-such-signal\"]\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_interview-coach"))
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["content", "check"])
        .arg(&broken)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}:16: unknown rubric signal \"no-such-signal\"", broken.display())), "{stderr}");

    // The built-in files themselves check clean.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content");
    let files: Vec<PathBuf> =
        std::fs::read_dir(&root).expect("content dir").map(|e| e.expect("entry").path()).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_interview-coach"))
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["content", "check"])
        .args(&files)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
