//! Tests of the dataset: commits, concurrent writers, crashes, compaction, vacuum and
//! what readers see.
use super::log::CommitKind;
use super::*;
use crate::schema::{LlmCallRow, RunRow};

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
    let session = ds.writer().expect("writer");
    let commit = session.begin("c1", CommitKind::Ingest).expect("begin");
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
    assert_eq!(ds.refresh().expect("snapshot").sequence, Some(0));
    assert!(dir.path().join(log::record_key(0)).exists());
    assert_eq!(ds.table_files(Table::IngestLog).expect("files").len(), 1);
    let hashes = ds.known_hashes().expect("hashes");
    assert!(hashes.contains("aa") && !hashes.contains("bb"));
    assert!(!dir.path().join(".staging/c1").exists());
}

#[test]
fn rows_of_two_days_go_to_two_partitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let session = ds.writer().expect("writer");
    let commit = session.begin("c", CommitKind::Ingest).expect("begin");
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
        .map(|f| f.split('/').nth(1).unwrap_or_default().to_string())
        .collect();
    let files: Vec<PathBuf> = files.iter().map(|k| dir.path().join(k)).collect();
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

/// Commits one file of `runs` rows with the given run ids, as ingesting the input `hash`.
pub(super) fn write_commit(
    writer: &Writer,
    id: &str,
    run_ids: &[&str],
    hash: &str,
) -> CommitOutcome {
    let commit = writer.begin(id, CommitKind::Ingest).expect("begin");
    let runs: Vec<RunRow> = run_ids
        .iter()
        .map(|r| RunRow {
            run_id: r.to_string(),
            start_ts: Some(Timestamp(1_795_343_025_123_000)),
            source_path: Some(format!("/in/{hash}.json").into()),
            ..RunRow::default()
        })
        .collect();
    commit.stage(&runs, Timestamp(0)).expect("stage");
    let mut log = log_row(hash, "ingested");
    log.source_path = Some(format!("/in/{hash}.json").into());
    commit.finish(&[log], Timestamp(0)).expect("finish")
}

fn committed_run_ids(dir: &Path) -> Vec<String> {
    let ds = Dataset::new(dir);
    let mut ids = Vec::new();
    for key in ds.table_files(Table::Runs).expect("files") {
        index::read_columns(&ds, &key, Table::Runs, &["run_id"], &mut |b| {
            let col = b.column(0).as_any().downcast_ref::<StringArray>().cloned();
            if let Some(col) = col {
                ids.extend((0..col.len()).map(|i| col.value(i).to_string()));
            }
        })
        .expect("read");
    }
    ids.sort();
    ids
}

#[test]
fn two_writers_offering_the_same_input_store_it_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    // Both writers took their snapshot before either committed.
    let first = ds.writer().expect("writer");
    let second = Dataset::new(dir.path()).writer().expect("writer");
    let a = write_commit(&first, "a", &["a1"], "shared");
    assert_eq!(a.sequence, Some(0));
    assert!(a.stored_by_another_writer.is_empty());
    // The second commit holds the shared input and one of its own: the shared rows are
    // left out, the rest is committed after the first.
    let commit = second.begin("b", CommitKind::Ingest).expect("begin");
    let row = |id: &str, hash: &str| RunRow {
        run_id: id.into(),
        start_ts: Some(Timestamp(1_795_343_025_123_000)),
        source_path: Some(format!("/in/{hash}.json").into()),
        ..RunRow::default()
    };
    commit
        .stage(
            &[row("b-shared", "shared"), row("b-own", "own")],
            Timestamp(0),
        )
        .expect("stage");
    let logs: Vec<IngestLogRow> = ["shared", "own"]
        .iter()
        .map(|h| {
            let mut l = log_row(h, "ingested");
            l.source_path = Some(format!("/in/{h}.json").into());
            l
        })
        .collect();
    let b = commit.finish(&logs, Timestamp(0)).expect("finish");
    assert_eq!(b.sequence, Some(1));
    assert_eq!(
        b.stored_by_another_writer,
        HashSet::from(["shared".to_string()])
    );
    assert_eq!(committed_run_ids(dir.path()), ["a1", "b-own"]);
    // The rewritten files replaced the originals: nothing uncommitted is left.
    let stored: Vec<String> = ds
        .store()
        .list("runs/")
        .expect("list")
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(stored.len(), 2, "{stored:?}");
}

#[test]
fn an_input_stored_by_a_commit_read_while_appending_an_earlier_one_is_left_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = Dataset::new(dir.path()).writer().expect("writer");
    let second = Dataset::new(dir.path()).writer().expect("writer");
    // The second writer stores h2 first; the first writer, appending its commit of h1,
    // reads that record (no conflict with h1) and only then offers h2 itself.
    write_commit(&second, "b", &["run2"], "h2");
    let a1 = write_commit(&first, "a1", &["run1"], "h1");
    assert_eq!(a1.sequence, Some(1));
    assert!(a1.stored_by_another_writer.is_empty());
    let a2 = write_commit(&first, "a2", &["run2-again"], "h2");
    assert_eq!(
        a2.stored_by_another_writer,
        HashSet::from(["h2".to_string()])
    );
    assert_eq!(committed_run_ids(dir.path()), ["run1", "run2"]);
}

#[test]
fn concurrent_writer_threads_commit_every_input_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::thread::scope(|s| {
        for w in 0..6 {
            let root = dir.path().to_path_buf();
            s.spawn(move || {
                let writer = Dataset::new(root).writer().expect("writer");
                // Every input is offered by two writers.
                for i in 0..5 {
                    let input = (w / 2) * 5 + i;
                    let hash = format!("h{input}");
                    write_commit(
                        &writer,
                        &format!("w{w}-{i}"),
                        &[&format!("run{input}")],
                        &hash,
                    );
                }
            });
        }
    });
    let ids = committed_run_ids(dir.path());
    let expected: Vec<String> = {
        let mut v: Vec<String> = (0..15).map(|i| format!("run{i}")).collect();
        v.sort();
        v
    };
    assert_eq!(ids, expected);
}

#[test]
fn files_without_a_record_are_invisible_and_vacuumed_after_the_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let writer = ds.writer().expect("writer");
    write_commit(&writer, "kept", &["kept"], "k");
    // A writer killed after publishing a data file, before its record:
    let commit = writer.begin("killed", CommitKind::Ingest).expect("begin");
    let staged = commit
        .stage(&[RunRow::default()], Timestamp(0))
        .expect("stage");
    assert_eq!(staged.len(), 1);
    let orphan = dir
        .path()
        .join("runs/date=1970-01-01/part-killed-1.parquet");
    std::fs::create_dir_all(orphan.parent().expect("parent")).expect("mkdir");
    std::fs::copy(
        dir.path().join(".staging/killed/part-killed-1.parquet"),
        &orphan,
    )
    .expect("copy");
    drop(commit);
    assert_eq!(committed_run_ids(dir.path()), ["kept"]);
    let young = ds
        .vacuum(&VacuumOptions {
            grace: std::time::Duration::from_secs(3600),
            dry_run: false,
        })
        .expect("vacuum");
    assert_eq!((young.uncommitted, young.within_grace), (0, 1));
    assert!(orphan.exists());
    let now = ds
        .vacuum(&VacuumOptions {
            grace: std::time::Duration::ZERO,
            dry_run: false,
        })
        .expect("vacuum");
    assert_eq!((now.uncommitted, now.staging), (1, 1));
    assert!(!orphan.exists());
    assert!(!dir.path().join(".staging/killed").exists());
    assert_eq!(committed_run_ids(dir.path()), ["kept"]);
}

#[test]
fn compaction_swaps_a_partitions_files_for_one_and_vacuum_removes_the_old() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let writer = ds.writer().expect("writer");
    for i in 0..4 {
        write_commit(
            &writer,
            &format!("c{i}"),
            &[&format!("r{i}")],
            &format!("h{i}"),
        );
    }
    assert_eq!(ds.table_files(Table::Runs).expect("files").len(), 4);
    let summary = Dataset::new(dir.path())
        .compact(&CompactOptions {
            tables: vec![Table::Runs],
            before: None,
            target_bytes: 128 << 20,
        })
        .expect("compact");
    assert_eq!(
        (summary.files_in, summary.files_out, summary.rows),
        (4, 1, 4)
    );
    let after = Dataset::new(dir.path());
    assert_eq!(after.table_files(Table::Runs).expect("files").len(), 1);
    assert_eq!(committed_run_ids(dir.path()), ["r0", "r1", "r2", "r3"]);
    // Hashes stay known: the inputs are not ingested again.
    assert!(after.known_hashes().expect("hashes").contains("h2"));
    let vacuumed = after
        .vacuum(&VacuumOptions {
            grace: std::time::Duration::ZERO,
            dry_run: false,
        })
        .expect("vacuum");
    assert_eq!(vacuumed.replaced, 4);
    assert_eq!(ds.store().list("runs/").expect("list").len(), 1);
    assert_eq!(committed_run_ids(dir.path()), ["r0", "r1", "r2", "r3"]);
}

#[test]
fn a_dataset_from_before_the_commit_log_is_read_and_adopted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let writer = ds.writer().expect("writer");
    write_commit(&writer, "old", &["old-run"], "old-hash");
    // The same files without the commit log: the layout before it.
    std::fs::remove_dir_all(dir.path().join("_runlens")).expect("remove log");
    let legacy = Dataset::new(dir.path());
    assert_eq!(committed_run_ids(dir.path()), ["old-run"]);
    assert!(legacy.known_hashes().expect("hashes").contains("old-hash"));
    let writer = legacy.writer().expect("writer adopts");
    write_commit(&writer, "new", &["new-run"], "new-hash");
    let records = log::read_records_after(ds.store(), None).expect("records");
    assert_eq!(records[0].1.kind, CommitKind::Adopt);
    assert_eq!(committed_run_ids(dir.path()), ["new-run", "old-run"]);
}

/// A commit in flight on a new dataset (files published, record not yet created) is not
/// a dataset from before the commit log: another writer starting then adopts nothing.
#[test]
fn a_first_commit_in_flight_is_not_adopted_by_another_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let first = ds.writer().expect("writer");
    assert!(log::log_marked(ds.store()).expect("marker"));
    write_commit(&first, "c1", &["run1"], "h1");
    // Its record not yet created: the files are there, published, the log empty.
    ds.store()
        .delete(&log::record_key(0))
        .expect("delete record");
    let second = Dataset::new(dir.path()).writer().expect("second writer");
    assert!(second.known_hashes().is_empty());
    assert!(
        log::read_records_after(ds.store(), None)
            .expect("records")
            .is_empty(),
        "nothing adopted"
    );
    assert!(committed_run_ids(dir.path()).is_empty());
}

#[test]
fn part_names_carry_their_commit() {
    assert_eq!(
        commit_of("x/part-20261122T1000Z-42-c3-7.parquet").as_deref(),
        Some("20261122T1000Z-42-c3")
    );
    assert_eq!(commit_of("x/other.parquet"), None);
}

#[test]
fn a_files_labels_are_recorded_when_all_its_rows_share_them_and_survive_compaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let writer = ds.writer().expect("writer");
    let labelled = |id: &str, pairs: &[(&str, &str)]| RunRow {
        run_id: id.into(),
        start_ts: Some(Timestamp(1_795_343_025_123_000)),
        labels: crate::schema::Labels(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..RunRow::default()
    };
    let commit_rows = |id: &str, rows: &[RunRow]| {
        let commit = writer.begin(id, CommitKind::Ingest).expect("begin");
        let mut stager = commit.stager();
        // Two appends to the same open file: what the file shares is both appends'.
        let (first, rest) = rows.split_at(1);
        stager.append(first, Timestamp(0)).expect("append");
        stager.append(rest, Timestamp(0)).expect("append");
        stager.finish().expect("finish stager");
        commit
            .finish(&[log_row(id, "ingested")], Timestamp(0))
            .expect("finish");
    };
    let vendor = [("vendor", "ollama"), ("set", "a")];
    commit_rows("same", &[labelled("r1", &vendor), labelled("r2", &vendor)]);
    commit_rows(
        "mixed",
        &[
            labelled("r3", &vendor),
            labelled("r4", &[("vendor", "openai")]),
        ],
    );
    commit_rows("same2", &[labelled("r5", &vendor), labelled("r6", &vendor)]);
    let labels_of = |ds: &Dataset| -> Vec<Option<Vec<(String, String)>>> {
        ds.refresh()
            .expect("snapshot")
            .table_files(Table::Runs)
            .iter()
            .map(|f| f.file.labels.clone().map(|l| l.into_iter().collect()))
            .collect()
    };
    let expected: Vec<(String, String)> = [("set", "a"), ("vendor", "ollama")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // Files sort by key: part-mixed-*, part-same-*, part-same2-*.
    assert_eq!(
        labels_of(&ds),
        [None, Some(expected.clone()), Some(expected.clone())]
    );
    // Compacting the two files that share their labels keeps them; with the mixed file,
    // nothing is known.
    let compact = |ds: &Dataset| {
        ds.compact(&CompactOptions {
            tables: vec![Table::Runs],
            before: None,
            target_bytes: 128 << 20,
        })
        .expect("compact")
    };
    assert_eq!(compact(&Dataset::new(dir.path())).files_out, 1);
    assert_eq!(labels_of(&Dataset::new(dir.path())), [None]);
    let dir2 = tempfile::tempdir().expect("tempdir");
    let ds2 = Dataset::new(dir2.path());
    let writer2 = ds2.writer().expect("writer");
    for id in ["a", "b"] {
        let commit = writer2.begin(id, CommitKind::Ingest).expect("begin");
        commit
            .stage(&[labelled(id, &vendor)], Timestamp(0))
            .expect("stage");
        commit
            .finish(&[log_row(id, "ingested")], Timestamp(0))
            .expect("finish");
    }
    assert_eq!(compact(&Dataset::new(dir2.path())).files_out, 1);
    assert_eq!(labels_of(&Dataset::new(dir2.path())), [Some(expected)]);
}

#[test]
fn rows_of_interleaved_days_stay_one_file_per_day_with_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let writer = ds.writer().expect("writer");
    let commit = writer.begin("c", CommitKind::Ingest).expect("begin");
    let mut stager = commit.stager();
    // 2026-11-22 and 2026-11-23 alternating, in 40 appends of 16 rows of 64 KiB each:
    // 40 MiB in all, more than the stager lets wait, so row groups are written early.
    let day = |i: usize| 1_795_343_025_000_000 + (i % 2) as i64 * 86_400_000_000;
    let mut expected = [Vec::new(), Vec::new()];
    for batch in 0..40 {
        let rows: Vec<RunRow> = (0..16)
            .map(|k| {
                let i = batch * 16 + k;
                expected[i % 2].push(format!("r{i:04}"));
                RunRow {
                    run_id: format!("r{i:04}"),
                    start_ts: Some(Timestamp(day(i))),
                    command: Some(format!("{i}{}", "x".repeat(64 << 10))),
                    ..RunRow::default()
                }
            })
            .collect();
        stager.append(&rows, Timestamp(0)).expect("append");
    }
    stager.finish().expect("finish stager");
    commit
        .finish(&[log_row("h", "ingested")], Timestamp(0))
        .expect("finish");
    let files = ds.table_files(Table::Runs).expect("files");
    assert_eq!(files.len(), 2, "one file per day: {files:?}");
    for (key, expected) in files.iter().zip(&expected) {
        let file = File::open(dir.path().join(key)).expect("open");
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
        assert!(
            builder.metadata().num_row_groups() > 1,
            "the waiting rows were written before the end"
        );
        let mut ids = Vec::new();
        for batch in builder.build().expect("reader") {
            let batch = batch.expect("batch");
            let col = batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("run_id")
                .clone();
            ids.extend((0..col.len()).map(|i| col.value(i).to_string()));
        }
        assert_eq!(&ids, expected);
    }
}

#[test]
fn shared_labels_are_read_back_from_stored_rows() {
    use super::commit::SharedLabels;
    use crate::schema::{Labels, TableRow};
    let run = |pairs: &[(&str, &str)]| RunRow {
        labels: Labels(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..RunRow::default()
    };
    let shared = |rows: &[RunRow]| SharedLabels::of_batch(&RunRow::to_batch(rows).expect("batch"));
    let a = [("set", "a"), ("vendor", "x")];
    assert_eq!(shared(&[run(&a), run(&a)]), SharedLabels::of(&[run(&a)]));
    assert!(matches!(shared(&[run(&a), run(&a)]), SharedLabels::Same(l) if l.0.len() == 2));
    assert_eq!(
        shared(&[run(&a), run(&[("set", "a")])]),
        SharedLabels::Mixed
    );
    assert_eq!(shared(&[run(&a), run(&[])]), SharedLabels::Mixed);
    assert!(matches!(shared(&[run(&[]), run(&[])]), SharedLabels::Same(l) if l.0.is_empty()));
    assert_eq!(shared(&[]), SharedLabels::NoRows);
}

#[test]
fn row_ids_line_numbers_and_instants_are_delta_encoded_and_read_back_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let session = ds.writer().expect("writer");
    let commit = session.begin("c", CommitKind::Ingest).expect("begin");
    // 2026-11-22T00:00:00Z, then one call every 1.5 s (one day), with a gap in the lines.
    let day_start = 1_795_305_600_000_000_i64;
    let calls: Vec<LlmCallRow> = (0..5_000_i64)
        .map(|n| LlmCallRow {
            call_id: format!("0123456789abcdef-l{}", n + 2 + n / 1000),
            source_line: Some(n + 2 + n / 1000),
            start_ts: Some(Timestamp(day_start + n * 1_500_000)),
            ttft_ms: Some(100.0 + (n % 7) as f64 * 0.5),
            ..LlmCallRow::default()
        })
        .collect();
    commit.stage(&calls, Timestamp(0)).expect("stage");
    commit
        .finish(&[log_row("h", "ingested")], Timestamp(0))
        .expect("finish");
    let files = ds.table_files(Table::LlmCalls).expect("files");
    assert_eq!(files.len(), 1, "{files:?}");
    let file = File::open(dir.path().join(&files[0])).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
    let encodings = |name: &str| -> Vec<parquet::basic::Encoding> {
        let group = builder.metadata().row_group(0);
        let chunk = group
            .columns()
            .iter()
            .find(|c| c.column_path().string() == name)
            .expect("column");
        chunk.encodings().collect()
    };
    use parquet::basic::Encoding::{DELTA_BINARY_PACKED, DELTA_BYTE_ARRAY, PLAIN};
    assert!(encodings("call_id").contains(&DELTA_BYTE_ARRAY));
    assert!(encodings("source_line").contains(&DELTA_BINARY_PACKED));
    assert!(encodings("start_ts").contains(&DELTA_BINARY_PACKED));
    assert!(encodings("ttft_ms").contains(&PLAIN), "floats stay plain");

    let batches: Vec<RecordBatch> = builder
        .build()
        .expect("reader")
        .collect::<std::result::Result<_, _>>()
        .expect("batches");
    let column = |batch: &RecordBatch, name: &str| -> arrow_array::ArrayRef {
        batch.column_by_name(name).expect("column").clone()
    };
    let mut read = Vec::new();
    for batch in &batches {
        let ids = column(batch, "call_id");
        let ids = ids.as_any().downcast_ref::<StringArray>().expect("ids");
        let lines = column(batch, "source_line");
        let lines = lines.as_any().downcast_ref::<Int64Array>().expect("lines");
        let starts = column(batch, "start_ts");
        let starts = starts
            .as_any()
            .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
            .expect("instants");
        for i in 0..batch.num_rows() {
            read.push((ids.value(i).to_string(), lines.value(i), starts.value(i)));
        }
    }
    let written: Vec<(String, i64, i64)> = calls
        .iter()
        .map(|c| {
            let start = c.start_ts.map(|t| t.0).unwrap_or_default();
            (c.call_id.clone(), c.source_line.unwrap_or_default(), start)
        })
        .collect();
    assert_eq!(read, written);
}

#[test]
fn stored_transcript_ids_of_every_file_are_recognised_and_only_those() {
    use crate::schema::{TableRows, ToolCallRow};
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    let call = |id: &str, source: &str, day: i64| LlmCallRow {
        call_id: id.into(),
        source: source.into(),
        start_ts: Some(Timestamp(1_795_305_600_000_000 + day * 86_400_000_000)),
        ..LlmCallRow::default()
    };
    let tool = |id: &str, session: Option<&str>| ToolCallRow {
        tool_call_id: id.into(),
        session_id: session.map(str::to_string),
        ..ToolCallRow::default()
    };
    // Two commits, the first over two days: three llm_calls files and two tool_calls files.
    let session = ds.writer().expect("writer");
    let first = session.begin("c1", CommitKind::Ingest).expect("begin");
    first
        .stage(
            &[
                call("msg_a:req_a", "transcript", 0),
                call("msg_b:req_b", "transcript", 1),
                call("msg_p", "proxy", 1),
            ],
            Timestamp(0),
        )
        .expect("stage");
    first
        .stage(
            &[tool("toolu_a", Some("s1")), tool("t-1", None)],
            Timestamp(0),
        )
        .expect("stage");
    first
        .finish(&[log_row("h1", "ingested")], Timestamp(0))
        .expect("finish");
    let second = session.begin("c2", CommitKind::Ingest).expect("begin");
    second
        .stage(&[call("msg_c:req_c", "transcript", 2)], Timestamp(0))
        .expect("stage");
    second
        .stage(&[tool("toolu_c", Some("s2"))], Timestamp(0))
        .expect("stage");
    second
        .finish(&[log_row("h2", "ingested")], Timestamp(0))
        .expect("finish");

    let mut ids = ds.stored_transcript_ids().expect("ids");
    assert_eq!((ids.calls.len(), ids.tool_calls.len()), (3, 2));
    let mut rows = TableRows {
        llm_calls: vec![
            call("msg_a:req_a", "transcript", 0), // stored: dropped
            call("msg_c:req_c", "transcript", 2), // stored by the second commit: dropped
            call("msg_d:req_d", "transcript", 3), // new: kept
            call("msg_d:req_d", "transcript", 3), // new, but its copy came first: dropped
            call("msg_p", "proxy", 1),            // not a transcript row: kept
            call("msg_p", "transcript", 1),       // a proxy call's id is not a transcript's: kept
        ],
        tool_calls: vec![
            tool("toolu_a", Some("s1")), // stored: dropped
            tool("toolu_c", Some("s9")), // stored (ids are unique across sessions): dropped
            tool("toolu_e", Some("s1")), // new: kept
            tool("t-1", None),           // outside a session: kept
        ],
        ..TableRows::default()
    };
    assert_eq!(ids.drop_seen(&mut rows), 5);
    let kept: Vec<(&str, &str)> = rows
        .llm_calls
        .iter()
        .map(|c| (c.call_id.as_str(), c.source.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            ("msg_d:req_d", "transcript"),
            ("msg_p", "proxy"),
            ("msg_p", "transcript")
        ]
    );
    let kept: Vec<&str> = rows
        .tool_calls
        .iter()
        .map(|t| t.tool_call_id.as_str())
        .collect();
    assert_eq!(kept, ["toolu_e", "t-1"]);
}

#[test]
fn a_files_sources_are_recorded_and_only_files_that_may_hold_transcripts_are_read_for_ids() {
    let call = |id: &str, source: &str, day: i64| LlmCallRow {
        call_id: id.into(),
        source: source.into(),
        start_ts: Some(Timestamp(1_795_305_600_000_000 + day * 86_400_000_000)),
        ..LlmCallRow::default()
    };
    let commit_calls = |ds: &Dataset, id: &str, calls: &[LlmCallRow]| {
        let writer = ds.writer().expect("writer");
        let commit = writer.begin(id, CommitKind::Ingest).expect("begin");
        commit.stage(calls, Timestamp(0)).expect("stage");
        commit
            .finish(&[log_row(id, "ingested")], Timestamp(0))
            .expect("finish");
    };
    let sources_of = |ds: &Dataset| -> Vec<(String, Option<Vec<String>>)> {
        ds.refresh()
            .expect("snapshot")
            .table_files(Table::LlmCalls)
            .iter()
            .map(|f| {
                let sources = f.file.sources.clone().map(|s| s.into_iter().collect());
                (f.file.path.clone(), sources)
            })
            .collect()
    };
    let damage = |dir: &Path, key: &str| {
        fs::write(dir.join(key), b"not a parquet file").expect("damage");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    commit_calls(&ds, "a-latency", &[call("lat-1", "latency_csv", 0)]);
    commit_calls(
        &ds,
        "b-mixed",
        &[
            call("msg_a:req_a", "transcript", 1),
            call("p-1", "proxy", 1),
        ],
    );
    let files = sources_of(&ds);
    let recorded: Vec<Option<Vec<String>>> = files.iter().map(|(_, s)| s.clone()).collect();
    assert_eq!(
        recorded,
        [
            Some(vec!["latency_csv".to_string()]),
            Some(vec!["proxy".to_string(), "transcript".to_string()])
        ]
    );
    // The latency CSV's file is never opened: damaged, the ids are still read.
    damage(dir.path(), &files[0].0);
    let ids = Dataset::new(dir.path())
        .stored_transcript_ids()
        .expect("the file without transcripts is not read");
    assert_eq!(ids.calls.len(), 1);
    // The file that may hold transcript calls is read: damaged, it is an error.
    damage(dir.path(), &files[1].0);
    assert!(Dataset::new(dir.path()).stored_transcript_ids().is_err());

    // A record without `sources` (an older writer) may hold anything: its file is read.
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    commit_calls(&ds, "old", &[call("lat-1", "latency_csv", 0)]);
    let records = dir.path().join("_runlens/commits");
    for entry in fs::read_dir(&records).expect("records") {
        let path = entry.expect("entry").path();
        let mut record: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        for added in record["add"].as_array_mut().expect("add") {
            added.as_object_mut().expect("object").remove("sources");
        }
        fs::write(&path, serde_json::to_vec(&record).expect("json")).expect("write");
    }
    let files = sources_of(&Dataset::new(dir.path()));
    assert_eq!(files[0].1, None);
    damage(dir.path(), &files[0].0);
    assert!(Dataset::new(dir.path()).stored_transcript_ids().is_err());

    // A compaction records the sources of every row it merges.
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = Dataset::new(dir.path());
    commit_calls(&ds, "a", &[call("lat-1", "latency_csv", 0)]);
    commit_calls(&ds, "b", &[call("msg_a:req_a", "transcript", 0)]);
    let summary = Dataset::new(dir.path())
        .compact(&CompactOptions {
            tables: vec![Table::LlmCalls],
            before: None,
            target_bytes: 128 << 20,
        })
        .expect("compact");
    assert_eq!(summary.files_out, 1);
    let files = sources_of(&Dataset::new(dir.path()));
    assert_eq!(
        files[0].1,
        Some(vec!["latency_csv".to_string(), "transcript".to_string()])
    );
}
