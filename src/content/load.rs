//! Loading and validating content files. Every problem is reported with the
//! file, the line and what to fix; a bad user file is skipped, never fatal.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::model::{Guide, Mock, Question, RubricFile, RubricTable, Signal, Stage};
use super::{BUILTIN_GUIDE, BUILTIN_MOCKS, BUILTIN_RUBRIC};

/// A problem in a content file: `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ContentError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MockSource {
    BuiltIn(&'static str),
    User(PathBuf),
}

impl fmt::Display for MockSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MockSource::BuiltIn(name) => write!(f, "built-in ({name})"),
            MockSource::User(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadedMock {
    pub mock: Mock,
    pub source: MockSource,
}

/// One question with the stage and mock it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct QuestionRef<'a> {
    pub mock: &'a Mock,
    pub stage: &'a Stage,
    pub question: &'a Question,
}

impl QuestionRef<'_> {
    pub fn full_id(&self) -> String {
        question_id(&self.mock.id, &self.stage.id, &self.question.id)
    }
}

pub fn question_id(mock: &str, stage: &str, question: &str) -> String {
    format!("{mock}/{stage}/{question}")
}

/// All content the app knows: the built-ins plus valid user files.
#[derive(Debug, Clone)]
pub struct Library {
    pub guide: Guide,
    pub rubric: RubricFile,
    pub mocks: Vec<LoadedMock>,
    /// Files that could not be loaded (skipped), for the UI and `content check`.
    pub problems: Vec<ContentError>,
}

impl Library {
    /// The built-in content only.
    pub fn builtin() -> Library {
        Library::load(None)
    }

    /// The built-ins plus every `*.toml` in `user_dir` (mock files, and rubric
    /// files named `rubric*.toml`). Problems are collected, never fatal.
    pub fn load(user_dir: Option<&Path>) -> Library {
        let mut problems = Vec::new();
        let guide = match parse::<Guide>(BUILTIN_GUIDE.0, BUILTIN_GUIDE.1) {
            Ok(guide) => guide,
            Err(err) => {
                problems.push(err);
                Guide { title: "Mock interviews".into(), summary: String::new(), how_to_run: Vec::new() }
            }
        };
        let mut rubric = match load_builtin_rubric() {
            Ok(rubric) => rubric,
            Err(errs) => {
                problems.extend(errs);
                RubricFile { grading: None, communication_bar: None, tables: Vec::new() }
            }
        };

        let user_files = user_dir.map(list_toml_files).unwrap_or_default();
        // Rubric files first, so user mocks can use the signals they define.
        for path in user_files.iter().filter(|p| is_rubric_file(p)) {
            let name = path.display().to_string();
            match std::fs::read_to_string(path) {
                Err(err) => problems.push(ContentError::whole(&name, format!("cannot read: {err}"))),
                Ok(src) => match parse::<RubricFile>(&name, &src).map_err(|e| vec![e]).and_then(|file| {
                    let errs = validate_rubric(&file, &name, &src, &rubric.tables);
                    if errs.is_empty() { Ok(file) } else { Err(errs) }
                }) {
                    Ok(file) => rubric.tables.extend(file.tables),
                    Err(errs) => problems.extend(errs),
                },
            }
        }

        let mut mocks: Vec<LoadedMock> = Vec::new();
        for (name, src) in BUILTIN_MOCKS {
            match parse_and_validate_mock(name, src, &rubric.tables, &mocks) {
                Ok(mock) => mocks.push(LoadedMock { mock, source: MockSource::BuiltIn(name) }),
                Err(errs) => problems.extend(errs),
            }
        }
        for path in user_files.iter().filter(|p| !is_rubric_file(p)) {
            let name = path.display().to_string();
            let result = std::fs::read_to_string(path)
                .map_err(|err| vec![ContentError::whole(&name, format!("cannot read: {err}"))])
                .and_then(|src| parse_and_validate_mock(&name, &src, &rubric.tables, &mocks));
            match result {
                Ok(mock) => mocks.push(LoadedMock { mock, source: MockSource::User(path.clone()) }),
                Err(errs) => problems.extend(errs),
            }
        }
        Library { guide, rubric, mocks, problems }
    }

    pub fn mock(&self, id: &str) -> Option<&Mock> {
        self.mocks.iter().map(|m| &m.mock).find(|m| m.id == id)
    }

    pub fn questions(&self) -> impl Iterator<Item = QuestionRef<'_>> {
        self.mocks.iter().flat_map(|loaded| {
            let mock = &loaded.mock;
            mock.stages.iter().flat_map(move |stage| {
                stage.questions.iter().map(move |question| QuestionRef { mock, stage, question })
            })
        })
    }

    /// Looks a question up by its full id `mock/stage/question`.
    pub fn question(&self, full_id: &str) -> Option<QuestionRef<'_>> {
        let mut parts = full_id.splitn(3, '/');
        let (mock_id, stage_id, question_id) = (parts.next()?, parts.next()?, parts.next()?);
        let mock = self.mock(mock_id)?;
        let stage = mock.stages.iter().find(|s| s.id == stage_id)?;
        let question = stage.questions.iter().find(|q| q.id == question_id)?;
        Some(QuestionRef { mock, stage, question })
    }

    pub fn stage(&self, mock_id: &str, stage_id: &str) -> Option<(&Mock, &Stage)> {
        let mock = self.mock(mock_id)?;
        mock.stages.iter().find(|s| s.id == stage_id).map(|stage| (mock, stage))
    }

    pub fn signal(&self, id: &str) -> Option<&Signal> {
        self.rubric.tables.iter().flat_map(|t| &t.signals).find(|s| s.id == id)
    }

    pub fn rubric_table(&self, id: &str) -> Option<&RubricTable> {
        self.rubric.tables.iter().find(|t| t.id == id)
    }
}

impl ContentError {
    fn at(file: &str, line: Option<usize>, message: impl Into<String>) -> ContentError {
        ContentError { file: file.to_owned(), line, message: message.into() }
    }
    fn whole(file: &str, message: impl Into<String>) -> ContentError {
        ContentError::at(file, None, message)
    }
}

pub fn load_builtin_rubric() -> Result<RubricFile, Vec<ContentError>> {
    let (name, src) = BUILTIN_RUBRIC;
    let file = parse::<RubricFile>(name, src).map_err(|e| vec![e])?;
    let errs = validate_rubric(&file, name, src, &[]);
    if errs.is_empty() { Ok(file) } else { Err(errs) }
}

/// Checks one file the way the loader would (for `content check`): mocks are
/// checked against the built-in rubric and, for their ids, the built-in mocks.
pub fn check_file(path: &Path) -> Vec<ContentError> {
    let name = path.display().to_string();
    let src = match std::fs::read_to_string(path) {
        Ok(src) => src,
        Err(err) => return vec![ContentError::whole(&name, format!("cannot read: {err}"))],
    };
    let builtin = Library::builtin();
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if is_rubric_file(path) {
        // The built-in rubric checked in place is checked on its own.
        let others: &[RubricTable] = if path.ends_with(BUILTIN_RUBRIC.0) { &[] } else { &builtin.rubric.tables };
        return match parse::<RubricFile>(&name, &src) {
            Ok(file) => validate_rubric(&file, &name, &src, others),
            Err(err) => vec![err],
        };
    }
    if file_name == "guide.toml" {
        return parse::<Guide>(&name, &src).err().into_iter().collect();
    }
    // A built-in file checked in place must not clash with its own compiled-in copy.
    let others: Vec<LoadedMock> = builtin
        .mocks
        .into_iter()
        .filter(|m| match m.source {
            MockSource::BuiltIn(builtin_name) => !path.ends_with(builtin_name),
            MockSource::User(_) => true,
        })
        .collect();
    parse_and_validate_mock(&name, &src, &builtin.rubric.tables, &others).err().unwrap_or_default()
}

fn is_rubric_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("rubric"))
}

fn list_toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, src: &str) -> Result<T, ContentError> {
    toml::from_str::<T>(src).map_err(|err| {
        let line = err.span().map(|span| line_of_offset(src, span.start));
        ContentError::at(file, line, err.message().trim().to_owned())
    })
}

fn line_of_offset(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

fn parse_and_validate_mock(
    file: &str,
    src: &str,
    tables: &[RubricTable],
    already_loaded: &[LoadedMock],
) -> Result<Mock, Vec<ContentError>> {
    let mock = parse::<Mock>(file, src).map_err(|e| vec![e])?;
    let mut errs = validate_mock(&mock, file, src, tables);
    if let Some(other) = already_loaded.iter().find(|m| m.mock.id == mock.id) {
        let line = Locator::new(src).top_key("id");
        errs.push(ContentError::at(
            file,
            line,
            format!("duplicate mock id \"{}\": {} already uses it; give this mock another id", mock.id, other.source),
        ));
    }
    if errs.is_empty() { Ok(mock) } else { Err(errs) }
}

/// Finds the lines of tables and keys in a TOML source, so semantic errors
/// can name a line. Array-of-tables headers are counted in order.
struct Locator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Locator<'a> {
    fn new(src: &'a str) -> Self {
        Locator { lines: src.lines().collect() }
    }

    /// 1-based line of the `n`-th line equal to `header`, starting after `from`.
    fn nth_header(&self, header: &str, from: usize, n: usize) -> Option<usize> {
        self.lines.iter().enumerate().skip(from).filter(|(_, l)| l.trim() == header).nth(n).map(|(i, _)| i + 1)
    }

    /// 1-based line of `key = ...` within the table that starts after `from`
    /// (the table ends at the next header line).
    fn key_in_table(&self, from: usize, key: &str) -> Option<usize> {
        for (i, line) in self.lines.iter().enumerate().skip(from) {
            let t = line.trim_start();
            if t.starts_with('[') {
                return None;
            }
            if let Some(rest) = t.strip_prefix(key)
                && rest.trim_start().starts_with('=')
            {
                return Some(i + 1);
            }
        }
        None
    }

    fn top_key(&self, key: &str) -> Option<usize> {
        self.key_in_table(0, key)
    }

    fn stage_line(&self, stage_index: usize) -> Option<usize> {
        self.nth_header("[[stage]]", 0, stage_index)
    }

    fn question_line(&self, stage_index: usize, question_index: usize) -> Option<usize> {
        let stage = self.stage_line(stage_index)?;
        let question = self.nth_header("[[stage.question]]", stage, question_index)?;
        // It must belong to this stage, not a later one.
        match self.stage_line(stage_index + 1) {
            Some(next) if question > next => None,
            _ => Some(question),
        }
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

fn validate_rubric(file: &RubricFile, name: &str, src: &str, existing: &[RubricTable]) -> Vec<ContentError> {
    let loc = Locator::new(src);
    let mut errs = Vec::new();
    let mut table_ids: HashSet<&str> = existing.iter().map(|t| t.id.as_str()).collect();
    let mut signal_ids: HashSet<&str> = existing.iter().flat_map(|t| &t.signals).map(|s| s.id.as_str()).collect();
    for (ti, table) in file.tables.iter().enumerate() {
        let table_line = loc.nth_header("[[table]]", 0, ti);
        let id_line = table_line.and_then(|l| loc.key_in_table(l, "id")).or(table_line);
        if !is_valid_id(&table.id) {
            errs.push(ContentError::at(
                name,
                id_line,
                format!("rubric table id \"{}\" must be lower-case letters, digits and dashes", table.id),
            ));
        }
        if !table_ids.insert(&table.id) {
            errs.push(ContentError::at(
                name,
                id_line,
                format!("duplicate rubric table id \"{}\"; rename one", table.id),
            ));
        }
        if table.signals.is_empty() {
            errs.push(ContentError::at(
                name,
                table_line,
                format!("rubric table \"{}\" has no [[table.signal]] rows; add at least one", table.id),
            ));
        }
        for (si, signal) in table.signals.iter().enumerate() {
            let signal_line = table_line.and_then(|l| loc.nth_header("[[table.signal]]", l, si));
            let id_line = signal_line.and_then(|l| loc.key_in_table(l, "id")).or(signal_line);
            if !is_valid_id(&signal.id) {
                errs.push(ContentError::at(
                    name,
                    id_line,
                    format!("signal id \"{}\" must be lower-case letters, digits and dashes", signal.id),
                ));
            }
            if !signal_ids.insert(&signal.id) {
                errs.push(ContentError::at(
                    name,
                    id_line,
                    format!(
                        "duplicate rubric signal id \"{}\"; signal ids must be unique across all rubric tables",
                        signal.id
                    ),
                ));
            }
            for (level, cell) in ["junior", "mid", "senior", "staff"].iter().zip(signal.cells()) {
                if cell.trim().is_empty() {
                    let line = signal_line.and_then(|l| loc.key_in_table(l, level)).or(signal_line);
                    errs.push(ContentError::at(
                        name,
                        line,
                        format!("signal \"{}\" has an empty {level} cell; describe that level", signal.id),
                    ));
                }
            }
        }
    }
    errs
}

fn validate_mock(mock: &Mock, file: &str, src: &str, tables: &[RubricTable]) -> Vec<ContentError> {
    let loc = Locator::new(src);
    let mut errs = Vec::new();
    let mut err = |line: Option<usize>, message: String| errs.push(ContentError::at(file, line, message));

    if !is_valid_id(&mock.id) {
        err(
            loc.top_key("id"),
            format!("mock id \"{}\" must be lower-case letters, digits and dashes (e.g. \"phone-screen\")", mock.id),
        );
    }
    if mock.title.trim().is_empty() {
        err(loc.top_key("title"), "the mock's title is empty; give it a title".into());
    }
    if mock.minutes == 0 {
        err(loc.top_key("minutes"), "the mock's minutes must be more than 0".into());
    }
    let known_signals: HashMap<&str, &str> =
        tables.iter().flat_map(|t| t.signals.iter().map(move |s| (s.id.as_str(), t.id.as_str()))).collect();
    if !tables.iter().any(|t| t.id == mock.rubric) {
        let ids: Vec<&str> = tables.iter().map(|t| t.id.as_str()).collect();
        err(loc.top_key("rubric"), format!("unknown rubric table \"{}\"; use one of: {}", mock.rubric, ids.join(", ")));
    }
    if mock.stages.is_empty() {
        err(None, "the mock has no stages; add a [[stage]] with at least one [[stage.question]]".into());
    }

    let stage_total: u32 = mock.stages.iter().map(|s| s.minutes).sum();
    if mock.minutes > 0 && stage_total != mock.minutes {
        err(
            loc.top_key("minutes"),
            format!(
                "the stages' minutes add up to {stage_total} but the mock says minutes = {}; make them agree",
                mock.minutes
            ),
        );
    }

    let mut stage_ids = HashSet::new();
    for (si, stage) in mock.stages.iter().enumerate() {
        let stage_line = loc.stage_line(si);
        let key = |k: &str| stage_line.and_then(|l| loc.key_in_table(l, k)).or(stage_line);
        if !is_valid_id(&stage.id) {
            err(key("id"), format!("stage id \"{}\" must be lower-case letters, digits and dashes", stage.id));
        }
        if !stage_ids.insert(stage.id.as_str()) {
            err(key("id"), format!("duplicate stage id \"{}\" in mock \"{}\"; rename one", stage.id, mock.id));
        }
        if stage.minutes == 0 {
            err(key("minutes"), format!("stage \"{}\" has minutes = 0; give it a time budget", stage.id));
        }
        if stage.questions.is_empty() {
            err(stage_line, format!("stage \"{}\" has no questions; add a [[stage.question]]", stage.id));
        }
        let question_total: u32 = stage.questions.iter().map(|q| q.budget_s).sum();
        if stage.minutes > 0 && !stage.questions.is_empty() && question_total != stage.budget_s() {
            err(
                key("minutes"),
                format!(
                    "the questions of stage \"{}\" budget {question_total} s in all but the stage has {} min ({} s); make them agree",
                    stage.id,
                    stage.minutes,
                    stage.budget_s()
                ),
            );
        }
        let mut question_ids = HashSet::new();
        for (qi, question) in stage.questions.iter().enumerate() {
            let q_line = loc.question_line(si, qi);
            let key = |k: &str| q_line.and_then(|l| loc.key_in_table(l, k)).or(q_line);
            if !is_valid_id(&question.id) {
                err(
                    key("id"),
                    format!("question id \"{}\" must be lower-case letters, digits and dashes", question.id),
                );
            }
            if !question_ids.insert(question.id.as_str()) {
                err(
                    key("id"),
                    format!("duplicate question id \"{}\" in stage \"{}\"; rename one", question.id, stage.id),
                );
            }
            if question.budget_s == 0 {
                err(
                    key("budget_s"),
                    format!("question \"{}\" has budget_s = 0; give it a time budget in seconds", question.id),
                );
            }
            if question.prompt.trim().is_empty() {
                err(key("prompt"), format!("question \"{}\" has an empty prompt", question.id));
            }
            if question.signals.is_empty() {
                err(key("signals"), format!("question \"{}\" lists no rubric signals; name at least one", question.id));
            }
            for signal in &question.signals {
                if !known_signals.contains_key(signal.as_str()) {
                    let mut ids: Vec<&str> = known_signals.keys().copied().collect();
                    ids.sort_unstable();
                    err(
                        key("signals"),
                        format!(
                            "unknown rubric signal \"{signal}\" in question \"{}\"; known signals: {}",
                            question.id,
                            ids.join(", ")
                        ),
                    );
                }
            }
            for (ki, point) in question.key_points.iter().enumerate() {
                if point.name.trim().is_empty() {
                    err(
                        key("key_points"),
                        format!("key point {} of question \"{}\" has an empty name", ki + 1, question.id),
                    );
                }
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"id = "demo"
title = "Demo"
minutes = 2
rubric = "technical"

[[stage]]
id = "one"
title = "One"
minutes = 2

[[stage.question]]
id = "q"
kind = "technical"
budget_s = 120
prompt = "Why?"
signals = ["go-depth"]
"#;

    fn check(src: &str) -> Vec<ContentError> {
        let tables = load_builtin_rubric().expect("built-in rubric").tables;
        parse_and_validate_mock("demo.toml", src, &tables, &[]).err().unwrap_or_default()
    }

    #[test]
    fn minimal_file_is_valid() {
        assert_eq!(check(MINIMAL), vec![]);
    }

    #[test]
    fn syntax_error_names_the_line() {
        let src = MINIMAL.replace("prompt = \"Why?\"", "prompt = \"Why?");
        let errs = check(&src);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, Some(15), "{}", errs[0]);
    }

    #[test]
    fn unknown_signal_names_the_line() {
        let errs = check(&MINIMAL.replace("go-depth", "go-dpeth"));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, Some(16));
        assert!(errs[0].message.contains("unknown rubric signal \"go-dpeth\""));
    }

    #[test]
    fn zero_budget_and_wrong_totals_are_reported() {
        let errs = check(&MINIMAL.replace("budget_s = 120", "budget_s = 0"));
        assert!(errs.iter().any(|e| e.line == Some(14) && e.message.contains("budget_s = 0")), "{errs:?}");
        let errs = check(&MINIMAL.replace("minutes = 2\nrubric", "minutes = 3\nrubric"));
        assert!(errs.iter().any(|e| e.line == Some(3) && e.message.contains("add up to 2")), "{errs:?}");
    }

    #[test]
    fn missing_budget_is_a_parse_error_with_a_line() {
        let errs = check(&MINIMAL.replace("budget_s = 120\n", ""));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("budget_s"), "{}", errs[0]);
        assert!(errs[0].line.is_some());
    }

    #[test]
    fn duplicate_question_id_is_reported() {
        let src = format!(
            "{}\n[[stage.question]]\nid = \"q\"\nkind = \"technical\"\nbudget_s = 60\nprompt = \"Again?\"\nsignals = [\"go-depth\"]\n",
            MINIMAL.replace("minutes = 2", "minutes = 3")
        );
        let errs = check(&src);
        assert!(errs.iter().any(|e| e.message.contains("duplicate question id") && e.line == Some(19)), "{errs:?}");
    }

    #[test]
    fn bad_user_file_does_not_stop_the_builtins() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("broken.toml"), "id = \"x\"\ntitle = [").expect("write");
        std::fs::write(dir.path().join("mine.toml"), MINIMAL).expect("write");
        let lib = Library::load(Some(dir.path()));
        assert_eq!(lib.mocks.len(), 4, "{:?}", lib.problems);
        assert_eq!(lib.problems.len(), 1);
        assert!(lib.problems[0].file.ends_with("broken.toml"));
        assert!(lib.mock("demo").is_some());
    }

    #[test]
    fn user_mock_cannot_take_a_builtin_id() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("clash.toml"), MINIMAL.replace("\"demo\"", "\"phone-screen\"")).expect("write");
        let lib = Library::load(Some(dir.path()));
        assert_eq!(lib.mocks.len(), 3);
        assert!(lib.problems[0].message.contains("duplicate mock id"), "{:?}", lib.problems);
        assert_eq!(lib.problems[0].line, Some(1));
    }

    #[test]
    fn user_rubric_signals_can_be_used() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("rubric-pm.toml"),
            "[[table]]\nid = \"pm\"\ntitle = \"PM\"\n[[table.signal]]\nid = \"product-sense\"\nname = \"Product sense\"\njunior = \"a\"\nmid = \"b\"\nsenior = \"c\"\nstaff = \"d\"\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("pm.toml"),
            MINIMAL.replace("\"technical\"\n\n", "\"pm\"\n\n").replace("go-depth", "product-sense"),
        )
        .expect("write");
        let lib = Library::load(Some(dir.path()));
        assert!(lib.problems.is_empty(), "{:?}", lib.problems);
        assert!(lib.mock("demo").is_some());
    }
}
