//! The dataset: one folder per table of hive-partitioned, zstd-compressed Parquet files
//! (`runs/date=2026-11-22/part-<commit>-<n>.parquet`), in a local directory or on object
//! storage, and the commit log that says which of them are part of it.
//!
//! Commit protocol (safe for any number of writers at once, on any [`Store`], no lock):
//! 1. A writer writes its data files under names no other writer uses (the commit id is
//!    unique) and publishes them into their table folders. No reader looks at them yet.
//! 2. It then creates the commit record `_runlens/commits/<n>.json` naming them, with
//!    create-if-absent ([`log::append`]). If another writer took number `n`, it reads that
//!    record: when it stores none of the same input files, the writer tries `n + 1`; when
//!    it does, the writer drops those inputs' rows from its own files (they are stored
//!    once, by the other writer) and tries again.
//! 3. Readers replay the records ([`Snapshot`]) and read only the files they name.
//!
//! A writer killed at any moment leaves at most files no record names: invisible, blocking
//! nobody, deleted by `runlens vacuum` after a grace period. Datasets written before the
//! commit log (whose `ingest_log` files were the commit records) are read as they were and
//! adopted by their first new commit.
//!
//! The parts: this module (the [`Dataset`] and its snapshot), `store` (local directory and
//! object storage), `log` (commit records), `commit` (writers, their commits and the
//! stager that writes their files), `index` (what is already stored, read from the files'
//! own columns) and `maintenance` (`compact`, `vacuum`).

mod check;
mod commit;
mod index;
pub mod location;
pub mod log;
mod maintenance;
mod object;
pub mod store;

pub use check::DamagedFile;
pub use commit::{Commit, CommitOutcome, StagedFile, Stager, Writer};
pub use index::KnownFile;
pub use index::TranscriptIds;
use index::{
    IdSet, TRANSCRIPT_SOURCE, fingerprint, read_column_pair, read_column_pair_of, read_each,
    read_known_files, read_session_usage,
};
pub use location::{Cloud, DataLocation};
use log::AddedFile;
pub use log::Snapshot;
pub use maintenance::{CompactOptions, CompactSummary, VacuumOptions, VacuumSummary};
pub use store::{LocalStore, ObjectInfo, Store};

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_array::{Array, Int64Array, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::error::{IngestError, Result};
use crate::forks::UsageVector;
use crate::schema::{
    IngestLogRow, SCHEMA_VERSION, SCHEMA_VERSION_KEY, Table, TableRow, TableRows, Timestamp,
};

pub(super) const STAGING: &str = ".staging";
pub(super) const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;
/// Rows per Parquet row group: small enough that an open writer holds little in memory.
pub(super) const ROW_GROUP_ROWS: usize = 128 * 1024;

/// A dataset (it may not exist yet): its storage and, once read, its snapshot.
#[derive(Debug, Clone)]
pub struct Dataset {
    store: Arc<dyn Store>,
    /// The snapshot this handle reads, taken at its first use.
    snapshot: Arc<Mutex<Option<Arc<Snapshot>>>>,
}

impl Dataset {
    /// The dataset in the local directory `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Dataset::with_store(Arc::new(LocalStore::new(root)))
    }

    /// The dataset kept in `store`.
    pub fn with_store(store: Arc<dyn Store>) -> Self {
        Dataset {
            store,
            snapshot: Arc::default(),
        }
    }

    /// Its storage.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The location as the user gave it (a path or a URL without credentials).
    pub fn location(&self) -> &str {
        self.store.location()
    }

    /// The local directory, when the dataset is one.
    pub fn local_root(&self) -> Option<PathBuf> {
        self.store.local_path("")
    }

    /// The snapshot this handle reads: the dataset as of its first call (one command sees
    /// one consistent set of files; [`Dataset::refresh`] moves on).
    pub fn snapshot(&self) -> Result<Arc<Snapshot>> {
        let mut cached = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(snapshot) = cached.as_ref() {
            return Ok(snapshot.clone());
        }
        let snapshot = Arc::new(self.read_snapshot()?);
        *cached = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Brings the snapshot up to date with the commits made since it was taken.
    pub fn refresh(&self) -> Result<Arc<Snapshot>> {
        let mut cached = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        let snapshot = match cached.take() {
            Some(old) if old.sequence.is_some() => {
                let mut snapshot = Arc::unwrap_or_clone(old);
                snapshot.catch_up(self.store())?;
                snapshot
            }
            _ => self.read_snapshot()?,
        };
        let snapshot = Arc::new(snapshot);
        *cached = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Reads the commit log (or, for a dataset written before it, the legacy layout).
    pub(super) fn read_snapshot(&self) -> Result<Snapshot> {
        let mut snapshot = log::latest_checkpoint(self.store())?.unwrap_or_default();
        snapshot.catch_up(self.store())?;
        if snapshot.sequence.is_none() {
            return maintenance::legacy_snapshot(self);
        }
        Ok(snapshot)
    }

    /// Keys of `table`'s committed files, sorted.
    pub fn table_files(&self, table: Table) -> Result<Vec<String>> {
        Ok(self
            .snapshot()?
            .table_files(table)
            .into_iter()
            .map(|f| f.file.path.clone())
            .collect())
    }

    /// Keys of `table`'s committed files with their sizes in bytes, sorted by key.
    fn sized_table_files(&self, table: Table) -> Result<Vec<(String, u64)>> {
        self.sized_table_files_where(table, |_| true)
    }

    /// Keys and sizes of `table`'s committed files for which `keep` holds, sorted by key.
    fn sized_table_files_where(
        &self,
        table: Table,
        keep: impl Fn(&AddedFile) -> bool,
    ) -> Result<Vec<(String, u64)>> {
        Ok(self
            .snapshot()?
            .table_files(table)
            .into_iter()
            .filter(|f| keep(&f.file))
            .map(|f| (f.file.path.clone(), f.file.bytes))
            .collect())
    }

    /// The path or URL a Parquet reader opens for `key`.
    pub fn reader_path(&self, key: &str) -> String {
        self.store.reader_path(key)
    }

    /// Settings a Parquet reader needs beyond the environment for this dataset's reader
    /// paths (may hold credentials: never print them).
    pub fn reader_options(&self) -> Vec<(String, String)> {
        self.store.reader_options()
    }

    /// Where `table`'s folder is, as a reader path (hive partitions start below it).
    pub fn table_reader_path(&self, table: Table) -> String {
        self.store.reader_path(table.name())
    }

    /// Content hashes of every file already stored (`ingested` or `partial`).
    pub fn known_hashes(&self) -> Result<HashSet<String>> {
        Ok(self.snapshot()?.content_hashes.clone())
    }

    /// The files already stored (`ingested` or `partial`), or read again and found stored
    /// (`skipped`), as they were when read: per absolute path, its size, modification time
    /// (microseconds) and content hash, the latest row winning. A file offered again at the
    /// same path with the same size and modification time is the same file and need not be
    /// read again.
    pub fn known_files(&self) -> Result<HashMap<String, KnownFile>> {
        let per_file = read_each(
            self,
            &self.sized_table_files(Table::IngestLog)?,
            |key, content| {
                let mut found = Vec::new();
                read_known_files(content, key, &mut found)?;
                Ok(found)
            },
        )?;
        // In commit order (the files' keys sort so), each file's rows in order.
        Ok(per_file.into_iter().flatten().collect())
    }

    /// Ids of the transcript rows already stored: `llm_calls.call_id` of `source =
    /// transcript` rows and `tool_calls.tool_call_id` of rows with a session. A transcript
    /// that grew since it was ingested (or a resumed session's copy of earlier lines) brings
    /// these again; they are not stored twice. An `llm_calls` file whose commit recorded
    /// its sources without `transcript` (a latency CSV's calls, the proxy's) is not read.
    pub fn stored_transcript_ids(&self) -> Result<TranscriptIds> {
        // Each file's ids are read (and fingerprinted) on its own thread, then gathered.
        let read = |table: Table,
                    columns: [&'static str; 2],
                    wanted: fn(Option<&str>) -> bool,
                    may_hold: fn(&AddedFile) -> bool| {
            let files = self.sized_table_files_where(table, may_hold)?;
            let per_file = read_each(self, &files, |key, content| {
                let mut found = Vec::new();
                read_column_pair_of(content, key, table, columns, &mut |id, other| {
                    if wanted(other) {
                        found.push(fingerprint(id));
                    }
                })?;
                Ok(found)
            })?;
            let mut set = IdSet::with_capacity_and_hasher(
                per_file.iter().map(Vec::len).sum(),
                Default::default(),
            );
            set.extend(per_file.into_iter().flatten());
            Ok::<_, IngestError>(set)
        };
        Ok(TranscriptIds {
            calls: read(
                Table::LlmCalls,
                ["call_id", "source"],
                |source| source == Some(TRANSCRIPT_SOURCE),
                |file| {
                    file.sources
                        .as_ref()
                        .is_none_or(|sources| sources.contains(TRANSCRIPT_SOURCE))
                },
            )?,
            tool_calls: read(
                Table::ToolCalls,
                ["tool_call_id", "session_id"],
                |session| session.is_some(),
                |_| true,
            )?,
        })
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
        // Forks are read after their parents were committed by this same ingest.
        for key in self.refresh()?.table_files(Table::LlmCalls) {
            read_session_usage(self, &key.file.path, sessions, &mut found)?;
        }
        Ok(found
            .into_iter()
            .map(|(id, mut calls)| {
                calls.sort_by_key(|(line, _)| *line);
                (id, calls.into_iter().map(|(_, usage)| usage).collect())
            })
            .collect())
    }

    /// A writer: any number of them, in any number of processes and machines, may write
    /// at once (see the module's commit protocol).
    pub fn writer(&self) -> Result<Writer> {
        Writer::new(self.clone())
    }
}

/// The commit id in a part file's name (`part-<commit>-<n>.parquet`).
pub(super) fn commit_of(key: &str) -> Option<String> {
    let name = key.rsplit('/').next()?;
    let stem = name.strip_suffix(".parquet")?;
    let rest = stem.strip_prefix("part-")?;
    let (commit, n) = rest.rsplit_once('-')?;
    n.parse::<usize>().ok().map(|_| commit.to_string())
}

#[cfg(test)]
mod tests;
