//! `/usr/bin/time` reports, alone in a file or embedded anywhere in a run log.
//!
//! Recognised shapes, each a [`TimeReport`]:
//! - GNU `time -v` (`Command being timed: ...` ... `Exit status: N`; sizes in KiB);
//! - GNU's default two-line format (`0.01user 0.00system 0:00.02elapsed 95%CPU ...`);
//! - GNU `time -f FMT` with the format given as `--time-format` (any GNU conversions),
//!   and `key=value` lines such as `real=%E user=%U max_rss_kb=%M` without it;
//! - POSIX `time -p` (`real 0.00` / `user 0.00` / `sys 0.00`), bash's `time` keyword
//!   (`real 0m0.003s`) and zsh's one-liner (`... 0.00s user 0.00s system 80% cpu 0.003 total`);
//! - BSD `time -l`: a `real/user/sys` header and `NUMBER  label` rusage lines.
//!
//! BSD's `maximum resident set size` is **bytes on macOS but KiB on FreeBSD**. Current
//! Apple `time.c` prints the rusage lines as `%20ld  label` (and adds macOS-only lines such
//! as `peak memory footprint`): either proves macOS. FreeBSD and older macOS releases both
//! print `%10ld  label`; there a value that is a whole number of 4 KiB pages is read as
//! macOS bytes (RSS in bytes always is), anything else as FreeBSD KiB. The same rule
//! covers logs whose spacing was mangled (pasted into Markdown).

use std::io::BufRead;
use std::sync::LazyLock;

use regex::Regex;

use super::lines::{LineReader, too_long_issue};
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff, parse_number};
use crate::error::IngestError;
use crate::redact::redact_command;
use crate::schema::RunRow;

/// One `/usr/bin/time` report, in runlens units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeReport {
    /// Which shape it was read from (`gnu-verbose`, `bsd-macos`, ...).
    pub format: &'static str,
    /// 1-based line where the report starts.
    pub first_line: u64,
    /// 1-based line where it ends.
    pub last_line: u64,
    /// The timed command, as GNU `-v` prints it (not redacted yet).
    pub command: Option<String>,
    /// Wall-clock time, milliseconds.
    pub wall_ms: Option<f64>,
    /// User CPU time, milliseconds.
    pub user_ms: Option<f64>,
    /// System CPU time, milliseconds.
    pub sys_ms: Option<f64>,
    /// CPU percentage as printed.
    pub cpu_percent: Option<f64>,
    /// Peak RSS of the largest process, bytes.
    pub max_rss_bytes: Option<i64>,
    /// Major page faults.
    pub major_page_faults: Option<i64>,
    /// Minor page faults.
    pub minor_page_faults: Option<i64>,
    /// Voluntary context switches.
    pub voluntary_ctx_switches: Option<i64>,
    /// Involuntary context switches.
    pub involuntary_ctx_switches: Option<i64>,
    /// File-system inputs.
    pub fs_inputs: Option<i64>,
    /// File-system outputs.
    pub fs_outputs: Option<i64>,
    /// Exit status.
    pub exit_code: Option<i32>,
    /// Terminating signal.
    pub signal: Option<i32>,
    /// Whether the report stopped before its last line.
    pub truncated: bool,
}

impl TimeReport {
    /// The report as a `runs` row (ids and provenance are the caller's).
    pub fn to_run_row(&self) -> RunRow {
        RunRow {
            source: "time".into(),
            time_format: Some(self.format.to_string()),
            command: self.command.as_deref().map(redact_command),
            wall_ms: self.wall_ms,
            user_ms: self.user_ms,
            sys_ms: self.sys_ms,
            cpu_percent: self.cpu_percent,
            max_rss_bytes: self.max_rss_bytes,
            major_page_faults: self.major_page_faults,
            minor_page_faults: self.minor_page_faults,
            voluntary_ctx_switches: self.voluntary_ctx_switches,
            involuntary_ctx_switches: self.involuntary_ctx_switches,
            fs_inputs: self.fs_inputs,
            fs_outputs: self.fs_outputs,
            exit_code: self.exit_code,
            signal: self.signal,
            truncated: self.truncated,
            source_line: Some(self.first_line as i64),
            ..RunRow::default()
        }
    }
}

/// What a GNU `time -f` conversion fills in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    WallClock,
    WallSeconds,
    User,
    Sys,
    Cpu,
    MaxRssKib,
    Major,
    Minor,
    Voluntary,
    Involuntary,
    Inputs,
    Outputs,
    Exit,
    Command,
    Ignored,
}

/// A GNU `time -f` format string compiled into one regex per output line.
#[derive(Debug, Clone)]
pub struct CustomFormat {
    lines: Vec<(Regex, Vec<Slot>)>,
}

impl CustomFormat {
    /// Compiles a format string as given to `time -f` (`\n` and `\t` escapes allowed).
    pub fn compile(format: &str) -> Result<Self, IngestError> {
        let unescaped = format.replace("\\n", "\n").replace("\\t", "\t");
        let mut lines = Vec::new();
        for line in unescaped.split('\n').filter(|l| !l.trim().is_empty()) {
            lines.push(compile_format_line(line)?);
        }
        if lines.is_empty() || lines.iter().all(|(_, slots)| slots.is_empty()) {
            return Err(IngestError::InvalidOption {
                what: "--time-format",
                reason: format!("'{format}' has no % conversions"),
            });
        }
        Ok(CustomFormat { lines })
    }
}

fn compile_format_line(line: &str) -> Result<(Regex, Vec<Slot>), IngestError> {
    let mut pattern = String::from(r"^\s*");
    let mut slots = Vec::new();
    let mut chars = line.trim().chars();
    let mut literal = String::new();
    // Literal text must match as written, except that any run of white space matches
    // any run of white space (logs get re-indented).
    let flush = |literal: &mut String, pattern: &mut String| {
        let mut in_space = false;
        for c in literal.chars() {
            if c.is_whitespace() {
                if !in_space {
                    pattern.push_str(r"\s+");
                }
                in_space = true;
            } else {
                pattern.push_str(&regex::escape(&c.to_string()));
                in_space = false;
            }
        }
        literal.clear();
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        let Some(conv) = chars.next() else {
            literal.push('%');
            break;
        };
        if conv == '%' {
            literal.push('%');
            continue;
        }
        flush(&mut literal, &mut pattern);
        let (slot, re) = match conv {
            'E' => (Slot::WallClock, r"([\d:.]+)"),
            'e' => (Slot::WallSeconds, r"([\d.]+)"),
            'U' => (Slot::User, r"([\d.]+)"),
            'S' => (Slot::Sys, r"([\d.]+)"),
            'P' => (Slot::Cpu, r"(\d+|\?)%"),
            'M' => (Slot::MaxRssKib, r"(\d+)"),
            'F' => (Slot::Major, r"(\d+)"),
            'R' => (Slot::Minor, r"(\d+)"),
            'w' => (Slot::Voluntary, r"(\d+)"),
            'c' => (Slot::Involuntary, r"(\d+)"),
            'I' => (Slot::Inputs, r"(\d+)"),
            'O' => (Slot::Outputs, r"(\d+)"),
            'x' => (Slot::Exit, r"(\d+)"),
            'C' => (Slot::Command, r"(.*?)"),
            't' | 'K' | 'D' | 'p' | 'X' | 'Z' | 'k' | 'r' | 's' | 'W' => (Slot::Ignored, r"(\S+)"),
            other => {
                return Err(IngestError::InvalidOption {
                    what: "--time-format",
                    reason: format!("unknown GNU time conversion %{other}"),
                });
            }
        };
        pattern.push_str(re);
        slots.push(slot);
    }
    flush(&mut literal, &mut pattern);
    pattern.push_str(r"\s*$");
    let regex = Regex::new(&pattern).map_err(|e| IngestError::InvalidOption {
        what: "--time-format",
        reason: e.to_string(),
    })?;
    Ok((regex, slots))
}

fn fill_slot(report: &mut TimeReport, slot: Slot, text: &str) {
    match slot {
        Slot::WallClock => report.wall_ms = parse_clock(text),
        Slot::WallSeconds => report.wall_ms = seconds_ms(text),
        Slot::User => report.user_ms = seconds_ms(text),
        Slot::Sys => report.sys_ms = seconds_ms(text),
        Slot::Cpu => report.cpu_percent = parse_number(text.trim_end_matches('%')),
        Slot::MaxRssKib => report.max_rss_bytes = int(text).map(|k| k * 1024),
        Slot::Major => report.major_page_faults = int(text),
        Slot::Minor => report.minor_page_faults = int(text),
        Slot::Voluntary => report.voluntary_ctx_switches = int(text),
        Slot::Involuntary => report.involuntary_ctx_switches = int(text),
        Slot::Inputs => report.fs_inputs = int(text),
        Slot::Outputs => report.fs_outputs = int(text),
        Slot::Exit => report.exit_code = int(text).and_then(|v| i32::try_from(v).ok()),
        Slot::Command => report.command = Some(text.to_string()),
        Slot::Ignored => {}
    }
}

fn int(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

fn seconds_ms(text: &str) -> Option<f64> {
    parse_number(text).filter(|v| *v >= 0.0).map(|s| s * 1000.0)
}

/// Parses GNU's `[h:]m:ss[.ff]` elapsed time (or plain seconds) into milliseconds.
pub fn parse_clock(text: &str) -> Option<f64> {
    let mut seconds = 0.0;
    for part in text.trim().split(':') {
        let value: f64 = part.parse().ok()?;
        if value < 0.0 {
            return None;
        }
        seconds = seconds * 60.0 + value;
    }
    Some(seconds * 1000.0)
}

static GNU_VERBOSE_START_OPEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*Command being timed: "(.*)$"#).expect("regex"));
static GNU_VERBOSE_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*Command being timed: "(.*)"\s*$"#).expect("regex"));
static GNU_STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*Command (exited with non-zero status|terminated by signal) (\d+)\s*$")
        .expect("regex")
});
static GNU_DEFAULT_1: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*([\d.]+)user ([\d.]+)system ([\d:.]+)elapsed (\d+|\?)%CPU \((\d+)avgtext\+(\d+)avgdata (\d+)maxresident\)k\s*$",
    )
    .expect("regex")
});
static GNU_DEFAULT_2: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(\d+)inputs\+(\d+)outputs \((\d+)major\+(\d+)minor\)pagefaults (\d+)swaps\s*$")
        .expect("regex")
});
static BSD_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*([\d.]+) real\s+([\d.]+) user\s+([\d.]+) sys\s*$").expect("regex")
});
static BSD_RUSAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)(\d+)  ?([a-z][a-z ]+?)\s*$").expect("regex"));
static POSIX_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(real|user|sys)\s+([\d.]+)\s*$").expect("regex"));
static BASH_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(real|user|sys)\s+(\d+)m([\d.]+)s\s*$").expect("regex"));
static ZSH_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.*?)\s+([\d.]+)s user ([\d.]+)s system (\d+|\?)% cpu ([\d:.]+) total\s*$")
        .expect("regex")
});
static KEY_VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Za-z_]+)=([\d:.]+%?)").expect("regex"));

/// In-progress multi-line report.
#[derive(Debug)]
enum State {
    Idle,
    GnuVerbose(TimeReport),
    /// Inside a quoted command that spans lines (`time -v sh -c 'a\nb'`).
    GnuVerboseCommand(TimeReport),
    GnuDefault(TimeReport),
    Bsd(TimeReport, BsdEvidence),
    RealUserSys(TimeReport, u8),
    Custom(TimeReport, usize),
}

/// What a BSD report has shown about its platform.
#[derive(Debug, Default)]
struct BsdEvidence {
    label_column: Option<usize>,
    mac_only_lines: bool,
    raw_max_rss: Option<i64>,
}

/// Finds time reports in a stream of lines.
#[derive(Debug)]
pub struct TimeScanner<'a> {
    custom: Option<&'a CustomFormat>,
    state: State,
    pending_status: Option<(bool, i32, u64)>,
}

impl<'a> TimeScanner<'a> {
    /// A scanner for the built-in shapes plus an optional custom `-f` format.
    pub fn new(custom: Option<&'a CustomFormat>) -> Self {
        TimeScanner {
            custom,
            state: State::Idle,
            pending_status: None,
        }
    }

    /// Feeds one line; returns reports completed by it (usually none).
    pub fn feed(&mut self, number: u64, line: &str) -> Vec<TimeReport> {
        let mut done = Vec::new();
        if self.continue_report(number, line, &mut done) {
            return done;
        }
        self.start_report(number, line, &mut done);
        done
    }

    /// Ends the input: a report still open is returned (marked truncated if incomplete).
    pub fn finish(&mut self) -> Option<TimeReport> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => None,
            State::GnuVerbose(mut r)
            | State::GnuVerboseCommand(mut r)
            | State::Custom(mut r, _) => {
                r.truncated = true;
                Some(r)
            }
            State::GnuDefault(r) => Some(r),
            State::RealUserSys(mut r, seen) => {
                r.truncated = seen < 3;
                Some(r)
            }
            State::Bsd(r, evidence) => Some(finish_bsd(r, evidence)),
        }
    }

    /// Handles a line while a report is open; false when the line is not part of it.
    fn continue_report(&mut self, number: u64, line: &str, done: &mut Vec<TimeReport>) -> bool {
        match &mut self.state {
            State::Idle => false,
            State::GnuVerboseCommand(report) => {
                report.last_line = number;
                let label_line = gnu_verbose_line(&mut TimeReport::default(), line).is_some();
                let command = report.command.get_or_insert_with(String::new);
                if label_line {
                    // The quote never closed: the report's lines have begun.
                    let mut report = std::mem::take(report);
                    let finished = gnu_verbose_line(&mut report, line) == Some(true);
                    if finished {
                        done.push(report);
                        self.state = State::Idle;
                    } else {
                        self.state = State::GnuVerbose(report);
                    }
                    return true;
                }
                command.push('\n');
                match line.trim_end().strip_suffix('"') {
                    Some(last) => {
                        command.push_str(last);
                        self.state = State::GnuVerbose(std::mem::take(report));
                    }
                    None => command.push_str(line),
                }
                true
            }
            State::GnuVerbose(report) => {
                if let Some(finished) = gnu_verbose_line(report, line) {
                    report.last_line = number;
                    if finished {
                        done.push(std::mem::take(report));
                        self.state = State::Idle;
                    }
                    true
                } else {
                    done.extend(self.finish());
                    false
                }
            }
            State::GnuDefault(report) => {
                if let Some(c) = GNU_DEFAULT_2.captures(line) {
                    report.fs_inputs = int(&c[1]);
                    report.fs_outputs = int(&c[2]);
                    report.major_page_faults = int(&c[3]);
                    report.minor_page_faults = int(&c[4]);
                    report.last_line = number;
                    done.extend(self.finish());
                    true
                } else {
                    let mut r = self.finish();
                    if let Some(r) = r.as_mut() {
                        r.truncated = true;
                    }
                    done.extend(r);
                    false
                }
            }
            State::Bsd(report, evidence) => match BSD_RUSAGE.captures(line) {
                Some(c) => {
                    let column = c[1].len() + c[2].len() + 2;
                    bsd_rusage_line(report, evidence, &c[3], int(&c[2]), column);
                    report.last_line = number;
                    true
                }
                None => {
                    done.extend(self.finish());
                    false
                }
            },
            State::RealUserSys(report, seen) => {
                let parsed = POSIX_LINE
                    .captures(line)
                    .map(|c| (c[1].to_string(), seconds_ms(&c[2])))
                    .or_else(|| {
                        BASH_LINE.captures(line).map(|c| {
                            let minutes = parse_number(&c[2]).unwrap_or(0.0);
                            let secs = parse_number(&c[3]).unwrap_or(0.0);
                            (c[1].to_string(), Some((minutes * 60.0 + secs) * 1000.0))
                        })
                    });
                match parsed {
                    Some((which, value)) if which != "real" => {
                        if which == "user" {
                            report.user_ms = value;
                        } else {
                            report.sys_ms = value;
                        }
                        *seen += 1;
                        report.last_line = number;
                        if which == "sys" {
                            done.extend(self.finish());
                        }
                        true
                    }
                    _ => {
                        done.extend(self.finish());
                        false
                    }
                }
            }
            State::Custom(report, next) => {
                let Some(format) = self.custom else {
                    return false;
                };
                let (regex, slots) = &format.lines[*next];
                match regex.captures(line) {
                    Some(c) => {
                        for (i, slot) in slots.iter().enumerate() {
                            if let Some(m) = c.get(i + 1) {
                                fill_slot(report, *slot, m.as_str());
                            }
                        }
                        report.last_line = number;
                        *next += 1;
                        if *next == format.lines.len() {
                            done.extend(self.finish().map(|mut r| {
                                r.truncated = false;
                                r
                            }));
                        }
                        true
                    }
                    None => {
                        done.extend(self.finish());
                        false
                    }
                }
            }
        }
    }

    fn start_report(&mut self, number: u64, line: &str, done: &mut Vec<TimeReport>) {
        let mut report = TimeReport {
            first_line: number,
            last_line: number,
            ..TimeReport::default()
        };
        if line.contains("Command ")
            && let Some(c) = GNU_STATUS.captures(line)
        {
            let code = int(&c[2]).and_then(|v| i32::try_from(v).ok()).unwrap_or(-1);
            self.pending_status = Some((c[1].starts_with("exited"), code, number));
            return;
        }
        // A status line belongs to the report that immediately follows it.
        let status = self.pending_status.take().filter(|s| s.2 + 1 == number);
        if let Some((exited, code, status_line)) = status {
            report.first_line = status_line;
            if exited {
                report.exit_code = Some(code);
            } else {
                report.signal = Some(code);
            }
        }
        if let Some(format) = self.custom {
            let (regex, slots) = &format.lines[0];
            if let Some(c) = regex.captures(line) {
                report.format = "gnu-format";
                for (i, slot) in slots.iter().enumerate() {
                    if let Some(m) = c.get(i + 1) {
                        fill_slot(&mut report, *slot, m.as_str());
                    }
                }
                if format.lines.len() == 1 {
                    done.push(report);
                } else {
                    report.truncated = true;
                    self.state = State::Custom(report, 1);
                }
                return;
            }
        }
        // Every shape has a keyword: checking for it first keeps the regexes (and their
        // capture allocations) off the ordinary log lines they could never match.
        let has = |word: &str| line.contains(word);
        let starts_real = line.trim_start().starts_with("real");
        if has("Command being timed")
            && let Some(c) = GNU_VERBOSE_START.captures(line)
        {
            report.format = "gnu-verbose";
            report.command = Some(c[1].to_string());
            self.state = State::GnuVerbose(report);
        } else if has("Command being timed")
            && let Some(c) = GNU_VERBOSE_START_OPEN.captures(line)
        {
            report.format = "gnu-verbose";
            report.command = Some(c[1].to_string());
            self.state = State::GnuVerboseCommand(report);
        } else if let Some(c) = has("elapsed")
            .then(|| GNU_DEFAULT_1.captures(line))
            .flatten()
        {
            report.format = "gnu-default";
            report.user_ms = seconds_ms(&c[1]);
            report.sys_ms = seconds_ms(&c[2]);
            report.wall_ms = parse_clock(&c[3]);
            report.cpu_percent = parse_number(&c[4]);
            report.max_rss_bytes = int(&c[7]).map(|k| k * 1024);
            if report.exit_code.is_none() && report.signal.is_none() {
                // GNU prints a status line only for failures: no line means exit 0.
                report.exit_code = Some(0);
            }
            self.state = State::GnuDefault(report);
        } else if let Some(c) = has(" real").then(|| BSD_HEADER.captures(line)).flatten() {
            report.format = "bsd";
            report.wall_ms = seconds_ms(&c[1]);
            report.user_ms = seconds_ms(&c[2]);
            report.sys_ms = seconds_ms(&c[3]);
            self.state = State::Bsd(report, BsdEvidence::default());
        } else if let Some(c) = starts_real
            .then(|| POSIX_LINE.captures(line))
            .flatten()
            .filter(|c| &c[1] == "real")
        {
            report.format = "posix";
            report.wall_ms = seconds_ms(&c[2]);
            self.state = State::RealUserSys(report, 1);
        } else if let Some(c) = starts_real
            .then(|| BASH_LINE.captures(line))
            .flatten()
            .filter(|c| &c[1] == "real")
        {
            report.format = "bash";
            let minutes = parse_number(&c[2]).unwrap_or(0.0);
            report.wall_ms = parse_number(&c[3]).map(|s| (minutes * 60.0 + s) * 1000.0);
            self.state = State::RealUserSys(report, 1);
        } else if let Some(c) = has(" total").then(|| ZSH_LINE.captures(line)).flatten() {
            report.format = "zsh";
            report.command = Some(c[1].trim().to_string());
            report.user_ms = seconds_ms(&c[2]);
            report.sys_ms = seconds_ms(&c[3]);
            report.cpu_percent = parse_number(&c[4]);
            report.wall_ms = parse_clock(&c[5]);
            done.push(report);
        } else if let Some(r) = may_be_key_value(line)
            .then(|| key_value_report(line, report))
            .flatten()
        {
            done.push(r);
        }
    }
}

/// Applies one GNU `-v` line; `Some(true)` when it was the last (`Exit status`).
fn gnu_verbose_line(report: &mut TimeReport, line: &str) -> Option<bool> {
    let (label, value) = line.trim().rsplit_once(": ")?;
    let value = value.trim();
    let label = label.trim();
    match label {
        "User time (seconds)" => report.user_ms = seconds_ms(value),
        "System time (seconds)" => report.sys_ms = seconds_ms(value),
        "Percent of CPU this job got" => {
            report.cpu_percent = parse_number(value.trim_end_matches('%'))
        }
        l if l.starts_with("Elapsed (wall clock) time") => report.wall_ms = parse_clock(value),
        "Maximum resident set size (kbytes)" => report.max_rss_bytes = int(value).map(|k| k * 1024),
        "Major (requiring I/O) page faults" => report.major_page_faults = int(value),
        "Minor (reclaiming a frame) page faults" => report.minor_page_faults = int(value),
        "Voluntary context switches" => report.voluntary_ctx_switches = int(value),
        "Involuntary context switches" => report.involuntary_ctx_switches = int(value),
        "File system inputs" => report.fs_inputs = int(value),
        "File system outputs" => report.fs_outputs = int(value),
        "Exit status" => {
            report.exit_code = int(value).and_then(|v| i32::try_from(v).ok());
            return Some(true);
        }
        "Average shared text size (kbytes)"
        | "Average unshared data size (kbytes)"
        | "Average stack size (kbytes)"
        | "Average total size (kbytes)"
        | "Average resident set size (kbytes)"
        | "Swaps"
        | "Socket messages sent"
        | "Socket messages received"
        | "Signals delivered"
        | "Page size (bytes)" => {}
        _ => return None,
    }
    Some(false)
}

fn bsd_rusage_line(
    report: &mut TimeReport,
    evidence: &mut BsdEvidence,
    label: &str,
    value: Option<i64>,
    column: usize,
) {
    match label {
        "maximum resident set size" => {
            evidence.raw_max_rss = value;
            evidence.label_column = Some(column);
        }
        "page reclaims" => report.minor_page_faults = value,
        "page faults" => report.major_page_faults = value,
        "block input operations" => report.fs_inputs = value,
        "block output operations" => report.fs_outputs = value,
        "voluntary context switches" => report.voluntary_ctx_switches = value,
        "involuntary context switches" => report.involuntary_ctx_switches = value,
        "instructions retired" | "cycles elapsed" | "peak memory footprint" => {
            evidence.mac_only_lines = true
        }
        _ => {}
    }
}

fn finish_bsd(mut report: TimeReport, evidence: BsdEvidence) -> TimeReport {
    // Current macOS pads to 20 columns (label at column 22); FreeBSD and older macOS both
    // pad to 10, so there the value decides: macOS bytes are whole 4 KiB pages, FreeBSD's
    // KiB almost never are (1 in 1024 values).
    let page_multiple = evidence.raw_max_rss.is_some_and(|v| v > 0 && v % 4096 == 0);
    let is_macos =
        evidence.mac_only_lines || evidence.label_column.is_some_and(|c| c >= 22) || page_multiple;
    report.format = if is_macos { "bsd-macos" } else { "bsd-freebsd" };
    let unit = if is_macos { 1 } else { 1024 };
    report.max_rss_bytes = evidence.raw_max_rss.map(|v| v * unit);
    // `-l` output that stops before `involuntary context switches` (the last line both
    // platforms print) was cut off; plain BSD `time` has no rusage lines at all.
    report.truncated =
        report.last_line > report.first_line && report.involuntary_ctx_switches.is_none();
    report
}

/// Whether a line can be a `key=value` report: it needs a wall-time key.
fn may_be_key_value(line: &str) -> bool {
    line.contains('=')
        && ["real", "wall", "elapsed"]
            .iter()
            .any(|key| super::contains_ignore_case(line, key))
}

fn key_value_report(line: &str, mut report: TimeReport) -> Option<TimeReport> {
    let mut known = 0;
    let mut has_wall = false;
    for c in KEY_VALUE.captures_iter(line) {
        let key = c[1].to_ascii_lowercase();
        let value = c[2].trim_end_matches('%');
        let hit = match key.as_str() {
            "real" | "wall" | "elapsed" | "wall_s" | "elapsed_s" | "real_s" | "wall_clock" => {
                report.wall_ms = parse_clock(value);
                has_wall = true;
                true
            }
            "wall_ms" | "elapsed_ms" | "real_ms" => {
                report.wall_ms = parse_number(value);
                has_wall = true;
                true
            }
            "user" | "user_s" | "user_time" => {
                report.user_ms = seconds_ms(value);
                true
            }
            "sys" | "system" | "sys_s" | "system_s" | "sys_time" => {
                report.sys_ms = seconds_ms(value);
                true
            }
            "max_rss_kb" | "maxrss_kb" | "maxrss" | "max_rss" | "rss_kb" | "maxresident" => {
                report.max_rss_bytes = int(value).map(|k| k * 1024);
                true
            }
            "max_rss_bytes" | "maxrss_bytes" => {
                report.max_rss_bytes = int(value);
                true
            }
            "exit" | "exit_code" | "exit_status" | "status" => {
                report.exit_code = int(value).and_then(|v| i32::try_from(v).ok());
                true
            }
            "percent_cpu" | "cpu_percent" | "cpu" => {
                report.cpu_percent = parse_number(value);
                true
            }
            _ => false,
        };
        known += usize::from(hit);
    }
    (has_wall && known >= 2).then(|| {
        report.format = "keyvalue";
        report
    })
}

/// The `time` format: a file of one or more time reports and nothing else of interest.
pub struct TimeOutput;

impl Format for TimeOutput {
    fn name(&self) -> &'static str {
        "time"
    }

    fn description(&self) -> &'static str {
        "/usr/bin/time output: GNU -v, default and -f formats, POSIX -p, BSD -l (macOS, FreeBSD)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let mut scanner = TimeScanner::new(sniff.options.time_format.as_ref());
        for (i, line) in sniff.head.lines().enumerate() {
            if !scanner.feed(i as u64 + 1, line).is_empty() {
                return true;
            }
            if !matches!(scanner.state, State::Idle) {
                return true;
            }
        }
        false
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut scanner = TimeScanner::new(ctx.options.time_format.as_ref());
        let mut reader = LineReader::new(input);
        let mut reports = Vec::new();
        while let Some(line) = reader
            .next_line()
            .map_err(|e| Rejection::file(format!("read error: {e}")))?
        {
            if let Some(len) = line.too_long {
                sink.issue(too_long_issue(line.number, len));
                continue;
            }
            reports.extend(scanner.feed(line.number, &line.text));
        }
        reports.extend(scanner.finish());
        if reports.is_empty() {
            return Err(Rejection::file("no time report found").into());
        }
        for (index, report) in reports.iter().enumerate() {
            if report.truncated {
                sink.issue(Rejection::at(
                    report.last_line,
                    format!(
                        "{} time report cut off after this line; figures after it are missing",
                        report.format
                    ),
                ));
            }
            let mut row = report.to_run_row();
            row.run_id = format!("{}-r{index}", ctx.file_id);
            row.run_index = index as i32;
            sink.rows.runs.push(row);
            sink.checkpoint()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str, custom: Option<&CustomFormat>) -> Vec<TimeReport> {
        let mut scanner = TimeScanner::new(custom);
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            out.extend(scanner.feed(i as u64 + 1, line));
        }
        out.extend(scanner.finish());
        out
    }

    #[test]
    fn clock_formats() {
        assert_eq!(parse_clock("0:00.10"), Some(100.0));
        assert_eq!(parse_clock("1:02:03"), Some(3_723_000.0));
        assert_eq!(parse_clock("2.5"), Some(2500.0));
        assert_eq!(parse_clock("a:b"), None);
    }

    #[test]
    fn gnu_default_with_failure_status() {
        let text = "Command exited with non-zero status 3\n\
                    0.01user 0.02system 0:01.50elapsed 2%CPU (0avgtext+0avgdata 2048maxresident)k\n\
                    8inputs+16outputs (1major+90minor)pagefaults 0swaps\n";
        let r = &scan(text, None)[0];
        assert_eq!(r.format, "gnu-default");
        assert_eq!(r.exit_code, Some(3));
        assert_eq!(r.wall_ms, Some(1500.0));
        assert_eq!(r.max_rss_bytes, Some(2048 * 1024));
        assert_eq!(r.minor_page_faults, Some(90));
        assert_eq!(r.first_line, 1);
        assert!(!r.truncated);
    }

    #[test]
    fn bsd_width_tells_macos_from_freebsd() {
        let mac = "        1.25 real         0.50 user         0.10 sys\n\
                   \x20           12345678  maximum resident set size\n\
                   \x20                 42  page reclaims\n";
        let bsd = "        1.25 real         0.50 user         0.10 sys\n\
                   \x20     12344  maximum resident set size\n\
                   \x20        42  page reclaims\n";
        let m = &scan(mac, None)[0];
        assert_eq!(m.format, "bsd-macos");
        assert_eq!(m.max_rss_bytes, Some(12_345_678));
        let f = &scan(bsd, None)[0];
        assert_eq!(f.format, "bsd-freebsd");
        assert_eq!(f.max_rss_bytes, Some(12_344 * 1024));
        assert_eq!(f.wall_ms, Some(1250.0));
    }

    #[test]
    fn older_macos_ten_wide_columns_are_bytes_when_page_multiples() {
        let text = "        2.00 real         1.00 user         0.10 sys\n\
                    \x20 204800000  maximum resident set size\n\
                    \x20     51000  page reclaims\n";
        let r = &scan(text, None)[0];
        assert_eq!(r.format, "bsd-macos");
        assert_eq!(r.max_rss_bytes, Some(204_800_000));
    }

    #[test]
    fn bsd_mangled_whitespace_falls_back_to_page_multiples() {
        let text = "1.00 real 0.50 user 0.10 sys\n1048576  maximum resident set size\n";
        assert_eq!(scan(text, None)[0].format, "bsd-macos");
        let text = "1.00 real 0.50 user 0.10 sys\n1234  maximum resident set size\n";
        assert_eq!(scan(text, None)[0].format, "bsd-freebsd");
    }

    #[test]
    fn custom_format_multi_line_and_key_values() {
        let fmt = CustomFormat::compile(r"wall %e s\nrss %M KB exit %x").expect("compiles");
        let r = &scan("noise\nwall 2.50 s\nrss 1000 KB exit 0\n", Some(&fmt))[0];
        assert_eq!(r.format, "gnu-format");
        assert_eq!(r.wall_ms, Some(2500.0));
        assert_eq!(r.max_rss_bytes, Some(1_024_000));
        assert_eq!(r.exit_code, Some(0));
        let kv = "benchmark_process_metrics: user=0.50 sys=0.10 real=0:01.20 percent_cpu=50% max_rss_kb=2000";
        let r = &scan(kv, None)[0];
        assert_eq!(r.format, "keyvalue");
        assert_eq!(r.wall_ms, Some(1200.0));
        assert_eq!(r.cpu_percent, Some(50.0));
        assert!(CustomFormat::compile("%q").is_err());
        assert!(CustomFormat::compile("plain").is_err());
    }

    #[test]
    fn posix_bash_and_zsh() {
        let r = &scan("real 1.50\nuser 0.20\nsys 0.10\n", None)[0];
        assert_eq!(
            (r.format, r.wall_ms, r.sys_ms),
            ("posix", Some(1500.0), Some(100.0))
        );
        let r = &scan("\nreal\t1m2.500s\nuser\t0m0.200s\nsys\t0m0.100s\n", None)[0];
        assert_eq!((r.format, r.wall_ms), ("bash", Some(62_500.0)));
        let r = &scan("./wf.sh  0.50s user 0.10s system 40% cpu 1.500 total", None)[0];
        assert_eq!(
            (r.format, r.wall_ms, r.cpu_percent),
            ("zsh", Some(1500.0), Some(40.0))
        );
    }

    #[test]
    fn gnu_verbose_complete_block() {
        let text = "\tCommand being timed: \"sleep 1\"\n\tUser time (seconds): 0.01\n\
                    \tMaximum resident set size (kbytes): 2000\n\tExit status: 0\n";
        let r = &scan(text, None)[0];
        assert!(!r.truncated);
        assert_eq!(r.exit_code, Some(0));
        assert_eq!(r.max_rss_bytes, Some(2_048_000));
        assert_eq!((r.first_line, r.last_line), (1, 4));
    }

    #[test]
    fn gnu_verbose_with_a_command_spanning_lines() {
        let text = "\tCommand being timed: \"python3 -c import time\nb = 1\ntime.sleep(1)\n\"\n\tUser time (seconds): 0.05\n\
            \tMaximum resident set size (kbytes): 2048\n\tExit status: 0\n";
        let reports = scan(text, None);
        assert_eq!(reports.len(), 1, "{reports:?}");
        let r = &reports[0];
        assert_eq!(r.format, "gnu-verbose");
        assert_eq!(
            r.command.as_deref(),
            Some("python3 -c import time\nb = 1\ntime.sleep(1)\n")
        );
        assert_eq!(
            (r.user_ms, r.max_rss_bytes, r.truncated),
            (Some(50.0), Some(2_097_152), false)
        );
    }

    #[test]
    fn gnu_verbose_cut_short_is_truncated() {
        let text = "\tCommand being timed: \"sleep 1\"\n\tUser time (seconds): 0.00\n\
                    \tElapsed (wall clock) time (h:mm:ss or m:ss): 0:01.00\n";
        let r = &scan(text, None)[0];
        assert!(r.truncated);
        assert_eq!(r.wall_ms, Some(1000.0));
        assert_eq!(r.command.as_deref(), Some("sleep 1"));
    }
}
