//! hyperfine `--export-json` files.
//!
//! `{"results": [{"command", "mean", "stddev", "median", "user", "system", "min", "max",
//! "times": [...], "exit_codes": [...], "parameters": {...}?, "memory_usage_byte": [...]?}]}`
//! Times are seconds (converted to ms). `stddev` is null for a single run; `exit_codes`
//! holds null for a run killed by a signal; `memory_usage_byte` exists from hyperfine 1.19.
//! Every run's time is kept in `times_ms`, so statistics can be recomputed.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;

use super::json_input::{JsonObjectDocument, decode_array, starts_json_object};
use super::{Format, ParseContext, ParseError, RowSink, Sniff};
use crate::redact::redact_command;
use crate::schema::BenchResultRow;

/// A whole export, for the one-pass decoding of a well-formed file.
#[derive(Debug, Deserialize)]
struct Export {
    results: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    command: String,
    mean: Option<f64>,
    stddev: Option<f64>,
    median: Option<f64>,
    user: Option<f64>,
    system: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    times: Option<Vec<f64>>,
    exit_codes: Option<Vec<Option<i64>>>,
    parameters: Option<BTreeMap<String, serde_json::Value>>,
    memory_usage_byte: Option<Vec<Option<i64>>>,
}

fn ms(seconds: Option<f64>) -> Option<f64> {
    seconds.map(|s| s * 1000.0)
}

/// The `hyperfine` format.
pub struct Hyperfine;

impl Format for Hyperfine {
    fn name(&self) -> &'static str {
        "hyperfine"
    }

    fn description(&self) -> &'static str {
        "hyperfine --export-json results (every run's time, exit codes, memory)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let head = sniff.head;
        starts_json_object(head)
            && super::head_contains(head, "\"results\"")
            && super::head_contains(head, "\"command\"")
            && (super::head_contains(head, "\"mean\"") || super::head_contains(head, "\"times\""))
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let doc = JsonObjectDocument::read(input)?;
        let entries = match doc.decode_whole::<Export>() {
            Some(export) if !export.results.is_empty() => {
                export.results.into_iter().enumerate().collect()
            }
            _ => decode_array::<Entry>(&doc, &doc.fields()?, "results", sink)?,
        };
        for (index, entry) in entries {
            sink.rows
                .bench_results
                .push(to_row(entry, index, ctx.file_id));
        }
        sink.checkpoint()?;
        Ok(())
    }
}

fn to_row(entry: Entry, index: usize, file_id: &str) -> BenchResultRow {
    let times_ms: Option<Vec<f64>> = entry.times.map(|t| t.iter().map(|s| s * 1000.0).collect());
    let parameters = entry.parameters.filter(|p| !p.is_empty()).map(|p| {
        p.iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    let memory_peak_bytes = entry
        .memory_usage_byte
        .as_ref()
        .and_then(|m| m.iter().flatten().max().copied());
    BenchResultRow {
        bench_id: super::row_id(file_id, 'b', index as u64),
        source_format: "hyperfine".into(),
        name: redact_command(&entry.command),
        iterations: times_ms.as_ref().map(|t| t.len() as i64),
        sample_count: times_ms.as_ref().map(|t| t.len() as i64),
        mean_ms: ms(entry.mean),
        stddev_ms: ms(entry.stddev),
        p50_ms: ms(entry.median),
        min_ms: ms(entry.min),
        max_ms: ms(entry.max),
        user_ms: ms(entry.user),
        sys_ms: ms(entry.system),
        memory_peak_bytes,
        times_ms,
        exit_codes: entry.exit_codes,
        memory_usage_bytes: entry.memory_usage_byte,
        parameters,
        result_index: index as i32,
        ..BenchResultRow::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TableRows;

    fn parse(json: &str) -> (TableRows, u64) {
        let mut spill = |_: TableRows| Ok(());
        let mut sink = RowSink::new(&mut spill, usize::MAX);
        let options = crate::formats::ParseOptions::default();
        let ctx = ParseContext {
            file_id: "f",
            path: std::path::Path::new("x.json"),
            options: &options,
        };
        Hyperfine
            .parse(&mut json.as_bytes(), &ctx, &mut sink)
            .map_err(|e| format!("{e:?}"))
            .expect("parses");
        let (rows, _, issues) = sink.finish();
        (rows, issues)
    }

    #[test]
    fn newer_export_with_memory_single_run_and_signal() {
        // hyperfine >= 1.19: memory_usage_byte per run; stddev null for one run;
        // an exit code is null when the run was killed by a signal.
        let (rows, issues) = parse(
            r#"{"results": [
              {"command": "OPENAI_API_KEY=sk-abcdefgh12345678 ./agent", "mean": 1.5, "stddev": null,
               "median": 1.5, "user": 0.5, "system": 0.25, "min": 1.5, "max": 1.5,
               "times": [1.5], "exit_codes": [null], "memory_usage_byte": [52428800],
               "parameters": {"model": "llama3.2:3b"}},
              {"command": "broken", "mean": "fast"}
            ]}"#,
        );
        assert_eq!(issues, 1, "the second entry is reported, not fatal");
        let row = &rows.bench_results[0];
        assert_eq!(row.name, "OPENAI_API_KEY=[REDACTED] ./agent");
        assert_eq!(row.mean_ms, Some(1500.0));
        assert_eq!(row.stddev_ms, None);
        assert_eq!(row.sys_ms, Some(250.0));
        assert_eq!(row.times_ms, Some(vec![1500.0]));
        assert_eq!(row.exit_codes, Some(vec![None]));
        assert_eq!(row.memory_peak_bytes, Some(52_428_800));
        assert_eq!(row.parameters.as_deref(), Some("model=llama3.2:3b"));
        assert_eq!(row.iterations, Some(1));
    }
}
