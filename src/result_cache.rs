//! Command results remembered per dataset state, so that asking the same question of an
//! unchanged dataset prints the answer without computing it again.
//!
//! A result is stored under `_runlens/results/` of a local dataset, keyed by everything the
//! answer depends on:
//! - the dataset's state: the key and size of every committed data file. Data files are
//!   never rewritten (a commit adds files with unique names, a compaction replaces them by
//!   new ones), so the same list means the same rows, and any commit (ingest, record,
//!   compact) changes it;
//! - the request: the command and its arguments, as the command spells them;
//! - the price file's content, when one is given (the bundled table is part of the binary);
//! - the binary itself (path, size, modification time): a new build never reads a result
//!   an older one stored.
//!
//! Storing is best-effort and never fails a command: a read-only dataset, a full disk or a
//! damaged entry only mean the answer is computed. An entry is written to a temporary file
//! and renamed into place, so a reader sees a whole entry or none. A dataset without a
//! commit log (written before it existed), or on object storage, is never cached.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use runlens_ingest::Dataset;

/// The folder of stored results, relative to the dataset's root.
pub const RESULTS_DIR: &str = "_runlens/results";
/// The format string every entry carries.
const ENTRY_FORMAT: &str = "runlens-result/1";
/// Entries kept per dataset: storing one more deletes the least recently written.
const KEPT_ENTRIES: usize = 32;

/// What a command printed: its standard output and its warnings, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResult {
    /// Everything written to standard output.
    pub stdout: String,
    /// Lines written to standard error (warnings), without their newline.
    pub warnings: Vec<String>,
}

/// Where the result of one request on one state of a dataset is stored.
#[derive(Debug)]
pub struct ResultCache {
    /// The request and the state it was asked of, in full (compared on reading, so that
    /// two keys sharing a file name never mix).
    key: String,
    dir: PathBuf,
    file: PathBuf,
}

impl ResultCache {
    /// The place for `request` on `dataset`'s current snapshot, with `price_file`'s
    /// content as part of the key; `None` when the dataset cannot be cached (not local,
    /// no commit log, unreadable) or the binary cannot be identified.
    pub fn for_request(
        dataset: &Dataset,
        request: &str,
        price_file: Option<&Path>,
    ) -> Option<ResultCache> {
        let root = dataset.local_root()?;
        let snapshot = dataset.snapshot().ok()?;
        snapshot.sequence?;
        let mut key = format!("{ENTRY_FORMAT}\nbinary {}\n", binary_identity()?);
        key.push_str(&format!("request {request}\n"));
        match price_file {
            Some(path) => {
                let bytes = fs::read(path).ok()?;
                let hash = blake3::hash(&bytes);
                key.push_str(&format!("prices {} {}\n", path.display(), hash.to_hex()));
            }
            None => key.push_str("prices bundled\n"),
        }
        let mut state = blake3::Hasher::new();
        for (name, live) in &snapshot.files {
            state.update(name.as_bytes());
            state.update(&[0]);
            state.update(&live.file.bytes.to_le_bytes());
        }
        key.push_str(&format!(
            "dataset {} files {} state {}\n",
            root.display(),
            snapshot.files.len(),
            state.finalize().to_hex()
        ));
        let dir = root.join(RESULTS_DIR);
        let name = blake3::hash(key.as_bytes()).to_hex();
        let file = dir.join(format!("{}.json", &name.as_str()[..32]));
        Some(ResultCache { key, dir, file })
    }

    /// The stored result, when there is one for exactly this key.
    pub fn get(&self) -> Option<StoredResult> {
        let text = fs::read(&self.file).ok()?;
        let entry: serde_json::Value = serde_json::from_slice(&text).ok()?;
        if entry.get("format")?.as_str()? != ENTRY_FORMAT || entry.get("key")?.as_str()? != self.key
        {
            return None;
        }
        let stdout = entry.get("stdout")?.as_str()?.to_string();
        let warnings = entry
            .get("warnings")?
            .as_array()?
            .iter()
            .map(|w| w.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()?;
        Some(StoredResult { stdout, warnings })
    }

    /// Stores `result`, replacing any entry under the same name; failures are ignored.
    pub fn put(&self, result: &StoredResult) {
        let entry = serde_json::json!({
            "format": ENTRY_FORMAT,
            "key": self.key,
            "stdout": result.stdout,
            "warnings": result.warnings,
        });
        let stored = fs::create_dir_all(&self.dir).is_ok()
            && tempfile::Builder::new()
                .prefix(".entry-")
                .tempfile_in(&self.dir)
                .ok()
                .and_then(|mut tmp| {
                    serde_json::to_writer(&mut tmp, &entry).ok()?;
                    tmp.flush().ok()?;
                    tmp.persist(&self.file).ok()
                })
                .is_some();
        if stored {
            prune(&self.dir, KEPT_ENTRIES);
        }
    }
}

/// The running binary: its path, size and modification time.
fn binary_identity() -> Option<String> {
    let path = std::env::current_exe().ok()?;
    let meta = fs::metadata(&path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!(
        "{} {} {}",
        path.display(),
        meta.len(),
        modified.as_nanos()
    ))
}

/// Deletes the oldest entries of `dir` beyond the `kept` newest (temporary files of
/// writers included once they are an hour old).
fn prune(dir: &Path, kept: usize) {
    let Ok(read) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for entry in read.flatten() {
        let path = entry.path();
        let Some(modified) = entry.metadata().ok().and_then(|m| m.modified().ok()) else {
            continue;
        };
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            if modified.elapsed().is_ok_and(|age| age.as_secs() > 3600) {
                let _ = fs::remove_file(&path);
            }
            continue;
        }
        entries.push((modified, path));
    }
    if entries.len() <= kept {
        return;
    }
    entries.sort();
    let excess = entries.len() - kept;
    for (_, path) in entries.into_iter().take(excess) {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quiet;
    impl runlens_ingest::Progress for Quiet {
        fn start(&self, _: u64, _: u64) {}
        fn advance(&self, _: u64) {}
        fn note(&self, _: &str) {}
        fn finish(&self) {}
    }

    fn result(text: &str) -> StoredResult {
        StoredResult {
            stdout: text.into(),
            warnings: vec![format!("warning: {text}")],
        }
    }

    /// Ingests one of the bundled samples into the dataset at `dir`.
    fn ingest(dir: &Path, sample: &str) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let options = runlens_ingest::IngestOptions {
            inputs: vec![root.join(sample).display().to_string()],
            ..Default::default()
        };
        runlens_ingest::ingest(&Dataset::new(dir), &options, &Quiet).expect("ingest");
    }

    const FIRST: &str = "sample-data/sessions/agent-workflow/healthy-session.json";
    const SECOND: &str = "sample-data/sessions/agent-workflow/hollow-session.json";

    #[test]
    fn a_result_is_found_for_the_same_request_on_the_same_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        ingest(dir.path(), FIRST);
        let dataset = Dataset::new(dir.path());
        let cache = ResultCache::for_request(&dataset, "daily", None).expect("cache");
        assert_eq!(cache.get(), None);
        cache.put(&result("one"));
        assert_eq!(cache.get(), Some(result("one")));
        let reopened = Dataset::new(dir.path());
        let again = ResultCache::for_request(&reopened, "daily", None).expect("cache");
        assert_eq!(again.get(), Some(result("one")));
        let other = ResultCache::for_request(&reopened, "listing", None).expect("cache");
        assert_eq!(other.get(), None);

        // A file ingested again changes nothing; a new one is a new state.
        ingest(dir.path(), FIRST);
        let same = ResultCache::for_request(&Dataset::new(dir.path()), "daily", None);
        assert_eq!(same.expect("cache").get(), Some(result("one")));
        ingest(dir.path(), SECOND);
        let changed = ResultCache::for_request(&Dataset::new(dir.path()), "daily", None);
        assert_eq!(changed.expect("cache").get(), None);
    }

    #[test]
    fn the_price_file_content_is_part_of_the_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        ingest(dir.path(), FIRST);
        let dataset = Dataset::new(dir.path());
        let prices = dir.path().join("prices.toml");
        fs::write(&prices, "# one\n").expect("write");
        let cache = ResultCache::for_request(&dataset, "daily", Some(&prices)).expect("cache");
        cache.put(&result("one"));
        let bundled = ResultCache::for_request(&dataset, "daily", None).expect("cache");
        assert_eq!(bundled.get(), None);
        fs::write(&prices, "# two\n").expect("write");
        let edited = ResultCache::for_request(&dataset, "daily", Some(&prices)).expect("cache");
        assert_eq!(edited.get(), None);
        fs::remove_file(&prices).expect("remove");
        assert!(ResultCache::for_request(&dataset, "daily", Some(&prices)).is_none());
    }

    #[test]
    fn a_damaged_or_foreign_entry_is_not_an_answer() {
        let dir = tempfile::tempdir().expect("tempdir");
        ingest(dir.path(), FIRST);
        let dataset = Dataset::new(dir.path());
        let cache = ResultCache::for_request(&dataset, "daily", None).expect("cache");
        cache.put(&result("one"));
        let text = fs::read_to_string(&cache.file).expect("entry");
        fs::write(&cache.file, &text[..text.len() / 2]).expect("truncate");
        assert_eq!(cache.get(), None);
        // Another key's entry under this name (a collision of the name's 128 bits).
        let other = ResultCache::for_request(&dataset, "listing", None).expect("cache");
        other.put(&result("two"));
        fs::copy(&other.file, &cache.file).expect("copy");
        assert_eq!(cache.get(), None);
    }

    #[test]
    fn a_dataset_without_commits_is_not_cached() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(ResultCache::for_request(&Dataset::new(dir.path()), "daily", None).is_none());
    }

    #[test]
    fn pruning_keeps_the_newest_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = std::time::SystemTime::now();
        for i in 0..5u64 {
            let path = dir.path().join(format!("{i}.json"));
            let file = fs::File::create(&path).expect("create");
            let age = std::time::Duration::from_secs(100 - i);
            file.set_modified(now - age).expect("mtime");
        }
        let stale = dir.path().join(".entry-stale");
        fs::File::create(&stale)
            .and_then(|f| f.set_modified(now - std::time::Duration::from_secs(7200)))
            .expect("stale");
        let fresh = dir.path().join(".entry-fresh");
        fs::File::create(&fresh).expect("fresh");
        prune(dir.path(), 2);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".entry-fresh", "3.json", "4.json"]);
    }
}
