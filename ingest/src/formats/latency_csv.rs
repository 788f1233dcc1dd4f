//! Per-model latency baselines in CSV, one LLM call (or one measurement) per row.
//!
//! Header-driven: columns are found by name, in any order and several spellings
//! (normalised: lower case, spaces/dashes/brackets to `_`). Recognised columns:
//!
//! | runlens column | header spellings |
//! | --- | --- |
//! | `start_ts` | timestamp, time, ts, date, datetime, created_at, start_time |
//! | `provider` | provider, vendor, backend |
//! | `request_model` | model, model_name, model_id, request_model |
//! | `ttft_ms` | first_token_ms, ttft_ms, time_to_first_token_ms, ttft (ms); `*_s` spellings ×1000 |
//! | `output_tokens_per_s` | tokens_per_s, tokens_per_sec, tokens_per_second, tok_s, tps, output_tokens_per_s |
//! | `total_ms` | total_ms, latency_ms, duration_ms, e2e_ms, total_latency_ms; `*_s` ×1000 |
//! | `tpot_ms` | tpot_ms, inter_token_ms, itl_ms |
//! | `input_tokens` | input_tokens, prompt_tokens |
//! | `output_tokens` | output_tokens, completion_tokens |
//!
//! A model column and at least one metric column are required (else the file is rejected,
//! naming the columns it has). Every other column is kept as a label of the row. A row with
//! a non-numeric or negative metric, or the wrong number of fields, is skipped and
//! reported with its line; empty cells are null.

use std::collections::BTreeMap;
use std::io::BufRead;

use super::timestamps::parse_timestamp;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff, parse_number, trim};
use crate::schema::{Labels, LlmCallRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Timestamp,
    Provider,
    Model,
    TtftMs,
    TtftS,
    TokensPerS,
    TotalMs,
    TotalS,
    TpotMs,
    InputTokens,
    OutputTokens,
}

fn normalise(header: &str) -> String {
    let mut out = String::new();
    for c in header.trim().trim_start_matches('\u{feff}').chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn classify(normalised: &str) -> Option<Column> {
    Some(match normalised {
        "timestamp" | "time" | "ts" | "date" | "datetime" | "created_at" | "start_time" => {
            Column::Timestamp
        }
        "provider" | "vendor" | "backend" => Column::Provider,
        "model" | "model_name" | "model_id" | "request_model" => Column::Model,
        "first_token_ms"
        | "ttft_ms"
        | "time_to_first_token_ms"
        | "ttft"
        | "first_token_latency_ms" => Column::TtftMs,
        "first_token_s" | "ttft_s" | "time_to_first_token_s" | "first_token_latency_s" => {
            Column::TtftS
        }
        "tokens_per_s"
        | "tokens_per_sec"
        | "tokens_per_second"
        | "tokens_s"
        | "tok_s"
        | "tps"
        | "output_tokens_per_s"
        | "throughput_tokens_per_s" => Column::TokensPerS,
        "total_ms" | "latency_ms" | "duration_ms" | "e2e_ms" | "total_latency_ms" => {
            Column::TotalMs
        }
        "total_s" | "latency_s" | "duration_s" | "e2e_s" | "total_latency_s" => Column::TotalS,
        "tpot_ms" | "inter_token_ms" | "itl_ms" => Column::TpotMs,
        "input_tokens" | "prompt_tokens" => Column::InputTokens,
        "output_tokens" | "completion_tokens" => Column::OutputTokens,
        _ => return None,
    })
}

fn is_metric(c: Column) -> bool {
    !matches!(c, Column::Timestamp | Column::Provider | Column::Model)
}

/// Maps header positions to runlens columns or label names.
struct Layout {
    known: Vec<(usize, Column)>,
    labels: Vec<(usize, String)>,
    width: usize,
}

impl Layout {
    fn from_headers(headers: &csv::StringRecord) -> Result<Self, Rejection> {
        let mut known = Vec::new();
        let mut labels = Vec::new();
        let mut taken = BTreeMap::new();
        for (i, header) in headers.iter().enumerate() {
            let norm = normalise(header);
            match classify(&norm) {
                Some(col) if !taken.contains_key(&col) => {
                    taken.insert(col, i);
                    known.push((i, col));
                }
                _ if !norm.is_empty() => labels.push((i, norm)),
                _ => {}
            }
        }
        let have = || headers.iter().collect::<Vec<_>>().join(", ");
        if !taken.contains_key(&Column::Model) {
            return Err(Rejection::at(
                1,
                format!("missing column: model (have: {})", have()),
            ));
        }
        if !taken.keys().any(|c| is_metric(*c)) {
            return Err(Rejection::at(
                1,
                format!(
                    "missing column: no latency or throughput column such as first_token_ms, tokens_per_s, total_ms (have: {})",
                    have()
                ),
            ));
        }
        Ok(Layout {
            known,
            labels,
            width: headers.len(),
        })
    }
}

/// The `latency_csv` format.
pub struct LatencyCsv;

impl Format for LatencyCsv {
    fn name(&self) -> &'static str {
        "latency_csv"
    }

    fn description(&self) -> &'static str {
        "per-model latency baseline CSV (timestamp, model, first_token_ms, tokens_per_s, ...)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let Some(first) = sniff.head.lines().next() else {
            return false;
        };
        if !first.contains(',') {
            return false;
        }
        // Any latency column is enough to claim the file: a missing model column is then
        // reported as such instead of as an unrecognised format.
        first
            .split(',')
            .filter_map(|h| classify(&normalise(h)))
            .any(is_metric)
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        // Cells are trimmed where they are read: the reader's own trimming rebuilds every
        // record (an allocation and a copy per row).
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers: csv::StringRecord = reader
            .headers()
            .map_err(|e| Rejection::at(1, format!("unreadable CSV header: {e}")))?
            .iter()
            .map(str::trim)
            .collect();
        let layout = Layout::from_headers(&headers)?;
        let mut record = csv::StringRecord::new();
        let mut rows = 0usize;
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    let reason = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8 in this row".to_string(),
                        _ => format!("unreadable CSV row: {e}"),
                    };
                    sink.issue(Rejection::at(line, reason));
                    continue;
                }
            }
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.iter().all(|cell| trim(cell).is_empty()) {
                continue;
            }
            if record.len() != layout.width {
                sink.issue(Rejection::at(
                    line,
                    format!(
                        "{} fields where the header has {}",
                        record.len(),
                        layout.width
                    ),
                ));
                continue;
            }
            // The row is filled where it is stored: a `LlmCallRow` is hundreds of bytes,
            // and returning and pushing one copies all of them, twice.
            let calls = &mut sink.rows.llm_calls;
            calls.push(LlmCallRow::default());
            let filled = match calls.last_mut() {
                Some(row) => fill_row(row, &layout, &headers, &record, line, ctx.file_id),
                None => Err("row not stored".into()),
            };
            match filled {
                Ok(()) => rows += 1,
                Err(reason) => {
                    calls.pop();
                    sink.issue(Rejection::at(line, reason));
                }
            }
            sink.checkpoint()?;
        }
        if rows == 0 {
            return Err(Rejection::file("no readable data row").into());
        }
        Ok(())
    }
}

/// Fills `row`, an empty row, from one record; the reason when a cell is unreadable.
fn fill_row(
    row: &mut LlmCallRow,
    layout: &Layout,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    line: u64,
    file_id: &str,
) -> Result<(), String> {
    row.call_id = super::row_id(file_id, 'l', line);
    row.source = "latency_csv".into();
    row.usage_source = Some("reported".into());
    row.source_line = Some(line as i64);
    for &(i, column) in &layout.known {
        let cell = trim(record.get(i).unwrap_or(""));
        if cell.is_empty() {
            continue;
        }
        let header = headers.get(i).unwrap_or("?");
        let number = || -> Result<f64, String> {
            match parse_number(cell) {
                Some(v) if v >= 0.0 => Ok(v),
                Some(_) => Err(format!("column {header}: negative value {cell}")),
                None => Err(format!("column {header}: '{cell}' is not a number")),
            }
        };
        match column {
            Column::Timestamp => {
                row.start_ts = Some(
                    parse_timestamp(cell)
                        .ok_or_else(|| format!("column {header}: '{cell}' is not a timestamp"))?,
                )
            }
            Column::Provider => row.provider = Some(cell.to_string()),
            Column::Model => row.request_model = Some(cell.to_string()),
            Column::TtftMs => row.ttft_ms = Some(number()?),
            Column::TtftS => row.ttft_ms = Some(number()? * 1000.0),
            Column::TokensPerS => row.output_tokens_per_s = Some(number()?),
            Column::TotalMs => row.total_ms = Some(number()?),
            Column::TotalS => row.total_ms = Some(number()? * 1000.0),
            Column::TpotMs => row.tpot_ms = Some(number()?),
            Column::InputTokens => row.input_tokens = Some(number()? as i64),
            Column::OutputTokens => row.output_tokens = Some(number()? as i64),
        }
    }
    if row.request_model.is_none() {
        return Err("empty model cell".into());
    }
    let mut labels = Labels::default();
    for (i, name) in &layout.labels {
        if let Some(value) = record.get(*i).map(trim).filter(|v| !v.is_empty()) {
            labels.0.insert(name.clone(), value.to_string());
        }
    }
    row.labels = labels;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_ok;

    #[test]
    fn cells_and_headers_padded_with_spaces_read_as_without() {
        let text = " timestamp , model ,first_token_ms, prompt set \n\
                    2026-11-18T11:06:40Z ,  gpt-4o , 207.5 ,  code \n\
                    \u{20} , , , \n\
                    2026-11-18T11:06:41Z,gpt-4o,  ,short\n";
        let (rows, issues) = parse_ok(&LatencyCsv, text, "l.csv");
        assert!(issues.is_empty(), "{issues:?}");
        let calls = &rows.llm_calls;
        assert_eq!(calls.len(), 2, "the blank row is skipped");
        assert_eq!(calls[0].request_model.as_deref(), Some("gpt-4o"));
        assert_eq!(calls[0].ttft_ms, Some(207.5));
        assert_eq!(
            calls[0].start_ts,
            parse_timestamp("2026-11-18T11:06:40Z"),
            "the padded timestamp parses"
        );
        assert_eq!(
            calls[0].labels.0.get("prompt_set").map(String::as_str),
            Some("code")
        );
        assert_eq!(calls[1].ttft_ms, None, "a cell of spaces is empty");
        assert_eq!(calls[1].source_line, Some(4));
    }

    #[test]
    fn headers_normalise_to_known_columns() {
        assert_eq!(
            classify(&normalise("First Token (ms)")),
            Some(Column::TtftMs)
        );
        assert_eq!(classify(&normalise("first-token-ms")), Some(Column::TtftMs));
        assert_eq!(classify(&normalise(" Tokens/s ")), Some(Column::TokensPerS));
        assert_eq!(
            classify(&normalise("\u{feff}timestamp")),
            Some(Column::Timestamp)
        );
    }
}
