//! `runlens record --capture` against the fake providers of `common::upstream`: a stdlib
//! Python workflow calling all four APIs, streamed and not, with tool calls and faults; and
//! the official `openai` Python package as the child. Latencies are checked against the
//! injected delays, tokens against the fixed counts the fake reports.

use std::path::Path;

use crate::common::upstream::{
    ANTHROPIC_CACHE_READ, Delays, FakeUpstream, INPUT_TOKENS, TEXT_OUTPUT_TOKENS,
    TOOL_OUTPUT_TOKENS,
};
use crate::common::{query_rows, query_value, repo_root, run, stderr, stdout};

const DELAYS: Delays = Delays {
    ttft_ms: 150,
    chunk_ms: 40,
};

fn upstream_flags(upstream: &FakeUpstream) -> Vec<String> {
    let origin = upstream.origin();
    vec![
        "--upstream".into(),
        format!("openai={origin}/v1"),
        "--upstream".into(),
        format!("anthropic={origin}"),
        "--upstream".into(),
        format!("ollama={origin}"),
        "--upstream".into(),
        format!("gemini={origin}"),
    ]
}

fn record(data: &Path, upstream: &FakeUpstream, child: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = vec![
        "record".into(),
        "--runs".into(),
        "1".into(),
        "--capture".into(),
        "--label".into(),
        "provider=mixed".into(),
    ];
    args.extend(upstream_flags(upstream));
    args.push("--".into());
    args.extend(child.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(data, &refs)
}

/// Records one run of a Python client script of `tests/capture/` against a fresh fake
/// provider; asserts the recording succeeded.
fn record_client(script: &str) -> (FakeUpstream, tempfile::TempDir, std::process::Output) {
    let upstream = FakeUpstream::start(DELAYS);
    let dir = tempfile::tempdir().expect("temp dir");
    let client = repo_root().join("tests/capture").join(script);
    let output = record(
        &dir.path().join("data"),
        &upstream,
        &["python3", client.to_str().expect("path")],
    );
    assert!(
        output.status.success(),
        "record failed:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    (upstream, dir, output)
}

/// One row per call, `endpoint|model|phase|...` for readable assertions.
fn call(data: &Path, model: &str, columns: &str) -> String {
    query_value(
        data,
        &format!("SELECT {columns} FROM llm_calls WHERE request_model = '{model}'"),
    )
}

#[test]
fn every_provider_streamed_or_not_with_tools_and_faults_is_recorded() {
    let (upstream, dir, output) = record_client("client.py");
    let data = dir.path().join("data");
    assert!(stdout(&output).contains("client: all replies as sent"));
    // The end-of-recording table shows the captured tokens per phase.
    let summary = stdout(&output);
    assert!(summary.contains("tokens in (mean)"), "{summary}");
    let anthropic = summary
        .lines()
        .find(|l| l.contains(" anthropic "))
        .expect("anthropic phase row");
    let cells: Vec<&str> = anthropic.split(['│', '┆']).map(str::trim).collect();
    assert_eq!(
        cells[cells.len() - 3..cells.len() - 1],
        ["22", "12"],
        "{anthropic}"
    );
    // 16 calls made (the 50 MB one included); the fake saw each once.
    assert_eq!(upstream.requests(), 16);
    assert_eq!(query_value(&data, "SELECT count(*) FROM llm_calls"), "16");
    assert_eq!(
        query_value(
            &data,
            "SELECT count(DISTINCT run_id) FROM llm_calls WHERE run_id IS NOT NULL"
        ),
        "1"
    );

    // Streamed text: TTFT is the injected delay (plus loopback), not the head's arrival;
    // the gaps are the injected chunk delays.
    let streamed = call(
        &data,
        "fake-text' AND streamed = true AND input_tokens IS NOT NULL AND endpoint = '/v1/chat/completions",
        "ttft_ms, total_ms, input_tokens, output_tokens, phase, usage_source",
    );
    let fields: Vec<&str> = streamed.split(',').collect();
    let ttft: f64 = fields[0].parse().expect("ttft");
    assert!((150.0..400.0).contains(&ttft), "ttft {ttft}");
    let total: f64 = fields[1].parse().expect("total");
    assert!(total >= 150.0 + 2.0 * 40.0, "total {total}");
    assert_eq!(
        fields[2..],
        [
            INPUT_TOKENS.to_string().as_str(),
            TEXT_OUTPUT_TOKENS.to_string().as_str(),
            "openai",
            "reported"
        ]
    );
    let gaps = query_rows(
        &data,
        "SELECT unnest(chunk_gaps_ms) AS gap FROM llm_calls WHERE request_model = 'fake-text' AND streamed AND input_tokens IS NOT NULL",
    );
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    for gap in gaps {
        let gap: f64 = gap.parse().expect("gap");
        assert!((35.0..250.0).contains(&gap), "gap {gap}");
    }

    // Tool calls, per provider, with their argument sizes ({"city":"Oslo"} is 15 bytes).
    assert_eq!(
        query_rows(
            &data,
            "SELECT c.provider, t.tool_name, t.arguments_bytes, t.run_id IS NOT NULL FROM tool_calls t JOIN llm_calls c ON t.call_id = c.call_id ORDER BY c.provider"
        ),
        [
            "anthropic,get_weather,15,true",
            "gemini,get_weather,15,true",
            "ollama,get_weather,15,true",
            "openai,get_weather,15,true"
        ]
    );
    // Anthropic: cache reads apart, output from the cumulative message_delta.
    assert_eq!(
        call(
            &data,
            "claude-fake-tool",
            "input_tokens, cache_read_input_tokens, output_tokens, finish_reason, streamed"
        ),
        format!("{INPUT_TOKENS},{ANTHROPIC_CACHE_READ},{TOOL_OUTPUT_TOKENS},tool_use,true")
    );
    // Ollama: NDJSON stream by default; durations (ns) kept in ms.
    assert_eq!(
        call(
            &data,
            "llama-fake",
            "input_tokens, output_tokens, streamed, label_ollama_eval_ms"
        ),
        format!("{INPUT_TOKENS},{TEXT_OUTPUT_TOKENS},true,300.000")
    );
    // Gemini: the model from the path, the key in the query never stored.
    assert_eq!(
        call(&data, "gemini-fake-tool", "endpoint, output_tokens"),
        format!("/v1beta/models/gemini-fake-tool:generateContent,{TOOL_OUTPUT_TOKENS}")
    );

    // Faults are rows with their error, and the run went on.
    assert_eq!(
        query_rows(
            &data,
            "SELECT request_model, http_status, error_kind FROM llm_calls WHERE error_kind IS NOT NULL ORDER BY request_model"
        ),
        [
            "claude-error-500,500,http",
            "fake-cut,200,stream_cut",
            "fake-error-429,429,http",
            "gemini-garbage,200,bad_response",
            ",400,http"
        ]
    );
    assert_eq!(
        call(&data, "fake-big", "error_kind IS NULL, output_tokens"),
        "true,3"
    );

    // Each call sits in the phase active when it started; phases gain the tokens.
    assert_eq!(
        query_rows(
            &data,
            "SELECT phase, count(*) FROM llm_calls GROUP BY phase ORDER BY phase"
        ),
        [
            "anthropic,2",
            "faults,5",
            "gemini,2",
            "ollama,2",
            "openai,5"
        ]
    );
    let anthropic_out = TEXT_OUTPUT_TOKENS + TOOL_OUTPUT_TOKENS;
    assert_eq!(
        query_value(
            &data,
            "SELECT input_tokens, output_tokens FROM phases WHERE phase = 'anthropic'"
        ),
        format!("{},{anthropic_out}", 2 * INPUT_TOKENS)
    );

    // No secret anywhere in the dataset (read through runlens: the files are compressed).
    for table in ["llm_calls", "tool_calls", "runs", "phases", "ingest_log"] {
        let dump = run(
            &data,
            &[
                "query",
                "--format",
                "json",
                &format!("SELECT * FROM {table}"),
            ],
        );
        assert!(dump.status.success(), "{}", stderr(&dump));
        assert!(
            !stdout(&dump).contains("SECRET"),
            "a secret reached {table}"
        );
    }

    // analyze sees a cost per run (the fake models have no price: unknown, not $0).
    let analysis = run(&data, &["analyze", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&analysis.stdout).expect("json");
    let rows = value["rows"].as_array().expect("rows");
    let calls_per_run = rows
        .iter()
        .find(|r| r["metric"] == "run_llm_calls")
        .expect("run_llm_calls row");
    assert_eq!(calls_per_run["mean"], 16.0);
    assert!(
        rows.iter()
            .all(|r| r["metric"] != "run_cost" || r["n"] == 0)
    );
}

#[test]
fn an_unreachable_upstream_gives_the_client_a_502_and_a_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let script = "import json,os,urllib.request,urllib.error\n\
req = urllib.request.Request(os.environ['OPENAI_BASE_URL'] + '/chat/completions', data=json.dumps({'model': 'm', 'messages': []}).encode(), method='POST')\n\
try:\n    urllib.request.urlopen(req, timeout=30)\nexcept urllib.error.HTTPError as e:\n    print('status', e.code, json.loads(e.read())['error']['type'])\n";
    let output = run(
        &data,
        &[
            "record",
            "--runs",
            "1",
            "--capture",
            "--upstream",
            &format!("openai=http://127.0.0.1:{port}/v1"),
            "--",
            "python3",
            "-c",
            script,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("status 502 runlens_proxy_error"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        query_value(
            &data,
            "SELECT error_kind, http_status IS NULL FROM llm_calls"
        ),
        "connect,true"
    );
}

#[test]
fn the_official_openai_client_through_the_proxy() {
    let available = std::process::Command::new("python3")
        .args(["-c", "import openai"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        // .ci/run installs it and sets RUNLENS_REQUIRE_OPENAI, so there this cannot skip.
        assert!(
            std::env::var_os("RUNLENS_REQUIRE_OPENAI").is_none(),
            "the openai package is required (pip install openai)"
        );
        eprintln!("skipped: python3 -c 'import openai' failed");
        return;
    }
    let (_upstream, dir, _) = record_client("openai_client.py");
    let data = dir.path().join("data");
    assert_eq!(
        query_rows(
            &data,
            "SELECT request_model, streamed, input_tokens, output_tokens, tool_call_count FROM llm_calls ORDER BY start_ts"
        ),
        [
            format!("fake-tool,false,{INPUT_TOKENS},{TOOL_OUTPUT_TOKENS},1"),
            format!("fake-text,true,{INPUT_TOKENS},{TEXT_OUTPUT_TOKENS},0"),
            format!("fake-tool,true,{INPUT_TOKENS},{TOOL_OUTPUT_TOKENS},1"),
        ]
    );
}

fn probe(data: &Path, upstream: &FakeUpstream, extra: &[&str]) -> std::process::Output {
    let base = format!("{}/v1", upstream.origin());
    let mut args = vec!["probe", "--provider", "openai", "--base-url", &base];
    args.extend_from_slice(extra);
    crate::common::runlens(data)
        .args(&args)
        .env("OPENAI_API_KEY", "sk-test-SECRET0123456789abcdefSECRET")
        .output()
        .expect("runlens runs")
}

#[test]
fn probe_writes_one_row_per_request_and_measures_the_injected_delays() {
    let upstream = FakeUpstream::start(DELAYS);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let output = probe(
        &data,
        &upstream,
        &[
            "--model",
            "fake-text",
            "--requests",
            "20",
            "--concurrency",
            "4",
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let model = &summary["models"][0];
    assert_eq!(model["requests"], 20);
    assert_eq!(model["errors"], 0);
    assert_eq!(model["output_tokens"], 20 * TEXT_OUTPUT_TOKENS);
    let ttft_p50 = model["ttft_p50_ms"].as_f64().expect("ttft");
    assert!((150.0..300.0).contains(&ttft_p50), "ttft p50 {ttft_p50}");
    let gap_p50 = model["chunk_gap_p50_ms"].as_f64().expect("gap");
    assert!((40.0..150.0).contains(&gap_p50), "gap p50 {gap_p50}");
    assert_eq!(
        query_value(
            &data,
            "SELECT count(*), count(DISTINCT call_id), min(source) FROM llm_calls"
        ),
        "20,20,probe"
    );
    let dump = run(
        &data,
        &["query", "--format", "json", "SELECT * FROM llm_calls"],
    );
    assert!(!stdout(&dump).contains("SECRET"));
}

#[test]
fn probe_check_tools_tells_a_tool_caller_from_a_model_that_only_talks() {
    let upstream = FakeUpstream::start(Delays {
        ttft_ms: 5,
        chunk_ms: 1,
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let fit = probe(
        &data,
        &upstream,
        &["--model", "fake-tool", "--requests", "5", "--check-tools"],
    );
    assert!(fit.status.success(), "{}", stderr(&fit));
    assert!(stdout(&fit).contains(" fit "), "{}", stdout(&fit));
    let unfit = probe(
        &data,
        &upstream,
        &[
            "--model",
            "fake-text",
            "--requests",
            "5",
            "--check-tools",
            "--no-stream",
        ],
    );
    assert_eq!(unfit.status.code(), Some(1), "{}", stdout(&unfit));
    assert!(
        stdout(&unfit).contains("is NOT FIT for a tool-using workflow: 0 of 5"),
        "{}",
        stdout(&unfit)
    );
    // Every request failing is a failed probe, with the errors counted.
    let failing = probe(
        &data,
        &upstream,
        &["--model", "fake-error-429", "--requests", "3"],
    );
    assert_eq!(failing.status.code(), Some(1));
    assert!(
        stdout(&failing).contains("fake-error-429"),
        "{}",
        stdout(&failing)
    );
}
