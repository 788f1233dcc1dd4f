//! The release comparison (`runlens report --baseline … --candidate …`): is the candidate
//! better or worse than the baseline, phase by phase, and is the difference real?
//!
//! Its figures are those of [`crate::compare`] on the same groups (the same samples, the
//! same medians, ratio intervals, p-values and verdicts, per phase and in total), with what a
//! release note needs around them:
//! - the sessions' validation findings of both groups, those new in the candidate first: a
//!   candidate whose sessions stopped calling tools (`zero_tool_calls` where tools were
//!   expected, `no_tool_calls` where they were only available) is a regression whatever its
//!   speed;
//! - the speed-up claims (`--expect-speedup METRIC=10x`) as claimed and measured;
//! - the cost per workflow (mean `run_cost`, with its 95 % interval) and its projection per
//!   day, week, month and year, for both groups;
//! - one verdict: regression, improvement, or no significant change, with the reasons.

use serde::Serialize;

use crate::catalogue;
use crate::compare::{
    Change, Comparison, GroupSpec, SavedGroup, SavedSample, SessionFindings, SpeedupClaim, compare,
    speedup_claim,
};
use crate::projections::PERIODS;
use crate::stats::summarize;

/// The finding that makes a candidate a regression by itself: sessions that were expected
/// to call tools and called none.
pub const HOLLOW_FINDING: &str = "zero_tool_calls";

/// Sessions that had tools available, were not told to use them, and called none: new in
/// a candidate, also a regression (its sessions stopped calling tools).
pub const IDLE_FINDING: &str = "no_tool_calls";

/// Whether a finding, new in the candidate, makes it a regression by itself.
pub fn stops_calling_tools(finding: &str) -> bool {
    finding == HOLLOW_FINDING || finding == IDLE_FINDING
}

/// A claimed speed-up: baseline median / candidate median of `metric` is at least `factor`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimSpec {
    /// The metric (a catalogue name).
    pub metric: String,
    /// The claimed factor (`10` for "10x").
    pub factor: f64,
}

impl ClaimSpec {
    /// Parses `METRIC=10x` (or `10x` alone, for wall time).
    pub fn parse(text: &str) -> Result<ClaimSpec, String> {
        let (metric, factor) = match text.split_once('=') {
            Some((m, f)) => (m.trim(), f.trim()),
            None => ("wall_time", text.trim()),
        };
        catalogue::lookup(metric)?;
        let number = factor.strip_suffix(['x', 'X']).unwrap_or(factor);
        match number.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(ClaimSpec {
                metric: metric.to_string(),
                factor: f,
            }),
            _ => Err(format!(
                "expected METRIC=FACTORx (as wall_time=10x), found {text:?}"
            )),
        }
    }
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseVerdict {
    /// A metric got significantly worse, the candidate's sessions stopped calling tools,
    /// or a claimed speed-up does not hold.
    Regression,
    /// Something got significantly better and nothing worse.
    Improvement,
    /// No significant difference beyond the threshold.
    NoSignificantChange,
}

impl ReleaseVerdict {
    /// How the verdict reads.
    pub fn label(self) -> &'static str {
        match self {
            ReleaseVerdict::Regression => "regression",
            ReleaseVerdict::Improvement => "improvement",
            ReleaseVerdict::NoSignificantChange => "no significant change",
        }
    }
}

/// A finding in either group: how many sessions have it on each side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingChange {
    /// The finding (`zero_tool_calls`, `tool_errors`, ...).
    pub finding: String,
    /// Baseline sessions with it (None: the saved baseline did not keep findings).
    pub baseline_sessions: Option<u64>,
    /// Candidate sessions with it.
    pub candidate_sessions: u64,
    /// Whether the candidate has it and the baseline did not.
    pub new_in_candidate: bool,
    /// Whether it makes the candidate a regression ([`stops_calling_tools`]).
    pub regression: bool,
}

/// One group's cost per workflow (one recorded run) and its projection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowCost {
    /// Runs the mean is over.
    pub runs: usize,
    /// Mean cost of one run, USD.
    pub cost_per_run_usd: f64,
    /// 95 % CI of that mean, USD (None for a single run).
    pub ci95_usd: Option<(f64, f64)>,
    /// Cost per day, week, month and year ([`PERIODS`]) at the workflows a day asked for.
    pub per_period_usd: [f64; 4],
}

impl WorkflowCost {
    fn of(samples: &[SavedSample], workflows_per_day: u64) -> Option<WorkflowCost> {
        let values = &samples
            .iter()
            .find(|s| s.metric == "run_cost" && s.phase == crate::analyze::TOTAL_PHASE)?
            .values;
        let summary = summarize(values, true)?;
        let mean = summary.describe.mean;
        let per_day = mean * workflows_per_day as f64;
        Some(WorkflowCost {
            runs: values.len(),
            cost_per_run_usd: mean,
            ci95_usd: summary.ci95.map(|i| (i.low, i.high)),
            per_period_usd: PERIODS.map(|(_, days)| per_day * days as f64),
        })
    }
}

/// What the release comparison asks.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// The baseline group (a filter, or `saved:NAME`).
    pub baseline: GroupSpec,
    /// The candidate group.
    pub candidate: GroupSpec,
    /// Smallest relative change that counts (0.05 = 5 %).
    pub threshold: f64,
    /// Only these metrics (empty: every metric both groups measured).
    pub metrics: Vec<String>,
    /// Claimed speed-ups.
    pub claims: Vec<ClaimSpec>,
    /// Workflows a day for the cost projection.
    pub workflows_per_day: u64,
}

/// The release comparison, ready to render.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseComparison {
    /// The baseline as given (`saved:v1.4`, `version=1.4`).
    pub baseline: String,
    /// The candidate as given.
    pub candidate: String,
    /// The answer.
    pub verdict: ReleaseVerdict,
    /// Why, most important first (findings, then worse metrics, failed claims, better ones).
    pub reasons: Vec<String>,
    /// Smallest relative change that counts.
    pub threshold: f64,
    /// Sessions in each group (baseline None when a saved baseline did not keep them).
    pub baseline_sessions: Option<u64>,
    /// Sessions in the candidate.
    pub candidate_sessions: u64,
    /// Every finding of either group, those new in the candidate first.
    pub findings: Vec<FindingChange>,
    /// Every metric and phase both measured (the figures of `runlens compare --phase`).
    pub comparisons: Vec<Comparison>,
    /// The claims' answers.
    pub claims: Vec<SpeedupClaim>,
    /// The baseline's cost per workflow.
    pub baseline_cost: Option<WorkflowCost>,
    /// The candidate's.
    pub candidate_cost: Option<WorkflowCost>,
    /// Workflows a day of the projection.
    pub workflows_per_day: u64,
    /// The baseline's samples (for the charts).
    #[serde(skip)]
    pub baseline_samples: Vec<SavedSample>,
    /// The candidate's samples.
    #[serde(skip)]
    pub candidate_samples: Vec<SavedSample>,
}

impl ReleaseComparison {
    /// The comparisons of the totals, and those of the phases, each in their order.
    pub fn totals_and_phases(&self) -> (Vec<&Comparison>, Vec<&Comparison>) {
        self.comparisons
            .iter()
            .partition(|c| c.phase == crate::analyze::TOTAL_PHASE)
    }
}

/// Compares two groups as measured (per phase): see the module documentation.
pub fn release_comparison(
    options: &ReleaseOptions,
    baseline: SavedGroup,
    candidate: SavedGroup,
) -> ReleaseComparison {
    let comparisons = compare(
        &baseline.samples,
        &candidate.samples,
        &options.metrics,
        options.threshold,
    );
    let claims: Vec<SpeedupClaim> = options
        .claims
        .iter()
        .map(|c| speedup_claim(&baseline.samples, &candidate.samples, &c.metric, c.factor))
        .collect();
    let findings = finding_changes(baseline.findings.as_ref(), candidate.findings.as_ref());
    let candidate_sessions = candidate.findings.as_ref().map_or(0, |f| f.sessions);
    let baseline_sessions = baseline.findings.as_ref().map(|f| f.sessions);
    let mut reasons = Vec::new();
    for f in findings.iter().filter(|f| f.regression) {
        reasons.push(format!(
            "{} of {candidate_sessions} candidate session(s) made zero tool calls (baseline: {})",
            f.candidate_sessions,
            match (f.baseline_sessions, baseline_sessions) {
                (Some(b), Some(total)) => format!("{b} of {total}"),
                _ => "not recorded".into(),
            }
        ));
    }
    // The phases that got worse first: they say where to look.
    let mut worse: Vec<&Comparison> = comparisons
        .iter()
        .filter(|c| c.verdict == Change::Worse)
        .collect();
    worse.sort_by_key(|c| c.phase == crate::analyze::TOTAL_PHASE);
    for c in worse {
        reasons.push(change_reason(c));
    }
    for claim in claims.iter().filter(|c| !c.holds) {
        reasons.push(format!(
            "claimed {}x on {} does not hold: measured {}",
            claim.expected,
            claim.metric,
            claim
                .measured
                .map_or("nothing".to_string(), |m| format!("{m:.2}x"))
        ));
    }
    let regression = !reasons.is_empty();
    if !regression {
        for c in comparisons.iter().filter(|c| c.verdict == Change::Better) {
            reasons.push(change_reason(c));
        }
    }
    let verdict = if regression {
        ReleaseVerdict::Regression
    } else if !reasons.is_empty() {
        ReleaseVerdict::Improvement
    } else {
        ReleaseVerdict::NoSignificantChange
    };
    ReleaseComparison {
        baseline: spec_text(&options.baseline),
        candidate: spec_text(&options.candidate),
        verdict,
        reasons,
        threshold: options.threshold,
        baseline_sessions,
        candidate_sessions,
        findings,
        comparisons,
        claims,
        baseline_cost: WorkflowCost::of(&baseline.samples, options.workflows_per_day),
        candidate_cost: WorkflowCost::of(&candidate.samples, options.workflows_per_day),
        workflows_per_day: options.workflows_per_day,
        baseline_samples: baseline.samples,
        candidate_samples: candidate.samples,
    }
}

/// A group as the user gave it.
pub fn spec_text(spec: &GroupSpec) -> String {
    match spec {
        GroupSpec::Saved(name) => format!("saved:{name}"),
        GroupSpec::Filter(filters) => filters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// `phase "build": phase time 20.3 % higher (worse, p = 0.0020)`.
fn change_reason(c: &Comparison) -> String {
    let place = if c.phase == crate::analyze::TOTAL_PHASE {
        "in total".to_string()
    } else {
        format!("phase \"{}\"", c.phase)
    };
    let change = match c.ratio {
        Some(r) => format!(
            "{:.1} % {}",
            ((r - 1.0) * 100.0).abs(),
            if r >= 1.0 { "higher" } else { "lower" }
        ),
        None => "up from 0".into(),
    };
    format!(
        "{place}: {} {change} ({}, p {})",
        c.metric.name.replace('_', " "),
        c.verdict.label(),
        match c.p_value {
            Some(p) if p < 0.0001 => "< 0.0001".to_string(),
            Some(p) => format!("= {p:.4}"),
            None => "= –".to_string(),
        }
    )
}

/// Every finding either group has, those new in the candidate (and regressions) first.
fn finding_changes(
    baseline: Option<&SessionFindings>,
    candidate: Option<&SessionFindings>,
) -> Vec<FindingChange> {
    let mut names: Vec<&String> = baseline
        .iter()
        .chain(candidate.iter())
        .flat_map(|f| f.counts.keys())
        .collect();
    names.sort();
    names.dedup();
    let mut out: Vec<FindingChange> = names
        .into_iter()
        .map(|name| {
            let b = baseline.map(|f| f.count(name));
            let c = candidate.map_or(0, |f| f.count(name));
            let new = c > 0 && b.is_none_or(|b| b == 0);
            FindingChange {
                finding: name.clone(),
                baseline_sessions: b,
                candidate_sessions: c,
                new_in_candidate: new,
                regression: new && stops_calling_tools(name),
            }
        })
        .collect();
    out.sort_by_key(|f| (!f.regression, !f.new_in_candidate));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn group(metric: &str, phase: &str, values: &[f64], hollow: u64) -> SavedGroup {
        SavedGroup {
            samples: vec![SavedSample {
                metric: metric.into(),
                unit: "ms".into(),
                phase: phase.into(),
                values: values.to_vec(),
            }],
            findings: Some(SessionFindings {
                sessions: 4,
                counts: if hollow > 0 {
                    BTreeMap::from([(HOLLOW_FINDING.to_string(), hollow)])
                } else {
                    BTreeMap::new()
                },
            }),
        }
    }

    fn options() -> ReleaseOptions {
        ReleaseOptions {
            baseline: GroupSpec::Filter(vec![("version".into(), "1.4".into())]),
            candidate: GroupSpec::Filter(vec![("version".into(), "1.5".into())]),
            threshold: 0.05,
            metrics: vec![],
            claims: vec![],
            workflows_per_day: 10,
        }
    }

    #[test]
    fn sessions_that_stopped_calling_tools_are_a_regression_whatever_the_speed() {
        let base = [100.0, 101.0, 99.0, 100.5, 100.2, 99.8];
        let faster: Vec<f64> = base.iter().map(|v| v / 2.0).collect();
        let result = release_comparison(
            &options(),
            group("wall_time", "(total)", &base, 0),
            group("wall_time", "(total)", &faster, 4),
        );
        assert_eq!(result.verdict, ReleaseVerdict::Regression);
        assert!(result.reasons[0].starts_with("4 of 4 candidate session(s) made zero tool calls"));
        assert_eq!(result.comparisons[0].verdict, Change::Better);
    }

    #[test]
    fn the_same_figures_are_no_significant_change_and_better_ones_an_improvement() {
        let base = [100.0, 101.0, 99.0, 100.5, 100.2, 99.8];
        let same = release_comparison(
            &options(),
            group("phase_time", "build", &base, 0),
            group("phase_time", "build", &base, 0),
        );
        assert_eq!(same.verdict, ReleaseVerdict::NoSignificantChange);
        assert!(same.reasons.is_empty());
        let faster: Vec<f64> = base.iter().map(|v| v * 0.7).collect();
        let better = release_comparison(
            &options(),
            group("phase_time", "build", &base, 0),
            group("phase_time", "build", &faster, 0),
        );
        assert_eq!(better.verdict, ReleaseVerdict::Improvement);
        assert!(better.reasons[0].starts_with("phase \"build\": phase time 30.0 % lower"));
    }

    #[test]
    fn claims_parse_and_a_failed_claim_is_a_regression() {
        assert_eq!(
            ClaimSpec::parse("wall_time=10x"),
            Ok(ClaimSpec {
                metric: "wall_time".into(),
                factor: 10.0
            })
        );
        assert_eq!(ClaimSpec::parse("3x").map(|c| c.factor), Ok(3.0));
        assert!(ClaimSpec::parse("walltime=3x").is_err());
        assert!(ClaimSpec::parse("wall_time=fast").is_err());
        let base = [100.0, 101.0, 99.0, 100.5, 100.2, 99.8];
        let half: Vec<f64> = base.iter().map(|v| v / 2.0).collect();
        let mut o = options();
        o.claims = vec![ClaimSpec::parse("wall_time=3x").expect("a claim")];
        let result = release_comparison(
            &o,
            group("wall_time", "(total)", &base, 0),
            group("wall_time", "(total)", &half, 0),
        );
        assert_eq!(result.verdict, ReleaseVerdict::Regression);
        assert!(
            result.reasons[0].contains("claimed 3x on wall_time does not hold: measured 2.00x")
        );
    }
}
