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
