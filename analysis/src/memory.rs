//! `runlens memory`: does memory grow across repeated runs, or within a run?
//!
//! Per group (`--by`, `--filter` as in `analyze`), over the counted runs in order (start time,
//! else input file name, then position in the file): each run's peak memory — the sampled process-tree peak
//! (`tree_peak_rss_bytes`) where the recorder sampled, else the kernel's single-process
//! peak (`max_rss_bytes`) — the first and last run's peak, the growth between them
//! (last / first − 1), and the least-squares slope of peak against run number (bytes per
//! run). Within runs: the least-squares slope of the sampled tree RSS against elapsed time
//! (bytes per second), averaged over the runs that have at least three samples. The verdict
//! is `leak suspected` when the growth across runs exceeds the threshold (default 10 %) and
//! the slope is positive, else `stable`.

use std::collections::BTreeMap;

use polars::prelude::*;
use runlens_ingest::schema::Table;

use crate::analyze::{AnalyzeOptions, check_keys, group_column, keyed_scan};
use crate::catalogue::run_failed;
use crate::cells;
use crate::error::{AnalysisError, Result};
use crate::scan::DatasetReader;

mod spark;

/// Whether memory grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum MemoryVerdict {
    /// Growth above the threshold with a positive slope.
    #[serde(rename = "leak suspected")]
    LeakSuspected,
    /// Anything else.
    #[serde(rename = "stable")]
    Stable,
}

impl MemoryVerdict {
    /// `leak suspected` or `stable`.
    pub fn label(self) -> &'static str {
        match self {
            MemoryVerdict::LeakSuspected => "leak suspected",
            MemoryVerdict::Stable => "stable",
        }
    }
}

/// One group's memory figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MemoryGrowth {
    /// The group's key values.
    #[serde(skip)]
    pub group: Vec<Option<String>>,
    /// Counted runs with a peak.
    pub runs: usize,
    /// First run's peak, bytes.
    pub first_peak_bytes: f64,
    /// Last run's peak, bytes.
    pub last_peak_bytes: f64,
    /// last / first − 1.
    pub growth: f64,
    /// Least-squares slope of the peak per run, bytes per run (None for one run).
    pub slope_bytes_per_run: Option<f64>,
    /// Mean within-run slope of the sampled RSS, bytes per second (None without samples).
    pub within_run_bytes_per_s: Option<f64>,
    /// `leak suspected` or `stable`.
    pub verdict: MemoryVerdict,
}

/// Least-squares slope of `y` on `x`; None for fewer than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    Some(sxy / sxx)
}

/// Memory growth per group; `threshold` is the growth (0.10 = 10 %) that flags a leak.
pub fn memory_growth(
    reader: &DatasetReader,
    by: &[String],
    filters: &[(String, String)],
    threshold: f64,
) -> Result<Vec<MemoryGrowth>> {
    memory_growth_on(reader, by, filters, threshold, None)
}

/// [`memory_growth`] on the embedded engine, or with `spark` reading the runs and reducing
/// the samples to each run's slope there (`memory/spark.rs`); the groups are finished
/// here either way.
pub fn memory_growth_on(
    reader: &DatasetReader,
    by: &[String],
    filters: &[(String, String)],
    threshold: f64,
    spark: Option<&crate::spark::Spark>,
) -> Result<Vec<MemoryGrowth>> {
    check_keys(
        reader,
        &AnalyzeOptions {
            by: by.to_vec(),
            filters: filters.to_vec(),
            ..AnalyzeOptions::default()
        },
    )?;
    let runs = match spark {
        Some(spark) => spark::runs_on_spark(reader, by, filters, spark)?,
        None => counted_runs(reader, by, filters)?,
    };
    Ok(growth(runs, threshold))
}

/// One counted run with a peak: its group, its place in the order runs ran, its peak and
/// the slope of its sampled memory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunMemory {
    /// The group's key values.
    pub group: Vec<Option<String>>,
    /// Start time, microseconds since the epoch.
    pub start: Option<i64>,
    /// Position in its input file.
    pub index: Option<i64>,
    /// Its input file ("" for none).
    pub path: String,
    /// Peak memory, bytes.
    pub peak: f64,
    /// Least-squares slope of its sampled tree RSS, bytes per second (at least 3 samples).
    pub within: Option<f64>,
}

/// The counted runs (no warm-up, not failed) with a peak, read by the embedded engine.
fn counted_runs(
    reader: &DatasetReader,
    by: &[String],
    filters: &[(String, String)],
) -> Result<Vec<RunMemory>> {
    let err = || AnalysisError::polars("reading the runs' memory");
    let (lf, keys) = keyed_scan(reader, Table::Runs, by, filters)?;
    let mut select = keys;
    select.extend([
        col("run_id"),
        col("start_ts").cast(DataType::Int64).alias("__start"),
        col("run_index").cast(DataType::Int64).alias("__index"),
        col("source_path").fill_null(lit("")).alias("__path"),
        coalesce(&[col("tree_peak_rss_bytes"), col("max_rss_bytes")])
            .cast(DataType::Float64)
            .alias("__peak"),
    ]);
    let runs = lf
        .filter(col("is_warmup").not().and(run_failed().not()))
        .select(select)
        .collect()
        .map_err(err())?;
    let samples = reader
        .scan(Table::Samples)?
        .select([
            col("run_id"),
            col("elapsed_ms").cast(DataType::Float64),
            col("rss_bytes").cast(DataType::Float64),
        ])
        .drop_nulls(None)
        .collect()
        .map_err(err())?;
    // Within-run slopes, bytes per second.
    let mut points: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    {
        let ids = cells::strings(&samples, "run_id").map_err(err())?;
        let t = cells::floats(&samples, "elapsed_ms").map_err(err())?;
        let rss = cells::floats(&samples, "rss_bytes").map_err(err())?;
        for i in 0..samples.height() {
            if let (Some(id), Some(t), Some(r)) = (ids.get(i), t.get(i), rss.get(i)) {
                points
                    .entry(id.to_string())
                    .or_default()
                    .push((t / 1000.0, r));
            }
        }
    }
    let key_columns: Vec<StringChunked> = (0..by.len())
        .map(|i| cells::strings(&runs, &group_column(i)))
        .collect::<PolarsResult<_>>()
        .map_err(err())?;
    let ids = cells::strings(&runs, "run_id").map_err(err())?;
    let starts = cells::ints(&runs, "__start").map_err(err())?;
    let indexes = cells::ints(&runs, "__index").map_err(err())?;
    let peaks = cells::floats(&runs, "__peak").map_err(err())?;
    let paths = cells::strings(&runs, "__path").map_err(err())?;
    let mut out = Vec::new();
    for i in 0..runs.height() {
        let Some(peak) = peaks.get(i) else { continue };
        out.push(RunMemory {
            group: key_columns
                .iter()
                .map(|c| c.get(i).map(str::to_string))
                .collect(),
            start: starts.get(i),
            index: indexes.get(i),
            path: paths.get(i).unwrap_or("").to_string(),
            peak,
            within: ids
                .get(i)
                .and_then(|id| points.get(id))
                .filter(|p| p.len() >= MIN_SAMPLES)
                .and_then(|p| slope(p)),
        });
    }
    Ok(out)
}

/// Samples a run needs for its within-run slope.
pub(crate) const MIN_SAMPLES: usize = 3;

/// Each group's figures from its counted runs.
fn growth(runs: Vec<RunMemory>, threshold: f64) -> Vec<MemoryGrowth> {
    let mut groups: BTreeMap<Vec<Option<String>>, Vec<RunMemory>> = BTreeMap::new();
    for run in runs {
        groups.entry(run.group.clone()).or_default().push(run);
    }
    let mut out = Vec::new();
    for (group, mut runs) in groups {
        // In the order they ran: start time, else their position, else their file's name.
        runs.sort_by(|a, b| {
            (a.start.unwrap_or(i64::MAX), &a.path, a.index.unwrap_or(0)).cmp(&(
                b.start.unwrap_or(i64::MAX),
                &b.path,
                b.index.unwrap_or(0),
            ))
        });
        let first = runs[0].peak;
        let last = runs[runs.len() - 1].peak;
        let growth = if first > 0.0 { last / first - 1.0 } else { 0.0 };
        let series: Vec<(f64, f64)> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| (i as f64, r.peak))
            .collect();
        let per_run = slope(&series);
        let within: Vec<f64> = runs.iter().filter_map(|r| r.within).collect();
        let within_mean =
            (!within.is_empty()).then(|| within.iter().sum::<f64>() / within.len() as f64);
        let leak = growth > threshold && per_run.is_some_and(|s| s > 0.0);
        out.push(MemoryGrowth {
            group,
            runs: runs.len(),
            first_peak_bytes: first,
            last_peak_bytes: last,
            growth,
            slope_bytes_per_run: per_run,
            within_run_bytes_per_s: within_mean,
            verdict: if leak {
                MemoryVerdict::LeakSuspected
            } else {
                MemoryVerdict::Stable
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_slope_by_hand() {
        // y = 3x + 1 exactly.
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 4.0), (2.0, 7.0)]), Some(3.0));
        // (0,1) (1,3) (2,2): mean x 1, mean y 2, sxy = (−1)(−1) + 0 + (1)(0) = 1, sxx = 2.
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)]), Some(0.5));
        assert_eq!(slope(&[(1.0, 1.0)]), None);
        assert_eq!(slope(&[(1.0, 1.0), (1.0, 2.0)]), None);
    }
}
