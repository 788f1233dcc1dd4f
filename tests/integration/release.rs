//! `runlens report --baseline … --candidate …`, the release comparison: on a dataset where
//! version 1.5's build phase is 20 % slower and its sessions stopped calling tools, every
//! format says regression, names the sessions first and the phase next, and exits 1; two
//! batches of one version say no significant change and exit 0. The Markdown parses as
//! GitHub's tables, the HTML renders in headless Chromium, and every figure is the one
//! `runlens compare --phase --format json` gives.

use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::common::{run, stderr, stdout};
use crate::report::{chromium, headless};

/// Eight runs of `version` (plan ~2 s, build ~5 s × `slow`, a GNU time report each) and
/// eight OpenAI sessions that offered a tool: called when `tools`, not otherwise.
fn write_version(dir: &Path, version: &str, slow: f64, tools: bool, shift: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for i in 0..8 {
        let jitter = 0.004 * ((i * 5 + shift) % 8) as f64;
        let plan = 2.0 + i as f64 * 0.013 + jitter;
        let build = (5.0 + i as f64 * 0.021 + jitter) * slow;
        let wall = plan + build + 0.3;
        std::fs::write(
            dir.join(format!("run{i}.log")),
            format!(
                "Phase 1: plan\nPhase 1 complete ({plan:.3}s)\nPhase 2: build\n\
                 Phase 2 complete ({build:.3}s)\n\tCommand being timed: \"./workflow\"\n\
                 \tUser time (seconds): 1.50\n\tSystem time (seconds): 0.20\n\
                 \tElapsed (wall clock) time (h:mm:ss or m:ss): 0:{wall:05.2}\n\
                 \tMaximum resident set size (kbytes): {}\n\tExit status: 0\n",
                300_000 + i * 1000
            ),
        )
        .expect("write run");
        let message = if tools {
            r#"{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"grep","arguments":"{\"q\":\"x\"}"}}]}"#
        } else {
            r#"{"role":"assistant","content":"Done."}"#
        };
        std::fs::write(
            dir.join(format!("session-{version}-{shift}-{i}.json")),
            format!(
                r#"{{"request":{{"model":"gpt-4o","tools":[{{"type":"function","function":{{"name":"grep"}}}}],"messages":[{{"role":"user","content":"find x"}}]}},
                "response":{{"id":"c-{version}-{shift}-{i}","object":"chat.completion","created":{},"model":"gpt-4o-2024-08-06","choices":[{{"index":0,"message":{message},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":{},"completion_tokens":{}}}}}}}"#,
                1_763_800_000 + i,
                1000 + i,
                50 + i
            ),
        )
        .expect("write session");
    }
}

/// The dataset: 1.4 (batch a and b) and 1.5.
fn dataset(root: &Path) -> std::path::PathBuf {
    let data = root.join("d");
    for (version, batch, slow, tools, shift) in [
        ("1.4", "a", 1.0, true, 0),
        ("1.4", "b", 1.0, true, 3),
        ("1.5", "a", 1.2, false, 0),
    ] {
        let inputs = root.join(format!("{version}{batch}"));
        write_version(&inputs, version, slow, tools, shift);
        let out = run(
            &data,
            &[
                "ingest",
                "--label",
                &format!("version={version}"),
                "--label",
                &format!("batch={batch}"),
                inputs.to_str().expect("path"),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    data
}

/// The GFM tables of a Markdown text: rows of cell texts.
fn gfm_tables(markdown: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let (mut table, mut row, mut cell): (Vec<Vec<String>>, Vec<String>, Option<String>) =
        (Vec::new(), Vec::new(), None);
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Table(_)) => table = Vec::new(),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = &mut cell {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::TableCell) => row.push(cell.take().unwrap_or_default()),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                table.push(std::mem::take(&mut row))
            }
            Event::End(TagEnd::Table) => tables.push(std::mem::take(&mut table)),
            _ => {}
        }
    }
    tables
}

#[test]
fn a_slower_phase_and_hollow_sessions_are_a_regression_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dataset(dir.path());
    let release = |format: &str| {
        run(
            &data,
            &[
                "report",
                "--baseline",
                "version=1.4",
                "--candidate",
                "version=1.5",
                "--format",
                format,
            ],
        )
    };

    let md = release("md");
    assert_eq!(md.status.code(), Some(1), "{}", stderr(&md));
    let text = stdout(&md);
    let reasons: Vec<&str> = text.lines().filter(|l| l.starts_with("- ")).collect();
    assert!(text.contains("**🔴 Regression**"), "{text}");
    assert!(
        reasons[0]
            .starts_with("- 8 of 8 candidate session(s) made zero tool calls (baseline: 0 of 16)"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("- phase \"build\": phase time 20.0 % higher (worse"),
        "{reasons:?}"
    );
    assert!(
        !text.contains("phase_time") && !text.contains("mean_time_ms"),
        "raw names: {text}"
    );
    // GitHub's reading: the totals, the findings (new first), the per-phase table.
    let tables = gfm_tables(&text);
    assert_eq!(tables.len(), 3, "{text}");
    for table in &tables {
        let width = table[0].len();
        assert!(table.iter().all(|row| row.len() == width), "{table:?}");
    }
    // The sessions were offered a tool, not told to use it: `no_tool_calls`.
    assert_eq!(tables[1][1][0], "no tool calls");
    assert_eq!(tables[1][1][3], "🔴 new in the candidate");
    let build = tables[2]
        .iter()
        .find(|row| row[0] == "build")
        .expect("a build row");
    assert_eq!(
        (build[4].as_str(), build[7].as_str()),
        ("▲ +20.0 %", "🔴 worse")
    );
    let plan = tables[2].iter().find(|row| row[0] == "plan").expect("plan");
    assert_eq!(plan[7], "⚪ no significant difference");
    assert!(text.contains("<details>\n<summary>Per phase: 2 comparisons, 1 worse</summary>"));

    // Every figure is compare's on the same groups.
    let json = release("json");
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(report["verdict"], "regression");
    let compare = run(
        &data,
        &[
            "compare",
            "--baseline",
            "version=1.4",
            "--candidate",
            "version=1.5",
            "--phase",
            "--format",
            "json",
        ],
    );
    let compare: serde_json::Value = serde_json::from_str(&stdout(&compare)).expect("json");
    assert_eq!(report["comparisons"], compare["rows"]);
    assert!(
        report["comparisons"]
            .as_array()
            .is_some_and(|r| r.len() >= 8)
    );

    // The HTML page: the same verdict, its charts, and a picture in headless Chromium.
    let html = release("html");
    assert_eq!(html.status.code(), Some(1));
    let page = stdout(&html);
    assert!(page.contains("id=\"verdict\">Regression</span>"));
    assert!(page.contains("id=\"chart-phases-phase_time\""));
    assert!(page.contains("id=\"chart-distribution-wall_time\""));
    let Some(chromium) = chromium() else { return };
    let file = dir.path().join("release.html");
    std::fs::write(&file, &page).expect("write page");
    let shot = dir.path().join("release.png");
    let out = headless(&chromium, &dir.path().join("profile"))
        .args([
            "--window-size=1200,1600",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", file.display()),
        ])
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&shot).expect("screenshot");
    let mut reader = png::Decoder::new(bytes.as_slice())
        .read_info()
        .expect("a PNG");
    assert_eq!((reader.info().width, reader.info().height), (1200, 1600));
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).expect("pixels");
    let channels = frame.color_type.samples();
    // The verdict's dark red badge and the candidate's orange bars are on the page.
    let has = |rgb: [u8; 3]| {
        pixels[..frame.buffer_size()]
            .chunks(channels)
            .any(|p| p[..3] == rgb)
    };
    assert!(has([0x8b, 0, 0]), "no regression badge in the screenshot");
    assert!(has([230, 159, 0]), "no candidate bars in the screenshot");
}

#[test]
fn two_batches_of_one_version_are_no_significant_change_and_saved_baselines_travel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dataset(dir.path());
    let out = run(
        &data,
        &[
            "report",
            "--baseline",
            "version=1.4,batch=a",
            "--candidate",
            "version=1.4,batch=b",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("**⚪ No significant change**"),
        "{}",
        stdout(&out)
    );

    // A baseline saved by compare, carried to another dataset as a file, still knows its
    // sessions called their tools.
    let saved = run(
        &data,
        &[
            "compare",
            "--baseline",
            "version=1.4",
            "--phase",
            "--save-baseline",
            "v1.4",
        ],
    );
    assert!(saved.status.success(), "{}", stderr(&saved));
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join("baselines")).expect("mkdir");
    std::fs::copy(
        data.join("baselines/v1.4.json"),
        other.join("baselines/v1.4.json"),
    )
    .expect("copy the artifact");
    let inputs = dir.path().join("1.5a");
    let ingest = run(
        &other,
        &[
            "ingest",
            "--label",
            "version=1.5",
            inputs.to_str().expect("path"),
        ],
    );
    assert!(ingest.status.success());
    let out = run(
        &other,
        &[
            "report",
            "--baseline",
            "saved:v1.4",
            "--candidate",
            "version=1.5",
            "--format",
            "md",
            "--expect-speedup",
            "phase_time=1.1x",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("- 8 of 8 candidate session(s) made zero tool calls (baseline: 0 of 16)"),
        "{text}"
    );
    assert!(text.contains("Speed-up claims: 0 of 1 hold"), "{text}");
    let bad = run(
        &other,
        &[
            "report",
            "--baseline",
            "saved:v1.4",
            "--candidate",
            "version=1.5",
            "--expect-speedup",
            "speed=2x",
        ],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

/// `--prices` prices the cost metrics of `compare` and of the release report alike: at $1
/// per million input tokens and $2 per million output, call i of a batch costs
/// (1000 + i) × 1e-6 + (50 + i) × 2e-6 USD, so the median of eight calls (i = 3 and 4) is
/// 1003.5e-6 + 107e-6 = 0.0011105 USD.
#[test]
fn a_price_file_prices_compare_and_the_release_report_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dataset(dir.path());
    let prices = dir.path().join("prices.toml");
    std::fs::write(
        &prices,
        "[[model]]\nname = \"gpt-4o-2024-08-06\"\ninput = 1.0\noutput = 2.0\n",
    )
    .expect("write");
    let prices = prices.to_string_lossy().to_string();
    let groups = [
        "--baseline",
        "version=1.4,batch=a",
        "--candidate",
        "version=1.5",
    ];
    let call_cost = |args: &[&str]| -> (f64, f64) {
        let out = run(&data, args);
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        let rows = json
            .get("comparisons")
            .or_else(|| json.get("rows"))
            .and_then(|rows| rows.as_array())
            .expect("comparison rows")
            .clone();
        let row = rows
            .iter()
            .find(|r| r["metric"] == "cost" && r["phase"] == "(total)")
            .expect("a cost row");
        (
            row["baseline_median"].as_f64().expect("baseline"),
            row["candidate_median"].as_f64().expect("candidate"),
        )
    };
    let mut compare = vec![
        "compare", "--phase", "--format", "json", "--prices", &prices,
    ];
    compare.extend(groups);
    let mut report = vec!["report", "--format", "json", "--prices", &prices];
    report.extend(groups);
    let (baseline, candidate) = call_cost(&compare);
    assert!((baseline - 0.0011105).abs() < 1e-12, "{baseline}");
    assert!((candidate - 0.0011105).abs() < 1e-12, "{candidate}");
    assert_eq!(call_cost(&report), (baseline, candidate));
    // The bundled snapshot prices gpt-4o otherwise.
    let mut bundled = vec!["compare", "--phase", "--format", "json"];
    bundled.extend(groups);
    assert_ne!(call_cost(&bundled).0, baseline);
}
