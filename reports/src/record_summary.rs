//! The table `runlens record` prints when it is done: per phase and for the whole run,
//! the counted runs' durations (mean ± sample stddev, min, max) and peak memory, then how
//! many runs failed, timed out, were interrupted or missed expected outputs.

use std::fmt::Write as _;

use runlens_analysis::stats::Describe;

use crate::table::{align_right, new_table};
use crate::units::{format_bytes, format_duration_ms};

/// One line of the table: a phase, or the whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryLine {
    /// Phase name, or `total`.
    pub name: String,
    /// Statistics of the duration over the counted runs, milliseconds.
    pub duration_ms: Option<Describe>,
    /// Highest memory seen: the sampled process-tree peak, else the kernel's single-process peak, bytes.
    pub peak_rss_bytes: Option<i64>,
    /// Mean (uncached input, output) tokens per run of the LLM calls captured in the phase
    /// (`record --capture`); None when no call was captured.
    pub mean_tokens: Option<(f64, f64)>,
}

/// Everything the end-of-recording summary shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordSummary {
    /// The phases in order, then the total.
    pub lines: Vec<SummaryLine>,
    /// Runs that count for statistics (warm-ups excluded).
    pub counted_runs: usize,
    /// Warm-up runs (written, flagged, not counted).
    pub warmup_runs: usize,
    /// Counted runs that exited non-zero, died of a signal, timed out or were interrupted.
    pub failed_runs: usize,
    /// Runs killed at the timeout.
    pub timed_out_runs: usize,
    /// Runs stopped by Ctrl-C or SIGTERM.
    pub interrupted_runs: usize,
    /// Expected outputs per run (`--expect` globs).
    pub expected_outputs: usize,
    /// Counted runs that did not produce every expected output.
    pub runs_missing_outputs: usize,
    /// Fewest expected outputs any counted run produced.
    pub min_outputs_produced: Option<usize>,
}

/// Renders the summary: the table, then one line per kind of problem.
pub fn render_record_summary(summary: &RecordSummary) -> String {
    // Token columns only when calls were captured.
    let tokens = summary.lines.iter().any(|l| l.mean_tokens.is_some());
    let mut header = vec!["phase", "runs", "mean ± σ", "min", "max", "peak RSS"];
    if tokens {
        header.extend(["tokens in (mean)", "tokens out (mean)"]);
    }
    let mut table = new_table(&header);
    for line in &summary.lines {
        let d = line.duration_ms.as_ref();
        let mean = d.map(|d| match d.stddev {
            Some(s) => format!("{} ± {}", format_duration_ms(d.mean), format_duration_ms(s)),
            None => format_duration_ms(d.mean),
        });
        let mut row = vec![
            line.name.clone(),
            d.map(|d| d.count.to_string()).unwrap_or_else(|| "0".into()),
            mean.unwrap_or_default(),
            d.map(|d| format_duration_ms(d.min)).unwrap_or_default(),
            d.map(|d| format_duration_ms(d.max)).unwrap_or_default(),
            line.peak_rss_bytes.map(format_bytes).unwrap_or_default(),
        ];
        if tokens {
            let (input, output) = line
                .mean_tokens
                .map(|(i, o)| (format!("{i:.0}"), format!("{o:.0}")))
                .unwrap_or_default();
            row.extend([input, output]);
        }
        table.add_row(row);
    }
    align_right(&mut table, &(1..header.len()).collect::<Vec<_>>());
    let mut out = format!("{table}\n");
    let _ = write!(out, "{} counted run(s)", summary.counted_runs);
    if summary.warmup_runs > 0 {
        let _ = write!(out, ", {} warm-up run(s) not counted", summary.warmup_runs);
    }
    out.push('\n');
    let problems = [
        (summary.failed_runs, "failed"),
        (summary.timed_out_runs, "timed out"),
        (summary.interrupted_runs, "interrupted"),
    ];
    for (n, what) in problems {
        if n > 0 {
            let _ = writeln!(out, "{what}: {n} of {} run(s)", summary.counted_runs);
            if what == "failed" {
                out.push_str("  (failed runs are left out of the statistics above)\n");
            }
        }
    }
    if summary.expected_outputs > 0 {
        if summary.runs_missing_outputs > 0 {
            let _ = writeln!(
                out,
                "MISSING OUTPUTS: {} of {} run(s) did not produce every expected output (worst: {} of {})",
                summary.runs_missing_outputs,
                summary.counted_runs,
                summary.min_outputs_produced.unwrap_or(0),
                summary.expected_outputs
            );
        } else {
            let _ = writeln!(
                out,
                "expected outputs: all {} produced by every run",
                summary.expected_outputs
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(count: usize, mean: f64, stddev: Option<f64>, min: f64, max: f64) -> Describe {
        Describe {
            count,
            mean,
            stddev,
            min,
            max,
        }
    }

    #[test]
    fn three_runs_one_missing_outputs() {
        let summary = RecordSummary {
            lines: vec![
                SummaryLine {
                    name: "Setup".into(),
                    duration_ms: Some(describe(3, 512.25, Some(12.5), 500.0, 525.0)),
                    peak_rss_bytes: Some(8 * 1024 * 1024),
                    mean_tokens: None,
                },
                SummaryLine {
                    name: "total".into(),
                    duration_ms: Some(describe(3, 2_250.0, Some(40.0), 2_200.0, 2_300.0)),
                    peak_rss_bytes: Some(40 * 1024 * 1024),
                    mean_tokens: None,
                },
            ],
            counted_runs: 3,
            warmup_runs: 1,
            failed_runs: 1,
            timed_out_runs: 1,
            interrupted_runs: 0,
            expected_outputs: 2,
            runs_missing_outputs: 1,
            min_outputs_produced: Some(0),
        };
        insta::assert_snapshot!(render_record_summary(&summary));
    }

    #[test]
    fn captured_tokens_get_their_columns() {
        let summary = RecordSummary {
            lines: vec![SummaryLine {
                name: "plan".into(),
                duration_ms: Some(describe(2, 1_000.0, Some(10.0), 990.0, 1_010.0)),
                peak_rss_bytes: None,
                mean_tokens: Some((1_520.5, 310.0)),
            }],
            counted_runs: 2,
            ..RecordSummary::default()
        };
        let text = render_record_summary(&summary);
        assert!(text.contains("tokens in (mean)"), "{text}");
        assert!(text.contains("1520") && text.contains("310"), "{text}");
    }
}
