//! Gemini's `generateContent` / `streamGenerateContent` on the wire: each response (the
//! body, an SSE event with `alt=sse`, or an element of the streamed JSON array) has
//! `candidates[].content.parts[]` (`text`, `thought` text, `functionCall {name, args, id?}`
//! whole in one part), `candidates[].finishReason`, `usageMetadata` (the running totals:
//! the last report wins) and `modelVersion`. There is no end-of-stream event.
//! Reference: ai.google.dev/api/generate-content.

use serde_json::Value;

use super::{Reply, error_message};
use crate::usage::TokenUsage;

/// One response object; returns whether it carried content.
pub(super) fn apply(reply: &mut Reply, value: &Value) -> bool {
    reply.take_model(value.get("modelVersion"));
    if value.get("error").is_some()
        && let Some(message) = error_message(value)
    {
        reply.take_error(message);
    }
    if let Some(usage) = value.get("usageMetadata") {
        reply.take_usage(usage, TokenUsage::from_gemini);
    }
    if let Some(reason) = value
        .get("promptFeedback")
        .and_then(|f| f.get("blockReason"))
        .and_then(Value::as_str)
    {
        reply.finish_reason = Some(format!("blocked: {reason}"));
    }
    let mut content = false;
    for candidate in value
        .get("candidates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
            reply.finish_reason = Some(reason.to_string());
            reply.terminated = true;
        }
        let parts = candidate
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                content |= super::non_empty(part.get("text"));
            } else {
                content |= reply.add_text(part.get("text"));
            }
            if let Some(call) = part.get("functionCall") {
                let n = reply.tool_calls.len();
                let tool = reply.tool(&format!("f{n}"));
                tool.id = call.get("id").and_then(Value::as_str).map(str::to_string);
                tool.name = call
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                tool.arguments_bytes = call
                    .get("args")
                    .map_or(0, |args| args.to_string().len() as i64);
                content = true;
            }
        }
    }
    content
}
