//! Cost projections: what a workflow costs per day, week, month and year at a given number
//! of workflows a day, from the measured cost per run (`run_cost` of [`crate::analyze`]).
//!
//! A workflow is one recorded run; its cost is the sum of the LLM calls it made, priced per
//! call. The projection multiplies the mean cost per run (and the bounds of its 95 %
//! confidence interval, where there is one) by the number of runs in each period: days as
//! given, a week of 7 days, a month of 30 and a year of 365.

use serde::Serialize;

use crate::analyze::{Analysis, TOTAL_PHASE};

/// The periods projected, with their length in days.
pub const PERIODS: [(&str, u64); 4] = [("day", 1), ("week", 7), ("month", 30), ("year", 365)];

/// One group's projection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// The `--by` key values of the group (None: the group has no value for the key).
    #[serde(skip)]
    pub keys: Vec<Option<String>>,
    /// Runs the mean is over.
    pub runs: u64,
    /// Mean cost of one run, USD.
    pub cost_per_run_usd: f64,
    /// 95 % CI of that mean, USD (None for a single run).
    pub ci95_usd: Option<(f64, f64)>,
    /// Workflows a day the projection assumes.
    pub workflows_per_day: u64,
    /// Cost per period of [`PERIODS`], USD, in that order.
    pub per_period_usd: [f64; 4],
}

/// The projections of every group with a measured cost per run (`run_cost`, total row).
pub fn project_costs(analysis: &Analysis, workflows_per_day: u64) -> Vec<Projection> {
    analysis
        .rows_of("run_cost", TOTAL_PHASE)
        .filter_map(|row| {
            let cost = row.mean()?;
            let per_day = cost * workflows_per_day as f64;
            Some(Projection {
                keys: row.keys.clone(),
                runs: row.n as u64,
                cost_per_run_usd: cost,
                ci95_usd: row.ci95().map(|c| (c.low, c.high)),
                workflows_per_day,
                per_period_usd: PERIODS.map(|(_, days)| per_day * days as f64),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use runlens_ingest::recorded::{RecordedSource, write_recorded};
    use runlens_ingest::schema::{Labels, LlmCallRow, RunRow, TableRows};

    use super::*;
    use crate::analyze::{AnalyzeOptions, analyze};
    use crate::scan::DatasetReader;

    fn run(id: &str, warmup: bool, exit_code: i32) -> RunRow {
        RunRow {
            run_id: id.into(),
            source: "record".into(),
            is_warmup: warmup,
            exit_code: Some(exit_code),
            wall_ms: Some(1000.0),
            ..Default::default()
        }
    }

    fn call(
        id: &str,
        run: &str,
        phase: &str,
        model: &str,
        tokens: Option<(i64, i64)>,
    ) -> LlmCallRow {
        LlmCallRow {
            call_id: id.into(),
            run_id: Some(run.into()),
            phase: Some(phase.into()),
            source: "proxy".into(),
            provider: Some("anthropic".into()),
            request_model: Some(model.into()),
            input_tokens: tokens.map(|t| t.0),
            output_tokens: tokens.map(|t| t.1),
            error_kind: tokens.is_none().then(|| "http_500".to_string()),
            ..Default::default()
        }
    }

    /// Runs r1 and r2 priced by hand at Claude Sonnet 4.5's $3 / $15 per million tokens; a
    /// warm-up, a failed run and a run of an unpriced model around them.
    fn dataset() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let sonnet = "claude-sonnet-4-5";
        let rows = TableRows {
            runs: vec![
                run("r1", false, 0),
                run("r2", false, 0),
                run("r3", false, 0),
                run("w", true, 0),
                run("f", false, 1),
            ],
            llm_calls: vec![
                // r1: 1,000 × 3 + 100 × 15 = $0.0045 (plan); 2,000 × 3 + 200 × 15 = $0.009.
                call("c1", "r1", "plan", sonnet, Some((1_000, 100))),
                call("c2", "r1", "build", sonnet, Some((2_000, 200))),
                // r2: 10,000 × 3 + 1,000 × 15 = $0.045, and a failed call without usage.
                call("c3", "r2", "plan", sonnet, Some((10_000, 1_000))),
                call("c4", "r2", "plan", sonnet, None),
                // r3: no price, so no cost (not $0).
                call("c5", "r3", "plan", "mystery-model", Some((5_000, 500))),
                call("c6", "w", "plan", sonnet, Some((1_000_000, 0))),
                call("c7", "f", "plan", sonnet, Some((1_000_000, 0))),
            ],
            ..Default::default()
        };
        let labels = Labels::default();
        let source = RecordedSource {
            producer: "test",
            description: "projections test",
            labels: &labels,
        };
        write_recorded(&runlens_ingest::Dataset::new(dir.path()), rows, &source).expect("written");
        dir
    }

    fn cell(analysis: &Analysis, metric: &str, phase: &str, column: &str) -> Option<f64> {
        let row = analysis.rows_of(metric, phase).next()?;
        match column {
            "n" => Some(row.n as f64),
            "failed" => Some(row.failed as f64),
            "mean" => row.mean(),
            "min" => row.statistic(crate::analyze::Statistic::Min),
            other => panic!("no column {other}"),
        }
    }

    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() < 1e-12)
    }

    /// A filter on a key only the calls carry (the model) keeps the warm-up's and the failed
    /// run's calls out as well: every run's flags are read, not only the runs the filter
    /// would keep (the runs' files record no `model` label, and were once skipped for it).
    #[test]
    fn a_filter_on_the_calls_model_still_excludes_warm_up_and_failed_runs() {
        let dir = dataset();
        let options = AnalyzeOptions {
            filters: vec![("model".into(), "claude-sonnet-4-5".into())],
            ..AnalyzeOptions::default()
        };
        let analysis = analyze(&DatasetReader::new(dir.path()), &options).expect("analysis");
        // r1 and r2 counted; w (warm-up) excluded, f (failed) counted as failed.
        assert_eq!(cell(&analysis, "run_cost", TOTAL_PHASE, "n"), Some(2.0));
        assert_eq!(
            cell(&analysis, "run_cost", TOTAL_PHASE, "failed"),
            Some(1.0)
        );
        assert!(close(
            cell(&analysis, "run_cost", TOTAL_PHASE, "mean"),
            0.02925
        ));
        assert_eq!(analysis.method.warmups_excluded, 1);
    }

    #[test]
    fn run_cost_sums_each_runs_calls_and_projects_them() {
        let dir = dataset();
        let options = AnalyzeOptions {
            per_phase: true,
            ..AnalyzeOptions::default()
        };
        let analysis = analyze(&DatasetReader::new(dir.path()), &options).expect("analysis");
        // r1 $0.0135 and r2 $0.045; r3 unpriced, w a warm-up, f failed.
        assert_eq!(cell(&analysis, "run_cost", TOTAL_PHASE, "n"), Some(2.0));
        assert_eq!(
            cell(&analysis, "run_cost", TOTAL_PHASE, "failed"),
            Some(1.0)
        );
        assert!(close(
            cell(&analysis, "run_cost", TOTAL_PHASE, "mean"),
            0.02925
        ));
        assert!(close(
            cell(&analysis, "run_cost", TOTAL_PHASE, "min"),
            0.0135
        ));
        // Per phase: plan $0.0045 (r1) and $0.045 (r2); build only r1's $0.009.
        assert!(close(cell(&analysis, "run_cost", "plan", "mean"), 0.02475));
        assert_eq!(cell(&analysis, "run_cost", "build", "n"), Some(1.0));
        assert!(close(cell(&analysis, "run_cost", "build", "mean"), 0.009));
        // Calls per run: r1 2, r2 2 (one failed call), r3 1.
        assert_eq!(
            cell(&analysis, "run_llm_calls", TOTAL_PHASE, "n"),
            Some(3.0)
        );
        assert!(close(
            cell(&analysis, "run_llm_calls", TOTAL_PHASE, "mean"),
            5.0 / 3.0
        ));

        let projections = project_costs(&analysis, 10);
        assert_eq!(projections.len(), 1);
        let p = &projections[0];
        assert_eq!(p.runs, 2);
        // $0.02925 a workflow, 10 a day: $0.2925 a day, × 7, × 30, × 365.
        for (actual, expected) in p
            .per_period_usd
            .iter()
            .zip([0.2925, 2.0475, 8.775, 106.7625])
        {
            assert!((actual - expected).abs() < 1e-9, "{actual} vs {expected}");
        }
        assert!(p.ci95_usd.is_some());
    }
}
