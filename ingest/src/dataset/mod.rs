//! The on-disk dataset: one folder per table of hive-partitioned, zstd-compressed Parquet
//! files (`runs/date=2026-11-22/part-<commit>-<n>.parquet`), written atomically.
//!
//! Commit protocol (what makes a crash harmless and a re-run idempotent):
//! 1. A writer holds the exclusive lock on `<root>/.lock` for its whole session.
//! 2. Data files are written under `<root>/.staging/<commit>/` and fsynced.
//! 3. They are renamed into their table folders; the commit's `ingest_log` file is renamed
//!    **last**. That file is the commit record.
//! 4. On the next open, [`WriteSession::recover`] deletes `.staging/` and every data file
//!    whose commit has no `ingest_log` file: a crash mid-commit leaves nothing behind that a
//!    re-run would count twice. Readers never look inside `.staging/`.
//!
//! The parts: this module (the dataset's folders and the listing of committed files),
//! `commit` (the write session, its commits and the stager that writes their files), and
//! `index` (what is already stored: content hashes and transcript ids, read from the
//! files' own columns).

mod commit;
mod index;

pub use commit::{Commit, Recovery, StagedFile, Stager, WriteSession};
pub use index::KnownFile;
pub use index::TranscriptIds;
use index::{read_column_pair, read_known_files, read_session_usage};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::error::{IngestError, Result};
use crate::forks::UsageVector;
use crate::schema::{
    IngestLogRow, SCHEMA_VERSION, SCHEMA_VERSION_KEY, Table, TableRow, TableRows, Timestamp,
};

pub(super) const STAGING: &str = ".staging";
pub(super) const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;
/// Rows per Parquet row group: small enough that an open writer holds little in memory.
pub(super) const ROW_GROUP_ROWS: usize = 128 * 1024;
pub(super) const LOCK_FILE: &str = ".lock";

/// A dataset directory (it may not exist yet).
#[derive(Debug, Clone)]
pub struct Dataset {
    root: PathBuf,
}

impl Dataset {
    /// The dataset rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Dataset { root: root.into() }
    }

    /// The folder holding `table`'s files.
    pub fn table_dir(&self, table: Table) -> PathBuf {
        self.root.join(table.name())
    }

    /// Committed Parquet files of `table`, sorted.
    pub fn table_files(&self, table: Table) -> Result<Vec<PathBuf>> {
        let dir = self.table_dir(table);
        let mut files = Vec::new();
        if !dir.is_dir() {
            return Ok(files);
        }
        for partition in read_dir_sorted(&dir)? {
            if !partition.is_dir() {
                continue;
            }
            for file in read_dir_sorted(&partition)? {
                if file.extension().is_some_and(|e| e == "parquet") {
                    files.push(file);
                }
            }
        }
        Ok(files)
    }

    /// The commits whose `ingest_log` file is published.
    fn committed(&self) -> Result<HashSet<String>> {
        Ok(self
            .table_files(Table::IngestLog)?
            .iter()
            .filter_map(|p| commit_of(p))
            .collect())
    }

    /// Files of `table` that no `ingest_log` file commits: left by a writer killed between
    /// moving its data files into place and publishing its log (the next writer deletes
    /// them; readers leave them out until then).
    pub fn uncommitted_files(&self, table: Table) -> Result<Vec<PathBuf>> {
        self.uncommitted_among(table, self.table_files(table)?)
    }

    /// Those of `files` (listed from `table`) that no `ingest_log` file commits.
    pub fn uncommitted_among(&self, table: Table, files: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
        if table == Table::IngestLog || files.is_empty() {
            return Ok(Vec::new());
        }
        let committed = self.committed()?;
        Ok(files
            .into_iter()
            .filter(|f| commit_of(f).is_none_or(|c| !committed.contains(&c)))
            .collect())
    }

    /// Content hashes of every file already stored (`ingested` or `partial`).
    pub fn known_hashes(&self) -> Result<HashSet<String>> {
        let mut hashes = HashSet::new();
        for path in self.table_files(Table::IngestLog)? {
            read_column_pair(
                &path,
                Table::IngestLog,
                ["content_hash", "status"],
                &mut |hash, status| {
                    if matches!(status, Some("ingested" | "partial")) {
                        hashes.insert(hash.to_string());
                    }
                },
            )?;
        }
        Ok(hashes)
    }

    /// The files already stored (`ingested` or `partial`) as they were when read: per
    /// absolute path, its size, modification time (microseconds) and content hash. A file
    /// offered again at the same path with the same size and modification time is the same
    /// file and need not be read again.
    pub fn known_files(&self) -> Result<HashMap<String, KnownFile>> {
        let mut files = HashMap::new();
        for path in self.table_files(Table::IngestLog)? {
            read_known_files(&path, &mut files)?;
        }
        Ok(files)
    }

    /// Ids of the transcript rows already stored: `llm_calls.call_id` of `source =
    /// transcript` rows and `tool_calls.tool_call_id` of rows with a session. A transcript
    /// that grew since it was ingested (or a resumed session's copy of earlier lines) brings
    /// these again; they are not stored twice.
    pub fn stored_transcript_ids(&self) -> Result<TranscriptIds> {
        let mut ids = TranscriptIds::default();
        for path in self.table_files(Table::LlmCalls)? {
            read_column_pair(
                &path,
                Table::LlmCalls,
                ["call_id", "source"],
                &mut |id, source| {
                    if source == Some("transcript") {
                        ids.calls.insert(id.to_string());
                    }
                },
            )?;
        }
        for path in self.table_files(Table::ToolCalls)? {
            read_column_pair(
                &path,
                Table::ToolCalls,
                ["tool_call_id", "session_id"],
                &mut |id, session| {
                    if session.is_some() {
                        ids.tool_calls.insert(id.to_string());
                    }
                },
            )?;
        }
        Ok(ids)
    }

    /// The stored LLM calls of `sessions`: per session, each call's usage in the order the
    /// session's file holds them (for matching a Codex fork's replay, [`crate::forks`]).
    pub fn stored_session_usage(
        &self,
        sessions: &HashSet<String>,
    ) -> Result<HashMap<String, Vec<UsageVector>>> {
        let mut found: HashMap<String, Vec<(i64, UsageVector)>> = HashMap::new();
        if sessions.is_empty() {
            return Ok(HashMap::new());
        }
        for path in self.table_files(Table::LlmCalls)? {
            read_session_usage(&path, sessions, &mut found)?;
        }
        Ok(found
            .into_iter()
            .map(|(id, mut calls)| {
                calls.sort_by_key(|(line, _)| *line);
                (id, calls.into_iter().map(|(_, usage)| usage).collect())
            })
            .collect())
    }

    /// Takes the writer lock, waiting for another runlens process if one holds it.
    /// `on_wait` is called once if the lock is busy.
    pub fn lock(&self, on_wait: &dyn Fn(&Path)) -> Result<WriteSession> {
        fs::create_dir_all(&self.root).map_err(|e| IngestError::io("creating", &self.root, e))?;
        let path = self.root.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| IngestError::io("opening", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait(&path);
                file.lock()
                    .map_err(|e| IngestError::io("locking", &path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(IngestError::io("locking", &path, e)),
        }
        Ok(WriteSession {
            dataset: self.clone(),
            _lock: file,
        })
    }
}

/// The commit id in a part file's name (`part-<commit>-<n>.parquet`).
pub(super) fn commit_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let rest = stem.strip_prefix("part-")?;
    let (commit, n) = rest.rsplit_once('-')?;
    n.parse::<usize>().ok().map(|_| commit.to_string())
}

pub(super) fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| IngestError::io("reading", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .collect();
    entries.sort();
    Ok(entries)
}

#[cfg(test)]
mod tests;
