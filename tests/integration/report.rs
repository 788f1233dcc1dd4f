//! `runlens report` on the bundled samples: Markdown, CSV and JSON snapshots of a fixed
//! dataset, the hollow session first among the findings, and the exit status.

use crate::common::{repo_root, run, stderr, stdout};

fn report(format: &str) -> (String, Option<i32>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(
        &dir.path().join("unused"),
        &["report", "sample-data", "--format", format],
    );
    assert!(
        !dir.path().join("unused").exists(),
        "report on paths must not touch --data"
    );
    (stdout(&output), output.status.code())
}

#[test]
fn markdown_report_of_the_samples() {
    let (text, code) = report("md");
    // A session that made no tool call fails the whole, and is the first finding.
    assert_eq!(code, Some(1));
    let findings = text
        .find("## Validation findings")
        .expect("findings section");
    let phases = text.find("## Per phase").expect("phase section");
    assert!(findings < phases);
    assert!(
        text[findings..]
            .lines()
            .nth(4)
            .is_some_and(|l| l.contains("zero_tool_calls"))
    );
    insta::assert_snapshot!(text);
}

#[test]
fn csv_and_json_reports_hold_the_same_tables() {
    let (csv, _) = report("csv");
    insta::assert_snapshot!(csv);
    let (json, _) = report("json");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["verdict"], "FAIL");
    assert_eq!(
        value["sections"]["findings"]["rows"][0]["session_id"],
        "wf-hollow-001"
    );
    insta::assert_snapshot!(json);
}

#[test]
fn report_writes_to_a_file_and_judges_targets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.md");
    let targets = repo_root().join("sample-data/targets.toml");
    let output = run(
        &dir.path().join("d"),
        &[
            "report",
            "sample-data",
            "--targets",
            targets.to_str().expect("path"),
            "--out",
            out.to_str().expect("path"),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = std::fs::read_to_string(&out).expect("report written");
    assert!(text.contains("## Targets"));
    assert!(stdout(&output).is_empty());
}
