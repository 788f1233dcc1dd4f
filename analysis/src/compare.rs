//! `runlens compare`: is the candidate better or worse than the baseline, metric by metric,
//! and is the difference real?
//!
//! For every metric (and phase) both groups measured: the two medians, their ratio
//! (candidate / baseline) with a seeded percentile-bootstrap 95 % confidence interval, the
//! two-sided Mann–Whitney U p-value, and a verdict. A difference is a verdict only when it
//! is significant (p < 0.05) *and* larger than the threshold (`--threshold`, default 5 %);
//! which way is better is the metric's [`crate::catalogue`] direction (lower for
//! times, memory, tokens and cost; higher for throughput, tool calls and outputs).
//! `worse` on any metric makes the command exit 1, so a release pipeline can gate on it.
//!
//! A baseline may be saved (`--save-baseline NAME` writes its samples to
//! `<data>/baselines/NAME.json`) and compared against later (`--baseline saved:NAME`).
//! `--expect-speedup 10x` answers a claim: baseline median / candidate median ≥ 10 for the
//! chosen metric (wall time by default), with the evidence.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use polars::prelude::*;
use runlens_ingest::Dataset;
use runlens_ingest::schema::Table;

use crate::analyze::{Sample, groups_on_spark, keyed_scan, samples};
use crate::catalogue::{self, Metric, Unit};
use crate::error::{AnalysisError, Result};
use crate::prices::PriceTable;
use crate::scan::DatasetReader;
use crate::spark::Spark;
use crate::stats::{bootstrap_ratio_ci, mann_whitney_p, quantile_sorted};

/// Bootstrap resamples.
pub const BOOTSTRAP_ROUNDS: usize = 2000;
/// Bootstrap seed: the same data give the same interval.
pub const BOOTSTRAP_SEED: u64 = 0x72_75_6e_6c_65_6e_73; // "runlens"
/// Significance level of the verdicts.
pub const ALPHA: f64 = 0.05;

/// A group's samples, as saved under a name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedSample {
    /// Metric name.
    pub metric: String,
    /// Unit.
    pub unit: String,
    /// Phase, or `(total)`.
    pub phase: String,
    /// The counted values.
    pub values: Vec<f64>,
}

/// How many of a group's sessions carry each validation finding (`sessions.findings`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SessionFindings {
    /// Sessions in the group.
    pub sessions: u64,
    /// Sessions per finding (`zero_tool_calls`, `tool_errors`, ...).
    pub counts: std::collections::BTreeMap<String, u64>,
}

impl SessionFindings {
    /// The findings of the sessions `filters` keep.
    pub fn of(reader: &DatasetReader, filters: &[(String, String)]) -> Result<SessionFindings> {
        let (sessions, _) = keyed_scan(reader, Table::Sessions, &[], filters)?;
        let frame = sessions
            .select([col("findings")])
            .collect()
            .map_err(AnalysisError::polars("reading the sessions' findings"))?;
        let mut out = SessionFindings {
            sessions: frame.height() as u64,
            ..SessionFindings::default()
        };
        let column = crate::cells::strings(&frame, "findings")
            .map_err(AnalysisError::polars("reading the sessions' findings"))?;
        for findings in column.iter().flatten() {
            for finding in findings.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                *out.counts.entry(finding.to_string()).or_default() += 1;
            }
        }
        Ok(out)
    }

    /// Sessions with `finding`.
    pub fn count(&self, finding: &str) -> u64 {
        self.counts.get(finding).copied().unwrap_or(0)
    }
}

/// A group as measured (or as saved under a name): its samples and its sessions' findings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SavedGroup {
    /// The samples of every metric and phase.
    pub samples: Vec<SavedSample>,
    /// The sessions' findings (None in baselines saved before runlens kept them).
    #[serde(default)]
    pub findings: Option<SessionFindings>,
}

/// A saved baseline file: the group, or (as first written) its samples alone.
#[derive(Deserialize)]
#[serde(untagged)]
enum SavedFile {
    Group(SavedGroup),
    Samples(Vec<SavedSample>),
}

/// Where a group's samples come from.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupSpec {
    /// Rows matching every `key=value`.
    Filter(Vec<(String, String)>),
    /// A saved baseline.
    Saved(String),
}

impl GroupSpec {
    /// Parses `k=v,k=v` or `saved:NAME`.
    pub fn parse(text: &str) -> std::result::Result<GroupSpec, String> {
        if let Some(name) = text.strip_prefix("saved:") {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(format!(
                    "{name:?}: a saved baseline name is letters, digits, - _ ."
                ));
            }
            return Ok(GroupSpec::Saved(name.to_string()));
        }
        let pairs: std::result::Result<Vec<(String, String)>, String> = text
            .split(',')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    Ok((k.trim().to_string(), v.trim().to_string()))
                }
                _ => Err(format!("{pair:?}: expected KEY=VALUE (or saved:NAME)")),
            })
            .collect();
        Ok(GroupSpec::Filter(pairs?))
    }
}

/// A metric's change from baseline to candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Change {
    /// Significantly better, beyond the threshold, in the metric's direction.
    #[serde(rename = "better")]
    Better,
    /// Significantly worse, beyond the threshold.
    #[serde(rename = "worse")]
    Worse,
    /// Not significant, or within the threshold.
    #[serde(rename = "no significant difference")]
    NoSignificantDifference,
}

impl Change {
    /// `better`, `worse` or `no significant difference`.
    pub fn label(self) -> &'static str {
        match self {
            Change::Better => "better",
            Change::Worse => "worse",
            Change::NoSignificantDifference => "no significant difference",
        }
    }
}

/// One metric's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The metric.
    pub metric: &'static Metric,
    /// Phase, or `(total)`.
    pub phase: String,
    /// Unit.
    pub unit: Unit,
    /// Baseline observations.
    pub baseline_n: usize,
    /// Baseline median.
    pub baseline_median: f64,
    /// Candidate observations.
    pub candidate_n: usize,
    /// Candidate median.
    pub candidate_median: f64,
    /// Candidate median / baseline median.
    pub ratio: Option<f64>,
    /// Bootstrap 95 % CI of the ratio.
    pub ratio_ci95_low: Option<f64>,
    /// Upper end.
    pub ratio_ci95_high: Option<f64>,
    /// Two-sided Mann–Whitney U p-value.
    pub p_value: Option<f64>,
    /// `better`, `worse` or `no significant difference`.
    pub verdict: Change,
}

/// The answer to `--expect-speedup`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeedupClaim {
    /// Metric it was checked on.
    pub metric: String,
    /// The claimed factor.
    pub expected: f64,
    /// Baseline median / candidate median.
    pub measured: Option<f64>,
    /// Bootstrap 95 % CI of the measured factor.
    pub ci95: Option<(f64, f64)>,
    /// Whether the measured factor reaches the claim.
    pub holds: bool,
}

/// A group's samples and findings: from the dataset or a saved baseline.
pub fn load_group(
    reader: &DatasetReader,
    spec: &GroupSpec,
    per_phase: bool,
    prices: Option<&PriceTable>,
) -> Result<SavedGroup> {
    match spec {
        GroupSpec::Filter(filters) => Ok(SavedGroup {
            samples: saved_samples(samples(reader, filters, per_phase, prices)?),
            findings: Some(SessionFindings::of(reader, filters)?),
        }),
        GroupSpec::Saved(name) => {
            let dataset = reader.dataset();
            let key = baseline_key(name);
            let path = PathBuf::from(dataset.reader_path(&key));
            let bytes = dataset
                .store()
                .get(&key)
                .map_err(|e| AnalysisError::Baseline {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
                .ok_or_else(|| AnalysisError::Baseline {
                    path: path.clone(),
                    reason: "no such saved baseline".into(),
                })?;
            match serde_json::from_slice(&bytes) {
                Ok(SavedFile::Group(group)) => Ok(group),
                Ok(SavedFile::Samples(samples)) => Ok(SavedGroup {
                    samples,
                    findings: None,
                }),
                Err(e) => Err(AnalysisError::Baseline {
                    path,
                    reason: e.to_string(),
                }),
            }
        }
    }
}

/// Several groups' samples and findings, in the order of `specs`: with `spark`, the filtered
/// groups are measured by Spark in one script ([`crate::analyze::groups_on_spark`]: only
/// each metric's distinct values and their counts come back, so the figures are the local
/// engine's), the saved ones read from the dataset; else each as [`load_group`] does.
pub fn load_groups(
    reader: &DatasetReader,
    specs: &[&GroupSpec],
    per_phase: bool,
    prices: Option<&PriceTable>,
    spark: Option<&Spark>,
) -> Result<Vec<SavedGroup>> {
    let Some(spark) = spark else {
        return specs
            .iter()
            .map(|spec| load_group(reader, spec, per_phase, prices))
            .collect();
    };
    let filters: Vec<Vec<(String, String)>> = specs
        .iter()
        .filter_map(|spec| match spec {
            GroupSpec::Filter(filters) => Some(filters.clone()),
            GroupSpec::Saved(_) => None,
        })
        .collect();
    let mut measured = match filters.is_empty() {
        true => Vec::new(),
        false => groups_on_spark(reader, &filters, per_phase, prices, spark)?,
    }
    .into_iter();
    specs
        .iter()
        .map(|spec| match spec {
            GroupSpec::Filter(_) => {
                let figures = measured.next().ok_or_else(|| AnalysisError::Spark {
                    what: "measuring the compared groups".into(),
                    detail: "fewer groups came back than were asked for".into(),
                })?;
                Ok(SavedGroup {
                    samples: saved_samples(figures.samples),
                    findings: Some(SessionFindings {
                        sessions: figures.sessions,
                        counts: figures.findings,
                    }),
                })
            }
            GroupSpec::Saved(_) => load_group(reader, spec, per_phase, prices),
        })
        .collect()
}

/// Samples as a baseline file keeps them (the metric and unit by name).
fn saved_samples(samples: Vec<Sample>) -> Vec<SavedSample> {
    samples
        .into_iter()
        .map(
            |Sample {
                 metric,
                 phase,
                 values,
             }| SavedSample {
                metric: metric.name.to_string(),
                unit: metric.unit.symbol().to_string(),
                phase,
                values,
            },
        )
        .collect()
}

/// The key of a saved baseline in the dataset (`baselines/NAME.json`).
pub fn baseline_key(name: &str) -> String {
    format!("baselines/{name}.json")
}

/// Saves a group under `name` in the dataset (replacing one saved before under that name);
/// returns where it is. The file is self-contained: a CI job can keep it as an artifact
/// and put it back into another dataset's `baselines/` folder.
pub fn save_baseline(dataset: &Dataset, name: &str, group: &SavedGroup) -> Result<String> {
    let key = baseline_key(name);
    let location = dataset.reader_path(&key);
    let fail = |reason: String| AnalysisError::Baseline {
        path: PathBuf::from(&location),
        reason,
    };
    let text = serde_json::to_string_pretty(group).map_err(|e| fail(e.to_string()))?;
    dataset
        .store()
        .put(&key, text.as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    Ok(location)
}

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    quantile_sorted(&sorted, 0.5)
}

/// Compares every metric (and phase) both groups measured, or only `metrics` when given.
/// A saved sample of a metric the catalogue no longer has is left out.
pub fn compare(
    baseline: &[SavedSample],
    candidate: &[SavedSample],
    metrics: &[String],
    threshold: f64,
) -> Vec<Comparison> {
    use rayon::prelude::*;
    let pairs: Vec<(&'static Metric, &SavedSample, &SavedSample)> = baseline
        .iter()
        .filter(|b| metrics.is_empty() || metrics.contains(&b.metric))
        .filter_map(|b| {
            let metric = catalogue::find(&b.metric)?;
            let c = candidate
                .iter()
                .find(|c| c.metric == b.metric && c.phase == b.phase)?;
            Some((metric, b, c))
        })
        .collect();
    // Each metric's bootstrap and test on its own core.
    pairs
        .into_par_iter()
        .map(|(metric, b, c)| compare_one(metric, b, c, threshold))
        .collect()
}

/// One metric's (and phase's) comparison.
fn compare_one(
    metric: &'static Metric,
    b: &SavedSample,
    c: &SavedSample,
    threshold: f64,
) -> Comparison {
    let (bm, cm) = (median(&b.values), median(&c.values));
    let ratio = (bm != 0.0).then(|| cm / bm);
    let ci = bootstrap_ratio_ci(&b.values, &c.values, BOOTSTRAP_ROUNDS, BOOTSTRAP_SEED);
    let p = mann_whitney_p(&b.values, &c.values);
    // From a baseline median of 0 any change is beyond every relative threshold.
    let beyond_threshold = match ratio {
        Some(r) => (r - 1.0).abs() > threshold,
        None => cm != bm,
    };
    let verdict = match p {
        Some(p) if p < ALPHA && beyond_threshold => {
            if metric.direction.improves(bm, cm) {
                Change::Better
            } else {
                Change::Worse
            }
        }
        _ => Change::NoSignificantDifference,
    };
    Comparison {
        metric,
        phase: b.phase.clone(),
        unit: metric.unit,
        baseline_n: b.values.len(),
        baseline_median: bm,
        candidate_n: c.values.len(),
        candidate_median: cm,
        ratio,
        ratio_ci95_low: ci.map(|c| c.0),
        ratio_ci95_high: ci.map(|c| c.1),
        p_value: p,
        verdict,
    }
}

/// Checks a claimed speed-up (`10` for "10x") on `metric` (total rows).
pub fn speedup_claim(
    baseline: &[SavedSample],
    candidate: &[SavedSample],
    metric: &str,
    expected: f64,
) -> SpeedupClaim {
    let find = |set: &[SavedSample]| {
        set.iter()
            .find(|s| s.metric == metric && s.phase == crate::analyze::TOTAL_PHASE)
            .map(|s| s.values.clone())
    };
    let (measured, ci) = match (find(baseline), find(candidate)) {
        (Some(b), Some(c)) => {
            let (bm, cm) = (median(&b), median(&c));
            let measured = (cm != 0.0).then(|| bm / cm);
            // The factor is baseline / candidate: the bootstrap of its inverse, inverted.
            let ci = bootstrap_ratio_ci(&c, &b, BOOTSTRAP_ROUNDS, BOOTSTRAP_SEED);
            (measured, ci)
        }
        _ => (None, None),
    };
    SpeedupClaim {
        metric: metric.to_string(),
        expected,
        measured,
        ci95: ci,
        holds: measured.is_some_and(|m| m >= expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(metric: &str, values: &[f64]) -> SavedSample {
        SavedSample {
            metric: metric.into(),
            unit: "ms".into(),
            phase: "(total)".into(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn verdicts_need_significance_and_size() {
        let base = [sample(
            "wall_time",
            &[100.0, 101.0, 99.0, 100.5, 99.5, 100.2, 99.8, 100.1, 99.9],
        )];
        let slower = [sample(
            "wall_time",
            &[
                120.0, 121.0, 119.0, 120.5, 119.5, 120.2, 119.8, 120.1, 119.9,
            ],
        )];
        let rows = compare(&base, &slower, &[], 0.05);
        assert_eq!(rows[0].verdict, Change::Worse);
        // Medians 100.0 and 120.0 (by hand).
        assert_eq!(rows[0].ratio, Some(1.2));
        assert!(rows[0].p_value.is_some_and(|p| p < 0.001));
        // A 1 % change is below the 5 % threshold, however significant.
        let tiny = [sample(
            "wall_time",
            &[
                101.0, 102.0, 100.0, 101.5, 100.5, 101.2, 100.8, 101.1, 100.9,
            ],
        )];
        assert_eq!(
            compare(&base, &tiny, &[], 0.05)[0].verdict,
            Change::NoSignificantDifference
        );
        // Higher is better for throughput.
        let tps = [sample(
            "output_tokens_per_s",
            &[50.0, 51.0, 49.0, 50.0, 50.5, 49.5, 50.2, 49.8, 50.1],
        )];
        let faster = [sample(
            "output_tokens_per_s",
            &[80.0, 81.0, 79.0, 80.0, 80.5, 79.5, 80.2, 79.8, 80.1],
        )];
        assert_eq!(compare(&tps, &faster, &[], 0.05)[0].verdict, Change::Better);
        // Three runs each cannot reach p < 0.05 with the exact test (minimum p is 0.1).
        let three = compare(
            &[sample("wall_time", &[100.0, 101.0, 99.0])],
            &[sample("wall_time", &[200.0, 201.0, 199.0])],
            &[],
            0.05,
        );
        assert_eq!(three[0].p_value, Some(0.1));
        assert_eq!(three[0].verdict, Change::NoSignificantDifference);
    }

    /// For every metric of the catalogue, a candidate better in the metric's own sense (more
    /// tool calls or outputs, higher tokens/s; lower time, memory, tokens or cost) is
    /// "better", and the mirror image "worse".
    #[test]
    fn a_better_candidate_is_better_on_every_metric() {
        let low = [10.0, 10.5, 9.5, 10.2, 9.8, 10.1, 9.9, 10.3, 9.7];
        let high: Vec<f64> = low.iter().map(|v| v * 2.0).collect();
        let higher_is_better = ["output_tokens_per_s", "tool_calls", "outputs"];
        for metric in &catalogue::CATALOGUE {
            let (better, worse): (&[f64], &[f64]) = if higher_is_better.contains(&metric.name) {
                (&high, &low)
            } else {
                (&low, &high)
            };
            let verdict = |base: &[f64], cand: &[f64]| {
                compare(
                    &[sample(metric.name, base)],
                    &[sample(metric.name, cand)],
                    &[],
                    0.05,
                )[0]
                .verdict
            };
            assert_eq!(verdict(worse, better), Change::Better, "{}", metric.name);
            assert_eq!(verdict(better, worse), Change::Worse, "{}", metric.name);
        }
    }

    #[test]
    fn speedup_claims() {
        let uncached = [sample("wall_time", &[10_000.0, 10_200.0, 9_900.0])];
        let cached = [sample("wall_time", &[900.0, 1_000.0, 950.0])];
        // 10,000 / 950 = 10.53
        let claim = speedup_claim(&uncached, &cached, "wall_time", 10.0);
        assert!(claim.holds);
        assert!((claim.measured.expect("factor") - 10_000.0 / 950.0).abs() < 1e-12);
        assert!(!speedup_claim(&uncached, &cached, "wall_time", 20.0).holds);
    }

    #[test]
    fn group_specs() {
        assert_eq!(
            GroupSpec::parse("provider=ollama,version=1.4"),
            Ok(GroupSpec::Filter(vec![
                ("provider".into(), "ollama".into()),
                ("version".into(), "1.4".into())
            ]))
        );
        assert_eq!(
            GroupSpec::parse("saved:v1.4"),
            Ok(GroupSpec::Saved("v1.4".into()))
        );
        assert!(GroupSpec::parse("saved:../x").is_err());
        assert!(GroupSpec::parse("ollama").is_err());
    }
}
