//! Input formats: one parser module per format behind the [`Format`] trait, and the
//! registry that detects a file's format from its content.
//!
//! Adding a format is one module and one line in [`REGISTRY`]. A parser streams its input
//! and pushes rows into a [`RowSink`]; it reports bad lines as [`LineIssue`]s and keeps
//! going, and rejects the whole file (a [`Rejection`]) only when nothing in it can be
//! trusted (wrong format, a required column missing, nothing recognisable).

pub mod agent_result;
pub mod anthropic_api;
pub mod bench_suite;
pub mod chat;
pub mod claude_code;
pub mod codex_exec;
pub mod codex_rollout;
pub mod exchange;
pub mod gemini_api;
pub mod hyperfine;
pub mod hyperfine_csv;
pub mod hyperfine_markdown;
mod json_borrow;
mod json_input;
pub mod latency_csv;
pub mod lines;
pub mod openai_api;
pub mod otel_console;
pub mod otlp_genai;
pub mod run_log;
pub mod time_output;
pub mod timestamps;
pub mod workflow_session;

use std::io::BufRead;
use std::path::Path;

use regex::Regex;

use crate::error::IngestError;
use crate::schema::TableRows;

/// Why a whole file was rejected: one line, naming the input line where there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// 1-based line the problem was found on, if any.
    pub line: Option<u64>,
    /// What is wrong, in one line.
    pub reason: String,
}

impl Rejection {
    /// A rejection at a given line.
    pub fn at(line: u64, reason: impl Into<String>) -> Self {
        Rejection {
            line: Some(line),
            reason: reason.into(),
        }
    }

    /// A rejection of the file as a whole.
    pub fn file(reason: impl Into<String>) -> Self {
        Rejection {
            line: None,
            reason: reason.into(),
        }
    }
}

/// A line or entry of a file that was skipped while the rest was kept.
pub type LineIssue = Rejection;

/// Why a parse stopped: the file is bad, or runlens could not store its rows.
#[derive(Debug)]
pub enum ParseError {
    /// The file cannot be ingested; the batch goes on.
    Rejected(Rejection),
    /// runlens's own storage failed; the batch stops.
    Dataset(IngestError),
}

impl From<Rejection> for ParseError {
    fn from(r: Rejection) -> Self {
        ParseError::Rejected(r)
    }
}

impl From<IngestError> for ParseError {
    fn from(e: IngestError) -> Self {
        ParseError::Dataset(e)
    }
}

/// Options that change how formats are read (from the command line).
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Regex with a `name` group (and optional `ts`, `number`, `duration`) marking phase starts.
    pub phase_regex: Option<Regex>,
    /// A GNU `time -f` format string the time outputs were written with.
    pub time_format: Option<time_output::CustomFormat>,
    /// What sessions must contain (`--min-tool-calls`, `--expect-tool`).
    pub validation: crate::sessions::ValidationOptions,
    /// The calls of the parents of the Codex forks being read, per parent session
    /// ([`crate::forks`]); filled by ingest, empty otherwise.
    pub fork_parents: std::sync::Arc<crate::forks::ParentCalls>,
}

/// What a parser knows about the file it reads.
#[derive(Debug)]
pub struct ParseContext<'a> {
    /// Short content hash of the file, the stem of every id derived from it.
    pub file_id: &'a str,
    /// The file's path as shown to the user.
    pub path: &'a Path,
    /// Format options from the command line.
    pub options: &'a ParseOptions,
}

impl ParseContext<'_> {
    /// A name for things the file does not name (a session without an id): the file's
    /// stem, else its content hash.
    pub fn file_stem_or_id(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.file_id.to_string())
    }
}

/// Receives a parser's rows and line issues; hands rows on in bounded portions.
pub struct RowSink<'a> {
    /// Rows not yet handed on.
    pub rows: TableRows,
    issues: Vec<LineIssue>,
    issue_count: u64,
    spill: &'a mut dyn FnMut(TableRows) -> Result<(), IngestError>,
    spill_threshold: usize,
}

/// Issues kept verbatim per file; the rest are only counted.
const MAX_KEPT_ISSUES: usize = 100;

impl<'a> RowSink<'a> {
    /// A sink handing rows to `spill` whenever more than `spill_threshold` are pending.
    pub fn new(
        spill: &'a mut dyn FnMut(TableRows) -> Result<(), IngestError>,
        spill_threshold: usize,
    ) -> Self {
        RowSink {
            rows: TableRows::default(),
            issues: Vec::new(),
            issue_count: 0,
            spill,
            spill_threshold,
        }
    }

    /// How many issues were reported so far.
    pub fn issue_count(&self) -> u64 {
        self.issue_count
    }

    /// Records a skipped line or entry.
    pub fn issue(&mut self, issue: LineIssue) {
        self.issue_count += 1;
        if self.issues.len() < MAX_KEPT_ISSUES {
            self.issues.push(issue);
        }
    }

    /// Hands pending rows on if there are many; parsers call this between records.
    pub fn checkpoint(&mut self) -> Result<(), IngestError> {
        if self.rows.len() >= self.spill_threshold {
            (self.spill)(self.rows.take_keeping_capacity())?;
        }
        Ok(())
    }

    /// The pending rows, the kept issues and the number of issues in all.
    pub fn finish(self) -> (TableRows, Vec<LineIssue>, u64) {
        (self.rows, self.issues, self.issue_count)
    }
}

/// The first bytes of a file, for format detection.
#[derive(Debug)]
pub struct Sniff<'a> {
    /// The file's first bytes as text (invalid UTF-8 replaced).
    pub head: &'a str,
    /// The file's path (its extension is a hint, never decisive).
    pub path: &'a Path,
    /// Format options from the command line (a custom time format changes detection).
    pub options: &'a ParseOptions,
}

/// One input format.
pub trait Format: Sync {
    /// The format's name, as `--format` takes it and the summary shows it.
    fn name(&self) -> &'static str;
    /// One line saying what the format is.
    fn description(&self) -> &'static str;
    /// Whether the file's first bytes look like this format.
    fn detect(&self, sniff: &Sniff<'_>) -> bool;
    /// Reads the whole input, pushing rows into `sink`.
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError>;
}

/// Every format, in detection order: the most specific first.
pub static REGISTRY: &[&dyn Format] = &[
    &hyperfine::Hyperfine,
    &hyperfine_markdown::HyperfineMarkdown,
    &hyperfine_csv::HyperfineCsv,
    &bench_suite::BenchSuite,
    &latency_csv::LatencyCsv,
    &claude_code::ClaudeCode,
    &codex_rollout::CodexRollout,
    &codex_exec::CodexExec,
    &agent_result::AgentResult,
    &otlp_genai::OtlpGenAi,
    &otel_console::OtelConsole,
    &workflow_session::WorkflowSession,
    &gemini_api::GeminiApi,
    &anthropic_api::AnthropicApi,
    &openai_api::OpenAiApi,
    &run_log::RunLog,
    &time_output::TimeOutput,
];

/// Bytes read from the start of a file for detection.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The first [`SNIFF_BYTES`] of `reader` (all of it if shorter), read to detect its format.
pub fn read_head(reader: &mut impl std::io::Read) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    reader.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The format whose name is `name`.
pub fn by_name(name: &str) -> Result<&'static dyn Format, IngestError> {
    REGISTRY
        .iter()
        .copied()
        .find(|f| f.name() == name)
        .ok_or_else(|| IngestError::UnknownFormat {
            name: name.to_string(),
            valid: format_names().join(", "),
        })
}

/// Names of every format.
pub fn format_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|f| f.name()).collect()
}

/// The first format that recognises the file, or why none did.
pub fn detect(
    head: &[u8],
    path: &Path,
    options: &ParseOptions,
) -> Result<&'static dyn Format, Rejection> {
    if head.is_empty() {
        return Err(Rejection::file("empty file"));
    }
    // memchr's search, not the slice's: every file's 64 KB head is searched.
    if memchr::memchr(0, head).is_some() {
        return Err(Rejection::file(
            "binary file (contains NUL bytes): not a text format runlens reads",
        ));
    }
    let text = head_text(head);
    let sniff = Sniff {
        head: &text,
        path,
        options,
    };
    REGISTRY
        .iter()
        .copied()
        .find(|f| f.detect(&sniff))
        .ok_or_else(|| {
            Rejection::file(format!(
                "format not recognised (looked for: {}); name it with --format if it is one of them",
                format_names().join(", ")
            ))
        })
}

/// Whether `text` contains `needle`, found with memchr's SIMD search: a format's detector
/// looks for its keys in every file's 64 KB head, and `str::contains` took twice as many
/// instructions there (callgrind).
pub(crate) fn head_contains(text: &str, needle: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// The sniffed head as text: borrowed when it is UTF-8 (a character cut by the head's end
/// is left out), with invalid bytes replaced (U+FFFD) otherwise. `String::from_utf8_lossy`
/// alone validated ASCII at a seventh of `str::from_utf8`'s speed: 2 % of a Claude Code
/// ingest's instructions.
fn head_text(head: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(head) {
        Ok(text) => text.into(),
        // Only the last character is incomplete: the text before it is valid.
        Err(cut) if cut.error_len().is_none() => std::str::from_utf8(&head[..cut.valid_up_to()])
            .unwrap_or_default()
            .into(),
        Err(_) => String::from_utf8_lossy(head),
    }
}

/// A keyword found in either ASCII case: a cheap prefilter run before a regex, since most
/// log lines match none of them. The line is lowered once ([`LoweredLine`]) for all the
/// keywords checked in it, and each keyword is then a plain `memmem` search (SIMD, on two
/// of the keyword's bytes at once). Searching the raw line for the keyword's rarest letter
/// in either case and comparing there stopped at every `p` of a line for `phase` and at
/// every `k` for `token`: twice the time (docs/benchmarks.md).
pub struct CaselessKeyword(memchr::memmem::Finder<'static>);

impl CaselessKeyword {
    /// The keyword `word`, matched in either ASCII case.
    pub fn new(word: &str) -> Self {
        CaselessKeyword(
            memchr::memmem::Finder::new(word.to_ascii_lowercase().as_bytes()).into_owned(),
        )
    }

    /// Whether the keyword occurs in the line.
    pub fn is_in(&self, line: &LoweredLine) -> bool {
        self.0.find(&line.0).is_some()
    }
}

/// A line's bytes with ASCII letters lowered (every other byte, UTF-8 included, as it
/// was), for [`CaselessKeyword`]. Its buffer is kept and refilled line after line.
#[derive(Debug, Default)]
pub struct LoweredLine(Vec<u8>);

impl LoweredLine {
    /// Holds `text` lowered, in place of the previous line.
    pub fn fill(&mut self, text: &str) {
        self.0.clear();
        self.0.extend_from_slice(text.as_bytes());
        self.0.make_ascii_lowercase();
    }
}

/// Whether `haystack` contains `needle` ignoring ASCII case, for a single check (a
/// [`CaselessKeyword`] is built once for checks of many lines).
pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let mut line = LoweredLine::default();
    line.fill(haystack);
    CaselessKeyword::new(needle).is_in(&line)
}

/// The id of a file's `n`-th row of a kind: `<file id>-<kind><n>` (`3fa4…-l17`, the row
/// of line 17). Written without `format!`: a latency CSV makes one per row.
pub(crate) fn row_id(file_id: &str, kind: char, n: u64) -> String {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    let mut id = String::with_capacity(file_id.len() + 2 + digits.len());
    id.push_str(file_id);
    id.push('-');
    id.push(kind);
    id.push_str(digits);
    id
}

/// `text` without leading and trailing whitespace, as `str::trim` gives it; a cell that
/// starts and ends with a visible ASCII character (nearly every cell of a CSV or a log) is
/// returned as it is without `str::trim`'s walk over Unicode whitespace from both ends.
pub(crate) fn trim(text: &str) -> &str {
    /// Neither whitespace nor part of a multi-byte character.
    fn visible_ascii(byte: u8) -> bool {
        byte > b' ' && byte.is_ascii()
    }
    match text.as_bytes() {
        [first, .., last] if visible_ascii(*first) && visible_ascii(*last) => text,
        [only] if visible_ascii(*only) => text,
        _ => text.trim(),
    }
}

/// Parses a number the way logs print it: `1,234`, `1_234`, surrounding spaces.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = trim(text);
    if let Some(value) = plain_decimal(text.as_bytes()) {
        return Some(value);
    }
    let value: f64 = if text.contains([',', '_']) {
        let cleaned: String = text.chars().filter(|c| *c != ',' && *c != '_').collect();
        cleaned.parse().ok()?
    } else {
        text.parse().ok()?
    };
    value.is_finite().then_some(value)
}

/// Powers of ten an `f64` holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a short decimal such as `207.5` or `-3`, the common case of [`parse_number`],
/// without `str::parse`'s general algorithm; `None` for anything else (exponents, separators,
/// more than 15 digits), which the caller parses the general way. Exact: the digits form an
/// integer below 2^53 and the divisor a power of ten below 10^23, both held exactly by an
/// `f64`, and one IEEE division rounds correctly, so the result is the nearest `f64` to the
/// decimal, as `str::parse` gives.
fn plain_decimal(text: &[u8]) -> Option<f64> {
    let (negative, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let mut digits: u64 = 0;
    let mut count = 0usize;
    let mut fraction_digits: Option<usize> = None;
    for &byte in body {
        match byte {
            b'0'..=b'9' => {
                digits = digits * 10 + u64::from(byte - b'0');
                count += 1;
                if count > 15 {
                    return None;
                }
                if let Some(n) = fraction_digits.as_mut() {
                    *n += 1;
                }
            }
            b'.' if fraction_digits.is_none() => fraction_digits = Some(0),
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let magnitude = digits as f64 / EXACT_POWERS_OF_TEN[fraction_digits.unwrap_or(0)];
    Some(if negative { -magnitude } else { magnitude })
}

/// Parses `bytes` as `format` into memory (tests of the parsers).
#[cfg(test)]
pub(crate) fn parse_for_test(
    format: &dyn Format,
    bytes: &[u8],
    path: &str,
    options: &ParseOptions,
) -> (Result<(), ParseError>, TableRows, Vec<LineIssue>) {
    let mut spilled = TableRows::default();
    let mut spill = |rows: TableRows| {
        spilled.append(rows);
        Ok(())
    };
    let mut sink = RowSink::new(&mut spill, usize::MAX);
    let ctx = ParseContext {
        file_id: "f",
        path: Path::new(path),
        options,
    };
    let result = format.parse(&mut &bytes[..], &ctx, &mut sink);
    let (rows, issues, _) = sink.finish();
    spilled.append(rows);
    (result, spilled, issues)
}

/// Parses `text` as `format` with default options, which must succeed; the rows and the
/// line issues (tests of the parsers).
#[cfg(test)]
pub(crate) fn parse_ok(format: &dyn Format, text: &str, path: &str) -> (TableRows, Vec<LineIssue>) {
    let (result, rows, issues) =
        parse_for_test(format, text.as_bytes(), path, &ParseOptions::default());
    assert!(result.is_ok(), "{result:?}");
    (rows, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_read_as_its_text_whole_cut_or_with_bad_bytes_replaced() {
        use std::borrow::Cow;
        let valid = "{\"type\":\"user\",\"text\":\"h\u{e9}llo \u{1f600}\"}";
        assert!(matches!(head_text(valid.as_bytes()), Cow::Borrowed(t) if t == valid));
        // The 64 KiB head ends inside a four-byte character: the text before it.
        // (The text ends with the emoji's four bytes and `"}`.)
        let cut = &valid.as_bytes()[..valid.len() - 3];
        assert_eq!(head_text(cut), valid[..valid.len() - 6]);
        // A bad byte inside, and one cut character at the end: both replaced.
        assert_eq!(head_text(b"ok \xff ok \xc3"), "ok \u{fffd} ok \u{fffd}");
        // Only a cut character: nothing.
        assert_eq!(head_text(b"\xe2\x82"), "");
    }

    #[test]
    fn short_decimals_parse_to_the_same_f64_as_str_parse() {
        // Reference: the standard library's correctly rounded parser, on every shape the
        // fast path takes (signs, leading zeros, up to 15 digits, 0 to 15 decimals) and on
        // shapes it must leave to it.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let digits = 1 + (next() % 15) as usize;
            let mut text: String = (0..digits)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let point = (next() % (digits as u64 + 2)) as usize;
            if point <= digits {
                text.insert(point, '.');
            }
            match next() % 4 {
                0 => text.insert(0, '-'),
                1 => text.insert(0, '+'),
                _ => {}
            }
            let expected: f64 = text.parse().expect("a decimal");
            let got = parse_number(&text).expect("a number");
            assert_eq!(got.to_bits(), expected.to_bits(), "{text}");
        }
        for text in [
            "1e3",
            "2.5E-2",
            "1234567890123456789",
            "0.1234567890123456789",
            "inf",
            "NaN",
            "1,234.5",
            "1_000",
            " 207.5 ",
            "-0",
            "-0.0",
            "+.5",
            "5.",
            "007",
        ] {
            let reference: Option<f64> = text
                .trim()
                .replace([',', '_'], "")
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite());
            assert_eq!(
                parse_number(text).map(f64::to_bits),
                reference.map(f64::to_bits),
                "{text}"
            );
        }
        for not_a_number in ["", ".", "-", "+", "1.2.3", "--1", "1-", "12a", "0x10"] {
            assert_eq!(parse_number(not_a_number), None, "{not_a_number:?}");
        }
    }

    #[test]
    fn trim_gives_what_str_trim_gives() {
        let edges = [
            "", " ", "\t", "\n", "\r", "\u{0b}", "\u{0c}", "\u{a0}", "\u{3000}", "\u{feff}",
            "\u{1}", "\u{7f}", "a", "é", "日", "0", "-", "_",
        ];
        for left in edges {
            for middle in ["", "x", "a b", " ", "é日"] {
                for right in edges {
                    let text = format!("{left}{middle}{right}");
                    assert_eq!(trim(&text), text.trim(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn row_ids_join_file_id_kind_and_number() {
        assert_eq!(row_id("3fa4", 'l', 17), "3fa4-l17");
        assert_eq!(row_id("", 'b', 0), "-b0");
        assert_eq!(row_id("ab", 'b', u64::MAX), format!("ab-b{}", u64::MAX));
    }

    #[test]
    fn detection_rejects_empty_and_binary_files() {
        let p = Path::new("x");
        let o = ParseOptions::default();
        assert_eq!(
            detect(b"", p, &o).err().map(|r| r.reason),
            Some("empty file".into())
        );
        assert!(
            detect(b"\x00\x01abc", p, &o)
                .err()
                .is_some_and(|r| r.reason.starts_with("binary"))
        );
        assert!(
            detect(b"hello world\n", p, &o)
                .err()
                .is_some_and(|r| r.reason.starts_with("format not recognised"))
        );
    }

    #[test]
    fn unknown_format_lists_the_valid_ones() {
        let err = by_name("nope")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("hyperfine") && err.contains("run_log"),
            "{err}"
        );
    }

    #[test]
    fn case_insensitive_prefilter() {
        assert!(contains_ignore_case("=== PHASE 2 ===", "phase"));
        assert!(!contains_ignore_case("phas", "phase"));
        assert!(contains_ignore_case("x", ""));
        assert!(contains_ignore_case("phase", "PHASE"));
        assert!(contains_ignore_case("pp pHasE", "phase"));
        assert!(contains_ignore_case("tokens: 12", "token"));
        assert!(!contains_ignore_case("to ken tokeN", "tokens"));
        assert!(!contains_ignore_case("", "t"));
        assert!(contains_ignore_case("Ünïcode Wall time", "wall"));
        // Against the plain definition, at every offset of a haystack with near misses.
        // Bytes next to the letters in ASCII (`@[_`{`) and non-ASCII letters are not folded.
        let haystack = "xPhAsphasEpHaSe-TOKtokenTOKEN elapsedReal ::runlens k @X`x[{ ÄPHASE é";
        for needle in [
            "phase", "token", "real", "elapsed", "x", "n", "zz", "eN ", "::run", "k", " k", "`x",
            "@x", "{", "äphase", "Äphase", "é",
        ] {
            for (start, _) in haystack.char_indices() {
                let h = &haystack[start..];
                let plain = h
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
                assert_eq!(
                    contains_ignore_case(h, needle),
                    plain,
                    "{needle:?} in {h:?}"
                );
            }
        }
    }

    #[test]
    fn numbers_accept_log_spellings() {
        assert_eq!(parse_number(" 1,234 "), Some(1234.0));
        assert_eq!(parse_number("2.5"), Some(2.5));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("NaN"), None);
    }
}
