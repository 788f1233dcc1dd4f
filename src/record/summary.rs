//! The end-of-recording table's numbers: per phase and in total, over the counted runs that
//! succeeded (warm-ups excluded, failed runs counted separately, as everywhere in runlens).
//! A phase's peak memory is the highest tree sample taken while it was active.

use runlens_analysis::stats::describe;
use runlens_reports::{RecordSummary, SummaryLine};

use super::rows::RecordedRun;

/// A phase's (input, output) tokens, 0 where not reported.
fn phase_tokens(phase: &runlens_ingest::schema::PhaseRow) -> (f64, f64) {
    (
        phase.input_tokens.unwrap_or(0) as f64,
        phase.output_tokens.unwrap_or(0) as f64,
    )
}

/// The mean of each member; None for no pairs.
fn mean_pair(pairs: &[(f64, f64)]) -> Option<(f64, f64)> {
    (!pairs.is_empty()).then(|| {
        let n = pairs.len() as f64;
        let (i, o) = pairs.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        (i / n, o / n)
    })
}

/// Summarises the runs of one recording.
pub fn summarise(runs: &[RecordedRun], expected_outputs: usize) -> RecordSummary {
    let counted: Vec<&RecordedRun> = runs.iter().filter(|r| !r.row.is_warmup).collect();
    let succeeded: Vec<&RecordedRun> = counted.iter().copied().filter(|r| !r.failed()).collect();

    // Phase names in the order they first appear.
    let mut names: Vec<&str> = Vec::new();
    for run in &succeeded {
        for phase in &run.phases {
            if !names.contains(&phase.phase.as_str()) {
                names.push(&phase.phase);
            }
        }
    }
    let mut lines: Vec<SummaryLine> = names
        .iter()
        .map(|name| {
            let mut durations = Vec::new();
            let mut peak: Option<i64> = None;
            let mut tokens: Vec<(f64, f64)> = Vec::new();
            for run in &succeeded {
                for phase in run.phases.iter().filter(|p| p.phase == *name) {
                    durations.extend(phase.duration_ms);
                    if phase.input_tokens.is_some() || phase.output_tokens.is_some() {
                        tokens.push(phase_tokens(phase));
                    }
                    let (Some(start), Some(end)) = (phase.start_ts, phase.end_ts) else {
                        continue;
                    };
                    let in_phase = run
                        .samples
                        .iter()
                        .filter(|s| s.ts.is_some_and(|t| t >= start && t <= end))
                        .filter_map(|s| s.rss_bytes);
                    peak = in_phase.chain(peak).max();
                }
            }
            SummaryLine {
                name: name.to_string(),
                duration_ms: describe(&durations),
                peak_rss_bytes: peak,
                mean_tokens: mean_pair(&tokens),
            }
        })
        .collect();
    let walls: Vec<f64> = succeeded.iter().filter_map(|r| r.row.wall_ms).collect();
    // A run's tokens: its phases' together (calls made outside any phase are not counted).
    let run_tokens: Vec<(f64, f64)> = succeeded
        .iter()
        .filter(|r| {
            r.phases
                .iter()
                .any(|p| p.input_tokens.is_some() || p.output_tokens.is_some())
        })
        .map(|r| {
            r.phases
                .iter()
                .map(phase_tokens)
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
        })
        .collect();
    lines.push(SummaryLine {
        name: "total".into(),
        mean_tokens: mean_pair(&run_tokens),
        duration_ms: describe(&walls),
        peak_rss_bytes: succeeded
            .iter()
            .filter_map(|r| r.row.tree_peak_rss_bytes.or(r.row.max_rss_bytes))
            .max(),
    });
    let missing: Vec<usize> = counted
        .iter()
        .map(|r| r.outputs_produced)
        .filter(|&n| n < expected_outputs)
        .collect();
    RecordSummary {
        lines,
        counted_runs: counted.len(),
        warmup_runs: runs.len() - counted.len(),
        failed_runs: counted.len() - succeeded.len(),
        timed_out_runs: counted.iter().filter(|r| r.row.timed_out).count(),
        interrupted_runs: counted.iter().filter(|r| r.row.interrupted).count(),
        expected_outputs,
        runs_missing_outputs: missing.len(),
        min_outputs_produced: counted.iter().map(|r| r.outputs_produced).min(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runlens_ingest::schema::{PhaseRow, RunRow, SampleRow, Timestamp};

    fn run(warmup: bool, exit: i32, wall: f64, phase_ms: f64, produced: usize) -> RecordedRun {
        RecordedRun {
            row: RunRow {
                is_warmup: warmup,
                exit_code: Some(exit),
                wall_ms: Some(wall),
                max_rss_bytes: Some(1000),
                ..RunRow::default()
            },
            phases: vec![PhaseRow {
                phase: "Build".into(),
                start_ts: Some(Timestamp(0)),
                end_ts: Some(Timestamp(10)),
                duration_ms: Some(phase_ms),
                ..PhaseRow::default()
            }],
            samples: vec![SampleRow {
                ts: Some(Timestamp(5)),
                rss_bytes: Some(wall as i64),
                ..SampleRow::default()
            }],
            artifacts: vec![],
            outputs_produced: produced,
        }
    }

    #[test]
    fn warmups_and_failures_stay_out_of_the_statistics() {
        let runs = [
            run(true, 0, 9_000.0, 900.0, 2),
            run(false, 0, 1_000.0, 100.0, 2),
            run(false, 0, 3_000.0, 300.0, 1),
            run(false, 2, 50_000.0, 5_000.0, 0),
        ];
        let s = summarise(&runs, 2);
        assert_eq!((s.counted_runs, s.warmup_runs, s.failed_runs), (3, 1, 1));
        assert_eq!(
            (s.runs_missing_outputs, s.min_outputs_produced),
            (2, Some(0))
        );
        let total = s.lines.last().expect("total");
        let d = total.duration_ms.expect("stats");
        // Two successful counted runs: 1000 and 3000 ms -> mean 2000, sample stddev sqrt(2e6).
        assert_eq!((d.count, d.mean), (2, 2000.0));
        assert!((d.stddev.expect("n=2") - 1_414.213_562_373_095).abs() < 1e-9);
        let build = &s.lines[0];
        assert_eq!(build.name, "Build");
        assert_eq!(build.duration_ms.expect("stats").mean, 200.0);
        // Peak RSS of the phase: the highest in-phase sample of the counted successful runs.
        assert_eq!(build.peak_rss_bytes, Some(3000));
    }
}
