//! What `runlens compare` prints.

use std::fmt::Write as _;

use runlens_analysis::compare::{ALPHA, BOOTSTRAP_ROUNDS, Change, Comparison, SpeedupClaim};

use crate::error::{ReportError, Result};
use crate::records::{header, keyed, to_csv};
use crate::table::{align_right, new_table};
use crate::units::format_value;

/// The method line under the table.
pub fn method_line(threshold: f64) -> String {
    format!(
        "ratio = candidate median / baseline median, 95 % CI from {BOOTSTRAP_ROUNDS} seeded \
         bootstrap resamples; p = two-sided Mann-Whitney U; a verdict needs p < {ALPHA} and a \
         change above {:.1} %",
        threshold * 100.0
    )
}

/// The comparison table, the method, and the claim's answer.
pub fn render_table(rows: &[Comparison], claim: Option<&SpeedupClaim>, threshold: f64) -> String {
    let mut t = new_table(&[
        "metric",
        "phase",
        "baseline",
        "candidate",
        "ratio",
        "95% CI of ratio",
        "p",
        "verdict",
    ]);
    for r in rows {
        t.add_row(vec![
            r.metric.name.to_string(),
            r.phase.clone(),
            format!(
                "{} (n={})",
                format_value(r.baseline_median, r.unit),
                r.baseline_n
            ),
            format!(
                "{} (n={})",
                format_value(r.candidate_median, r.unit),
                r.candidate_n
            ),
            r.ratio.map(|x| format!("{x:.3}")).unwrap_or_default(),
            match (r.ratio_ci95_low, r.ratio_ci95_high) {
                (Some(a), Some(b)) => format!("{a:.3} … {b:.3}"),
                _ => String::new(),
            },
            r.p_value.map(|p| format!("{p:.4}")).unwrap_or_default(),
            r.verdict.label().to_string(),
        ]);
    }
    align_right(&mut t, &[2, 3, 4, 5, 6]);
    let mut out = format!("{t}\n{}\n", method_line(threshold));
    if rows.is_empty() {
        out.push_str("no metric was measured by both groups\n");
    }
    let worse: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict == Change::Worse)
        .map(|r| r.metric.name)
        .collect();
    if !worse.is_empty() {
        let _ = writeln!(out, "REGRESSION: {}", worse.join(", "));
    }
    if let Some(c) = claim {
        let _ = writeln!(out, "{}", claim_line(c));
    }
    out
}

/// The fields of a CSV row, in order.
const CSV_FIELDS: [&str; 13] = [
    "metric",
    "phase",
    "unit",
    "direction",
    "baseline_n",
    "baseline_median",
    "candidate_n",
    "candidate_median",
    "ratio",
    "ratio_ci95_low",
    "ratio_ci95_high",
    "p_value",
    "verdict",
];

/// The comparison rows as JSON objects (each with its metric's `direction`): one shape for
/// `runlens compare` and the release comparison report.
pub fn comparison_objects(rows: &[Comparison]) -> Result<Vec<serde_json::Value>> {
    rows.iter()
        .map(|r| {
            let mut object = keyed(&[], &[], r)?;
            object["direction"] = r.metric.direction.name().into();
            Ok(object)
        })
        .collect()
}

/// The comparison as JSON: threshold, method, rows and the claim's answer.
pub fn render_json(
    rows: &[Comparison],
    claim: Option<&SpeedupClaim>,
    threshold: f64,
) -> Result<String> {
    let value = serde_json::json!({
        "threshold": threshold,
        "method": method_line(threshold),
        "rows": comparison_objects(rows)?,
        "speedup": claim,
    });
    Ok(serde_json::to_string_pretty(&value).map_err(ReportError::Json)? + "\n")
}

/// The comparison rows as CSV.
pub fn render_csv(rows: &[Comparison]) -> Result<String> {
    to_csv(&header(&[], &CSV_FIELDS), &comparison_objects(rows)?)
}

/// The answer to a claimed speed-up, with the evidence.
pub fn claim_line(c: &SpeedupClaim) -> String {
    match c.measured {
        Some(m) => format!(
            "claim {}x faster on {}: {} (measured {m:.2}x{})",
            c.expected,
            c.metric,
            if c.holds { "TRUE" } else { "FALSE" },
            c.ci95
                .map(|(a, b)| format!(", 95 % CI {a:.2}x … {b:.2}x"))
                .unwrap_or_default()
        ),
        None => format!(
            "claim {}x faster on {}: FALSE (not measured by both groups)",
            c.expected, c.metric
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_claim() {
        let wall = runlens_analysis::catalogue::find("wall_time").expect("metric");
        let cost = runlens_analysis::catalogue::find("run_cost").expect("metric");
        let mut rows = vec![Comparison {
            metric: wall,
            phase: "(total)".into(),
            unit: wall.unit,
            baseline_n: 9,
            baseline_median: 100_000.0,
            candidate_n: 9,
            candidate_median: 120_000.0,
            ratio: Some(1.2),
            ratio_ci95_low: Some(1.18),
            ratio_ci95_high: Some(1.22),
            p_value: Some(0.0004),
            verdict: Change::Worse,
        }];
        rows.push(Comparison {
            metric: cost,
            unit: cost.unit,
            baseline_median: 0.0135,
            candidate_median: 0.012,
            ratio: Some(0.889),
            verdict: Change::NoSignificantDifference,
            ..rows[0].clone()
        });
        let claim = SpeedupClaim {
            metric: "wall_time".into(),
            expected: 10.0,
            measured: Some(0.83),
            ci95: Some((0.82, 0.85)),
            holds: false,
        };
        insta::assert_snapshot!(render_table(&rows, Some(&claim), 0.05));
        let csv = render_csv(&rows).expect("csv");
        assert!(csv.starts_with("metric,phase,unit,direction,"), "{csv}");
        assert!(
            csv.contains("\nrun_cost,(total),usd,lower_is_better,9,0.0135,"),
            "{csv}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&rows, Some(&claim), 0.05).expect("json"))
                .expect("valid");
        assert_eq!(json["rows"][0]["metric"], "wall_time");
        assert_eq!(json["rows"][0]["verdict"], "worse");
    }
}
