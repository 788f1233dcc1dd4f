//! What `runlens compare` prints.

use std::fmt::Write as _;

use runlens_analysis::compare::{ALPHA, BOOTSTRAP_ROUNDS, Comparison, SpeedupClaim};

use crate::table::{align_right, new_table};
use crate::units::{format_bytes, format_duration_ms};

fn readable(v: f64, unit: &str) -> String {
    match unit {
        "ms" => format_duration_ms(v),
        "bytes" => format_bytes(v.round() as i64),
        "tokens/s" => format!("{v:.1}/s"),
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

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
            r.metric.clone(),
            r.phase.clone(),
            format!(
                "{} (n={})",
                readable(r.baseline_median, &r.unit),
                r.baseline_n
            ),
            format!(
                "{} (n={})",
                readable(r.candidate_median, &r.unit),
                r.candidate_n
            ),
            r.ratio.map(|x| format!("{x:.3}")).unwrap_or_default(),
            match (r.ratio_ci95_low, r.ratio_ci95_high) {
                (Some(a), Some(b)) => format!("{a:.3} … {b:.3}"),
                _ => String::new(),
            },
            r.p_value.map(|p| format!("{p:.4}")).unwrap_or_default(),
            r.verdict.clone(),
        ]);
    }
    align_right(&mut t, &[2, 3, 4, 5, 6]);
    let mut out = format!("{t}\n{}\n", method_line(threshold));
    if rows.is_empty() {
        out.push_str("no metric was measured by both groups\n");
    }
    let worse: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict == "worse")
        .map(|r| r.metric.as_str())
        .collect();
    if !worse.is_empty() {
        let _ = writeln!(out, "REGRESSION: {}", worse.join(", "));
    }
    if let Some(c) = claim {
        let _ = writeln!(out, "{}", claim_line(c));
    }
    out
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
        let rows = vec![Comparison {
            metric: "wall_time".into(),
            phase: "(total)".into(),
            unit: "ms".into(),
            baseline_n: 9,
            baseline_median: 100_000.0,
            candidate_n: 9,
            candidate_median: 120_000.0,
            ratio: Some(1.2),
            ratio_ci95_low: Some(1.18),
            ratio_ci95_high: Some(1.22),
            p_value: Some(0.0004),
            verdict: "worse".into(),
        }];
        let claim = SpeedupClaim {
            metric: "wall_time".into(),
            expected: 10.0,
            measured: Some(0.83),
            ci95: Some((0.82, 0.85)),
            holds: false,
        };
        insta::assert_snapshot!(render_table(&rows, Some(&claim), 0.05));
    }
}
