//! `runlens analyze` on the samples and on generated runs: numbers checked by hand (DuckDB
//! checks every row in tests/readers/check_analyze.py, run by .ci/run).

use crate::common::*;

fn analyze_json(data: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(data, &all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("json")
}

fn row<'a>(
    analysis: &'a serde_json::Value,
    pick: &dyn Fn(&serde_json::Value) -> bool,
) -> &'a serde_json::Value {
    analysis["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| pick(r))
        .expect("the row")
}

#[test]
fn time_samples_by_source_match_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(run(&data, &["ingest", "sample-data"]).status.success());
    let analysis = analyze_json(&data, &["--by", "source"]);
    // sample-data/time: 100, 150, 920, 12,470 and 12,470 ms counted; the two reports with
    // exit codes 2 and 3 failed. Mean 26,110 / 5 = 5,222; median 920.
    let wall = row(&analysis, &|r| {
        r["source"] == "time" && r["metric"] == "wall_time"
    });
    assert_eq!(
        (wall["n"].as_u64(), wall["failed"].as_u64()),
        (Some(5), Some(2))
    );
    assert_eq!(wall["mean"].as_f64(), Some(5222.0));
    assert_eq!(wall["p50"].as_f64(), Some(920.0));
    assert_eq!(
        (wall["min"].as_f64(), wall["max"].as_f64()),
        (Some(100.0), Some(12470.0))
    );
    // p95: rank 0.95 × 4 = 3.8 between 12,470 and 12,470.
    assert_eq!(wall["p95"].as_f64(), Some(12470.0));
    assert_eq!(
        analysis["method"]["failed_excluded"].as_u64(),
        Some(3),
        "two runs, one call"
    );
    let text = stdout(&run(&data, &["analyze", "--phase"]));
    for needle in [
        "phase_time",
        "Report generation",
        "percentiles: linear interpolation",
        "Student's t",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn outliers_are_reported_and_dropped_only_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    // Ten runs of 1.00 … 1.09 s and one of 9.99 s.
    for i in 0..10 {
        std::fs::write(
            inputs.join(format!("t{i}.txt")),
            format!("real 1.0{i}\nuser 0.50\nsys 0.10\n"),
        )
        .expect("write");
    }
    std::fs::write(inputs.join("slow.txt"), "real 9.99\nuser 0.50\nsys 0.10\n").expect("write");
    let inputs = inputs.to_string_lossy().to_string();
    assert!(run(&data, &["ingest", &inputs]).status.success());
    let wall = |args: &[&str]| {
        let analysis = analyze_json(&data, args);
        let r = row(&analysis, &|r| r["metric"] == "wall_time").clone();
        (r, analysis["method"].clone())
    };
    // Kept: 11 values, the slow one flagged by the IQR rule (Q1 1,025, Q3 1,075: fence 1,075 + 1.5 × 50 = 1,150).
    let (kept, method) = wall(&["--outliers", "iqr"]);
    assert_eq!(
        (kept["n"].as_u64(), kept["outliers"].as_u64()),
        (Some(11), Some(1))
    );
    assert_eq!(method["outliers_removed"].as_u64(), Some(0));
    // 10 × 1,045 + 9,990 = 20,440 ms over 11 runs.
    assert!((kept["mean"].as_f64().expect("mean") - 20_440.0 / 11.0).abs() < 1e-9);
    let (dropped, method) = wall(&["--outliers", "iqr", "--drop-outliers"]);
    assert_eq!(
        (dropped["n"].as_u64(), dropped["outliers_removed"].as_u64()),
        (Some(10), Some(1))
    );
    assert_eq!(dropped["mean"].as_f64(), Some(1045.0));
    assert_eq!(method["outlier_rule"], "iqr");
    assert_eq!(method["outliers_dropped"], true);
    // 3 standard deviations: with one far value among 11, |9,990 − 1,858| = 8,132 against
    // 3 × 2,697.2 = 8,091.5, so the sd rule flags it too.
    let (sd, _) = wall(&[]);
    assert_eq!(sd["outliers"].as_u64(), Some(1));
}

#[test]
fn unknown_grouping_keys_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(
        run(
            &data,
            &["ingest", "--label", "version=1.4", "sample-data/time"]
        )
        .status
        .success()
    );
    let out = run(&data, &["analyze", "--by", "versoin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("labels present: version"),
        "{}",
        stderr(&out)
    );
    let analysis = analyze_json(&data, &["--by", "version", "--filter", "source=time"]);
    let wall = row(&analysis, &|r| r["metric"] == "wall_time");
    assert_eq!(wall["version"], "1.4");
}

#[test]
fn prices_and_the_cost_calculator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("unused");
    let out = run(
        &data,
        &[
            "cost",
            "--model",
            "anthropic/claude-sonnet-4-5-20250929",
            "--input-tokens",
            "10000",
            "--output-tokens",
            "2000",
            "--cache-read-tokens",
            "50000",
            "--cache-write-tokens",
            "3000",
            "--cache-write-1h-tokens",
            "1000",
            "--per-day",
            "100",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // 10,000 × $3 + 2,000 × $15 + 50,000 × $0.30 + 3,000 × $3.75 + 1,000 × $6 per million
    // = $0.09225 a request; 100 a day = $9.225; a year = $3,367.13 (rounded).
    for needle in [
        "claude-sonnet-4-5 (anthropic)",
        "$0.0922",
        "$9.22",
        "$3,367.13",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    let unknown = run(
        &data,
        &[
            "cost",
            "--model",
            "gpt-9",
            "--input-tokens",
            "1",
            "--output-tokens",
            "1",
        ],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no price for model \"gpt-9\""));
    // A LiteLLM file replaces the table.
    let file = dir.path().join("prices.json");
    std::fs::write(
        &file,
        r#"{"my-model": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "openai"}}"#,
    )
    .expect("write");
    let file = file.to_string_lossy().to_string();
    let listed = stdout(&run(&data, &["prices", "--prices", &file]));
    assert!(
        listed.contains("my-model") && !listed.contains("claude"),
        "{listed}"
    );
    let cost = stdout(&run(
        &data,
        &[
            "cost",
            "--prices",
            &file,
            "--model",
            "my-model",
            "--input-tokens",
            "1000000",
            "--output-tokens",
            "1000000",
            "--per-day",
            "1",
        ],
    ));
    assert!(cost.contains("$3.00"), "{cost}");
}

#[test]
fn compare_finds_the_regression_saves_baselines_and_checks_claims() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    // Version 1.4: 1.00 … 1.09 s; version 1.5: 1.20 … 1.29 s (10 runs each).
    for (version, base) in [("1.4", 0), ("1.5", 2)] {
        let inputs = dir.path().join(version);
        std::fs::create_dir_all(&inputs).expect("mkdir");
        for i in 0..10 {
            std::fs::write(
                inputs.join(format!("t{i}.txt")),
                format!("real 1.{base}{i}\nuser 0.50\nsys 0.10\n"),
            )
            .expect("write");
        }
        let label = format!("version={version}");
        let inputs = inputs.to_string_lossy().to_string();
        assert!(
            run(&data, &["ingest", "--label", &label, &inputs])
                .status
                .success()
        );
    }
    let json = |args: &[&str]| -> (Option<i32>, serde_json::Value) {
        let mut all = vec!["compare", "--format", "json"];
        all.extend_from_slice(args);
        let out = run(&data, &all);
        let value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|_| {
            panic!("{} {}", stdout(&out), stderr(&out));
        });
        (out.status.code(), value)
    };
    let (code, value) = json(&[
        "--baseline",
        "version=1.4",
        "--candidate",
        "version=1.5",
        "--metric",
        "wall_time",
        "--save-baseline",
        "v14",
    ]);
    assert_eq!(code, Some(1), "a regression exits 1");
    let wall = &value["rows"][0];
    // Medians 1,045 and 1,245 ms; scipy.stats.mannwhitneyu gives p = 0.000182671791...
    assert_eq!(wall["verdict"], "worse");
    assert!((wall["ratio"].as_f64().expect("ratio") - 1245.0 / 1045.0).abs() < 1e-12);
    assert!((wall["p_value"].as_f64().expect("p") - 0.000_182_671_791_1).abs() < 1e-9);
    let (low, high) = (
        wall["ratio_ci95_low"].as_f64().expect("low"),
        wall["ratio_ci95_high"].as_f64().expect("high"),
    );
    assert!(low < 1245.0 / 1045.0 && 1245.0 / 1045.0 < high);
    // The saved baseline gives the same answer later.
    let (code, saved) = json(&[
        "--baseline",
        "saved:v14",
        "--candidate",
        "version=1.5",
        "--metric",
        "wall_time",
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(saved["rows"][0], value["rows"][0]);
    // The other way round it is better, and a 1.1x speed-up claim holds (1,245 / 1,045 = 1.19).
    let (code, back) = json(&[
        "--baseline",
        "version=1.5",
        "--candidate",
        "version=1.4",
        "--expect-speedup",
        "1.1x",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(back["rows"][0]["verdict"], "better");
    assert_eq!(back["speedup"]["holds"], true);
    let (code, claim) = json(&[
        "--baseline",
        "version=1.5",
        "--candidate",
        "version=1.4",
        "--expect-speedup",
        "2x",
    ]);
    assert_eq!(code, Some(1), "a claim that does not hold exits 1");
    assert_eq!(claim["speedup"]["holds"], false);
    let missing = run(
        &data,
        &[
            "compare",
            "--baseline",
            "saved:nope",
            "--candidate",
            "version=1.5",
        ],
    );
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn targets_give_verdicts_and_a_hollow_session_fails_the_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(run(&data, &["ingest", "sample-data"]).status.success());
    let out = run(
        &data,
        &[
            "analyze",
            "--targets",
            "sample-data/targets.toml",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the overall verdict fails: {}",
        stderr(&out)
    );
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let targets = &value["targets"];
    let status = |metric: &str| {
        targets["verdicts"]
            .as_array()
            .expect("verdicts")
            .iter()
            .find(|v| v["metric"] == metric)
            .map(|v| {
                (
                    v["status"].as_str().unwrap_or("").to_string(),
                    v["actual"].as_f64(),
                )
            })
            .expect("verdict")
    };
    // The macOS log's Analysis phase lasted 3,550 ms (09:14:05.871 → 09:14:09.421): 29 % under 5 s.
    assert_eq!(status("phase_time"), ("PASS".to_string(), Some(3550.0)));
    // TTFT p95 of the latency CSVs is 601.55 ms: over 500, within 800.
    assert_eq!(status("ttft"), ("ACCEPTABLE".to_string(), Some(601.55)));
    // The hollow and text-tool-call sessions made no tool call: the floor fails.
    assert_eq!(status("tool_calls"), ("FAIL".to_string(), Some(0.0)));
    assert_eq!(targets["passed"], false);
    let table = stdout(&run(
        &data,
        &["analyze", "--targets", "sample-data/targets.toml"],
    ));
    assert!(table.contains("OVERALL: FAIL"), "{table}");
    assert!(
        table.contains("tool_calls: min 0 calls, acceptable is at least 1 calls"),
        "{table}"
    );
}

#[test]
fn the_cost_metric_agrees_with_the_price_calculator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(
        run(&data, &["ingest", "sample-data/sessions"])
            .status
            .success()
    );
    // analyze prices calls with a polars expression over joined rates; `sessions` prices
    // each call in Rust (prices::PriceTable::cost). Their totals must agree.
    let analysis = analyze_json(&data, &["--filter", "source=transcript"]);
    let cost = row(&analysis, &|r| r["metric"] == "cost");
    let total = cost["mean"].as_f64().expect("mean") * cost["n"].as_f64().expect("n");
    let out = run(&data, &["sessions", "--format", "json"]);
    let sessions: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let sum: f64 = sessions
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|s| s["cost_usd"].as_f64())
        .sum();
    assert!(
        (total - sum).abs() < 1e-12,
        "analyze {total} vs sessions {sum}"
    );
    // By hand, the OpenAI chat pair: 512 × $2.50 + 1,024 cached × $1.25 + 58 × $10 per
    // million = $0.00314.
    let pair = dir.path().join("p");
    assert!(
        run(
            &pair,
            &[
                "ingest",
                "sample-data/sessions/openai/chat-completion-pair.json"
            ]
        )
        .status
        .success()
    );
    let one = analyze_json(&pair, &[]);
    let cost = row(&one, &|r| r["metric"] == "cost");
    assert!((cost["mean"].as_f64().expect("mean") - 0.003_14).abs() < 1e-15);
}

#[test]
fn memory_growth_across_runs_flags_a_leak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    // Five runs whose peak grows by 15,000 KiB each: 115,000 … 175,000 KiB.
    for i in 1..=5 {
        let kb = 100_000 + i * 15_000;
        std::fs::write(
            inputs.join(format!("run-{i}.txt")),
            format!("benchmark_process_metrics: user=0.10 sys=0.01 real=0:01.00 percent_cpu=10% max_rss_kb={kb} exit=0\n"),
        )
        .expect("write");
    }
    let inputs = inputs.to_string_lossy().to_string();
    assert!(
        run(&data, &["ingest", "--label", "version=leaky", &inputs])
            .status
            .success()
    );
    // A recorded, sampled run of a flat process, in its own group.
    let recorded = run(
        &data,
        &[
            "record",
            "--runs",
            "1",
            "--hide-output",
            "--label",
            "version=flat",
            "--",
            "sleep",
            "0.6",
        ],
    );
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let out = run(&data, &["memory", "--by", "version", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "a leak exits 1");
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let rows = value["rows"].as_array().expect("rows");
    let leaky = rows
        .iter()
        .find(|r| r["version"] == "leaky")
        .expect("leaky");
    // 175,000 / 115,000 − 1 = 52.17 %; slope 15,000 KiB = 15,360,000 bytes per run.
    assert!((leaky["growth"].as_f64().expect("growth") - (175.0 / 115.0 - 1.0)).abs() < 1e-12);
    assert!((leaky["slope_bytes_per_run"].as_f64().expect("slope") - 15_360_000.0).abs() < 1e-6);
    assert_eq!(leaky["verdict"], "leak suspected");
    let flat = rows.iter().find(|r| r["version"] == "flat").expect("flat");
    assert_eq!(flat["verdict"], "stable");
    assert!(flat["within_run_bytes_per_s"].is_number(), "{flat}");
    let stable = run(&data, &["memory", "--filter", "version=flat"]);
    assert_eq!(stable.status.code(), Some(0));
}

/// Writes `count` copies of an agent-workflow sample under `dir`, each its own session.
fn write_sessions(dir: &std::path::Path, sample: &str, count: usize) {
    std::fs::create_dir_all(dir).expect("dir");
    let text = std::fs::read_to_string(
        repo_root()
            .join("sample-data/sessions/agent-workflow")
            .join(sample),
    )
    .expect("sample");
    let id = text
        .split("\"session_id\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a session id")
        .to_string();
    for i in 0..count {
        let copy = text.replace(&id, &format!("{id}-{i}"));
        std::fs::write(dir.join(format!("{i}-{sample}")), copy).expect("write");
    }
}

/// The seeds' central question: did the new version stop calling tools? `compare` answers it
/// for the session metric, in the metric's own direction (more tool calls is better).
#[test]
fn compare_sees_a_version_that_stopped_calling_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    write_sessions(&dir.path().join("v1"), "healthy-session.json", 6);
    write_sessions(&dir.path().join("v2"), "hollow-session.json", 6);
    for (version, folder) in [("1.4", "v1"), ("1.5", "v2")] {
        let folder = dir.path().join(folder);
        let out = run(
            &data,
            &[
                "ingest",
                "--label",
                &format!("version={version}"),
                &folder.to_string_lossy(),
            ],
        );
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            stderr(&out)
        );
    }
    let compare = |baseline: &str, candidate: &str| {
        let out = run(
            &data,
            &[
                "compare",
                "--baseline",
                baseline,
                "--candidate",
                candidate,
                "--metric",
                "tool_calls",
                "--format",
                "json",
            ],
        );
        let json: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|_| panic!("json: {}", stderr(&out)));
        (out.status.code(), json)
    };
    let (code, json) = compare("version=1.4", "version=1.5");
    let row = &json["rows"][0];
    assert_eq!(row["metric"], "tool_calls");
    assert_eq!(row["direction"], "higher_is_better");
    // Two tool calls per healthy session, none per hollow one.
    assert_eq!(row["baseline_median"].as_f64(), Some(2.0));
    assert_eq!(row["candidate_median"].as_f64(), Some(0.0));
    assert_eq!(row["verdict"], "worse");
    assert_eq!(code, Some(1), "a regression exits 1");
    let (code, json) = compare("version=1.5", "version=1.4");
    assert_eq!(json["rows"][0]["verdict"], "better");
    assert_eq!(code, Some(0));
    // An unknown metric is a usage error naming the valid ones.
    let out = run(
        &data,
        &[
            "compare",
            "--baseline",
            "version=1.4",
            "--candidate",
            "version=1.5",
            "--metric",
            "tools",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tool_calls"), "{}", stderr(&out));
}

/// No interval of a metric that cannot be negative goes below 0 (on the samples, the t
/// interval did for wall time, CPU time, peak memory, cache-write tokens and cost).
#[test]
fn no_negative_interval_for_a_non_negative_metric() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(
        run(&data, &["ingest", "sample-data"])
            .status
            .code()
            .is_some_and(|c| c <= 1)
    );
    let mut bootstrapped = 0;
    for args in [
        &["--by", "source", "--phase"][..],
        &[][..],
        &["--by", "model"][..],
    ] {
        let analysis = analyze_json(&data, args);
        for r in analysis["rows"].as_array().expect("rows") {
            if let Some(low) = r["ci95_low"].as_f64() {
                assert!(low >= 0.0, "{} {}: {low}", r["metric"], r["phase"]);
                bootstrapped += usize::from(r["ci95_method"] == "bootstrap");
            }
        }
    }
    assert!(bootstrapped > 0, "the samples have skewed metrics");
    let text = stdout(&run(&data, &["analyze"]));
    assert!(
        text.contains("* percentile bootstrap of the mean"),
        "{text}"
    );
}
