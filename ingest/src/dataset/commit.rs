//! Writing: a [`Writer`] opens [`Commit`]s; a [`Stager`] writes a commit's rows as Parquet
//! files in a staging folder; the commit publishes them and appends its record to the
//! commit log (see the protocol in [`super`]).

use super::log::{self, AddedFile, CommitKind, CommitRecord, Conflict};
use super::*;
use rayon::prelude::*;

/// Writes commits to a dataset. Holds the snapshot its commits are checked against: the
/// content hashes it knows stored, brought up to date at every commit.
#[derive(Debug)]
pub struct Writer {
    pub(super) dataset: Dataset,
    snapshot: Mutex<Snapshot>,
}

impl Writer {
    pub(super) fn new(dataset: Dataset) -> Result<Writer> {
        // Its own snapshot, read now (the dataset handle's cached one may be older).
        let snapshot = dataset.read_snapshot()?;
        if snapshot.sequence.is_none() {
            // Before this writer publishes anything (after the snapshot was read: files
            // found then without the marker are from before the commit log).
            log::mark_log(dataset.store())?;
        }
        let writer = Writer {
            dataset,
            snapshot: Mutex::new(snapshot),
        };
        writer.adopt_legacy()?;
        Ok(writer)
    }

    /// The dataset written to.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Content hashes stored as of this writer's snapshot.
    pub fn known_hashes(&self) -> HashSet<String> {
        self.lock_snapshot().content_hashes.clone()
    }

    /// A dataset written before the commit log: its files become commit 0, as they were.
    fn adopt_legacy(&self) -> Result<()> {
        let mut snapshot = self.lock_snapshot();
        if snapshot.sequence.is_some() || snapshot.files.is_empty() {
            return Ok(());
        }
        let mut record = CommitRecord::new(CommitKind::Adopt, "adopted");
        record.add = snapshot.files.values().map(|f| f.file.clone()).collect();
        record.content_hashes = snapshot.content_hashes.iter().cloned().collect();
        record.content_hashes.sort();
        *snapshot = Snapshot::default();
        // Another writer adopting at the same moment writes the same files: its record
        // stands for both.
        log::append(
            self.dataset.store(),
            &mut snapshot,
            &record,
            &mut |theirs| match theirs.kind {
                CommitKind::Adopt => Err(Conflict::default()),
                _ => Ok(()),
            },
        )?
        .ok();
        Ok(())
    }

    /// Starts a commit named `commit_id` (unique: it names the commit's files).
    pub fn begin(&self, commit_id: &str, kind: CommitKind) -> Result<Commit<'_>> {
        let staging = self.dataset.store().staging_root().join(commit_id);
        fs::create_dir_all(&staging).map_err(|e| IngestError::io("creating", &staging, e))?;
        Ok(Commit {
            writer: self,
            id: commit_id.to_string(),
            kind,
            staging,
            staged: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(1),
        })
    }

    fn lock_snapshot(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        // A poisoned lock only means another thread panicked; the snapshot is intact.
        self.snapshot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A file written to staging, waiting for its commit.
#[derive(Debug, Clone)]
pub struct StagedFile {
    staged: PathBuf,
    key: String,
    table: Table,
    rows: u64,
    labels: SharedLabels,
    /// The distinct values of the rows' `source` column ([`AddedFile::sources`]); `None`
    /// for a table without one.
    sources: Option<BTreeSet<String>>,
}

/// The distinct values of `batch`'s `source` column (how its rows were observed: `proxy`,
/// `transcript`, `latency_csv`, ...), recorded with the file in its commit
/// ([`AddedFile::sources`]) so that a reader looking for some sources can pass over files
/// that hold none of them unread. `None` when the batch has no `source` string column.
pub(super) fn sources_of(batch: &RecordBatch) -> Option<BTreeSet<String>> {
    use arrow_array::{Array, StringArray};
    let column = batch
        .column_by_name("source")?
        .as_any()
        .downcast_ref::<StringArray>()?;
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut last: Option<&str> = None;
    // Rows of one source come in runs: a set lookup only where the value changes.
    for value in column.iter().flatten() {
        if last != Some(value) {
            last = Some(value);
            if !found.contains(value) {
                found.insert(value.to_string());
            }
        }
    }
    Some(found)
}

/// `into` joined with `more`: the values of both (`None`, unknown, stays unknown only when
/// both are).
pub(super) fn join_sources(into: &mut Option<BTreeSet<String>>, more: Option<BTreeSet<String>>) {
    if let Some(more) = more {
        into.get_or_insert_default().extend(more);
    }
}

/// What the labels of the rows written to one file have in common, recorded with the file
/// in its commit ([`AddedFile::labels`]) so that readers can know a file's labels unread.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) enum SharedLabels {
    /// No row yet.
    #[default]
    NoRows,
    /// Every row carries exactly these labels.
    Same(crate::schema::Labels),
    /// Rows carry different labels.
    Mixed,
}

impl SharedLabels {
    /// What `rows` share.
    pub(super) fn of<R: TableRow>(rows: &[R]) -> SharedLabels {
        let Some(first) = rows.first() else {
            return SharedLabels::NoRows;
        };
        if rows.iter().all(|r| r.labels() == first.labels()) {
            SharedLabels::Same(first.labels().clone())
        } else {
            SharedLabels::Mixed
        }
    }

    /// What the rows of `batch` (a table's columns, as stored) share: read from its
    /// `labels` map column; [`SharedLabels::Mixed`] when the batch has none.
    pub(super) fn of_batch(batch: &RecordBatch) -> SharedLabels {
        use arrow_array::{Array, MapArray, StringArray};
        let Some(maps) = batch
            .column_by_name("labels")
            .and_then(|c| c.as_any().downcast_ref::<MapArray>())
        else {
            return SharedLabels::Mixed;
        };
        let (Some(keys), Some(values)) = (
            maps.keys().as_any().downcast_ref::<StringArray>(),
            maps.values().as_any().downcast_ref::<StringArray>(),
        ) else {
            return SharedLabels::Mixed;
        };
        let offsets = maps.value_offsets();
        let entries = |row: usize| {
            let (from, to) = (offsets[row] as usize, offsets[row + 1] as usize);
            (from..to).map(|i| (keys.value(i), values.value(i)))
        };
        if maps.is_empty() {
            return SharedLabels::NoRows;
        }
        if maps.null_count() > 0 {
            return SharedLabels::Mixed;
        }
        let first: Vec<(&str, &str)> = entries(0).collect();
        if (1..maps.len()).any(|row| !entries(row).eq(first.iter().copied())) {
            return SharedLabels::Mixed;
        }
        let labels = first
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SharedLabels::Same(crate::schema::Labels(labels))
    }

    /// What the rows of both share.
    pub(super) fn join(&self, other: &SharedLabels) -> SharedLabels {
        match (self, other) {
            (SharedLabels::NoRows, x) | (x, SharedLabels::NoRows) => x.clone(),
            (SharedLabels::Same(a), SharedLabels::Same(b)) if a == b => self.clone(),
            _ => SharedLabels::Mixed,
        }
    }

    /// The labels a commit records for the file: known only when every row shares them.
    pub(super) fn recorded(&self) -> Option<BTreeMap<String, String>> {
        match self {
            SharedLabels::Same(labels) => Some(labels.0.clone()),
            SharedLabels::NoRows | SharedLabels::Mixed => None,
        }
    }
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitOutcome {
    /// Its record's sequence number; `None` when nothing was left to commit.
    pub sequence: Option<u64>,
    /// Content hashes of inputs another writer committed first, at the same time: their
    /// rows were left out of this commit (they are stored once, by the other writer).
    pub stored_by_another_writer: HashSet<String>,
}

/// One atomic unit of writing: data files of any tables plus their `ingest_log` rows.
#[derive(Debug)]
pub struct Commit<'w> {
    writer: &'w Writer,
    id: String,
    kind: CommitKind,
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
            counter: &self.counter,
            staged: &self.staged,
            open: BTreeMap::new(),
            pending_bytes: 0,
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

    /// Publishes the staged files with `log` (the `ingest_log` rows) and appends the commit
    /// record. Inputs that another writer committed first meanwhile are left out (their
    /// rows are removed from this commit's files) and reported in the outcome.
    pub fn finish(self, log: &[IngestLogRow], now: Timestamp) -> Result<CommitOutcome> {
        self.stage(log, now)?;
        let store = self.writer.dataset.store();
        let mut files = std::mem::take(&mut *self.lock_staged());
        let moves: Vec<(&Path, &str)> = files
            .iter()
            .map(|f| (f.staged.as_path(), f.key.as_str()))
            .collect();
        store.publish_all(&moves)?;
        let mut record = CommitRecord::new(self.kind, &self.id);
        let mut hashes: Vec<String> = log
            .iter()
            .filter(|row| matches!(row.status.as_str(), "ingested" | "partial"))
            .filter_map(|row| row.content_hash.clone())
            .collect();
        hashes.sort();
        hashes.dedup();
        record.content_hashes = hashes;
        let mut outcome = CommitOutcome::default();
        loop {
            record.add = files
                .iter()
                .map(|f| self.added(f))
                .collect::<Result<Vec<_>>>()?;
            if record.add.is_empty() {
                break;
            }
            let mine: HashSet<String> = record.content_hashes.iter().cloned().collect();
            let appended = {
                let mut snapshot = self.writer.lock_snapshot();
                // `append` checks the records after the snapshot. Records the writer read
                // before, while appending an earlier commit of its own, were checked only
                // against that commit's inputs: one of them may store some of this one's.
                let stored = Conflict::on_inputs_stored(&snapshot, &mine);
                match stored {
                    Err(conflict) => Err(conflict),
                    Ok(()) => log::append(store, &mut snapshot, &record, &mut |theirs| {
                        Conflict::on_inputs(theirs, &mine)
                    })?,
                }
            };
            match appended {
                Ok(sequence) => {
                    outcome.sequence = Some(sequence);
                    break;
                }
                Err(conflict) => {
                    files = self.leave_out(files, log, &conflict.content_hashes)?;
                    record
                        .content_hashes
                        .retain(|h| !conflict.content_hashes.contains(h));
                    outcome
                        .stored_by_another_writer
                        .extend(conflict.content_hashes);
                }
            }
        }
        let _ = fs::remove_dir_all(&self.staging);
        Ok(outcome)
    }

    /// Ends a commit that wrote nothing (every file was skipped).
    pub fn finish_empty(self) -> Result<()> {
        fs::remove_dir_all(&self.staging).map_err(|e| IngestError::io("removing", &self.staging, e))
    }

    /// The record entry of a published file.
    fn added(&self, file: &StagedFile) -> Result<AddedFile> {
        let store = self.writer.dataset.store();
        let on_disk = store.local_path(&file.key).unwrap_or(file.staged.clone());
        let bytes = fs::metadata(&on_disk)
            .map_err(|e| IngestError::io("reading", &on_disk, e))?
            .len();
        Ok(AddedFile {
            path: file.key.clone(),
            table: file.table.name().to_string(),
            rows: file.rows,
            bytes,
            labels: file.labels.recorded(),
            sources: file.sources.clone(),
        })
    }

    /// Rewrites this commit's published files without the rows of the inputs whose content
    /// hash is in `lost` (an `ingest_log` row by its hash, a data row by its source path);
    /// the old files are deleted (best effort: `vacuum` deletes what remains).
    fn leave_out(
        &self,
        files: Vec<StagedFile>,
        log: &[IngestLogRow],
        lost: &HashSet<String>,
    ) -> Result<Vec<StagedFile>> {
        let lost_sources: HashSet<&str> = log
            .iter()
            .filter(|row| row.content_hash.as_ref().is_some_and(|h| lost.contains(h)))
            .filter_map(|row| row.source_path.as_deref())
            .collect();
        let store = self.writer.dataset.store();
        let mut kept = Vec::with_capacity(files.len());
        for file in files {
            let on_disk = store.local_path(&file.key).unwrap_or(file.staged.clone());
            let (column, values): (&str, HashSet<&str>) = if file.table == Table::IngestLog {
                ("content_hash", lost.iter().map(String::as_str).collect())
            } else {
                ("source_path", lost_sources.clone())
            };
            let rewritten = self.filter_file(&on_disk, &file, column, &values)?;
            if let Some(new) = &rewritten {
                store.publish(&new.staged, &new.key)?;
            }
            store.delete(&file.key)?;
            kept.extend(rewritten);
        }
        Ok(kept)
    }

    /// A new staged file with the rows of `source` whose `column` is not in `values`;
    /// `None` when no row is left.
    fn filter_file(
        &self,
        source: &Path,
        file: &StagedFile,
        column: &str,
        values: &HashSet<&str>,
    ) -> Result<Option<StagedFile>> {
        let parquet_err = |source| IngestError::Parquet {
            path: file.staged.clone(),
            source,
        };
        let arrow_err = |source| IngestError::Arrow {
            table: file.table.name(),
            source,
        };
        let handle = File::open(source).map_err(|e| IngestError::io("opening", source, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(handle)
            .and_then(|b| b.build())
            .map_err(parquet_err)?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("part-{}-{n}.parquet", self.id);
        let staged = self.staging.join(&name);
        let key = match file.key.rsplit_once('/') {
            Some((folder, _)) => format!("{folder}/{name}"),
            None => name,
        };
        let mut writer: Option<ArrowWriter<File>> = None;
        let mut rows = 0u64;
        for batch in reader {
            let batch = batch.map_err(arrow_err)?;
            let Some(values_column) = batch
                .column_by_name(column)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
            else {
                continue;
            };
            let keep: arrow_array::BooleanArray = (0..batch.num_rows())
                .map(|i| {
                    Some(!values_column.is_valid(i) || !values.contains(values_column.value(i)))
                })
                .collect();
            let kept =
                arrow_select::filter::filter_record_batch(&batch, &keep).map_err(arrow_err)?;
            if kept.num_rows() == 0 {
                continue;
            }
            if writer.is_none() {
                let handle =
                    File::create(&staged).map_err(|e| IngestError::io("creating", &staged, e))?;
                writer = Some(
                    ArrowWriter::try_new(
                        handle,
                        kept.schema(),
                        Some(writer_properties(&kept.schema())),
                    )
                    .map_err(parquet_err)?,
                );
            }
            if let Some(w) = writer.as_mut() {
                w.write(&kept).map_err(parquet_err)?;
            }
            rows += kept.num_rows() as u64;
        }
        let Some(writer) = writer else {
            return Ok(None);
        };
        let handle = writer.into_inner().map_err(parquet_err)?;
        handle
            .sync_all()
            .map_err(|e| IngestError::io("syncing", &staged, e))?;
        // A subset of the rows shares what all of them shared.
        Ok(Some(StagedFile {
            staged,
            key,
            table: file.table,
            rows,
            labels: file.labels.clone(),
            // Those of a subset of the rows are among these: a reader may read the file
            // for nothing, never pass over rows it looks for.
            sources: file.sources.clone(),
        }))
    }

    fn lock_staged(&self) -> std::sync::MutexGuard<'_, Vec<StagedFile>> {
        // A poisoned lock only means another thread panicked while pushing; the list is intact.
        self.staged.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Appends rows to open staging files of one commit, one Parquet file per table and day:
/// a large input is written as it is parsed, in small portions, without becoming many
/// small files.
///
/// Rows wait as Arrow batches until their file has a row group's worth
/// (`ROW_GROUP_ROWS`), or until the batches waiting in all files pass
/// `PENDING_BYTES` (16 MB); then the file with the most waiting is written out as one row group.
/// A Parquet writer's per-column state (a zstd context and a dictionary per column) thus
/// exists for one file at a time, not for every day an input touches: memory stays bounded
/// whatever the number of days, and row groups stay large.
pub struct Stager<'c> {
    commit_id: &'c str,
    staging: &'c Path,
    counter: &'c AtomicUsize,
    staged: &'c Mutex<Vec<StagedFile>>,
    open: BTreeMap<(Table, i64), OpenFile>,
    /// Bytes of the batches waiting in all open files.
    pending_bytes: usize,
}

/// Batches waiting, in all files of one stager, before the largest is written out.
const PENDING_BYTES: usize = 16 << 20;

/// A staging file being written, and the rows waiting to be.
struct OpenFile {
    writer: ArrowWriter<File>,
    file: StagedFile,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    pending_bytes: usize,
}

impl OpenFile {
    /// Writes the waiting batches as one row group; returns the bytes they held.
    fn write_out(&mut self) -> Result<usize> {
        if self.pending.is_empty() {
            return Ok(0);
        }
        let parquet_err = |source| IngestError::Parquet {
            path: self.file.staged.clone(),
            source,
        };
        for batch in self.pending.drain(..) {
            self.writer.write(&batch).map_err(parquet_err)?;
        }
        // Ends the row group: the column writers and their buffers are released.
        self.writer.flush().map_err(parquet_err)?;
        self.pending_rows = 0;
        Ok(std::mem::take(&mut self.pending_bytes))
    }

    /// Writes what waits and closes the file. It is synced to disk when the commit
    /// publishes it, with the others ([`Store::publish_all`]).
    fn close(mut self) -> Result<StagedFile> {
        self.write_out()?;
        let OpenFile { writer, file, .. } = self;
        writer.into_inner().map_err(|source| IngestError::Parquet {
            path: file.staged.clone(),
            source,
        })?;
        Ok(file)
    }
}

impl Stager<'_> {
    /// Appends `rows`, split by UTC day (`fallback` for rows without a timestamp).
    pub fn append<R: TableRow>(&mut self, rows: &[R], fallback: Timestamp) -> Result<()> {
        let shared = SharedLabels::of(rows);
        for (day, batch) in split_by_day(rows, fallback)? {
            self.place(R::TABLE, day, batch, &shared)?;
        }
        self.write_out_largest()
    }

    /// Appends the rows of `batch`, which has the columns of `R`'s table, split by UTC day
    /// as [`Stager::append`] splits rows.
    pub fn append_batch<R: TableRow>(
        &mut self,
        batch: &RecordBatch,
        fallback: Timestamp,
    ) -> Result<()> {
        let shared = SharedLabels::of_batch(batch);
        for (day, part) in split_batch_by_day::<R>(batch, fallback)? {
            self.place(R::TABLE, day, part, &shared)?;
        }
        self.write_out_largest()
    }

    /// Puts `batch` in the open file of `table` and `day`, writing that file's row group
    /// out when it is full.
    fn place(
        &mut self,
        table: Table,
        day: i64,
        batch: RecordBatch,
        shared: &SharedLabels,
    ) -> Result<()> {
        let key = (table, day);
        if !self.open.contains_key(&key) {
            let opened = self.open_file(table, day, &batch)?;
            self.open.insert(key, opened);
        }
        let Some(open) = self.open.get_mut(&key) else {
            return Ok(());
        };
        let bytes = batch.get_array_memory_size();
        open.file.rows += batch.num_rows() as u64;
        open.file.labels = open.file.labels.join(shared);
        join_sources(&mut open.file.sources, sources_of(&batch));
        open.pending_rows += batch.num_rows();
        open.pending_bytes += bytes;
        open.pending.push(batch);
        self.pending_bytes += bytes;
        if open.pending_rows >= ROW_GROUP_ROWS {
            self.pending_bytes -= open.write_out()?;
        }
        Ok(())
    }

    /// Writes out the files with the most waiting until what waits is under `PENDING_BYTES`.
    fn write_out_largest(&mut self) -> Result<()> {
        while self.pending_bytes > PENDING_BYTES {
            let Some(largest) = self.open.values_mut().max_by_key(|f| f.pending_bytes) else {
                break;
            };
            let written = largest.write_out()?;
            if written == 0 {
                break;
            }
            self.pending_bytes -= written;
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
        for batch in &rows.llm_call_batches {
            self.append_batch::<crate::schema::LlmCallRow>(batch, fallback)?;
        }
        self.append(&rows.sessions, fallback)?;
        self.append(&rows.tool_calls, fallback)?;
        self.append(&rows.bench_results, fallback)?;
        self.append(&rows.artifacts, fallback)
    }

    /// Writes what waits, closes every file and hands them to the commit;
    /// returns them. The files are finished in parallel: at the end of a batch, writing
    /// out the last rows of every table and day is most of what is left to do, and one
    /// thread doing it alone kept the other idle for a third of a Claude Code ingest
    /// (docs/benchmarks.md).
    pub fn finish(self) -> Result<Vec<StagedFile>> {
        let open: Vec<OpenFile> = self.open.into_values().collect();
        let done: Vec<StagedFile> = open
            .into_par_iter()
            .with_max_len(1)
            .map(OpenFile::close)
            .collect::<Result<_>>()?;
        // A poisoned lock only means another thread panicked while pushing; the list is intact.
        self.staged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(done.iter().cloned());
        Ok(done)
    }

    fn open_file(&self, table: Table, day: i64, batch: &RecordBatch) -> Result<OpenFile> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("part-{}-{n}.parquet", self.commit_id);
        let staged = self.staging.join(&name);
        let key = format!(
            "{}/date={}/{name}",
            table.name(),
            Timestamp(day * MICROS_PER_DAY).utc_day()
        );
        let handle = File::create(&staged).map_err(|e| IngestError::io("creating", &staged, e))?;
        let writer = ArrowWriter::try_new(
            handle,
            batch.schema(),
            Some(writer_properties(&batch.schema())),
        )
        .map_err(|source| IngestError::Parquet {
            path: staged.clone(),
            source,
        })?;
        Ok(OpenFile {
            writer,
            file: StagedFile {
                staged,
                key,
                table,
                rows: 0,
                labels: SharedLabels::NoRows,
                sources: None,
            },
            pending: Vec::new(),
            pending_rows: 0,
            pending_bytes: 0,
        })
    }
}

/// Rows as Arrow batches, one per UTC day number; the batch is sliced, rows are not cloned.
pub(super) fn split_by_day<R: TableRow>(
    rows: &[R],
    fallback: Timestamp,
) -> Result<Vec<(i64, RecordBatch)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let batch = R::to_batch(rows).map_err(|source| IngestError::Arrow {
        table: R::TABLE.name(),
        source,
    })?;
    split_batch_by_day::<R>(&batch, fallback)
}

/// The rows of `batch` (columns of `R`'s table) per UTC day number of its partition
/// column (`fallback` for a null), in their order within each day.
fn split_batch_by_day<R: TableRow>(
    batch: &RecordBatch,
    fallback: Timestamp,
) -> Result<Vec<(i64, RecordBatch)>> {
    let arrow_err = |source| IngestError::Arrow {
        table: R::TABLE.name(),
        source,
    };
    let instants = batch
        .column_by_name(R::PARTITION_COLUMN)
        .and_then(|c| {
            c.as_any()
                .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
        })
        .ok_or_else(|| {
            arrow_err(arrow_schema::ArrowError::SchemaError(format!(
                "{} is not a timestamp column",
                R::PARTITION_COLUMN
            )))
        })?;
    let day_of = |row: usize| {
        let micros = if instants.is_valid(row) {
            instants.value(row)
        } else {
            fallback.0
        };
        micros.div_euclid(MICROS_PER_DAY)
    };
    // Rows usually come in time order, so a day's rows are one run: found by comparing each
    // row's day with its neighbour's, and handed on as a slice of the batch (no copy).
    let mut runs: Vec<(i64, std::ops::Range<usize>)> = Vec::new();
    for row in 0..batch.num_rows() {
        let day = day_of(row);
        match runs.last_mut() {
            Some((last, range)) if *last == day => range.end = row + 1,
            _ => runs.push((day, row..row + 1)),
        }
    }
    let mut days: Vec<i64> = runs.iter().map(|(day, _)| *day).collect();
    days.sort_unstable();
    days.dedup();
    if days.len() == runs.len() {
        let mut parts: Vec<(i64, RecordBatch)> = runs
            .into_iter()
            .map(|(day, range)| (day, batch.slice(range.start, range.len())))
            .collect();
        parts.sort_unstable_by_key(|(day, _)| *day);
        return Ok(parts);
    }
    // A day in several runs: its rows are gathered into one batch, in their order.
    let mut by_day: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for (day, range) in runs {
        by_day
            .entry(day)
            .or_default()
            .extend(range.map(|row| row as u32));
    }
    by_day
        .into_iter()
        .map(|(day, positions)| {
            let indices = arrow_array::UInt32Array::from(positions);
            let part = arrow_select::take::take_record_batch(batch, &indices).map_err(arrow_err)?;
            Ok((day, part))
        })
        .collect()
}

/// Columns whose values differ from row to row (row ids, input line numbers): a
/// dictionary there is built, overflows and is dropped again for every page.
const UNIQUE_PER_ROW: [&str; 4] = ["call_id", "tool_call_id", "bench_id", "source_line"];

/// Parquet settings of every dataset file of `schema`: zstd, bounded row groups, the
/// schema version; no dictionary for measurements (floats), instants and row ids, whose
/// values seldom repeat: a dictionary there costs memory and time while writing and saves
/// nothing; a delta encoding for instants and row ids ([`delta_encoding`]).
pub(crate) fn writer_properties(schema: &arrow_schema::Schema) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]));
    for field in schema.fields() {
        let path = || parquet::schema::types::ColumnPath::from(field.name().as_str());
        let unique = UNIQUE_PER_ROW.contains(&field.name().as_str());
        if unique
            || matches!(
                field.data_type(),
                arrow_schema::DataType::Float64 | arrow_schema::DataType::Timestamp(_, _)
            )
        {
            builder = builder.set_column_dictionary_enabled(path(), false);
        }
        if let Some(encoding) = delta_encoding(field.data_type(), unique) {
            builder = builder.set_column_encoding(path(), encoding);
        }
    }
    builder.build()
}

/// The delta encoding of a column whose plain bytes would mostly repeat their neighbours':
/// instants and line numbers grow by small steps (stored as differences, bit-packed), row
/// ids (`<file id>-l<line>`) share long prefixes (stored once). The column then holds a
/// fraction of the bytes (a latency CSV's `call_id`: 92 MB plain, 6 MB delta), which zstd
/// need not compress: ingest is faster and the files smaller. Polars, DuckDB, Spark and
/// pyarrow read both encodings.
fn delta_encoding(data_type: &arrow_schema::DataType, unique_per_row: bool) -> Option<Encoding> {
    match data_type {
        arrow_schema::DataType::Timestamp(_, _) => Some(Encoding::DELTA_BINARY_PACKED),
        arrow_schema::DataType::Int64 if unique_per_row => Some(Encoding::DELTA_BINARY_PACKED),
        arrow_schema::DataType::Utf8 if unique_per_row => Some(Encoding::DELTA_BYTE_ARRAY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::LlmCallRow;
    use arrow_array::cast::AsArray;

    const DAY: i64 = MICROS_PER_DAY;

    /// Calls named by their position, starting at the given instants (None: no start).
    fn calls(starts: &[Option<i64>]) -> RecordBatch {
        let rows: Vec<LlmCallRow> = starts
            .iter()
            .enumerate()
            .map(|(i, start)| LlmCallRow {
                call_id: i.to_string(),
                start_ts: start.map(Timestamp),
                ..LlmCallRow::default()
            })
            .collect();
        LlmCallRow::to_batch(&rows).expect("batch")
    }

    /// Each part's day and the ids of its rows, in order.
    fn parts(batch: &RecordBatch, fallback: i64) -> Vec<(i64, Vec<String>)> {
        split_batch_by_day::<LlmCallRow>(batch, Timestamp(fallback))
            .expect("split")
            .into_iter()
            .map(|(day, part)| {
                let ids = part.column_by_name("call_id").expect("call_id");
                let ids = ids.as_string::<i32>();
                (day, ids.iter().flatten().map(str::to_string).collect())
            })
            .collect()
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_in_time_order_split_into_one_part_per_day() {
        let batch = calls(&[
            Some(DAY + 5),
            Some(2 * DAY - 1),
            Some(2 * DAY),
            Some(3 * DAY + 7),
        ]);
        assert_eq!(
            parts(&batch, 0),
            vec![(1, ids(&["0", "1"])), (2, ids(&["2"])), (3, ids(&["3"]))]
        );
        let one_day = calls(&[Some(DAY), Some(DAY + 1)]);
        assert_eq!(parts(&one_day, 0), vec![(1, ids(&["0", "1"]))]);
        assert!(parts(&calls(&[]), 0).is_empty());
    }

    #[test]
    fn a_day_seen_twice_gathers_its_rows_in_their_order() {
        // Days 2, 1, 2, 2, 1 (before the epoch too), and a missing start on the fallback day.
        let batch = calls(&[
            Some(2 * DAY),
            Some(DAY),
            Some(2 * DAY + 3),
            None,
            Some(DAY + 9),
            Some(-1),
        ]);
        assert_eq!(
            parts(&batch, 2 * DAY + 10),
            vec![
                (-1, ids(&["5"])),
                (1, ids(&["1", "4"])),
                (2, ids(&["0", "2", "3"])),
            ]
        );
    }
}
