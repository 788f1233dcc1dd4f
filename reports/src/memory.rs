//! What `runlens memory` prints.

use runlens_analysis::memory::MemoryGrowth;

use crate::error::Result;
use crate::records::{header, keyed, to_csv};
use crate::table::{align_right, new_table};
use crate::units::format_bytes;

fn group_cells(row: &MemoryGrowth) -> Vec<String> {
    row.group
        .iter()
        .map(|g| g.clone().unwrap_or_else(|| "—".into()))
        .collect()
}

/// The table and the rule.
pub fn render_table(rows: &[MemoryGrowth], by: &[String], threshold: f64) -> String {
    let mut header: Vec<&str> = by.iter().map(String::as_str).collect();
    header.extend([
        "runs",
        "first peak",
        "last peak",
        "growth",
        "per run",
        "within a run",
        "verdict",
    ]);
    let mut table = new_table(&header);
    for r in rows {
        let mut cells = group_cells(r);
        cells.extend([
            r.runs.to_string(),
            format_bytes(r.first_peak_bytes.round() as i64),
            format_bytes(r.last_peak_bytes.round() as i64),
            format!("{:+.1} %", r.growth * 100.0),
            r.slope_bytes_per_run
                .map(|s| format!("{}/run", format_bytes(s.round() as i64)))
                .unwrap_or_default(),
            r.within_run_bytes_per_s
                .map(|s| format!("{}/s", format_bytes(s.round() as i64)))
                .unwrap_or_default(),
            r.verdict.label().to_string(),
        ]);
        table.add_row(cells);
    }
    let first = by.len();
    align_right(&mut table, &(first..first + 6).collect::<Vec<_>>());
    format!(
        "{table}\npeak per run: sampled process-tree peak, else the kernel's max RSS; slopes by least \
         squares; a leak is suspected above {:.1} % growth from the first to the last run with a \
         positive slope\n",
        threshold * 100.0
    )
}

/// The fields of a row after the keys, in order.
const FIELDS: [&str; 7] = [
    "runs",
    "first_peak_bytes",
    "last_peak_bytes",
    "growth",
    "slope_bytes_per_run",
    "within_run_bytes_per_s",
    "verdict",
];

fn objects(rows: &[MemoryGrowth], by: &[String]) -> Result<Vec<serde_json::Value>> {
    rows.iter().map(|r| keyed(by, &r.group, r)).collect()
}

/// The rows as JSON.
pub fn render_json(rows: &[MemoryGrowth], by: &[String], threshold: f64) -> Result<String> {
    Ok(serde_json::json!({"threshold": threshold, "rows": objects(rows, by)?}).to_string())
}

/// The rows as CSV.
pub fn render_csv(rows: &[MemoryGrowth], by: &[String]) -> Result<String> {
    to_csv(&header(by, &FIELDS), &objects(rows, by)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_group_values() {
        let row = MemoryGrowth {
            group: vec![Some("a,b".into())],
            runs: 5,
            first_peak_bytes: 1024.0,
            last_peak_bytes: 2048.0,
            growth: 1.0,
            slope_bytes_per_run: Some(256.0),
            within_run_bytes_per_s: None,
            verdict: runlens_analysis::memory::MemoryVerdict::LeakSuspected,
        };
        let csv = render_csv(&[row], &["host".to_string()]).expect("csv");
        assert_eq!(
            csv,
            "host,runs,first_peak_bytes,last_peak_bytes,growth,slope_bytes_per_run,within_run_bytes_per_s,verdict\n\
             \"a,b\",5,1024.0,2048.0,1.0,256.0,,leak suspected\n"
        );
    }
}
