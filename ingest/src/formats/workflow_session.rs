//! Workflow session files: one JSON document `{session_id, created_at, provider_name,
//! messages: [...], context: {...}, last_activity}`, as agent workflows save their
//! conversations. Messages may take any of the common role/content shapes:
//! - OpenAI Chat Completions: `content` a string or parts, assistant `tool_calls`
//!   (`function.name`, `function.arguments`), legacy `function_call`, `role: tool` results;
//! - Anthropic Messages: `content` blocks `text`, `tool_use`, `tool_result` (`is_error`).
//!
//! Each structured tool call becomes a `tool_calls` row, the session a `sessions` row with
//! its validation verdict. A workflow session is an agent session: tools are taken to be
//! available, so a session without a single tool call is flagged `zero_tool_calls`.

use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::json_input::{read_document, starts_json_object};
use super::timestamps::parse_timestamp;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::schema::{Timestamp, ToolCallRow};
use crate::sessions::{Message, Role, SessionFacts};

#[derive(Deserialize)]
struct WireMessage {
    role: Option<String>,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
    function_call: Option<WireFunction>,
    timestamp: Option<Value>,
    created_at: Option<Value>,
    is_error: Option<bool>,
    finish_reason: Option<String>,
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: Option<String>,
    function: Option<WireFunction>,
}

#[derive(Deserialize)]
struct WireFunction {
    name: Option<String>,
    arguments: Option<Value>,
}

/// The `workflow_session` format.
pub struct WorkflowSession;

impl Format for WorkflowSession {
    fn name(&self) -> &'static str {
        "workflow_session"
    }

    fn description(&self) -> &'static str {
        "workflow session file {session_id, provider_name, messages[], context{}, last_activity}"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        starts_json_object(sniff.head)
            && sniff.head.contains("\"session_id\"")
            && sniff.head.contains("\"messages\"")
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let doc = read_document(input)?;
        let Some(messages) = doc.get("messages").and_then(Value::as_array) else {
            return Err(Rejection::file("messages is missing or not an array").into());
        };
        let session_id = doc
            .get("session_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| ctx.file_stem_or_id());
        let mut facts = SessionFacts::new(session_id.clone(), self.name());
        facts.tools_available = true;
        facts.row.provider = doc
            .get("provider_name")
            .or_else(|| doc.get("provider"))
            .and_then(Value::as_str)
            .map(str::to_string);
        facts.row.model = doc
            .get("model")
            .or_else(|| doc.pointer("/context/model"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let created = doc.get("created_at").and_then(value_ts);
        for (index, value) in messages.iter().enumerate() {
            let message: WireMessage = match serde_json::from_value(value.clone()) {
                Ok(m) => m,
                Err(e) => {
                    sink.issue(Rejection::file(format!("messages[{index}]: {e}")));
                    continue;
                }
            };
            let ts = message
                .timestamp
                .as_ref()
                .or(message.created_at.as_ref())
                .and_then(value_ts);
            let role = match message.role.as_deref() {
                Some("system" | "developer") => Role::System,
                Some("user" | "human") => Role::User,
                Some("assistant" | "model" | "ai") => Role::Assistant,
                Some("tool" | "function") => Role::Tool,
                other => {
                    sink.issue(Rejection::file(format!(
                        "messages[{index}]: unknown role {}",
                        other.unwrap_or("(none)")
                    )));
                    continue;
                }
            };
            let mut text = String::new();
            let mut calls: Vec<(Option<String>, String, Option<i64>)> = Vec::new();
            let (mut results, mut errors) = (0usize, 0usize);
            match &message.content {
                Value::String(s) => text.push_str(s),
                Value::Array(blocks) => {
                    for b in blocks {
                        match b.get("type").and_then(Value::as_str) {
                            Some("text") | Some("input_text") | Some("output_text") => {
                                if let Some(t) = b.get("text").and_then(Value::as_str) {
                                    text.push_str(t);
                                    text.push('\n');
                                }
                            }
                            Some("tool_use") => calls.push((
                                b.get("id").and_then(Value::as_str).map(str::to_string),
                                b.get("name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("(unnamed)")
                                    .to_string(),
                                b.get("input").map(|i| i.to_string().len() as i64),
                            )),
                            Some("tool_result") => {
                                results += 1;
                                errors += usize::from(
                                    b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                                );
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            for call in &message.tool_calls {
                let f = call.function.as_ref();
                calls.push((
                    call.id.clone(),
                    f.and_then(|f| f.name.clone())
                        .unwrap_or_else(|| "(unnamed)".into()),
                    f.and_then(|f| f.arguments.as_ref()).map(argument_bytes),
                ));
            }
            if let Some(f) = &message.function_call {
                calls.push((
                    None,
                    f.name.clone().unwrap_or_else(|| "(unnamed)".into()),
                    f.arguments.as_ref().map(argument_bytes),
                ));
            }
            if role == Role::Tool {
                results += 1;
                errors += usize::from(message.is_error.unwrap_or(false));
            }
            let names: Vec<&str> = calls.iter().map(|c| c.1.as_str()).collect();
            let at = facts.message(&Message {
                role: Some(role),
                ts: ts.or(created),
                text: &text,
                tool_calls: names,
                tool_results: results,
                tool_result_errors: errors,
                stop_reason: message
                    .stop_reason
                    .as_deref()
                    .or(message.finish_reason.as_deref()),
            });
            for (n, (id, name, bytes)) in calls.into_iter().enumerate() {
                sink.rows.tool_calls.push(ToolCallRow {
                    tool_call_id: id.unwrap_or_else(|| format!("{session_id}-m{at}-{n}")),
                    session_id: Some(session_id.clone()),
                    ts: ts.or(created),
                    tool_name: name,
                    arguments_bytes: bytes,
                    ..ToolCallRow::default()
                });
            }
        }
        if facts.row.started_ts.is_none() {
            facts.row.started_ts = created;
        }
        if let Some(last) = doc.get("last_activity").and_then(value_ts) {
            facts.row.last_activity_ts = Some(last);
        }
        let (row, _) = facts.into_row(&ctx.options.validation);
        sink.rows.sessions.push(row);
        Ok(())
    }
}

/// A timestamp given as ISO text or as Unix seconds.
fn value_ts(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(s) => parse_timestamp(s),
        Value::Number(n) => n.as_f64().map(|secs| Timestamp((secs * 1e6) as i64)),
        _ => None,
    }
}

/// Size of tool arguments: OpenAI sends them as a JSON string, others as an object.
fn argument_bytes(arguments: &Value) -> i64 {
    match arguments {
        Value::String(s) => s.len() as i64,
        other => other.to_string().len() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test};

    fn sample(name: &str) -> (crate::schema::TableRows, Vec<Rejection>) {
        let path = format!(
            "{}/../sample-data/sessions/agent-workflow/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).expect("sample");
        let (result, rows, issues) =
            parse_for_test(&WorkflowSession, &bytes, &path, &ParseOptions::default());
        assert!(result.is_ok(), "{name}");
        (rows, issues)
    }

    #[test]
    fn the_hollow_session_is_system_only_with_zero_tool_calls() {
        let (rows, issues) = sample("hollow-session.json");
        assert!(issues.is_empty());
        let s = &rows.sessions[0];
        assert_eq!(
            (s.session_id.as_str(), s.message_count, s.system_messages),
            ("wf-hollow-001", 1, 1)
        );
        assert_eq!(s.provider.as_deref(), Some("ollama"));
        assert_eq!(s.findings.as_deref(), Some("system_only,zero_tool_calls"));
        assert_eq!(s.validation_status.as_deref(), Some("error"));
    }

    #[test]
    fn openai_and_anthropic_tool_calls_are_both_counted() {
        let (rows, _) = sample("healthy-session.json");
        let s = &rows.sessions[0];
        assert_eq!(
            (
                s.message_count,
                s.user_messages,
                s.assistant_messages,
                s.tool_calls
            ),
            (7, 2, 3, 2)
        );
        assert_eq!(s.validation_status.as_deref(), Some("ok"));
        let names: Vec<_> = rows
            .tool_calls
            .iter()
            .map(|t| t.tool_name.as_str())
            .collect();
        assert_eq!(names, ["read_file", "write_report"]);
        // OpenAI sends arguments as a JSON string: its length is the size.
        assert_eq!(
            rows.tool_calls[0].arguments_bytes,
            Some(r#"{"path": "src/parser.py"}"#.len() as i64)
        );
    }

    #[test]
    fn a_tool_call_written_as_text_is_caught() {
        let (rows, _) = sample("text-tool-call-session.json");
        assert_eq!(
            rows.sessions[0].findings.as_deref(),
            Some("zero_tool_calls,tool_call_as_text")
        );
        assert!(rows.tool_calls.is_empty());
    }

    #[test]
    fn legacy_function_calls_and_bad_messages() {
        let doc = r#"{"session_id": "x", "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": null, "function_call": {"name": "search", "arguments": "{}"}},
            {"role": "narrator", "content": "?"},
            {"role": "function", "name": "search", "content": "found"}]}"#;
        let (result, rows, issues) = parse_for_test(
            &WorkflowSession,
            doc.as_bytes(),
            "x.json",
            &ParseOptions::default(),
        );
        assert!(result.is_ok());
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(rows.sessions[0].tool_calls, 1);
        assert_eq!(rows.sessions[0].validation_status.as_deref(), Some("ok"));
    }
}
