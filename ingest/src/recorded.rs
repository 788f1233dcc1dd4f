//! Rows that runlens produces itself (the recorder, the capture proxy and the probe) rather
//! than reads from an input file.
//!
//! Each call is one commit of the dataset (see [`crate::dataset`]): the rows are staged, and
//! an `ingest_log` row naming the producer (`format`) and what it ran (`source_path`) is
//! published last as the commit record. A crash before that leaves nothing a reader sees;
//! each call has its own `ingest_id`, so writing run by run loses at most the run in flight.

use crate::dataset::log::CommitKind;
use crate::dataset::{Dataset, Writer};
use crate::error::Result;
use crate::schema::{IngestLogRow, Labels, TableRows, Timestamp};

/// Where recorded rows come from, as the `ingest_log` row states it.
#[derive(Debug, Clone)]
pub struct RecordedSource<'a> {
    /// The producer, stored as `ingest_log.format` (`record`).
    pub producer: &'a str,
    /// What was run (the redacted command line), stored as `source_path` of every row.
    pub description: &'a str,
    /// Labels added to every row.
    pub labels: &'a Labels,
}

/// Writes `rows` into `dataset` as one commit; returns its `ingest_id`.
pub fn write_recorded(
    dataset: &Dataset,
    rows: TableRows,
    source: &RecordedSource<'_>,
) -> Result<String> {
    write_recorded_with(&dataset.writer()?, rows, source)
}

/// Writes `rows` as one commit of `session` (a writer kept for many commits, such as one
/// per recorded run, reads the commit log once); returns its `ingest_id`.
pub fn write_recorded_with(
    session: &Writer,
    mut rows: TableRows,
    source: &RecordedSource<'_>,
) -> Result<String> {
    let ingest_id = crate::pipeline::new_ingest_id();
    rows.stamp(source.description, &ingest_id, source.labels)
        .map_err(|source| crate::IngestError::Arrow {
            table: "llm_calls",
            source,
        })?;
    let now = Timestamp::now();
    let log = IngestLogRow {
        ingested_ts: Some(now),
        content_hash: None,
        size_bytes: None,
        format: Some(source.producer.to_string()),
        status: "ingested".to_string(),
        rows: rows.len() as i64,
        rows_by_table: Some(
            rows.counts()
                .iter()
                .map(|(t, n)| format!("{}={n}", t.name()))
                .collect::<Vec<_>>()
                .join(","),
        ),
        bad_lines: 0,
        error: None,
        error_line: None,
        runlens_version: env!("CARGO_PKG_VERSION").to_string(),
        // Recorded, not read from a file.
        absolute_path: None,
        file_modified_ts: None,
        source_path: Some(source.description.into()),
        ingest_id: ingest_id.as_str().into(),
        labels: source.labels.clone(),
    };
    let commit = session.begin(&ingest_id, CommitKind::Record)?;
    commit.stage_all(&rows, now)?;
    commit.finish(&[log], now)?;
    Ok(ingest_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{RunRow, Table};

    #[test]
    fn each_write_is_a_commit_with_its_log_row() {
        let dir = tempfile::tempdir().expect("tempdir");
        let labels = Labels::default();
        let source = RecordedSource {
            producer: "record",
            description: "sleep 1",
            labels: &labels,
        };
        let mut ids = Vec::new();
        let dataset = Dataset::new(dir.path());
        for i in 0..2 {
            let rows = TableRows {
                runs: vec![RunRow {
                    run_id: format!("r{i}"),
                    start_ts: Some(Timestamp(1_700_000_000_000_000)),
                    ..RunRow::default()
                }],
                ..TableRows::default()
            };
            ids.push(write_recorded(&dataset, rows, &source).expect("write"));
        }
        assert_ne!(ids[0], ids[1]);
        let dataset = Dataset::new(dir.path());
        assert_eq!(dataset.table_files(Table::Runs).expect("files").len(), 2);
        assert_eq!(
            dataset.table_files(Table::IngestLog).expect("files").len(),
            2
        );
        assert!(
            !dir.path()
                .join(".staging")
                .read_dir()
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        );
    }
}
