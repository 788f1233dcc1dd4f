//! The summary `runlens ingest` prints: files per format and outcome, rows per table, and
//! every problem with its file and line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use runlens_ingest::pipeline::{FileOutcome, FileStatus, IngestSummary};
use runlens_ingest::schema::Table;

use crate::table::{align_right, new_table};

/// Problems listed one per line before "... and N more".
const MAX_PROBLEMS: usize = 50;

/// Renders the whole summary.
pub fn render_ingest_summary(summary: &IngestSummary) -> String {
    let mut out = String::new();
    out.push_str(&format_table(&summary.outcomes));
    out.push('\n');
    let rows = rows_per_table(&summary.outcomes);
    if !rows.is_empty() {
        let mut table = new_table(&["table", "rows"]);
        for (t, n) in &rows {
            table.add_row(vec![t.name().to_string(), n.to_string()]);
        }
        align_right(&mut table, &[1]);
        let _ = writeln!(out, "{table}");
    }
    out.push_str(&problems(&summary.outcomes));
    out.push_str(&verdict(summary));
    out
}

fn format_table(outcomes: &[FileOutcome]) -> String {
    let mut by_format: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
    for o in outcomes {
        let format = match (o.format, o.status) {
            (Some(f), _) => f,
            (None, FileStatus::Skipped) => "(already stored)",
            (None, _) => "(unrecognised)",
        };
        let counts = by_format.entry(format).or_default();
        let column = match o.status {
            FileStatus::Ingested => 0,
            FileStatus::Partial => 1,
            FileStatus::Rejected => 2,
            FileStatus::Skipped => 3,
        };
        counts[column] += 1;
        counts[4] += o.row_count();
    }
    let mut table = new_table(&[
        "format", "ingested", "partial", "rejected", "skipped", "rows",
    ]);
    for (format, c) in &by_format {
        let mut row = vec![format.to_string()];
        row.extend(c.iter().map(|n| n.to_string()));
        table.add_row(row);
    }
    align_right(&mut table, &[1, 2, 3, 4, 5]);
    table.to_string() + "\n"
}

fn rows_per_table(outcomes: &[FileOutcome]) -> BTreeMap<Table, usize> {
    let mut rows = BTreeMap::new();
    for (t, n) in outcomes.iter().flat_map(|o| o.rows.iter()) {
        *rows.entry(*t).or_default() += n;
    }
    rows
}

fn problems(outcomes: &[FileOutcome]) -> String {
    let mut lines = Vec::new();
    for o in outcomes {
        let label = match o.status {
            FileStatus::Rejected => "rejected",
            FileStatus::Partial => "skipped line",
            _ => continue,
        };
        for (i, issue) in o.issues.iter().enumerate() {
            let place = match issue.line {
                Some(line) => format!("{}:{line}", o.path.display()),
                None => o.path.display().to_string(),
            };
            let label = if i == 0 { label } else { "skipped line" };
            lines.push(format!("  {label}: {place}: {}", issue.reason));
        }
        let unlisted = o.bad_lines.saturating_sub(o.issues.len() as u64);
        if unlisted > 0 {
            lines.push(format!(
                "  ... {unlisted} more bad lines in {}",
                o.path.display()
            ));
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let total = lines.len();
    let mut out = String::from("Problems:\n");
    for line in lines.into_iter().take(MAX_PROBLEMS) {
        out.push_str(&line);
        out.push('\n');
    }
    if total > MAX_PROBLEMS {
        let _ = writeln!(
            out,
            "  ... and {} more (see the ingest_log table)",
            total - MAX_PROBLEMS
        );
    }
    out.push('\n');
    out
}

fn verdict(summary: &IngestSummary) -> String {
    let count = |s: FileStatus| summary.outcomes.iter().filter(|o| o.status == s).count();
    let (ingested, partial, rejected, skipped) = (
        count(FileStatus::Ingested),
        count(FileStatus::Partial),
        count(FileStatus::Rejected),
        count(FileStatus::Skipped),
    );
    let rows: usize = summary.outcomes.iter().map(FileOutcome::row_count).sum();
    let mut out = String::new();
    let raced = summary
        .outcomes
        .iter()
        .filter(|o| o.stored_by_another_writer)
        .count();
    if raced > 0 {
        let _ = writeln!(
            out,
            "{raced} file(s) skipped: another writer stored the same content at the same time."
        );
    }
    if summary.dry_run {
        let _ = writeln!(out, "dry run: nothing was written.");
    }
    let already: usize = summary.outcomes.iter().map(|o| o.already_stored_rows).sum();
    if already > 0 {
        let _ = writeln!(
            out,
            "{already} transcript row(s) already stored under the same id (a grown or resumed transcript) were not stored again."
        );
    }
    let unchanged = summary.outcomes.iter().filter(|o| o.unchanged).count();
    if unchanged > 0 {
        let _ = writeln!(
            out,
            "{unchanged} file(s) unchanged since they were stored (same path, size and modification time) were not read."
        );
    }
    // Skipped files logged with what they are now (see `FileOutcome::is_logged`).
    let recognised = match summary.dry_run {
        true => 0,
        false => summary
            .outcomes
            .iter()
            .filter(|o| o.status == FileStatus::Skipped && o.is_logged())
            .count(),
    };
    if recognised > 0 {
        let _ = writeln!(
            out,
            "{recognised} file(s) with a new path, size or modification time were read to be recognised: their content is stored; logged as skipped, they will not be read next time."
        );
    }
    if summary.older_than_since > 0 {
        let _ = writeln!(
            out,
            "{} file(s) left out unopened: last modified before --since.",
            summary.older_than_since
        );
    }
    if ingested + partial == 0 && rejected == 0 && skipped > 0 {
        let written = match recognised {
            0 => "nothing was written",
            _ => "no rows were written",
        };
        let _ = writeln!(
            out,
            "nothing new: all {skipped} file(s) are already in the dataset; {written}."
        );
        return out;
    }
    let verb = if summary.dry_run {
        "would ingest"
    } else {
        "ingested"
    };
    let _ = writeln!(
        out,
        "{verb} {} file(s), {rows} row(s); {skipped} skipped (already in the dataset); {rejected} rejected; {partial} with rejected lines.",
        ingested + partial
    );
    if !summary.dry_run {
        let _ = writeln!(out, "ingest id: {}", summary.ingest_id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use runlens_ingest::formats::LineIssue;

    fn outcome(path: &str, format: Option<&'static str>, status: FileStatus) -> FileOutcome {
        FileOutcome {
            path: path.into(),
            format,
            status,
            size_bytes: 100,
            content_hash: None,
            rows: Vec::new(),
            bad_lines: 0,
            issues: Vec::new(),
            already_stored_rows: 0,
            absolute_path: None,
            modified: None,
            unchanged: false,
            stored_by_another_writer: false,
        }
    }

    fn summary(outcomes: Vec<FileOutcome>) -> IngestSummary {
        IngestSummary {
            ingest_id: "20261122T100000000000Z-1".into(),
            outcomes,
            dry_run: false,
            older_than_since: 0,
        }
    }

    #[test]
    fn mixed_batch() {
        let mut log = outcome("logs/run.log", Some("run_log"), FileStatus::Ingested);
        log.rows = vec![(Table::Runs, 1), (Table::Phases, 3)];
        let mut csv = outcome("lat.csv", Some("latency_csv"), FileStatus::Partial);
        csv.rows = vec![(Table::LlmCalls, 2)];
        csv.bad_lines = 3;
        csv.issues = vec![
            LineIssue::at(3, "column first_token_ms: 'abc' is not a number"),
            LineIssue::at(7, "4 fields where the header has 2"),
        ];
        let mut bad = outcome("empty.txt", None, FileStatus::Rejected);
        bad.issues = vec![LineIssue::file("empty file")];
        let skipped = outcome("old.json", None, FileStatus::Skipped);
        insta::assert_snapshot!(render_ingest_summary(&summary(vec![
            log, csv, bad, skipped
        ])));
    }

    #[test]
    fn files_another_writer_stored_are_reported() {
        let mut raced = outcome("a.json", None, FileStatus::Skipped);
        raced.stored_by_another_writer = true;
        let text = render_ingest_summary(&summary(vec![
            raced,
            outcome("b.json", None, FileStatus::Skipped),
        ]));
        assert!(
            text.contains(
                "1 file(s) skipped: another writer stored the same content at the same time."
            ),
            "{text}"
        );
    }

    #[test]
    fn everything_already_stored() {
        let outcomes = vec![
            outcome("a.json", None, FileStatus::Skipped),
            outcome("b.json", None, FileStatus::Skipped),
        ];
        insta::assert_snapshot!(render_ingest_summary(&summary(outcomes)));
    }
}
