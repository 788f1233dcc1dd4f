//! GNU `time -f FORMAT`: the format compiled into a pattern for the lines it prints, each
//! conversion (`%e`, `%M`, ...) a slot of the [`TimeReport`].

use regex::Regex;

use super::TimeReport;
use crate::error::IngestError;
use crate::formats::parse_number;

/// What a GNU `time -f` conversion fills in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Slot {
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
    pub(super) lines: Vec<(Regex, Vec<Slot>)>,
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

pub(super) fn compile_format_line(line: &str) -> Result<(Regex, Vec<Slot>), IngestError> {
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

pub(super) fn fill_slot(report: &mut TimeReport, slot: Slot, text: &str) {
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

pub(super) fn int(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

pub(super) fn seconds_ms(text: &str) -> Option<f64> {
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
