//! Helpers shared by the integration tests.

pub mod upstream;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (sample data lives below it).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `runlens` command writing to the dataset `data`, run from the repository root.
pub fn runlens(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runlens"));
    cmd.current_dir(repo_root())
        .arg("--data")
        .arg(data)
        .env_remove("RUNLENS_DATA");
    cmd
}

/// Runs `runlens --data DATA ARGS...` to completion.
pub fn run(data: &Path, args: &[&str]) -> Output {
    runlens(data).args(args).output().expect("runlens runs")
}

/// Stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a query and returns its CSV output without the header, one string per row.
pub fn query_rows(data: &Path, sql: &str) -> Vec<String> {
    let output = run(data, &["query", "--format", "csv", sql]);
    assert!(
        output.status.success(),
        "query failed: {sql}\n{}",
        stderr(&output)
    );
    stdout(&output)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// A single-value query result.
pub fn query_value(data: &Path, sql: &str) -> String {
    let rows = query_rows(data, sql);
    assert_eq!(rows.len(), 1, "{sql} returned {rows:?}");
    rows[0].clone()
}

/// Writes `count` distinct POSIX `time -p` outputs into `dir` (created if needed):
/// file i reports a wall time of i / 100 seconds.
pub fn write_time_files(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for i in 0..count {
        let text = format!("real {}.{:02}\nuser 0.01\nsys 0.00\n", i / 100, i % 100);
        std::fs::write(dir.join(format!("time-{i:05}.txt")), text).expect("write");
    }
}

/// Every file below `dir`, relative and sorted (to compare dataset states).
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap_or(&p).display().to_string())
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}
