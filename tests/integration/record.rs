//! `runlens record`: real commands with known behaviour (sleep a known time, touch a known
//! amount of memory, fail, hang, leak a secret), checked through the dataset.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{query_rows, query_value, run, runlens, stderr, stdout};

const MIB: f64 = 1024.0 * 1024.0;

/// A Python child that holds `mib` MiB (every page written) for `seconds`, then exits.
fn memory_and_sleep(mib: usize, seconds: f64) -> Vec<String> {
    let script = format!(
        "import time\nb = bytearray({mib} * 1048576)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\ntime.sleep({seconds})\n"
    );
    vec!["python3".into(), "-c".into(), script]
}

fn record(data: &Path, options: &[&str], command: &[String]) -> std::process::Output {
    let mut args: Vec<&str> = vec!["record", "--hide-output"];
    args.extend_from_slice(options);
    args.push("--");
    args.extend(command.iter().map(String::as_str));
    run(data, &args)
}

fn number(text: &str) -> f64 {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

#[test]
fn wall_time_and_peak_rss_match_a_known_child_on_both_accounting_paths() {
    assert!(
        Path::new("/usr/bin/time").exists(),
        "/usr/bin/time is needed for the time path (.ci/run installs Debian's `time`)"
    );
    let mut peaks = Vec::new();
    for accounting in ["time", "rusage"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("d");
        let out = record(
            &data,
            &[
                "--runs",
                "1",
                "--accounting",
                accounting,
                "--sample-interval",
                "50",
            ],
            &memory_and_sleep(200, 1.0),
        );
        assert!(out.status.success(), "{accounting}: {}", stderr(&out));
        let row = query_value(
            &data,
            "SELECT time_format, wall_ms, max_rss_bytes, tree_peak_rss_bytes, user_ms + sys_ms FROM runs",
        );
        let f: Vec<&str> = row.split(',').collect();
        let expected_format = if accounting == "time" {
            "gnu-verbose"
        } else {
            "rusage"
        };
        assert_eq!(f[0], expected_format, "{row}");
        let (wall, max_rss, tree_peak) = (number(f[1]), number(f[2]), number(f[3]));
        // Sleeps 1 s after allocating: the sleep is a hard floor; interpreter start and page
        // touching add 0.1-0.3 s here, more when the shared machine is busy.
        assert!(
            (1000.0..3000.0).contains(&wall),
            "{accounting}: wall {wall} ms"
        );
        // 200 MiB written page by page, plus the interpreter (< 40 MiB).
        for (name, v) in [("max_rss", max_rss), ("tree_peak", tree_peak)] {
            assert!(
                (200.0 * MIB..240.0 * MIB).contains(&v),
                "{accounting}: {name} {:.1} MiB",
                v / MIB
            );
        }
        assert!(number(f[4]) > 0.0, "{accounting}: CPU time {row}");
        peaks.push(max_rss);
    }
    // The two paths measure the same kernel figure.
    let ratio = peaks[0] / peaks[1];
    assert!(
        (0.95..1.05).contains(&ratio),
        "time vs rusage peak RSS: {peaks:?}"
    );
}

#[test]
fn the_demo_workflow_records_runs_phases_samples_and_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let out_dir = dir.path().join("out");
    let out_dir_text = out_dir.display().to_string();
    let command: Vec<String> = [
        "sample-data/workflow/demo-workflow.sh",
        out_dir_text.as_str(),
        "0.2",
    ]
    .map(String::from)
    .to_vec();
    let out = record(
        &data,
        &[
            "--runs",
            "2",
            "--warmup",
            "1",
            "--label",
            "provider=demo",
            "--expect",
            "report.md",
            "--expect",
            "summary.json",
            "--expect",
            "chart.png",
            "--output-dir",
            &out_dir_text,
        ],
        &command,
    );
    // chart.png is never written: every counted run misses an output, so exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let table = stdout(&out);
    for needle in [
        "discovery",
        "analysis",
        "report",
        "total",
        "MISSING OUTPUTS: 2 of 2",
        "2 of 3",
    ] {
        assert!(table.contains(needle), "{needle} not in\n{table}");
    }
    assert_eq!(
        query_rows(
            &data,
            "SELECT run_index, is_warmup, exit_code FROM runs ORDER BY run_index"
        ),
        ["0,true,0", "1,false,0", "2,false,0"]
    );
    assert_eq!(
        query_rows(&data, "SELECT DISTINCT phase FROM phases ORDER BY phase"),
        ["analysis", "discovery", "report"]
    );
    assert_eq!(query_value(&data, "SELECT count(*) FROM phases"), "9");
    // Tokens printed inside a phase are counted in it.
    assert_eq!(
        query_value(
            &data,
            "SELECT sum(input_tokens) FROM phases WHERE phase = 'analysis'"
        ),
        "4590"
    );
    let samples: u32 = query_value(&data, "SELECT count(*) FROM samples")
        .parse()
        .expect("count");
    assert!(samples >= 3, "{samples} samples");
    // Per counted and warm-up run: 2 files matching --expect, and the same 2 files announced
    // by the workflow's `::runlens artifact` lines.
    assert_eq!(
        query_value(
            &data,
            "SELECT count(*) FROM artifacts WHERE produced_by_run AND size_bytes > 0 AND expected_glob IS NOT NULL"
        ),
        "6"
    );
    assert_eq!(
        query_value(
            &data,
            "SELECT count(*) FROM artifacts WHERE expected_glob IS NULL AND produced_by_run"
        ),
        "6"
    );
    assert_eq!(
        query_value(&data, "SELECT count(*) FROM artifacts WHERE NOT \"exists\""),
        "3"
    );
    assert_eq!(
        query_value(
            &data,
            "SELECT count(DISTINCT labels) FROM runs WHERE label_provider = 'demo'"
        ),
        "1"
    );
    // Phases tile the run: the first starts after the run, the last ends with it.
    let tiled = query_value(
        &data,
        "SELECT count(*) FROM phases p JOIN runs r ON p.run_id = r.run_id \
         WHERE p.start_ts >= r.start_ts AND p.end_ts <= r.end_ts",
    );
    assert_eq!(tiled, "9");
}

#[test]
fn a_timeout_kills_the_whole_tree_and_flags_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    // A grandchild that would outlive a naive kill of the direct child.
    let command = [
        "sh",
        "-c",
        "echo '::runlens phase stuck'; sleep 31.4159 & sleep 31.4159; wait",
    ]
    .map(String::from);
    let started = Instant::now();
    let out = record(&data, &["--runs", "1", "--timeout", "0.5"], &command);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("timed out: 1 of 1"),
        "{}",
        stdout(&out)
    );
    let row = query_value(
        &data,
        "SELECT timed_out, interrupted, signal, wall_ms FROM runs",
    );
    let f: Vec<&str> = row.split(',').collect();
    assert_eq!(&f[..3], ["true", "false", "15"], "{row}");
    assert!((500.0..5000.0).contains(&number(f[3])), "{row}");
    assert_eq!(query_value(&data, "SELECT phase FROM phases"), "stuck");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !sleepers_alive("31.4159"),
        "a sleep of the killed tree survived"
    );
}

#[test]
fn sigint_stops_the_run_writes_it_flagged_and_stops_the_recording() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let child = runlens(&data)
        .args(["record", "--hide-output", "--runs", "3", "--", "sh", "-c"])
        .arg("echo '::runlens phase waiting'; sleep 27.1828")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn runlens");
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: plain syscall on our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let started = Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted by signal 2"),
        "{}",
        stderr(&out)
    );
    // One run, not three: the recording stopped.
    let row = query_value(
        &data,
        "SELECT count(*), min(CAST(interrupted AS INT)), max(signal) FROM runs",
    );
    assert_eq!(row, "1,1,2");
    assert_eq!(query_value(&data, "SELECT phase FROM phases"), "waiting");
    assert!(
        !sleepers_alive("27.1828"),
        "the interrupted command survived"
    );
}

#[test]
fn failures_are_recorded_and_fail_fast_stops_at_the_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let command = ["sh", "-c", "exit 3"].map(String::from);
    let data = dir.path().join("all");
    let out = record(&data, &["--runs", "3"], &command);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("failed: 3 of 3"), "{}", stdout(&out));
    assert_eq!(
        query_value(&data, "SELECT count(*), min(exit_code) FROM runs"),
        "3,3"
    );

    let data = dir.path().join("fast");
    let out = record(&data, &["--runs", "3", "--fail-fast"], &command);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(query_value(&data, "SELECT count(*) FROM runs"), "1");
}

#[test]
fn prepare_cleanup_and_cooldown_run_around_each_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let trace = dir.path().join("trace");
    let t = trace.display().to_string();
    let prepare = format!("echo prepare >> {t}");
    let cleanup = format!("echo cleanup >> {t}");
    let command = [
        "sh".to_string(),
        "-c".to_string(),
        format!("echo run >> {t}"),
    ];
    let started = Instant::now();
    let out = record(
        &data,
        &[
            "--runs",
            "2",
            "--prepare",
            &prepare,
            "--cleanup",
            &cleanup,
            "--cooldown",
            "0.5",
        ],
        &command,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "no cooldown"
    );
    let text = std::fs::read_to_string(&trace).expect("trace");
    assert_eq!(text, "prepare\nrun\ncleanup\nprepare\nrun\ncleanup\n");
}

#[test]
fn secrets_in_environment_and_arguments_are_stored_nowhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let logs = dir.path().join("logs");
    let env_secret = "plain-looking-env-secret-4242";
    let arg_key = "sk-fakekey0123456789abcdefABCDEF";
    let bearer = "tok3n.value-99";
    let out = runlens(&data)
        .env("RUNLENS_TEST_API_KEY", env_secret)
        .args(["record", "--runs", "1", "--save-output"])
        .arg(&logs)
        .args(["--", "sh", "-c"])
        // The script prints its arguments and the key from the environment: the saved log
        // must be redacted even so.
        .arg("echo \"::runlens phase call $RUNLENS_TEST_API_KEY\"; echo \"args: $*\"")
        .args([
            "wf",
            "--api-key",
            arg_key,
            "--header",
            &format!("Bearer {bearer}"),
            env_secret,
        ])
        .output()
        .expect("runlens runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let mut stored = String::new();
    for table in ["runs", "phases", "samples", "artifacts", "ingest_log"] {
        stored += &query_rows(&data, &format!("SELECT * FROM {table}")).join("\n");
    }
    for entry in std::fs::read_dir(&logs).expect("logs") {
        stored += &std::fs::read_to_string(entry.expect("entry").path()).expect("log");
    }
    assert!(stored.contains("[REDACTED]"), "{stored}");
    assert!(
        stored.contains("args: "),
        "the saved log holds the output: {stored}"
    );
    // runlens's own messages (stderr, and the table on stdout minus the child's echo).
    let own = stderr(&out)
        + &stdout(&out)
            .lines()
            .filter(|l| !l.starts_with("::runlens") && !l.starts_with("args:"))
            .collect::<Vec<_>>()
            .join("\n");
    for secret in [env_secret, arg_key, bearer] {
        assert!(!stored.contains(secret), "{secret} stored:\n{stored}");
        assert!(!own.contains(secret), "{secret} printed by runlens:\n{own}");
    }
}

#[test]
fn a_missing_program_is_a_usage_error_before_any_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d");
    let out = run(&data, &["record", "--", "no-such-program-runlens-test"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not found on PATH"),
        "{}",
        stderr(&out)
    );
    assert!(!data.exists());
}

/// Whether a `sleep SECONDS` process is still running (by its unusual argument).
fn sleepers_alive(seconds: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| {
                let text = String::from_utf8_lossy(&c).replace('\0', " ");
                text.starts_with("sleep ") && text.contains(seconds)
            })
            .unwrap_or(false)
    })
}
