//! Gemini's `generateContent` / `streamGenerateContent` on the wire: each response (the
//! body, an SSE event with `alt=sse`, or an element of the streamed JSON array) has
//! `candidates[].content.parts[]` (`text`, `thought` text, `functionCall {name, args, id?}`
//! whole in one part), `candidates[].finishReason`, `usageMetadata` (the running totals:
//! the last report wins) and `modelVersion`. There is no end-of-stream event.
//! Reference: ai.google.dev/api/generate-content.
//!
//! The same reader serves saved responses: [`Saved`] reads the `gemini_api` format's
//! requests, responses and streamed chunk arrays for `formats::exchange`.

use serde_json::Value;

use super::saved::{Exchange, SavedApi, SavedResponse, request_model, system_text};
use super::{Api, Provider, Reply, error_of};
use crate::formats::chat::{DecodedMessage, decode_message};
use crate::sessions::Role;
use crate::usage::TokenUsage;

/// One response object; returns whether it carried content.
pub(crate) fn apply(reply: &mut Reply, value: &Value) -> bool {
    reply.take_model(value.get("modelVersion"));
    if value.get("error").is_some()
        && let Some(message) = error_of(value)
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

/// Gemini's saved requests and responses (the `gemini_api` format): request `contents[]`,
/// `systemInstruction`, `tools[].functionDeclarations`; response `candidates[]`; a JSON
/// array of responses is a saved `streamGenerateContent` answer, read chunk by chunk as the
/// proxy reads it (the usage is the last chunk's running totals) and joined into one reply.
pub(crate) struct Saved;

impl SavedApi for Saved {
    fn provider(&self) -> Provider {
        Provider::Gemini
    }

    fn is_response(&self, doc: &Value) -> bool {
        doc.get("candidates").is_some()
            || doc.get("usageMetadata").is_some()
            || (doc.get("error").is_some() && doc.get("contents").is_none())
    }

    fn read_request<'a>(&self, request: &'a Value, exchange: &mut Exchange<'a>) {
        exchange.endpoint = Some("generateContent");
        exchange.request_model = request_model(request);
        exchange.tools_available =
            request
                .get("tools")
                .and_then(Value::as_array)
                .is_some_and(|tools| {
                    tools.iter().any(|t| {
                        t.get("functionDeclarations")
                            .or_else(|| t.get("function_declarations"))
                            .and_then(Value::as_array)
                            .is_some_and(|d| !d.is_empty())
                    })
                });
        exchange.system_prompt = request
            .get("systemInstruction")
            .or_else(|| request.get("system_instruction"))
            .and_then(system_text);
        if let Some(contents) = request.get("contents").and_then(Value::as_array) {
            exchange.history = contents.iter().collect();
        }
    }

    fn read_response(&self, response: &Value) -> SavedResponse {
        let mut saved = SavedResponse::read(Api::GeminiGenerate, response, "responseId");
        saved.messages = candidate_messages(response);
        saved
    }

    fn read_array<'a>(&self, items: &'a [Value], exchange: &mut Exchange<'a>) {
        let Some(first) = items.first().filter(|c| self.is_response(c)) else {
            exchange.history = items.iter().collect();
            return;
        };
        // Streamed chunks: one reply, texts and calls joined, the last usage and reason.
        let mut joined = SavedResponse::read(Api::GeminiGenerate, first, "responseId");
        joined.streamed = Some(true);
        let mut turn: Option<DecodedMessage> = None;
        for (n, chunk) in items.iter().enumerate() {
            if n > 0 {
                joined.add_chunk(Api::GeminiGenerate, chunk);
                if joined.id.is_none() {
                    joined.id = chunk
                        .get("responseId")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
            }
            for m in candidate_messages(chunk) {
                match &mut turn {
                    None => turn = Some(m),
                    Some(t) => {
                        t.text.push_str(&m.text);
                        t.calls.extend(m.calls);
                    }
                }
            }
        }
        if let Some(mut t) = turn {
            t.stop_reason = joined.reply.finish_reason.clone();
            joined.messages.push(t);
        }
        exchange.response = Some(joined);
    }
}

/// A response's candidates as assistant messages, each with its finish reason.
fn candidate_messages(response: &Value) -> Vec<DecodedMessage> {
    let candidates = response.get("candidates").and_then(Value::as_array);
    candidates
        .into_iter()
        .flatten()
        .map(|candidate| {
            let mut message = match candidate.get("content").map(decode_message) {
                Some(Ok(Some(m))) => m,
                // A candidate stopped by a safety filter has no content.
                _ => DecodedMessage::new(Role::Assistant),
            };
            message.role = Role::Assistant;
            message.stop_reason = candidate
                .get("finishReason")
                .and_then(Value::as_str)
                .map(str::to_string);
            message
        })
        .collect()
}
