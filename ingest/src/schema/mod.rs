//! The dataset contract: which tables exist, their columns, and the schema version.
//!
//! Every Parquet file runlens writes carries [`SCHEMA_VERSION`] under the key
//! [`SCHEMA_VERSION_KEY`] in its key-value metadata. A change to any column bumps the
//! version and `docs/schema.md` records what changed.

use std::sync::Arc;

mod column;
pub mod columnar;
mod tables;

pub(crate) use column::labels_builder;
pub use column::{ColumnType, Labels, Timestamp};
pub use tables::{
    ArtifactRow, BenchResultRow, IngestLogRow, LlmCallRow, PhaseRow, RunRow, SampleRow, SessionRow,
    TableRow, ToolCallRow,
};

/// Version of the dataset schema this build writes.
pub const SCHEMA_VERSION: u32 = 3;

/// Parquet key-value metadata key holding [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "runlens.schema_version";

/// `llm_calls.source` of the calls read from agent session transcripts (Claude Code,
/// Codex, saved exchanges, OpenTelemetry spans...): the calls the `sessions` reports count
/// and whose ids an ingest checks so that a grown transcript is not stored twice.
pub const TRANSCRIPT_SOURCE: &str = "transcript";

/// The tables of a runlens dataset; each is a folder of hive-partitioned Parquet files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// One execution of a recorded command.
    Runs,
    /// One phase of one run.
    Phases,
    /// One resource sample of a run.
    Samples,
    /// One request to an LLM provider.
    LlmCalls,
    /// One agent session transcript.
    Sessions,
    /// One tool call inside a session or an LLM response.
    ToolCalls,
    /// One benchmark result read from another harness.
    BenchResults,
    /// One output file a run produced or was expected to.
    Artifacts,
    /// One input file offered to ingest.
    IngestLog,
}

impl Table {
    /// Every table, in documentation order.
    pub const ALL: [Table; 9] = [
        Table::Runs,
        Table::Phases,
        Table::Samples,
        Table::LlmCalls,
        Table::Sessions,
        Table::ToolCalls,
        Table::BenchResults,
        Table::Artifacts,
        Table::IngestLog,
    ];

    /// The table's folder name and SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Runs => "runs",
            Table::Phases => "phases",
            Table::Samples => "samples",
            Table::LlmCalls => "llm_calls",
            Table::Sessions => "sessions",
            Table::ToolCalls => "tool_calls",
            Table::BenchResults => "bench_results",
            Table::Artifacts => "artifacts",
            Table::IngestLog => "ingest_log",
        }
    }

    /// The table's Arrow schema.
    pub fn schema(self) -> arrow_schema::SchemaRef {
        match self {
            Table::Runs => RunRow::schema(),
            Table::Phases => PhaseRow::schema(),
            Table::Samples => SampleRow::schema(),
            Table::LlmCalls => LlmCallRow::schema(),
            Table::Sessions => SessionRow::schema(),
            Table::ToolCalls => ToolCallRow::schema(),
            Table::BenchResults => BenchResultRow::schema(),
            Table::Artifacts => ArtifactRow::schema(),
            Table::IngestLog => IngestLogRow::schema(),
        }
    }

    fn column_docs(self) -> Vec<(&'static str, &'static str, bool, String)> {
        match self {
            Table::Runs => RunRow::column_docs(),
            Table::Phases => PhaseRow::column_docs(),
            Table::Samples => SampleRow::column_docs(),
            Table::LlmCalls => LlmCallRow::column_docs(),
            Table::Sessions => SessionRow::column_docs(),
            Table::ToolCalls => ToolCallRow::column_docs(),
            Table::BenchResults => BenchResultRow::column_docs(),
            Table::Artifacts => ArtifactRow::column_docs(),
            Table::IngestLog => IngestLogRow::column_docs(),
        }
    }
}

/// Rows of every data table produced from one or more input files (not `ingest_log`).
#[derive(Debug, Default, Clone)]
pub struct TableRows {
    /// Rows for `runs`.
    pub runs: Vec<RunRow>,
    /// Rows for `phases`.
    pub phases: Vec<PhaseRow>,
    /// Rows for `samples`.
    pub samples: Vec<SampleRow>,
    /// Rows for `llm_calls`.
    pub llm_calls: Vec<LlmCallRow>,
    /// More rows for `llm_calls`, built as Arrow columns by a parser that skips the row
    /// structs ([`columnar`]); none of them is a transcript call.
    pub llm_call_batches: Vec<arrow_array::RecordBatch>,
    /// Rows for `sessions`.
    pub sessions: Vec<SessionRow>,
    /// Rows for `tool_calls`.
    pub tool_calls: Vec<ToolCallRow>,
    /// Rows for `bench_results`.
    pub bench_results: Vec<BenchResultRow>,
    /// Rows for `artifacts`.
    pub artifacts: Vec<ArtifactRow>,
}

impl TableRows {
    /// Total rows over all tables.
    pub fn len(&self) -> usize {
        // Parsers ask after every record: count without building `counts()`'s list.
        self.runs.len()
            + self.phases.len()
            + self.samples.len()
            + self.llm_calls.len()
            + self
                .llm_call_batches
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>()
            + self.sessions.len()
            + self.tool_calls.len()
            + self.bench_results.len()
            + self.artifacts.len()
    }

    /// Takes every row out, leaving each table's buffer as large as it was: the next rows
    /// of a file being parsed fill it again without growing it step by step (a row is
    /// hundreds of bytes; growing a buffer of thousands copies it over and over).
    pub fn take_keeping_capacity(&mut self) -> TableRows {
        fn take<R>(rows: &mut Vec<R>) -> Vec<R> {
            let capacity = rows.len();
            std::mem::replace(rows, Vec::with_capacity(capacity))
        }
        TableRows {
            runs: take(&mut self.runs),
            phases: take(&mut self.phases),
            samples: take(&mut self.samples),
            llm_calls: take(&mut self.llm_calls),
            llm_call_batches: std::mem::take(&mut self.llm_call_batches),
            sessions: take(&mut self.sessions),
            tool_calls: take(&mut self.tool_calls),
            bench_results: take(&mut self.bench_results),
            artifacts: take(&mut self.artifacts),
        }
    }

    /// Whether there are no rows at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row count per table, tables without rows left out.
    pub fn counts(&self) -> Vec<(Table, usize)> {
        [
            (Table::Runs, self.runs.len()),
            (Table::Phases, self.phases.len()),
            (Table::Samples, self.samples.len()),
            (
                Table::LlmCalls,
                self.llm_calls.len()
                    + self
                        .llm_call_batches
                        .iter()
                        .map(|b| b.num_rows())
                        .sum::<usize>(),
            ),
            (Table::Sessions, self.sessions.len()),
            (Table::ToolCalls, self.tool_calls.len()),
            (Table::BenchResults, self.bench_results.len()),
            (Table::Artifacts, self.artifacts.len()),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }

    /// Moves every row of `other` into `self`.
    pub fn append(&mut self, mut other: TableRows) {
        self.runs.append(&mut other.runs);
        self.phases.append(&mut other.phases);
        self.samples.append(&mut other.samples);
        self.llm_calls.append(&mut other.llm_calls);
        self.llm_call_batches.append(&mut other.llm_call_batches);
        self.sessions.append(&mut other.sessions);
        self.tool_calls.append(&mut other.tool_calls);
        self.bench_results.append(&mut other.bench_results);
        self.artifacts.append(&mut other.artifacts);
    }

    /// Sets provenance columns on every row (see [`TableRow::stamp`] and
    /// [`columnar::stamp_batch`]). Fails only if a batch does not have its table's schema.
    pub fn stamp(
        &mut self,
        source_path: &str,
        ingest_id: &str,
        labels: &Labels,
    ) -> Result<(), arrow_schema::ArrowError> {
        fn each<R: TableRow>(rows: &mut [R], p: &Arc<str>, i: &Arc<str>, l: &Labels) {
            rows.iter_mut().for_each(|r| r.stamp(p, i, l));
        }
        let (source_path, ingest_id): (Arc<str>, Arc<str>) = (source_path.into(), ingest_id.into());
        let (source_path, ingest_id) = (&source_path, &ingest_id);
        each(&mut self.runs, source_path, ingest_id, labels);
        each(&mut self.phases, source_path, ingest_id, labels);
        each(&mut self.samples, source_path, ingest_id, labels);
        each(&mut self.llm_calls, source_path, ingest_id, labels);
        each(&mut self.sessions, source_path, ingest_id, labels);
        each(&mut self.tool_calls, source_path, ingest_id, labels);
        each(&mut self.bench_results, source_path, ingest_id, labels);
        each(&mut self.artifacts, source_path, ingest_id, labels);
        for batch in &mut self.llm_call_batches {
            *batch = columnar::stamp_batch(batch, source_path, ingest_id, labels)?;
        }
        Ok(())
    }
}

/// Renders the column reference of every table as Markdown: the generated part of
/// `docs/schema.md`.
pub fn schema_markdown() -> String {
    let mut out = String::new();
    for table in Table::ALL {
        out.push_str(&format!("### `{}`\n\n", table.name()));
        out.push_str("| column | type | null | description |\n| --- | --- | --- | --- |\n");
        for (name, ty, nullable, doc) in table.column_docs() {
            let null = if nullable { "yes" } else { "no" };
            out.push_str(&format!("| `{name}` | {ty} | {null} | {doc} |\n"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_snake_case_and_unique() {
        for table in Table::ALL {
            let schema = table.schema();
            let mut seen = std::collections::HashSet::new();
            for field in schema.fields() {
                let name = field.name();
                assert!(
                    name.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{}.{name} is not snake_case",
                    table.name()
                );
                assert!(seen.insert(name.clone()), "{}.{name} twice", table.name());
            }
        }
    }

    #[test]
    fn docs_schema_md_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema.md");
        let generated = schema_markdown();
        let begin = "<!-- BEGIN GENERATED COLUMNS -->\n";
        let end = "<!-- END GENERATED COLUMNS -->";
        let doc = std::fs::read_to_string(path).expect("docs/schema.md exists");
        if std::env::var_os("RUNLENS_UPDATE_SCHEMA_DOC").is_some() {
            let (head, rest) = doc.split_once(begin).expect("begin marker");
            let (_, tail) = rest.split_once(end).expect("end marker");
            let updated = format!("{head}{begin}{generated}{end}{tail}");
            std::fs::write(path, updated).expect("write docs/schema.md");
            return;
        }
        assert!(
            doc.contains(&format!("{begin}{generated}{end}")),
            "docs/schema.md is out of date with the table definitions: \
             run `RUNLENS_UPDATE_SCHEMA_DOC=1 cargo test -p runlens-ingest docs_schema` and review the diff"
        );
    }
}
