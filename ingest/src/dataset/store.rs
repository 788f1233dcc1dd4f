//! Where a dataset's bytes live: a local directory or an object store, behind the few
//! operations the commit protocol needs ([`Store`]).
//!
//! Every object is named by a key relative to the dataset's root, with `/` separators
//! (`llm_calls/date=2026-11-20/part-<commit>-1.parquet`, `_runlens/commits/…json`). Data
//! files are written once under unique names and never changed; the one operation that
//! must be atomic across writers is [`Store::create_new`], which creates an object only if
//! no object has that key (a local hard link; S3 `If-None-Match: *`, GCS
//! `ifGenerationMatch=0`, Azure `If-None-Match: *`).

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{IngestError, Result};

/// One stored object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Key relative to the dataset's root.
    pub key: String,
    /// Size, bytes.
    pub size: u64,
    /// When the object was last written.
    pub modified: SystemTime,
}

/// The operations of a dataset's storage. Implementations: [`LocalStore`] and, for
/// `s3://`, `gs://` and `az://` URLs, `ObjectStorage` (module `object`).
pub trait Store: fmt::Debug + Send + Sync {
    /// The dataset's location as the user gave it, for messages (never a credential).
    fn location(&self) -> &str;

    /// Creates `key` holding `bytes` if no object has that key; `Ok(false)` if one has.
    /// Atomic: of several writers creating the same key at once, exactly one succeeds, and
    /// no reader ever sees a partial object.
    fn create_new(&self, key: &str, bytes: &[u8]) -> Result<bool>;

    /// Writes `key` holding `bytes`, replacing any object of that key (readers see the old
    /// object or the new one, never a partial one). For runlens's own small files
    /// (saved baselines), never for data files or commit records.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;

    /// The object's bytes, `None` if there is no such object.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Each of `keys`' bytes, as [`Store::get`] gives them, in the order of `keys`; read
    /// one after the other unless the store does better.
    fn get_all(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Every object whose key starts with `prefix` (a folder, ending with `/`), sorted by key.
    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>>;

    /// The objects under `prefix` whose key sorts after `after`, sorted by key.
    fn list_after(&self, prefix: &str, after: &str) -> Result<Vec<ObjectInfo>> {
        let mut listed = self.list(prefix)?;
        listed.retain(|o| o.key.as_str() > after);
        Ok(listed)
    }

    /// Deletes `key` (not an error if it is already gone).
    fn delete(&self, key: &str) -> Result<()>;

    /// Moves a finished local file into the dataset under `key` (a data file's unique
    /// name), durably: once this returns, a crash does not lose it.
    fn publish(&self, staged: &Path, key: &str) -> Result<()>;

    /// Publishes each `(staged file, key)`, as [`Store::publish`] does; one after the other
    /// unless the store does better.
    fn publish_all(&self, files: &[(&Path, &str)]) -> Result<()> {
        files
            .iter()
            .try_for_each(|(staged, key)| self.publish(staged, key))
    }

    /// Where writers write files before publishing them: inside the dataset for a local
    /// directory (so publishing is a rename), a local temporary folder for an object store.
    fn staging_root(&self) -> PathBuf;

    /// The path or URL a Parquet reader (polars) opens for `key`.
    fn reader_path(&self, key: &str) -> String;

    /// The local path of `key`, when the dataset is a local directory.
    fn local_path(&self, key: &str) -> Option<PathBuf>;

    /// Settings a Parquet reader needs for [`Store::reader_path`]s beyond the environment
    /// (object-store configuration keys); they may hold credentials: never print them.
    fn reader_options(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A dataset in a local directory (the embedded default).
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    shown: String,
}

impl LocalStore {
    /// The dataset directory `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let shown = root.display().to_string();
        LocalStore { root, shown }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PathBuf {
        key.split('/')
            .fold(self.root.clone(), |p, part| p.join(part))
    }
}

impl Store for LocalStore {
    fn location(&self) -> &str {
        &self.shown
    }

    fn create_new(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let target = self.path(key);
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| IngestError::io("creating", &dir, e))?;
        // Written in full and synced under a private name, then linked to its key: a link
        // fails if the key exists, and readers see the whole object or none.
        let temp = dir.join(format!(".{}.{}.tmp", file_name(key), unique_suffix()));
        let written = (|| -> std::io::Result<()> {
            let mut file = File::create_new(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(IngestError::io("writing", &temp, e));
        }
        let linked = fs::hard_link(&temp, &target);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                sync_dir(&dir);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(IngestError::io("creating", &target, e)),
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let target = self.path(key);
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| IngestError::io("creating", &dir, e))?;
        let temp = dir.join(format!(".{}.{}.tmp", file_name(key), unique_suffix()));
        fs::write(&temp, bytes).map_err(|e| IngestError::io("writing", &temp, e))?;
        fs::rename(&temp, &target).map_err(|e| IngestError::io("renaming", &temp, e))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(IngestError::io("reading", &path, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let mut found = Vec::new();
        let dir = self.path(prefix.trim_end_matches('/'));
        walk(&dir, prefix.trim_end_matches('/'), &mut found)?;
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(IngestError::io("removing", &path, e)),
        }
    }

    fn publish(&self, staged: &Path, key: &str) -> Result<()> {
        self.publish_all(&[(staged, key)])
    }

    /// Syncs the files' bytes, renames each to its key, then syncs the folders that gained
    /// an entry (and the parents of folders created): all durable before the commit record
    /// that names them is created. The syncs are waits on the disk, issued together from
    /// several threads: a Claude Code history's commit is a hundred files in as many
    /// day folders, and syncing them one after the other was a tenth of its ingest
    /// (docs/benchmarks.md).
    fn publish_all(&self, files: &[(&Path, &str)]) -> Result<()> {
        concurrently(files, |(staged, _)| {
            fs::OpenOptions::new()
                .write(true)
                .open(staged)
                .and_then(|f| f.sync_all())
                .map_err(|e| IngestError::io("syncing", staged, e))
        })?;
        let mut folders: BTreeSet<PathBuf> = BTreeSet::new();
        for (staged, key) in files {
            let target = self.path(key);
            let dir = target.parent().unwrap_or(&self.root).to_path_buf();
            if !folders.contains(&dir) && !dir.is_dir() {
                // Each folder about to be created is a new entry of its parent.
                let mut created = dir.as_path();
                while !created.is_dir() {
                    let Some(parent) = created.parent() else {
                        break;
                    };
                    folders.insert(parent.to_path_buf());
                    created = parent;
                }
                fs::create_dir_all(&dir).map_err(|e| IngestError::io("creating", &dir, e))?;
            }
            fs::rename(staged, &target).map_err(|e| IngestError::io("renaming", staged, e))?;
            folders.insert(dir);
        }
        let folders: Vec<PathBuf> = folders.into_iter().collect();
        concurrently(&folders, |dir| {
            sync_dir(dir);
            Ok(())
        })
    }

    fn staging_root(&self) -> PathBuf {
        self.root.join(super::STAGING)
    }

    fn reader_path(&self, key: &str) -> String {
        self.path(key).to_string_lossy().into_owned()
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        Some(self.path(key))
    }
}

/// Lists the files below `dir` (hidden names skipped) as keys under `key_prefix`.
fn walk(dir: &Path, key_prefix: &str, out: &mut Vec<ObjectInfo>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IngestError::io("reading", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| IngestError::io("reading", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let key = if key_prefix.is_empty() {
            name.clone()
        } else {
            format!("{key_prefix}/{name}")
        };
        let Ok(metadata) = entry.metadata() else {
            // Removed while listing (a vacuum, a compaction): not there.
            continue;
        };
        if metadata.is_dir() {
            walk(&entry.path(), &key, out)?;
        } else {
            out.push(ObjectInfo {
                key,
                size: metadata.len(),
                modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
    }
    Ok(())
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// Unique enough for a private temporary name: the process and a counter.
pub(crate) fn unique_suffix() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// Runs `each` on every item from up to 16 threads at once, stopping at the first error
/// (the others' items still run): for waits on the disk, which overlap (a journaling file
/// system writes concurrent syncs in one commit), not for computing.
fn concurrently<T: Sync>(items: &[T], each: impl Fn(&T) -> Result<()> + Sync) -> Result<()> {
    const THREADS: usize = 16;
    let threads = items.len().min(THREADS);
    if threads <= 1 {
        return items.iter().try_for_each(each);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || -> Result<()> {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return Ok(());
            };
            each(item)?;
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        handles.into_iter().try_for_each(|handle| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
}

/// Makes a directory's entries durable (best effort: not every file system allows it).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_succeeds_once_and_lists_by_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path());
        assert!(
            store
                .create_new("_runlens/commits/1.json", b"one")
                .expect("create")
        );
        assert!(
            !store
                .create_new("_runlens/commits/1.json", b"two")
                .expect("create")
        );
        assert_eq!(
            store
                .get("_runlens/commits/1.json")
                .expect("get")
                .as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(store.get("_runlens/commits/2.json").expect("get"), None);
        let listed = store.list("_runlens/commits/").expect("list");
        assert_eq!(listed.len(), 1, "no temporary file is left: {listed:?}");
        assert_eq!(listed[0].key, "_runlens/commits/1.json");
        assert_eq!(listed[0].size, 3);
        store.delete("_runlens/commits/1.json").expect("delete");
        store
            .delete("_runlens/commits/1.json")
            .expect("delete again");
        assert!(store.list("_runlens/").expect("list").is_empty());
    }

    #[test]
    fn of_many_threads_creating_one_key_exactly_one_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path());
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let store = &store;
                    s.spawn(move || store.create_new("k/x.json", format!("{i}").as_bytes()))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().expect("thread").expect("create")))
                .sum()
        });
        assert_eq!(wins, 1);
    }
}
