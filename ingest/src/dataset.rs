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

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{Array, StringArray};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::error::{IngestError, Result};
use crate::schema::{
    IngestLogRow, SCHEMA_VERSION, SCHEMA_VERSION_KEY, Table, TableRow, TableRows, Timestamp,
};

const STAGING: &str = ".staging";
const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;
/// Rows per Parquet row group: small enough that an open writer holds little in memory.
const ROW_GROUP_ROWS: usize = 128 * 1024;
const LOCK_FILE: &str = ".lock";

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
            read_stored_hashes(&path, &mut hashes)?;
        }
        Ok(hashes)
    }

    /// Ids of the transcript rows already stored: `llm_calls.call_id` of `source =
    /// transcript` rows and `tool_calls.tool_call_id` of rows with a session. A transcript
    /// that grew since it was ingested (or a resumed session's copy of earlier lines) brings
    /// these again; they are not stored twice.
    pub fn stored_transcript_ids(&self) -> Result<TranscriptIds> {
        let mut ids = TranscriptIds::default();
        for path in self.table_files(Table::LlmCalls)? {
            read_ids(
                &path,
                "llm_calls",
                "call_id",
                "source",
                &mut |id, source| {
                    if source == Some("transcript") {
                        ids.calls.insert(id.to_string());
                    }
                },
            )?;
        }
        for path in self.table_files(Table::ToolCalls)? {
            read_ids(
                &path,
                "tool_calls",
                "tool_call_id",
                "session_id",
                &mut |id, session| {
                    if session.is_some() {
                        ids.tool_calls.insert(id.to_string());
                    }
                },
            )?;
        }
        Ok(ids)
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

/// What [`WriteSession::recover`] cleaned up.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Recovery {
    /// Data files of commits that never completed, deleted.
    pub orphan_files: usize,
    /// Whether a staging folder of an interrupted writer was removed.
    pub staging_removed: bool,
}

/// Exclusive write access to a dataset, for as long as the value lives.
#[derive(Debug)]
pub struct WriteSession {
    dataset: Dataset,
    _lock: File,
}

impl WriteSession {
    /// Removes what an interrupted writer left: its staging folder and uncommitted files.
    pub fn recover(&self) -> Result<Recovery> {
        let mut recovery = Recovery::default();
        let staging = self.dataset.root.join(STAGING);
        if staging.exists() {
            // Finished commits remove their own folder; anything left was interrupted.
            recovery.staging_removed = fs::read_dir(&staging)
                .map_err(|e| IngestError::io("reading", &staging, e))?
                .next()
                .is_some();
            fs::remove_dir_all(&staging).map_err(|e| IngestError::io("removing", &staging, e))?;
        }
        for table in Table::ALL.into_iter().filter(|t| *t != Table::IngestLog) {
            for file in self.dataset.uncommitted_files(table)? {
                fs::remove_file(&file).map_err(|e| IngestError::io("removing", &file, e))?;
                recovery.orphan_files += 1;
            }
        }
        Ok(recovery)
    }

    /// Starts a commit named `commit_id` (unique within the dataset).
    pub fn begin(&self, commit_id: &str) -> Result<Commit<'_>> {
        let staging = self.dataset.root.join(STAGING).join(commit_id);
        fs::create_dir_all(&staging).map_err(|e| IngestError::io("creating", &staging, e))?;
        Ok(Commit {
            session: self,
            id: commit_id.to_string(),
            staging,
            staged: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(1),
        })
    }
}

/// A file written to staging, waiting for its commit.
#[derive(Debug, Clone)]
pub struct StagedFile {
    staged: PathBuf,
    target: PathBuf,
}

/// One atomic unit of writing: data files of any tables plus their `ingest_log` rows.
#[derive(Debug)]
pub struct Commit<'s> {
    session: &'s WriteSession,
    id: String,
    staging: PathBuf,
    staged: Mutex<Vec<StagedFile>>,
    counter: AtomicUsize,
}

impl Commit<'_> {
    /// Writes `rows` to staging, one file per day partition; returns the staged files.
    /// Rows without a timestamp of their own are filed under `fallback`'s day.
    pub fn stage<R: TableRow>(&self, rows: &[R], fallback: Timestamp) -> Result<Vec<StagedFile>> {
        let mut stager = self.stager();
        stager.append(rows, fallback)?;
        stager.finish()
    }

    /// Stages every table of `rows`.
    pub fn stage_all(&self, rows: &TableRows, fallback: Timestamp) -> Result<Vec<StagedFile>> {
        let mut stager = self.stager();
        stager.append_all(rows, fallback)?;
        stager.finish()
    }

    /// A stager that appends to open files of this commit (one per table and day).
    pub fn stager(&self) -> Stager<'_> {
        Stager {
            commit_id: &self.id,
            staging: &self.staging,
            dataset: &self.session.dataset,
            counter: &self.counter,
            staged: &self.staged,
            open: BTreeMap::new(),
        }
    }

    /// Drops staged files that must not be committed (their input was rejected).
    pub fn discard(&self, files: &[StagedFile]) -> Result<()> {
        let doomed: HashSet<&Path> = files.iter().map(|f| f.staged.as_path()).collect();
        self.lock_staged()
            .retain(|f| !doomed.contains(f.staged.as_path()));
        for file in files {
            fs::remove_file(&file.staged)
                .map_err(|e| IngestError::io("removing", &file.staged, e))?;
        }
        Ok(())
    }

    /// Publishes the staged files and then `log` (the commit record).
    pub fn finish(self, log: &[IngestLogRow], now: Timestamp) -> Result<()> {
        let log_files = self.stage(log, now)?;
        let staged = std::mem::take(&mut *self.lock_staged());
        let (log_files, data_files): (Vec<_>, Vec<_>) = staged
            .into_iter()
            .partition(|f| log_files.iter().any(|l| l.staged == f.staged));
        for file in data_files.iter().chain(log_files.iter()) {
            publish(file)?;
        }
        fs::remove_dir_all(&self.staging)
            .map_err(|e| IngestError::io("removing", &self.staging, e))?;
        Ok(())
    }

    /// Ends a commit that wrote nothing (every file was skipped).
    pub fn finish_empty(self) -> Result<()> {
        fs::remove_dir_all(&self.staging).map_err(|e| IngestError::io("removing", &self.staging, e))
    }

    fn lock_staged(&self) -> std::sync::MutexGuard<'_, Vec<StagedFile>> {
        // A poisoned lock only means another thread panicked while pushing; the list is intact.
        self.staged.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Appends rows to open staging files of one commit, one Parquet file per table and day,
/// each append a new row group: a large input is written as it is parsed, in small
/// portions, without becoming many small files.
pub struct Stager<'c> {
    commit_id: &'c str,
    staging: &'c Path,
    dataset: &'c Dataset,
    counter: &'c AtomicUsize,
    staged: &'c Mutex<Vec<StagedFile>>,
    open: BTreeMap<(Table, i64), (ArrowWriter<File>, StagedFile)>,
}

impl Stager<'_> {
    /// Appends `rows`, split by UTC day (`fallback` for rows without a timestamp).
    pub fn append<R: TableRow>(&mut self, rows: &[R], fallback: Timestamp) -> Result<()> {
        for (day, batch) in split_by_day(rows, fallback)? {
            let key = (R::TABLE, day);
            if !self.open.contains_key(&key) {
                let opened = self.open_file(R::TABLE, day, &batch)?;
                self.open.insert(key, opened);
            }
            if let Some((writer, file)) = self.open.get_mut(&key) {
                writer
                    .write(&batch)
                    .map_err(|source| IngestError::Parquet {
                        path: file.staged.clone(),
                        source,
                    })?;
            }
        }
        Ok(())
    }

    /// Whether nothing was appended yet.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Appends every table of `rows`.
    pub fn append_all(&mut self, rows: &TableRows, fallback: Timestamp) -> Result<()> {
        self.append(&rows.runs, fallback)?;
        self.append(&rows.phases, fallback)?;
        self.append(&rows.samples, fallback)?;
        self.append(&rows.llm_calls, fallback)?;
        self.append(&rows.sessions, fallback)?;
        self.append(&rows.tool_calls, fallback)?;
        self.append(&rows.bench_results, fallback)?;
        self.append(&rows.artifacts, fallback)
    }

    /// Closes and fsyncs every file and hands them to the commit; returns them.
    pub fn finish(self) -> Result<Vec<StagedFile>> {
        let mut done = Vec::with_capacity(self.open.len());
        for (writer, file) in self.open.into_values() {
            let parquet_err = |source| IngestError::Parquet {
                path: file.staged.clone(),
                source,
            };
            let handle = writer.into_inner().map_err(parquet_err)?;
            handle
                .sync_all()
                .map_err(|e| IngestError::io("syncing", &file.staged, e))?;
            done.push(file);
        }
        // A poisoned lock only means another thread panicked while pushing; the list is intact.
        self.staged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(done.iter().cloned());
        Ok(done)
    }

    fn open_file(
        &self,
        table: Table,
        day: i64,
        batch: &RecordBatch,
    ) -> Result<(ArrowWriter<File>, StagedFile)> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("part-{}-{n}.parquet", self.commit_id);
        let staged = self.staging.join(&name);
        let target = self
            .dataset
            .table_dir(table)
            .join(format!(
                "date={}",
                Timestamp(day * MICROS_PER_DAY).utc_day()
            ))
            .join(&name);
        let handle = File::create(&staged).map_err(|e| IngestError::io("creating", &staged, e))?;
        let writer = ArrowWriter::try_new(handle, batch.schema(), Some(writer_properties()))
            .map_err(|source| IngestError::Parquet {
                path: staged.clone(),
                source,
            })?;
        Ok((writer, StagedFile { staged, target }))
    }
}

/// Rows as Arrow batches, one per UTC day number; the batch is sliced, rows are not cloned.
fn split_by_day<R: TableRow>(rows: &[R], fallback: Timestamp) -> Result<Vec<(i64, RecordBatch)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let arrow_err = |source| IngestError::Arrow {
        table: R::TABLE.name(),
        source,
    };
    let batch = R::to_batch(rows).map_err(arrow_err)?;
    let mut by_day: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let day = row
            .partition_ts()
            .unwrap_or(fallback)
            .0
            .div_euclid(MICROS_PER_DAY);
        by_day.entry(day).or_default().push(i as u32);
    }
    if by_day.len() == 1 {
        return Ok(by_day.into_keys().map(|day| (day, batch.clone())).collect());
    }
    by_day
        .into_iter()
        .map(|(day, positions)| {
            let indices = arrow::array::UInt32Array::from(positions);
            let part = arrow::compute::take_record_batch(&batch, &indices).map_err(arrow_err)?;
            Ok((day, part))
        })
        .collect()
}

/// Parquet settings of every dataset file: zstd, bounded row groups, the schema version.
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .build()
}

fn publish(file: &StagedFile) -> Result<()> {
    let dir = file.target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| IngestError::io("creating", dir, e))?;
    fs::rename(&file.staged, &file.target)
        .map_err(|e| IngestError::io("renaming", &file.staged, e))?;
    // Make the rename durable before the commit record is published after it.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The commit id in a part file's name (`part-<commit>-<n>.parquet`).
fn commit_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let rest = stem.strip_prefix("part-")?;
    let (commit, n) = rest.rsplit_once('-')?;
    n.parse::<usize>().ok().map(|_| commit.to_string())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
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
fn read_ids(
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

fn read_stored_hashes(path: &Path, hashes: &mut HashSet<String>) -> Result<()> {
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

fn check_schema_version(path: &Path, metadata: Option<&Vec<KeyValue>>) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::RunRow;

    fn log_row(hash: &str, status: &str) -> IngestLogRow {
        IngestLogRow {
            content_hash: Some(hash.into()),
            status: status.into(),
            ingest_id: "i".into(),
            ..IngestLogRow::default()
        }
    }

    #[test]
    fn commit_publishes_data_then_log_and_hashes_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ds = Dataset::new(dir.path());
        let session = ds.lock(&|_| {}).expect("lock");
        let commit = session.begin("c1").expect("begin");
        let run = RunRow {
            run_id: "r".into(),
            start_ts: Some(Timestamp(1_795_343_025_123_000)),
            ..RunRow::default()
        };
        commit.stage(&[run], Timestamp(0)).expect("stage");
        commit
            .finish(
                &[log_row("aa", "ingested"), log_row("bb", "rejected")],
                Timestamp(0),
            )
            .expect("finish");
        assert!(
            dir.path()
                .join("runs/date=2026-11-22/part-c1-1.parquet")
                .exists()
        );
        assert_eq!(ds.table_files(Table::IngestLog).expect("files").len(), 1);
        let hashes = ds.known_hashes().expect("hashes");
        assert!(hashes.contains("aa") && !hashes.contains("bb"));
        assert!(!dir.path().join(".staging/c1").exists());
    }

    #[test]
    fn rows_of_two_days_go_to_two_partitions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ds = Dataset::new(dir.path());
        let session = ds.lock(&|_| {}).expect("lock");
        let commit = session.begin("c").expect("begin");
        let run = |id: &str, ts: Option<i64>| RunRow {
            run_id: id.into(),
            start_ts: ts.map(Timestamp),
            ..RunRow::default()
        };
        // 2026-11-22T23:59:59Z, 2026-11-23T00:00:00Z, no timestamp (fallback: 1970-01-01).
        let rows = [
            run("late", Some(1_795_391_999_000_000)),
            run("next", Some(1_795_392_000_000_000)),
            run("none", None),
            run("late2", Some(1_795_391_999_500_000)),
        ];
        commit.stage(&rows, Timestamp(0)).expect("stage");
        commit
            .finish(&[log_row("h", "ingested")], Timestamp(0))
            .expect("finish");
        let files = ds.table_files(Table::Runs).expect("files");
        let days: Vec<String> = files
            .iter()
            .map(|f| {
                f.parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            days,
            ["date=1970-01-01", "date=2026-11-22", "date=2026-11-23"]
        );
        let ids_in = |path: &Path| -> Vec<String> {
            let file = File::open(path).expect("open");
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .build()
                .expect("reader");
            reader
                .flat_map(|b| {
                    let b = b.expect("batch");
                    let ids = b
                        .column(0)
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .expect("run_id")
                        .clone();
                    (0..ids.len())
                        .map(move |i| ids.value(i).to_string())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        assert_eq!(ids_in(&files[1]), ["late", "late2"]);
        assert_eq!(ids_in(&files[2]), ["next"]);
    }

    #[test]
    fn recovery_removes_uncommitted_files_and_staging() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ds = Dataset::new(dir.path());
        let session = ds.lock(&|_| {}).expect("lock");
        // A crash after publishing a data file but before the commit record:
        let commit = session.begin("crashed").expect("begin");
        let staged = commit
            .stage(&[RunRow::default()], Timestamp(0))
            .expect("stage");
        publish(&staged[0]).expect("publish");
        drop(commit);
        let recovery = session.recover().expect("recover");
        assert_eq!(recovery.orphan_files, 1);
        assert!(recovery.staging_removed);
        assert!(ds.table_files(Table::Runs).expect("files").is_empty());
    }

    #[test]
    fn a_second_writer_waits_for_the_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ds = Dataset::new(dir.path());
        let first = ds.lock(&|_| {}).expect("lock");
        let waited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handle = {
            let ds = ds.clone();
            let waited = waited.clone();
            std::thread::spawn(move || {
                let _second = ds
                    .lock(&|_| waited.store(true, Ordering::SeqCst))
                    .expect("second lock");
            })
        };
        while !waited.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        drop(first);
        handle
            .join()
            .expect("second writer finishes once the first is gone");
    }

    #[test]
    fn part_names_carry_their_commit() {
        assert_eq!(
            commit_of(Path::new("x/part-20261122T1000Z-42-c3-7.parquet")).as_deref(),
            Some("20261122T1000Z-42-c3")
        );
        assert_eq!(commit_of(Path::new("x/other.parquet")), None);
    }
}
