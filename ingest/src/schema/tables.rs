//! The dataset's tables: one row struct per table, its Arrow schema and its documentation.
//!
//! `define_table!` turns each struct below into: the struct itself, its [`TableRow`]
//! implementation (Arrow fields and the conversion of rows into a `RecordBatch`) and the
//! Markdown table of `docs/schema.md`. The doc comment on a field *is* the column's
//! documentation, so the files and the docs cannot drift apart (a test checks the docs).
//!
//! Conventions (the design's "The dataset is the contract", restated in `docs/schema.md`): `snake_case` names that carry their unit (`*_ms`, `*_bytes`,
//! `*_usd`, `*_tokens`), timestamps in UTC microseconds, token counts in non-overlapping
//! buckets. Every data table ends with `source_path`, `ingest_id` and `labels`.
//!
//! Why one file of some 510 lines: it is the dataset's schema, every table's columns with
//! their documentation, kept together as the one source of `docs/schema.md`.

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use std::sync::Arc;

use super::Table;
use super::column::{ColumnType, Labels, Timestamp};

/// A row type of one dataset table.
pub trait TableRow: Sized + Send + Clone {
    /// The table the rows belong to.
    const TABLE: Table;
    /// The Arrow fields, in column order.
    fn fields() -> Vec<Field>;
    /// `(name, type, nullable, description)` of each column, for the docs.
    fn column_docs() -> Vec<(&'static str, &'static str, bool, String)>;
    /// The rows as Arrow arrays, one per column.
    fn to_batch(rows: &[Self]) -> Result<RecordBatch, arrow_schema::ArrowError>;
    /// The timestamp column whose instant files a row under its day partition (a null:
    /// the ingest day).
    const PARTITION_COLUMN: &'static str;
    /// Sets the provenance columns every data row carries.
    /// The path and id are shared by every row stamped, not copied into each.
    fn stamp(&mut self, source_path: &Arc<str>, ingest_id: &Arc<str>, labels: &Labels);
    /// The row's labels (the `labels` column).
    fn labels(&self) -> &Labels;
    /// The Arrow schema of the table.
    fn schema() -> SchemaRef {
        Arc::new(Schema::new(Self::fields()))
    }
}

macro_rules! define_table {
    (
        $(#[doc = $doc:literal])*
        $name:ident => $table:ident, partition_by $part:ident {
            $( $(#[doc = $fdoc:literal])+ $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[doc = $fdoc])+ pub $field: $ty, )*
            /// Input file (or recorded command) the row came from.
            pub source_path: Option<Arc<str>>,
            /// The ingest batch that wrote the row; joins `ingest_log.ingest_id`.
            pub ingest_id: Arc<str>,
            /// Labels given with `--label key=value` and labels found in the input.
            pub labels: Labels,
        }

        impl TableRow for $name {
            const TABLE: Table = Table::$table;
            const PARTITION_COLUMN: &'static str = stringify!($part);

            fn fields() -> Vec<Field> {
                vec![
                    $( Field::new(stringify!($field), <$ty as ColumnType>::data_type(), <$ty as ColumnType>::NULLABLE), )*
                    Field::new("source_path", <Option<Arc<str>> as ColumnType>::data_type(), true),
                    Field::new("ingest_id", <Arc<str> as ColumnType>::data_type(), false),
                    Field::new("labels", <Labels as ColumnType>::data_type(), false),
                ]
            }

            fn column_docs() -> Vec<(&'static str, &'static str, bool, String)> {
                vec![
                    $( (stringify!($field), <$ty as ColumnType>::doc_type(), <$ty as ColumnType>::NULLABLE,
                        [$($fdoc),+].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")), )*
                    ("source_path", "string", true, "Input file (or recorded command) the row came from.".into()),
                    ("ingest_id", "string", false, "The ingest batch that wrote the row; joins `ingest_log.ingest_id`.".into()),
                    ("labels", "map<string, string>", false, "Labels given with `--label key=value` and labels found in the input.".into()),
                ]
            }

            fn to_batch(rows: &[Self]) -> Result<RecordBatch, arrow_schema::ArrowError> {
                let columns = vec![
                    $( <$ty as ColumnType>::to_array(rows.iter().map(|r| &r.$field)), )*
                    <Option<Arc<str>> as ColumnType>::to_array(rows.iter().map(|r| &r.source_path)),
                    <Arc<str> as ColumnType>::to_array(rows.iter().map(|r| &r.ingest_id)),
                    <Labels as ColumnType>::to_array(rows.iter().map(|r| &r.labels)),
                ];
                RecordBatch::try_new(Self::schema(), columns)
            }

            fn stamp(&mut self, source_path: &Arc<str>, ingest_id: &Arc<str>, labels: &Labels) {
                if self.source_path.is_none() {
                    self.source_path = Some(Arc::clone(source_path));
                }
                self.ingest_id = Arc::clone(ingest_id);
                // Labels found in the input first, then the user's: the user has the last word.
                self.labels.merge_from(labels);
            }

            fn labels(&self) -> &Labels {
                &self.labels
            }
        }
    };
}

define_table! {
    /// One execution of a command: recorded by `runlens record`, or read from `/usr/bin/time`
    /// output and run logs.
    RunRow => Runs, partition_by start_ts {
        /// Stable id of the run (`<file hash>-r<n>` when ingested from a file).
        run_id: String,
        /// How the run was measured: `record`, `time` (a `/usr/bin/time` report) or `run_log`.
        source: String,
        /// Which time output the resource figures come from: `gnu-verbose`, `gnu-default`,
        /// `gnu-format`, `posix`, `bash`, `bsd-macos`, `bsd-freebsd`, `keyvalue`; `rusage`
        /// when the recorder read the kernel's child rusage itself; null if none.
        time_format: Option<String>,
        /// The command line, with secrets redacted.
        command: Option<String>,
        /// 0-based position of the run within its recording or file.
        run_index: i32,
        /// Whether the run was a warm-up (excluded from statistics).
        is_warmup: bool,
        /// When the run started (UTC), if known.
        start_ts: Option<Timestamp>,
        /// When the run ended (UTC), if known.
        end_ts: Option<Timestamp>,
        /// Wall-clock duration, milliseconds (recorded runs: the recorder's monotonic clock,
        /// from spawning the command to reaping it).
        wall_ms: Option<f64>,
        /// CPU time in user mode of the command and its waited-for children, milliseconds.
        user_ms: Option<f64>,
        /// CPU time in kernel mode of the command and its waited-for children, milliseconds.
        sys_ms: Option<f64>,
        /// CPU utilisation as the time tool reported it, percent of one core.
        cpu_percent: Option<f64>,
        /// Peak resident set size of the largest *single* process, as the kernel's
        /// `ru_maxrss` (and so `/usr/bin/time`) reports it, bytes. Not the process tree's total:
        /// see `tree_peak_rss_bytes`.
        max_rss_bytes: Option<i64>,
        /// Peak of the summed RSS of the whole process tree, sampled by the recorder, bytes.
        tree_peak_rss_bytes: Option<i64>,
        /// Mean of the sampled process-tree RSS, bytes.
        tree_mean_rss_bytes: Option<i64>,
        /// Peak sampled CPU of the process tree, percent of one core.
        tree_peak_cpu_percent: Option<f64>,
        /// Mean sampled CPU of the process tree, percent of one core.
        tree_mean_cpu_percent: Option<f64>,
        /// Peak sampled thread count of the process tree.
        tree_peak_threads: Option<i64>,
        /// Major page faults (I/O needed), count.
        major_page_faults: Option<i64>,
        /// Minor page faults (reclaims), count.
        minor_page_faults: Option<i64>,
        /// Voluntary context switches, count.
        voluntary_ctx_switches: Option<i64>,
        /// Involuntary context switches, count.
        involuntary_ctx_switches: Option<i64>,
        /// File-system inputs (blocks read), count.
        fs_inputs: Option<i64>,
        /// File-system outputs (blocks written), count.
        fs_outputs: Option<i64>,
        /// Exit status of the command, if it exited.
        exit_code: Option<i32>,
        /// Signal that terminated the command, if one did.
        signal: Option<i32>,
        /// Whether runlens killed the run at its `--timeout`.
        timed_out: bool,
        /// Whether the run was interrupted (Ctrl-C, SIGTERM) before it finished.
        interrupted: bool,
        /// Whether the time report was cut off before its last line (figures may be missing).
        truncated: bool,
        /// Host name of the machine that ran the command, if recorded.
        host_name: Option<String>,
        /// CPU model of that machine, if recorded.
        host_cpu_model: Option<String>,
        /// Logical cores of that machine, if recorded.
        host_logical_cores: Option<i32>,
        /// Total memory of that machine, bytes, if recorded.
        host_memory_bytes: Option<i64>,
        /// Operating system and kernel version of that machine, if recorded.
        host_os: Option<String>,
        /// 1-based line of the input where the run's time report starts.
        source_line: Option<i64>,
    }
}

define_table! {
    /// One phase of one run, delimited by phase markers in the run's output.
    PhaseRow => Phases, partition_by start_ts {
        /// The run the phase belongs to (`runs.run_id`).
        run_id: String,
        /// Phase name as printed by the workflow, stable across runs.
        phase: String,
        /// 0-based order of the phase within its run.
        phase_index: i32,
        /// The number the workflow gave the phase ("Phase 2: ..."), if any.
        phase_number: Option<i32>,
        /// When the phase started (UTC), if the log carries timestamps.
        start_ts: Option<Timestamp>,
        /// When the phase ended (UTC): the next phase's start or the run's last timestamp.
        end_ts: Option<Timestamp>,
        /// Phase duration, milliseconds: printed by the workflow, else `end_ts - start_ts`.
        duration_ms: Option<f64>,
        /// Uncached input tokens the log reported during the phase.
        input_tokens: Option<i64>,
        /// Output tokens the log reported during the phase.
        output_tokens: Option<i64>,
        /// Tokens the log reported without saying input or output.
        total_tokens: Option<i64>,
        /// 1-based line of the phase marker.
        source_line: Option<i64>,
    }
}

define_table! {
    /// One resource sample of a recorded run's process tree.
    SampleRow => Samples, partition_by ts {
        /// The run sampled (`runs.run_id`).
        run_id: String,
        /// When the sample was taken (UTC).
        ts: Option<Timestamp>,
        /// Time since the run started, milliseconds.
        elapsed_ms: f64,
        /// CPU use of the process tree, percent of one core.
        cpu_percent: Option<f64>,
        /// Summed resident set size of the process tree, bytes.
        rss_bytes: Option<i64>,
        /// Threads in the process tree.
        threads: Option<i64>,
        /// Processes in the process tree.
        processes: Option<i64>,
    }
}

define_table! {
    /// One request to an LLM provider: captured by the proxy, made by the probe, read from
    /// a transcript, or one row of a latency baseline file.
    LlmCallRow => LlmCalls, partition_by start_ts {
        /// Stable id of the call.
        call_id: String,
        /// The run during which the call was made, if any.
        run_id: Option<String>,
        /// The phase active when the call started, if any.
        phase: Option<String>,
        /// The session the call belongs to, if any.
        session_id: Option<String>,
        /// The session's agent that made the call: null for the main agent, else the
        /// sub-agent's id (Claude Code `agentId`; `sidechain` for older transcripts' sidechain
        /// lines, which carry none).
        agent_id: Option<String>,
        /// How the call was observed: `proxy`, `probe`, `transcript` or `latency_csv`.
        source: String,
        /// Provider (`openai`, `anthropic`, `ollama`, `gemini`, ...), GenAI `gen_ai.provider.name`.
        provider: Option<String>,
        /// API endpoint path called (`/v1/chat/completions`, ...).
        endpoint: Option<String>,
        /// Model named in the request.
        request_model: Option<String>,
        /// Model named in the response.
        response_model: Option<String>,
        /// Whether the response was streamed.
        streamed: Option<bool>,
        /// When the request was sent (UTC).
        start_ts: Option<Timestamp>,
        /// Time from sending the request to the first content-bearing chunk, milliseconds.
        ttft_ms: Option<f64>,
        /// Time from sending the request to the last byte of the response, milliseconds.
        total_ms: Option<f64>,
        /// Time per output token after the first: (total - ttft) / (output_tokens - 1), milliseconds.
        tpot_ms: Option<f64>,
        /// Output tokens per second, as measured or as the source reported it.
        output_tokens_per_s: Option<f64>,
        /// Gaps between consecutive content chunks, milliseconds.
        chunk_gaps_ms: Option<Vec<f64>>,
        /// Uncached input tokens (OpenAI/Gemini prompt tokens minus cached ones).
        input_tokens: Option<i64>,
        /// Input tokens read from the provider's prompt cache.
        cache_read_input_tokens: Option<i64>,
        /// Input tokens written to the prompt cache (all durations).
        cache_creation_input_tokens: Option<i64>,
        /// Of `cache_creation_input_tokens`, those cached for 5 minutes, where reported.
        cache_creation_5m_input_tokens: Option<i64>,
        /// Of `cache_creation_input_tokens`, those cached for 1 hour, where reported.
        cache_creation_1h_input_tokens: Option<i64>,
        /// Output tokens, reasoning included.
        output_tokens: Option<i64>,
        /// Of `output_tokens`, those spent on reasoning.
        reasoning_tokens: Option<i64>,
        /// Where the token counts come from: `reported`, `missing`.
        usage_source: Option<String>,
        /// Why generation stopped, as the provider said it.
        finish_reason: Option<String>,
        /// Tool calls in the response.
        tool_call_count: Option<i64>,
        /// HTTP status of the response.
        http_status: Option<i32>,
        /// Kind of failure (`http`, `timeout`, `connect`, `stream_cut`, ...), null on success.
        error_kind: Option<String>,
        /// Short error summary, secrets redacted.
        error: Option<String>,
        /// 1-based line of the input the call was read from.
        source_line: Option<i64>,
    }
}

define_table! {
    /// One agent session transcript.
    SessionRow => Sessions, partition_by started_ts {
        /// Session id as the transcript gives it (or derived from the file).
        session_id: String,
        /// Transcript format the session was read from.
        source_format: String,
        /// Null for the session's main agent; a sub-agent's id otherwise (its own row, under
        /// its parent's `session_id`).
        agent_id: Option<String>,
        /// What the agent is: `main`, `subagent` (a task the main agent handed off),
        /// `compaction` (summarises the conversation when the context fills up) or `warmup`
        /// (primes the cache before the first prompt). Compaction and warm-up agents are not
        /// judged on tool calls.
        agent_kind: String,
        /// Provider of the session's model, if known.
        provider: Option<String>,
        /// Main model of the session.
        model: Option<String>,
        /// First message time (UTC).
        started_ts: Option<Timestamp>,
        /// Last activity time (UTC).
        last_activity_ts: Option<Timestamp>,
        /// Messages in the session, count.
        message_count: i64,
        /// User messages, count.
        user_messages: i64,
        /// Assistant messages, count.
        assistant_messages: i64,
        /// System messages, count.
        system_messages: i64,
        /// Structured tool calls made, count.
        tool_calls: i64,
        /// Tool results marked as errors, count.
        tool_errors: i64,
        /// Uncached input tokens, summed over the session's LLM calls.
        input_tokens: Option<i64>,
        /// Output tokens (reasoning included), summed.
        output_tokens: Option<i64>,
        /// Cache-read input tokens, summed.
        cache_read_input_tokens: Option<i64>,
        /// Cache-write input tokens, summed.
        cache_creation_input_tokens: Option<i64>,
        /// Validation verdict: `ok`, `warning` or `error`.
        validation_status: Option<String>,
        /// Codes of the validation findings, comma-separated (`system_only,zero_tool_calls`).
        findings: Option<String>,
        /// The findings with their evidence, as a JSON array of objects `{code, severity,
        /// detail, message_index, excerpt}` (excerpts redacted).
        finding_details: Option<String>,
    }
}

define_table! {
    /// One tool call inside a session or an LLM response.
    ToolCallRow => ToolCalls, partition_by ts {
        /// Id of the tool call as the provider gave it (or derived).
        tool_call_id: String,
        /// Session the call belongs to, if any.
        session_id: Option<String>,
        /// The session's agent that made the call (null: the main agent), as in `llm_calls`.
        agent_id: Option<String>,
        /// LLM call whose response made the tool call (`llm_calls.call_id`), if any.
        call_id: Option<String>,
        /// Run during which the call was made, if any.
        run_id: Option<String>,
        /// When the call was made (UTC).
        ts: Option<Timestamp>,
        /// Tool (function) name.
        tool_name: String,
        /// Size of the JSON arguments, bytes.
        arguments_bytes: Option<i64>,
        /// Whether the tool result was an error.
        is_error: Option<bool>,
    }
}

define_table! {
    /// One benchmark result read from another harness (a suite JSON with percentile tables,
    /// a hyperfine export).
    BenchResultRow => BenchResults, partition_by recorded_ts {
        /// Stable id of the result.
        bench_id: String,
        /// Input format: `bench_suite`, `hyperfine`, `hyperfine_csv` or `hyperfine_markdown`.
        source_format: String,
        /// Suite the result belongs to, if the file names one.
        suite_name: Option<String>,
        /// Benchmark name (hyperfine: the command, secrets redacted).
        name: String,
        /// When the suite ran (UTC), if the file says.
        recorded_ts: Option<Timestamp>,
        /// Measured iterations (hyperfine: runs).
        iterations: Option<i64>,
        /// Warm-up iterations.
        warmup_iterations: Option<i64>,
        /// Samples behind the latency figures.
        sample_count: Option<i64>,
        /// Mean latency, milliseconds.
        mean_ms: Option<f64>,
        /// Sample standard deviation of the latency, milliseconds.
        stddev_ms: Option<f64>,
        /// Median latency, milliseconds.
        p50_ms: Option<f64>,
        /// 95th percentile latency, milliseconds, as the source reported it.
        p95_ms: Option<f64>,
        /// 99th percentile latency, milliseconds, as the source reported it.
        p99_ms: Option<f64>,
        /// Fastest iteration, milliseconds.
        min_ms: Option<f64>,
        /// Slowest iteration, milliseconds.
        max_ms: Option<f64>,
        /// Mean user CPU time per iteration, milliseconds (hyperfine).
        user_ms: Option<f64>,
        /// Mean system CPU time per iteration, milliseconds (hyperfine).
        sys_ms: Option<f64>,
        /// Throughput, operations per second.
        throughput_ops_per_s: Option<f64>,
        /// Mean CPU use, percent of one core.
        cpu_mean_percent: Option<f64>,
        /// Peak CPU use, percent of one core.
        cpu_peak_percent: Option<f64>,
        /// Mean memory, bytes (the source's MB read as MiB).
        memory_mean_bytes: Option<i64>,
        /// Peak memory, bytes (the source's MB read as MiB; hyperfine: max of `memory_usage_byte`).
        memory_peak_bytes: Option<i64>,
        /// Mean thread count.
        threads_mean: Option<f64>,
        /// Peak thread count.
        threads_peak: Option<i64>,
        /// Lower bound of the confidence interval of the mean, milliseconds.
        ci_lower_ms: Option<f64>,
        /// Upper bound of the confidence interval of the mean, milliseconds.
        ci_upper_ms: Option<f64>,
        /// Confidence level of that interval (0.95 for 95 %).
        ci_confidence: Option<f64>,
        /// Outliers the harness removed, count.
        outliers_removed: Option<i64>,
        /// Every iteration's time, milliseconds, where the source keeps them (hyperfine).
        times_ms: Option<Vec<f64>>,
        /// Every iteration's exit code (null: killed by a signal), where kept.
        exit_codes: Option<Vec<Option<i64>>>,
        /// Every iteration's peak memory, bytes, where kept (hyperfine `memory_usage_byte`).
        memory_usage_bytes: Option<Vec<Option<i64>>>,
        /// Benchmark parameters (`hyperfine -P/-L`) as `name=value, ...`.
        parameters: Option<String>,
        /// 0-based position of the result in its file.
        result_index: i32,
    }
}

define_table! {
    /// One output file a run produced, or was expected to produce and did not.
    ArtifactRow => Artifacts, partition_by checked_ts {
        /// The run (`runs.run_id`).
        run_id: String,
        /// Path of the file (relative to the output directory when one was given).
        path: String,
        /// The `--expect` glob the file answers, if any.
        expected_glob: Option<String>,
        /// Whether the file exists.
        exists: bool,
        /// Size of the file, bytes.
        size_bytes: Option<i64>,
        /// When the file was last modified (UTC), if it exists.
        modified_ts: Option<Timestamp>,
        /// Whether the run wrote the file: it was modified after the run started. A file
        /// left over from an earlier run is `false` and does not count as produced.
        produced_by_run: Option<bool>,
        /// When the file was checked (UTC).
        checked_ts: Option<Timestamp>,
    }
}

define_table! {
    /// One input file offered to ingest (or one commit of rows runlens recorded itself),
    /// with its outcome; committed with the data rows it describes.
    IngestLogRow => IngestLog, partition_by ingested_ts {
        /// When the file was offered (UTC).
        ingested_ts: Option<Timestamp>,
        /// BLAKE3 hash of the file's bytes (hex); a hash already `ingested` is skipped.
        content_hash: Option<String>,
        /// Size of the file, bytes.
        size_bytes: Option<i64>,
        /// Format the file was read as (detected or `--format`), null if none matched.
        format: Option<String>,
        /// `ingested`, `partial` (some lines rejected), `rejected` or `skipped`.
        status: String,
        /// Rows written, all tables together.
        rows: i64,
        /// Rows written per table, as `table=count` pairs.
        rows_by_table: Option<String>,
        /// Lines or entries rejected inside the file, count.
        bad_lines: i64,
        /// Why the file (or its first bad line) was rejected, one line.
        error: Option<String>,
        /// 1-based line of that error, where there is one.
        error_line: Option<i64>,
        /// Version of runlens that ingested the file.
        runlens_version: String,
        /// The file's absolute path when it was read (with `size_bytes` and
        /// `file_modified_ts`, what lets a later ingest skip the unchanged file unread).
        absolute_path: Option<String>,
        /// The file's modification time when it was read (UTC).
        file_modified_ts: Option<Timestamp>,
    }
}

impl RunRow {
    /// Whether the run failed: a known non-zero exit code, a signal, a timeout or an
    /// interruption. An unknown exit code (a time report that prints none) is not a failure
    /// by itself. The analyses use the same rule as a polars expression
    /// (`runlens_analysis::catalogue::run_failed`), tested to agree.
    pub fn failed(&self) -> bool {
        self.timed_out
            || self.interrupted
            || self.signal.is_some()
            || self.exit_code.is_some_and(|code| code != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_type_builds_a_batch_with_its_schema() {
        let run = RunRow {
            run_id: "r1".into(),
            ..Default::default()
        };
        let batch = RunRow::to_batch(&[run.clone(), run]).expect("batch");
        assert_eq!(batch.num_rows(), 2);
        assert!(BenchResultRow::to_batch(&[BenchResultRow::default()]).is_ok());
        assert!(LlmCallRow::to_batch(&[LlmCallRow::default()]).is_ok());
        assert!(IngestLogRow::to_batch(&[IngestLogRow::default()]).is_ok());
        assert!(PhaseRow::to_batch(&[]).is_ok());
        assert!(SampleRow::to_batch(&[SampleRow::default()]).is_ok());
        assert!(SessionRow::to_batch(&[SessionRow::default()]).is_ok());
        assert!(ToolCallRow::to_batch(&[ToolCallRow::default()]).is_ok());
        assert!(ArtifactRow::to_batch(&[ArtifactRow::default()]).is_ok());
    }

    #[test]
    fn stamp_keeps_input_labels_but_user_labels_win() {
        let mut row = PhaseRow::default();
        row.labels.0.insert("model".into(), "from-file".into());
        row.labels.0.insert("gpu".into(), "a100".into());
        let mut user = Labels::default();
        user.0.insert("model".into(), "from-cli".into());
        row.stamp(&"x.log".into(), &"ing-1".into(), &user);
        assert_eq!(row.labels.0["model"], "from-cli");
        assert_eq!(row.labels.0["gpu"], "a100");
        assert_eq!(row.source_path.as_deref(), Some("x.log"));
    }
}
