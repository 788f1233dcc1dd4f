//! What `runlens analyze` prints: the statistics table with readable units, and the
//! method; CSV and JSON of the same typed rows as data.

use std::fmt::Write as _;

use runlens_analysis::analyze::result::RECORD_FIELDS;
use runlens_analysis::analyze::{Analysis, Statistic};
use runlens_analysis::projections::{PERIODS, Projection};
use runlens_analysis::targets::Judgement;

use crate::error::{ReportError, Result};
use crate::frame::FrameFormat;
use crate::records::{header, keyed, to_csv};
use crate::table::{align_right, new_table};
use crate::units::{format_optional, format_usd, format_value};

/// The method, one line each, as the table's footer.
pub fn method_lines(method: &runlens_analysis::analyze::Method) -> String {
    let m = method;
    let mut out = String::new();
    let _ = writeln!(out, "percentiles: {}", m.quantiles);
    let _ = writeln!(out, "confidence interval: {}", m.confidence_interval);
    let _ = writeln!(
        out,
        "outliers ({}: {}): {} found, {} removed{}",
        m.outlier_rule.name(),
        m.outlier_rule.describe(),
        m.outliers_found,
        m.outliers_removed,
        if m.outliers_dropped {
            ""
        } else {
            " (--drop-outliers removes them)"
        }
    );
    let _ = writeln!(
        out,
        "excluded: {} warm-up observation(s); {} failed observation(s), counted in `failed`",
        m.warmups_excluded, m.failed_excluded
    );
    out
}

/// What `analyze --format json` writes besides the statistics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// Cost projections (a `projections` member, and a table under the statistics).
    pub projections: Option<&'a [Projection]>,
    /// The judgement against targets (a `targets` member, a table under the statistics).
    pub judgement: Option<&'a Judgement>,
}

/// Renders the analysis in `format`: a table with the method below it (and the extras'
/// tables), CSV rows (the statistics only), or JSON `{"method": {...}, "rows": [...],
/// "projections": [...], "targets": {...}}`.
pub fn render_analysis(analysis: &Analysis, format: FrameFormat, extras: Extras) -> Result<String> {
    match format {
        FrameFormat::Table => {
            let mut text = render_table(analysis);
            if let Some(p) = extras.projections.filter(|p| !p.is_empty()) {
                text.push('\n');
                text.push_str(&render_projections(p, &analysis.by));
            }
            if let Some(j) = extras.judgement {
                text.push('\n');
                text.push_str(&render_judgement(j, &analysis.by));
            }
            Ok(text)
        }
        FrameFormat::Csv => render_csv(analysis),
        FrameFormat::Json => {
            let mut value = serde_json::to_value(analysis).map_err(ReportError::Json)?;
            if let Some(p) = extras.projections {
                value["projections"] = projections_json(p, &analysis.by)?;
            }
            if let Some(j) = extras.judgement {
                value["targets"] = judgement_json(j, &analysis.by)?;
            }
            Ok(value.to_string() + "\n")
        }
    }
}

/// The statistics rows as CSV (the `--by` keys first).
fn render_csv(analysis: &Analysis) -> Result<String> {
    let objects = analysis
        .records()
        .map(|r| serde_json::to_value(r).map_err(ReportError::Json))
        .collect::<Result<Vec<_>>>()?;
    to_csv(&header(&analysis.by, &RECORD_FIELDS), &objects)
}

fn render_table(analysis: &Analysis) -> String {
    let mut header: Vec<&str> = analysis.by.iter().map(String::as_str).collect();
    header.extend([
        "phase",
        "metric",
        "n",
        "failed",
        "mean ± σ",
        "p50",
        "p95",
        "p99",
        "min",
        "max",
        "95% CI of mean",
        "outliers",
    ]);
    let mut table = new_table(&header);
    let mut bootstrapped = false;
    for row in &analysis.rows {
        let unit = row.unit();
        let stat = |s| format_optional(row.statistic(s), unit);
        let mut cells: Vec<String> = row
            .keys
            .iter()
            .map(|k| k.clone().unwrap_or_else(|| "—".into()))
            .collect();
        let mean = match row.stddev() {
            Some(sd) => format!("{} ± {}", stat(Statistic::Mean), format_value(sd, unit)),
            None => stat(Statistic::Mean),
        };
        let ci = row
            .ci95()
            .map(|c| {
                let mark = match c.method {
                    runlens_analysis::stats::IntervalMethod::StudentT => "",
                    _ => {
                        bootstrapped = true;
                        " *"
                    }
                };
                format!(
                    "{} … {}{mark}",
                    format_value(c.low, unit),
                    format_value(c.high, unit)
                )
            })
            .unwrap_or_default();
        let outliers = match row.outliers_removed {
            0 => row.outliers.to_string(),
            removed => format!("{} ({removed} removed)", row.outliers),
        };
        cells.extend([
            row.phase.clone(),
            row.metric.name.to_string(),
            row.n.to_string(),
            row.failed.to_string(),
            mean,
            stat(Statistic::P50),
            stat(Statistic::P95),
            stat(Statistic::P99),
            stat(Statistic::Min),
            stat(Statistic::Max),
            ci,
            outliers,
        ]);
        table.add_row(cells);
    }
    let first_number = analysis.by.len() + 2;
    align_right(
        &mut table,
        &(first_number..header.len()).collect::<Vec<_>>(),
    );
    let mut out = format!("{table}\n{}", method_lines(&analysis.method));
    if bootstrapped {
        out.push_str("* percentile bootstrap of the mean (the t interval would go below 0)\n");
    }
    out
}

/// The cost projections: per group, the mean cost of one workflow (a recorded run) and
/// what that comes to per day, week, month and year.
pub fn render_projections(projections: &[Projection], keys: &[String]) -> String {
    let Some(first) = projections.first() else {
        return String::new();
    };
    let mut header: Vec<&str> = keys.iter().map(String::as_str).collect();
    header.extend(["runs", "per workflow", "95% CI"]);
    let periods: Vec<String> = PERIODS
        .iter()
        .map(|(name, _)| format!("per {name}"))
        .collect();
    header.extend(periods.iter().map(String::as_str));
    let mut table = new_table(&header);
    for p in projections {
        let mut row: Vec<String> = p
            .keys
            .iter()
            .map(|k| k.clone().unwrap_or_else(|| "—".into()))
            .collect();
        row.push(p.runs.to_string());
        row.push(format_usd(p.cost_per_run_usd));
        row.push(
            p.ci95_usd
                .map(|(low, high)| format!("{} … {}", format_usd(low), format_usd(high)))
                .unwrap_or_default(),
        );
        row.extend(p.per_period_usd.iter().map(|v| format_usd(*v)));
        table.add_row(row);
    }
    align_right(&mut table, &(keys.len()..header.len()).collect::<Vec<_>>());
    format!(
        "cost projection at {} workflows a day (a month is 30 days, a year 365):\n{table}\n",
        first.workflows_per_day
    )
}

/// The projections as JSON (the `projections` member of `analyze --format json`).
pub fn projections_json(projections: &[Projection], keys: &[String]) -> Result<serde_json::Value> {
    #[derive(serde::Serialize)]
    struct Row {
        runs: u64,
        workflows_per_day: u64,
        cost_per_run_usd: f64,
        ci95_low_usd: Option<f64>,
        ci95_high_usd: Option<f64>,
        #[serde(flatten)]
        per_period: serde_json::Map<String, serde_json::Value>,
    }
    let rows = projections
        .iter()
        .map(|p| {
            let per_period = PERIODS
                .iter()
                .zip(p.per_period_usd)
                .map(|((name, _), v)| (format!("per_{name}_usd"), serde_json::json!(v)))
                .collect();
            let row = Row {
                runs: p.runs,
                workflows_per_day: p.workflows_per_day,
                cost_per_run_usd: p.cost_per_run_usd,
                ci95_low_usd: p.ci95_usd.map(|c| c.0),
                ci95_high_usd: p.ci95_usd.map(|c| c.1),
                per_period,
            };
            keyed(keys, &p.keys, &row)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::Value::Array(rows))
}

/// The targets table and the overall verdict.
pub fn render_judgement(judgement: &Judgement, keys: &[String]) -> String {
    let mut header: Vec<&str> = keys.iter().map(String::as_str).collect();
    header.extend([
        "metric",
        "phase",
        "statistic",
        "actual",
        "target",
        "acceptable",
        "status",
        "margin",
        "grade",
    ]);
    let mut table = new_table(&header);
    for v in &judgement.verdicts {
        let mut row: Vec<String> = v
            .group
            .iter()
            .map(|g| g.clone().unwrap_or_else(|| "—".into()))
            .collect();
        row.extend([
            v.metric.clone(),
            v.phase.clone(),
            v.statistic.clone(),
            format_optional(v.actual, v.unit),
            format_value(v.target, v.unit),
            format_value(v.acceptable, v.unit),
            v.status.label().to_string(),
            v.margin.clone(),
            v.grade.unwrap_or("").to_string(),
        ]);
        table.add_row(row);
    }
    let first = keys.len() + 3;
    align_right(&mut table, &[first, first + 1, first + 2]);
    let mut out = format!("{table}\n");
    if judgement.passed {
        out.push_str("OVERALL: PASS\n");
    } else {
        let _ = writeln!(out, "OVERALL: FAIL");
        for reason in &judgement.reasons {
            let _ = writeln!(out, "  - {reason}");
        }
    }
    out
}

/// The judgement as JSON (the `targets` member of `analyze --format json`).
pub fn judgement_json(judgement: &Judgement, keys: &[String]) -> Result<serde_json::Value> {
    let verdicts = judgement
        .verdicts
        .iter()
        .map(|v| keyed(keys, &v.group, v))
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({
        "passed": judgement.passed,
        "reasons": judgement.reasons,
        "verdicts": verdicts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use runlens_analysis::analyze::{Method, StatRow};
    use runlens_analysis::catalogue;
    use runlens_analysis::stats::{Describe, Interval, IntervalMethod, OutlierRule, Summary};

    #[allow(clippy::too_many_arguments)]
    fn row(
        provider: Option<&str>,
        phase: &str,
        metric: &str,
        n: usize,
        failed: usize,
        d: (f64, Option<f64>, f64, f64),
        p: (f64, f64, f64),
        ci: Option<(f64, f64, IntervalMethod)>,
        outliers: (usize, usize),
    ) -> StatRow {
        StatRow {
            keys: vec![provider.map(str::to_string)],
            phase: phase.into(),
            metric: catalogue::find(metric).expect("metric"),
            n,
            failed,
            summary: Some(Summary {
                describe: Describe {
                    count: n,
                    mean: d.0,
                    stddev: d.1,
                    min: d.2,
                    max: d.3,
                },
                p50: p.0,
                p95: p.1,
                p99: p.2,
                ci95: ci.map(|(low, high, method)| Interval { low, high, method }),
            }),
            outliers: outliers.0,
            outliers_removed: outliers.1,
        }
    }

    fn sample() -> Analysis {
        let mut method = Method::new(OutlierRule::Iqr, true);
        method.outliers_found = 1;
        method.outliers_removed = 1;
        method.warmups_excluded = 1;
        method.failed_excluded = 1;
        Analysis {
            by: vec!["provider".into()],
            rows: vec![
                row(
                    Some("ollama"),
                    "(total)",
                    "wall_time",
                    3,
                    1,
                    (301_933.3, Some(3_655.6), 298_700.0, 305_900.0),
                    (301_200.0, 305_430.0, 305_806.0),
                    Some((292_852.3, 311_014.3, IntervalMethod::StudentT)),
                    (0, 0),
                ),
                row(
                    Some("ollama"),
                    "Analysis",
                    "phase_time",
                    3,
                    0,
                    (1_250.5, Some(20.25), 1_230.0, 1_271.0),
                    (1_250.5, 1_269.0, 1_270.6),
                    Some((1_200.2, 1_300.8, IntervalMethod::StudentT)),
                    (1, 1),
                ),
                row(
                    Some("anthropic"),
                    "(total)",
                    "run_cost",
                    2,
                    0,
                    (0.02925, Some(0.0223), 0.0135, 0.045),
                    (0.02925, 0.0434, 0.0447),
                    Some((0.0135, 0.045, IntervalMethod::Bootstrap)),
                    (0, 0),
                ),
                row(
                    None,
                    "(total)",
                    "peak_memory",
                    1,
                    0,
                    (1_073_741_824.0, None, 1_073_741_824.0, 1_073_741_824.0),
                    (1_073_741_824.0, 1_073_741_824.0, 1_073_741_824.0),
                    None,
                    (0, 0),
                ),
            ],
            method,
        }
    }

    #[test]
    fn table_with_units_and_method() {
        insta::assert_snapshot!(
            render_analysis(&sample(), FrameFormat::Table, Extras::default()).expect("table")
        );
    }

    #[test]
    fn json_has_the_method_and_the_rows() {
        let text = render_analysis(&sample(), FrameFormat::Json, Extras::default()).expect("json");
        insta::assert_snapshot!(text);
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid json");
        assert_eq!(value["rows"].as_array().map(Vec::len), Some(4));
        assert_eq!(value["method"]["outlier_rule"], "iqr");
        assert_eq!(value["rows"][2]["unit"], "usd");
        assert_eq!(value["rows"][2]["ci95_method"], "bootstrap");
        assert_eq!(value["rows"][0]["provider"], "ollama");
    }

    #[test]
    fn projections_table_and_json() {
        let projections = [Projection {
            keys: vec![Some("anthropic".into())],
            runs: 2,
            cost_per_run_usd: 0.02925,
            ci95_usd: Some((0.0135, 0.045)),
            workflows_per_day: 10,
            per_period_usd: [0.2925, 2.0475, 8.775, 106.7625],
        }];
        let keys = ["provider".to_string()];
        insta::assert_snapshot!(render_projections(&projections, &keys));
        let json = projections_json(&projections, &keys).expect("json");
        assert_eq!(json[0]["per_year_usd"], 106.7625);
        assert_eq!(json[0]["provider"], "anthropic");
        assert_eq!(render_projections(&[], &keys), "");
    }

    #[test]
    fn csv_is_the_rows() {
        insta::assert_snapshot!(
            render_analysis(&sample(), FrameFormat::Csv, Extras::default()).expect("csv")
        );
    }
}
