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

/// Debian's Chromium, if installed (`.ci/run` installs it and sets RUNLENS_REQUIRE_CHROMIUM).
pub(crate) fn chromium() -> Option<std::path::PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("RUNLENS_REQUIRE_CHROMIUM").is_none(),
            "chromium is required (apt-get install chromium)"
        );
        eprintln!("skipped: no chromium");
    }
    found
}

/// Chromium headless with the flags this machine needs (no sandbox as root, no network).
pub(crate) fn headless(
    chromium: &std::path::Path,
    profile: &std::path::Path,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
fn html_report_opens_offline_in_headless_chromium_with_its_charts_and_labels_as_text() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("d");
    let hostile = "provider=<script>document.title='pwned'</script>";
    let ingest = run(&data, &["ingest", "sample-data", "--label", hostile]);
    assert!(
        ingest.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&ingest)
    );
    let page = dir.path().join("report.html");
    let charts = dir.path().join("charts");
    let output = run(
        &data,
        &[
            "report",
            "--by",
            "provider",
            "--format",
            "html",
            "--out",
            page.to_str().expect("path"),
            "--charts",
            charts.to_str().expect("path"),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let html = std::fs::read_to_string(&page).expect("page");
    // Self-contained: nothing to fetch.
    for fetch in ["<script", "<link", "src=\"http", "href=\"http", "@import"] {
        assert!(!html.contains(fetch), "the page holds {fetch}");
    }

    let url = format!("file://{}", page.display());
    let dom = headless(&chromium, &dir.path().join("p1"))
        .args(["--dump-dom", &url])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<title>runlens benchmark report</title>"),
        "the label ran as a script"
    );
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
    assert!(dom.contains("id=\"chart-phases\""));
    assert!(dom.matches("<svg").count() >= 3, "charts missing");

    let shot = dir.path().join("shot.png");
    let status = headless(&chromium, &dir.path().join("p2"))
        .args([
            "--window-size=1200,2000",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .expect("chromium runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let bytes = std::fs::read(&shot).expect("screenshot");
    let info = png::Decoder::new(bytes.as_slice())
        .read_info()
        .expect("a PNG");
    assert_eq!((info.info().width, info.info().height), (1200, 2000));

    // The PNG charts: images of the chart size, not empty; the samples' three unrelated
    // workflows make the phase chart three panels of 300 pixels under a 40-pixel title.
    for name in ["phases", "ttft", "cost", "speed"] {
        let height = if name == "phases" { 40 + 3 * 300 } else { 480 };
        let bytes = std::fs::read(charts.join(format!("{name}.png"))).expect("chart written");
        let mut reader = png::Decoder::new(bytes.as_slice())
            .read_info()
            .expect("a PNG");
        assert_eq!(
            (reader.info().width, reader.info().height),
            (900, height),
            "{name}"
        );
        let mut pixels = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut pixels).expect("pixels");
        let drawn = pixels.iter().filter(|&&b| b < 200).count();
        assert!(drawn > 5_000, "{name} is nearly blank ({drawn} dark bytes)");
    }
}

#[test]
fn a_report_on_inputs_it_cannot_read_names_them_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-dir");
    let output = run(
        &dir.path().join("d"),
        &["report", missing.to_str().expect("path")],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no-such-dir: no such file or directory"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("**Verdict: NOT JUDGED**"));
}
