//! `runlens sql --dialect`: the statements name exactly the committed files, and what
//! cannot be written is a usage error. (The statements are run in DuckDB and Spark by
//! `tests/engines/check_views.py`, from `.ci/run`.)

use crate::common::*;

/// Statements as the engines take them: paragraphs without their comments.
fn statements(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

#[test]
fn the_views_name_every_committed_file_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let samples = repo_root().join("sample-data");
    let out = run(&data, &["ingest", samples.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let committed: Vec<String> = files_below(&data)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect();
    // A file no commit names (a killed writer's) is never listed.
    let first = data.join(&committed[0]);
    std::fs::copy(&first, first.with_file_name("part-uncommitted-0.parquet")).expect("copy");
    for dialect in ["spark", "duckdb", "trino"] {
        let out = run(&data, &["sql", "--dialect", dialect]);
        assert_eq!(out.status.code(), Some(0), "{dialect}: {}", stderr(&out));
        let text = stdout(&out);
        for file in &committed {
            let name = file.rsplit('/').next().expect("name");
            assert!(text.contains(name), "{dialect} does not name {file}");
        }
        assert!(
            !text.contains("part-uncommitted"),
            "{dialect} names an uncommitted file"
        );
        let views = statements(&text)
            .iter()
            .filter(|s| s.contains("VIEW"))
            .count();
        // Each table's files and its view; sessions also session_agents.
        let expected = match dialect {
            // Trino: tables with files are external tables, not views.
            "trino" => 9 * 2 + 1 - committed_tables(&committed),
            _ => 9 * 2 + 1,
        };
        assert_eq!(views, expected, "{dialect}");
        assert!(
            statements(&text)
                .iter()
                .all(|s| s.trim_end().ends_with(';'))
        );
    }
}

#[test]
fn what_the_statements_cannot_name_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("none");
    let out = run(&missing, &["sql", "--dialect", "duckdb"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no dataset at"), "{}", stderr(&out));
    assert!(
        !missing.exists(),
        "asking for statements created the dataset"
    );

    let data = dir.path().join("d");
    let samples = repo_root().join("sample-data/latency");
    run(&data, &["ingest", samples.to_str().expect("utf-8")]);
    let out = run(
        &data,
        &["sql", "--dialect", "trino", "--trino-schema", "runlens"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("CATALOG.SCHEMA"), "{}", stderr(&out));
    let out = run(&data, &["sql", "--dialect", "sqlite"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_root_the_engine_names_differently_replaces_the_local_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let samples = repo_root().join("sample-data/latency");
    run(&data, &["ingest", samples.to_str().expect("utf-8")]);
    let out = run(
        &data,
        &[
            "sql",
            "--dialect",
            "spark",
            "--root",
            "s3a://bench/nightly/",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("path 's3a://bench/nightly/llm_calls/{date="),
        "{text}"
    );
    assert!(
        text.contains("basePath 's3a://bench/nightly/llm_calls'"),
        "{text}"
    );
    // Only the header comment still says where runlens reads it.
    let statements = statements(&text).join("\n");
    assert!(
        !statements.contains(data.to_str().expect("utf-8")),
        "{statements}"
    );
}

/// How many tables have at least one of `files`.
fn committed_tables(files: &[String]) -> usize {
    let mut tables: Vec<&str> = files.iter().filter_map(|f| f.split('/').next()).collect();
    tables.sort();
    tables.dedup();
    tables.len()
}
