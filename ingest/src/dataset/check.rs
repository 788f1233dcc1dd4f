//! Which committed files of a local dataset a reader cannot use: missing, of another size
//! than their commit recorded, or without a readable Parquet footer. Looked for when a read
//! fails, to name the file: the Parquet reader's own errors do not.

use parquet::file::metadata::ParquetMetaDataReader;
use rayon::prelude::*;

use super::*;

/// A committed file a reader cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedFile {
    /// Its key, relative to the dataset's root.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Dataset {
    /// The committed files of every table that are damaged, by key; empty for a dataset on
    /// object storage (its objects are written whole or not at all, and checking them would
    /// download them). Reads each file's footer only: cheap enough for the error path.
    pub fn damaged_files(&self) -> Result<Vec<DamagedFile>> {
        let snapshot = self.snapshot()?;
        let files: Vec<(String, PathBuf, u64)> = Table::ALL
            .iter()
            .flat_map(|table| snapshot.table_files(*table))
            .filter_map(|live| {
                let path = self.store.local_path(&live.file.path)?;
                Some((live.file.path.clone(), path, live.file.bytes))
            })
            .collect();
        let mut damaged: Vec<DamagedFile> = files
            .par_iter()
            .with_max_len(1)
            .filter_map(|(key, path, bytes)| {
                let reason = unreadable(path, *bytes)?;
                Some(DamagedFile {
                    key: key.clone(),
                    reason,
                })
            })
            .collect();
        damaged.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(damaged)
    }
}

/// Why the file at `path`, `bytes` long when committed, cannot be read; None when it can.
fn unreadable(path: &Path, bytes: u64) -> Option<String> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Some("missing: no file at this path".into());
        }
        Err(e) => return Some(format!("cannot be opened: {e}")),
    };
    let size = match file.metadata() {
        Ok(metadata) => metadata.len(),
        Err(e) => return Some(format!("cannot be read: {e}")),
    };
    // A legacy dataset's files were listed, not committed: their size is whatever is there.
    if bytes > 0 && size != bytes {
        return Some(format!(
            "{size} bytes where its commit recorded {bytes} (truncated or overwritten)"
        ));
    }
    ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .err()
        .map(|e| {
            format!(
                "not a readable Parquet file ({})",
                printable(&e.to_string())
            )
        })
}

/// `text` with the bytes a damaged file's error quotes (its footer, as text) made visible.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == char::REPLACEMENT_CHARACTER {
                '?'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::write_commit;
    use super::*;

    /// A local dataset of three committed `runs` files.
    fn three_files() -> (tempfile::TempDir, Dataset, Vec<String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let dataset = Dataset::new(dir.path());
        let writer = dataset.writer().expect("writer");
        for i in 0..3 {
            write_commit(
                &writer,
                &format!("c{i}"),
                &[&format!("r{i}")],
                &format!("h{i}"),
            );
        }
        let keys = Dataset::new(dir.path())
            .table_files(Table::Runs)
            .expect("lists");
        assert_eq!(keys.len(), 3);
        let dataset = Dataset::new(dir.path());
        (dir, dataset, keys)
    }

    #[test]
    fn a_sound_dataset_has_no_damaged_file() {
        let (_dir, dataset, _) = three_files();
        assert_eq!(dataset.damaged_files().expect("checks"), Vec::new());
    }

    #[test]
    fn truncated_overwritten_and_missing_files_are_named() {
        let (dir, dataset, keys) = three_files();
        let path = |key: &str| dir.path().join(key);
        let whole = fs::read(path(&keys[0])).expect("reads");
        fs::write(path(&keys[0]), &whole[..whole.len() / 2]).expect("truncates");
        // Same size, the footer's magic bytes overwritten with bytes that are not text.
        let mut overwritten = fs::read(path(&keys[1])).expect("reads");
        let n = overwritten.len();
        overwritten[n - 4..].copy_from_slice(b"\xff\xfe\x00X");
        fs::write(path(&keys[1]), &overwritten).expect("overwrites");
        fs::remove_file(path(&keys[2])).expect("removes");

        let damaged = dataset.damaged_files().expect("checks");
        let reason = |key: &str| {
            damaged
                .iter()
                .find(|d| d.key == key)
                .map(|d| d.reason.clone())
                .unwrap_or_default()
        };
        assert_eq!(damaged.len(), 3, "{damaged:?}");
        assert!(reason(&keys[0]).contains("truncated"), "{damaged:?}");
        let unreadable = reason(&keys[1]);
        assert!(
            unreadable.starts_with("not a readable Parquet file"),
            "{damaged:?}"
        );
        assert!(
            !unreadable.contains(char::REPLACEMENT_CHARACTER) && !unreadable.contains('\0'),
            "{unreadable}"
        );
        assert_eq!(reason(&keys[2]), "missing: no file at this path");
    }
}
