//! `runlens ingest` on the bundled sample data: every format, hand-checked values,
//! idempotence, labels, dry runs.

use crate::common::*;

#[test]
fn sample_data_ingests_every_format_and_a_rerun_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let first = run(&data, &["ingest", "sample-data"]);
    let text = stdout(&first);
    assert_eq!(first.status.code(), Some(0), "{text}\n{}", stderr(&first));
    for format in [
        "time",
        "run_log",
        "bench_suite",
        "hyperfine",
        "latency_csv",
        "claude_code",
        "workflow_session",
        "codex_rollout",
        "agent_result",
        "otlp_genai",
        "openai_api",
        "anthropic_api",
        "gemini_api",
        "hyperfine_markdown",
        "hyperfine_csv",
    ] {
        assert!(text.contains(format), "summary lacks {format}:\n{text}");
    }
    let files_after_first = files_below(&data);

    let second = run(&data, &["ingest", "sample-data"]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stdout(&second).contains("nothing new: all 32 file(s) are already in the dataset"),
        "{}",
        stdout(&second)
    );
    assert_eq!(
        files_below(&data),
        files_after_first,
        "a re-run changed the dataset"
    );
    // Counted by hand from the files in sample-data (see sample-data/README.md).
    assert_eq!(query_value(&data, "select count(*) from runs"), "11");
    assert_eq!(query_value(&data, "select count(*) from phases"), "13");
    // 11 from the latency CSVs, 5 responses of the Claude Code transcript, 4 of the Codex
    // rollout, 4 saved OpenAI replies, 1 Anthropic, 1 Gemini, 2 traced chat spans, and
    // 2 + 2 of the headless results (sample-data/README.md has each by hand).
    assert_eq!(query_value(&data, "select count(*) from llm_calls"), "32");
    assert_eq!(query_value(&data, "select count(*) from sessions"), "14");
    assert_eq!(query_value(&data, "select count(*) from tool_calls"), "16");
    assert_eq!(
        query_value(&data, "select count(*) from bench_results"),
        "18"
    );
    assert_eq!(query_value(&data, "select count(*) from ingest_log"), "32");
}

#[test]
fn sample_values_match_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(run(&data, &["ingest", "sample-data"]).status.success());
    // macOS log: Analysis runs 09:14:05.871 -> 09:14:09.421; Phase 3 ends at its
    // "complete" line 09:14:14.010; the agent log prints "Phase 4 done in 4.76s".
    let phases = query_rows(
        &data,
        "select phase, duration_ms, input_tokens, output_tokens, total_tokens from phases \
         where phase in ('Discovery', 'Analysis', 'Report generation', 'Report') order by phase",
    );
    assert_eq!(
        phases,
        [
            "Analysis,3550.0,5120,1210,",
            "Discovery,3767.0,,,3912",
            "Report,4760.0,1102,940,",
            "Report generation,4589.0,2210,2804,",
        ]
    );
    // BSD time -l: macOS prints bytes, FreeBSD KiB (294916 KiB = 301993984 bytes).
    let bsd = query_rows(
        &data,
        "select time_format, max_rss_bytes, wall_ms, user_ms from runs \
         where source = 'time' and time_format like 'bsd%' order by time_format",
    );
    assert_eq!(
        bsd,
        [
            "bsd-freebsd,301993984,12470.0,3180.0",
            "bsd-macos,301989888,12470.0,3180.0"
        ]
    );
    // GNU default format with "Command exited with non-zero status 3".
    assert_eq!(
        query_value(
            &data,
            "select exit_code from runs where time_format = 'gnu-default'"
        ),
        "3"
    );
    // The two-run log: two runs with three phases each, 812 input tokens in discovery.
    assert_eq!(
        query_value(
            &data,
            "select count(distinct run_id) from phases where phase = 'discovery' and input_tokens = 812"
        ),
        "2"
    );
    // Benchmark suite: memory in MB read as MiB; confidence 95 normalised to 0.95.
    assert_eq!(
        query_rows(
            &data,
            "select name, memory_peak_bytes, ci_confidence from bench_results \
             where suite_name = 'llm-gateway' order by name"
        ),
        [
            "route_request,54788096,0.95",
            "stream_tokens_1k,84410368,0.95",
            "tokenize_prompt,,"
        ]
    );
    // Latency CSV given in seconds is stored in milliseconds; extra columns become labels.
    assert_eq!(
        query_value(
            &data,
            "select ttft_ms from llm_calls where request_model = 'mistral-small' and source_line = 2"
        ),
        "352.0"
    );
}

#[test]
fn labels_reach_every_row_and_a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let dry = run(
        &data,
        &["ingest", "--dry-run", "sample-data/hyperfine/sleep.json"],
    );
    assert!(dry.status.success());
    assert!(stdout(&dry).contains("dry run: nothing was written"));
    assert!(!data.exists(), "a dry run created the dataset");

    let out = run(
        &data,
        &[
            "ingest",
            "--label",
            "provider=demo",
            "--label",
            "version=1.4",
            "sample-data/hyperfine/sleep.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let labels = query_rows(&data, "select labels from bench_results");
    // CSV quotes the cell because it holds a comma.
    let expected = "\"provider=demo, version=1.4\"";
    assert_eq!(labels, [expected, expected]);
    assert_eq!(
        query_value(&data, "select labels from ingest_log"),
        expected
    );
}

#[test]
fn directories_globs_and_forced_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let out = run(&data, &["ingest", "sample-data/time/gnu-*.txt"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(query_value(&data, "select count(*) from runs"), "4");

    // A CSV forced through the time parser is rejected with a reason, not misread.
    let forced = run(
        &data,
        &[
            "ingest",
            "--format",
            "time",
            "sample-data/latency/model-baselines.csv",
        ],
    );
    assert_eq!(forced.status.code(), Some(1));
    assert!(
        stdout(&forced).contains("no time report found"),
        "{}",
        stdout(&forced)
    );
}

#[test]
fn custom_time_format_and_phase_regex() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).expect("mkdir");
    // Written by: /usr/bin/time -f "%e %U %S %M %x" -o times.txt CMD (twice).
    std::fs::write(
        inputs.join("times.txt"),
        "1.50 0.20 0.10 2048 0\n2.50 0.30 0.10 4096 1\n",
    )
    .expect("write");
    std::fs::write(
        inputs.join("steps.log"),
        "2026-11-22T10:00:00Z STEP load\n2026-11-22T10:00:02Z STEP train\n2026-11-22T10:00:07Z end\n",
    )
    .expect("write");
    let out = run(
        &data,
        &[
            "ingest",
            "--time-format",
            "%e %U %S %M %x",
            "--phase-regex",
            r"STEP (?P<name>\w+)",
            inputs.to_str().expect("utf-8 path"),
        ],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(
        query_rows(
            &data,
            "select wall_ms, max_rss_bytes, exit_code from runs where time_format = 'gnu-format' order by wall_ms"
        ),
        ["1500.0,2097152,0", "2500.0,4194304,1"]
    );
    assert_eq!(
        query_rows(
            &data,
            "select phase, duration_ms from phases order by phase_index"
        ),
        ["load,2000.0", "train,5000.0"]
    );
}

#[test]
fn usage_errors_exit_2_with_the_valid_choices() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let out = run(&data, &["ingest", "--format", "nope", "sample-data"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("valid formats: hyperfine, hyperfine_markdown, hyperfine_csv, bench_suite"),
        "{}",
        stderr(&out)
    );
    let out = run(&data, &["ingest", "--phase-regex", "(", "sample-data"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&data, &["query", "select nonsense from nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&data, &["ingest"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors are 2 too");
}

#[test]
fn the_dataset_inside_an_input_folder_is_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("runlens-data");
    std::fs::copy(
        repo_root().join("sample-data/time/posix-p.txt"),
        dir.path().join("posix-p.txt"),
    )
    .expect("copy");
    let first = run(&data, &["ingest", dir.path().to_str().expect("utf-8")]);
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    let second = run(&data, &["ingest", dir.path().to_str().expect("utf-8")]);
    assert_eq!(second.status.code(), Some(0), "{}", stdout(&second));
    assert!(
        stdout(&second).contains("nothing new: all 1 file(s)"),
        "{}",
        stdout(&second)
    );
}

#[test]
fn every_transcript_format_matches_its_hand_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(
        run(&data, &["ingest", "sample-data/sessions"])
            .status
            .success()
    );
    // Per session: messages, tool calls, tool errors, and the four token buckets, as
    // counted by hand in sample-data/README.md.
    let rows = query_rows(
        &data,
        "select source_format, message_count, tool_calls, tool_errors, input_tokens, \
         output_tokens, cache_read_input_tokens, cache_creation_input_tokens, findings \
         from sessions where source_format not in ('claude_code', 'workflow_session') \
         order by source_format, session_id",
    );
    assert_eq!(
        rows,
        [
            // result object: 340 = 40 + 300 input over two models, 920 = 900 + 20 output.
            "agent_result,1,0,1,340,920,60000,8000,\"tool_errors,agent_error\"",
            // stream: msg A (3 / 62 / 14000 / 1200) + msg B (6 / 18 / 15200 / 150).
            "agent_result,3,1,0,9,80,29200,1350,",
            "anthropic_api,5,1,0,412,96,3072,0,",
            // 35700 input − 32512 cached = 3188 uncached; 1102 output over four responses.
            "codex_rollout,9,3,1,3188,1102,32512,,tool_errors",
            // prompt 210, candidates 12 + thoughts 85 = 97 output.
            "gemini_api,3,1,0,210,97,,,",
            // prompt 1536 − 1024 cached = 512.
            "openai_api,5,2,0,512,58,1024,,",
            "openai_api,3,1,0,320,210,0,,",
            "openai_api,1,0,0,812,17,0,,",
            "openai_api,0,0,0,,,,,agent_error",
            // span 1: 900 input; span 2: 1100 − 896 cached = 204.
            "otlp_genai,2,1,0,1104,150,896,,",
        ]
    );
    let codex_calls = query_rows(
        &data,
        "select input_tokens, cache_read_input_tokens, output_tokens, reasoning_tokens \
         from llm_calls where provider = 'openai' and response_model = 'gpt-5-codex' \
         order by source_line",
    );
    assert_eq!(
        codex_calls,
        [
            "1208,6912,164,128",
            "738,8192,778,384",
            "998,8192,68,32",
            "244,9216,92,16"
        ]
    );
    assert_eq!(
        query_value(&data, "select error from llm_calls where http_status = 429"),
        "tokens: Rate limit reached for gpt-4o-mini in organization org-xyz on tokens per min (TPM)."
    );
}

/// hyperfine's three exports of one run (sample-data/hyperfine/scan.*, captured together)
/// give the same figures: the CSV exactly, the Markdown to the 0.1 ms it prints.
#[test]
fn hyperfine_json_csv_and_markdown_exports_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    for ext in ["json", "csv", "md"] {
        let out = run(
            &data,
            &["ingest", &format!("sample-data/hyperfine/scan.{ext}")],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let figures = |format: &str| {
        query_rows(
            &data,
            &format!(
                "select name, mean_ms, stddev_ms, min_ms, max_ms from bench_results \
                 where source_format = '{format}' order by result_index"
            ),
        )
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row.split(',').collect();
            let numbers: Vec<f64> = cells[1..]
                .iter()
                .map(|c| c.parse().expect("number"))
                .collect();
            (cells[0].to_string(), numbers)
        })
        .collect::<Vec<_>>()
    };
    let json = figures("hyperfine");
    assert_eq!(json.len(), 3);
    // The same seconds in the JSON and the CSV (serde_json's fast float parsing may differ
    // in the last bit); the Markdown rounded to the 0.1 ms it prints.
    for (format, tolerance) in [("hyperfine_csv", 1e-9), ("hyperfine_markdown", 0.05 + 1e-9)] {
        let other = figures(format);
        assert_eq!(other.len(), json.len(), "{format}");
        for ((name, figures), (json_name, exact)) in other.iter().zip(&json) {
            assert_eq!(name, json_name, "{format}");
            for (f, e) in figures.iter().zip(exact) {
                assert!((f - e).abs() <= tolerance, "{format} {name}: {f} vs {e}");
            }
        }
    }
}

/// A Codex rollout: `calls` (input, output) as `token_count` events with their running
/// totals, after a `session_meta` naming the parent of a fork.
fn rollout(
    dir: &std::path::Path,
    name: &str,
    id: &str,
    parent: Option<&str>,
    calls: &[(i64, i64)],
) {
    let fork = parent.map_or(String::new(), |p| format!(r#","forked_from_id":"{p}""#));
    let mut lines = vec![
        format!(
            r#"{{"timestamp":"2025-10-02T09:00:00Z","type":"session_meta","payload":{{"id":"{id}"{fork},"timestamp":"2025-10-02T09:00:00Z"}}}}"#
        ),
        r#"{"timestamp":"2025-10-02T09:00:00Z","type":"turn_context","payload":{"model":"gpt-5"}}"#
            .to_string(),
    ];
    let (mut total_in, mut total_out) = (0, 0);
    for (n, (input, output)) in calls.iter().enumerate() {
        total_in += input;
        total_out += output;
        lines.push(format!(
            r#"{{"timestamp":"2025-10-02T09:00:{n:02}Z","type":"event_msg","payload":{{"type":"token_count","info":{{"last_token_usage":{{"input_tokens":{input},"cached_input_tokens":0,"output_tokens":{output}}},"total_token_usage":{{"input_tokens":{total_in},"cached_input_tokens":0,"output_tokens":{total_out}}}}}}}}}"#
        ));
    }
    std::fs::write(dir.join(name), lines.join("\n") + "\n").expect("write rollout");
}

/// A root session, its fork and the fork's fork, ingested together (the forks listed
/// first): each session keeps only its own calls, whatever order the files come in; a fork
/// ingested without its parent is kept whole with a warning.
#[test]
fn codex_forks_are_counted_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    let root = [(100, 1), (110, 2), (120, 3)];
    // The child replays the root's three calls, then works twice.
    let child: Vec<(i64, i64)> = root.iter().copied().chain([(200, 10), (210, 20)]).collect();
    // The grandchild replays the child's history (the root's three, the child's two).
    let grandchild: Vec<(i64, i64)> = child.iter().copied().chain([(300, 100)]).collect();
    rollout(
        &inputs,
        "a-grandchild.jsonl",
        "grandchild",
        Some("child"),
        &grandchild,
    );
    rollout(&inputs, "b-child.jsonl", "child", Some("root"), &child);
    rollout(&inputs, "c-root.jsonl", "root", None, &root);
    let data = dir.path().join("d");
    let out = run(&data, &["ingest", inputs.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = query_rows(
        &data,
        "select session_id, count(*), sum(output_tokens) from llm_calls group by session_id order by session_id",
    );
    assert_eq!(rows, ["child,2,30", "grandchild,1,100", "root,3,6"]);
    let sessions = query_rows(
        &data,
        "select session_id, output_tokens, coalesce(findings, '') from sessions order by session_id",
    );
    assert!(
        sessions
            .iter()
            .all(|s| !s.contains("fork_replay_unresolved")),
        "{sessions:?}"
    );
    assert_eq!(
        sessions
            .iter()
            .map(|s| s.split(',').nth(1).unwrap_or_default())
            .collect::<Vec<_>>(),
        ["30", "100", "6"]
    );

    let alone = dir.path().join("alone");
    let out = run(
        &alone,
        &[
            "ingest",
            inputs.join("b-child.jsonl").to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        query_rows(
            &alone,
            "select output_tokens, findings like '%fork_replay_unresolved%' from sessions"
        ),
        ["36,true"]
    );
}

/// A file at the same path with the same size and modification time as when it was
/// stored is skipped unread; a file that grew, or was rewritten (a new modification time),
/// is read (hashed) again, and ingested if its content is new.
#[test]
fn unchanged_files_are_not_read_again_and_changed_ones_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = dir.path().join("in");
    write_time_files(&inputs, 3);
    let data = dir.path().join("d");
    let arg = inputs.to_str().expect("path");
    let first = run(&data, &["ingest", arg]);
    assert!(first.status.success(), "{}", stderr(&first));
    let again = stdout(&run(&data, &["ingest", arg]));
    assert!(
        again.contains("3 file(s) unchanged since they were stored"),
        "{again}"
    );
    // One file grows (new content), one is rewritten with the same bytes (new time only).
    let mut files: Vec<_> = std::fs::read_dir(&inputs)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let grown = std::fs::read_to_string(&files[0]).expect("read");
    std::fs::write(&files[0], format!("{grown}{grown}")).expect("append");
    let same = std::fs::read(&files[1]).expect("read");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&files[1], same).expect("rewrite");
    let third = stdout(&run(&data, &["ingest", arg]));
    assert!(
        third.contains("1 file(s) unchanged since they were stored"),
        "{third}"
    );
    assert!(
        // The grown file ingested; the rewritten one hashed, its content known: skipped.
        third.contains("ingested 1 file(s)") && third.contains("2 skipped"),
        "{third}"
    );
    assert!(
        third.contains("1 file(s) with a new path, size or modification time were read"),
        "{third}"
    );
    assert_eq!(
        query_value(
            &data,
            "select count(*) from ingest_log where status = 'ingested'"
        ),
        "4"
    );
    // The rewritten file was logged as it is now: the next run knows all three unread.
    assert_eq!(
        query_value(
            &data,
            "select count(*) from ingest_log where status = 'skipped' and rows = 0"
        ),
        "1"
    );
    let fourth = stdout(&run(&data, &["ingest", arg]));
    assert!(
        fourth.contains("3 file(s) unchanged since they were stored"),
        "{fourth}"
    );
    assert_eq!(
        query_value(&data, "select count(*) from ingest_log"),
        "5",
        "a run that reads nothing logs nothing"
    );
}

/// A file is known by its content wherever it lies: a copy of a stored file, read once
/// (its size is its own in the batch) and hashed from the bytes read, is skipped unparsed;
/// of two new identical files (same size: hashed first) only the first is ingested.
#[test]
fn copies_are_skipped_whether_read_once_or_hashed_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let time = |seconds: &str| format!("real {seconds}\nuser 0.01\nsys 0.00\n");
    let first = dir.path().join("first");
    std::fs::create_dir_all(&first).expect("mkdir");
    for (i, seconds) in ["1.5", "12.5", "123.5"].iter().enumerate() {
        std::fs::write(first.join(format!("t{i}.txt")), time(seconds)).expect("write");
    }
    let data = dir.path().join("d");
    let ran = run(&data, &["ingest", first.to_str().expect("path")]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(query_value(&data, "select count(*) from runs"), "3");
    let second = dir.path().join("second");
    std::fs::create_dir_all(&second).expect("mkdir");
    std::fs::copy(first.join("t1.txt"), second.join("a-copy.txt")).expect("copy");
    std::fs::write(second.join("b-new.txt"), time("1234.5")).expect("write");
    std::fs::write(second.join("c-new-again.txt"), time("1234.5")).expect("write");
    let out = stdout(&run(&data, &["ingest", second.to_str().expect("path")]));
    assert!(
        out.contains("ingested 1 file(s)") && out.contains("2 skipped"),
        "{out}"
    );
    assert_eq!(query_value(&data, "select count(*) from runs"), "4");
    assert_eq!(
        query_value(
            &data,
            "select count(*) from ingest_log where status = 'ingested' and source_path like '%b-new.txt'"
        ),
        "1"
    );
}

/// A latency CSV of `rows` calls on 2026-11-18, `tag` making every file's content distinct.
fn latency_csv(rows: usize, tag: &str) -> String {
    let mut text = String::from("timestamp,model,first_token_ms,prompt_set\n");
    for i in 0..rows {
        text.push_str(&format!(
            "2026-11-18T10:{:02}:{:02}.{:03}Z,m-{tag},{}.5,{tag}\n",
            (i / 60) % 60,
            i % 60,
            i % 1000,
            100 + i % 50
        ));
    }
    text
}

#[test]
fn files_of_a_few_thousand_rows_share_part_files_and_a_large_one_has_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    // Four files larger than one parser hand-over (512 rows) but small enough to merge
    // (4,096), and one larger than that.
    for tag in ["a", "b", "c", "d"] {
        std::fs::write(inputs.join(format!("{tag}.csv")), latency_csv(1_500, tag)).expect("write");
    }
    std::fs::write(inputs.join("large.csv"), latency_csv(6_000, "large")).expect("write");
    let data = dir.path().join("d");
    // Small files share one part per parsing thread: one thread, whatever the machine's cores.
    let out = runlens(&data)
        .env("RAYON_NUM_THREADS", "1")
        .args(["ingest", inputs.to_str().expect("utf-8")])
        .output()
        .expect("runlens runs");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        query_rows(
            &data,
            "select label_prompt_set, count(*), count(distinct call_id) from llm_calls \
             group by label_prompt_set order by label_prompt_set"
        ),
        [
            "a,1500,1500",
            "b,1500,1500",
            "c,1500,1500",
            "d,1500,1500",
            "large,6000,6000"
        ]
    );
    let parts: Vec<String> = files_below(&data.join("llm_calls"))
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect();
    // The large file's own part, and the small files' rows in the thread's shared part:
    // never one part per small file.
    assert_eq!(parts.len(), 2, "{parts:?}");
}
