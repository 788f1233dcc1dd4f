//! `runlens validate` on the bundled transcripts: the hollow session fails the check.

use crate::common::{query_rows, query_value, run, stderr, stdout};

#[test]
fn the_hollow_sample_session_fails_validation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(
        &dir.path().join("unused"),
        &["validate", "sample-data/sessions"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "wf-hollow-001",
        "system_only",
        "zero_tool_calls",
        "tool_call_as_text",
        "message 4: FAILED tests/test_parser.py",
        "14 session(s), 4 with errors",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    // validate writes nothing.
    assert!(!dir.path().join("unused").exists());
}

#[test]
fn json_output_and_expectations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("unused");
    let healthy = "sample-data/sessions/agent-workflow/healthy-session.json";
    let out = run(&data, &["validate", healthy, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sessions: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(sessions[0]["session_id"], "wf-healthy-002");
    assert_eq!(sessions[0]["status"], "ok");
    assert_eq!(sessions[0]["tool_calls"], 2);

    let out = run(
        &data,
        &[
            "validate",
            healthy,
            "--format",
            "json",
            "--expect-tool",
            "run_tests",
            "--min-tool-calls",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let sessions: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let codes: Vec<&str> = sessions[0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["too_few_tool_calls", "missing_expected_tool"]);
}

#[test]
fn sessions_shows_token_totals_per_session_and_per_day() {
    use crate::common::query_rows;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    assert!(
        run(&data, &["ingest", "sample-data/sessions"])
            .status
            .success()
    );
    let out = run(&data, &["sessions", "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Hand-counted in sample-data/README.md: 148 + 432 + 47,300 + 2,800 = 50,680.
    assert!(
        text.contains(
            "3f1c2a4e-7b9d-4c1e-9a2f-5d6e7f8a9b0c,claude_code,claude-sonnet-4-5-20250929,"
        ),
        "{text}"
    );
    assert!(text.contains(",9,4,148,432,47300,2800,50680,"), "{text}");
    // Priced with the bundled snapshot: Sonnet 4.5 answered with 148 − 120 input, 432 − 30
    // output, 47,300 cache reads and 2,800 (5-minute) cache writes: 28 × $3 + 402 × $15 +
    // 47,300 × $0.30 + 2,800 × $3.75 = $0.030804 per million; the Haiku 4.5 sidechain
    // response 120 × $1 + 30 × $5 = $0.00027. Together $0.031074.
    let claude = text
        .lines()
        .find(|l| l.starts_with("3f1c2a4e-"))
        .expect("the Claude Code session");
    let cost: f64 = claude
        .split(',')
        .nth(11)
        .and_then(|c| c.parse().ok())
        .expect("a cost");
    assert!((cost - 0.031_074).abs() < 1e-12, "{claude}");
    assert!(claude.ends_with(",warning"), "{claude}");
    // Sessions without reported usage have no total, not 0.
    assert!(
        text.contains("wf-hollow-001,workflow_session,llama3.2:3b,"),
        "{text}"
    );
    assert!(text.contains(",1,0,,,,,,,error"), "{text}");
    let out = run(&data, &["sessions", "--daily", "--format", "csv"]);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("2026-11-20,1,5,148,432,47300,2800,50680,0.0310")),
        "{}",
        stdout(&out)
    );
    // The validation verdict is stored with the evidence.
    let details = query_rows(
        &data,
        "SELECT finding_details FROM sessions WHERE session_id = 'wf-texttool-003'",
    );
    assert!(details[0].contains("tool_call_as_text"), "{details:?}");
}

#[test]
fn since_leaves_old_files_unopened_and_until_bounds_the_views() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    let copy = |name: &str, from: &str, modified_secs: u64| {
        let to = inputs.join(name);
        std::fs::copy(from, &to).expect("copy");
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(modified_secs);
        std::fs::File::options()
            .write(true)
            .open(&to)
            .and_then(|f| f.set_modified(when))
            .expect("set mtime");
    };
    // Written in 2020 (older than --since), and in November 2025 (its calls are dated
    // 2025-11-18).
    copy(
        "old.json",
        "sample-data/sessions/agent-workflow/hollow-session.json",
        1_577_836_800,
    );
    copy(
        "chat.json",
        "sample-data/sessions/openai/chat-completion-pair.json",
        1_763_457_200,
    );
    let inputs_arg = inputs.to_string_lossy().to_string();

    let out = run(&data, &["validate", &inputs_arg, "--since", "2025-01-01"]);
    // The hollow session is in the file left out, so nothing fails.
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 session(s), 0 with errors"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("1 file(s) left out unopened"),
        "{}",
        stderr(&out)
    );

    let out = run(&data, &["ingest", &inputs_arg, "--since", "20250101"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 file(s) left out unopened: last modified before --since"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        query_rows(&data, "select session_id from sessions"),
        ["chat"]
    );
    // The views take the window too: the call was made on 2025-11-18.
    let day = |args: &[&str]| {
        let mut all = vec!["sessions", "--daily", "--format", "csv"];
        all.extend_from_slice(args);
        stdout(&run(&data, &all))
    };
    assert!(
        day(&["--since", "2025-11-18", "--until", "2025-11-18"])
            .contains("2025-11-18,1,1,512,58,1024")
    );
    assert_eq!(
        day(&["--until", "2025-11-17"]).lines().count(),
        1,
        "only the header"
    );
    assert!(
        run(&data, &["sessions", "--since", "tomorrow"])
            .status
            .code()
            == Some(2)
    );
}

#[test]
fn token_totals_by_model_format_and_label() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let out = run(
        &data,
        &["ingest", "--label", "team=core", "sample-data/sessions"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let by = |args: &[&str]| {
        let mut all = vec!["sessions", "--format", "csv"];
        all.extend_from_slice(args);
        let out = run(&data, &all);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    // Sonnet 4.5 answered in four samples (sample-data/README.md): the Claude Code transcript
    // without its haiku sidechain response (148 − 120 input, 432 − 30 output, 47,300, 2,800),
    // the Anthropic pair (412, 96, 3,072, 0), the result object's sonnet share (40, 900,
    // 60,000, 8,000) and the stream (9, 80, 29,200, 1,350).
    let models = by(&["--by", "model"]);
    assert!(
        models.contains("claude-sonnet-4-5-20250929,4,8,489,1478,139572,12150,153689"),
        "{models}"
    );
    // The 429 reply has no model and no usage: last, empty, never 0.
    assert_eq!(models.lines().last(), Some(",1,1,,,,,,"));
    let formats = by(&[
        "--by",
        "format",
        "--daily",
        "--since",
        "2025-11-18",
        "--until",
        "2025-11-18",
    ]);
    assert!(
        formats.contains("2025-11-18,codex_rollout,1,4,3188,1102,32512,,36802"),
        "{formats}"
    );
    assert!(by(&["--by", "label:team"]).contains("core,11,21,"));
    let unknown = run(&data, &["sessions", "--by", "label:nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("labels present: aggregate, reported_cost_usd, sidechain, team")
    );
}

/// A call that reported no usage costs nothing known and is not "unpriced": only calls with
/// usage and no price are counted in the warning, each model under its own name.
#[test]
fn only_calls_with_usage_count_as_unpriced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let sample = std::fs::read_to_string("sample-data/sessions/anthropic/messages-pair.json")
        .expect("sample");
    let exchange = |model: &str, id: &str, usage: bool| {
        let mut value: serde_json::Value = serde_json::from_str(&sample).expect("json");
        let response = value["response"].as_object_mut().expect("response");
        response.insert("model".into(), model.into());
        response.insert("id".into(), id.into());
        if !usage {
            response.remove("usage");
        }
        value.to_string()
    };
    for (name, model, id, usage) in [
        ("a.json", "in-house-model-7", "msg_a", true),
        ("b.json", "in-house-model-7", "msg_b", true),
        ("c.json", "in-house-model-7", "msg_c", false),
        ("d.json", "in-house-model-8", "msg_d", false),
    ] {
        std::fs::write(dir.path().join(name), exchange(model, id, usage)).expect("write");
    }
    let inputs = dir.path().join("*.json").to_string_lossy().to_string();
    assert!(run(&data, &["ingest", &inputs]).status.success());
    let out = run(&data, &["sessions", "--by", "model", "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warned = stderr(&out);
    assert!(
        warned.contains("no price for in-house-model-7 (2 call(s)) in"),
        "{warned}"
    );
    assert!(!warned.contains("in-house-model-8"), "{warned}");
    // Its calls' tokens are counted, their cost left empty; model 8's call has neither.
    assert!(
        stdout(&out).contains("in-house-model-7,3,3,824,192,6144,0,7160,\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_model_without_a_price_has_no_cost_and_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let pair = std::fs::read_to_string("sample-data/sessions/anthropic/messages-pair.json")
        .expect("sample")
        .replace("claude-sonnet-4-5-20250929", "in-house-model-7");
    let file = dir.path().join("custom.json");
    std::fs::write(&file, pair).expect("write");
    let file = file.to_string_lossy().to_string();
    assert!(run(&data, &["ingest", &file]).status.success());
    let out = run(&data, &["sessions", "--by", "model", "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no price for in-house-model-7 (1 call(s))"),
        "{}",
        stderr(&out)
    );
    // Tokens counted, cost empty: never a silent 0.
    assert!(
        stdout(&out).contains("in-house-model-7,1,1,412,96,3072,0,3580,\n"),
        "{}",
        stdout(&out)
    );
    // A price file that knows it fills the cost in: 412 × $1 + 96 × $2 + 3,072 × $1 (no
    // cache-read rate: the input rate) = $0.003676.
    let prices = dir.path().join("prices.toml");
    std::fs::write(
        &prices,
        "[[model]]\nname = \"in-house-model-7\"\ninput = 1.0\noutput = 2.0\n",
    )
    .expect("write");
    let prices = prices.to_string_lossy().to_string();
    let priced = stdout(&run(
        &data,
        &[
            "sessions", "--by", "model", "--format", "csv", "--prices", &prices,
        ],
    ));
    assert!(priced.contains(",3580,0.003676"), "{priced}");
}

/// A Claude Code project with both sub-agent layouts (2.0.x `agent-*.jsonl` beside the
/// session, 2.1.x `<session>/subagents/`), a warm-up and a compaction agent, and a question
/// answered without tools (tests/fixtures/claude-code-agents).
const AGENTS_PROJECT: &str = "tests/fixtures/claude-code-agents";
const WITH_SUBAGENTS: &str = "7a9e4c1d-2b3f-4e5a-8c6d-0e1f2a3b4c5d";
const WITH_WARMUP: &str = "c41d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const QUESTION: &str = "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9";

fn by_session(json: &serde_json::Value) -> std::collections::BTreeMap<String, serde_json::Value> {
    json.as_array()
        .expect("an array")
        .iter()
        .map(|s| (s["session_id"].as_str().expect("id").to_string(), s.clone()))
        .collect()
}

/// One row per session, its sub-agents' tokens and tool calls included (counted by hand
/// from the fixture's lines); warm-up and compaction agents are not errors; a question
/// answered without tools is a warning unless tool calls were expected.
#[test]
fn sub_agents_fold_into_their_sessions_and_only_expected_tools_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let out = run(&data, &["validate", AGENTS_PROJECT, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let sessions = by_session(&serde_json::from_str(&stdout(&out)).expect("json"));
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    let s = &sessions[WITH_SUBAGENTS];
    // main: Task; sub-agent: Edit; compaction: none.
    assert_eq!(s["tool_calls"], 2);
    // Output 40 + 20 (main) + 60 + 10 (sub-agent) + 150 (compaction); cache reads
    // 1000 + 1500 + 800 + 900 + 2000.
    assert_eq!(s["output_tokens"], 280);
    assert_eq!(s["cache_read_tokens"], 6200);
    assert_eq!(s["messages"], 10);
    assert_eq!(s["status"], "ok");
    let kinds: Vec<&str> = s["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| a["agent_kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["main", "subagent", "compaction"]);
    let w = &sessions[WITH_WARMUP];
    // Bash in the main agent; output 35 + 15 (main) + 3 (warm-up).
    assert_eq!(
        (&w["tool_calls"], &w["output_tokens"]),
        (&1.into(), &53.into())
    );
    assert_eq!(w["agents"][1]["agent_kind"], "warmup");
    assert_eq!(w["status"], "ok");
    let q = &sessions[QUESTION];
    assert_eq!(q["status"], "warning");
    assert_eq!(q["findings"][0]["code"], "no_tool_calls");

    // Expected tool calls: the question is an error (and says why); the agents are not.
    let out = run(
        &data,
        &[
            "validate",
            AGENTS_PROJECT,
            "--format",
            "json",
            "--expect-tool-calls",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let sessions = by_session(&serde_json::from_str(&stdout(&out)).expect("json"));
    let q = &sessions[QUESTION];
    assert_eq!(q["findings"][0]["code"], "zero_tool_calls");
    assert!(
        q["findings"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("--expect-tool-calls"))
    );
    assert_eq!(sessions[WITH_SUBAGENTS]["status"], "ok");
    assert_eq!(sessions[WITH_WARMUP]["status"], "ok");

    // The dataset folds the agents the same way: `sessions` gives the same totals, and
    // with --agents one row per agent under each session, adding up to it.
    let ingest = run(&data, &["ingest", AGENTS_PROJECT]);
    assert!(ingest.status.success(), "{}", stderr(&ingest));
    let listed = run(&data, &["sessions", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).expect("json");
    let listed = by_session(&listed);
    assert_eq!(listed[WITH_SUBAGENTS]["output_tokens"], 280);
    assert_eq!(listed[WITH_SUBAGENTS]["tool_calls"], 2);
    assert_eq!(listed[WITH_WARMUP]["output_tokens"], 53);
    let agents = run(&data, &["sessions", "--agents", "--format", "csv"]);
    let text = stdout(&agents);
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (agent, output) = (column("agent"), column("output_tokens"));
    let mut sums: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for line in &lines[1..] {
        let cells: Vec<&str> = line.split(',').collect();
        let value: i64 = cells[output].parse().expect("tokens");
        let entry = sums.entry(cells[0]).or_default();
        match cells[agent] {
            "session" => entry.0 += value,
            _ => entry.1 += value,
        }
    }
    assert_eq!(sums[WITH_SUBAGENTS], (280, 280), "{text}");
    assert_eq!(sums[WITH_WARMUP], (53, 53), "{text}");
    assert!(text.contains("compaction acompact-9f8e7d") && text.contains("warmup 5d1e9a2b"));
    assert_eq!(
        query_rows(
            &data,
            "select count(*) from session_agents where session_id = '7a9e4c1d-2b3f-4e5a-8c6d-0e1f2a3b4c5d'"
        ),
        ["3"]
    );
}

/// Pointed at nothing, like ccusage: with no dataset, `sessions` reads the agents' own
/// folders (here CLAUDE_CONFIG_DIR and CODEX_HOME) and says where it looked; `validate`
/// without paths does the same; `sessions PATH` reads the path and leaves --data alone.
#[test]
fn sessions_and_validate_find_the_agents_transcripts_themselves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let claude = dir.path().join("claude");
    let codex = dir.path().join("codex");
    std::fs::create_dir_all(codex.join("sessions")).expect("mkdir");
    copy_dir(
        &crate::common::repo_root()
            .join(AGENTS_PROJECT)
            .join("projects"),
        &claude.join("projects"),
    );
    let nowhere = dir.path().join("no-dataset");
    let with_env = |args: &[&str]| {
        crate::common::runlens(&nowhere)
            .args(args)
            .env("CLAUDE_CONFIG_DIR", &claude)
            .env("CODEX_HOME", &codex)
            .env("HOME", dir.path())
            .output()
            .expect("runs")
    };
    let out = with_env(&["sessions", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "reading the agents' transcripts in {}, {}",
            claude.join("projects").display(),
            codex.join("sessions").display()
        )),
        "{}",
        stderr(&out)
    );
    let listed = by_session(&serde_json::from_str(&stdout(&out)).expect("json"));
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[WITH_SUBAGENTS]["output_tokens"], 280);
    assert!(!nowhere.exists(), "nothing written to --data");

    let out = with_env(&["validate", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        by_session(&serde_json::from_str(&stdout(&out)).expect("json")).len(),
        3
    );

    // A path: only it is read.
    let one = format!("{AGENTS_PROJECT}/projects/-home-dev-shop/{QUESTION}.jsonl");
    let out = with_env(&["sessions", &one, "--format", "json"]);
    let listed = by_session(&serde_json::from_str(&stdout(&out)).expect("json"));
    assert_eq!(listed.keys().collect::<Vec<_>>(), [QUESTION]);

    // Nothing anywhere: a usage error naming where it looked.
    let empty = dir.path().join("empty");
    let out = crate::common::runlens(&nowhere)
        .args(["sessions"])
        .env("CLAUDE_CONFIG_DIR", &empty)
        .env("CODEX_HOME", &empty)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no transcripts found: looked in"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A label the user names: ingested with `--label workflow=coding`, the batch's sessions
/// are expected to call tools under `--expect-tool-calls-where workflow=coding`; under
/// another label they are not.
#[test]
fn a_named_label_makes_tool_calls_expected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = |label: &str| {
        let data = dir.path().join(label);
        let out = run(
            &data,
            &[
                "ingest",
                "--label",
                label,
                "--expect-tool-calls-where",
                "workflow=coding",
                AGENTS_PROJECT,
            ],
        );
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", stderr(&out));
        query_value(
            &data,
            &format!("select findings from sessions where session_id = '{QUESTION}'"),
        )
    };
    assert_eq!(status("workflow=coding"), "zero_tool_calls");
    assert_eq!(status("workflow=qa"), "no_tool_calls");
}
