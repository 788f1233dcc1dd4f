//! The numbers behind the report's charts (the model; `runlens_reports::charts` draws
//! them), as plain series:
//! time per phase stacked per group, one stack per workflow, the TTFT distribution per model, cost per workflow (or
//! per call) per provider and model, TTFT against tokens per second per model, and a metric
//! across versions. Each comes from the report's own tables or one query over `llm_calls`,
//! so a chart never shows a number the tables do not.

use std::collections::BTreeMap;

use runlens_ingest::schema::Table;

use crate::analyze::{TOTAL_PHASE, group_column, keyed_scan};
use crate::cells::{number, text};
use crate::error::{AnalysisError, Result};
use crate::report_content::Report;
use crate::scan::DatasetReader;
use crate::stats::quantile_sorted;

/// Mean time per phase of one workflow, per group, for stacked bars.
///
/// A *workflow* is a set of phases that runs have together: two phases belong to the same
/// workflow when some run has both (transitively), so runs of unrelated workflows (no
/// phase name in common) are never stacked in one bar. The means are the report's own
/// `phases` table's.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseStack {
    /// The workflow, named by its phases in order (`discovery → analysis → report`;
    /// long ones shortened to the first two and the last).
    pub workflow: String,
    /// Group labels (the `--by` values joined with " / ", or "all").
    pub groups: Vec<String>,
    /// What the groups are (the `--by` keys joined with " / ", or "runs").
    pub grouped_by: String,
    /// Phases in first-seen order.
    pub phases: Vec<String>,
    /// Mean milliseconds, `[group][phase]` (0 where the group has no such phase).
    pub mean_ms: Vec<Vec<f64>>,
}

/// One labelled set of values (a box of a box plot).
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// The model.
    pub label: String,
    /// The observations, milliseconds.
    pub values: Vec<f64>,
}

/// One labelled value (a bar) or pair (a point).
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// What it is.
    pub label: String,
    /// The value (x for a point).
    pub x: f64,
    /// The second value of a point (0 for a bar).
    pub y: f64,
}

/// A metric's mean across versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// The metric (`wall_time`).
    pub metric: String,
    /// The versions in order, with the mean (ms).
    pub points: Vec<(String, f64)>,
}

/// Everything the charts draw; a chart without data is left out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartData {
    /// Time per phase, stacked per group: one stack per workflow, in the order of their
    /// first phase in the report.
    pub phases: Vec<PhaseStack>,
    /// TTFT per model.
    pub ttft: Vec<Distribution>,
    /// Cost per provider and model, USD.
    pub cost: Vec<Labelled>,
    /// Whether `cost` is per workflow (run) rather than per call.
    pub cost_per_workflow: bool,
    /// TTFT p50 (x, ms) against mean output tokens per second (y), per model.
    pub speed: Vec<Labelled>,
    /// Mean wall time across `version` labels, when runs carry one.
    pub trend: Option<Trend>,
}

/// The chart data of `report` over the dataset it was built from.
pub fn chart_data(
    reader: &DatasetReader,
    report: &Report,
    filters: &[(String, String)],
) -> Result<ChartData> {
    let workflows = phase_workflows(reader, filters)?;
    let mut data = ChartData {
        phases: phase_stacks(report, &workflows),
        ..ChartData::default()
    };
    let calls = successful_calls(reader, filters)?;
    let mut per_model: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for i in 0..calls.height() {
        let model = text(&calls, "model", i).unwrap_or_default();
        let entry = per_model.entry(model).or_default();
        if let Some(t) = number(&calls, "ttft_ms", i) {
            entry.0.push(t);
        }
        if let Some(r) = number(&calls, "output_tokens_per_s", i) {
            entry.1.push(r);
        }
    }
    for (model, (mut ttft, rates)) in per_model {
        ttft.sort_unstable_by(f64::total_cmp);
        if !ttft.is_empty() && !rates.is_empty() {
            data.speed.push(Labelled {
                label: model.clone(),
                x: quantile_sorted(&ttft, 0.5),
                y: rates.iter().sum::<f64>() / rates.len() as f64,
            });
        }
        if !ttft.is_empty() {
            data.ttft.push(Distribution {
                label: model,
                values: ttft,
            });
        }
    }
    let section = |key: &str| report.sections.iter().find(|s| s.key == key);
    if let Some(projections) = section("projections") {
        data.cost_per_workflow = true;
        let df = &projections.frame;
        for i in 0..df.height() {
            let label = group_label(&report.by.iter().map(|k| text(df, k, i)).collect::<Vec<_>>());
            if let Some(v) = number(df, "cost_per_run_usd", i) {
                data.cost.push(Labelled {
                    label,
                    x: v,
                    y: 0.0,
                });
            }
        }
    } else if let Some(costs) = section("costs") {
        let df = &costs.frame;
        for i in 0..df.height() {
            let label = format!(
                "{} {}",
                text(df, "provider", i).unwrap_or_default(),
                text(df, "model", i).unwrap_or_default()
            );
            if let Some(v) = number(df, "mean_cost_per_call_usd", i) {
                data.cost.push(Labelled {
                    label: label.trim().to_string(),
                    x: v,
                    y: 0.0,
                });
            }
        }
    }
    data.trend = version_trend(report);
    Ok(data)
}

/// Each successful call with a TTFT, among the calls `filters` keep: its model, TTFT and
/// output tokens per second.
fn successful_calls(
    reader: &DatasetReader,
    filters: &[(String, String)],
) -> Result<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let (lf, keys) = keyed_scan(reader, Table::LlmCalls, &["model".to_string()], filters)?;
    let mut select = keys;
    select.extend([col("ttft_ms"), col("output_tokens_per_s")]);
    lf.filter(
        col("error_kind")
            .is_null()
            .and(col("ttft_ms").is_not_null()),
    )
    .select(select)
    .with_column(
        col(group_column(0).as_str())
            .fill_null(lit("?"))
            .alias("model"),
    )
    .collect()
    .map_err(AnalysisError::polars("reading the calls' TTFT"))
}

fn group_label(keys: &[Option<String>]) -> String {
    if keys.is_empty() {
        return "all".into();
    }
    keys.iter()
        .map(|k| k.clone().unwrap_or_else(|| "—".into()))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The workflows of the runs `filters` keep, as sets of phase names: phases that some run
/// has together belong to one workflow (a union–find over the names of each run's phases).
/// Returns, per phase name, the index of its workflow.
fn phase_workflows(
    reader: &DatasetReader,
    filters: &[(String, String)],
) -> Result<BTreeMap<String, usize>> {
    use polars::prelude::*;
    let (lf, _) = keyed_scan(reader, Table::Phases, &[], filters)?;
    let pairs = lf
        .select([col("run_id"), col("phase")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .map_err(AnalysisError::polars("reading the runs' phases"))?;
    Ok(workflows_of((0..pairs.height()).filter_map(|i| {
        Some((text(&pairs, "run_id", i)?, text(&pairs, "phase", i)?))
    })))
}

/// Per phase name, the index of its workflow, from (run, phase) pairs: phases that a run
/// has together share a workflow, transitively (union–find over the names).
fn workflows_of(pairs: impl Iterator<Item = (String, String)>) -> BTreeMap<String, usize> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut names: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut first_of_run: BTreeMap<String, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = Vec::new();
    for (run, phase) in pairs {
        let p = *index.entry(phase.clone()).or_insert_with(|| {
            names.push(phase);
            parent.push(parent.len());
            parent.len() - 1
        });
        let first = *first_of_run.entry(run).or_insert(p);
        let (a, b) = (root(&mut parent, first), root(&mut parent, p));
        parent[a.max(b)] = a.min(b);
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), root(&mut parent, i)))
        .collect()
}

/// The report's `phases` table as stacks, one per workflow (`workflows`: phase name →
/// workflow; a phase missing there is a workflow of its own).
fn phase_stacks(report: &Report, workflows: &BTreeMap<String, usize>) -> Vec<PhaseStack> {
    let Some(section) = report.sections.iter().find(|s| s.key == "phases") else {
        return Vec::new();
    };
    let df = &section.frame;
    let mut groups: Vec<String> = Vec::new();
    let mut phases: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for i in 0..df.height() {
        let phase = text(df, "phase", i).unwrap_or_default();
        if phase == TOTAL_PHASE {
            continue;
        }
        let Some(ms) = number(df, "mean_time_ms", i) else {
            continue;
        };
        let group = group_label(&report.by.iter().map(|k| text(df, k, i)).collect::<Vec<_>>());
        let g = position_or_push(&mut groups, group);
        let p = position_or_push(&mut phases, phase);
        cells.insert((g, p), ms);
    }
    let grouped_by = if report.by.is_empty() {
        "runs".to_string()
    } else {
        report.by.join(" / ")
    };
    // Workflows in the order of their first phase; a phase of no known workflow alone.
    let mut members: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
    for (p, phase) in phases.iter().enumerate() {
        let workflow = workflows.get(phase).copied();
        match members
            .iter_mut()
            .find(|(w, _)| w.is_some() && *w == workflow)
        {
            Some((_, list)) => list.push(p),
            None => members.push((workflow, vec![p])),
        }
    }
    members
        .into_iter()
        .map(|(_, own)| {
            let kept: Vec<usize> = (0..groups.len())
                .filter(|g| own.iter().any(|p| cells.contains_key(&(*g, *p))))
                .collect();
            let names: Vec<String> = own.iter().map(|&p| phases[p].clone()).collect();
            PhaseStack {
                workflow: workflow_name(&names),
                groups: kept.iter().map(|&g| groups[g].clone()).collect(),
                grouped_by: grouped_by.clone(),
                mean_ms: kept
                    .iter()
                    .map(|&g| {
                        own.iter()
                            .map(|&p| cells.get(&(g, p)).copied().unwrap_or(0.0))
                            .collect()
                    })
                    .collect(),
                phases: names,
            }
        })
        .collect()
}

/// A workflow's name: its phases in order, the first two and the last past four.
fn workflow_name(phases: &[String]) -> String {
    match phases {
        [first, second, .., last] if phases.len() > 4 => {
            format!("{first} → {second} → … → {last} ({} phases)", phases.len())
        }
        _ => phases.join(" → "),
    }
}

fn position_or_push(list: &mut Vec<String>, item: String) -> usize {
    match list.iter().position(|x| *x == item) {
        Some(i) => i,
        None => {
            list.push(item);
            list.len() - 1
        }
    }
}

/// Mean wall time per `version` label (the report's analysis per version), versions in
/// natural order (1.9 before 1.10).
fn version_trend(report: &Report) -> Option<Trend> {
    let analysis = report.by_version.as_ref()?;
    let mut points: Vec<(String, f64)> = analysis
        .rows_of("wall_time", TOTAL_PHASE)
        .filter_map(|r| Some((r.keys.first()?.clone()?, r.mean()?)))
        .collect();
    if points.len() < 2 {
        return None;
    }
    points.sort_by_key(|p| natural_key(&p.0));
    Some(Trend {
        metric: "wall_time".into(),
        points,
    })
}

/// `v1.10.2` → [(1), (10), (2)] with the text between kept, so versions sort naturally.
fn natural_key(version: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut digits = String::new();
    let mut other = String::new();
    for c in version.chars() {
        if c.is_ascii_digit() {
            if !other.is_empty() {
                key.push((0, std::mem::take(&mut other)));
            }
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
                digits.clear();
            }
            other.push(c);
        }
    }
    if !digits.is_empty() {
        key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
    }
    if !other.is_empty() {
        key.push((0, other));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_run_together_share_a_workflow_transitively() {
        let pairs = [
            ("r1", "plan"),
            ("r1", "build"),
            ("r2", "build"),
            ("r2", "test"),
            ("r3", "scan"),
            ("r4", "scan"),
            ("r4", "report"),
            ("r5", "alone"),
        ];
        let w = workflows_of(pairs.iter().map(|(r, p)| (r.to_string(), p.to_string())));
        assert_eq!(w["plan"], w["build"]);
        assert_eq!(w["build"], w["test"], "through r2");
        assert_eq!(w["scan"], w["report"]);
        assert_ne!(w["plan"], w["scan"]);
        assert_ne!(w["alone"], w["plan"]);
        assert_ne!(w["alone"], w["scan"]);
    }

    /// The sample data's three logged workflows (no phase name in common) give three
    /// stacks, whose means are the report table's own.
    #[test]
    fn the_sample_workflows_are_stacked_apart() {
        let dir = crate::test_support::sample_dataset();
        let reader = DatasetReader::new(dir.path());
        let report = crate::report_content::build_report(
            &reader,
            &crate::report_content::ReportOptions::default(),
            None,
        )
        .expect("report");
        let data = chart_data(&reader, &report, &[]).expect("chart data");
        let names: Vec<&str> = data.phases.iter().map(|s| s.workflow.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        for expected in [
            "discovery → analysis → report",
            "Discovery → Analysis → Report generation",
            "Repository scan → Planning → Tool execution → Report",
        ] {
            assert!(names.contains(&expected), "{expected} in {names:?}");
        }
        let table = &report
            .sections
            .iter()
            .find(|s| s.key == "phases")
            .expect("phase table")
            .frame;
        for stack in &data.phases {
            assert_eq!(stack.groups, ["all"]);
            for (p, phase) in stack.phases.iter().enumerate() {
                let row = (0..table.height())
                    .find(|&i| text(table, "phase", i).as_deref() == Some(phase.as_str()))
                    .expect("the phase's row");
                assert_eq!(
                    Some(stack.mean_ms[0][p]),
                    number(table, "mean_time_ms", row)
                );
            }
        }
    }

    #[test]
    fn long_workflows_are_named_by_their_ends() {
        let names = |n: usize| (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>();
        assert_eq!(workflow_name(&names(3)), "p0 → p1 → p2");
        assert_eq!(workflow_name(&names(4)), "p0 → p1 → p2 → p3");
        assert_eq!(workflow_name(&names(6)), "p0 → p1 → … → p5 (6 phases)");
    }

    #[test]
    fn versions_sort_naturally() {
        let mut v = vec!["1.10", "1.9", "1.9.1", "2.0"];
        v.sort_by_key(|s| natural_key(s));
        assert_eq!(v, ["1.9", "1.9.1", "1.10", "2.0"]);
    }
}
