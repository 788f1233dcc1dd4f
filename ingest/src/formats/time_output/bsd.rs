//! BSD `time -l` reports: which platform printed them (macOS prints the maximum RSS in
//! bytes, FreeBSD in KiB) and how each rusage line fills the report.

use super::TimeReport;

/// What a BSD report has shown about its platform.
#[derive(Debug, Default)]
pub(super) struct BsdEvidence {
    label_column: Option<usize>,
    mac_only_lines: bool,
    raw_max_rss: Option<i64>,
}

pub(super) fn bsd_rusage_line(
    report: &mut TimeReport,
    evidence: &mut BsdEvidence,
    label: &str,
    value: Option<i64>,
    column: usize,
) {
    match label {
        "maximum resident set size" => {
            evidence.raw_max_rss = value;
            evidence.label_column = Some(column);
        }
        "page reclaims" => report.minor_page_faults = value,
        "page faults" => report.major_page_faults = value,
        "block input operations" => report.fs_inputs = value,
        "block output operations" => report.fs_outputs = value,
        "voluntary context switches" => report.voluntary_ctx_switches = value,
        "involuntary context switches" => report.involuntary_ctx_switches = value,
        "instructions retired" | "cycles elapsed" | "peak memory footprint" => {
            evidence.mac_only_lines = true
        }
        _ => {}
    }
}

pub(super) fn finish_bsd(mut report: TimeReport, evidence: BsdEvidence) -> TimeReport {
    // Current macOS pads to 20 columns (label at column 22); FreeBSD and older macOS both
    // pad to 10, so there the value decides: macOS bytes are whole 4 KiB pages, FreeBSD's
    // KiB almost never are (1 in 1024 values).
    let page_multiple = evidence.raw_max_rss.is_some_and(|v| v > 0 && v % 4096 == 0);
    let is_macos =
        evidence.mac_only_lines || evidence.label_column.is_some_and(|c| c >= 22) || page_multiple;
    report.format = if is_macos { "bsd-macos" } else { "bsd-freebsd" };
    let unit = if is_macos { 1 } else { 1024 };
    report.max_rss_bytes = evidence.raw_max_rss.map(|v| v * unit);
    // `-l` output that stops before `involuntary context switches` (the last line both
    // platforms print) was cut off; plain BSD `time` has no rusage lines at all.
    report.truncated =
        report.last_line > report.first_line && report.involuntary_ctx_switches.is_none();
    report
}
