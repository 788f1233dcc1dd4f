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

use super::json_input::{JsonObjectDocument, decode_array, decode_field, starts_json_object};
use super::{Format, ParseContext, ParseError, RowSink, Sniff};
use crate::formats::timestamps::parse_timestamp;
use crate::schema::BenchResultRow;

/// A whole suite, for the one-pass decoding of a well-formed file. The timestamp fields
/// are `Some` whenever present, `null` included ([`present`]), so the first present key
/// wins as it does on the entry-by-entry path.
#[derive(Debug, Deserialize)]
struct Suite {
    suite_name: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    timestamp: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    started_at: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    created_at: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    date: Option<serde_json::Value>,
    benchmark_results: Vec<Entry>,
}

/// A field's value whenever the field is there, `null` included (serde's `Option` reads a
/// `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

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
        starts_json_object(sniff.head) && super::head_contains(sniff.head, "\"benchmark_results\"")
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let doc = JsonObjectDocument::read(input)?;
        let (suite_name, recorded_ts, entries) = match doc.decode_whole::<Suite>() {
            Some(suite) if !suite.benchmark_results.is_empty() => (
                suite
                    .suite_name
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                [
                    suite.timestamp,
                    suite.started_at,
                    suite.created_at,
                    suite.date,
                ]
                .into_iter()
                .flatten()
                .next()
                .and_then(suite_timestamp),
                suite.benchmark_results.into_iter().enumerate().collect(),
            ),
            _ => {
                let fields = doc.fields()?;
                (
                    decode_field::<String>(&fields, "suite_name"),
                    TIMESTAMP_KEYS
                        .iter()
                        .find(|k| fields.contains_key(**k))
                        .and_then(|k| decode_field::<serde_json::Value>(&fields, k))
                        .and_then(suite_timestamp),
                    decode_array::<Entry>(&doc, &fields, "benchmark_results", sink)?,
                )
            }
        };
        for (index, entry) in entries {
            let row = to_row(entry, index, ctx.file_id, suite_name.clone(), recorded_ts);
            sink.rows.bench_results.push(row);
        }
        sink.checkpoint()?;
        Ok(())
    }
}

/// The keys a suite's start may be under, in order of preference: the first present wins,
/// even when its value is not a time.
const TIMESTAMP_KEYS: [&str; 4] = ["timestamp", "started_at", "created_at", "date"];

/// A suite's start from its JSON value: a time string, or a number of epoch seconds or ms.
fn suite_timestamp(value: serde_json::Value) -> Option<crate::schema::Timestamp> {
    match value {
        serde_json::Value::String(s) => parse_timestamp(&s),
        serde_json::Value::Number(n) => n.as_f64().and_then(|n| parse_timestamp(&n.to_string())),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{LineIssue, ParseOptions};
    use crate::schema::TableRows;

    fn parse(json: &str) -> (TableRows, Vec<LineIssue>) {
        let mut spill = |_: TableRows| Ok(());
        let mut sink = RowSink::new(&mut spill, usize::MAX);
        let options = ParseOptions::default();
        let ctx = ParseContext {
            file_id: "f",
            path: std::path::Path::new("suite.json"),
            options: &options,
        };
        BenchSuite
            .parse(&mut json.as_bytes(), &ctx, &mut sink)
            .map_err(|e| format!("{e:?}"))
            .expect("parses");
        let (rows, issues, _) = sink.finish();
        (rows, issues)
    }

    const ENTRIES: &str = r#"[
        {"name": "embed", "iterations": 10,
         "latency_ms": {"p50": 1.5, "p95": 2.0, "p99": 2.5, "count": 10},
         "resources": {"memory_peak_mb": 2.0}, "confidence_interval": {"lower": 1, "upper": 2, "confidence": 95}},
        {"name": "rank", "throughput_ops_per_sec": 120}
    ]"#;

    #[test]
    fn a_well_formed_suite_reads_the_same_in_one_pass_as_entry_by_entry() {
        // The first document decodes in one pass; the second holds a key twice, which a
        // typed struct refuses, so it takes the entry-by-entry path (the last value wins,
        // as in a serde_json::Value). Both must give the same rows.
        let one_pass = format!(
            r#"{{"suite_name": "s", "timestamp": "2026-11-02T10:00:00Z", "benchmark_results": {ENTRIES}}}"#
        );
        let by_entry = format!(
            r#"{{"suite_name": "other", "suite_name": "s", "timestamp": "2026-11-02T10:00:00Z",
                "benchmark_results": {ENTRIES}}}"#
        );
        let (fast, fast_issues) = parse(&one_pass);
        let (slow, slow_issues) = parse(&by_entry);
        assert!(fast_issues.is_empty() && slow_issues.is_empty());
        assert_eq!(fast.bench_results.len(), 2);
        assert_eq!(fast.bench_results, slow.bench_results);
        let first = &fast.bench_results[0];
        assert_eq!(first.suite_name.as_deref(), Some("s"));
        assert_eq!(first.p95_ms, Some(2.0));
        assert_eq!(first.memory_peak_bytes, Some(2 * 1024 * 1024));
        assert!(first.recorded_ts.is_some());
    }

    #[test]
    fn the_first_timestamp_key_present_wins_even_when_null() {
        // `timestamp: null` is present: it wins over `started_at`, and gives no time, on
        // both paths.
        for doubled in ["", r#""suite_name": "x", "#] {
            let (rows, _) = parse(&format!(
                r#"{{{doubled}"suite_name": "s", "timestamp": null, "started_at": "2026-11-02T10:00:00Z",
                    "benchmark_results": {ENTRIES}}}"#
            ));
            assert_eq!(rows.bench_results[0].recorded_ts, None, "{doubled:?}");
        }
        let (rows, _) = parse(&format!(
            r#"{{"started_at": "2026-11-02T10:00:00Z", "benchmark_results": {ENTRIES}}}"#
        ));
        assert!(rows.bench_results[0].recorded_ts.is_some());
    }

    #[test]
    fn a_bad_entry_is_reported_at_its_line_and_the_others_kept() {
        let (rows, issues) = parse(
            "{\"benchmark_results\": [\n  {\"name\": \"ok\"},\n  {\"name\": \"bad\",\n   \"latency_ms\": {\"p50\": \"x\"}}\n]}",
        );
        assert_eq!(rows.bench_results.len(), 1);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].line, Some(4), "{issues:?}");
        assert_eq!(
            issues[0].reason,
            "benchmark_results[1].latency_ms.p50: invalid type: string \"x\", expected f64"
        );
    }

    #[test]
    fn an_empty_or_missing_results_array_rejects_the_file() {
        for doc in [
            r#"{"suite_name": "s", "benchmark_results": []}"#,
            r#"{"suite_name": "s"}"#,
            r#"{"benchmark_results": {"name": "x"}}"#,
        ] {
            let mut spill = |_: TableRows| Ok(());
            let mut sink = RowSink::new(&mut spill, usize::MAX);
            let options = ParseOptions::default();
            let ctx = ParseContext {
                file_id: "f",
                path: std::path::Path::new("suite.json"),
                options: &options,
            };
            assert!(
                BenchSuite
                    .parse(&mut doc.as_bytes(), &ctx, &mut sink)
                    .is_err(),
                "{doc}"
            );
        }
    }
}
