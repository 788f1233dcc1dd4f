//! Expected outputs (`--expect GLOB`): after each run, every file matching each glob
//! (relative to `--output-dir`, else the working directory) is recorded with its size and
//! modification time; a glob that matched nothing the run wrote is recorded as missing. A
//! file left over from an earlier run (modified before this run started) is recorded but
//! does not count as produced: "0 of 3 reports" must show even when old reports linger.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use glob::MatchOptions;
use runlens_ingest::schema::{ArtifactRow, Timestamp};

/// Slack for file systems whose modification times lag the clock by a tick (ext4's coarse
/// clock, ~4 ms) or are rounded to whole seconds (FAT: 2 s; HFS+: 1 s).
const FINE_SLACK_MICROS: i64 = 50_000;
const COARSE_SLACK_MICROS: i64 = 2_000_000;

/// The `--expect` globs of a recording and the directory they are relative to.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// The globs, as given.
    pub globs: Vec<String>,
    /// The directory they are relative to.
    pub base: PathBuf,
}

/// The outcome of checking one run's outputs.
#[derive(Debug, Clone, Default)]
pub struct ArtifactCheck {
    /// One row per matching file, and one per glob that matched nothing produced.
    pub rows: Vec<ArtifactRow>,
    /// Globs that some file written by the run answers.
    pub produced: usize,
}

impl Expectations {
    /// Checks the globs syntactically (before any run).
    pub fn validate(&self) -> Result<(), String> {
        for g in &self.globs {
            glob::Pattern::new(g).map_err(|e| format!("--expect '{g}': {e}"))?;
        }
        Ok(())
    }

    /// Records the outputs of run `run_id`, which started at `run_started`.
    pub fn check(&self, run_id: &str, run_started: Timestamp) -> ArtifactCheck {
        let checked = Timestamp::now();
        let mut result = ArtifactCheck::default();
        for pattern in &self.globs {
            let mut answered = false;
            for path in self.matches(pattern) {
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if !meta.is_file() {
                    continue;
                }
                let modified = meta.modified().ok().and_then(to_timestamp);
                let produced = modified.map(|m| written_since(m, run_started));
                answered |= produced == Some(true);
                result.rows.push(ArtifactRow {
                    run_id: run_id.to_string(),
                    path: self.display(&path),
                    expected_glob: Some(pattern.clone()),
                    exists: true,
                    size_bytes: Some(meta.len() as i64),
                    modified_ts: modified,
                    produced_by_run: produced,
                    checked_ts: Some(checked),
                    ..ArtifactRow::default()
                });
            }
            if answered {
                result.produced += 1;
            } else {
                result.rows.push(ArtifactRow {
                    run_id: run_id.to_string(),
                    path: pattern.clone(),
                    expected_glob: Some(pattern.clone()),
                    exists: false,
                    produced_by_run: Some(false),
                    checked_ts: Some(checked),
                    ..ArtifactRow::default()
                });
            }
        }
        result
    }

    /// Records the files the command announced (`::runlens artifact PATH`, relative to the
    /// working directory): each with its size and whether the run wrote it, or as missing.
    /// They do not count as expected outputs.
    pub fn check_announced(
        &self,
        run_id: &str,
        paths: &[String],
        run_started: Timestamp,
    ) -> Vec<ArtifactRow> {
        let checked = Timestamp::now();
        let mut seen = std::collections::BTreeSet::new();
        paths
            .iter()
            .filter(|p| seen.insert(p.as_str()))
            .map(|path| {
                let meta = std::fs::metadata(path).ok().filter(|m| m.is_file());
                let modified = meta
                    .as_ref()
                    .and_then(|m| m.modified().ok())
                    .and_then(to_timestamp);
                ArtifactRow {
                    run_id: run_id.to_string(),
                    path: path.clone(),
                    expected_glob: None,
                    exists: meta.is_some(),
                    size_bytes: meta.as_ref().map(|m| m.len() as i64),
                    modified_ts: modified,
                    produced_by_run: Some(modified.is_some_and(|m| written_since(m, run_started))),
                    checked_ts: Some(checked),
                    ..ArtifactRow::default()
                }
            })
            .collect()
    }

    fn matches(&self, pattern: &str) -> Vec<PathBuf> {
        let full = self.base.join(pattern);
        let options = MatchOptions {
            require_literal_separator: true,
            ..MatchOptions::default()
        };
        match glob::glob_with(&full.to_string_lossy(), options) {
            Ok(paths) => paths.filter_map(|p| p.ok()).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.base)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

fn to_timestamp(time: SystemTime) -> Option<Timestamp> {
    let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(Timestamp(since.as_micros() as i64))
}

/// Whether a file modified at `modified` was written by a run that started at `started`.
fn written_since(modified: Timestamp, started: Timestamp) -> bool {
    let whole_second = modified.0 % 1_000_000 == 0;
    let slack = if whole_second {
        COARSE_SLACK_MICROS
    } else {
        FINE_SLACK_MICROS
    };
    modified.0 >= started.0 - slack
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_stale_and_fresh_outputs() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("out")).expect("mkdir");
        let stale = dir.path().join("out/old.md");
        std::fs::write(&stale, "old").expect("write");
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
        let started = Timestamp::now();
        std::fs::write(dir.path().join("out/new.json"), "{}").expect("write");
        let expectations = Expectations {
            globs: vec!["out/*.json".into(), "out/*.md".into(), "out/*.png".into()],
            base: dir.path().to_path_buf(),
        };
        let check = expectations.check("r0", started);
        assert_eq!(check.produced, 1, "{:?}", check.rows);
        let row = |p: &str| check.rows.iter().find(|r| r.path == p).expect(p).clone();
        assert_eq!(row("out/new.json").produced_by_run, Some(true));
        assert_eq!(row("out/new.json").size_bytes, Some(2));
        assert_eq!(row("out/old.md").produced_by_run, Some(false));
        assert!(row("out/old.md").exists);
        // The stale file does not answer its glob: a missing row says so.
        assert!(check.rows.iter().any(|r| r.path == "out/*.md" && !r.exists));
        assert!(!row("out/*.png").exists);
        assert_eq!(check.rows.len(), 4);
    }

    #[test]
    fn a_bad_glob_is_refused_up_front() {
        let e = Expectations {
            globs: vec!["out/[".into()],
            base: PathBuf::from("."),
        };
        assert!(e.validate().is_err());
    }
}
