//! The report's content (the model of `runlens report`; `runlens_reports::report` and
//! `runlens_reports::html` are its views): every section a benchmark write-up needs,
//! computed from the dataset as tables that the reports crate renders.
//!
//! Sections, in reading order: the verdict and headline numbers; validation findings (a
//! session with zero tool calls is the first thing a reader sees); the per-group per-phase
//! table (time, tokens in and out, cost per run, status); targets against actuals; cost per
//! provider and model and the projections; the test configuration (hosts, runs, warm-ups,
//! labels); the data it was computed from (inputs per format, sizes). Every number comes
//! from [`crate::analyze`] (so from [`crate::stats`]) or from one SQL query shown with it,
//! in base units named by the column (`_ms`, `_usd`, `_bytes`, `_tokens`).
//!
//! Why one file of some 540 lines: one section builder per section of the page, in reading
//! order; the release comparison report (issue "The release comparison") will split the
//! sections into their own modules when it adds the comparison's.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::analyze::{
    Analysis, AnalyzeOptions, Method, TOTAL_PHASE, analyze_groupings_on, check_keys,
};
use crate::cells::{number, text};
use crate::error::{AnalysisError, Result};
use crate::projections::{Projection, project_costs};
use crate::query::run_sql;
use crate::scan::DatasetReader;
use crate::targets::{Judgement, Status, TargetSpec, judge};

/// What to report on.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Grouping keys (`provider`, `model`, `version`, ...).
    pub by: Vec<String>,
    /// Only observations whose key equals the value.
    pub filters: Vec<(String, String)>,
    /// Targets to judge against.
    pub targets: Option<Vec<TargetSpec>>,
    /// Prices (None: the bundled snapshot).
    pub prices: Option<crate::prices::PriceTable>,
    /// Workflows a day for the cost projections.
    pub workflows_per_day: u64,
}

/// One table of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Stable key (`phases`, `findings`, ...), for JSON and CSV.
    pub key: &'static str,
    /// Heading.
    pub title: &'static str,
    /// The rows.
    pub frame: DataFrame,
    /// Sentences under the table.
    pub notes: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    /// `PASS`, `FAIL`, or `NOT JUDGED` (no targets and nothing failed loudly).
    pub verdict: ReportVerdict,
    /// Why it failed, loudest first.
    pub reasons: Vec<String>,
    /// Headline figures: (label, value in the unit its label names).
    pub headline: Vec<(String, Option<f64>)>,
    /// The sections, in reading order.
    pub sections: Vec<Section>,
    /// How the statistics were computed.
    pub method: Method,
    /// The grouping keys.
    pub by: Vec<String>,
    /// The analysis per `version` label, when the runs carry one (for the trend chart).
    pub by_version: Option<Analysis>,
}

/// Builds the report. With `spark`, the analysis (every call, run and phase, grouped three
/// ways) is computed by Spark; the sections read from the runs, sessions and ingest log
/// (one row per run, session or file) by the embedded engine.
pub fn build_report(
    reader: &DatasetReader,
    options: &ReportOptions,
    spark: Option<&crate::spark::Spark>,
) -> Result<Report> {
    // The data grouped three ways in one analysis: as asked, per provider and model (the
    // cost table), and per `version` label when the runs carry one (the trend chart).
    let analyze_options = AnalyzeOptions {
        per_phase: true,
        filters: options.filters.clone(),
        prices: options.prices.clone(),
        ..AnalyzeOptions::default()
    };
    let version = vec!["version".to_string()];
    let has_versions = check_keys(
        reader,
        &AnalyzeOptions {
            by: version.clone(),
            ..AnalyzeOptions::default()
        },
    )
    .is_ok();
    let mut groupings = vec![
        options.by.clone(),
        vec!["provider".to_string(), "model".to_string()],
    ];
    if has_versions {
        groupings.push(version);
    }
    let mut analyses =
        analyze_groupings_on(reader, &analyze_options, &groupings, spark)?.into_iter();
    let (Some(analysis), Some(per_model)) = (analyses.next(), analyses.next()) else {
        return Err(AnalysisError::Targets("no analysis".into()));
    };
    let by_version = analyses.next();
    let judgement = match &options.targets {
        Some(targets) => {
            Some(judge(&analysis, targets).map_err(|e| AnalysisError::Targets(e.to_string()))?)
        }
        None => None,
    };
    let findings = findings(reader)?;
    let hollow = findings_count(&findings, "zero_tool_calls");
    let (verdict, reasons) = verdict(judgement.as_ref(), hollow);
    let projections = project_costs(&analysis, options.workflows_per_day);
    let mut sections = vec![
        Section {
            key: "findings",
            title: "Validation findings",
            notes: vec![format!(
                "{hollow} session(s) made zero tool calls; sessions with status ok are not listed."
            )],
            frame: findings,
        },
        phase_section(&analysis, &options.by, judgement.as_ref())?,
    ];
    if let Some(j) = &judgement {
        sections.push(targets_section(j, &options.by)?);
    }
    sections.push(cost_section(&per_model)?);
    if !projections.is_empty() {
        sections.push(projection_section(&projections, &options.by)?);
    }
    sections.push(sql_section(
        reader,
        "configuration",
        "Test configuration",
        "SELECT host_name, host_cpu_model, host_logical_cores, host_memory_bytes, host_os, \
         count(*) AS runs, sum(CASE WHEN is_warmup THEN 1 ELSE 0 END) AS warmups \
         FROM runs GROUP BY host_name, host_cpu_model, host_logical_cores, host_memory_bytes, host_os \
         ORDER BY runs DESC, host_name",
        labels_note(reader)?,
    )?);
    sections.push(sql_section(
        reader,
        "data",
        "Data characteristics",
        "SELECT format, status, count(*) AS files, sum(size_bytes) AS input_bytes, sum(rows) AS rows \
         FROM ingest_log GROUP BY format, status ORDER BY format, status",
        vec![],
    )?);
    Ok(Report {
        verdict,
        reasons,
        headline: headline(reader, &analysis)?,
        sections,
        method: analysis.method.clone(),
        by: options.by.clone(),
        by_version,
    })
}

/// The report's overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportVerdict {
    /// Every target met, every session did its work.
    Pass,
    /// A target failed, or a session made no tool call.
    Fail,
    /// No targets given and nothing failed loudly.
    NotJudged,
}

impl ReportVerdict {
    /// `PASS`, `FAIL` or `NOT JUDGED`.
    pub fn label(self) -> &'static str {
        match self {
            ReportVerdict::Pass => "PASS",
            ReportVerdict::Fail => "FAIL",
            ReportVerdict::NotJudged => "NOT JUDGED",
        }
    }
}

/// PASS / FAIL from the targets, and FAIL whatever they say when a session made no tool
/// call.
fn verdict(judgement: Option<&Judgement>, hollow: usize) -> (ReportVerdict, Vec<String>) {
    let mut reasons = Vec::new();
    if hollow > 0 {
        reasons.push(format!(
            "NO TOOL CALLS: {hollow} session(s) finished without calling a tool"
        ));
    }
    let verdict = match judgement {
        Some(j) => {
            for r in &j.reasons {
                let repeats_hollow = hollow > 0 && r.starts_with("NO TOOL CALLS");
                if !repeats_hollow && !reasons.contains(r) {
                    reasons.push(r.clone());
                }
            }
            if j.passed && hollow == 0 {
                ReportVerdict::Pass
            } else {
                ReportVerdict::Fail
            }
        }
        None if hollow > 0 => ReportVerdict::Fail,
        None => ReportVerdict::NotJudged,
    };
    (verdict, reasons)
}

fn findings(reader: &DatasetReader) -> Result<DataFrame> {
    run_sql(
        reader,
        "SELECT session_id, source_format, model, validation_status, findings, tool_calls, \
         message_count FROM sessions WHERE validation_status <> 'ok' \
         ORDER BY CASE WHEN findings LIKE '%zero_tool_calls%' THEN 0 \
         WHEN validation_status = 'error' THEN 1 ELSE 2 END, session_id",
    )
}

fn findings_count(frame: &DataFrame, finding: &str) -> usize {
    (0..frame.height())
        .filter(|&i| text(frame, "findings", i).is_some_and(|f| f.split(',').any(|x| x == finding)))
        .count()
}

/// Headline figures over the whole dataset (filters apply to the tables only).
fn headline(reader: &DatasetReader, analysis: &Analysis) -> Result<Vec<(String, Option<f64>)>> {
    let count = |sql: &str| -> Result<Option<f64>> { Ok(number(&run_sql(reader, sql)?, "n", 0)) };
    let mean_of = |metric: &str| -> Option<f64> {
        analysis
            .rows_of(metric, TOTAL_PHASE)
            .next()
            .and_then(|r| r.mean())
    };
    Ok(vec![
        (
            "runs (counted)".into(),
            count("SELECT count(*) AS n FROM runs WHERE NOT is_warmup")?,
        ),
        (
            "sessions".into(),
            count("SELECT count(*) AS n FROM sessions")?,
        ),
        (
            "LLM calls".into(),
            count("SELECT count(*) AS n FROM llm_calls")?,
        ),
        ("mean wall time per run (ms)".into(), mean_of("wall_time")),
        (
            "mean peak memory per run (bytes)".into(),
            mean_of("peak_memory"),
        ),
        ("mean cost per run (usd)".into(), mean_of("run_cost")),
    ])
}

/// Time, tokens and cost per group and phase, from the analysis, with a status.
fn phase_section(
    analysis: &Analysis,
    by: &[String],
    judgement: Option<&Judgement>,
) -> Result<Section> {
    #[derive(Default)]
    struct Line {
        order: usize,
        runs: Option<f64>,
        failed: Option<f64>,
        time_ms: Option<f64>,
        time_sd_ms: Option<f64>,
        input_tokens: Option<f64>,
        output_tokens: Option<f64>,
        cost_usd: Option<f64>,
    }
    let mut lines: BTreeMap<(Vec<Option<String>>, String), Line> = BTreeMap::new();
    for row in &analysis.rows {
        let metric = row.metric.name;
        let time_metric = if row.is_total() {
            "wall_time"
        } else {
            "phase_time"
        };
        if ![
            time_metric,
            "phase_input_tokens",
            "phase_output_tokens",
            "run_cost",
        ]
        .contains(&metric)
        {
            continue;
        }
        let next = lines.len();
        let line = lines
            .entry((row.keys.clone(), row.phase.clone()))
            .or_insert_with(|| Line {
                order: next,
                ..Line::default()
            });
        let mean = row.mean();
        match metric {
            "phase_input_tokens" => line.input_tokens = mean,
            "phase_output_tokens" => line.output_tokens = mean,
            "run_cost" => line.cost_usd = mean,
            _ => {
                line.time_ms = mean;
                line.time_sd_ms = row.stddev();
                line.runs = Some(row.n as f64);
                line.failed = Some(row.failed as f64);
            }
        }
    }
    let mut ordered: Vec<_> = lines.into_iter().collect();
    // Groups in order; within a group, phases as the analysis ordered them, total last.
    ordered.sort_by(|a, b| {
        (&a.0.0, a.0.1 == TOTAL_PHASE, a.1.order).cmp(&(&b.0.0, b.0.1 == TOTAL_PHASE, b.1.order))
    });
    let status = |keys: &[Option<String>], phase: &str, line: &Line| -> String {
        let verdicts: Vec<Status> = judgement
            .map(|j| {
                j.verdicts
                    .iter()
                    .filter(|v| v.group.as_slice() == keys && v.phase == phase)
                    .map(|v| v.status)
                    .collect()
            })
            .unwrap_or_default();
        if verdicts.contains(&Status::Fail) {
            "FAIL".into()
        } else if verdicts.contains(&Status::Acceptable) {
            "ACCEPTABLE".into()
        } else if !verdicts.is_empty() {
            "PASS".into()
        } else if line.failed.unwrap_or(0.0) > 0.0 {
            format!("{} failed", line.failed.unwrap_or(0.0))
        } else {
            "ok".into()
        }
    };
    let mut columns: Vec<Column> = Vec::new();
    for (k, key) in by.iter().enumerate() {
        let values: Vec<Option<String>> = ordered
            .iter()
            .map(|((keys, _), _)| keys[k].clone())
            .collect();
        columns.push(Column::new(key.as_str().into(), values));
    }
    let phases: Vec<String> = ordered.iter().map(|((_, p), _)| p.clone()).collect();
    columns.push(Column::new("phase".into(), phases));
    let numbers = |f: fn(&Line) -> Option<f64>| -> Vec<Option<f64>> {
        ordered.iter().map(|(_, l)| f(l)).collect()
    };
    let runs: Vec<Option<u64>> = ordered
        .iter()
        .map(|(_, l)| l.runs.map(|r| r as u64))
        .collect();
    columns.push(Column::new("runs".into(), runs));
    columns.push(Column::new("mean_time_ms".into(), numbers(|l| l.time_ms)));
    columns.push(Column::new(
        "stddev_time_ms".into(),
        numbers(|l| l.time_sd_ms),
    ));
    columns.push(Column::new(
        "mean_input_tokens".into(),
        numbers(|l| l.input_tokens),
    ));
    columns.push(Column::new(
        "mean_output_tokens".into(),
        numbers(|l| l.output_tokens),
    ));
    columns.push(Column::new("mean_cost_usd".into(), numbers(|l| l.cost_usd)));
    let statuses: Vec<String> = ordered
        .iter()
        .map(|((keys, phase), line)| status(keys, phase, line))
        .collect();
    columns.push(Column::new("status".into(), statuses));
    Ok(Section {
        key: "phases",
        title: "Per phase",
        frame: DataFrame::new_infer_height(columns)
            .map_err(AnalysisError::polars("building the phase table"))?,
        notes: vec![format!(
            "Means over counted runs (warm-ups and failed runs excluded); `{TOTAL_PHASE}` is the whole run (wall time). Tokens and cost per run come from the LLM calls captured in each phase."
        )],
    })
}

fn targets_section(judgement: &Judgement, by: &[String]) -> Result<Section> {
    let mut columns: Vec<Column> = Vec::new();
    for (k, key) in by.iter().enumerate() {
        let values: Vec<Option<String>> = judgement
            .verdicts
            .iter()
            .map(|v| v.group[k].clone())
            .collect();
        columns.push(Column::new(key.as_str().into(), values));
    }
    let v = &judgement.verdicts;
    let strings =
        |f: fn(&crate::targets::Verdict) -> String| -> Vec<String> { v.iter().map(f).collect() };
    columns.push(Column::new("metric".into(), strings(|v| v.metric.clone())));
    columns.push(Column::new("phase".into(), strings(|v| v.phase.clone())));
    columns.push(Column::new(
        "statistic".into(),
        strings(|v| v.statistic.clone()),
    ));
    columns.push(Column::new(
        "unit".into(),
        strings(|v| v.unit.symbol().to_string()),
    ));
    columns.push(Column::new(
        "actual".into(),
        v.iter().map(|v| v.actual).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "target".into(),
        v.iter().map(|v| v.target).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "acceptable".into(),
        v.iter().map(|v| v.acceptable).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "status".into(),
        strings(|v| v.status.label().to_string()),
    ));
    columns.push(Column::new("margin".into(), strings(|v| v.margin.clone())));
    Ok(Section {
        key: "targets",
        title: "Targets",
        frame: DataFrame::new_infer_height(columns)
            .map_err(AnalysisError::polars("building the targets table"))?,
        notes: vec![],
    })
}

/// LLM calls, tokens and cost per provider and model, from the `cost` and token metrics.
fn cost_section(analysis: &Analysis) -> Result<Section> {
    // Per (provider, model): calls, input tokens, output tokens, total cost, cost per call.
    type CostLine = [Option<f64>; 5];
    let mut lines: BTreeMap<(Option<String>, Option<String>), CostLine> = BTreeMap::new();
    for row in analysis.rows.iter().filter(|r| r.is_total()) {
        let slot = match row.metric.name {
            "input_tokens" => 1,
            "output_tokens" => 2,
            "cost" => 3,
            _ => continue,
        };
        let key = (row.keys[0].clone(), row.keys[1].clone());
        let (n, mean, failed) = (row.n as f64, row.mean(), row.failed as f64);
        let line = lines.entry(key).or_default();
        line[slot] = mean.map(|m| n * m);
        if slot == 3 {
            line[4] = mean;
        }
        // Every call counts once, measured or failed, whichever metric saw it.
        let calls = n + failed;
        line[0] = Some(line[0].map_or(calls, |a| a.max(calls)));
    }
    let rows: Vec<_> = lines.into_iter().collect();
    let column = |slot: usize| -> Vec<Option<f64>> { rows.iter().map(|(_, l)| l[slot]).collect() };
    let frame = DataFrame::new_infer_height(vec![
        Column::new(
            "provider".into(),
            rows.iter().map(|(k, _)| k.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "model".into(),
            rows.iter().map(|(k, _)| k.1.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "calls".into(),
            rows.iter()
                .map(|(_, l)| l[0].map(|c| c as u64))
                .collect::<Vec<_>>(),
        ),
        Column::new("input_tokens".into(), column(1)),
        Column::new("output_tokens".into(), column(2)),
        Column::new("total_cost_usd".into(), column(3)),
        Column::new("mean_cost_per_call_usd".into(), column(4)),
    ])
    .map_err(AnalysisError::polars("building the cost table"))?;
    Ok(Section {
        key: "costs",
        title: "Cost per provider and model",
        frame,
        notes: vec![
            "Priced with the price table (runlens prices); a model without a price has no cost, never $0.".into(),
        ],
    })
}

fn projection_section(projections: &[Projection], by: &[String]) -> Result<Section> {
    let mut columns: Vec<Column> = Vec::new();
    for (k, key) in by.iter().enumerate() {
        let values: Vec<Option<String>> = projections.iter().map(|p| p.keys[k].clone()).collect();
        columns.push(Column::new(key.as_str().into(), values));
    }
    columns.push(Column::new(
        "runs".into(),
        projections.iter().map(|p| p.runs).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "cost_per_run_usd".into(),
        projections
            .iter()
            .map(|p| p.cost_per_run_usd)
            .collect::<Vec<_>>(),
    ));
    for (i, (name, _)) in crate::projections::PERIODS.iter().enumerate() {
        columns.push(Column::new(
            format!("per_{name}_usd").into(),
            projections
                .iter()
                .map(|p| p.per_period_usd[i])
                .collect::<Vec<_>>(),
        ));
    }
    let per_day = projections.first().map_or(0, |p| p.workflows_per_day);
    Ok(Section {
        key: "projections",
        title: "Cost projections",
        frame: DataFrame::new_infer_height(columns)
            .map_err(AnalysisError::polars("building the projections"))?,
        notes: vec![format!(
            "At {per_day} workflows a day; a month is 30 days, a year 365."
        )],
    })
}

fn sql_section(
    reader: &DatasetReader,
    key: &'static str,
    title: &'static str,
    sql: &str,
    notes: Vec<String>,
) -> Result<Section> {
    Ok(Section {
        key,
        title,
        frame: run_sql(reader, sql)?,
        notes,
    })
}

/// The labels the runs carry, `key=value, ...`.
fn labels_note(reader: &DatasetReader) -> Result<Vec<String>> {
    let frame = run_sql(reader, "SELECT labels FROM runs")?;
    let mut pairs: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    if let Ok(lists) = frame.column("labels").and_then(|c| c.list().cloned()) {
        for entries in (0..lists.len()).filter_map(|i| lists.get_as_series(i)) {
            if let Ok(s) = entries.struct_() {
                let fields = s.fields_as_series();
                if let [keys, values] = fields.as_slice()
                    && let (Ok(k), Ok(v)) = (keys.str(), values.str())
                {
                    for (k, v) in k.iter().zip(v.iter()) {
                        if let (Some(k), Some(v)) = (k, v) {
                            pairs.insert(format!("{k}={v}"));
                        }
                    }
                }
            }
        }
    }
    Ok(if pairs.is_empty() {
        vec![]
    } else {
        vec![format!(
            "Labels on the runs: {}.",
            pairs.into_iter().collect::<Vec<_>>().join(", ")
        )]
    })
}
