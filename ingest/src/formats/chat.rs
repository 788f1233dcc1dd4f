//! Chat messages in any of the providers' shapes, decoded into one form.
//!
//! Agent transcripts save their messages in whichever shape their provider speaks:
//! - OpenAI Chat Completions: `{role, content}` with `content` a string or parts, assistant
//!   `tool_calls` (`function.name` / `function.arguments`, or `custom.name` / `custom.input`),
//!   the legacy `function_call`, results as `role: tool` (or `function`) messages;
//! - OpenAI Responses API items (also Codex CLI's `response_item`s): `{type: message}`,
//!   `function_call`, `custom_tool_call`, `local_shell_call`, `web_search_call` and their
//!   `*_output` results;
//! - Anthropic Messages: content blocks `text`, `tool_use`, `tool_result` (`is_error`);
//! - Gemini: `{role: user|model|function, parts: [{text}, {functionCall}, {functionResponse}]}`.
//!
//! [`decode_message`] takes any of them; the format modules only frame them.

use serde_json::Value;

use super::timestamps::parse_timestamp;
use crate::schema::{Timestamp, ToolCallRow};
use crate::sessions::{Message, Role, SessionFacts};

/// A structured tool call as a message made it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedCall {
    /// The provider's id of the call, if it gave one.
    pub id: Option<String>,
    /// Tool (function) name.
    pub name: String,
    /// Size of the arguments as sent, bytes.
    pub arguments_bytes: Option<i64>,
}

/// One message, whatever shape it was saved in.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedMessage {
    /// Who wrote it.
    pub role: Role,
    /// All its text parts joined by newlines (error results included, as evidence).
    pub text: String,
    /// The structured tool calls it makes.
    pub calls: Vec<DecodedCall>,
    /// Tool results it carries.
    pub results: usize,
    /// Of `results`, those marked as errors.
    pub result_errors: usize,
    /// Why the reply stopped, if the message says.
    pub stop_reason: Option<String>,
    /// When it was written, if the message says.
    pub ts: Option<Timestamp>,
}

impl DecodedMessage {
    /// An empty message of `role`.
    pub fn new(role: Role) -> Self {
        DecodedMessage {
            role,
            text: String::new(),
            calls: Vec::new(),
            results: 0,
            result_errors: 0,
            stop_reason: None,
            ts: None,
        }
    }

    fn push_text(&mut self, text: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(text);
    }

    fn push_result(&mut self, is_error: bool, text: Option<&str>) {
        self.results += 1;
        if is_error {
            self.result_errors += 1;
            if let Some(t) = text {
                self.push_text(t);
            }
        }
    }

    /// Counts the message into `facts` and writes its tool calls as `tool_calls` rows of
    /// `session_id` (ids the provider did not give are derived from the message index).
    pub fn record(
        &self,
        facts: &mut SessionFacts,
        session_id: &str,
        call_id: Option<&str>,
        tool_rows: &mut Vec<ToolCallRow>,
    ) -> i64 {
        let names: Vec<&str> = self.calls.iter().map(|c| c.name.as_str()).collect();
        let index = facts.message(&Message {
            role: Some(self.role),
            ts: self.ts,
            text: &self.text,
            tool_calls: names,
            tool_results: self.results,
            tool_result_errors: self.result_errors,
            stop_reason: self.stop_reason.as_deref(),
        });
        tool_rows.extend(self.tool_rows(session_id, index, call_id));
        index
    }

    /// The message's tool calls as `tool_calls` rows; calls without an id get one derived
    /// from the message's index in the session.
    pub fn tool_rows(
        &self,
        session_id: &str,
        index: i64,
        call_id: Option<&str>,
    ) -> impl Iterator<Item = ToolCallRow> + '_ {
        let session = session_id.to_string();
        let call_id = call_id.map(str::to_string);
        self.calls
            .iter()
            .enumerate()
            .map(move |(n, call)| ToolCallRow {
                tool_call_id: call
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("{session}-m{index}-{n}")),
                session_id: Some(session.clone()),
                call_id: call_id.clone(),
                ts: self.ts,
                tool_name: call.name.clone(),
                arguments_bytes: call.arguments_bytes,
                ..ToolCallRow::default()
            })
    }
}

/// The role a provider's role name stands for.
pub fn role_of(name: &str) -> Option<Role> {
    match name {
        "system" | "developer" => Some(Role::System),
        "user" | "human" => Some(Role::User),
        "assistant" | "model" | "ai" => Some(Role::Assistant),
        "tool" | "function" | "ipython" => Some(Role::Tool),
        _ => None,
    }
}

/// Decodes one message or Responses API item. `Ok(None)`: an item that is not a message
/// (reasoning, a status record); `Err`: not a message in any known shape.
pub fn decode_message(value: &Value) -> Result<Option<DecodedMessage>, String> {
    let Some(obj) = value.as_object() else {
        return Err("a message must be a JSON object".into());
    };
    let kind = obj.get("type").and_then(Value::as_str);
    let mut message = match (obj.get("role").and_then(Value::as_str), kind) {
        (Some(role), _) => {
            let role = role_of(role).ok_or_else(|| format!("unknown role {role:?}"))?;
            DecodedMessage::new(role)
        }
        (None, Some(kind)) => return Ok(decode_item(kind, value)),
        (None, None) => return Err("a message needs a role or a type".into()),
    };
    message.ts = ["timestamp", "created_at", "created"]
        .iter()
        .find_map(|k| obj.get(*k))
        .and_then(value_ts);
    message.stop_reason = ["stop_reason", "finish_reason", "finishReason"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    match obj.get("content") {
        Some(Value::String(s)) => message.push_text(s),
        Some(Value::Array(blocks)) => {
            for block in blocks {
                decode_block(block, &mut message);
            }
        }
        _ => {}
    }
    if let Some(Value::Array(parts)) = obj.get("parts") {
        for part in parts {
            decode_gemini_part(part, &mut message);
        }
    }
    if let Some(refusal) = obj.get("refusal").and_then(Value::as_str) {
        message.push_text(refusal);
    }
    if let Some(Value::Array(calls)) = obj.get("tool_calls") {
        for call in calls {
            let function = call.get("function").or_else(|| call.get("custom"));
            message.calls.push(DecodedCall {
                id: string(call, "id"),
                name: function
                    .and_then(|f| string(f, "name"))
                    .unwrap_or_else(|| "(unnamed)".into()),
                arguments_bytes: function
                    .and_then(|f| f.get("arguments").or_else(|| f.get("input")))
                    .map(argument_bytes),
            });
        }
    }
    if let Some(f) = obj.get("function_call").filter(|f| f.is_object()) {
        message.calls.push(DecodedCall {
            id: None,
            name: string(f, "name").unwrap_or_else(|| "(unnamed)".into()),
            arguments_bytes: f.get("arguments").map(argument_bytes),
        });
    }
    if message.role == Role::Tool && message.results == 0 {
        // An OpenAI tool result: one result, an error only where the saver marked it.
        message.results = 1;
        if obj.get("is_error").and_then(Value::as_bool) == Some(true) {
            message.result_errors = 1;
        }
    }
    Ok(Some(message))
}

/// One content block (OpenAI parts, Anthropic blocks).
fn decode_block(block: &Value, message: &mut DecodedMessage) {
    match block.get("type").and_then(Value::as_str) {
        Some("text" | "input_text" | "output_text" | "refusal") => {
            if let Some(t) = block
                .get("text")
                .or_else(|| block.get("refusal"))
                .and_then(Value::as_str)
            {
                message.push_text(t);
            }
        }
        Some("tool_use" | "server_tool_use") => message.calls.push(DecodedCall {
            id: string(block, "id"),
            name: string(block, "name").unwrap_or_else(|| "(unnamed)".into()),
            arguments_bytes: block.get("input").map(argument_bytes),
        }),
        Some("tool_result") => {
            let is_error = block
                .get("is_error")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let text = block.get("content").and_then(block_text);
            message.push_result(is_error, text.as_deref());
        }
        None => {
            // Gemini parts inside `content` (some SDKs save them so).
            decode_gemini_part(block, message);
        }
        _ => {}
    }
}

/// One Gemini part: `{text}`, `{functionCall: {name, args, id}}`, `{functionResponse}`.
fn decode_gemini_part(part: &Value, message: &mut DecodedMessage) {
    if part.get("thought").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(t) = part.get("text").and_then(Value::as_str) {
        message.push_text(t);
    }
    if let Some(call) = part.get("functionCall") {
        message.calls.push(DecodedCall {
            id: string(call, "id"),
            name: string(call, "name").unwrap_or_else(|| "(unnamed)".into()),
            arguments_bytes: call.get("args").map(argument_bytes),
        });
    }
    if let Some(response) = part.get("functionResponse") {
        let error = response.pointer("/response/error");
        let text = error.map(|e| match e {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        message.push_result(error.is_some(), text.as_deref());
    }
}

/// A Responses API item that is not a `{role}` message.
fn decode_item(kind: &str, item: &Value) -> Option<DecodedMessage> {
    let call = |name: String, args: Option<&Value>| {
        let mut m = DecodedMessage::new(Role::Assistant);
        m.calls.push(DecodedCall {
            id: string(item, "call_id").or_else(|| string(item, "id")),
            name,
            arguments_bytes: args.map(argument_bytes),
        });
        Some(m)
    };
    match kind {
        "function_call" | "custom_tool_call" => call(
            string(item, "name").unwrap_or_else(|| "(unnamed)".into()),
            item.get("arguments").or_else(|| item.get("input")),
        ),
        "local_shell_call" => call("local_shell".into(), item.get("action")),
        "web_search_call" => call("web_search".into(), item.get("action")),
        "function_call_output" | "custom_tool_call_output" | "local_shell_call_output" => {
            let mut m = DecodedMessage::new(Role::Tool);
            let (is_error, text) = output_status(item.get("output"));
            m.push_result(is_error, text.as_deref());
            Some(m)
        }
        _ => None,
    }
}

/// Whether a Responses / Codex tool output reports a failure, and its text: an object or
/// JSON text with `success: false` or a non-zero `metadata.exit_code`, or text starting
/// `Exit code: N` with N ≠ 0.
fn output_status(output: Option<&Value>) -> (bool, Option<String>) {
    let parsed;
    let (object, text) = match output {
        Some(Value::String(s)) => {
            parsed = serde_json::from_str::<Value>(s).ok();
            (parsed.as_ref(), Some(s.clone()))
        }
        Some(v @ Value::Object(_)) => (Some(v), v.get("content").and_then(block_text)),
        _ => (None, None),
    };
    let failed_object = object.is_some_and(|o| {
        o.get("success").and_then(Value::as_bool) == Some(false)
            || o.pointer("/metadata/exit_code")
                .and_then(Value::as_i64)
                .is_some_and(|c| c != 0)
    });
    let failed_text = text.as_deref().is_some_and(|t| {
        t.strip_prefix("Exit code: ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|c| c != 0)
    });
    (failed_object || failed_text, text)
}

/// The text of a string, or of an array of blocks with `text` (a tool result's content, a
/// system prompt), joined by newlines.
pub(crate) fn block_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

fn string(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A timestamp given as ISO text or as Unix seconds.
pub fn value_ts(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(s) => parse_timestamp(s),
        Value::Number(n) => n.as_f64().map(|secs| Timestamp((secs * 1e6) as i64)),
        _ => None,
    }
}

pub use crate::providers::argument_bytes;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(v: Value) -> DecodedMessage {
        decode_message(&v).expect("decodes").expect("a message")
    }

    #[test]
    fn openai_tool_calls_legacy_function_calls_and_tool_results() {
        let m = decode(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "grep", "arguments": "{\"q\":1}"}},
            {"id": "call_2", "type": "custom", "custom": {"name": "apply_patch", "input": "*** Begin"}}
        ]}));
        assert_eq!(m.role, Role::Assistant);
        assert_eq!(
            m.calls
                .iter()
                .map(|c| (c.name.as_str(), c.arguments_bytes))
                .collect::<Vec<_>>(),
            [("grep", Some(7)), ("apply_patch", Some(9))]
        );
        let legacy =
            decode(json!({"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}));
        assert_eq!(legacy.calls[0].name, "f");
        let result =
            decode(json!({"role": "tool", "tool_call_id": "call_1", "content": "3 matches"}));
        assert_eq!(
            (result.role, result.results, result.result_errors),
            (Role::Tool, 1, 0)
        );
    }

    #[test]
    fn anthropic_blocks_with_an_error_result() {
        let m = decode(json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true,
             "content": [{"type": "text", "text": "ENOENT"}]},
            {"type": "text", "text": "go on"}
        ]}));
        assert_eq!((m.role, m.results, m.result_errors), (Role::User, 1, 1));
        assert_eq!(m.text, "ENOENT\ngo on");
        let a = decode(
            json!({"role": "assistant", "stop_reason": "max_tokens", "content": [
                {"type": "thinking", "thinking": "..."},
                {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"p": "a"}}
            ]}),
        );
        assert_eq!(a.calls[0].id.as_deref(), Some("toolu_1"));
        assert_eq!(a.stop_reason.as_deref(), Some("max_tokens"));
    }

    #[test]
    fn gemini_parts() {
        let m = decode(json!({"role": "model", "parts": [
            {"text": "thinking...", "thought": true},
            {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}
        ]}));
        assert_eq!(
            (m.role, m.text.as_str(), m.calls.len()),
            (Role::Assistant, "", 1)
        );
        let r = decode(json!({"role": "function", "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"error": "timeout"}}}
        ]}));
        assert_eq!(
            (r.role, r.results, r.result_errors, r.text.as_str()),
            (Role::Tool, 1, 1, "timeout")
        );
    }

    #[test]
    fn responses_items_and_codex_outputs() {
        let call = decode(json!({"type": "function_call", "name": "shell",
            "arguments": "{\"command\":[\"ls\"]}", "call_id": "call_9"}));
        assert_eq!(call.calls[0].id.as_deref(), Some("call_9"));
        let failed = decode(json!({"type": "function_call_output", "call_id": "call_9",
            "output": "{\"output\":\"no such file\",\"metadata\":{\"exit_code\":2}}"}));
        assert_eq!(failed.result_errors, 1);
        let text_failed = decode(json!({"type": "function_call_output", "call_id": "c",
            "output": "Exit code: 1\nWall time: 0.2 seconds\nOutput:\nboom"}));
        assert_eq!(text_failed.result_errors, 1);
        let ok = decode(json!({"type": "function_call_output", "call_id": "c",
            "output": "Exit code: 0\nOutput:\nfine"}));
        assert_eq!(ok.result_errors, 0);
        let msg = decode(json!({"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": "done"}]}));
        assert_eq!(msg.text, "done");
        assert_eq!(
            decode_message(&json!({"type": "reasoning", "summary": []})),
            Ok(None)
        );
        assert!(decode_message(&json!({"role": "narrator"})).is_err());
        assert!(decode_message(&json!("hi")).is_err());
    }
}
