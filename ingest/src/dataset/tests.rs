//! Tests of the dataset: commits, crashes, recovery and what readers see.
use super::commit::publish;
use super::*;
use crate::schema::RunRow;

fn log_row(hash: &str, status: &str) -> IngestLogRow {
    IngestLogRow {
        content_hash: Some(hash.into()),
        status: status.into(),
        ingest_id: "i".into(),
        ..IngestLogRow::default()
    }
}

#[test]
fn commit_publishes_data_then_log_and_hashes_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let session = ds.lock(&|_| {}).expect("lock");
    let commit = session.begin("c1").expect("begin");
    let run = RunRow {
        run_id: "r".into(),
        start_ts: Some(Timestamp(1_795_343_025_123_000)),
        ..RunRow::default()
    };
    commit.stage(&[run], Timestamp(0)).expect("stage");
    commit
        .finish(
            &[log_row("aa", "ingested"), log_row("bb", "rejected")],
            Timestamp(0),
        )
        .expect("finish");
    assert!(
        dir.path()
            .join("runs/date=2026-11-22/part-c1-1.parquet")
            .exists()
    );
    assert_eq!(ds.table_files(Table::IngestLog).expect("files").len(), 1);
    let hashes = ds.known_hashes().expect("hashes");
    assert!(hashes.contains("aa") && !hashes.contains("bb"));
    assert!(!dir.path().join(".staging/c1").exists());
}

#[test]
fn rows_of_two_days_go_to_two_partitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let session = ds.lock(&|_| {}).expect("lock");
    let commit = session.begin("c").expect("begin");
    let run = |id: &str, ts: Option<i64>| RunRow {
        run_id: id.into(),
        start_ts: ts.map(Timestamp),
        ..RunRow::default()
    };
    // 2026-11-22T23:59:59Z, 2026-11-23T00:00:00Z, no timestamp (fallback: 1970-01-01).
    let rows = [
        run("late", Some(1_795_391_999_000_000)),
        run("next", Some(1_795_392_000_000_000)),
        run("none", None),
        run("late2", Some(1_795_391_999_500_000)),
    ];
    commit.stage(&rows, Timestamp(0)).expect("stage");
    commit
        .finish(&[log_row("h", "ingested")], Timestamp(0))
        .expect("finish");
    let files = ds.table_files(Table::Runs).expect("files");
    let days: Vec<String> = files
        .iter()
        .map(|f| {
            f.parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        days,
        ["date=1970-01-01", "date=2026-11-22", "date=2026-11-23"]
    );
    let ids_in = |path: &Path| -> Vec<String> {
        let file = File::open(path).expect("open");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet")
            .build()
            .expect("reader");
        reader
            .flat_map(|b| {
                let b = b.expect("batch");
                let ids = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .expect("run_id")
                    .clone();
                (0..ids.len())
                    .map(move |i| ids.value(i).to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(ids_in(&files[1]), ["late", "late2"]);
    assert_eq!(ids_in(&files[2]), ["next"]);
}

#[test]
fn recovery_removes_uncommitted_files_and_staging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let session = ds.lock(&|_| {}).expect("lock");
    // A crash after publishing a data file but before the commit record:
    let commit = session.begin("crashed").expect("begin");
    let staged = commit
        .stage(&[RunRow::default()], Timestamp(0))
        .expect("stage");
    publish(&staged[0]).expect("publish");
    drop(commit);
    let recovery = session.recover().expect("recover");
    assert_eq!(recovery.orphan_files, 1);
    assert!(recovery.staging_removed);
    assert!(ds.table_files(Table::Runs).expect("files").is_empty());
}

#[test]
fn a_second_writer_waits_for_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let first = ds.lock(&|_| {}).expect("lock");
    let waited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handle = {
        let ds = ds.clone();
        let waited = waited.clone();
        std::thread::spawn(move || {
            let _second = ds
                .lock(&|_| waited.store(true, Ordering::SeqCst))
                .expect("second lock");
        })
    };
    while !waited.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    drop(first);
    handle
        .join()
        .expect("second writer finishes once the first is gone");
}

#[test]
fn part_names_carry_their_commit() {
    assert_eq!(
        commit_of(Path::new("x/part-20261122T1000Z-42-c3-7.parquet")).as_deref(),
        Some("20261122T1000Z-42-c3")
    );
    assert_eq!(commit_of(Path::new("x/other.parquet")), None);
}
