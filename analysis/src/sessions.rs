//! Token accounting of agent sessions: totals per session and per UTC day, split into the
//! dataset's non-overlapping buckets (uncached input, output, cache read, cache write), as
//! `runlens sessions` shows them. `total_tokens` is the sum of the four buckets.

use polars::prelude::DataFrame;

use crate::error::Result;
use crate::query::run_sql;
use crate::scan::DatasetReader;

/// The sum of the four buckets; null (never a silent 0) when none was reported.
const TOTAL: &str = "CASE WHEN input_tokens IS NULL AND output_tokens IS NULL \
    AND cache_read_input_tokens IS NULL AND cache_creation_input_tokens IS NULL THEN NULL \
    ELSE COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) \
    + COALESCE(cache_read_input_tokens, 0) + COALESCE(cache_creation_input_tokens, 0) END";

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
    run_sql(
        reader,
        &format!(
            "SELECT session_id, source_format AS format, model, started_ts, \
             message_count AS messages, tool_calls, input_tokens, output_tokens, \
             cache_read_input_tokens AS cache_read_tokens, \
             cache_creation_input_tokens AS cache_write_tokens, {TOTAL} AS total_tokens, \
             validation_status AS status \
             FROM sessions WHERE {keep} ORDER BY started_ts, session_id"
        ),
    )
}

/// One row per UTC day of the transcripts' LLM calls made inside `window`.
pub fn daily(reader: &DatasetReader, window: &Window) -> Result<DataFrame> {
    let keep = window.condition("start_ts", "start_ts");
    run_sql(
        reader,
        &format!(
            "SELECT CAST(start_ts AS DATE) AS day, COUNT(DISTINCT session_id) AS sessions, \
             COUNT(*) AS calls, SUM(input_tokens) AS input_tokens, \
             SUM(output_tokens) AS output_tokens, \
             SUM(cache_read_input_tokens) AS cache_read_tokens, \
             SUM(cache_creation_input_tokens) AS cache_write_tokens, \
             SUM({TOTAL}) AS total_tokens \
             FROM llm_calls WHERE source = 'transcript' AND {keep} GROUP BY day ORDER BY day"
        ),
    )
}
