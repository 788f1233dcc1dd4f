//! Finds time reports of every shape in a stream of lines, one line at a time: multi-line
//! reports (GNU `-v`, BSD `-l`, `real/user/sys`) are built up in a `State` until their last
//! line.

use std::sync::LazyLock;

use regex::Regex;

use super::TimeReport;
use super::bsd::{BsdEvidence, bsd_rusage_line, finish_bsd};
use super::custom_format::{CustomFormat, fill_slot, int, parse_clock, seconds_ms};
use crate::formats::parse_number;

/// A keyword [`TimeScanner`] looks for in a log line before it tries the regex of a report
/// shape that needs it. Its `memmem` searcher is built once, where `str::contains` built
/// one on every call (those calls were 23 % of the instructions of ingesting run logs,
/// their searches included; the finders cut the total by 5 %).
type Keyword = LazyLock<memchr::memmem::Finder<'static>>;

static COMMAND: Keyword = LazyLock::new(|| memchr::memmem::Finder::new("Command "));
static COMMAND_BEING_TIMED: Keyword =
    LazyLock::new(|| memchr::memmem::Finder::new("Command being timed"));
static ELAPSED: Keyword = LazyLock::new(|| memchr::memmem::Finder::new("elapsed"));
static SPACE_REAL: Keyword = LazyLock::new(|| memchr::memmem::Finder::new(" real"));
static SPACE_TOTAL: Keyword = LazyLock::new(|| memchr::memmem::Finder::new(" total"));

/// Whether `line` contains `keyword`.
fn has(keyword: &Keyword, line: &str) -> bool {
    keyword.find(line.as_bytes()).is_some()
}

pub(super) static GNU_VERBOSE_START_OPEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*Command being timed: "(.*)$"#).expect("regex"));
pub(super) static GNU_VERBOSE_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*Command being timed: "(.*)"\s*$"#).expect("regex"));
pub(super) static GNU_STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*Command (exited with non-zero status|terminated by signal) (\d+)\s*$")
        .expect("regex")
});
pub(super) static GNU_DEFAULT_1: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*([\d.]+)user ([\d.]+)system ([\d:.]+)elapsed (\d+|\?)%CPU \((\d+)avgtext\+(\d+)avgdata (\d+)maxresident\)k\s*$",
    )
    .expect("regex")
});
pub(super) static GNU_DEFAULT_2: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(\d+)inputs\+(\d+)outputs \((\d+)major\+(\d+)minor\)pagefaults (\d+)swaps\s*$")
        .expect("regex")
});
/// BSD's `N real N user N sys` line, also where it starts mid-line after the program's own
/// output on the same line (`go test -bench` prints `BenchmarkServer-10 \t` before it).
pub(super) static BSD_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)([\d.]+) real\s+([\d.]+) user\s+([\d.]+) sys\s*$").expect("regex")
});
pub(super) static BSD_RUSAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)(\d+)  ?([a-z][a-z ]+?)\s*$").expect("regex"));
pub(super) static POSIX_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(real|user|sys)\s+([\d.]+)\s*$").expect("regex"));
pub(super) static BASH_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(real|user|sys)\s+(\d+)m([\d.]+)s\s*$").expect("regex"));
pub(super) static ZSH_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.*?)\s+([\d.]+)s user ([\d.]+)s system (\d+|\?)% cpu ([\d:.]+) total\s*$")
        .expect("regex")
});
pub(super) static KEY_VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Za-z_]+)=([\d:.]+%?)").expect("regex"));

/// In-progress multi-line report.
#[derive(Debug)]
pub(super) enum State {
    Idle,
    GnuVerbose(TimeReport),
    /// Inside a quoted command that spans lines (`time -v sh -c 'a\nb'`).
    GnuVerboseCommand(TimeReport),
    GnuDefault(TimeReport),
    Bsd(TimeReport, BsdEvidence),
    RealUserSys(TimeReport, u8),
    Custom(TimeReport, usize),
}

/// Finds time reports in a stream of lines.
#[derive(Debug)]
pub struct TimeScanner<'a> {
    custom: Option<&'a CustomFormat>,
    pub(super) state: State,
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
        let has_command = has(&COMMAND, line);
        if has_command && let Some(c) = GNU_STATUS.captures(line) {
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
        let starts_real = line.trim_start().starts_with("real");
        let being_timed = has_command && has(&COMMAND_BEING_TIMED, line);
        if being_timed && let Some(c) = GNU_VERBOSE_START.captures(line) {
            report.format = "gnu-verbose";
            report.command = Some(c[1].to_string());
            self.state = State::GnuVerbose(report);
        } else if being_timed && let Some(c) = GNU_VERBOSE_START_OPEN.captures(line) {
            report.format = "gnu-verbose";
            report.command = Some(c[1].to_string());
            self.state = State::GnuVerboseCommand(report);
        } else if let Some(c) = has(&ELAPSED, line)
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
        } else if let Some(c) = has(&SPACE_REAL, line)
            .then(|| BSD_HEADER.captures(line))
            .flatten()
        {
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
        } else if let Some(c) = has(&SPACE_TOTAL, line)
            .then(|| ZSH_LINE.captures(line))
            .flatten()
        {
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
pub(super) fn gnu_verbose_line(report: &mut TimeReport, line: &str) -> Option<bool> {
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

/// The keys whose value is a key=value report's wall time as a clock or in seconds.
const WALL_CLOCK_KEYS: [&str; 7] = [
    "real",
    "wall",
    "elapsed",
    "wall_s",
    "elapsed_s",
    "real_s",
    "wall_clock",
];
/// The keys whose value is a key=value report's wall time in milliseconds.
const WALL_MS_KEYS: [&str; 3] = ["wall_ms", "elapsed_ms", "real_ms"];

/// [`may_be_key_value`] passes over a key not starting with `r`, `w` or `e`: checked here,
/// when the crate is built, for every wall-time key.
const _: () = {
    let mut i = 0;
    while i < WALL_CLOCK_KEYS.len() + WALL_MS_KEYS.len() {
        let key = if i < WALL_CLOCK_KEYS.len() {
            WALL_CLOCK_KEYS[i]
        } else {
            WALL_MS_KEYS[i - WALL_CLOCK_KEYS.len()]
        };
        assert!(matches!(key.as_bytes()[0], b'r' | b'w' | b'e'));
        i += 1;
    }
};

/// Whether a line can be a `key=value` report: it needs a wall-time key (any case) right
/// before an `=`. [`key_value_report`] reads a key as the whole run of letters and `_`
/// before its `=`, so only that run is compared, at each `=`. Log lines are often
/// `key=value` lines themselves: searching each for `real`, `wall` and `elapsed` in either
/// case had the scanner take 40 % of the time to ingest such logs (docs/benchmarks.md).
pub(super) fn may_be_key_value(line: &str) -> bool {
    let bytes = line.as_bytes();
    memchr::memchr_iter(b'=', bytes).any(|at| {
        let start = bytes[..at]
            .iter()
            .rposition(|b| !is_key_byte(*b))
            .map_or(0, |before| before + 1);
        let key = &bytes[start..at];
        // Every wall-time key starts with one of these: most keys of a log line are passed
        // over on their first letter, not compared with each wall-time key.
        if !matches!(
            key.first().map(u8::to_ascii_lowercase),
            Some(b'r' | b'w' | b'e')
        ) {
            return false;
        }
        // A plain loop: as `.any(closure)` the comparison was, in some builds, a call per
        // key compared (6 % of a run log's instructions).
        for wall in WALL_CLOCK_KEYS.iter().chain(WALL_MS_KEYS.iter()) {
            if key.eq_ignore_ascii_case(wall.as_bytes()) {
                return true;
            }
        }
        false
    })
}

/// A byte of a key in a key=value report (as [`KEY_VALUE`] reads keys).
fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

pub(super) fn key_value_report(line: &str, mut report: TimeReport) -> Option<TimeReport> {
    let mut known = 0;
    let mut has_wall = false;
    for c in KEY_VALUE.captures_iter(line) {
        let key = c[1].to_ascii_lowercase();
        let value = c[2].trim_end_matches('%');
        let hit = match key.as_str() {
            k if WALL_CLOCK_KEYS.contains(&k) => {
                report.wall_ms = parse_clock(value);
                has_wall = true;
                true
            }
            k if WALL_MS_KEYS.contains(&k) => {
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
