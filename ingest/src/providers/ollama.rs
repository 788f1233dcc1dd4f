//! Ollama's native API on the wire: `/api/chat` and `/api/generate` stream one JSON object
//! per line (`application/x-ndjson`) unless `"stream": false`, each with a piece of
//! `message.content` (chat) or `response` (generate); the last has `done: true`,
//! `done_reason`, `prompt_eval_count` (input tokens), `eval_count` (output tokens) and the
//! durations in **nanoseconds** (`total_duration`, `load_duration`,
//! `prompt_eval_duration`, `eval_duration`), kept as milliseconds in the row's labels
//! (`ollama_total_ms`, ...) next to runlens's own timing. Tool calls come whole, in
//! `message.tool_calls`, with arguments as an object. Reference: github.com/ollama/ollama
//! docs/api.md.
//!
//! No transcript format saves Ollama exchanges; only the proxy and the probe read these.

use serde_json::Value;

use super::{Reply, error_of, non_empty};
use crate::usage::TokenUsage;

/// One streamed object or a whole body; returns whether it carried content.
pub(crate) fn apply(reply: &mut Reply, value: &Value) -> bool {
    reply.take_model(value.get("model"));
    if value.get("error").is_some()
        && let Some(message) = error_of(value)
    {
        reply.take_error(message);
    }
    let mut content = reply.add_text(value.get("response")) || non_empty(value.get("thinking"));
    if let Some(message) = value.get("message") {
        content |= reply.add_text(message.get("content")) || non_empty(message.get("thinking"));
        if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
            for call in calls {
                let n = reply.tool_calls.len();
                let tool = reply.tool(&format!("t{n}"));
                tool.id = call.get("id").and_then(Value::as_str).map(str::to_string);
                let function = call.get("function").unwrap_or(&Value::Null);
                tool.name = function
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                tool.arguments_bytes = match function.get("arguments") {
                    None | Some(Value::Null) => 0,
                    Some(Value::String(s)) => s.len() as i64,
                    Some(other) => other.to_string().len() as i64,
                };
                content = true;
            }
        }
    }
    if value.get("done").and_then(Value::as_bool) == Some(true) {
        reply.terminated = true;
        if let Some(reason) = value.get("done_reason").and_then(Value::as_str) {
            reply.finish_reason = Some(reason.to_string());
        }
    }
    if value.get("prompt_eval_count").is_some() || value.get("eval_count").is_some() {
        reply.take_usage(value, ollama_usage);
    }
    for (field, label) in [
        ("total_duration", "ollama_total_ms"),
        ("load_duration", "ollama_load_ms"),
        ("prompt_eval_duration", "ollama_prompt_eval_ms"),
        ("eval_duration", "ollama_eval_ms"),
    ] {
        if let Some(ns) = value.get(field).and_then(Value::as_f64) {
            reply
                .extra
                .insert(label.to_string(), format!("{:.3}", ns / 1_000_000.0));
        }
    }
    content
}

/// `prompt_eval_count` → input, `eval_count` → output (Ollama has no prompt cache figures).
fn ollama_usage(value: &Value) -> Result<TokenUsage, String> {
    Ok(TokenUsage {
        input: crate::usage::count(value, "prompt_eval_count")?,
        output: crate::usage::count(value, "eval_count")?,
        ..TokenUsage::default()
    })
}
