//! Writing: a [`WriteSession`] holds the dataset's lock, recovers what a crashed writer
//! left, and opens [`Commit`]s; a [`Stager`] writes a commit's rows as Parquet files under
//! `.staging/` and the commit publishes them (its `ingest_log` file last).

use super::*;

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
    pub(super) dataset: Dataset,
    pub(super) _lock: File,
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
pub(super) fn split_by_day<R: TableRow>(
    rows: &[R],
    fallback: Timestamp,
) -> Result<Vec<(i64, RecordBatch)>> {
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
pub(super) fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .build()
}

pub(super) fn publish(file: &StagedFile) -> Result<()> {
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
