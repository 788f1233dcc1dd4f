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
//! Which way is better is the metric's [`crate::catalogue`] direction, or "at
//! least" when the target is written `at_least`; units are the metric's catalogue unit. Every group of the analysis is judged on every
//! target. Overall: FAIL when any cell fails, when a target's metric was not measured, or
//! (whatever the targets say) when the analysed sessions made no tool call at all or runs
//! missed expected outputs.

use serde::{Deserialize, Serialize};

use crate::analyze::{Analysis, Statistic, TOTAL_PHASE};
use crate::catalogue::{self, Direction, Unit};

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

/// A cell's status against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    /// At or better than the target.
    #[serde(rename = "PASS")]
    Pass,
    /// Worse than the target, within the acceptable bound.
    #[serde(rename = "ACCEPTABLE")]
    Acceptable,
    /// Beyond the acceptable bound, or not measured.
    #[serde(rename = "FAIL")]
    Fail,
}

impl Status {
    /// `PASS`, `ACCEPTABLE` or `FAIL`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Acceptable => "ACCEPTABLE",
            Status::Fail => "FAIL",
        }
    }
}

/// One judged cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Group key values of the row (as in the analysis).
    #[serde(skip)]
    pub group: Vec<Option<String>>,
    /// Metric.
    pub metric: String,
    /// Phase.
    pub phase: String,
    /// Statistic judged.
    pub statistic: String,
    /// Unit.
    pub unit: Unit,
    /// The measured figure (None: not measured).
    pub actual: Option<f64>,
    /// Target, in the unit.
    pub target: f64,
    /// Acceptable bound, in the unit.
    pub acceptable: f64,
    /// `PASS`, `ACCEPTABLE` or `FAIL`.
    pub status: Status,
    /// How far from the target: "46 % under target".
    pub margin: String,
    /// Grade, when bands were given.
    pub grade: Option<&'static str>,
}

/// All verdicts and the overall one.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// Converts an amount to `unit`.
pub fn to_unit(amount: &Amount, unit: Unit) -> Result<f64, String> {
    match amount {
        Amount::Number(n) => Ok(*n),
        Amount::Text(t) => unit.parse_amount(t),
    }
}

/// Judges `analysis` against `targets`.
pub fn judge(analysis: &Analysis, targets: &[TargetSpec]) -> Result<Judgement, String> {
    let mut verdicts = Vec::new();
    let mut reasons = Vec::new();
    for spec in targets {
        let metric = catalogue::lookup(&spec.metric).map_err(|e| format!("target: {e}"))?;
        let phase = spec
            .phase
            .clone()
            .unwrap_or_else(|| TOTAL_PHASE.to_string());
        // A floor holds for every observation: judged on the minimum unless told otherwise.
        let statistic = match &spec.statistic {
            Some(name) => {
                Statistic::parse(name).map_err(|e| format!("target for {}: {e}", spec.metric))?
            }
            None if spec.at_least.is_some() => Statistic::Min,
            None => Statistic::Mean,
        };
        let unit = metric.unit;
        let higher = spec.at_least.is_some() || metric.direction == Direction::HigherIsBetter;
        let target_amount = spec
            .target
            .as_ref()
            .or(spec.at_least.as_ref())
            .ok_or("target")?;
        let target = to_unit(target_amount, unit)?;
        let acceptable = match &spec.acceptable {
            Some(a) => to_unit(a, unit)?,
            None => target,
        };
        let grades = match &spec.grades {
            Some(g) => Some((to_unit(&g.excellent, unit)?, to_unit(&g.good, unit)?)),
            None => None,
        };
        let rows: Vec<_> = analysis.rows_of(metric.name, &phase).collect();
        if rows.is_empty() {
            reasons.push(format!("{} ({phase}) was not measured", spec.metric));
            verdicts.push(Verdict {
                group: vec![None; analysis.by.len()],
                metric: spec.metric.clone(),
                phase: phase.clone(),
                statistic: statistic.name().to_string(),
                unit,
                actual: None,
                target,
                acceptable,
                status: Status::Fail,
                margin: "not measured".into(),
                grade: None,
            });
            continue;
        }
        for row in rows {
            let actual = row.statistic(statistic);
            let (status, margin) = match actual {
                None => (Status::Fail, "not measured".to_string()),
                Some(a) => {
                    let ok = |bound: f64| if higher { a >= bound } else { a <= bound };
                    let status = if ok(target) {
                        Status::Pass
                    } else if ok(acceptable) {
                        Status::Acceptable
                    } else {
                        Status::Fail
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
            let group = row.keys.clone();
            if status == Status::Fail {
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
                let unit = unit.symbol();
                let statistic = statistic.name();
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
                statistic: statistic.name().to_string(),
                unit,
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
    if analysis
        .rows_of("tool_calls", TOTAL_PHASE)
        .any(|r| r.statistic(Statistic::Max) == Some(0.0))
    {
        reasons.insert(0, "NO TOOL CALLS: no analysed session called a tool".into());
    }
    if analysis
        .rows_of("outputs", TOTAL_PHASE)
        .any(|r| r.statistic(Statistic::Min) == Some(0.0))
    {
        reasons.insert(
            0,
            "NO OUTPUTS: a run produced none of its expected outputs".into(),
        );
    }
    Ok(Judgement {
        passed: reasons.is_empty(),
        verdicts,
        reasons,
    })
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
    use crate::analyze::{Method, StatRow};
    use crate::stats::{Describe, OutlierRule, Summary};

    /// Rows of (metric, phase, mean, max); min is the smaller of the two.
    fn analysis(rows: &[(&str, &str, f64, f64)]) -> Analysis {
        let rows = rows
            .iter()
            .map(|&(metric, phase, mean, max)| StatRow {
                keys: vec![],
                phase: phase.into(),
                metric: catalogue::find(metric).expect("a catalogue metric"),
                n: 3,
                failed: 0,
                summary: Some(Summary {
                    describe: Describe {
                        count: 3,
                        mean,
                        stddev: None,
                        min: mean.min(max),
                        max,
                    },
                    p50: mean,
                    p95: max,
                    p99: max,
                    ci95: None,
                }),
                outliers: 0,
                outliers_removed: 0,
            })
            .collect();
        Analysis {
            by: vec![],
            rows,
            method: Method::new(OutlierRule::Sd, false),
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
        let j = judge(&a, &targets).expect("judged");
        let status: Vec<(&str, &str)> = j
            .verdicts
            .iter()
            .map(|v| (v.status.label(), v.margin.as_str()))
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
        let j = judge(&a, &targets).expect("judged");
        assert_eq!(j.verdicts[0].status, Status::Pass);
        assert!(!j.passed);
        assert!(j.reasons[0].starts_with("NO TOOL CALLS"), "{:?}", j.reasons);
        // at_least: a floor.
        let floor =
            parse_targets("[[target]]\nmetric = \"tool_calls\"\nat_least = 1\n").expect("t");
        assert_eq!(
            judge(&a, &floor).expect("j").verdicts[0].status,
            Status::Fail
        );
    }

    #[test]
    fn cost_targets_are_in_usd() {
        let targets = parse_targets(
            "[[target]]\nmetric = \"cost\"\ntarget = \"$0.01\"\nacceptable = \"0.02 usd\"\n",
        )
        .expect("targets");
        let j = judge(&analysis(&[("cost", "(total)", 0.015, 0.02)]), &targets).expect("judged");
        assert_eq!(j.verdicts[0].unit, Unit::Usd);
        assert_eq!(j.verdicts[0].status, Status::Acceptable);
        // A cost target written in tokens does not fit.
        let tokens =
            parse_targets("[[target]]\nmetric = \"cost\"\ntarget = \"3 tokens\"\n").expect("t");
        assert!(judge(&analysis(&[("cost", "(total)", 0.015, 0.02)]), &tokens).is_err());
        // More tool calls is better: a target of 2 passes with 5.
        let calls = parse_targets("[[target]]\nmetric = \"tool_calls\"\ntarget = 2\n").expect("t");
        let j = judge(&analysis(&[("tool_calls", "(total)", 5.0, 7.0)]), &calls).expect("j");
        assert_eq!(j.verdicts[0].status, Status::Pass);
    }

    #[test]
    fn units_convert_or_are_refused() {
        assert_eq!(to_unit(&Amount::Text("1.5 s".into()), Unit::Ms), Ok(1500.0));
        assert_eq!(
            to_unit(&Amount::Text("2 min".into()), Unit::Ms),
            Ok(120_000.0)
        );
        assert_eq!(
            to_unit(&Amount::Text("512 MiB".into()), Unit::Bytes),
            Ok(536_870_912.0)
        );
        assert_eq!(to_unit(&Amount::Number(3.0), Unit::Calls), Ok(3.0));
        assert!(to_unit(&Amount::Text("3 GiB".into()), Unit::Ms).is_err());
        assert!(parse_targets("[[target]]\nmetric = \"x\"\n").is_err());
        assert!(parse_targets("[[target]]\nmetric = \"x\"\ntarget = 1\ntypo = 2\n").is_err());
    }
}
