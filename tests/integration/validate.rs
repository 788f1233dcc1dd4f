//! `runlens validate` on the bundled transcripts: the hollow session fails the check.

use crate::common::{run, stderr, stdout};

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
        "4 session(s), 2 with errors",
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
    assert!(
        text.contains(",9,4,148,432,47300,2800,50680,warning"),
        "{text}"
    );
    // Sessions without reported usage have no total, not 0.
    assert!(
        text.contains("wf-hollow-001,workflow_session,llama3.2:3b,"),
        "{text}"
    );
    assert!(text.contains(",1,0,,,,,,error"), "{text}");
    let out = run(&data, &["sessions", "--daily", "--format", "csv"]);
    assert_eq!(
        stdout(&out).lines().nth(1),
        Some("2026-11-20,1,5,148,432,47300,2800,50680")
    );
    // The validation verdict is stored with the evidence.
    let details = query_rows(
        &data,
        "SELECT finding_details FROM sessions WHERE session_id = 'wf-texttool-003'",
    );
    assert!(details[0].contains("tool_call_as_text"), "{details:?}");
}
