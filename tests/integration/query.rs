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
