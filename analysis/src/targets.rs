//! Targets (`analyze --targets FILE.toml`): each metric's figure against a target and an
//! acceptable bound, as PASS / ACCEPTABLE / FAIL with the margin, optional grades, and an
//! overall verdict that fails loudly when a workflow "passed" without doing its work.
//!
//! ```toml
//! [[target]]
//! metric = "wall_time"        # an analyze metric
//! phase = "Analysis"          # optional; default the (total) row
//! statistic = "mean"          # mean (default; min for at_least), p50, p95, p99, max, min
//! target = "300 s"            # in the metric's unit, or with one: ms s min, B KiB MiB GiB
//! acceptable = "420 s"        # optional; default = target
//! grades = { excellent = "200 s", good = "300 s" }   # optional
//!
//! [[target]]
//! metric = "tool_calls"
//! at_least = 1                # a floor: every observation (the min) at or above it
//! ```
//!
//! Lower is better unless the metric is `output_tokens_per_s`, `tool_calls` or `outputs`,
//! or the target is written `at_least`. Every group of the analysis is judged on every
//! target. Overall: FAIL when any cell fails, when a target's metric was not measured, or
//! (whatever the targets say) when the analysed sessions made no tool call at all or runs
//! missed expected outputs.

use serde::Deserialize;

use crate::analyze::{Analysis, TOTAL_PHASE};

/// A number with an optional unit, as written in the file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Amount {
    /// A bare number, in the metric's unit.
    Number(f64),
    /// A number with a unit: `300 s`, `1 GiB`.
    Text(String),
}

/// Grade bands (lower-is-better metrics: at or below `excellent`, then `good`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Grades {
    /// Bound of "excellent".
    pub excellent: Amount,
    /// Bound of "good"; above it "needs work".
    pub good: Amount,
}

/// One target as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Metric name.
    pub metric: String,
    /// Phase (default: the total).
    pub phase: Option<String>,
    /// Statistic judged (default: mean; min for `at_least`).
    pub statistic: Option<String>,
    /// The target.
    pub target: Option<Amount>,
    /// The acceptable bound.
    pub acceptable: Option<Amount>,
    /// A floor: at least this much.
    pub at_least: Option<Amount>,
    /// Grade bands.
    pub grades: Option<Grades>,
}

#[derive(Deserialize)]
struct TargetsFile {
    #[serde(default)]
    target: Vec<TargetSpec>,
}

/// One judged cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Group key values of the row (as in the analysis).
    pub group: Vec<Option<String>>,
    /// Metric.
    pub metric: String,
    /// Phase.
    pub phase: String,
    /// Statistic judged.
    pub statistic: String,
    /// Unit.
    pub unit: String,
    /// The measured figure (None: not measured).
    pub actual: Option<f64>,
    /// Target, in the unit.
    pub target: f64,
    /// Acceptable bound, in the unit.
    pub acceptable: f64,
    /// `PASS`, `ACCEPTABLE` or `FAIL`.
    pub status: &'static str,
    /// How far from the target: "46 % under target".
    pub margin: String,
    /// Grade, when bands were given.
    pub grade: Option<&'static str>,
}

/// All verdicts and the overall one.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// One per target and group.
    pub verdicts: Vec<Verdict>,
    /// Whether everything passed (ACCEPTABLE counts as passing).
    pub passed: bool,
    /// Why it failed, loudest first.
    pub reasons: Vec<String>,
}

/// Whether any target names a phase (the analysis then needs per-phase rows).
pub fn needs_phases(targets: &[TargetSpec]) -> bool {
    targets
        .iter()
        .any(|t| t.phase.as_deref().is_some_and(|p| p != TOTAL_PHASE))
}

/// Reads a targets file.
pub fn parse_targets(text: &str) -> Result<Vec<TargetSpec>, String> {
    let file: TargetsFile = toml::from_str(text).map_err(|e| e.to_string())?;
    if file.target.is_empty() {
        return Err("no [[target]] entry".into());
    }
    for t in &file.target {
        if t.target.is_none() && t.at_least.is_none() {
            return Err(format!(
                "target for {}: needs `target` or `at_least`",
                t.metric
            ));
        }
    }
    Ok(file.target)
}

/// Converts an amount to `unit` (`ms`, `bytes`, or anything else taken as is).
pub fn to_unit(amount: &Amount, unit: &str) -> Result<f64, String> {
    let text = match amount {
        Amount::Number(n) => return Ok(*n),
        Amount::Text(t) => t.trim(),
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-'))
        .unwrap_or(text.len());
    let number: f64 = text[..split]
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with an optional unit"))?;
    let suffix = text[split..].trim().to_ascii_lowercase();
    let factor = match (unit, suffix.as_str()) {
        (_, "") => 1.0,
        ("ms", "ms") => 1.0,
        ("ms", "s") => 1000.0,
        ("ms", "min") => 60_000.0,
        ("bytes", "b") => 1.0,
        ("bytes", "kib") => 1024.0,
        ("bytes", "mib") => 1024.0 * 1024.0,
        ("bytes", "gib") => 1024.0 * 1024.0 * 1024.0,
        ("bytes", "kb") => 1e3,
        ("bytes", "mb") => 1e6,
        ("bytes", "gb") => 1e9,
        (_, s) if s == unit || (unit == "usd" && s == "usd") => 1.0,
        (u, s) => return Err(format!("{text:?}: unit {s:?} does not fit a metric in {u}")),
    };
    Ok(number * factor)
}

fn higher_is_better(metric: &str) -> bool {
    matches!(metric, "output_tokens_per_s" | "tool_calls" | "outputs")
}

/// Judges `analysis` against `targets`.
pub fn judge(
    analysis: &Analysis,
    targets: &[TargetSpec],
    keys: &[String],
) -> Result<Judgement, String> {
    let df = &analysis.frame;
    let text = |name: &str, i: usize| crate::cells::text(df, name, i);
    let number = |name: &str, i: usize| crate::cells::number(df, name, i);
    let mut verdicts = Vec::new();
    let mut reasons = Vec::new();
    for spec in targets {
        let phase = spec
            .phase
            .clone()
            .unwrap_or_else(|| TOTAL_PHASE.to_string());
        // A floor holds for every observation: judged on the minimum unless told otherwise.
        let statistic = spec.statistic.clone().unwrap_or_else(|| {
            if spec.at_least.is_some() {
                "min"
            } else {
                "mean"
            }
            .into()
        });
        if !["mean", "p50", "p95", "p99", "max", "min"].contains(&statistic.as_str()) {
            return Err(format!(
                "target for {}: unknown statistic {statistic:?}",
                spec.metric
            ));
        }
        let rows: Vec<usize> = (0..df.height())
            .filter(|&i| {
                text("metric", i).as_deref() == Some(spec.metric.as_str())
                    && text("phase", i).as_deref() == Some(phase.as_str())
            })
            .collect();
        let unit = rows
            .first()
            .and_then(|&i| text("unit", i))
            .unwrap_or_else(|| unit_of(&spec.metric).to_string());
        let floor = spec.at_least.is_some();
        let higher = floor || higher_is_better(&spec.metric);
        let target_amount = spec
            .target
            .as_ref()
            .or(spec.at_least.as_ref())
            .ok_or("target")?;
        let target = to_unit(target_amount, &unit)?;
        let acceptable = match &spec.acceptable {
            Some(a) => to_unit(a, &unit)?,
            None => target,
        };
        let grades = match &spec.grades {
            Some(g) => Some((to_unit(&g.excellent, &unit)?, to_unit(&g.good, &unit)?)),
            None => None,
        };
        if rows.is_empty() {
            reasons.push(format!("{} ({phase}) was not measured", spec.metric));
            verdicts.push(Verdict {
                group: vec![None; keys.len()],
                metric: spec.metric.clone(),
                phase: phase.clone(),
                statistic: statistic.clone(),
                unit: unit.clone(),
                actual: None,
                target,
                acceptable,
                status: "FAIL",
                margin: "not measured".into(),
                grade: None,
            });
            continue;
        }
        for &i in &rows {
            let actual = number(&statistic, i);
            let (status, margin) = match actual {
                None => ("FAIL", "not measured".to_string()),
                Some(a) => {
                    let ok = |bound: f64| if higher { a >= bound } else { a <= bound };
                    let status = if ok(target) {
                        "PASS"
                    } else if ok(acceptable) {
                        "ACCEPTABLE"
                    } else {
                        "FAIL"
                    };
                    (status, margin_text(a, target))
                }
            };
            let grade = match (grades, actual) {
                (Some((excellent, good)), Some(a)) => Some(
                    if (higher && a >= excellent) || (!higher && a <= excellent) {
                        "excellent"
                    } else if (higher && a >= good) || (!higher && a <= good) {
                        "good"
                    } else {
                        "needs work"
                    },
                ),
                _ => None,
            };
            let group: Vec<Option<String>> = keys.iter().map(|k| text(k, i)).collect();
            if status == "FAIL" {
                let who = group
                    .iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                let place = match (phase.as_str(), who.is_empty()) {
                    (TOTAL_PHASE, true) => String::new(),
                    (TOTAL_PHASE, false) => format!(" [{who}]"),
                    (p, true) => format!(" [{p}]"),
                    (p, false) => format!(" [{who}, {p}]"),
                };
                let bound = if higher { "at least" } else { "at most" };
                reasons.push(match actual {
                    Some(a) => format!(
                        "{}{place}: {statistic} {a} {unit}, acceptable is {bound} {acceptable} {unit}",
                        spec.metric
                    ),
                    None => format!("{}{place}: {statistic} was not measured", spec.metric),
                });
            }
            verdicts.push(Verdict {
                group,
                metric: spec.metric.clone(),
                phase: phase.clone(),
                statistic: statistic.clone(),
                unit: unit.clone(),
                actual,
                target,
                acceptable,
                status,
                margin,
                grade,
            });
        }
    }
    // Whatever the targets: a run that did not do its work fails.
    for i in 0..df.height() {
        let metric = text("metric", i);
        let is_total = text("phase", i).as_deref() == Some(TOTAL_PHASE);
        if is_total && metric.as_deref() == Some("tool_calls") && number("max", i) == Some(0.0) {
            reasons.insert(0, "NO TOOL CALLS: no analysed session called a tool".into());
        }
        if is_total && metric.as_deref() == Some("outputs") && number("min", i) == Some(0.0) {
            reasons.insert(
                0,
                "NO OUTPUTS: a run produced none of its expected outputs".into(),
            );
        }
    }
    Ok(Judgement {
        passed: reasons.is_empty(),
        verdicts,
        reasons,
    })
}

fn unit_of(metric: &str) -> &'static str {
    match metric {
        "wall_time" | "cpu_time" | "phase_time" | "ttft" => "ms",
        "peak_memory" => "bytes",
        "output_tokens_per_s" => "tokens/s",
        "tool_calls" => "calls",
        "outputs" => "files",
        _ => "tokens",
    }
}

/// "46 % under target", "12 % over target", "on target".
fn margin_text(actual: f64, target: f64) -> String {
    if target == 0.0 {
        return if actual == 0.0 {
            "on target".into()
        } else {
            format!("{actual} vs 0")
        };
    }
    let pct = (actual - target) / target.abs() * 100.0;
    if pct.abs() < 0.05 {
        "on target".into()
    } else if pct < 0.0 {
        format!("{:.0} % under target", -pct)
    } else {
        format!("{pct:.0} % over target")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::Method;
    use crate::stats::OutlierRule;
    use polars::prelude::*;

    fn analysis(rows: &[(&str, &str, f64, f64)]) -> Analysis {
        let frame = df!(
            "phase" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "metric" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "unit" => rows.iter().map(|r| unit_of(r.0)).collect::<Vec<_>>(),
            "mean" => rows.iter().map(|r| Some(r.2)).collect::<Vec<_>>(),
            "max" => rows.iter().map(|r| Some(r.3)).collect::<Vec<_>>(),
            "min" => rows.iter().map(|r| Some(r.2.min(r.3))).collect::<Vec<_>>()
        )
        .expect("frame");
        Analysis {
            frame,
            method: Method {
                quantiles: "",
                confidence_interval: "",
                outlier_rule: OutlierRule::Sd,
                outliers_dropped: false,
                outliers_found: 0,
                outliers_removed: 0,
                warmups_excluded: 0,
                failed_excluded: 0,
            },
        }
    }

    #[test]
    fn verdicts_margins_and_grades() {
        let targets = parse_targets(
            r#"
            [[target]]
            metric = "wall_time"
            target = "300 s"
            acceptable = "420 s"
            grades = { excellent = "200 s", good = "300 s" }
            [[target]]
            metric = "peak_memory"
            target = "1 GiB"
            [[target]]
            metric = "input_tokens"
            target = 30000
            acceptable = 40000
            "#,
        )
        .expect("targets");
        // 162 s is 46 % under 300 s; 1.5 GiB fails 1 GiB; 35,000 tokens is acceptable.
        let a = analysis(&[
            ("wall_time", "(total)", 162_000.0, 170_000.0),
            (
                "peak_memory",
                "(total)",
                1.5 * 1024.0 * 1024.0 * 1024.0,
                2e9,
            ),
            ("input_tokens", "(total)", 35_000.0, 39_000.0),
        ]);
        let j = judge(&a, &targets, &[]).expect("judged");
        let status: Vec<(&str, &str)> = j
            .verdicts
            .iter()
            .map(|v| (v.status, v.margin.as_str()))
            .collect();
        assert_eq!(
            status,
            [
                ("PASS", "46 % under target"),
                ("FAIL", "50 % over target"),
                ("ACCEPTABLE", "17 % over target")
            ]
        );
        assert_eq!(j.verdicts[0].grade, Some("excellent"));
        assert!(!j.passed);
    }

    #[test]
    fn a_fast_run_without_tool_calls_fails_loudly() {
        let targets =
            parse_targets("[[target]]\nmetric = \"wall_time\"\ntarget = \"300 s\"\n").expect("t");
        let a = analysis(&[
            ("wall_time", "(total)", 100_000.0, 100_000.0),
            ("tool_calls", "(total)", 0.0, 0.0),
        ]);
        let j = judge(&a, &targets, &[]).expect("judged");
        assert_eq!(j.verdicts[0].status, "PASS");
        assert!(!j.passed);
        assert!(j.reasons[0].starts_with("NO TOOL CALLS"), "{:?}", j.reasons);
        // at_least: a floor.
        let floor =
            parse_targets("[[target]]\nmetric = \"tool_calls\"\nat_least = 1\n").expect("t");
        assert_eq!(
            judge(&a, &floor, &[]).expect("j").verdicts[0].status,
            "FAIL"
        );
    }

    #[test]
    fn units_convert_or_are_refused() {
        assert_eq!(to_unit(&Amount::Text("1.5 s".into()), "ms"), Ok(1500.0));
        assert_eq!(to_unit(&Amount::Text("2 min".into()), "ms"), Ok(120_000.0));
        assert_eq!(
            to_unit(&Amount::Text("512 MiB".into()), "bytes"),
            Ok(536_870_912.0)
        );
        assert_eq!(to_unit(&Amount::Number(3.0), "calls"), Ok(3.0));
        assert!(to_unit(&Amount::Text("3 GiB".into()), "ms").is_err());
        assert!(parse_targets("[[target]]\nmetric = \"x\"\n").is_err());
        assert!(parse_targets("[[target]]\nmetric = \"x\"\ntarget = 1\ntypo = 2\n").is_err());
    }
}
