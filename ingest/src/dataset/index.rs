//! What is already stored, read from the committed files' own columns: the content hash
//! of every ingested file and the ids of transcript calls and tool calls.

use super::*;

/// Ids of transcript rows (LLM calls, tool calls) seen so far.
#[derive(Debug, Default)]
pub struct TranscriptIds {
    /// `llm_calls.call_id` of transcript calls.
    pub calls: HashSet<String>,
    /// `tool_calls.tool_call_id` of calls made in sessions.
    pub tool_calls: HashSet<String>,
}

impl TranscriptIds {
    /// Drops from `rows` the transcript calls and session tool calls whose ids were seen
    /// before (stored, or earlier in this batch), remembers the others; returns how many
    /// rows were dropped.
    pub fn drop_seen(&mut self, rows: &mut TableRows) -> usize {
        let before = rows.llm_calls.len() + rows.tool_calls.len();
        rows.llm_calls
            .retain(|c| c.source != "transcript" || self.calls.insert(c.call_id.clone()));
        rows.tool_calls
            .retain(|t| t.session_id.is_none() || self.tool_calls.insert(t.tool_call_id.clone()));
        before - rows.llm_calls.len() - rows.tool_calls.len()
    }
}

/// Calls `each(id, other)` for every row of a Parquet file's string columns `id` and `other`.
pub(super) fn read_ids(
    path: &Path,
    table: &'static str,
    id: &str,
    other: &str,
    each: &mut dyn FnMut(&str, Option<&str>),
) -> Result<()> {
    let parquet_err = |source| IngestError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|e| IngestError::io("opening", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    let schema = builder.parquet_schema();
    let wanted: Vec<usize> = [id, other]
        .iter()
        .filter_map(|name| schema.columns().iter().position(|c| c.name() == *name))
        .collect();
    let mask = ProjectionMask::leaves(schema, wanted);
    let reader = builder.with_projection(mask).build().map_err(parquet_err)?;
    for batch in reader {
        let batch = batch.map_err(|source| IngestError::Arrow { table, source })?;
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
        };
        let (Some(ids), Some(others)) = (column(id), column(other)) else {
            continue;
        };
        for i in 0..batch.num_rows() {
            if ids.is_valid(i) {
                each(ids.value(i), others.is_valid(i).then(|| others.value(i)));
            }
        }
    }
    Ok(())
}

pub(super) fn read_stored_hashes(path: &Path, hashes: &mut HashSet<String>) -> Result<()> {
    let parquet_err = |source| IngestError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|e| IngestError::io("opening", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    check_schema_version(
        path,
        builder.metadata().file_metadata().key_value_metadata(),
    )?;
    let schema = builder.parquet_schema();
    let wanted: Vec<usize> = ["content_hash", "status"]
        .iter()
        .filter_map(|name| schema.columns().iter().position(|c| c.name() == *name))
        .collect();
    let mask = ProjectionMask::leaves(schema, wanted);
    let reader = builder.with_projection(mask).build().map_err(parquet_err)?;
    for batch in reader {
        let batch = batch.map_err(|source| IngestError::Arrow {
            table: "ingest_log",
            source,
        })?;
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
        };
        let (Some(hash), Some(status)) = (column("content_hash"), column("status")) else {
            continue;
        };
        for i in 0..batch.num_rows() {
            let stored = matches!(status.value(i), "ingested" | "partial");
            if stored && hash.is_valid(i) {
                hashes.insert(hash.value(i).to_string());
            }
        }
    }
    Ok(())
}

pub(super) fn check_schema_version(path: &Path, metadata: Option<&Vec<KeyValue>>) -> Result<()> {
    let found = metadata
        .and_then(|kv| kv.iter().find(|k| k.key == SCHEMA_VERSION_KEY))
        .and_then(|k| k.value.clone())
        .unwrap_or_else(|| "none".into());
    if found == SCHEMA_VERSION.to_string() {
        Ok(())
    } else {
        Err(IngestError::SchemaVersion {
            path: path.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        })
    }
}
