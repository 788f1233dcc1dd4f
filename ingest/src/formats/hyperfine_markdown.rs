//! hyperfine `--export-markdown` tables, alone in a file or pasted into a README between
//! other text.
//!
//! hyperfine writes one GitHub table:
//!
//! ```text
//! | Command | Mean [ms] | Min [ms] | Max [ms] | Relative |
//! |:---|---:|---:|---:|---:|
//! | `./fast` | 192.1 ± 2.3 | 190.0 | 195.7 | 1.00 |
//! | `./slow` | 909.5 ± 19.3 | 897.6 | 957.6 | 4.73 ± 0.12 |
//! ```
//!
//! The unit in the header (`s`, `ms`, `µs`/`us`, `ns`) is the same for every row; the mean
//! carries `± stddev` unless there was one run; the command is in backticks with `|` escaped
//! (`\|`), or is the `--command-name` label; `Relative` is the ratio to the fastest (`1.00`),
//! with `± sd`, a `(reference)`-style label with `--reference`, or `N/A`. Each row becomes a
//! `bench_results` row (times in ms, the relative figure as the label `relative`); a table
//! under a Markdown heading takes the heading as its suite. The table keeps no individual
//! run times, so `times_ms`, `median` and the run count stay empty: the JSON export has
//! them. A row that does not read is reported with its line; a file with no such table is
//! rejected.

use std::io::BufRead;

use super::lines::for_each_line;
use super::{Format, LineIssue, ParseContext, ParseError, Rejection, RowSink, Sniff, parse_number};
use crate::redact::redact_command;
use crate::schema::{BenchResultRow, Labels};

/// The `hyperfine_markdown` format.
pub struct HyperfineMarkdown;

/// The header a hyperfine table starts with, and its time unit in milliseconds.
fn header_unit_ms(line: &str) -> Option<f64> {
    let cells = cells(line)?;
    let [command, mean, min, max, relative] = cells.as_slice() else {
        return None;
    };
    if command != "Command" || relative != "Relative" {
        return None;
    }
    let unit_of = |cell: &str, name: &str| -> Option<String> {
        let rest = cell.strip_prefix(name)?.trim();
        Some(rest.strip_prefix('[')?.strip_suffix(']')?.to_string())
    };
    let unit = unit_of(mean, "Mean")?;
    if unit_of(min, "Min")? != unit || unit_of(max, "Max")? != unit {
        return None;
    }
    match unit.as_str() {
        "s" => Some(1000.0),
        "ms" => Some(1.0),
        "µs" | "μs" | "us" => Some(1e-3),
        "ns" => Some(1e-6),
        _ => None,
    }
}

/// The cells of a table line (`| a | b |`), `\|` unescaped; None for a line that is not a
/// table row.
fn cells(line: &str) -> Option<Vec<String>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cell).trim().to_string()),
            other => cell.push(other),
        }
    }
    out.push(cell.trim().to_string());
    Some(out)
}

/// `909.5 ± 19.3` (or `+-`), or `909.5` alone: the value and its deviation.
fn value_and_sd(text: &str) -> Option<(f64, Option<f64>)> {
    let split = ["±", "+-"].iter().find_map(|sep| text.split_once(sep));
    match split {
        Some((value, sd)) => Some((parse_number(value)?, Some(parse_number(sd)?))),
        None => Some((parse_number(text)?, None)),
    }
}

/// Whether a line is a table's divider row (`|:---|---:|`).
fn is_divider(line: &str) -> bool {
    cells(line).is_some_and(|c| {
        c.iter()
            .all(|cell| !cell.is_empty() && cell.chars().all(|ch| matches!(ch, ':' | '-')))
    })
}

/// What a table row holds.
struct Row {
    name: String,
    mean_ms: f64,
    stddev_ms: Option<f64>,
    min_ms: f64,
    max_ms: f64,
    relative: String,
}

fn read_row(cells: &[String], unit_ms: f64) -> Result<Row, String> {
    let [command, mean, min, max, relative] = cells else {
        return Err(format!("{} cells where a hyperfine row has 5", cells.len()));
    };
    let number = |text: &str, what: &str| {
        parse_number(text).ok_or_else(|| format!("{what} {text:?} is not a number"))
    };
    let (mean, sd) =
        value_and_sd(mean).ok_or_else(|| format!("mean {mean:?} is not a number [± sd]"))?;
    let name = command
        .strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .unwrap_or(command);
    Ok(Row {
        name: name.to_string(),
        mean_ms: mean * unit_ms,
        stddev_ms: sd.map(|s| s * unit_ms),
        min_ms: number(min, "min")? * unit_ms,
        max_ms: number(max, "max")? * unit_ms,
        relative: relative.clone(),
    })
}

impl Format for HyperfineMarkdown {
    fn name(&self) -> &'static str {
        "hyperfine_markdown"
    }

    fn description(&self) -> &'static str {
        "hyperfine --export-markdown tables (mean ± sd, min, max, relative), also inside other Markdown"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        // A header names its first column `Command`: most heads (every other format's)
        // are rejected by one search instead of being split into lines.
        memchr::memmem::find(sniff.head.as_bytes(), b"Command").is_some()
            && sniff.head.lines().any(|l| header_unit_ms(l).is_some())
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut suite: Option<String> = None;
        // The unit of the table being read, once its divider was seen.
        let mut table: Option<(f64, bool)> = None;
        let mut index = 0usize;
        for_each_line(input, sink, &mut |line, sink| {
            let text = line.text.trim();
            if let Some(heading) = text.strip_prefix('#') {
                suite = Some(heading.trim_start_matches('#').trim().to_string());
            }
            if let Some(unit) = header_unit_ms(text) {
                table = Some((unit, false));
                return Ok(());
            }
            let Some((unit, divided)) = table else {
                return Ok(());
            };
            if !divided {
                table = is_divider(text).then_some((unit, true));
                return Ok(());
            }
            let Some(row_cells) = cells(text) else {
                // The table ended.
                table = None;
                return Ok(());
            };
            match read_row(&row_cells, unit) {
                Ok(row) => {
                    let mut labels = Labels::default();
                    labels.0.insert("relative".into(), row.relative);
                    sink.rows.bench_results.push(BenchResultRow {
                        bench_id: format!("{}-b{index}", ctx.file_id),
                        source_format: "hyperfine_markdown".into(),
                        suite_name: suite.clone(),
                        name: redact_command(&row.name),
                        mean_ms: Some(row.mean_ms),
                        stddev_ms: row.stddev_ms,
                        min_ms: Some(row.min_ms),
                        max_ms: Some(row.max_ms),
                        result_index: index as i32,
                        labels,
                        ..BenchResultRow::default()
                    });
                    index += 1;
                }
                Err(reason) => sink.issue(LineIssue::at(line.number, reason)),
            }
            Ok(sink.checkpoint()?)
        })?;
        if index == 0 {
            return Err(Rejection::file(
                "no hyperfine Markdown table row (| Command | Mean [unit] | Min | Max | Relative |) could be read",
            )
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test, parse_ok};

    fn parse(text: &str) -> (crate::schema::TableRows, Vec<Rejection>) {
        parse_ok(&HyperfineMarkdown, text, "bench.md")
    }

    #[test]
    fn a_table_in_a_readme_with_labels_escapes_and_a_single_run() {
        let (rows, issues) = parse(
            "# Day 1\n\nSome prose.\n\n\
             | Command | Mean [s] | Min [s] | Max [s] | Relative |\n\
             |:---|---:|---:|---:|---:|\n\
             | `lua5.1 bench.lua` | 5.113 ± 0.096 | 5.021 | 5.360 | 1.00 |\n\
             | `grep a \\| wc -l` | 12.982 ± 0.093 | 12.870 | 13.095 | 2.54 ± 0.05 |\n\
             | `once` | 1.5 | 1.5 | 1.5 | N/A |\n\
             | `broken` | fast | 1 | 2 | 1.00 |\n\
             \nMore prose | with a pipe.\n",
        );
        let b = &rows.bench_results;
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].name, "lua5.1 bench.lua");
        assert_eq!(b[0].suite_name.as_deref(), Some("Day 1"));
        // Seconds to milliseconds.
        assert!((b[0].mean_ms.expect("mean") - 5113.0).abs() < 1e-9);
        assert!((b[0].stddev_ms.expect("sd") - 96.0).abs() < 1e-9);
        assert!((b[0].max_ms.expect("max") - 5360.0).abs() < 1e-9);
        assert_eq!(b[1].name, "grep a | wc -l");
        assert_eq!(
            b[1].labels.0.get("relative").map(String::as_str),
            Some("2.54 ± 0.05")
        );
        assert_eq!(b[2].stddev_ms, None);
        assert_eq!(issues.len(), 1, "the broken row is reported: {issues:?}");
        assert!(issues[0].reason.contains("mean"), "{issues:?}");
    }

    #[test]
    fn units_and_rejection() {
        assert_eq!(
            header_unit_ms("| Command | Mean [µs] | Min [µs] | Max [µs] | Relative |"),
            Some(1e-3)
        );
        assert_eq!(
            header_unit_ms("| Command | Mean [ms] | Min [s] | Max [ms] | Relative |"),
            None
        );
        let (result, _, _) = parse_for_test(
            &HyperfineMarkdown,
            b"| a | b |\n|---|---|\n| 1 | 2 |\n",
            "x.md",
            &ParseOptions::default(),
        );
        assert!(result.is_err());
    }
}
