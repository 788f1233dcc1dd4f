//! The output of `runlens validate`: every finding of every session with its evidence, as a
//! terminal table or as JSON (one object per session).

use std::fmt::Write as _;

use runlens_ingest::validate::ValidatedFile;

use crate::table::{align_right, new_table};

/// One row per finding (a session without findings gets one `ok` row), then files that
/// could not be read.
pub fn render_table(files: &[ValidatedFile]) -> String {
    let mut table = new_table(&[
        "session",
        "format",
        "msgs",
        "tool calls",
        "status",
        "finding",
        "evidence",
    ]);
    let (mut sessions, mut errors) = (0, 0);
    for file in files {
        for s in &file.sessions {
            sessions += 1;
            let status = s.validation_status.clone().unwrap_or_default();
            errors += usize::from(status == "error");
            let details: Vec<serde_json::Value> = s
                .finding_details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            let base = [
                s.session_id.clone(),
                s.source_format.clone(),
                s.message_count.to_string(),
                s.tool_calls.to_string(),
            ];
            if details.is_empty() {
                let mut row = base.to_vec();
                row.extend([status.clone(), String::new(), String::new()]);
                table.add_row(row);
            }
            for d in details {
                let text = |k: &str| {
                    d.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                let evidence = match (
                    d.get("message_index").and_then(|v| v.as_i64()),
                    text("excerpt"),
                ) {
                    (Some(i), e) if !e.is_empty() => format!("message {i}: {e}"),
                    (Some(i), _) => format!("message {i}"),
                    (None, _) => text("detail"),
                };
                let mut row = base.to_vec();
                row.extend([text("severity"), text("code"), evidence]);
                table.add_row(row);
            }
        }
    }
    align_right(&mut table, &[2, 3]);
    let mut out = format!("{table}\n");
    let _ = writeln!(out, "{sessions} session(s), {errors} with errors");
    for file in files {
        if file.sessions.is_empty() && file.problems.is_empty() {
            let _ = writeln!(out, "{}: no session found", file.path.display());
        }
        for p in &file.problems {
            match p.line {
                Some(line) => {
                    let _ = writeln!(out, "{}:{line}: {}", file.path.display(), p.reason);
                }
                None => {
                    let _ = writeln!(out, "{}: {}", file.path.display(), p.reason);
                }
            }
        }
    }
    out
}

/// A JSON array with one object per session: its counts, status and findings.
pub fn render_json(files: &[ValidatedFile]) -> String {
    let mut items = Vec::new();
    for file in files {
        for s in &file.sessions {
            let findings: serde_json::Value = s
                .finding_details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_else(|| serde_json::json!([]));
            items.push(serde_json::json!({
                "path": file.path.display().to_string(),
                "session_id": s.session_id,
                "format": s.source_format,
                "messages": s.message_count,
                "tool_calls": s.tool_calls,
                "status": s.validation_status,
                "findings": findings,
            }));
        }
    }
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}
