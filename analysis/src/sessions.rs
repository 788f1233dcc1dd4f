//! Token accounting of agent sessions: totals per session and per UTC day, split into the
//! dataset's non-overlapping buckets (uncached input, output, cache read, cache write), as
//! `runlens sessions` shows them. `total_tokens` is the sum of the four buckets.

use polars::prelude::DataFrame;

use crate::error::{AnalysisError, Result};
use crate::labels::{label_column, label_keys};
use crate::query::run_sql;
use crate::scan::DatasetReader;
use runlens_ingest::schema::Table;

/// The sum of the four buckets of the table aliased `t` (`""` for none); null (never a
/// silent 0) when none was reported.
fn total(t: &str) -> String {
    let dot = if t.is_empty() { "" } else { "." };
    let c = |name: &str| format!("{t}{dot}{name}");
    let (i, o, r, w) = (
        c("input_tokens"),
        c("output_tokens"),
        c("cache_read_input_tokens"),
        c("cache_creation_input_tokens"),
    );
    format!(
        "CASE WHEN {i} IS NULL AND {o} IS NULL AND {r} IS NULL AND {w} IS NULL THEN NULL \
         ELSE COALESCE({i}, 0) + COALESCE({o}, 0) + COALESCE({r}, 0) + COALESCE({w}, 0) END"
    )
}

/// A time window in microseconds since the Unix epoch (UTC); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Earliest instant of interest.
    pub since_us: Option<i64>,
    /// Latest instant of interest.
    pub until_us: Option<i64>,
}

impl Window {
    /// SQL conditions (joined by AND, or `TRUE`) keeping rows whose span `[start, end]`
    /// (timestamp columns) overlaps the window; a bounded window leaves out rows without
    /// times, which cannot be shown to fall inside it.
    fn condition(&self, start: &str, end: &str) -> String {
        let mut parts = Vec::new();
        if let Some(since) = self.since_us {
            parts.push(format!(
                "COALESCE(CAST({end} AS BIGINT), CAST({start} AS BIGINT)) >= {since}"
            ));
        }
        if let Some(until) = self.until_us {
            parts.push(format!(
                "COALESCE(CAST({start} AS BIGINT), CAST({end} AS BIGINT)) <= {until}"
            ));
        }
        if parts.is_empty() {
            "TRUE".into()
        } else {
            parts.join(" AND ")
        }
    }
}

/// One row per session (from `sessions`) whose activity overlaps `window`, oldest first.
pub fn per_session(reader: &DatasetReader, window: &Window) -> Result<DataFrame> {
    let keep = window.condition("started_ts", "last_activity_ts");
    let total = total("");
    run_sql(
        reader,
        &format!(
            "SELECT session_id, source_format AS format, model, started_ts, \
             message_count AS messages, tool_calls, input_tokens, output_tokens, \
             cache_read_input_tokens AS cache_read_tokens, \
             cache_creation_input_tokens AS cache_write_tokens, {total} AS total_tokens, \
             validation_status AS status \
             FROM sessions WHERE {keep} ORDER BY started_ts, session_id"
        ),
    )
}

/// One row per UTC day of the transcripts' LLM calls made inside `window`.
pub fn daily(reader: &DatasetReader, window: &Window) -> Result<DataFrame> {
    let keep = window.condition("start_ts", "start_ts");
    let total = total("");
    run_sql(
        reader,
        &format!(
            "SELECT CAST(start_ts AS DATE) AS day, COUNT(DISTINCT session_id) AS sessions, \
             COUNT(*) AS calls, SUM(input_tokens) AS input_tokens, \
             SUM(output_tokens) AS output_tokens, \
             SUM(cache_read_input_tokens) AS cache_read_tokens, \
             SUM(cache_creation_input_tokens) AS cache_write_tokens, \
             SUM({total}) AS total_tokens \
             FROM llm_calls WHERE source = 'transcript' AND {keep} GROUP BY day ORDER BY day"
        ),
    )
}

/// What token totals are grouped by (`runlens sessions --by`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// The model that answered (the request's model when the response names none).
    Model,
    /// The provider.
    Provider,
    /// The session's transcript format.
    Format,
    /// A label's value (`--label key=value` at ingest, or found in the input).
    Label(String),
}

impl Grouping {
    /// Parses `model`, `provider`, `format` or `label:KEY`.
    pub fn parse(text: &str) -> std::result::Result<Grouping, String> {
        match text {
            "model" => Ok(Grouping::Model),
            "provider" => Ok(Grouping::Provider),
            "format" => Ok(Grouping::Format),
            _ => match text.strip_prefix("label:") {
                Some(key) if !key.is_empty() => Ok(Grouping::Label(key.to_string())),
                _ => Err(format!(
                    "{text:?}: group by model, provider, format or label:KEY"
                )),
            },
        }
    }
}

/// Token totals of the transcripts' LLM calls inside `window`, one row per value of `by`
/// (per UTC day and value with `daily`), largest total first within a day.
pub fn totals_by(
    reader: &DatasetReader,
    window: &Window,
    by: &Grouping,
    daily: bool,
) -> Result<DataFrame> {
    let keep = window.condition("c.start_ts", "c.start_ts");
    let (expr, name, join) = match by {
        Grouping::Model => (
            "COALESCE(c.response_model, c.request_model)".to_string(),
            "model".to_string(),
            "",
        ),
        Grouping::Provider => ("c.provider".to_string(), "provider".to_string(), ""),
        Grouping::Format => (
            "s.source_format".to_string(),
            "format".to_string(),
            " LEFT JOIN sessions s ON c.session_id = s.session_id",
        ),
        Grouping::Label(key) => {
            let present = label_keys(&reader.scan(Table::LlmCalls)?)?;
            if !present.iter().any(|k| k == key) {
                return Err(AnalysisError::UnknownLabel {
                    table: "llm_calls",
                    key: key.clone(),
                    present: if present.is_empty() {
                        "none".into()
                    } else {
                        present.join(", ")
                    },
                });
            }
            let column = label_column(key);
            (format!("c.{column}"), column, "")
        }
    };
    let (day_select, day_group) = if daily {
        ("CAST(c.start_ts AS DATE) AS day, ", "day, ")
    } else {
        ("", "")
    };
    let total = total("c");
    run_sql(
        reader,
        &format!(
            "SELECT {day_select}{expr} AS {name}, COUNT(DISTINCT c.session_id) AS sessions, \
             COUNT(*) AS calls, SUM(c.input_tokens) AS input_tokens, \
             SUM(c.output_tokens) AS output_tokens, \
             SUM(c.cache_read_input_tokens) AS cache_read_tokens, \
             SUM(c.cache_creation_input_tokens) AS cache_write_tokens, \
             SUM({total}) AS total_tokens \
             FROM llm_calls c{join} WHERE c.source = 'transcript' AND {keep} \
             GROUP BY {day_group}{name} ORDER BY {day_group}total_tokens DESC NULLS LAST, {name}"
        ),
    )
}
