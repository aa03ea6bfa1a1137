//! Loading and validating content files. Every problem is reported with the
//! file, the line and what to fix; a bad user file is skipped, never fatal.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::model::{Guide, MAX_BUDGET_S, MAX_MINUTES, Mock, Question, RubricFile, RubricTable, Signal, Stage};
use super::{BUILTIN_GUIDE, BUILTIN_MOCKS, BUILTIN_RUBRIC};

/// Real content files are ~20 KB; a cap keeps a stray huge file (a log, a
/// dump) from stalling startup or `content check`.
const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

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
            match read_content(path, &name) {
                Err(err) => problems.push(err),
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
            let result = read_content(path, &name)
                .map_err(|err| vec![err])
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
    match read_content(path, &name) {
        Ok(src) => check_source(path, &src, &Library::builtin()),
        Err(err) => vec![err],
    }
}

/// `check_file` on text already read (the file's path decides its kind), so
/// tests can feed it any text.
fn check_source(path: &Path, src: &str, builtin: &Library) -> Vec<ContentError> {
    let name = path.display().to_string();
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if is_rubric_file(path) {
        // The built-in rubric checked in place is checked on its own.
        let others: &[RubricTable] = if path.ends_with(BUILTIN_RUBRIC.0) { &[] } else { &builtin.rubric.tables };
        return match parse::<RubricFile>(&name, src) {
            Ok(file) => validate_rubric(&file, &name, src, others),
            Err(err) => vec![err],
        };
    }
    if file_name == "guide.toml" {
        return parse::<Guide>(&name, src).err().into_iter().collect();
    }
    // A built-in file checked in place must not clash with its own compiled-in copy.
    let others: Vec<LoadedMock> = builtin
        .mocks
        .iter()
        .filter(|m| match m.source {
            MockSource::BuiltIn(builtin_name) => !path.ends_with(builtin_name),
            MockSource::User(_) => true,
        })
        .cloned()
        .collect();
    parse_and_validate_mock(&name, src, &builtin.rubric.tables, &others).err().unwrap_or_default()
}

/// Reads a user file as UTF-8 text, refusing one over `MAX_FILE_BYTES`
/// without reading more than the cap into memory.
fn read_content(path: &Path, name: &str) -> Result<String, ContentError> {
    use std::io::Read;
    let cannot_read = |err: std::io::Error| ContentError::whole(name, format!("cannot read: {err}"));
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(cannot_read)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_big(name));
    }
    String::from_utf8(bytes)
        .map_err(|_| ContentError::whole(name, "cannot read: the file is not UTF-8 text; save it as UTF-8"))
}

fn too_big(name: &str) -> ContentError {
    ContentError::whole(
        name,
        format!(
            "the file is larger than {} MiB, far more than a content file needs (a mock is about 20 KB); \
             check that it is the right file, or split it into several mock files",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
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
    // Checked here too, so text that did not come through `read_content` is capped.
    if src.len() > MAX_FILE_BYTES {
        return Err(too_big(file));
    }
    toml::from_str::<T>(src).map_err(|err| {
        let line = err.span().map(|span| line_of_offset(src, span.start));
        ContentError::at(file, line, err.message().trim().to_owned())
    })
}

/// 1-based line of a byte offset. Called once per file (for its one parse
/// error), so a single scan keeps loading linear. Works on bytes, so an offset
/// inside a character cannot panic; an error at the very end of a file that
/// ends with a newline names the last line, which every editor shows.
fn line_of_offset(src: &str, offset: usize) -> usize {
    let bytes = src.as_bytes();
    let line = bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count() + 1;
    line.min(src.lines().count().max(1))
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
///
/// The lines are indexed once and then binary-searched: scanning the lines
/// from the top for every question made loading quadratic in the file size.
/// Line indices below are 0-based; the answers are 1-based lines.
struct Locator<'a> {
    /// Lines starting with `[` (a table header, which ends the table before it), ascending.
    bracket_lines: Vec<usize>,
    /// Each `[`-line's trimmed text -> the lines with that text, ascending.
    headers: HashMap<&'a str, Vec<usize>>,
    /// The key of each `key = ...` line (not a `[`-line) -> the lines with that key, ascending.
    keys: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Locator<'a> {
    fn new(src: &'a str) -> Self {
        let mut loc = Locator { bracket_lines: Vec::new(), headers: HashMap::new(), keys: HashMap::new() };
        for (i, line) in src.lines().enumerate() {
            let t = line.trim_start();
            if t.starts_with('[') {
                loc.bracket_lines.push(i);
                loc.headers.entry(t.trim_end()).or_default().push(i);
            } else if let Some((key, _)) = t.split_once('=') {
                // For a key without `=` or outer spaces, equal to "the line starts with the key, then `=`".
                loc.keys.entry(key.trim_end()).or_default().push(i);
            }
        }
        loc
    }

    /// 1-based line of the `n`-th line equal to `header` (a `[...]` line, after
    /// trimming), starting after `from`.
    fn nth_header(&self, header: &str, from: usize, n: usize) -> Option<usize> {
        let lines = self.headers.get(header)?;
        let first = lines.partition_point(|&i| i < from);
        lines.get(first.checked_add(n)?).map(|&i| i + 1)
    }

    /// 1-based line of `key = ...` within the table that starts after `from`
    /// (the table ends at the next header line).
    fn key_in_table(&self, from: usize, key: &str) -> Option<usize> {
        let end = self.bracket_lines.get(self.bracket_lines.partition_point(|&i| i < from)).copied();
        let lines = self.keys.get(key)?;
        let line = *lines.get(lines.partition_point(|&i| i < from))?;
        end.is_none_or(|end| line < end).then_some(line + 1)
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

    /// The `[[stage.question.probes]]` line of a question's probe (written as
    /// a table; an inline array has none).
    fn probe_line(&self, stage_index: usize, question_index: usize, probe_index: usize) -> Option<usize> {
        let question = self.question_line(stage_index, question_index)?;
        let probe = self.nth_header("[[stage.question.probes]]", question, probe_index)?;
        let next_question = self.nth_header("[[stage.question]]", question, 0);
        let next_stage = self.stage_line(stage_index + 1);
        let ends = [next_question, next_stage].into_iter().flatten().min();
        ends.is_none_or(|end| probe < end).then_some(probe)
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
    let mock_minutes_ok = (1..=MAX_MINUTES).contains(&mock.minutes);
    if !mock_minutes_ok {
        err(
            loc.top_key("minutes"),
            format!("the mock has minutes = {}; minutes must be between 1 and {MAX_MINUTES} (10 hours)", mock.minutes),
        );
    }
    let known_signals: HashMap<&str, &str> =
        tables.iter().flat_map(|t| t.signals.iter().map(move |s| (s.id.as_str(), t.id.as_str()))).collect();
    // Built once: it is named in every unknown-signal error.
    let mut known_list: Vec<&str> = known_signals.keys().copied().collect();
    known_list.sort_unstable();
    let known_list = known_list.join(", ");
    if !tables.iter().any(|t| t.id == mock.rubric) {
        let ids: Vec<&str> = tables.iter().map(|t| t.id.as_str()).collect();
        err(loc.top_key("rubric"), format!("unknown rubric table \"{}\"; use one of: {}", mock.rubric, ids.join(", ")));
    }
    if mock.stages.is_empty() {
        err(None, "the mock has no stages; add a [[stage]] with at least one [[stage.question]]".into());
    }
    for problem in vocabulary_problems(&mock.vocabulary, "the mock") {
        err(loc.top_key("vocabulary"), problem);
    }

    // Summed as u64: out-of-range u32 minutes must not overflow the sum.
    let stage_total: u64 = mock.stages.iter().map(|s| u64::from(s.minutes)).sum();
    if mock_minutes_ok && stage_total != u64::from(mock.minutes) {
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
        let stage_minutes_ok = (1..=MAX_MINUTES).contains(&stage.minutes);
        if !stage_minutes_ok {
            err(
                key("minutes"),
                format!(
                    "stage \"{}\" has minutes = {}; minutes must be between 1 and {MAX_MINUTES} (10 hours)",
                    stage.id, stage.minutes
                ),
            );
        }
        if stage.questions.is_empty() {
            err(stage_line, format!("stage \"{}\" has no questions; add a [[stage.question]]", stage.id));
        }
        // In u64, so neither the sum nor minutes * 60 can wrap.
        let question_total: u64 = stage.questions.iter().map(|q| u64::from(q.budget_s)).sum();
        let stage_budget = u64::from(stage.minutes) * 60;
        if stage_minutes_ok && !stage.questions.is_empty() && question_total != stage_budget {
            err(
                key("minutes"),
                format!(
                    "the questions of stage \"{}\" budget {question_total} s in all but the stage has {} min \
                     ({stage_budget} s); make them agree",
                    stage.id, stage.minutes
                ),
            );
        }
        for (pi, probe) in stage.probes.iter().enumerate() {
            let next_stage = loc.stage_line(si + 1);
            let p_line = stage_line
                .and_then(|l| loc.nth_header("[[stage.probes]]", l, pi))
                .filter(|&line| next_stage.is_none_or(|next| line < next))
                .or(stage_line);
            let probe_key = |k: &str| p_line.and_then(|l| loc.key_in_table(l, k)).or(p_line);
            for name in &probe.key_points {
                if !stage.questions.iter().any(|q| q.key_points.iter().any(|k| &k.name == name)) {
                    err(
                        probe_key("key_points"),
                        format!(
                            "probe {} of stage \"{}\" names the key point \"{name}\", which no question of the \
                             stage has",
                            pi + 1,
                            stage.id
                        ),
                    );
                }
            }
            if let Some(budget) = probe.budget_s
                && !(1..=MAX_BUDGET_S).contains(&budget)
            {
                err(
                    probe_key("budget_s"),
                    format!(
                        "probe {} of stage \"{}\" has budget_s = {budget}; budget_s must be between 1 and \
                         {MAX_BUDGET_S} seconds",
                        pi + 1,
                        stage.id
                    ),
                );
            }
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
            if !(1..=MAX_BUDGET_S).contains(&question.budget_s) {
                err(
                    key("budget_s"),
                    format!(
                        "question \"{}\" has budget_s = {}; \
                         budget_s must be between 1 and {MAX_BUDGET_S} seconds (10 hours)",
                        question.id, question.budget_s
                    ),
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
                    err(
                        key("signals"),
                        format!(
                            "unknown rubric signal \"{signal}\" in question \"{}\"; known signals: {known_list}",
                            question.id
                        ),
                    );
                }
            }
            for problem in vocabulary_problems(&question.vocabulary, &format!("question \"{}\"", question.id)) {
                err(key("vocabulary"), problem);
            }
            for (ki, point) in question.key_points.iter().enumerate() {
                if point.name.trim().is_empty() {
                    err(
                        key("key_points"),
                        format!("key point {} of question \"{}\" has an empty name", ki + 1, question.id),
                    );
                }
            }
            for (pi, probe) in question.probes.iter().enumerate() {
                let p_line = loc.probe_line(si, qi, pi).or(q_line);
                let probe_key = |k: &str| p_line.and_then(|l| loc.key_in_table(l, k)).or(p_line);
                for name in &probe.key_points {
                    if !question.key_points.iter().any(|k| &k.name == name) {
                        let known: Vec<&str> = question.key_points.iter().map(|k| k.name.as_str()).collect();
                        err(
                            probe_key("key_points"),
                            format!(
                                "probe {} of question \"{}\" names the key point \"{name}\", which the question \
                                 does not have; use one of: {}",
                                pi + 1,
                                question.id,
                                if known.is_empty() {
                                    "(the question has no key points)".to_owned()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        );
                    }
                }
                if let Some(budget) = probe.budget_s
                    && !(1..=MAX_BUDGET_S).contains(&budget)
                {
                    err(
                        probe_key("budget_s"),
                        format!(
                            "probe {} of question \"{}\" has budget_s = {budget}; \
                             budget_s must be between 1 and {MAX_BUDGET_S} seconds",
                            pi + 1,
                            question.id
                        ),
                    );
                }
            }
        }
    }
    errs
}

/// A `vocabulary` entry goes into whisper's prompt: one term or short name each.
fn vocabulary_problems(terms: &[String], owner: &str) -> Vec<String> {
    terms
        .iter()
        .enumerate()
        .filter_map(|(i, term)| {
            super::vocabulary::clean_term(term).err().map(|why| format!("vocabulary entry {} of {owner}: {why}", i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use proptest::sample::Index;

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
    fn a_probe_linked_to_a_missing_key_point_names_its_line() {
        let src = format!(
            "{MINIMAL}\n[[stage.question.probes]]\ntext = \"And then?\"\n\n[[stage.question.probes]]\n\
             text = \"Why that?\"\nkey_points = [\"idempotency\"]\nbudget_s = 0\n\n\
             [[stage.question.key_points]]\nname = \"retries\"\n"
        );
        let errs = check(&src);
        let line = |needle: &str| src.lines().position(|l| l.starts_with(needle)).map(|i| i + 1);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].line, line("key_points = [\"idempotency\"]"), "{errs:?}");
        assert!(errs[0].message.contains("\"idempotency\", which the question does not have; use one of: retries"));
        assert_eq!(errs[1].line, line("budget_s = 0"), "{errs:?}");
        // Linked to a key point it has: valid, and the budget defaults to 90 s.
        let good = src.replace("[\"idempotency\"]", "[\"retries\"]").replace("budget_s = 0", "");
        assert_eq!(check(&good), vec![]);
        let mock: Mock = toml::from_str(&good).expect("parses");
        assert_eq!(mock.stages[0].questions[0].probes[1].budget_s(), crate::content::DEFAULT_FOLLOW_UP_BUDGET_S);
    }

    #[test]
    fn syntax_error_names_the_line() {
        let src = MINIMAL.replace("prompt = \"Why?\"", "prompt = \"Why?");
        let errs = check(&src);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, Some(15), "{}", errs[0]);
    }

    #[test]
    fn bad_vocabulary_entries_name_the_line() {
        let long = "y".repeat(80);
        let src = MINIMAL
            .replace("rubric = \"technical\"\n", "rubric = \"technical\"\nvocabulary = [\"Kafka\", \" \"]\n")
            .replace(
                "signals = [\"go-depth\"]",
                &format!("signals = [\"go-depth\"]\nvocabulary = [\"Debezium\", \"{long}\"]"),
            );
        let errs = check(&src);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].line == Some(5) && errs[0].message.contains("vocabulary entry 2 of the mock: the entry is empty"),
            "{errs:?}"
        );
        assert!(errs[1].line == Some(18) && errs[1].message.contains("80 characters"), "{errs:?}");
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

    /// A valid mock of `stages` stages with `per_stage` questions of 12 s each
    /// (`per_stage` a multiple of 5), and the 1-based line of each question's `signals`.
    fn big_mock(stages: usize, per_stage: usize) -> (String, Vec<usize>) {
        let stage_minutes = per_stage * 12 / 60;
        let mut lines: Vec<String> = vec![
            "id = \"big\"".to_owned(),
            "title = \"Big\"".to_owned(),
            format!("minutes = {}", stage_minutes * stages),
            "rubric = \"technical\"".to_owned(),
        ];
        let mut signal_lines = Vec::new();
        for s in 0..stages {
            lines.push(String::new());
            lines.push("[[stage]]".to_owned());
            lines.push(format!("id = \"s{s}\""));
            lines.push("title = \"S\"".to_owned());
            lines.push(format!("minutes = {stage_minutes}"));
            for q in 0..per_stage {
                lines.push(String::new());
                lines.push("[[stage.question]]".to_owned());
                lines.push(format!("id = \"q{q}\""));
                lines.push("kind = \"technical\"".to_owned());
                lines.push("budget_s = 12".to_owned());
                lines.push("prompt = \"Why?\"".to_owned());
                signal_lines.push(lines.len() + 1);
                lines.push("signals = [\"go-depth\"]".to_owned());
            }
        }
        let mut src = lines.join("\n");
        src.push('\n');
        (src, signal_lines)
    }

    #[test]
    fn a_file_with_thousands_of_questions_loads_and_names_lines() {
        let (src, signal_lines) = big_mock(6, 500);
        assert_eq!(check(&src), vec![]);
        let mock: Mock = parse("big.toml", &src).expect("parses");
        assert_eq!(mock.stages.iter().map(|s| s.questions.len()).sum::<usize>(), 3000);

        // Break a question in the middle and the very last one.
        let broken = [signal_lines[1234], signal_lines[signal_lines.len() - 1]];
        let src: String = src
            .lines()
            .enumerate()
            .map(|(i, line)| if broken.contains(&(i + 1)) { "signals = [\"nope\"]" } else { line })
            .collect::<Vec<_>>()
            .join("\n");
        let errs = check(&src);
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), broken.map(Some), "{errs:?}");
        assert!(errs.iter().all(|e| e.message.contains("unknown rubric signal \"nope\"")), "{errs:?}");
    }

    #[test]
    fn a_file_over_the_size_cap_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("huge.toml");
        let src = format!("{MINIMAL}{}", "# padding\n".repeat(MAX_FILE_BYTES / 10 + 1));
        std::fs::write(&path, &src).expect("write");
        let errs = check_file(&path);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].file.ends_with("huge.toml"), "{}", errs[0]);
        assert_eq!(errs[0].line, None);
        assert!(errs[0].message.contains("larger than 4 MiB"), "{}", errs[0]);
        let lib = Library::load(Some(dir.path()));
        assert_eq!(lib.mocks.len(), 3);
        assert_eq!(lib.problems, errs);
        // Text that did not come from a file is capped as well.
        let errs = check(&src);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].message.contains("larger than 4 MiB"), "{}", errs[0]);
        // The cap is far above a real file.
        assert_eq!(check(&format!("{MINIMAL}{}", "# padding\n".repeat(10_000))), vec![]);
    }

    #[test]
    fn minutes_that_would_wrap_are_out_of_range() {
        // 71582789 * 60 wraps u32 to 44: this file used to pass as a 44 s stage.
        let src = MINIMAL.replace("minutes = 2", "minutes = 71582789").replace("budget_s = 120", "budget_s = 44");
        let errs = check(&src);
        let lines: Vec<Option<usize>> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(3), Some(9)], "{errs:?}");
        assert!(errs.iter().all(|e| e.message.contains("minutes must be between 1 and 600")), "{errs:?}");
    }

    #[test]
    fn numeric_fields_are_range_checked_at_their_line() {
        let at_max = MINIMAL.replace("minutes = 2", "minutes = 600").replace("budget_s = 120", "budget_s = 36000");
        assert_eq!(check(&at_max), vec![]);

        let over = MINIMAL.replace("minutes = 2", "minutes = 601").replace("budget_s = 120", "budget_s = 36060");
        let errs = check(&over);
        let found: Vec<(Option<usize>, bool)> = errs
            .iter()
            .map(|e| (e.line, e.message.contains("between 1 and 600") || e.message.contains("between 1 and 36000")))
            .collect();
        assert_eq!(found, [(Some(3), true), (Some(9), true), (Some(14), true)], "{errs:?}");
        assert!(errs[2].message.contains("budget_s = 36060"), "{}", errs[2]);

        let zero = MINIMAL.replace("minutes = 2", "minutes = 0");
        let errs = check(&zero);
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), [Some(3), Some(9)], "{errs:?}");
        assert!(errs[1].message.contains("stage \"one\" has minutes = 0"), "{}", errs[1]);
    }

    #[test]
    fn budgets_saturate_instead_of_wrapping() {
        let mut mock: Mock = parse("demo.toml", MINIMAL).expect("parses");
        mock.minutes = 71_582_789;
        mock.stages[0].minutes = u32::MAX;
        assert_eq!(mock.budget_s(), u32::MAX);
        assert_eq!(mock.stages[0].budget_s(), u32::MAX);
    }

    #[test]
    fn an_error_at_the_end_of_the_file_names_a_line_it_has() {
        let src = format!("{MINIMAL}extra = [\n");
        let errs = check(&src);
        assert_eq!(errs.len(), 1, "{errs:?}");
        let lines = src.lines().count();
        assert!(errs[0].line.is_some_and(|l| (1..=lines).contains(&l)), "{} of {lines} lines", errs[0]);
    }

    /// The line scan `Locator` replaced, kept to check that it answers the same.
    struct ScanLocator<'a> {
        lines: Vec<&'a str>,
    }

    impl<'a> ScanLocator<'a> {
        fn new(src: &'a str) -> Self {
            ScanLocator { lines: src.lines().collect() }
        }

        fn nth_header(&self, header: &str, from: usize, n: usize) -> Option<usize> {
            self.lines.iter().enumerate().skip(from).filter(|(_, l)| l.trim() == header).nth(n).map(|(i, _)| i + 1)
        }

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

        fn question_line(&self, stage_index: usize, question_index: usize) -> Option<usize> {
            let stage = self.nth_header("[[stage]]", 0, stage_index)?;
            let question = self.nth_header("[[stage.question]]", stage, question_index)?;
            match self.nth_header("[[stage]]", 0, stage_index + 1) {
                Some(next) if question > next => None,
                _ => Some(question),
            }
        }
    }

    /// The keys the validators look up.
    const KEYS: [&str; 14] = [
        "id",
        "title",
        "minutes",
        "rubric",
        "budget_s",
        "prompt",
        "signals",
        "key_points",
        "junior",
        "mid",
        "senior",
        "staff",
        "name",
        "text",
    ];
    const HEADERS: [&str; 5] =
        ["[[stage]]", "[[stage.question]]", "[[stage.question.key_points]]", "[[table]]", "[[table.signal]]"];

    /// The built-in files, mocks first: the texts the mutation tests start from.
    fn builtin_files() -> Vec<(&'static str, &'static str)> {
        let mut files = BUILTIN_MOCKS.to_vec();
        files.push(BUILTIN_RUBRIC);
        files.push(BUILTIN_GUIDE);
        files
    }

    /// One edit of `text`: 0 deletes a range, 1 duplicates it, 2 replaces a
    /// byte, 3 inserts `digits` into a number. Bytes are edited, so a split
    /// character becomes U+FFFD.
    fn mutate(text: &str, op: u8, at: Index, len: Index, short: bool, byte: u8, digits: &str) -> String {
        let bytes = text.as_bytes();
        let start = at.index(bytes.len() + 1);
        let room = bytes.len() - start;
        let max_len = if short { room.min(80) } else { room };
        let end = start + len.index(max_len + 1);
        let edited = match op {
            0 => [&bytes[..start], &bytes[end..]].concat(),
            1 => [&bytes[..end], &bytes[start..end], &bytes[end..]].concat(),
            2 => {
                let mut edited = bytes.to_vec();
                if let Some(b) = edited.get_mut(start) {
                    *b = byte;
                }
                edited
            }
            _ => {
                let digit_at: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i].is_ascii_digit()).collect();
                match digit_at.len() {
                    0 => bytes.to_vec(),
                    n => {
                        let pos = digit_at[at.index(n)];
                        [&bytes[..pos], digits.as_bytes(), &bytes[pos..]].concat()
                    }
                }
            }
        };
        String::from_utf8_lossy(&edited).into_owned()
    }

    /// Every error is about `name` and any line it names exists in `src`.
    fn errors_name_real_lines(errs: &[ContentError], name: &str, src: &str) -> Result<(), TestCaseError> {
        let count = src.lines().count().max(1);
        for err in errs {
            prop_assert_eq!(err.file.as_str(), name);
            if let Some(line) = err.line {
                prop_assert!((1..=count).contains(&line), "{} is outside the file's {} lines", err, count);
            }
        }
        Ok(())
    }

    /// Parsed once: the checks compare against the built-in content.
    static BUILTIN: LazyLock<Library> = LazyLock::new(Library::builtin);

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_text_never_panics(
            bytes in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..2048),
                "[a-z_=\\[\\]\"0-9 .,{}#\n-]{0,600}".prop_map(String::into_bytes),
            ],
            kind in 0..3usize,
        ) {
            let src = String::from_utf8_lossy(&bytes);
            let name = ["mine.toml", "rubric-mine.toml", "guide.toml"][kind];
            let errs = check_source(Path::new(name), &src, &BUILTIN);
            errors_name_real_lines(&errs, name, &src)?;
        }

        #[test]
        fn mutated_builtin_files_never_panic_and_name_real_lines(
            which in 0..BUILTIN_MOCKS.len() + 2,
            op in 0..4u8,
            at in any::<Index>(),
            len in any::<Index>(),
            short in any::<bool>(),
            byte in any::<u8>(),
            digits in "[0-9]{1,12}",
        ) {
            let (name, text) = builtin_files()[which];
            let src = mutate(text, op, at, len, short, byte, &digits);
            let errs = check_source(Path::new(name), &src, &BUILTIN);
            errors_name_real_lines(&errs, name, &src)?;
        }

        #[test]
        fn locator_agrees_with_a_line_scan(
            which in 0..BUILTIN_MOCKS.len() + 1,
            op in 0..4u8,
            at in any::<Index>(),
            len in any::<Index>(),
            short in any::<bool>(),
            byte in any::<u8>(),
            digits in "[0-9]{1,12}",
        ) {
            let src = mutate(builtin_files()[which].1, op, at, len, short, byte, &digits);
            let (loc, scan) = (Locator::new(&src), ScanLocator::new(&src));
            for from in 0..scan.lines.len() + 2 {
                for key in KEYS {
                    prop_assert_eq!(loc.key_in_table(from, key), scan.key_in_table(from, key), "{} from {}", key, from);
                }
            }
            for header in HEADERS {
                for n in 0..4 {
                    for from in [0, 1, scan.lines.len() / 2, scan.lines.len()] {
                        prop_assert_eq!(loc.nth_header(header, from, n), scan.nth_header(header, from, n));
                    }
                }
            }
            for si in 0..8 {
                for qi in 0..16 {
                    prop_assert_eq!(loc.question_line(si, qi), scan.question_line(si, qi), "{}/{}", si, qi);
                }
            }
        }
    }
}
