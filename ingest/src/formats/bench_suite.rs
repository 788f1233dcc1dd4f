//! Benchmark suite JSON with percentile tables.
//!
//! Shape (one suite per file):
//! `{"suite_name", "timestamp"?, "benchmark_results": [{"name", "iterations",
//! "warmup_iterations", "latency_ms": {p50, p95, p99, mean, stddev, min, max, count},
//! "throughput_ops_per_sec", "resources": {cpu_mean, cpu_peak, memory_mean_mb,
//! memory_peak_mb, threads_mean, threads_peak}, "confidence_interval": {lower, upper,
//! confidence}, "outliers_removed"}]}`. Every field but `name` is optional. Memory in "MB"
//! is read as MiB (2^20 bytes), what psutil-based harnesses mean by it. `confidence` may
//! be written as 0.95 or 95.

use std::io::BufRead;

use serde::Deserialize;

use super::json_input::{decode_array, read_document, starts_json_object};
use super::{Format, ParseContext, ParseError, RowSink, Sniff};
use crate::formats::timestamps::parse_timestamp;
use crate::schema::BenchResultRow;

#[derive(Debug, Deserialize)]
struct Entry {
    name: String,
    iterations: Option<i64>,
    warmup_iterations: Option<i64>,
    latency_ms: Option<Latency>,
    throughput_ops_per_sec: Option<f64>,
    resources: Option<Resources>,
    confidence_interval: Option<Interval>,
    outliers_removed: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct Latency {
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
    mean: Option<f64>,
    stddev: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    count: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct Resources {
    cpu_mean: Option<f64>,
    cpu_peak: Option<f64>,
    memory_mean_mb: Option<f64>,
    memory_peak_mb: Option<f64>,
    threads_mean: Option<f64>,
    threads_peak: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct Interval {
    lower: Option<f64>,
    upper: Option<f64>,
    confidence: Option<f64>,
}

const MIB: f64 = 1024.0 * 1024.0;

/// The `bench_suite` format.
pub struct BenchSuite;

impl Format for BenchSuite {
    fn name(&self) -> &'static str {
        "bench_suite"
    }

    fn description(&self) -> &'static str {
        "benchmark suite JSON: suite_name + benchmark_results[] with latency percentiles"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        starts_json_object(sniff.head) && sniff.head.contains("\"benchmark_results\"")
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut doc = read_document(input)?;
        let suite_name = doc
            .get("suite_name")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let recorded_ts = ["timestamp", "started_at", "created_at", "date"]
            .iter()
            .find_map(|k| doc.get(*k))
            .and_then(|v| match v {
                serde_json::Value::String(s) => parse_timestamp(s),
                serde_json::Value::Number(n) => {
                    n.as_f64().and_then(|n| parse_timestamp(&n.to_string()))
                }
                _ => None,
            });
        for (index, entry) in decode_array::<Entry>(&mut doc, "benchmark_results", sink)? {
            let row = to_row(entry, index, ctx.file_id, suite_name.clone(), recorded_ts);
            sink.rows.bench_results.push(row);
        }
        sink.checkpoint()?;
        Ok(())
    }
}

fn to_row(
    entry: Entry,
    index: usize,
    file_id: &str,
    suite_name: Option<String>,
    recorded_ts: Option<crate::schema::Timestamp>,
) -> BenchResultRow {
    let latency = entry.latency_ms.unwrap_or_default();
    let resources = entry.resources.unwrap_or_default();
    let ci = entry.confidence_interval.unwrap_or_default();
    BenchResultRow {
        bench_id: super::row_id(file_id, 'b', index as u64),
        source_format: "bench_suite".into(),
        suite_name,
        name: entry.name,
        recorded_ts,
        iterations: entry.iterations,
        warmup_iterations: entry.warmup_iterations,
        sample_count: latency.count,
        mean_ms: latency.mean,
        stddev_ms: latency.stddev,
        p50_ms: latency.p50,
        p95_ms: latency.p95,
        p99_ms: latency.p99,
        min_ms: latency.min,
        max_ms: latency.max,
        throughput_ops_per_s: entry.throughput_ops_per_sec,
        cpu_mean_percent: resources.cpu_mean,
        cpu_peak_percent: resources.cpu_peak,
        memory_mean_bytes: resources.memory_mean_mb.map(|mb| (mb * MIB).round() as i64),
        memory_peak_bytes: resources.memory_peak_mb.map(|mb| (mb * MIB).round() as i64),
        threads_mean: resources.threads_mean,
        threads_peak: resources.threads_peak.map(|t| t.round() as i64),
        ci_lower_ms: ci.lower,
        ci_upper_ms: ci.upper,
        ci_confidence: ci.confidence.map(|c| if c > 1.0 { c / 100.0 } else { c }),
        outliers_removed: entry.outliers_removed,
        result_index: index as i32,
        ..BenchResultRow::default()
    }
}
