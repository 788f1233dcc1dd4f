//! Workflow session files: one JSON document `{session_id, created_at, provider_name,
//! messages: [...], context: {...}, last_activity}`, as agent workflows save their
//! conversations. Messages may take any of the common role/content shapes:
//! - OpenAI Chat Completions: `content` a string or parts, assistant `tool_calls`
//!   (`function.name`, `function.arguments`), legacy `function_call`, `role: tool` results;
//! - Anthropic Messages: `content` blocks `text`, `tool_use`, `tool_result` (`is_error`).
//!
//! Each structured tool call becomes a `tool_calls` row, the session a `sessions` row with
//! its validation verdict. A workflow session is an agent session: tools are taken to be
//! available, and expected when `context.tools` lists them (names, or `{name}` /
//! `{function: {name}}` objects), so a session that declares tools and calls none is a
//! `zero_tool_calls` error; one that declares none and calls none, a `no_tool_calls`
//! warning.

use std::io::BufRead;

use serde_json::Value;

use super::chat::{decode_message, value_ts};
use super::json_input::{read_document, starts_json_object};
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::sessions::SessionFacts;

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
        // A workflow that lists its tools means them to be called.
        let declared: Vec<&str> = doc
            .pointer("/context/tools")
            .and_then(Value::as_array)
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|t| {
                        t.as_str()
                            .or_else(|| t.get("name").and_then(Value::as_str))
                            .or_else(|| t.pointer("/function/name").and_then(Value::as_str))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !declared.is_empty() {
            facts.tools_expected = Some(format!(
                "the workflow declares its tools: {}",
                declared.join(", ")
            ));
        }
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
        let mut tool_rows = Vec::new();
        for (index, value) in messages.iter().enumerate() {
            match decode_message(value) {
                Ok(Some(mut message)) => {
                    message.ts = message.ts.or(created);
                    message.record(&mut facts, &session_id, None, &mut tool_rows);
                }
                Ok(None) => {}
                Err(e) => sink.issue(Rejection::file(format!("messages[{index}]: {e}"))),
            }
        }
        sink.rows.tool_calls.extend(tool_rows);
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
