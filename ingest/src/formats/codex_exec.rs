//! What `codex exec --json` prints: one JSON event per line (JSONL), the Codex CLI's
//! non-interactive event stream (not a rollout transcript; those are `codex_rollout`).
//!
//! - `thread.started {thread_id}`: the session;
//! - `turn.started`, then `turn.completed {usage: {input_tokens, cached_input_tokens,
//!   output_tokens}}` or `turn.failed {error: {message}}`;
//! - `item.started` / `item.updated` / `item.completed {item: {id, type, ...}}` with `type`
//!   `agent_message {text}`, `reasoning {text}`, `command_execution {command,
//!   aggregated_output, exit_code, status}`, `file_change {changes, status}`,
//!   `mcp_tool_call {server, tool, status}`, `web_search {query}`, `todo_list {items}`,
//!   `error {message}`;
//! - `error {message}`: the run failed.
//!
//! Rows: one `sessions` row per thread (`source_format = codex_exec`, provider `openai`;
//! Codex always offers its tools); each completed `agent_message` an assistant message;
//! each completed command, file change, MCP tool call, web search or plan update a tool
//! call (`tool_calls` row, a failed status or non-zero exit code a tool error); each
//! `turn.completed` an `llm_calls` row. Codex writes the thread's *running* token totals
//! in `turn.completed` (its `usage_from_last_total`), so a turn's usage is the growth over
//! the previous turn of the same stream; `input_tokens` includes the cached tokens, as in
//! every OpenAI usage ([`crate::usage`]). The stream names no model: the rows have none,
//! and so no cost. A failed turn or an `error` event is the
//! `agent_error` finding.

use std::io::BufRead;

use serde_json::Value;

use super::chat::{DecodedCall, DecodedMessage};
use super::json_input::{any_object_line, has_string_field};
use super::lines::for_each_json_line;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::schema::{LlmCallRow, ToolCallRow};
use crate::sessions::{Role, SessionFacts};
use crate::usage::TokenUsage;

/// The `codex_exec` format.
pub struct CodexExec;

/// Event types that only `codex exec --json` writes.
const EVENT_TYPES: [&str; 5] = [
    "thread.started",
    "turn.started",
    "turn.completed",
    "turn.failed",
    "item.completed",
];

impl Format for CodexExec {
    fn name(&self) -> &'static str {
        "codex_exec"
    }

    fn description(&self) -> &'static str {
        "codex exec --json event stream (thread.started, item.completed, turn.completed usage)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        any_object_line(sniff.head, |line| {
            EVENT_TYPES
                .iter()
                .any(|t| has_string_field(line, "type", t))
        })
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut stream = Stream::default();
        let read = for_each_json_line(
            input,
            sink,
            "a codex exec event",
            &mut |event: Value, line, sink| {
                stream.event(&event, line, ctx, sink);
                Ok(sink.checkpoint()?)
            },
        )?;
        if read == 0 || stream.facts.is_none() {
            return Err(Rejection::file("no codex exec event could be read").into());
        }
        stream.finish(ctx, sink);
        Ok(())
    }
}

/// What the stream has said so far.
#[derive(Default)]
struct Stream {
    facts: Option<SessionFacts>,
    previous_total: Option<TokenUsage>,
    turns: usize,
    /// Tool calls since the last `turn.completed`, waiting for its call id.
    pending_tools: Vec<ToolCallRow>,
}

impl Stream {
    fn facts(&mut self, ctx: &ParseContext<'_>) -> &mut SessionFacts {
        self.facts
            .get_or_insert_with(|| new_facts(ctx.file_stem_or_id()))
    }

    fn event(&mut self, event: &Value, line: u64, ctx: &ParseContext<'_>, sink: &mut RowSink<'_>) {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        match event.get("type").and_then(Value::as_str).unwrap_or("") {
            "thread.started" => {
                let id = text(event, "thread_id").unwrap_or_else(|| ctx.file_stem_or_id());
                match &mut self.facts {
                    // A stream that started its thread late (damaged) keeps what it counted.
                    Some(f) => f.row.session_id = id,
                    None => self.facts = Some(new_facts(id)),
                }
            }
            "item.completed" => {
                let Some(item) = event.get("item") else {
                    sink.issue(Rejection::at(line, "item.completed without an item"));
                    return;
                };
                self.item(item, ctx);
            }
            "turn.completed" => self.turn_completed(event, line, ctx, sink),
            "turn.failed" | "error" => {
                let message = event
                    .get("error")
                    .and_then(|e| text(e, "message"))
                    .or_else(|| text(event, "message"))
                    .unwrap_or_else(|| "the run failed".into());
                let f = self.facts(ctx);
                f.agent_error
                    .get_or_insert(crate::redact::redact_command(&message));
            }
            _ => {}
        }
    }

    /// A completed item: a message or a tool call (started and updated items repeat it).
    fn item(&mut self, item: &Value, ctx: &ParseContext<'_>) {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        let id = item.get("id").and_then(Value::as_str).map(str::to_string);
        let tool = match kind {
            "agent_message" => {
                let mut message = DecodedMessage::new(Role::Assistant);
                message.text = item
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let f = self.facts(ctx);
                let session = f.row.session_id.clone();
                let mut rows = Vec::new();
                message.record(f, &session, None, &mut rows);
                return;
            }
            "command_execution" => ("command_execution", item.get("command")),
            "file_change" => ("file_change", item.get("changes")),
            "web_search" => ("web_search", item.get("query")),
            "todo_list" => ("todo_list", item.get("items")),
            "mcp_tool_call" => (
                item.get("tool")
                    .and_then(Value::as_str)
                    .unwrap_or("mcp_tool_call"),
                item.get("arguments"),
            ),
            // reasoning, error items, and types this version does not know.
            _ => return,
        };
        let (name, arguments) = tool;
        let failed = item.get("status").and_then(Value::as_str) == Some("failed")
            || item
                .get("exit_code")
                .and_then(Value::as_i64)
                .is_some_and(|code| code != 0);
        let mut call = DecodedMessage::new(Role::Assistant);
        call.calls.push(DecodedCall {
            id,
            name: name.to_string(),
            arguments_bytes: arguments.map(crate::providers::argument_bytes),
        });
        let mut result = DecodedMessage::new(Role::Tool);
        result.results = 1;
        result.result_errors = usize::from(failed);
        let f = self
            .facts
            .get_or_insert_with(|| new_facts(ctx.file_stem_or_id()));
        let session = f.row.session_id.clone();
        call.record(f, &session, None, &mut self.pending_tools);
        result.record(f, &session, None, &mut self.pending_tools);
    }

    /// A turn's end: its usage (the growth of the thread's running total) as one call.
    fn turn_completed(
        &mut self,
        event: &Value,
        line: u64,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) {
        let total = match event.get("usage").filter(|u| !u.is_null()) {
            Some(u) => match TokenUsage::from_openai(u) {
                Ok(t) => Some(t),
                Err(e) => {
                    sink.issue(Rejection::at(line, e));
                    None
                }
            },
            None => None,
        };
        let usage = match (total, self.previous_total) {
            (Some(t), Some(p)) if t.total() >= p.total() => t.minus(&p),
            (t, _) => t.unwrap_or_default(),
        };
        if total.is_some() {
            self.previous_total = total;
        }
        self.turns += 1;
        let turns = self.turns;
        let f = self.facts(ctx);
        let call_id = format!("{}:t{turns}", f.row.session_id);
        let mut row = LlmCallRow {
            call_id: call_id.clone(),
            session_id: Some(f.row.session_id.clone()),
            source: crate::schema::TRANSCRIPT_SOURCE.into(),
            provider: Some("openai".into()),
            source_line: Some(line as i64),
            ..LlmCallRow::default()
        };
        usage.apply(&mut row);
        f.add_usage(
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_creation,
        );
        row.tool_call_count = Some(self.pending_tools.len() as i64);
        for mut tool in self.pending_tools.drain(..) {
            tool.call_id = Some(call_id.clone());
            sink.rows.tool_calls.push(tool);
        }
        sink.rows.llm_calls.push(row);
    }

    fn finish(mut self, ctx: &ParseContext<'_>, sink: &mut RowSink<'_>) {
        // Tool calls after the last turn's end belong to no counted turn.
        sink.rows.tool_calls.append(&mut self.pending_tools);
        if let Some(f) = self.facts {
            let (row, _) = f.into_row(&ctx.options.validation);
            sink.rows.sessions.push(row);
        }
    }
}

fn new_facts(id: String) -> SessionFacts {
    let mut f = SessionFacts::new(id, "codex_exec");
    // Codex always offers the model its shell and patch tools.
    f.tools_available = true;
    f.row.provider = Some("openai".into());
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_ok;

    fn parse(text: &str) -> (crate::schema::TableRows, Vec<Rejection>) {
        parse_ok(&CodexExec, text, "events.jsonl")
    }

    #[test]
    fn two_turns_with_commands_and_running_totals() {
        let (rows, issues) = parse(concat!(
            r#"{"type":"thread.started","thread_id":"th-1"}"#,
            "\n",
            r#"{"type":"turn.started"}"#,
            "\n",
            r#"{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"ls","aggregated_output":"","exit_code":null,"status":"in_progress"}}"#,
            "\n",
            r#"{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"ls","aggregated_output":"a\n","exit_code":0,"status":"completed"}}"#,
            "\n",
            r#"{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Listed."}}"#,
            "\n",
            r#"{"type":"turn.completed","usage":{"input_tokens":3523,"cached_input_tokens":3072,"output_tokens":7}}"#,
            "\n",
            r#"{"type":"turn.started"}"#,
            "\n",
            r#"{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"false","aggregated_output":"","exit_code":1,"status":"failed"}}"#,
            "\n",
            r#"{"type":"turn.completed","usage":{"input_tokens":7100,"cached_input_tokens":6144,"output_tokens":20}}"#,
            "\n",
        ));
        assert!(issues.is_empty(), "{issues:?}");
        let s = &rows.sessions[0];
        assert_eq!(s.session_id, "th-1");
        assert_eq!((s.tool_calls, s.tool_errors), (2, 1));
        // Turn 1: 3523 with 3072 cached = 451 uncached; turn 2 is the growth:
        // 7100 − 3523 = 3577 with 6144 − 3072 = 3072 cached = 505 uncached, 13 out.
        let calls = &rows.llm_calls;
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (
                calls[0].input_tokens,
                calls[0].cache_read_input_tokens,
                calls[0].output_tokens
            ),
            (Some(451), Some(3072), Some(7))
        );
        assert_eq!(
            (
                calls[1].input_tokens,
                calls[1].cache_read_input_tokens,
                calls[1].output_tokens
            ),
            (Some(505), Some(3072), Some(13))
        );
        assert_eq!(s.input_tokens, Some(956));
        assert_eq!(rows.tool_calls.len(), 2);
        assert_eq!(rows.tool_calls[0].call_id.as_deref(), Some("th-1:t1"));
    }

    #[test]
    fn a_failed_run_is_an_agent_error() {
        let (rows, _) = parse(concat!(
            r#"{"type":"thread.started","thread_id":"th-2"}"#,
            "\n",
            r#"{"type":"turn.failed","error":{"message":"stream disconnected"}}"#,
            "\n",
        ));
        assert!(
            rows.sessions[0]
                .findings
                .as_deref()
                .is_some_and(|f| f.contains("agent_error")),
            "{:?}",
            rows.sessions[0]
        );
    }
}
