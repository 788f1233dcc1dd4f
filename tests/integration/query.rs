//! `runlens query`: output formats, empty datasets, closed pipes.

use std::io::Read;
use std::process::Stdio;

use crate::common::*;

#[test]
fn empty_dataset_queries_return_zero_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("never-written");
    assert_eq!(query_value(&data, "select count(*) as n from runs"), "0");
    assert_eq!(
        query_rows(&data, "select run_id, labels from runs"),
        Vec::<String>::new()
    );
}

#[test]
fn json_output_is_an_array_of_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(
        run(&data, &["ingest", "sample-data/bench"])
            .status
            .success()
    );
    let out = run(
        &data,
        &[
            "query",
            "--format",
            "json",
            "select name, p95_ms from bench_results order by name",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(rows[0]["name"], "route_request");
    assert_eq!(rows[0]["p95_ms"], 0.688);
    assert_eq!(rows.as_array().map(Vec::len), Some(3));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    // Enough rows that the output overflows the pipe buffer and the write must fail.
    let mut csv = String::from("model,first_token_ms\n");
    for i in 0..20_000 {
        csv.push_str(&format!("model-{i},{i}.5\n"));
    }
    let input = dir.path().join("big.csv");
    std::fs::write(&input, csv).expect("write");
    assert!(
        run(&data, &["ingest", input.to_str().expect("utf-8")])
            .status
            .success()
    );
    let mut child = runlens(&data)
        .args(["query", "select * from llm_calls"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read one byte, then hang up, like `| head -c1`.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut byte = [0u8; 1];
    stdout.read_exact(&mut byte).expect("some output");
    drop(stdout);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

/// Every runlens query of docs/sql-cookbook.md (the blocks before the DuckDB section) runs
/// on a dataset built from the samples.
#[test]
fn the_sql_cookbook_queries_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let ingest = run(&data, &["ingest", "sample-data"]);
    assert!(ingest.status.code().is_some_and(|c| c <= 1));
    let cookbook =
        std::fs::read_to_string(repo_root().join("docs/sql-cookbook.md")).expect("cookbook");
    let ours = cookbook
        .split("## The same in DuckDB")
        .next()
        .expect("runlens part");
    let queries: Vec<&str> = ours
        .split("```sql")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .collect();
    assert!(queries.len() >= 8, "found {} queries", queries.len());
    for sql in queries {
        let output = run(&data, &["query", sql.trim()]);
        assert!(output.status.success(), "{sql}\n{}", stderr(&output));
    }
}

/// Statements over a label recorded per commit (each value its own scan of the files): a
/// `count(*)` with a filter on the label failed in polars' plan ("casting from UInt32 to
/// UInt128 not supported"), and the streaming engine gives the same rows as the counts
/// written here.
#[test]
fn counts_filtered_by_a_label_match_the_rows_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    // Folder a: 5 calls of 10..50 ms; folder b: 7 calls of 100..700 ms.
    for (vendor, count, step) in [("a", 5, 10), ("b", 7, 100)] {
        let folder = dir.path().join(vendor);
        std::fs::create_dir_all(&folder).expect("mkdir");
        let mut csv = String::from("model,first_token_ms\n");
        for i in 1..=count {
            csv.push_str(&format!("model-{vendor},{}\n", i * step));
        }
        std::fs::write(folder.join("latency.csv"), csv).expect("write");
        let label = format!("vendor={vendor}");
        let folder = folder.to_str().expect("utf-8");
        let ingest = run(&data, &["ingest", "--label", &label, folder]);
        assert!(ingest.status.success(), "{}", stderr(&ingest));
    }
    let count = |filter: &str| {
        query_value(
            &data,
            &format!("select count(*) as n from llm_calls where {filter}"),
        )
    };
    assert_eq!(count("label_vendor = 'a'"), "5");
    assert_eq!(count("label_vendor = 'b'"), "7");
    assert_eq!(count("label_vendor = 'b' and ttft_ms > 250"), "5");
    assert_eq!(count("label_vendor in ('a', 'b')"), "12");
    assert_eq!(count("label_vendor = 'zz'"), "0");
    assert_eq!(count("label_vendor is null"), "0");
    assert_eq!(
        query_rows(
            &data,
            "select label_vendor, count(*) as n, sum(ttft_ms) as total_ms from llm_calls \
             group by label_vendor order by label_vendor"
        ),
        ["a,5,150.0", "b,7,2800.0"]
    );
    assert_eq!(
        query_rows(
            &data,
            "select label_vendor, ttft_ms from llm_calls order by ttft_ms desc limit 2"
        ),
        ["b,700.0", "b,600.0"]
    );
}
