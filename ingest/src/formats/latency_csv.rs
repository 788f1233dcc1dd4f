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
use std::fmt::Write as _;
use std::io::BufRead;
use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, Int64Builder, MapBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};

use super::timestamps::parse_timestamp;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff, parse_number, trim};
use crate::error::IngestError;
use crate::schema::columnar::{batch_of, repeated};
use crate::schema::{LlmCallRow, TableRow, Timestamp, labels_builder};

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
    /// Label names in sorted order (as a row's labels are kept), each with the positions of
    /// the columns of that name: when several are filled, the last one gives the value.
    labels: Vec<(String, Vec<usize>)>,
    width: usize,
}

impl Layout {
    fn from_headers(headers: &csv::StringRecord) -> Result<Self, Rejection> {
        let mut known = Vec::new();
        let mut labels: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut taken = BTreeMap::new();
        for (i, header) in headers.iter().enumerate() {
            let norm = normalise(header);
            match classify(&norm) {
                Some(col) if !taken.contains_key(&col) => {
                    taken.insert(col, i);
                    known.push((i, col));
                }
                _ if !norm.is_empty() => labels.entry(norm).or_default().push(i),
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
            labels: labels.into_iter().collect(),
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
        let mut columns = Columns::new();
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
            match read_cells(&layout, &headers, &record) {
                Ok(cells) => {
                    columns.push(&cells, &layout, &record, line, ctx.file_id);
                    rows += 1;
                }
                Err(reason) => sink.issue(Rejection::at(line, reason)),
            }
            if columns.rows >= BATCH_ROWS {
                sink.rows.llm_call_batches.push(columns.finish()?);
                sink.checkpoint()?;
            }
        }
        if rows == 0 {
            return Err(Rejection::file("no readable data row").into());
        }
        if columns.rows > 0 {
            sink.rows.llm_call_batches.push(columns.finish()?);
        }
        Ok(())
    }
}

/// Rows per Arrow batch handed on: large enough that per-batch work (splitting by day,
/// queueing for the Parquet writer) is negligible, small enough to stay a few MB.
const BATCH_ROWS: usize = 8_192;

/// The metric cells of one row, read and checked before anything of the row is stored.
#[derive(Default)]
struct Cells<'r> {
    start_ts: Option<Timestamp>,
    provider: Option<&'r str>,
    request_model: &'r str,
    ttft_ms: Option<f64>,
    output_tokens_per_s: Option<f64>,
    total_ms: Option<f64>,
    tpot_ms: Option<f64>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
}

/// The cells of `record`; the reason when one is unreadable or the model is missing.
fn read_cells<'r>(
    layout: &Layout,
    headers: &csv::StringRecord,
    record: &'r csv::StringRecord,
) -> Result<Cells<'r>, String> {
    let mut cells = Cells::default();
    let mut model = None;
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
                cells.start_ts = Some(
                    parse_timestamp(cell)
                        .ok_or_else(|| format!("column {header}: '{cell}' is not a timestamp"))?,
                )
            }
            Column::Provider => cells.provider = Some(cell),
            Column::Model => model = Some(cell),
            Column::TtftMs => cells.ttft_ms = Some(number()?),
            Column::TtftS => cells.ttft_ms = Some(number()? * 1000.0),
            Column::TokensPerS => cells.output_tokens_per_s = Some(number()?),
            Column::TotalMs => cells.total_ms = Some(number()?),
            Column::TotalS => cells.total_ms = Some(number()? * 1000.0),
            Column::TpotMs => cells.tpot_ms = Some(number()?),
            Column::InputTokens => cells.input_tokens = Some(number()? as i64),
            Column::OutputTokens => cells.output_tokens = Some(number()? as i64),
        }
    }
    cells.request_model = model.ok_or("empty model cell")?;
    Ok(cells)
}

/// The `llm_calls` columns a latency CSV fills, built row by row; every other column of
/// the table is null. One row here is what `LlmCallRow` would hold for it, without the
/// struct: its strings go straight into the column buffers.
struct Columns {
    rows: usize,
    call_id: StringBuilder,
    provider: StringBuilder,
    request_model: StringBuilder,
    start_ts: TimestampMicrosecondBuilder,
    ttft_ms: Float64Builder,
    total_ms: Float64Builder,
    tpot_ms: Float64Builder,
    output_tokens_per_s: Float64Builder,
    input_tokens: Int64Builder,
    output_tokens: Int64Builder,
    source_line: Int64Builder,
    labels: MapBuilder<StringBuilder, StringBuilder>,
}

impl Columns {
    /// Empty columns with room for a whole batch, so that filling them never reallocates.
    /// The string sizes are typical lengths (an id of a 16-digit file id and a line number,
    /// a provider, a model name); a longer value only costs one reallocation.
    fn new() -> Self {
        let strings = |bytes_per_row: usize| {
            StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * bytes_per_row)
        };
        Columns {
            rows: 0,
            call_id: strings(28),
            provider: strings(12),
            request_model: strings(24),
            start_ts: TimestampMicrosecondBuilder::with_capacity(BATCH_ROWS),
            ttft_ms: Float64Builder::with_capacity(BATCH_ROWS),
            total_ms: Float64Builder::with_capacity(BATCH_ROWS),
            tpot_ms: Float64Builder::with_capacity(BATCH_ROWS),
            output_tokens_per_s: Float64Builder::with_capacity(BATCH_ROWS),
            input_tokens: Int64Builder::with_capacity(BATCH_ROWS),
            output_tokens: Int64Builder::with_capacity(BATCH_ROWS),
            source_line: Int64Builder::with_capacity(BATCH_ROWS),
            labels: labels_builder(),
        }
    }

    /// Appends one row: `cells`, its labels from `record`, and its id from the line.
    fn push(
        &mut self,
        cells: &Cells<'_>,
        layout: &Layout,
        record: &csv::StringRecord,
        line: u64,
        file_id: &str,
    ) {
        // The same id as `row_id(file_id, 'l', line)`, written in place.
        let _ = self.call_id.write_str(file_id);
        let _ = self.call_id.write_str("-l");
        let _ = self.call_id.write_str(itoa::Buffer::new().format(line));
        self.call_id.append_value("");
        self.provider.append_option(cells.provider);
        self.request_model.append_value(cells.request_model);
        self.start_ts.append_option(cells.start_ts.map(|t| t.0));
        self.ttft_ms.append_option(cells.ttft_ms);
        self.total_ms.append_option(cells.total_ms);
        self.tpot_ms.append_option(cells.tpot_ms);
        self.output_tokens_per_s
            .append_option(cells.output_tokens_per_s);
        self.input_tokens.append_option(cells.input_tokens);
        self.output_tokens.append_option(cells.output_tokens);
        self.source_line.append_value(line as i64);
        for (name, positions) in &layout.labels {
            let value = positions
                .iter()
                .rev()
                .filter_map(|&i| record.get(i).map(trim))
                .find(|v| !v.is_empty());
            if let Some(value) = value {
                self.labels.keys().append_value(name);
                self.labels.values().append_value(value);
            }
        }
        // Keys and values were appended in pairs, the one way this can fail.
        let _ = self.labels.append(true);
        self.rows += 1;
    }

    /// The rows so far as an `llm_calls` batch (not yet stamped); starts a new one.
    fn finish(&mut self) -> Result<RecordBatch, IngestError> {
        // A builder's `finish` gives its buffers away and starts again without capacity:
        // the next batch is built in fresh, pre-sized columns instead.
        let mut full = std::mem::replace(self, Columns::new());
        let rows = full.rows;
        let float = |b: &mut Float64Builder| Arc::new(b.finish()) as ArrayRef;
        let int = |b: &mut Int64Builder| Arc::new(b.finish()) as ArrayRef;
        let text = |b: &mut StringBuilder| Arc::new(b.finish()) as ArrayRef;
        let arrow = |source| IngestError::Arrow {
            table: "llm_calls",
            source,
        };
        let built = BTreeMap::from([
            ("call_id", text(&mut full.call_id)),
            ("source", repeated("latency_csv", rows).map_err(arrow)?),
            ("provider", text(&mut full.provider)),
            ("request_model", text(&mut full.request_model)),
            (
                "start_ts",
                Arc::new(full.start_ts.finish().with_timezone("UTC")) as ArrayRef,
            ),
            ("ttft_ms", float(&mut full.ttft_ms)),
            ("total_ms", float(&mut full.total_ms)),
            ("tpot_ms", float(&mut full.tpot_ms)),
            ("output_tokens_per_s", float(&mut full.output_tokens_per_s)),
            ("input_tokens", int(&mut full.input_tokens)),
            ("output_tokens", int(&mut full.output_tokens)),
            ("usage_source", repeated("reported", rows).map_err(arrow)?),
            ("source_line", int(&mut full.source_line)),
            ("ingest_id", repeated("", rows).map_err(arrow)?),
            ("labels", Arc::new(full.labels.finish()) as ArrayRef),
        ]);
        batch_of(LlmCallRow::schema(), rows, built).map_err(arrow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_ok;
    use crate::schema::{ColumnType, Labels};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
    use arrow_array::{Array, MapArray};

    /// The rows of the parser's batches, as the one batch they make.
    fn one_batch(rows: &crate::schema::TableRows) -> RecordBatch {
        assert!(rows.llm_calls.is_empty(), "rows are built as columns");
        arrow_select::concat::concat_batches(&LlmCallRow::schema(), &rows.llm_call_batches)
            .expect("batches of one schema")
    }

    fn text(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
        let array = batch.column_by_name(column).expect("column");
        let strings = array.as_string::<i32>();
        (0..strings.len())
            .map(|i| strings.is_valid(i).then(|| strings.value(i).to_string()))
            .collect()
    }

    fn labels(batch: &RecordBatch) -> Vec<Vec<(String, String)>> {
        let maps = batch
            .column_by_name("labels")
            .and_then(|c| c.as_any().downcast_ref::<MapArray>())
            .expect("labels map");
        (0..maps.len())
            .map(|row| {
                let entries = maps.value(row);
                let (keys, values) = (
                    entries.column(0).as_string::<i32>(),
                    entries.column(1).as_string::<i32>(),
                );
                (0..keys.len())
                    .map(|i| (keys.value(i).to_string(), values.value(i).to_string()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn cells_and_headers_padded_with_spaces_read_as_without() {
        let text_in = " timestamp , model ,first_token_ms, prompt set \n\
                    2026-11-18T11:06:40Z ,  gpt-4o , 207.5 ,  code \n\
                    \u{20} , , , \n\
                    2026-11-18T11:06:41Z,gpt-4o,  ,short\n";
        let (rows, issues) = parse_ok(&LatencyCsv, text_in, "l.csv");
        assert!(issues.is_empty(), "{issues:?}");
        let batch = one_batch(&rows);
        assert_eq!(batch.num_rows(), 2, "the blank row is skipped");
        assert_eq!(
            text(&batch, "request_model"),
            [Some("gpt-4o".into()), Some("gpt-4o".into())]
        );
        let ttft = batch
            .column_by_name("ttft_ms")
            .expect("ttft")
            .as_primitive::<Float64Type>();
        assert_eq!(
            (ttft.value(0), ttft.is_null(1)),
            (207.5, true),
            "a cell of spaces is empty"
        );
        let start = batch
            .column_by_name("start_ts")
            .expect("ts")
            .as_primitive::<TimestampMicrosecondType>();
        assert_eq!(
            Some(Timestamp(start.value(0))),
            parse_timestamp("2026-11-18T11:06:40Z"),
            "the padded timestamp parses"
        );
        assert_eq!(
            labels(&batch)[0],
            [("prompt_set".to_string(), "code".to_string())]
        );
        let lines = batch
            .column_by_name("source_line")
            .expect("line")
            .as_primitive::<Int64Type>();
        assert_eq!(lines.value(1), 4);
    }

    /// Every column as an `LlmCallRow` filled by hand from the same CSV would hold it:
    /// ids, constants, nulls, seconds turned into milliseconds, and labels as a sorted map
    /// in which, of two columns of one name, the last filled cell wins.
    #[test]
    fn the_batch_holds_what_a_row_struct_would() {
        let text_in = "ts,provider,model,ttft_s,tokens_per_s,total_ms,input_tokens,output_tokens,region,Region,env\n\
                    2026-11-18T11:06:40Z,openai,gpt-4o,0.25,50.5,1200,10,60,eu,,ci\n\
                    2026-11-18T11:06:41Z,openai,gpt-4o,0.5,x,1300,10,60,eu,us,ci\n\
                    ,,llama3,,,900,,,,us,\n\
                    ,,llama3,,,800,,,eu,us,\n";
        let (rows, issues) = parse_ok(&LatencyCsv, text_in, "l.csv");
        assert_eq!(
            issues.len(),
            1,
            "the row with a bad number is skipped: {issues:?}"
        );
        assert_eq!(issues[0].line, Some(3));
        let file_id = "f";
        let label = |pairs: &[(&str, &str)]| {
            Labels(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let expected = vec![
            LlmCallRow {
                call_id: format!("{file_id}-l2"),
                source: "latency_csv".into(),
                provider: Some("openai".into()),
                request_model: Some("gpt-4o".into()),
                start_ts: parse_timestamp("2026-11-18T11:06:40Z"),
                ttft_ms: Some(250.0),
                output_tokens_per_s: Some(50.5),
                total_ms: Some(1200.0),
                input_tokens: Some(10),
                output_tokens: Some(60),
                usage_source: Some("reported".into()),
                source_line: Some(2),
                labels: label(&[("env", "ci"), ("region", "eu")]),
                ..Default::default()
            },
            LlmCallRow {
                call_id: format!("{file_id}-l4"),
                source: "latency_csv".into(),
                request_model: Some("llama3".into()),
                total_ms: Some(900.0),
                usage_source: Some("reported".into()),
                source_line: Some(4),
                labels: label(&[("region", "us")]),
                ..Default::default()
            },
            LlmCallRow {
                call_id: format!("{file_id}-l5"),
                source: "latency_csv".into(),
                request_model: Some("llama3".into()),
                total_ms: Some(800.0),
                usage_source: Some("reported".into()),
                source_line: Some(5),
                labels: label(&[("region", "us")]),
                ..Default::default()
            },
        ];
        let batch = one_batch(&rows);
        assert_eq!(batch, LlmCallRow::to_batch(&expected).expect("batch"));
        assert_eq!(
            batch.column_by_name("labels").expect("labels"),
            &Labels::to_array(expected.iter().map(|r| &r.labels))
        );
    }

    #[test]
    fn rows_are_handed_on_in_batches_of_bounded_size() {
        let mut text_in = String::from("model,ttft_ms\n");
        for i in 0..(BATCH_ROWS + 10) {
            text_in.push_str(&format!("m,{i}\n"));
        }
        let (rows, _) = parse_ok(&LatencyCsv, &text_in, "l.csv");
        let sizes: Vec<usize> = rows.llm_call_batches.iter().map(|b| b.num_rows()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), BATCH_ROWS + 10);
        assert!(sizes.iter().all(|n| *n <= BATCH_ROWS), "{sizes:?}");
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
