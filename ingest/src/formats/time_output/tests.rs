//! Tests of the time report parser on every shape it reads.
use super::*;

fn scan(text: &str, custom: Option<&CustomFormat>) -> Vec<TimeReport> {
    let mut scanner = TimeScanner::new(custom);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        out.extend(scanner.feed(i as u64 + 1, line));
    }
    out.extend(scanner.finish());
    out
}

#[test]
fn clock_formats() {
    assert_eq!(parse_clock("0:00.10"), Some(100.0));
    assert_eq!(parse_clock("1:02:03"), Some(3_723_000.0));
    assert_eq!(parse_clock("2.5"), Some(2500.0));
    assert_eq!(parse_clock("a:b"), None);
}

#[test]
fn gnu_default_with_failure_status() {
    let text = "Command exited with non-zero status 3\n\
                0.01user 0.02system 0:01.50elapsed 2%CPU (0avgtext+0avgdata 2048maxresident)k\n\
                8inputs+16outputs (1major+90minor)pagefaults 0swaps\n";
    let r = &scan(text, None)[0];
    assert_eq!(r.format, "gnu-default");
    assert_eq!(r.exit_code, Some(3));
    assert_eq!(r.wall_ms, Some(1500.0));
    assert_eq!(r.max_rss_bytes, Some(2048 * 1024));
    assert_eq!(r.minor_page_faults, Some(90));
    assert_eq!(r.first_line, 1);
    assert!(!r.truncated);
}

#[test]
fn bsd_width_tells_macos_from_freebsd() {
    let mac = "        1.25 real         0.50 user         0.10 sys\n\
               \x20           12345678  maximum resident set size\n\
               \x20                 42  page reclaims\n";
    let bsd = "        1.25 real         0.50 user         0.10 sys\n\
               \x20     12344  maximum resident set size\n\
               \x20        42  page reclaims\n";
    let m = &scan(mac, None)[0];
    assert_eq!(m.format, "bsd-macos");
    assert_eq!(m.max_rss_bytes, Some(12_345_678));
    let f = &scan(bsd, None)[0];
    assert_eq!(f.format, "bsd-freebsd");
    assert_eq!(f.max_rss_bytes, Some(12_344 * 1024));
    assert_eq!(f.wall_ms, Some(1250.0));
}

#[test]
fn older_macos_ten_wide_columns_are_bytes_when_page_multiples() {
    let text = "        2.00 real         1.00 user         0.10 sys\n\
                \x20 204800000  maximum resident set size\n\
                \x20     51000  page reclaims\n";
    let r = &scan(text, None)[0];
    assert_eq!(r.format, "bsd-macos");
    assert_eq!(r.max_rss_bytes, Some(204_800_000));
}

/// A report whose first line shares its line with the program's output (a Go benchmark's
/// name, then a tab), as in a real macOS README.
#[test]
fn a_bsd_report_starting_mid_line_is_read() {
    let text = "BenchmarkServer-10    \t        1.83 real         0.60 user         0.14 sys\n\
                \x20           94208000  maximum resident set size\n\
                \x20                 42  page reclaims\n";
    let reports = scan(text, None);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r.format, "bsd-macos");
    assert_eq!(
        (r.wall_ms, r.user_ms, r.sys_ms),
        (Some(1830.0), Some(600.0), Some(140.0))
    );
    assert_eq!(r.max_rss_bytes, Some(94_208_000));
    // Words ending a line are not a report.
    assert!(scan("we keep it real user sys\n", None).is_empty());
}

#[test]
fn bsd_mangled_whitespace_falls_back_to_page_multiples() {
    let text = "1.00 real 0.50 user 0.10 sys\n1048576  maximum resident set size\n";
    assert_eq!(scan(text, None)[0].format, "bsd-macos");
    let text = "1.00 real 0.50 user 0.10 sys\n1234  maximum resident set size\n";
    assert_eq!(scan(text, None)[0].format, "bsd-freebsd");
}

#[test]
fn custom_format_multi_line_and_key_values() {
    let fmt = CustomFormat::compile(r"wall %e s\nrss %M KB exit %x").expect("compiles");
    let r = &scan("noise\nwall 2.50 s\nrss 1000 KB exit 0\n", Some(&fmt))[0];
    assert_eq!(r.format, "gnu-format");
    assert_eq!(r.wall_ms, Some(2500.0));
    assert_eq!(r.max_rss_bytes, Some(1_024_000));
    assert_eq!(r.exit_code, Some(0));
    let kv = "benchmark_process_metrics: user=0.50 sys=0.10 real=0:01.20 percent_cpu=50% max_rss_kb=2000";
    let r = &scan(kv, None)[0];
    assert_eq!(r.format, "keyvalue");
    assert_eq!(r.wall_ms, Some(1200.0));
    assert_eq!(r.cpu_percent, Some(50.0));
    assert!(CustomFormat::compile("%q").is_err());
    assert!(CustomFormat::compile("plain").is_err());
}

#[test]
fn posix_bash_and_zsh() {
    let r = &scan("real 1.50\nuser 0.20\nsys 0.10\n", None)[0];
    assert_eq!(
        (r.format, r.wall_ms, r.sys_ms),
        ("posix", Some(1500.0), Some(100.0))
    );
    let r = &scan("\nreal\t1m2.500s\nuser\t0m0.200s\nsys\t0m0.100s\n", None)[0];
    assert_eq!((r.format, r.wall_ms), ("bash", Some(62_500.0)));
    let r = &scan("./wf.sh  0.50s user 0.10s system 40% cpu 1.500 total", None)[0];
    assert_eq!(
        (r.format, r.wall_ms, r.cpu_percent),
        ("zsh", Some(1500.0), Some(40.0))
    );
}

#[test]
fn gnu_verbose_complete_block() {
    let text = "\tCommand being timed: \"sleep 1\"\n\tUser time (seconds): 0.01\n\
                \tMaximum resident set size (kbytes): 2000\n\tExit status: 0\n";
    let r = &scan(text, None)[0];
    assert!(!r.truncated);
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(r.max_rss_bytes, Some(2_048_000));
    assert_eq!((r.first_line, r.last_line), (1, 4));
}

#[test]
fn gnu_verbose_with_a_command_spanning_lines() {
    let text = "\tCommand being timed: \"python3 -c import time\nb = 1\ntime.sleep(1)\n\"\n\tUser time (seconds): 0.05\n\
        \tMaximum resident set size (kbytes): 2048\n\tExit status: 0\n";
    let reports = scan(text, None);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!(r.format, "gnu-verbose");
    assert_eq!(
        r.command.as_deref(),
        Some("python3 -c import time\nb = 1\ntime.sleep(1)\n")
    );
    assert_eq!(
        (r.user_ms, r.max_rss_bytes, r.truncated),
        (Some(50.0), Some(2_097_152), false)
    );
}

#[test]
fn gnu_verbose_cut_short_is_truncated() {
    let text = "\tCommand being timed: \"sleep 1\"\n\tUser time (seconds): 0.00\n\
                \tElapsed (wall clock) time (h:mm:ss or m:ss): 0:01.00\n";
    let r = &scan(text, None)[0];
    assert!(r.truncated);
    assert_eq!(r.wall_ms, Some(1000.0));
    assert_eq!(r.command.as_deref(), Some("sleep 1"));
}

#[test]
fn a_key_value_report_is_found_by_any_wall_key_in_any_case_and_only_then() {
    for (line, wall_ms) in [
        ("Real=1.5 user=1.0", Some(1500.0)),
        ("done: WALL_MS=250 exit=0", Some(250.0)),
        ("elapsed_s=2 maxrss=100", Some(2000.0)),
        ("x wall_clock=0:03.00 cpu=99%", Some(3000.0)),
        // The key is the whole run of letters before `=`: `surreal` is no wall key.
        ("surreal=1.5 user=1.0", None),
        ("real =1.5 user=1.0", None),
        ("real=fast user=1.0", None),
    ] {
        let found = scan(line, None);
        assert_eq!(found.first().and_then(|r| r.wall_ms), wall_ms, "{line}");
    }
}

/// The check before the key=value regexes finds every report the regexes alone find: on
/// lines put together from wall keys, near misses and log noise, the reports found equal
/// those found when every line with an `=` and a wall key anywhere (any case) is parsed.
#[test]
fn the_key_value_precheck_drops_no_report() {
    use super::scanner::{key_value_report, may_be_key_value};
    let pieces = [
        "real=1.5",
        "Wall=0:02",
        "ELAPSED_MS=30",
        "user=0.5",
        "sys=0.1",
        "surreal=2",
        "wall",
        "=",
        "x=y",
        "realm=3",
        "real_s=4",
        " ",
        "max_rss_kb=10",
        "REAL",
        "_real=1",
        "elapsed=",
        "cpu=50%",
        "wall_clock=1:00:00",
        "path=/tmp/a=b",
    ];
    let reference = |line: &str| {
        line.contains('=')
            && ["real", "wall", "elapsed"]
                .iter()
                .any(|key| crate::formats::contains_ignore_case(line, key))
    };
    let mut checked = 0;
    for a in pieces {
        for b in pieces {
            for c in pieces {
                for sep in [" ", ""] {
                    let line = [a, b, c].join(sep);
                    let by_reference = reference(&line)
                        .then(|| key_value_report(&line, TimeReport::default()))
                        .flatten();
                    let by_precheck = may_be_key_value(&line)
                        .then(|| key_value_report(&line, TimeReport::default()))
                        .flatten();
                    assert_eq!(
                        by_reference.as_ref().map(|r| r.wall_ms),
                        by_precheck.map(|r| r.wall_ms),
                        "{line:?}"
                    );
                    checked += usize::from(by_reference.is_some());
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} reports among the lines");
}
