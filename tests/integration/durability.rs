//! A crash never leaves a corrupt dataset and never causes double counting; two writers
//! at once never corrupt it either.

use std::time::Duration;

use crate::common::*;

#[test]
fn killed_mid_ingest_then_rerun_counts_every_file_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("batch");
    write_time_files(&batch, 6000);
    let data = dir.path().join("d");
    for delay_ms in [150, 400] {
        let mut child = runlens(&data)
            .args(["ingest", batch.to_str().expect("utf-8")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        // Whatever the kill interrupted, the dataset reads and holds no file twice.
        let stored: usize = query_value(&data, "select count(*) from runs")
            .parse()
            .expect("count");
        let logged: usize = query_value(
            &data,
            "select count(*) from ingest_log where status = 'ingested'",
        )
        .parse()
        .expect("count");
        assert_eq!(
            stored, logged,
            "runs without a commit record survived a crash"
        );
    }
    let out = run(&data, &["ingest", batch.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(query_value(&data, "select count(*) from runs"), "6000");
    assert_eq!(
        query_value(&data, "select count(distinct content_hash) from ingest_log"),
        "6000"
    );
    assert_eq!(
        query_value(&data, "select count(*) from ingest_log"),
        "6000"
    );
}

#[test]
fn two_writers_at_once_store_each_file_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("batch");
    write_time_files(&batch, 2000);
    let data = dir.path().join("d");
    let spawn = || {
        runlens(&data)
            .args(["ingest", batch.to_str().expect("utf-8")])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().expect("a").success());
    assert!(b.wait().expect("b").success());
    assert_eq!(query_value(&data, "select count(*) from runs"), "2000");
    assert_eq!(
        query_value(&data, "select count(*) from ingest_log"),
        "2000"
    );
}

#[test]
fn a_transcript_that_grew_is_not_counted_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let sample = std::fs::read_to_string(
        "sample-data/sessions/claude-code/projects/-home-dev-agent-demo/3f1c2a4e-7b9d-4c1e-9a2f-5d6e7f8a9b0c.jsonl",
    )
    .expect("sample");
    let lines: Vec<&str> = sample.lines().collect();
    let transcript = dir.path().join("session.jsonl");
    // First the first 8 lines (a session still being written), then all 14.
    std::fs::write(&transcript, lines[..8].join("\n") + "\n").expect("write");
    let path = transcript.to_string_lossy().to_string();
    assert!(run(&data, &["ingest", &path]).status.success());
    let calls_before: u64 = query_value(&data, "select count(*) from llm_calls")
        .parse()
        .expect("count");
    assert!(calls_before > 0 && calls_before < 5, "{calls_before}");

    std::fs::write(&transcript, sample.clone()).expect("write");
    let out = run(&data, &["ingest", &path]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("were not stored again"),
        "{}",
        stdout(&out)
    );
    // Each response once, with the sample's hand-counted totals (sample-data/README.md).
    assert_eq!(query_value(&data, "select count(*) from llm_calls"), "5");
    assert_eq!(
        query_value(
            &data,
            "select sum(input_tokens) || '/' || sum(output_tokens) || '/' || sum(cache_read_input_tokens) from llm_calls"
        ),
        "148/432/47300"
    );
    assert_eq!(query_value(&data, "select count(*) from tool_calls"), "4");
    // The session is one row, the complete version.
    assert_eq!(
        query_rows(
            &data,
            "select message_count, tool_calls, input_tokens from sessions"
        ),
        ["9,4,148"]
    );
    // A copy of the whole transcript under another name (a resumed session) adds nothing.
    let copy = dir.path().join("resumed.jsonl");
    std::fs::write(&copy, sample + "\n").expect("write");
    assert!(
        run(&data, &["ingest", &copy.to_string_lossy()])
            .status
            .success()
    );
    assert_eq!(query_value(&data, "select count(*) from llm_calls"), "5");
    assert_eq!(query_value(&data, "select count(*) from sessions"), "1");
}

#[test]
fn compact_keeps_every_figure_and_vacuum_removes_the_replaced_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("batch");
    write_time_files(&batch, 12);
    let data = dir.path().join("d");
    // One commit per file: many small files in one partition.
    let mut files: Vec<_> = std::fs::read_dir(&batch)
        .expect("batch")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for file in &files {
        assert!(
            run(&data, &["ingest", file.to_str().expect("utf-8")])
                .status
                .success()
        );
    }
    let figures =
        "select count(*) || '/' || sum(wall_ms) || '/' || count(distinct run_id) from runs";
    let before = query_value(&data, figures);
    let run_files = || files_below(&data.join("runs")).len();
    assert_eq!(run_files(), 12);
    assert!(!data.join(".lock").exists(), "no lock file");

    let out = run(&data, &["compact", "--table", "runs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("12 files"),
        "compact says what it replaced: {}",
        stdout(&out)
    );
    assert_eq!(query_value(&data, figures), before);
    // The replaced files stay for readers until vacuum; a young file is kept.
    assert_eq!(run_files(), 13);
    let kept = run(&data, &["vacuum"]);
    assert!(
        stdout(&kept).contains("12 file(s) younger than 3600s kept"),
        "{}",
        stdout(&kept)
    );
    let out = run(&data, &["vacuum", "--older-than", "0s"]);
    assert!(
        stdout(&out).contains("12 file(s) replaced by compaction"),
        "{}",
        stdout(&out)
    );
    assert_eq!(run_files(), 1);
    assert_eq!(query_value(&data, figures), before);
    // Nothing new to ingest: the compacted inputs are still known.
    let again = run(&data, &["ingest", batch.to_str().expect("utf-8")]);
    assert!(
        stdout(&again).contains("all 12 file(s) are already in the dataset"),
        "{}",
        stdout(&again)
    );

    let bad = run(&data, &["compact", "--table", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("--table nope: no such table"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_data_url_of_an_unknown_scheme_is_refused_not_made_into_a_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_runlens"))
        .current_dir(dir.path())
        .args(["--data", "ftp://host/ds", "ingest", "."])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ftp:// is not a dataset location"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}
