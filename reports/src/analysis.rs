//! What `runlens analyze` prints: the statistics table with readable units, and the
//! method; CSV and JSON of the same rows as data.

use std::fmt::Write as _;

use runlens_analysis::analyze::Analysis;
use runlens_analysis::projections::{PERIODS, Projection};

use crate::error::Result;
use crate::frame::{FrameFormat, render_frame};
use crate::prices::format_usd;
use crate::table::{align_right, new_table};
use crate::units::{format_bytes, format_duration_ms};

/// A value in its metric's unit, readable.
fn readable(value: Option<f64>, unit: &str) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return String::new();
    };
    match unit {
        "ms" => format_duration_ms(v),
        "bytes" => format_bytes(v.round() as i64),
        "tokens/s" => format!("{v:.1}/s"),
        "usd" => crate::prices::format_usd(v),
        _ if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        _ => format!("{v:.1}"),
    }
}

/// The method, one line each, as the table's footer.
pub fn method_lines(analysis: &Analysis) -> String {
    let m = &analysis.method;
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

/// Renders the analysis in `format`: a table with the method below it, CSV rows, or JSON
/// `{"method": {...}, "rows": [...]}`.
pub fn render_analysis(analysis: &Analysis, format: FrameFormat) -> Result<String> {
    match format {
        FrameFormat::Table => Ok(render_table(analysis)),
        FrameFormat::Csv => render_frame(&mut analysis.frame.clone(), FrameFormat::Csv),
        FrameFormat::Json => {
            let rows = render_frame(&mut analysis.frame.clone(), FrameFormat::Json)?;
            let m = &analysis.method;
            let method = serde_json::json!({
                "quantiles": m.quantiles,
                "confidence_interval": m.confidence_interval,
                "outlier_rule": m.outlier_rule.name(),
                "outliers_dropped": m.outliers_dropped,
                "outliers_found": m.outliers_found,
                "outliers_removed": m.outliers_removed,
                "warmups_excluded": m.warmups_excluded,
                "failed_excluded": m.failed_excluded,
            });
            Ok(format!(
                "{{\"method\": {method}, \"rows\": {}}}\n",
                rows.trim_end()
            ))
        }
    }
}

fn render_table(analysis: &Analysis) -> String {
    let df = &analysis.frame;
    let fixed = [
        "phase",
        "metric",
        "unit",
        "n",
        "failed",
        "mean",
        "stddev",
        "min",
        "max",
        "p50",
        "p95",
        "p99",
        "ci95_low",
        "ci95_high",
        "outliers",
        "outliers_removed",
    ];
    let keys: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| !fixed.contains(&n.as_str()))
        .collect();
    let mut header: Vec<&str> = keys.iter().map(String::as_str).collect();
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
    let text = |name: &str, i: usize| runlens_analysis::cells::text(df, name, i);
    let number = |name: &str, i: usize| runlens_analysis::cells::number(df, name, i);
    for i in 0..df.height() {
        let unit = text("unit", i).unwrap_or_default();
        let r = |name: &str| readable(number(name, i), &unit);
        let mut row: Vec<String> = keys
            .iter()
            .map(|k| text(k, i).unwrap_or_else(|| "—".into()))
            .collect();
        let mean = match number("stddev", i) {
            Some(_) => format!("{} ± {}", r("mean"), r("stddev")),
            None => r("mean"),
        };
        let ci = match (number("ci95_low", i), number("ci95_high", i)) {
            (Some(_), Some(_)) => format!("{} … {}", r("ci95_low"), r("ci95_high")),
            _ => String::new(),
        };
        let outliers = match (number("outliers", i), number("outliers_removed", i)) {
            (Some(o), Some(rm)) if rm > 0.0 => format!("{o} ({rm} removed)"),
            (Some(o), _) => format!("{o}"),
            _ => String::new(),
        };
        row.extend([
            text("phase", i).unwrap_or_default(),
            text("metric", i).unwrap_or_default(),
            text("n", i).unwrap_or_default(),
            text("failed", i).unwrap_or_default(),
            mean,
            r("p50"),
            r("p95"),
            r("p99"),
            r("min"),
            r("max"),
            ci,
            outliers,
        ]);
        table.add_row(row);
    }
    let first_number = keys.len() + 2;
    align_right(
        &mut table,
        &(first_number..header.len()).collect::<Vec<_>>(),
    );
    format!("{table}\n{}", method_lines(analysis))
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
pub fn projections_json(projections: &[Projection], keys: &[String]) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = projections
        .iter()
        .map(|p| {
            let mut obj = serde_json::Map::new();
            for (k, g) in keys.iter().zip(&p.keys) {
                obj.insert(k.clone(), serde_json::json!(g));
            }
            obj.insert("runs".into(), serde_json::json!(p.runs));
            obj.insert(
                "workflows_per_day".into(),
                serde_json::json!(p.workflows_per_day),
            );
            obj.insert(
                "cost_per_run_usd".into(),
                serde_json::json!(p.cost_per_run_usd),
            );
            obj.insert(
                "ci95_low_usd".into(),
                serde_json::json!(p.ci95_usd.map(|c| c.0)),
            );
            obj.insert(
                "ci95_high_usd".into(),
                serde_json::json!(p.ci95_usd.map(|c| c.1)),
            );
            for ((name, _), value) in PERIODS.iter().zip(p.per_period_usd) {
                obj.insert(format!("per_{name}_usd"), serde_json::json!(value));
            }
            serde_json::Value::Object(obj)
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// The targets table and the overall verdict.
pub fn render_judgement(
    judgement: &runlens_analysis::targets::Judgement,
    keys: &[String],
) -> String {
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
            readable(v.actual, &v.unit),
            readable(Some(v.target), &v.unit),
            readable(Some(v.acceptable), &v.unit),
            v.status.to_string(),
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
pub fn judgement_json(
    judgement: &runlens_analysis::targets::Judgement,
    keys: &[String],
) -> serde_json::Value {
    let verdicts: Vec<serde_json::Value> = judgement
        .verdicts
        .iter()
        .map(|v| {
            let mut obj = serde_json::Map::new();
            for (k, g) in keys.iter().zip(&v.group) {
                obj.insert(k.clone(), serde_json::json!(g));
            }
            obj.insert("metric".into(), serde_json::json!(v.metric));
            obj.insert("phase".into(), serde_json::json!(v.phase));
            obj.insert("statistic".into(), serde_json::json!(v.statistic));
            obj.insert("unit".into(), serde_json::json!(v.unit));
            obj.insert("actual".into(), serde_json::json!(v.actual));
            obj.insert("target".into(), serde_json::json!(v.target));
            obj.insert("acceptable".into(), serde_json::json!(v.acceptable));
            obj.insert("status".into(), serde_json::json!(v.status));
            obj.insert("margin".into(), serde_json::json!(v.margin));
            obj.insert("grade".into(), serde_json::json!(v.grade));
            serde_json::Value::Object(obj)
        })
        .collect();
    serde_json::json!({
        "passed": judgement.passed,
        "reasons": judgement.reasons,
        "verdicts": verdicts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;
    use runlens_analysis::analyze::Method;
    use runlens_analysis::stats::OutlierRule;

    fn sample() -> Analysis {
        let frame = df!(
            "provider" => [Some("ollama"), Some("ollama"), None],
            "phase" => ["(total)", "Analysis", "(total)"],
            "metric" => ["wall_time", "phase_time", "peak_memory"],
            "unit" => ["ms", "ms", "bytes"],
            "n" => [3u64, 3, 1],
            "failed" => [1u64, 0, 0],
            "mean" => [Some(301_933.3), Some(1_250.5), Some(1_073_741_824.0)],
            "stddev" => [Some(3_655.6), Some(20.25), None],
            "min" => [Some(298_700.0), Some(1_230.0), Some(1_073_741_824.0)],
            "max" => [Some(305_900.0), Some(1_271.0), Some(1_073_741_824.0)],
            "p50" => [Some(301_200.0), Some(1_250.5), Some(1_073_741_824.0)],
            "p95" => [Some(305_430.0), Some(1_269.0), Some(1_073_741_824.0)],
            "p99" => [Some(305_806.0), Some(1_270.6), Some(1_073_741_824.0)],
            "ci95_low" => [Some(292_852.3), Some(1_200.2), None],
            "ci95_high" => [Some(311_014.3), Some(1_300.8), None],
            "outliers" => [0u64, 1, 0],
            "outliers_removed" => [0u64, 1, 0]
        )
        .expect("frame");
        Analysis {
            frame,
            method: Method {
                quantiles: "linear interpolation between order statistics (numpy default, type 7)",
                confidence_interval: "95 % CI of the mean, Student's t with n - 1 degrees of freedom",
                outlier_rule: OutlierRule::Iqr,
                outliers_dropped: true,
                outliers_found: 1,
                outliers_removed: 1,
                warmups_excluded: 1,
                failed_excluded: 1,
            },
        }
    }

    #[test]
    fn table_with_units_and_method() {
        insta::assert_snapshot!(render_analysis(&sample(), FrameFormat::Table).expect("table"));
    }

    #[test]
    fn json_has_the_method_and_the_rows() {
        let text = render_analysis(&sample(), FrameFormat::Json).expect("json");
        insta::assert_snapshot!(text);
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid json");
        assert_eq!(value["rows"].as_array().map(Vec::len), Some(3));
        assert_eq!(value["method"]["outlier_rule"], "iqr");
    }

    #[test]
    fn projections_table_and_json() {
        let projections = [Projection {
            keys: vec![Some("anthropic".into())],
            runs: 2,
            cost_per_run_usd: 0.02925,
            ci95_usd: Some((-0.336, 0.394)),
            workflows_per_day: 10,
            per_period_usd: [0.2925, 2.0475, 8.775, 106.7625],
        }];
        let keys = ["provider".to_string()];
        insta::assert_snapshot!(render_projections(&projections, &keys));
        let json = projections_json(&projections, &keys);
        assert_eq!(json[0]["per_year_usd"], 106.7625);
        assert_eq!(json[0]["provider"], "anthropic");
        assert_eq!(render_projections(&[], &keys), "");
    }

    #[test]
    fn csv_is_the_rows() {
        insta::assert_snapshot!(render_analysis(&sample(), FrameFormat::Csv).expect("csv"));
    }
}
