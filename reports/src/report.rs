//! `runlens report`: the report's content (`runlens_analysis::report_content`) rendered as
//! Markdown (for a release note or a
//! code-hosting site), CSV (each section's table, headed by `# section`) or JSON (the same
//! tables as arrays of row objects). One renderer per output, no I/O.
//!
//! Values are stored in base units and formatted here by their column's unit suffix:
//! `_ms` as a duration, `_usd` as dollars, `_bytes` in binary units, anything else as a
//! plain number.

use std::fmt::Write as _;

use polars::prelude::*;
use runlens_analysis::report_content::{Report, Section};

use crate::analysis::method_lines;
use crate::error::Result;
use crate::frame::{FrameFormat, frame_rows, render_frame};
use crate::table::cell_text;
use crate::units::{format_count, format_value};
use runlens_analysis::catalogue::Unit;

/// The unit a column's name ends with (`_ms`, `_usd`, `_bytes`, or `(ms)` ... in a label).
fn unit_of_column(name: &str) -> Option<Unit> {
    [("ms", Unit::Ms), ("usd", Unit::Usd), ("bytes", Unit::Bytes)]
        .into_iter()
        .find(|(suffix, _)| {
            name.ends_with(&format!("_{suffix}")) || name.ends_with(&format!("({suffix})"))
        })
        .map(|(_, unit)| unit)
}

/// A column name or headline label as people read it: the unit suffix dropped (the values
/// carry their unit: "6.90 s", "137.0 MiB", "$0.42") and `_` as spaces, so
/// `mean_time_ms` reads "mean time" and "mean peak memory per run (bytes)" reads "mean peak
/// memory per run". CSV and JSON keep the names.
pub(crate) fn header_for_people(name: &str) -> String {
    let mut text = name;
    for suffix in ["_ms", "_usd", "_bytes", " (ms)", " (usd)", " (bytes)"] {
        if let Some(stripped) = text.strip_suffix(suffix) {
            text = stripped;
            break;
        }
    }
    text.replace('_', " ")
}

/// A number in the unit its name ends with (a count otherwise).
pub(crate) fn readable(name: &str, value: f64) -> String {
    match unit_of_column(name) {
        Some(unit) => format_value(value, unit),
        None if value.is_finite() => format_count(value),
        None => String::new(),
    }
}

/// A Markdown table cell: pipes escaped, one line.
pub(crate) fn md_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// One value of a frame as report text.
pub(crate) fn value_text(name: &str, value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Float64(v) => readable(name, *v),
        AnyValue::Float32(v) => readable(name, f64::from(*v)),
        AnyValue::Int64(v) => readable(name, *v as f64),
        AnyValue::Int32(v) => readable(name, f64::from(*v)),
        AnyValue::UInt64(v) => readable(name, *v as f64),
        AnyValue::UInt32(v) => readable(name, f64::from(*v)),
        other => cell_text(other),
    }
}

fn is_numeric(dtype: &DataType) -> bool {
    dtype.is_primitive_numeric()
}

/// A frame as a GitHub-flavoured Markdown table (numbers right-aligned).
fn markdown_table(df: &DataFrame) -> String {
    if df.height() == 0 {
        return "_none_\n".to_string();
    }
    let columns = df.columns();
    let mut out = String::new();
    let names: Vec<String> = columns
        .iter()
        .map(|c| md_cell(&header_for_people(c.name())))
        .collect();
    let _ = writeln!(out, "| {} |", names.join(" | "));
    let rule: Vec<&str> = columns
        .iter()
        .map(|c| if is_numeric(c.dtype()) { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for i in 0..df.height() {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                c.get(i)
                    .map(|v| md_cell(&value_text(c.name(), &v)))
                    .unwrap_or_default()
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// The report as Markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark report\n");
    let _ = writeln!(out, "**Verdict: {}**\n", report.verdict.label());
    for reason in &report.reasons {
        let _ = writeln!(out, "- {}", md_cell(reason));
    }
    if !report.reasons.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "| figure | value |\n| --- | ---: |");
    for (label, value) in &report.headline {
        let value = value
            .map(|v| readable(label, v))
            .unwrap_or_else(|| "—".into());
        let _ = writeln!(out, "| {} | {value} |", md_cell(&header_for_people(label)));
    }
    if !report.by.is_empty() {
        let _ = writeln!(out, "\nGrouped by: {}.", report.by.join(", "));
    }
    for section in &report.sections {
        let _ = writeln!(out, "\n## {}\n", section.title);
        out.push_str(&markdown_table(&section.frame));
        for note in &section.notes {
            let _ = writeln!(out, "\n{}", md_cell(note));
        }
    }
    let _ = writeln!(out, "\n## Method\n");
    for line in method_lines_of(report).lines() {
        let _ = writeln!(out, "- {line}");
    }
    out
}

pub(crate) fn method_lines_of(report: &Report) -> String {
    method_lines(&report.method)
}

fn section_json(section: &Section) -> serde_json::Value {
    serde_json::Value::Array(frame_rows(&section.frame))
}

/// The report as JSON: `{"verdict", "reasons", "headline", "sections": {key: {"title",
/// "rows", "notes"}}, "method"}`.
pub fn render_json(report: &Report) -> Result<String> {
    let mut sections = serde_json::Map::new();
    for section in &report.sections {
        sections.insert(
            section.key.to_string(),
            serde_json::json!({
                "title": section.title,
                "rows": section_json(section),
                "notes": section.notes,
            }),
        );
    }
    let headline: serde_json::Map<String, serde_json::Value> = report
        .headline
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!(v)))
        .collect();
    let m = &report.method;
    let value = serde_json::json!({
        "verdict": report.verdict.label(),
        "reasons": report.reasons,
        "grouped_by": report.by,
        "headline": headline,
        "sections": sections,
        "method": {
            "quantiles": m.quantiles,
            "confidence_interval": m.confidence_interval,
            "outlier_rule": m.outlier_rule.name(),
            "outliers_found": m.outliers_found,
            "outliers_removed": m.outliers_removed,
            "warmups_excluded": m.warmups_excluded,
            "failed_excluded": m.failed_excluded,
        },
    });
    Ok(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n")
}

/// The report's tables as CSV, each headed by `# key`, separated by a blank line.
pub fn render_csv(report: &Report) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(out, "# verdict\nverdict\n{}", report.verdict.label());
    for section in &report.sections {
        let _ = writeln!(out, "\n# {}", section.key);
        out.push_str(&render_frame(&mut section.frame.clone(), FrameFormat::Csv)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::header_for_people;

    #[test]
    fn headers_lose_their_unit_suffix_and_underscores() {
        assert_eq!(header_for_people("mean_time_ms"), "mean time");
        assert_eq!(header_for_people("total_cost_usd"), "total cost");
        assert_eq!(
            header_for_people("mean peak memory per run (bytes)"),
            "mean peak memory per run"
        );
        assert_eq!(header_for_people("session_id"), "session id");
    }
}
