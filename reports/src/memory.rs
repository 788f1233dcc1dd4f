//! What `runlens memory` prints.

use runlens_analysis::memory::MemoryGrowth;

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
            r.verdict.to_string(),
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

/// The rows as JSON.
pub fn render_json(rows: &[MemoryGrowth], by: &[String], threshold: f64) -> String {
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut obj = serde_json::Map::new();
            for (k, g) in by.iter().zip(&r.group) {
                obj.insert(k.clone(), serde_json::json!(g));
            }
            obj.insert("runs".into(), serde_json::json!(r.runs));
            obj.insert(
                "first_peak_bytes".into(),
                serde_json::json!(r.first_peak_bytes),
            );
            obj.insert(
                "last_peak_bytes".into(),
                serde_json::json!(r.last_peak_bytes),
            );
            obj.insert("growth".into(), serde_json::json!(r.growth));
            obj.insert(
                "slope_bytes_per_run".into(),
                serde_json::json!(r.slope_bytes_per_run),
            );
            obj.insert(
                "within_run_bytes_per_s".into(),
                serde_json::json!(r.within_run_bytes_per_s),
            );
            obj.insert("verdict".into(), serde_json::json!(r.verdict));
            serde_json::Value::Object(obj)
        })
        .collect();
    serde_json::json!({"threshold": threshold, "rows": rows}).to_string()
}

/// The rows as CSV.
pub fn render_csv(rows: &[MemoryGrowth], by: &[String]) -> String {
    let mut out = by.join(",");
    if !by.is_empty() {
        out.push(',');
    }
    out.push_str("runs,first_peak_bytes,last_peak_bytes,growth,slope_bytes_per_run,within_run_bytes_per_s,verdict\n");
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in rows {
        for g in &r.group {
            out.push_str(g.as_deref().unwrap_or(""));
            out.push(',');
        }
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.runs,
            r.first_peak_bytes,
            r.last_peak_bytes,
            r.growth,
            opt(r.slope_bytes_per_run),
            opt(r.within_run_bytes_per_s),
            r.verdict
        ));
    }
    out
}
