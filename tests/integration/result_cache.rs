//! `sessions` answers stored per dataset state: printed again only for the same question
//! of the same committed files, computed again after any commit that changed them.

use std::path::{Path, PathBuf};

use crate::common::{run, stderr, stdout};

const ONE_TRANSCRIPT: &str = "sample-data/sessions/claude-code";
const EVERY_SAMPLE: &str = "sample-data/sessions";

/// The stored answers of the dataset `data`.
fn entries(data: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(data.join("_runlens/results")) {
        Ok(read) => read
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Replaces the standard output of every stored answer by `text`: a later run printing
/// `text` read the stored answer, one printing anything else computed its own.
fn tamper(data: &Path, text: &str) {
    for path in entries(data) {
        let raw = std::fs::read_to_string(&path).expect("entry");
        let mut entry: serde_json::Value = serde_json::from_str(&raw).expect("json");
        entry["stdout"] = serde_json::Value::String(text.into());
        std::fs::write(&path, entry.to_string()).expect("write");
    }
}

/// `sessions ARGS` with and without the stored answers: (stdout, stderr) of each.
fn daily(data: &Path, extra: &[&str]) -> ((String, String), (String, String)) {
    let mut args = vec!["sessions", "--daily", "--format", "csv"];
    args.extend(extra);
    let cached = run(data, &args);
    assert!(cached.status.success(), "{}", stderr(&cached));
    args.push("--no-cache");
    let computed = run(data, &args);
    assert!(computed.status.success(), "{}", stderr(&computed));
    (
        (stdout(&cached), stderr(&cached)),
        (stdout(&computed), stderr(&computed)),
    )
}

#[test]
fn a_stored_answer_is_printed_until_a_commit_changes_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(run(&data, &["ingest", ONE_TRANSCRIPT]).status.success());

    // First time: computed and stored; `--no-cache` stores nothing more.
    let (cached, computed) = daily(&data, &[]);
    assert_eq!(cached, computed);
    assert!(cached.0.starts_with("day,"), "{}", cached.0);
    assert_eq!(entries(&data).len(), 1);
    let first = cached.0;

    // Again: the stored answer (the tampered text proves it was read).
    tamper(&data, "stored\n");
    let (cached, computed) = daily(&data, &[]);
    assert_eq!(cached.0, "stored\n");
    assert_eq!(computed.0, first);

    // An ingest that finds nothing new commits nothing: still the stored answer.
    let out = run(&data, &["ingest", ONE_TRANSCRIPT]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(daily(&data, &[]).0.0, "stored\n");

    // New files: computed again, and different from the first answer.
    assert!(run(&data, &["ingest", EVERY_SAMPLE]).status.success());
    let (cached, computed) = daily(&data, &[]);
    assert_eq!(cached, computed);
    assert_ne!(cached.0, first);

    // A compaction replaces files by others with the same rows: a new state, the same rows.
    tamper(&data, "stored\n");
    let out = run(&data, &["compact"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (cached, computed) = daily(&data, &[]);
    assert_eq!(cached, computed);

    // Another question of the same files is answered on its own.
    let out = run(&data, &["sessions", "--by", "model", "--format", "csv"]);
    assert!(stdout(&out).starts_with("model,"), "{}", stdout(&out));
}

#[test]
fn a_price_file_edited_is_a_new_question_and_warnings_are_repeated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(run(&data, &["ingest", ONE_TRANSCRIPT]).status.success());
    // A table that knows none of the transcript's models: cost empty, a warning.
    let prices = dir.path().join("prices.toml");
    std::fs::write(
        &prices,
        "[[model]]\nname = \"m\"\ninput = 1.0\noutput = 2.0\n",
    )
    .expect("write");
    let prices = prices.to_string_lossy().to_string();
    let (cached, computed) = daily(&data, &["--prices", &prices]);
    assert_eq!(cached, computed);
    assert!(cached.1.contains("warning: no price for"), "{}", cached.1);
    // Stored with its warning, which is printed again.
    let (again, _) = daily(&data, &["--prices", &prices]);
    assert_eq!(again, cached);
    tamper(&data, "stored\n");
    assert_eq!(daily(&data, &["--prices", &prices]).0.0, "stored\n");

    // The same path with other content (every model at $1 a million tokens): computed.
    std::fs::write(
        &prices,
        "[[model]]\nname = \"claude-sonnet-4-5-20250929\"\ninput = 1.0\noutput = 1.0\n\
         [[model]]\nname = \"claude-haiku-4-5-20251001\"\ninput = 1.0\noutput = 1.0\n",
    )
    .expect("write");
    let (cached, computed) = daily(&data, &["--prices", &prices]);
    assert_eq!(cached, computed);
    assert_ne!(cached.0, "stored\n");
}

#[test]
fn a_damaged_answer_is_computed_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(run(&data, &["ingest", ONE_TRANSCRIPT]).status.success());
    let (first, _) = daily(&data, &[]);
    for path in entries(&data) {
        std::fs::write(&path, b"{\"format\": \"runlens-res").expect("damage");
    }
    let (cached, computed) = daily(&data, &[]);
    assert_eq!(cached, first);
    assert_eq!(computed, first);
}
