//! Keeping a dataset healthy while it is written: `compact` (many small files of a
//! partition rewritten into few large ones, swapped in by one commit) and `vacuum` (files
//! no commit names, or that a compaction replaced, deleted after a grace period); and the
//! reading of datasets written before the commit log.

use std::time::{Duration, SystemTime};

use super::commit::{SharedLabels, join_sources, sources_of, writer_properties};
use super::log::{self, AddedFile, CommitKind, CommitRecord, Conflict, LiveFile};
use super::*;

/// What `compact` rewrites.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    /// The tables to compact (every table when empty).
    pub tables: Vec<Table>,
    /// Only partitions of days before this one (`YYYY-MM-DD`), when given.
    pub before: Option<String>,
    /// The size of the files to write, bytes: a partition's small files are merged into
    /// files of about this size; files at least this large are left alone.
    pub target_bytes: u64,
}

/// What `compact` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactSummary {
    /// Partitions rewritten.
    pub partitions: usize,
    /// Files replaced.
    pub files_in: usize,
    /// Files written in their place.
    pub files_out: usize,
    /// Bytes of the files replaced.
    pub bytes_in: u64,
    /// Bytes of the files written.
    pub bytes_out: u64,
    /// Rows rewritten (the same number before and after).
    pub rows: u64,
    /// The compaction's commit record; `None` when there was nothing to compact.
    pub sequence: Option<u64>,
}

/// What `vacuum` deletes.
#[derive(Debug, Clone)]
pub struct VacuumOptions {
    /// Files younger than this (by their own age, or since a compaction replaced them) are
    /// kept: a writer may be about to commit them, a reader may still be reading them.
    pub grace: Duration,
    /// Only report what would be deleted.
    pub dry_run: bool,
}

/// What `vacuum` deleted (or, for a dry run, would delete).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VacuumSummary {
    /// Files no commit record names (a writer killed before its record, a commit that
    /// lost a race), older than the grace period.
    pub uncommitted: usize,
    /// Files a compaction replaced longer ago than the grace period.
    pub replaced: usize,
    /// Staging folders and temporary files of interrupted writers.
    pub staging: usize,
    /// Bytes freed.
    pub bytes: u64,
    /// Files left for now because they are within the grace period.
    pub within_grace: usize,
}

impl Dataset {
    /// Rewrites the small committed files of each partition into files of about
    /// `options.target_bytes` and commits the swap: readers see the old files or the new
    /// ones, never both. Other writers may commit meanwhile; a concurrent compaction of
    /// the same files makes this one give up (nothing changes, an error says so).
    pub fn compact(&self, options: &CompactOptions) -> Result<CompactSummary> {
        let snapshot = self.refresh()?;
        let tables: Vec<Table> = if options.tables.is_empty() {
            Table::ALL.to_vec()
        } else {
            options.tables.clone()
        };
        let commit_id = format!("{}-compact", crate::pipeline::new_ingest_id());
        let staging = self.store().staging_root().join(&commit_id);
        fs::create_dir_all(&staging).map_err(|e| IngestError::io("creating", &staging, e))?;
        let mut record = CommitRecord::new(CommitKind::Compact, &commit_id);
        let mut summary = CompactSummary::default();
        let mut counter = 0usize;
        let result = (|| -> Result<()> {
            for table in tables {
                for (partition, files) in partitions(&snapshot, table) {
                    if options
                        .before
                        .as_deref()
                        .is_some_and(|before| partition_day(&partition) >= Some(before))
                    {
                        continue;
                    }
                    let groups = merge_groups(&files, options.target_bytes);
                    if groups.is_empty() {
                        continue;
                    }
                    summary.partitions += 1;
                    for group in groups {
                        counter += 1;
                        let name = format!("part-{commit_id}-{counter}.parquet");
                        let key = format!("{partition}/{name}");
                        let staged = staging.join(&name);
                        let (rows, labels, sources) = self.merge(table, &group, &staged)?;
                        self.store().publish(&staged, &key)?;
                        let bytes = self
                            .store()
                            .local_path(&key)
                            .unwrap_or(staged.clone())
                            .metadata()
                            .map(|m| m.len())
                            .unwrap_or(0);
                        summary.files_in += group.len();
                        summary.files_out += 1;
                        summary.bytes_in += group.iter().map(|f| f.file.bytes).sum::<u64>();
                        summary.bytes_out += bytes;
                        summary.rows += rows;
                        record
                            .remove
                            .extend(group.iter().map(|f| f.file.path.clone()));
                        record.add.push(AddedFile {
                            path: key,
                            table: table.name().to_string(),
                            rows,
                            bytes,
                            labels: labels.recorded(),
                            sources,
                        });
                    }
                }
            }
            Ok(())
        })();
        let abandon = |record: &CommitRecord| {
            for file in &record.add {
                let _ = self.store().delete(&file.path);
            }
            let _ = fs::remove_dir_all(&staging);
        };
        if let Err(e) = result {
            abandon(&record);
            return Err(e);
        }
        if record.add.is_empty() {
            let _ = fs::remove_dir_all(&staging);
            return Ok(summary);
        }
        let removing: HashSet<String> = record.remove.iter().cloned().collect();
        let mut writer_snapshot = Snapshot::clone(snapshot.as_ref());
        let appended = log::append(self.store(), &mut writer_snapshot, &record, &mut |theirs| {
            Conflict::on_removals(theirs, &removing)
        });
        match appended {
            Ok(Ok(sequence)) => {
                let _ = fs::remove_dir_all(&staging);
                // Readers start from here instead of replaying every record.
                log::write_checkpoint(self.store(), &writer_snapshot).ok();
                summary.sequence = Some(sequence);
                Ok(summary)
            }
            Ok(Err(conflict)) => {
                abandon(&record);
                Err(IngestError::Storage {
                    location: self.location().to_string(),
                    action: "compacting".into(),
                    reason: format!(
                        "another compaction replaced {} of the same files first; nothing was changed",
                        conflict.removed.len()
                    ),
                })
            }
            Err(e) => {
                abandon(&record);
                Err(e)
            }
        }
    }

    /// Copies the rows of `files` (all of `table`, in order) into one new file at `target`;
    /// returns the rows, what their labels share and their sources (read from the rows, so a
    /// compaction records them for files written before commits did).
    fn merge(
        &self,
        table: Table,
        files: &[&LiveFile],
        target: &Path,
    ) -> Result<(u64, SharedLabels, Option<BTreeSet<String>>)> {
        let parquet_err = |source| IngestError::Parquet {
            path: target.to_path_buf(),
            source,
        };
        let mut writer: Option<ArrowWriter<File>> = None;
        let mut rows = 0u64;
        let mut shared = SharedLabels::NoRows;
        let mut sources = None;
        // Batch by batch, as read: one row group in memory, whatever the files' sizes.
        let mut write = |batch: &RecordBatch| -> Result<()> {
            if writer.is_none() {
                let handle =
                    File::create(target).map_err(|e| IngestError::io("creating", target, e))?;
                writer = Some(
                    ArrowWriter::try_new(
                        handle,
                        batch.schema(),
                        Some(writer_properties(&batch.schema())),
                    )
                    .map_err(parquet_err)?,
                );
            }
            if let Some(w) = writer.as_mut() {
                w.write(batch).map_err(parquet_err)?;
            }
            rows += batch.num_rows() as u64;
            shared = shared.join(&SharedLabels::of_batch(batch));
            join_sources(&mut sources, sources_of(batch));
            Ok(())
        };
        for file in files {
            let mut failed = None;
            index::read_file(self, &file.file.path, table, None, &mut |batch| {
                if failed.is_none() {
                    failed = write(batch).err();
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        if let Some(writer) = writer {
            let handle = writer.into_inner().map_err(parquet_err)?;
            handle
                .sync_all()
                .map_err(|e| IngestError::io("syncing", target, e))?;
        }
        Ok((rows, shared, sources))
    }

    /// Deletes what no reader needs any more: files no commit names and files a compaction
    /// replaced, once older than the grace period; interrupted writers' staging folders.
    pub fn vacuum(&self, options: &VacuumOptions) -> Result<VacuumSummary> {
        let snapshot = self.refresh()?;
        let now = SystemTime::now();
        let old = |t: SystemTime| now.duration_since(t).is_ok_and(|age| age >= options.grace);
        let removed_at: HashMap<&str, SystemTime> = snapshot
            .removed
            .iter()
            .filter_map(|r| {
                let at = chrono::DateTime::parse_from_rfc3339(&r.removed_at).ok()?;
                let micros = u64::try_from(at.timestamp_micros()).ok()?;
                Some((
                    r.key.as_str(),
                    SystemTime::UNIX_EPOCH + Duration::from_micros(micros),
                ))
            })
            .collect();
        let mut summary = VacuumSummary::default();
        for table in Table::ALL {
            for object in self.store().list(&format!("{}/", table.name()))? {
                if snapshot.files.contains_key(&object.key) || !object.key.ends_with(".parquet") {
                    continue;
                }
                let replaced = snapshot.ever_added.contains(&object.key);
                let since = if replaced {
                    removed_at.get(object.key.as_str()).copied().unwrap_or(now)
                } else {
                    object.modified
                };
                if !old(since) {
                    summary.within_grace += 1;
                    continue;
                }
                if !options.dry_run {
                    self.store().delete(&object.key)?;
                }
                summary.bytes += object.size;
                if replaced {
                    summary.replaced += 1;
                } else {
                    summary.uncommitted += 1;
                }
            }
        }
        if let Some(root) = self.local_root() {
            summary.staging += vacuum_local_leftovers(&root, &old, options.dry_run)?;
        }
        Ok(summary)
    }
}

/// Staging folders (`.staging/<commit>`) and temporary commit records of interrupted
/// writers, older than the grace period.
fn vacuum_local_leftovers(
    root: &Path,
    old: &dyn Fn(SystemTime) -> bool,
    dry_run: bool,
) -> Result<usize> {
    let mut removed = 0;
    let modified = |p: &Path| {
        p.metadata()
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::now())
    };
    let staging = root.join(STAGING);
    if let Ok(entries) = fs::read_dir(&staging) {
        for entry in entries.flatten() {
            let path = entry.path();
            if old(modified(&path)) {
                if !dry_run {
                    fs::remove_dir_all(&path).map_err(|e| IngestError::io("removing", &path, e))?;
                }
                removed += 1;
            }
        }
    }
    let commits = root.join(log::COMMITS.trim_end_matches('/'));
    if let Ok(entries) = fs::read_dir(&commits) {
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden && old(modified(&path)) {
                if !dry_run {
                    fs::remove_file(&path).map_err(|e| IngestError::io("removing", &path, e))?;
                }
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// The committed files of `table` by partition folder (`<table>/date=<day>`).
fn partitions(snapshot: &Snapshot, table: Table) -> BTreeMap<String, Vec<&LiveFile>> {
    let mut by_partition: BTreeMap<String, Vec<&LiveFile>> = BTreeMap::new();
    for file in snapshot.table_files(table) {
        if let Some((folder, _)) = file.file.path.rsplit_once('/') {
            by_partition
                .entry(folder.to_string())
                .or_default()
                .push(file);
        }
    }
    by_partition
}

/// The day of a partition folder (`runs/date=2026-11-20` gives `2026-11-20`).
fn partition_day(partition: &str) -> Option<&str> {
    partition.rsplit_once("date=").map(|(_, day)| day)
}

/// The partition's files merged into groups of about `target` bytes, in key order; files
/// already that large, and groups of one file, are left as they are.
fn merge_groups<'a>(files: &[&'a LiveFile], target: u64) -> Vec<Vec<&'a LiveFile>> {
    let mut groups: Vec<Vec<&LiveFile>> = Vec::new();
    let mut current: Vec<&LiveFile> = Vec::new();
    let mut bytes = 0u64;
    for file in files.iter().copied() {
        if file.file.bytes >= target {
            continue;
        }
        if !current.is_empty() && bytes + file.file.bytes > target {
            groups.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += file.file.bytes;
        current.push(file);
    }
    groups.push(current);
    groups.retain(|g| g.len() > 1);
    groups
}

/// A dataset written before the commit log: its files, and its content hashes, as that
/// layout defined them (a data file is committed when an `ingest_log` file of its commit
/// exists). Empty for a dataset marked as kept in the log ([`log::LOG_MARKER`]) that has
/// no record yet: its files are a first commit in flight.
pub(super) fn legacy_snapshot(dataset: &Dataset) -> Result<Snapshot> {
    let store = dataset.store();
    let logs = store.list(&format!("{}/", Table::IngestLog.name()))?;
    let mut snapshot = Snapshot::default();
    // Checked after listing: a writer marks the dataset before it publishes, so files
    // listed without the marker there are from before the commit log.
    if logs.is_empty() || log::log_marked(store)? {
        return Ok(snapshot);
    }
    let committed: HashSet<String> = logs.iter().filter_map(|o| commit_of(&o.key)).collect();
    for table in Table::ALL {
        for object in store.list(&format!("{}/", table.name()))? {
            let Some(commit) = commit_of(&object.key) else {
                continue;
            };
            if !committed.contains(&commit) {
                continue;
            }
            let mut rows = 0u64;
            index::read_columns(dataset, &object.key, table, &[], &mut |b| {
                rows += b.num_rows() as u64
            })?;
            snapshot.ever_added.insert(object.key.clone());
            snapshot.files.insert(
                object.key.clone(),
                LiveFile {
                    file: AddedFile {
                        path: object.key.clone(),
                        table: table.name().to_string(),
                        rows,
                        bytes: object.size,
                        labels: None,
                        sources: None,
                    },
                    sequence: 0,
                },
            );
        }
    }
    for object in &logs {
        read_column_pair(
            dataset,
            &object.key,
            Table::IngestLog,
            ["content_hash", "status"],
            &mut |hash, status| {
                if matches!(status, Some("ingested" | "partial")) {
                    snapshot.content_hashes.insert(hash.to_string());
                }
            },
        )?;
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(path: &str, bytes: u64) -> LiveFile {
        LiveFile {
            file: AddedFile {
                path: path.into(),
                table: "runs".into(),
                rows: 1,
                bytes,
                labels: None,
                sources: None,
            },
            sequence: 0,
        }
    }

    #[test]
    fn small_files_are_grouped_up_to_the_target_and_large_ones_left() {
        let files = [
            live("a", 40),
            live("b", 40),
            live("big", 500),
            live("c", 40),
            live("d", 40),
            live("e", 10),
        ];
        let refs: Vec<&LiveFile> = files.iter().collect();
        let groups = merge_groups(&refs, 100);
        let names: Vec<Vec<&str>> = groups
            .iter()
            .map(|g| g.iter().map(|f| f.file.path.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["a", "b"], vec!["c", "d", "e"]]);
        assert!(merge_groups(&refs[..1], 100).is_empty());
    }

    #[test]
    fn partition_days_are_read_from_the_folder() {
        assert_eq!(partition_day("runs/date=2026-11-20"), Some("2026-11-20"));
        assert_eq!(partition_day("runs"), None);
    }
}
