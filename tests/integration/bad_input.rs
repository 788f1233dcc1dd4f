//! Bad input: every kind of broken file gets a one-line reason naming the file (and line),
//! the rest of the batch is ingested, nothing panics, no partial Parquet file is left.

use std::path::Path;

use crate::common::*;

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), bytes).expect("write fixture");
}

/// `(status, error, error_line)` of the ingest_log row of the file called `name`.
fn log_entry(data: &Path, name: &str) -> String {
    query_value(
        data,
        &format!(
            "select status, error, error_line from ingest_log where source_path like '%/{name}'"
        ),
    )
}

#[test]
fn a_batch_of_broken_files_is_accounted_for_file_by_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("batch");
    std::fs::create_dir(&batch).expect("mkdir");
    let data = dir.path().join("d");
    let hyperfine =
        std::fs::read(repo_root().join("sample-data/hyperfine/sleep.json")).expect("sample");

    write(&batch, "good.json", &hyperfine);
    write(&batch, "empty.txt", "");
    write(&batch, "truncated.json", &hyperfine[..hyperfine.len() / 2]);
    write(
        &batch,
        "no-model.csv",
        "timestamp,first_token_ms,tokens_per_s\n2026-11-22T10:00:00Z,120,50\n",
    );
    write(
        &batch,
        "non-numeric.csv",
        "model,first_token_ms\nllama3.2:3b,120.5\nllama3.2:3b,abc\nllama3.2:3b,130\n",
    );
    let gnu = std::fs::read_to_string(repo_root().join("sample-data/time/gnu-verbose.txt"))
        .expect("sample");
    let cut: String = gnu.lines().take(6).map(|l| format!("{l}\n")).collect();
    write(&batch, "time-cut.txt", cut);
    write(
        &batch,
        "latin1.log",
        b"::runlens phase caf\xe9\nPhase 2: r\xe9sum\xe9\n".as_slice(),
    );
    write(
        &batch,
        "bad-utf8.json",
        b"{\"results\": [{\"command\": \"caf\xe9\", \"mean\": 1}]}".as_slice(),
    );
    write(
        &batch,
        "wrong-types.json",
        r#"{"suite_name": "s", "benchmark_results": [{"name": "ok", "iterations": 3},
            {"name": "bad", "iterations": "three"}]}"#,
    );
    write(&batch, "binary.bin", [0u8, 159, 146, 150, 0, 1]);

    let out = run(&data, &["ingest", batch.to_str().expect("utf-8 path")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));

    // The good file and the good parts of partial files are in.
    assert_eq!(
        query_value(
            &data,
            "select count(*) from bench_results where source_format = 'hyperfine'"
        ),
        "2"
    );
    assert_eq!(query_value(&data, "select count(*) from llm_calls"), "2");
    assert_eq!(query_value(&data, "select count(*) from ingest_log"), "10");

    // Each problem: one line naming the file (and the line where there is one).
    let expectations = [
        ("empty.txt", "rejected,empty file,"),
        (
            "truncated.json",
            "rejected,JSON ends early (truncated file?),28",
        ),
        (
            "no-model.csv",
            "rejected,\"missing column: model (have: timestamp, first_token_ms, tokens_per_s)\",1",
        ),
        (
            "non-numeric.csv",
            "partial,column first_token_ms: 'abc' is not a number,3",
        ),
        (
            "time-cut.txt",
            "partial,gnu-verbose time report cut off after this line; figures after it are missing,6",
        ),
        (
            "latin1.log",
            "partial,invalid UTF-8 replaced by U+FFFD (first occurrence),1",
        ),
        (
            "wrong-types.json",
            "partial,\"benchmark_results[1].iterations: invalid type: string \"\"three\"\", expected i64\",2",
        ),
        (
            "binary.bin",
            "rejected,binary file (contains NUL bytes): not a text format runlens reads,",
        ),
    ];
    for (name, expected) in expectations {
        let entry = log_entry(&data, name);
        assert_eq!(entry, expected, "ingest_log row of {name}");
        assert!(text.contains(name), "summary does not name {name}:\n{text}");
    }
    let truncated = log_entry(&data, "truncated.json");
    assert!(
        truncated.starts_with("rejected,JSON ends early"),
        "{truncated}"
    );
    assert!(log_entry(&data, "bad-utf8.json").starts_with("rejected,invalid JSON"));
    assert!(
        text.contains("non-numeric.csv:3: column first_token_ms: 'abc' is not a number"),
        "{text}"
    );

    // No half-written or staged file is left behind; every Parquet file reads.
    assert!(
        !files_below(&data)
            .iter()
            .any(|f| f.starts_with(".staging/"))
    );
    for table in ["runs", "phases", "llm_calls", "bench_results", "ingest_log"] {
        query_value(&data, &format!("select count(*) from {table}"));
    }

    // Re-offering the batch retries only what was rejected; stored files are skipped.
    let again = run(&data, &["ingest", batch.to_str().expect("utf-8 path")]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        query_value(
            &data,
            "select count(*) from bench_results where source_format = 'hyperfine'"
        ),
        "2"
    );
    // 5 rejected files (empty, truncated, no-model, bad-utf8, binary), logged per attempt.
    assert_eq!(
        query_value(
            &data,
            "select count(*) from ingest_log where status = 'rejected'"
        ),
        "10"
    );
}

#[test]
fn a_200_mb_line_is_skipped_with_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let path = dir.path().join("huge-line.log");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(file, "2026-11-22T10:00:00Z ::runlens phase before").expect("write");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..200 {
            file.write_all(&chunk).expect("write");
        }
        writeln!(file).expect("write");
        writeln!(file, "2026-11-22T10:00:03Z ::runlens phase after").expect("write");
        writeln!(file, "2026-11-22T10:00:04Z ::runlens end").expect("write");
    }
    let out = run(&data, &["ingest", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("huge-line.log:2: line of 209715200 bytes skipped (limit 1048576)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        query_rows(
            &data,
            "select phase, duration_ms from phases order by phase_index"
        ),
        ["before,3000.0", "after,1000.0"]
    );
}

#[test]
fn ten_thousand_small_files_in_one_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("many");
    write_time_files(&batch, 10_000);
    let data = dir.path().join("d");
    let out = run(&data, &["ingest", batch.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(query_value(&data, "select count(*) from runs"), "10000");
    assert_eq!(
        query_value(&data, "select count(distinct content_hash) from ingest_log"),
        "10000"
    );
    // 0.00 + 0.01 + ... + 99.99 s = (9999 * 10000 / 2) / 100 s = 499950 s.
    assert_eq!(
        query_value(
            &data,
            "select cast(round(sum(wall_ms)) as bigint) from runs"
        ),
        "499950000"
    );
}

#[test]
fn a_secret_in_a_bad_cell_is_not_echoed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let input = dir.path().join("leaky.csv");
    let key = "sk-proj-abcdefghijklmnop1234";
    write(
        dir.path(),
        "leaky.csv",
        format!("model,first_token_ms\nm,{key}\nm,12\n"),
    );
    let out = run(&data, &["ingest", input.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout(&out).contains(key), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("'[REDACTED]' is not a number"),
        "{}",
        stdout(&out)
    );
    assert!(!query_value(&data, "select error from ingest_log").contains(key));

    // A file-level rejection quoting the value (serde's "invalid type: string ...").
    write(
        dir.path(),
        "leaky.json",
        format!(
            r#"{{"suite_name": "s", "benchmark_results": [{{"name": "x", "iterations": "{key}"}}]}}"#
        ),
    );
    let out = run(
        &data,
        &[
            "ingest",
            dir.path().join("leaky.json").to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout(&out).contains(key), "{}", stdout(&out));
}

#[test]
fn a_damaged_dataset_file_is_named_by_every_reading_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let ingested = run(
        &data,
        &[
            "ingest",
            repo_root()
                .join("sample-data/latency")
                .to_str()
                .expect("utf-8 path"),
        ],
    );
    assert_eq!(ingested.status.code(), Some(0), "{}", stderr(&ingested));
    let calls = files_below(&data.join("llm_calls"));
    let damaged = calls
        .iter()
        .find(|f| f.ends_with(".parquet"))
        .expect("a calls file");
    let path = data.join("llm_calls").join(damaged);
    let bytes = std::fs::read(&path).expect("reads");
    std::fs::write(&path, &bytes[..bytes.len() - 10]).expect("truncates");

    for args in [
        &["analyze"][..],
        &["query", "select count(*) from llm_calls"],
        &["report", "--format", "md"],
    ] {
        let out = run(&data, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("1 damaged file(s)"), "{args:?}: {err}");
        assert!(
            err.contains(&format!("llm_calls/{damaged}: ")) && err.contains("truncated"),
            "{args:?}: {err}"
        );
    }
    // A query that is wrong is still the caller's mistake, told as such.
    let wrong = run(&data, &["query", "select nothing from nowhere"]);
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
}
