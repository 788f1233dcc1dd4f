//! hyperfine `--export-csv` files, in both of the shapes hyperfine has written:
//!
//! - released versions: `command,mean,stddev,median,user,system,min,max` in seconds, then a
//!   `parameter_<name>` column per `--parameter-scan`/`--parameter-list` parameter;
//! - with per-metric columns (hyperfine's `--metrics`): `command`, then for each metric
//!   `<metric>_unit,<metric>_mean,<metric>_stddev,<metric>_median,<metric>_min,<metric>_max`
//!   (`time_wall_clock`, `time_user`, `time_system`, `memory_peak_resident`, ...) with the
//!   unit written in its own column (`s`, `ms`, `B`, `KiB`, ...), then `parameter_<name>`.
//!
//! Each row becomes a `bench_results` row: wall time figures in ms, user and system time
//! (their means) in ms, peak memory (the largest peak of any run) in bytes, parameters as
//! `name=value`. Columns runlens has no place for are ignored. A row that does not read is
//! reported with its line; a file without a `command` column and a wall time is rejected.

use std::collections::BTreeMap;
use std::io::BufRead;

use super::{Format, LineIssue, ParseContext, ParseError, Rejection, RowSink, Sniff, parse_number};
use crate::redact::redact_command;
use crate::schema::BenchResultRow;

/// The `hyperfine_csv` format.
pub struct HyperfineCsv;

/// Which figure a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Figure {
    Mean,
    Stddev,
    Median,
    Min,
    Max,
    Unit,
}

/// Which measurement a column belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Measure {
    Wall,
    User,
    System,
    Memory,
}

/// What each column of the header is.
#[derive(Debug, Default)]
struct Layout {
    command: Option<usize>,
    /// (measure, figure) → column.
    figures: BTreeMap<(Measure, Figure), usize>,
    /// parameter name → column.
    parameters: Vec<(String, usize)>,
}

fn figure(name: &str) -> Option<Figure> {
    Some(match name {
        "mean" => Figure::Mean,
        "stddev" => Figure::Stddev,
        "median" => Figure::Median,
        "min" => Figure::Min,
        "max" => Figure::Max,
        "unit" => Figure::Unit,
        _ => return None,
    })
}

fn layout(header: &csv::StringRecord) -> Layout {
    let mut layout = Layout::default();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        if name == "command" {
            layout.command = Some(i);
        } else if let Some(p) = name.strip_prefix("parameter_") {
            layout.parameters.push((p.to_string(), i));
        } else if let Some(f) = figure(name) {
            // The released shape: wall time figures, in seconds.
            layout.figures.insert((Measure::Wall, f), i);
        } else if name == "user" || name == "system" {
            let m = if name == "user" {
                Measure::User
            } else {
                Measure::System
            };
            layout.figures.insert((m, Figure::Mean), i);
        } else if let Some((metric, f)) = name.rsplit_once('_') {
            let measure = match metric {
                "time_wall_clock" => Measure::Wall,
                "time_user" => Measure::User,
                "time_system" => Measure::System,
                "memory_peak_resident" => Measure::Memory,
                _ => continue,
            };
            if let Some(f) = figure(f) {
                layout.figures.insert((measure, f), i);
            }
        }
    }
    layout
}

/// How many milliseconds (time) or bytes (memory) one `unit` is; seconds and bytes when
/// the file has no unit column.
fn scale(measure: Measure, unit: Option<&str>) -> Option<f64> {
    Some(match (measure, unit.map(str::trim)) {
        (Measure::Memory, None | Some("B")) => 1.0,
        (Measure::Memory, Some("KiB")) => 1024.0,
        (Measure::Memory, Some("MiB")) => 1024.0 * 1024.0,
        (Measure::Memory, Some("GiB")) => 1024.0 * 1024.0 * 1024.0,
        (Measure::Memory, Some("kB" | "KB")) => 1e3,
        (Measure::Memory, Some("MB")) => 1e6,
        (Measure::Memory, Some("GB")) => 1e9,
        (_, None | Some("s")) => 1000.0,
        (Measure::Memory, _) => return None,
        (_, Some("ms")) => 1.0,
        (_, Some("µs" | "μs" | "us")) => 1e-3,
        (_, Some("ns")) => 1e-6,
        _ => return None,
    })
}

impl Layout {
    /// One figure of a row in runlens's unit (ms or bytes); Err names what did not read.
    fn value(
        &self,
        record: &csv::StringRecord,
        measure: Measure,
        figure: Figure,
    ) -> Result<Option<f64>, String> {
        let Some(&i) = self.figures.get(&(measure, figure)) else {
            return Ok(None);
        };
        let text = record.get(i).unwrap_or("").trim();
        if text.is_empty() {
            return Ok(None);
        }
        let unit = self
            .figures
            .get(&(measure, Figure::Unit))
            .and_then(|&u| record.get(u));
        let scale = scale(measure, unit).ok_or_else(|| format!("unknown unit {unit:?}"))?;
        let value = parse_number(text).ok_or_else(|| format!("{text:?} is not a number"))?;
        Ok(Some(value * scale))
    }

    fn row(
        &self,
        record: &csv::StringRecord,
        index: usize,
        file_id: &str,
    ) -> Result<BenchResultRow, String> {
        let command = self
            .command
            .and_then(|i| record.get(i))
            .ok_or("no command")?;
        let wall = |f| self.value(record, Measure::Wall, f);
        let parameters: Vec<String> = self
            .parameters
            .iter()
            .filter_map(|(name, i)| record.get(*i).map(|v| format!("{name}={v}")))
            .collect();
        let mean_ms = wall(Figure::Mean)?;
        if mean_ms.is_none() {
            return Err("no mean time".into());
        }
        Ok(BenchResultRow {
            bench_id: super::row_id(file_id, 'b', index as u64),
            source_format: "hyperfine_csv".into(),
            name: redact_command(command),
            mean_ms,
            stddev_ms: wall(Figure::Stddev)?,
            p50_ms: wall(Figure::Median)?,
            min_ms: wall(Figure::Min)?,
            max_ms: wall(Figure::Max)?,
            user_ms: self.value(record, Measure::User, Figure::Mean)?,
            sys_ms: self.value(record, Measure::System, Figure::Mean)?,
            memory_peak_bytes: self
                .value(record, Measure::Memory, Figure::Max)?
                .map(|b| b.round() as i64),
            parameters: (!parameters.is_empty()).then(|| parameters.join(", ")),
            result_index: index as i32,
            ..BenchResultRow::default()
        })
    }
}

/// Whether a header line is a hyperfine CSV header.
fn is_header(line: &str) -> bool {
    let line = line.trim_start_matches('\u{feff}').trim();
    line.starts_with("command,")
        && (line.contains(",mean,") || line.contains("time_wall_clock_mean"))
}

impl Format for HyperfineCsv {
    fn name(&self) -> &'static str {
        "hyperfine_csv"
    }

    fn description(&self) -> &'static str {
        "hyperfine --export-csv results (mean, stddev, median, user, system, min, max, parameters)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        sniff.head.lines().next().is_some_and(is_header)
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let header = reader
            .headers()
            .map_err(|e| Rejection::file(format!("reading the header: {e}")))?
            .clone();
        let layout = layout(&header);
        if layout.command.is_none() || !layout.figures.contains_key(&(Measure::Wall, Figure::Mean))
        {
            return Err(Rejection::at(
                1,
                "not a hyperfine CSV export: needs a `command` column and a mean time",
            )
            .into());
        }
        let mut index = 0usize;
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    sink.issue(LineIssue::at(line, format!("unreadable CSV record: {e}")));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            match layout.row(&record, index, ctx.file_id) {
                Ok(row) => {
                    sink.rows.bench_results.push(row);
                    index += 1;
                }
                Err(reason) => sink.issue(LineIssue::at(line, reason)),
            }
            sink.checkpoint()?;
        }
        if index == 0 {
            return Err(Rejection::file("no hyperfine result row could be read").into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test, parse_ok};

    fn parse(text: &str) -> (crate::schema::TableRows, Vec<Rejection>) {
        parse_ok(&HyperfineCsv, text, "bench.csv")
    }

    #[test]
    fn the_released_shape_with_parameters() {
        let (rows, issues) = parse(
            "command,mean,stddev,median,user,system,min,max,parameter_threads\n\
             \"sort -j 1, big.txt\",1.5,0.25,1.4,1.2,0.1,1.25,2,1\n\
             one run,0.002,,0.002,0.001,0,0.002,0.002,2\n\
             broken,fast,,,,,,,4\n",
        );
        let b = &rows.bench_results;
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].name, "sort -j 1, big.txt");
        assert_eq!(b[0].mean_ms, Some(1500.0));
        assert_eq!(b[0].stddev_ms, Some(250.0));
        assert_eq!(b[0].p50_ms, Some(1400.0));
        assert_eq!(b[0].user_ms, Some(1200.0));
        assert_eq!(b[0].max_ms, Some(2000.0));
        assert_eq!(b[0].parameters.as_deref(), Some("threads=1"));
        assert_eq!(b[1].stddev_ms, None);
        assert_eq!(b[1].result_index, 1);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].line, Some(4));
    }

    #[test]
    fn the_per_metric_shape_with_units() {
        let (rows, _) = parse(
            "command,time_wall_clock_unit,time_wall_clock_mean,time_wall_clock_stddev,time_wall_clock_median,time_wall_clock_min,time_wall_clock_max,memory_peak_resident_unit,memory_peak_resident_mean,memory_peak_resident_stddev,memory_peak_resident_median,memory_peak_resident_min,memory_peak_resident_max,parameter_bar\n\
             command_a,ms,9,2.6,8,7,12,KiB,1,0,1,1,2,two\n",
        );
        let b = &rows.bench_results[0];
        assert_eq!(b.mean_ms, Some(9.0));
        assert_eq!(b.max_ms, Some(12.0));
        assert_eq!(b.memory_peak_bytes, Some(2048));
        assert_eq!(b.parameters.as_deref(), Some("bar=two"));
    }

    #[test]
    fn another_csv_is_not_taken() {
        assert!(!is_header("timestamp,provider,model,first_token_ms"));
        let (result, _, _) = parse_for_test(
            &HyperfineCsv,
            b"command,foo\nx,1\n",
            "x.csv",
            &ParseOptions::default(),
        );
        assert!(result.is_err());
    }
}
