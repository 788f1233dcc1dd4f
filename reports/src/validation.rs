//! The output of `runlens validate`: every finding of every session (its sub-agents folded
//! in) with its evidence, as a terminal table or as JSON (one object per session, its agents
//! listed).

use std::fmt::Write as _;

use runlens_ingest::schema::SessionRow;
use runlens_ingest::validate::{ValidatedFile, ValidatedSession};

use crate::table::{align_right, new_table};

/// One row per finding (a session without findings gets one `ok` row), each session with
/// its agents folded in (with `agents`, one line per agent follows it), then files that
/// could not be read.
pub fn render_table(
    sessions: &[ValidatedSession],
    files: &[ValidatedFile],
    agents: bool,
) -> String {
    let mut table = new_table(&[
        "session",
        "format",
        "msgs",
        "tool calls",
        "status",
        "finding",
        "evidence",
    ]);
    let errors = sessions
        .iter()
        .filter(|s| s.session.validation_status.as_deref() == Some("error"))
        .count();
    for s in sessions {
        let row = &s.session;
        let status = row.validation_status.clone().unwrap_or_default();
        let details = details(row);
        let base = [
            row.session_id.clone(),
            row.source_format.clone(),
            row.message_count.to_string(),
            row.tool_calls.to_string(),
        ];
        if details.is_empty() {
            let mut line = base.to_vec();
            line.extend([status.clone(), String::new(), String::new()]);
            table.add_row(line);
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
            let evidence = match text("agent") {
                agent if agent.is_empty() => evidence,
                agent => format!("{agent}: {evidence}"),
            };
            let mut line = base.to_vec();
            line.extend([text("severity"), text("code"), evidence]);
            table.add_row(line);
        }
        if agents && s.agents.len() > 1 {
            for (_, agent) in &s.agents {
                let name = match &agent.agent_id {
                    Some(id) => format!("  ↳ {} {id}", agent.agent_kind),
                    None => format!("  ↳ {}", agent.agent_kind),
                };
                table.add_row(vec![
                    name,
                    String::new(),
                    agent.message_count.to_string(),
                    agent.tool_calls.to_string(),
                    agent.validation_status.clone().unwrap_or_default(),
                    agent.findings.clone().unwrap_or_default(),
                    String::new(),
                ]);
            }
        }
    }
    align_right(&mut table, &[2, 3]);
    let mut out = format!("{table}\n");
    let agent_rows: usize = sessions.iter().map(|s| s.agents.len() - 1).sum();
    let _ = writeln!(
        out,
        "{} session(s), {errors} with errors{}",
        sessions.len(),
        match agent_rows {
            0 => String::new(),
            n => format!(" ({n} sub-agent(s) folded into their sessions; --agents lists them)"),
        }
    );
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

/// A session row's findings with their evidence.
fn details(row: &SessionRow) -> Vec<serde_json::Value> {
    row.finding_details
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default()
}

/// A JSON array with one object per session (its agents folded in): its counts, status
/// and findings, and each agent's own.
pub fn render_json(sessions: &[ValidatedSession]) -> String {
    let object = |path: &std::path::Path, s: &SessionRow| {
        serde_json::json!({
            "path": path.display().to_string(),
            "session_id": s.session_id,
            "format": s.source_format,
            "messages": s.message_count,
            "tool_calls": s.tool_calls,
            "input_tokens": s.input_tokens,
            "output_tokens": s.output_tokens,
            "cache_read_tokens": s.cache_read_input_tokens,
            "cache_write_tokens": s.cache_creation_input_tokens,
            "status": s.validation_status,
            "findings": details(s),
        })
    };
    let items: Vec<serde_json::Value> = sessions
        .iter()
        .map(|s| {
            let mut item = object(&s.path, &s.session);
            item["agents"] = s
                .agents
                .iter()
                .map(|(path, agent)| {
                    let mut a = object(path, agent);
                    a["agent_id"] = agent.agent_id.clone().into();
                    a["agent_kind"] = agent.agent_kind.clone().into();
                    a
                })
                .collect();
            item
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}
