//! The commit log: what makes a data file part of the dataset.
//!
//! A commit is one JSON record, `_runlens/commits/<sequence>.json` (the sequence number
//! zero-padded to 20 digits), naming the data files it adds, the files it replaces (a
//! compaction) and the content hashes of the input files it stores. A record is created
//! with [`super::Store::create_new`], so of two writers offering the same sequence number
//! exactly one succeeds; the other reads the winner's record, checks it does not store one
//! of its own inputs, and tries the next number. The dataset at sequence `n` is the replay
//! of records `0..=n`: every file added and not since removed. Nothing else is part of it:
//! a file no record names (a writer killed before its record, a commit that lost a race)
//! is invisible to readers until `vacuum` deletes it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::store::Store;
use crate::error::{IngestError, Result};
use crate::schema::Table;

/// The folder of commit records.
pub const COMMITS: &str = "_runlens/commits/";
/// The format string every record carries.
pub const RECORD_FORMAT: &str = "runlens-commit/1";
/// The folder of checkpoints: the whole snapshot as of a record, so that a reader need not
/// read every record since the first.
pub const CHECKPOINTS: &str = "_runlens/checkpoints/";
/// The format string every checkpoint carries.
pub const CHECKPOINT_FORMAT: &str = "runlens-checkpoint/1";
/// A writer whose record takes a multiple of this number writes a checkpoint after it.
pub const CHECKPOINT_EVERY: u64 = 100;
/// Created by a writer of a dataset that has no commit record yet, before it publishes
/// anything: in a dataset that has it, files no record names are another writer's commit
/// in flight (published, its record not yet created), never files from before the commit
/// log to adopt. Without it a writer starting on a new dataset while another was between
/// publishing and recording adopted the other's files, and the other, finding its inputs
/// stored, deleted them from under the adopting record.
pub const LOG_MARKER: &str = "_runlens/commit-log.json";

/// Marks the dataset as kept in the commit log ([`LOG_MARKER`]); already marked is fine.
pub fn mark_log(store: &dyn Store) -> Result<()> {
    let marker = format!("{{\"format\": \"{RECORD_FORMAT}\"}}\n");
    store.create_new(LOG_MARKER, marker.as_bytes()).map(|_| ())
}

/// Whether the dataset is marked as kept in the commit log ([`LOG_MARKER`]).
pub fn log_marked(store: &dyn Store) -> Result<bool> {
    Ok(store.get(LOG_MARKER)?.is_some())
}

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitKind {
    /// `runlens ingest`: input files read.
    Ingest,
    /// Rows runlens produced itself (`record`, the capture proxy, `probe`).
    Record,
    /// `runlens compact`: files rewritten into fewer, the originals removed.
    Compact,
    /// The files of a dataset written before the commit log existed, adopted as they were.
    Adopt,
}

/// A data file a commit adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedFile {
    /// Key relative to the dataset's root (`<table>/date=<day>/part-<commit>-<n>.parquet`).
    pub path: String,
    /// The table (the key's first folder).
    pub table: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size, bytes.
    pub bytes: u64,
    /// The labels of every row, when all rows of the file carry exactly these (no other
    /// key, no other value): readers then know each row's labels without decoding the
    /// `labels` column. Absent when the rows differ, or the writer did not record them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The distinct values of the rows' `source` column (`llm_calls`, `runs`): a reader
    /// looking for some sources passes over a file that holds none of them, unread. Absent
    /// for tables without the column, and when the writer did not record them (the file
    /// may then hold any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<BTreeSet<String>>,
}

/// One commit record, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitRecord {
    /// Always [`RECORD_FORMAT`].
    pub format: String,
    /// The commit's id, also in the names of the files it adds.
    pub commit_id: String,
    /// What the commit did.
    pub kind: CommitKind,
    /// When the record was written, RFC 3339 UTC.
    pub committed_at: String,
    /// The runlens that wrote it.
    pub runlens_version: String,
    /// Files added.
    #[serde(default)]
    pub add: Vec<AddedFile>,
    /// Keys of files removed (replaced by a compaction's `add`).
    #[serde(default)]
    pub remove: Vec<String>,
    /// BLAKE3 hashes of the input files stored (`ingest_log.status` ingested or partial).
    #[serde(default)]
    pub content_hashes: Vec<String>,
}

impl CommitRecord {
    /// A record of `kind` for `commit_id`, stamped now.
    pub fn new(kind: CommitKind, commit_id: &str) -> Self {
        CommitRecord {
            format: RECORD_FORMAT.to_string(),
            commit_id: commit_id.to_string(),
            kind,
            committed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            runlens_version: env!("CARGO_PKG_VERSION").to_string(),
            add: Vec::new(),
            remove: Vec::new(),
            content_hashes: Vec::new(),
        }
    }
}

/// The key of record `sequence`.
pub fn record_key(sequence: u64) -> String {
    format!("{COMMITS}{sequence:020}.json")
}

/// The sequence number in a record's key.
pub fn sequence_of(key: &str) -> Option<u64> {
    key.strip_prefix(COMMITS)?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// A file of the dataset as of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFile {
    /// The file as its commit added it.
    pub file: AddedFile,
    /// The sequence number of that commit.
    pub sequence: u64,
}

/// A file a compaction replaced: still stored until `vacuum` deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedFile {
    /// Its key.
    pub key: String,
    /// When the compaction that replaced it was committed, RFC 3339.
    pub removed_at: String,
}

/// The dataset as of one commit: the replay of every record up to `sequence`.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The last record read; `None` for a dataset without commits.
    pub sequence: Option<u64>,
    /// Files of the dataset, by key.
    pub files: BTreeMap<String, LiveFile>,
    /// Content hashes of every input file stored.
    pub content_hashes: HashSet<String>,
    /// Files added by some commit and removed by a later one.
    pub removed: Vec<RemovedFile>,
    /// Every key any record ever added (live or removed).
    pub ever_added: HashSet<String>,
}

impl Snapshot {
    /// The snapshot's files of `table`, sorted by key.
    pub fn table_files(&self, table: Table) -> Vec<&LiveFile> {
        let prefix = format!("{}/", table.name());
        self.files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, f)| f)
            .collect()
    }

    /// Applies record `sequence`.
    pub fn apply(&mut self, sequence: u64, record: &CommitRecord) {
        for key in &record.remove {
            if self.files.remove(key).is_some() {
                self.removed.push(RemovedFile {
                    key: key.clone(),
                    removed_at: record.committed_at.clone(),
                });
            }
        }
        for file in &record.add {
            self.ever_added.insert(file.path.clone());
            self.files.insert(
                file.path.clone(),
                LiveFile {
                    file: file.clone(),
                    sequence,
                },
            );
        }
        self.content_hashes
            .extend(record.content_hashes.iter().cloned());
        self.sequence = Some(sequence);
    }

    /// Reads the records after this snapshot's sequence and applies them in order.
    pub fn catch_up(&mut self, store: &dyn Store) -> Result<()> {
        for (sequence, record) in read_records_after(store, self.sequence)? {
            self.apply(sequence, &record);
        }
        Ok(())
    }
}

/// A checkpoint as stored: the snapshot as of record `sequence`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    format: String,
    sequence: u64,
    files: Vec<CheckpointFile>,
    removed: Vec<CheckpointRemoved>,
    content_hashes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointFile {
    #[serde(flatten)]
    file: AddedFile,
    sequence: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointRemoved {
    path: String,
    removed_at: String,
}

/// The key of the checkpoint as of record `sequence`.
pub fn checkpoint_key(sequence: u64) -> String {
    format!("{CHECKPOINTS}{sequence:020}.json")
}

/// Writes `snapshot` as a checkpoint (once per sequence number: a checkpoint that exists
/// already is the same snapshot).
pub fn write_checkpoint(store: &dyn Store, snapshot: &Snapshot) -> Result<()> {
    let Some(sequence) = snapshot.sequence else {
        return Ok(());
    };
    let mut content_hashes: Vec<String> = snapshot.content_hashes.iter().cloned().collect();
    content_hashes.sort();
    let checkpoint = Checkpoint {
        format: CHECKPOINT_FORMAT.to_string(),
        sequence,
        files: snapshot
            .files
            .values()
            .map(|f| CheckpointFile {
                file: f.file.clone(),
                sequence: f.sequence,
            })
            .collect(),
        removed: snapshot
            .removed
            .iter()
            .map(|r| CheckpointRemoved {
                path: r.key.clone(),
                removed_at: r.removed_at.clone(),
            })
            .collect(),
        content_hashes,
    };
    let bytes = serde_json::to_vec(&checkpoint).map_err(|e| IngestError::CommitRecord {
        key: checkpoint_key(sequence),
        reason: e.to_string(),
    })?;
    store.create_new(&checkpoint_key(sequence), &bytes)?;
    Ok(())
}

/// The snapshot of the latest checkpoint, `None` when there is none.
pub fn latest_checkpoint(store: &dyn Store) -> Result<Option<Snapshot>> {
    let latest = store
        .list(CHECKPOINTS)?
        .iter()
        .filter_map(|o| {
            o.key
                .strip_prefix(CHECKPOINTS)?
                .strip_suffix(".json")?
                .parse::<u64>()
                .ok()
        })
        .max();
    let Some(sequence) = latest else {
        return Ok(None);
    };
    let key = checkpoint_key(sequence);
    let Some(bytes) = store.get(&key)? else {
        return Ok(None);
    };
    let where_ = || format!("{}/{key}", store.location().trim_end_matches('/'));
    let checkpoint: Checkpoint =
        serde_json::from_slice(&bytes).map_err(|e| IngestError::CommitRecord {
            key: where_(),
            reason: e.to_string(),
        })?;
    if checkpoint.format != CHECKPOINT_FORMAT {
        return Err(IngestError::CommitRecord {
            key: where_(),
            reason: format!(
                "format {:?}; this runlens reads {CHECKPOINT_FORMAT}",
                checkpoint.format
            ),
        });
    }
    let mut snapshot = Snapshot {
        sequence: Some(checkpoint.sequence),
        content_hashes: checkpoint.content_hashes.into_iter().collect(),
        ..Snapshot::default()
    };
    for removed in checkpoint.removed {
        snapshot.ever_added.insert(removed.path.clone());
        snapshot.removed.push(RemovedFile {
            key: removed.path,
            removed_at: removed.removed_at,
        });
    }
    for file in checkpoint.files {
        snapshot.ever_added.insert(file.file.path.clone());
        snapshot.files.insert(
            file.file.path.clone(),
            LiveFile {
                file: file.file,
                sequence: file.sequence,
            },
        );
    }
    Ok(Some(snapshot))
}

/// The records after `after` (all of them for `None`), in order.
pub fn read_records_after(
    store: &dyn Store,
    after: Option<u64>,
) -> Result<Vec<(u64, CommitRecord)>> {
    let listed = match after {
        Some(after) => store.list_after(COMMITS, &record_key(after))?,
        None => store.list(COMMITS)?,
    };
    let mut sequences: Vec<u64> = listed
        .iter()
        .filter_map(|o| sequence_of(&o.key))
        .filter(|s| after.is_none_or(|a| *s > a))
        .collect();
    sequences.sort_unstable();
    let keys: Vec<String> = sequences.iter().map(|&s| record_key(s)).collect();
    let mut records = Vec::with_capacity(sequences.len());
    for ((sequence, key), bytes) in sequences.into_iter().zip(&keys).zip(store.get_all(&keys)?) {
        if let Some(bytes) = bytes {
            records.push((sequence, parse_record(store, key, &bytes)?));
        }
    }
    Ok(records)
}

/// Record `sequence`, `None` if it does not exist.
pub fn read_record(store: &dyn Store, sequence: u64) -> Result<Option<CommitRecord>> {
    let key = record_key(sequence);
    let Some(bytes) = store.get(&key)? else {
        return Ok(None);
    };
    parse_record(store, &key, &bytes).map(Some)
}

/// The commit record stored as `bytes` under `key`.
fn parse_record(store: &dyn Store, key: &str, bytes: &[u8]) -> Result<CommitRecord> {
    let record: CommitRecord =
        serde_json::from_slice(bytes).map_err(|e| IngestError::CommitRecord {
            key: format!("{}/{key}", store.location().trim_end_matches('/')),
            reason: e.to_string(),
        })?;
    if record.format != RECORD_FORMAT {
        return Err(IngestError::CommitRecord {
            key: format!("{}/{key}", store.location().trim_end_matches('/')),
            reason: format!(
                "format {:?}; this runlens reads {RECORD_FORMAT}",
                record.format
            ),
        });
    }
    Ok(record)
}

/// Appends `record` at the first free sequence number after `snapshot`'s, bringing the
/// snapshot up to date with every record it passes; `check` sees each of those records
/// first and may refuse to go on (`Err`). Returns the sequence number taken.
pub fn append(
    store: &dyn Store,
    snapshot: &mut Snapshot,
    record: &CommitRecord,
    check: &mut dyn FnMut(&CommitRecord) -> std::result::Result<(), Conflict>,
) -> Result<std::result::Result<u64, Conflict>> {
    let bytes = serde_json::to_vec_pretty(record).map_err(|e| IngestError::CommitRecord {
        key: record.commit_id.clone(),
        reason: e.to_string(),
    })?;
    loop {
        let sequence = snapshot.sequence.map_or(0, |s| s + 1);
        if store.create_new(&record_key(sequence), &bytes)? {
            snapshot.apply(sequence, record);
            if sequence > 0 && sequence.is_multiple_of(CHECKPOINT_EVERY) {
                // Best effort: a reader without it reads the records instead.
                write_checkpoint(store, snapshot).ok();
            }
            return Ok(Ok(sequence));
        }
        // Another writer took this number: read what it committed before trying the next.
        let Some(theirs) = read_record(store, sequence)? else {
            continue;
        };
        snapshot.apply(sequence, &theirs);
        if let Err(conflict) = check(&theirs) {
            return Ok(Err(conflict));
        }
    }
}

/// Why a commit cannot be appended as it is: another writer's commit, appended first,
/// stores some of the same input files or replaced some of the same files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conflict {
    /// Content hashes both commits store.
    pub content_hashes: HashSet<String>,
    /// Files both commits remove (two compactions of one partition).
    pub removed: HashSet<String>,
}

impl Conflict {
    /// `theirs` against a commit storing the inputs `mine`: a conflict when it stores one
    /// of them too.
    pub fn on_inputs(
        theirs: &CommitRecord,
        mine: &HashSet<String>,
    ) -> std::result::Result<(), Conflict> {
        Conflict {
            content_hashes: shared(&theirs.content_hashes, mine),
            ..Conflict::default()
        }
        .into_result()
    }

    /// A commit storing the inputs `mine` against the records `snapshot` has applied: a
    /// conflict when one of them already stores one of its inputs.
    pub fn on_inputs_stored(
        snapshot: &Snapshot,
        mine: &HashSet<String>,
    ) -> std::result::Result<(), Conflict> {
        Conflict {
            content_hashes: mine
                .iter()
                .filter(|h| snapshot.content_hashes.contains(*h))
                .cloned()
                .collect(),
            ..Conflict::default()
        }
        .into_result()
    }

    /// `theirs` against a compaction replacing the files `removing`: a conflict when it
    /// replaced one of them first.
    pub fn on_removals(
        theirs: &CommitRecord,
        removing: &HashSet<String>,
    ) -> std::result::Result<(), Conflict> {
        Conflict {
            removed: shared(&theirs.remove, removing),
            ..Conflict::default()
        }
        .into_result()
    }

    fn into_result(self) -> std::result::Result<(), Conflict> {
        match self.content_hashes.is_empty() && self.removed.is_empty() {
            true => Ok(()),
            false => Err(self),
        }
    }
}

/// The values of `theirs` that are in `mine`.
fn shared(theirs: &[String], mine: &HashSet<String>) -> HashSet<String> {
    theirs
        .iter()
        .filter(|v| mine.contains(*v))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::store::LocalStore;

    fn record(id: &str, hashes: &[&str]) -> CommitRecord {
        let mut r = CommitRecord::new(CommitKind::Ingest, id);
        r.content_hashes = hashes.iter().map(|h| h.to_string()).collect();
        r.add.push(AddedFile {
            path: format!("runs/date=2026-11-20/part-{id}-1.parquet"),
            table: "runs".into(),
            rows: 1,
            bytes: 10,
            labels: None,
            sources: None,
        });
        r
    }

    #[test]
    fn keys_sort_in_sequence_order() {
        assert_eq!(record_key(7), "_runlens/commits/00000000000000000007.json");
        assert_eq!(sequence_of(&record_key(12_345)), Some(12_345));
        assert!(record_key(9) < record_key(10));
        assert_eq!(sequence_of("_runlens/commits/.x.tmp"), None);
    }

    #[test]
    fn a_writer_behind_takes_the_next_number_and_sees_the_winner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path());
        let mut a = Snapshot::default();
        let mut b = Snapshot::default();
        let no_check = &mut |_: &CommitRecord| Ok(());
        assert_eq!(
            append(&store, &mut a, &record("a", &["h1"]), no_check).expect("io"),
            Ok(0)
        );
        // b has not seen a's record: it finds 0 taken, reads it, and takes 1.
        assert_eq!(
            append(&store, &mut b, &record("b", &["h2"]), no_check).expect("io"),
            Ok(1)
        );
        assert_eq!(b.files.len(), 2);
        assert!(b.content_hashes.contains("h1") && b.content_hashes.contains("h2"));
        let mut fresh = Snapshot::default();
        fresh.catch_up(&store).expect("catch up");
        assert_eq!(fresh.sequence, Some(1));
        assert_eq!(fresh.table_files(Table::Runs).len(), 2);
    }

    #[test]
    fn a_check_refusing_a_winner_stops_the_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path());
        let mut a = Snapshot::default();
        let mut b = Snapshot::default();
        append(&store, &mut a, &record("a", &["h1"]), &mut |_| Ok(()))
            .expect("io")
            .ok();
        let mine = record("b", &["h1", "h3"]);
        let inputs: HashSet<String> = mine.content_hashes.iter().cloned().collect();
        let outcome = append(&store, &mut b, &mine, &mut |theirs| {
            Conflict::on_inputs(theirs, &inputs)
        })
        .expect("io");
        assert_eq!(
            outcome.expect_err("conflict").content_hashes,
            HashSet::from(["h1".to_string()])
        );
        assert_eq!(read_records_after(&store, None).expect("read").len(), 1);
    }

    #[test]
    fn a_checkpoint_holds_the_whole_snapshot_and_readers_start_from_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path());
        let mut writer = Snapshot::default();
        for i in 0..=CHECKPOINT_EVERY + 2 {
            let id = format!("c{i}");
            append(&store, &mut writer, &record(&id, &[&id]), &mut |_| Ok(()))
                .expect("io")
                .ok();
        }
        let from_checkpoint = latest_checkpoint(&store)
            .expect("read")
            .expect("a checkpoint was written at the 100th record");
        assert_eq!(from_checkpoint.sequence, Some(CHECKPOINT_EVERY));
        let mut caught_up = from_checkpoint;
        caught_up.catch_up(&store).expect("catch up");
        let mut replayed = Snapshot::default();
        replayed.catch_up(&store).expect("replay");
        assert_eq!(caught_up.sequence, replayed.sequence);
        assert_eq!(caught_up.files, replayed.files);
        assert_eq!(caught_up.content_hashes, replayed.content_hashes);
        assert_eq!(caught_up.files.len(), CHECKPOINT_EVERY as usize + 3);
    }

    #[test]
    fn removing_files_keeps_them_out_of_the_snapshot_but_remembered() {
        let mut s = Snapshot::default();
        s.apply(0, &record("a", &[]));
        let mut compact = CommitRecord::new(CommitKind::Compact, "c");
        compact.remove = vec!["runs/date=2026-11-20/part-a-1.parquet".into()];
        compact.add.push(AddedFile {
            path: "runs/date=2026-11-20/part-c-1.parquet".into(),
            table: "runs".into(),
            rows: 1,
            bytes: 9,
            labels: None,
            sources: None,
        });
        s.apply(1, &compact);
        let keys: Vec<&String> = s.files.keys().collect();
        assert_eq!(keys, ["runs/date=2026-11-20/part-c-1.parquet"]);
        assert_eq!(s.removed.len(), 1);
        assert_eq!(s.ever_added.len(), 2);
    }
}
