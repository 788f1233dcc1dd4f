//! Anthropic's Messages API on the wire: one `message` body, or the SSE stream
//! `message_start` (model, input usage) → `content_block_start` / `content_block_delta`
//! (`text_delta`, `thinking_delta`, `input_json_delta` for tool arguments) /
//! `content_block_stop` → `message_delta` (stop reason and usage, **cumulative**: each
//! report replaces the previous figures) → `message_stop`, with `ping` and `error` events
//! anywhere. Reference: docs.anthropic.com/en/docs/build-with-claude/streaming.
//!
//! The same reader serves saved responses: [`Saved`] reads the `anthropic_api` format's
//! requests and responses for `formats::exchange`.

use serde_json::Value;

use super::saved::{Exchange, SavedApi, SavedResponse, offers_tools, request_model, system_text};
use super::{Api, Provider, Reply, error_of, non_empty};
use crate::formats::chat::decode_message;
use crate::usage::TokenUsage;

/// One event (its SSE name, else its `type`) or a whole body; returns whether it carried
/// content.
pub(crate) fn apply(reply: &mut Reply, name: Option<&str>, value: &Value) -> bool {
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .or(name)
        .unwrap_or("");
    match kind {
        "message_start" => {
            if let Some(message) = value.get("message") {
                reply.take_model(message.get("model"));
                if let Some(usage) = message.get("usage") {
                    reply.take_usage(usage, TokenUsage::from_anthropic);
                }
            }
            false
        }
        "content_block_start" => {
            let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
            let block = value.get("content_block").unwrap_or(&Value::Null);
            content_block(reply, &format!("b{index}"), block, false)
        }
        "content_block_delta" => {
            let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
            let delta = value.get("delta").unwrap_or(&Value::Null);
            match delta.get("type").and_then(Value::as_str) {
                Some("input_json_delta") => {
                    let json = delta
                        .get("partial_json")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    reply.tool(&format!("b{index}")).arguments_bytes += json.len() as i64;
                    !json.is_empty()
                }
                _ => {
                    reply.add_text(delta.get("text"))
                        || non_empty(delta.get("thinking"))
                        || non_empty(delta.get("citation").and_then(|c| c.get("cited_text")))
                }
            }
        }
        "message_delta" => {
            if let Some(reason) = value
                .get("delta")
                .and_then(|d| d.get("stop_reason"))
                .and_then(Value::as_str)
            {
                reply.finish_reason = Some(reason.to_string());
            }
            if let Some(usage) = value.get("usage") {
                reply.take_usage(usage, TokenUsage::from_anthropic);
            }
            false
        }
        "message_stop" => {
            reply.terminated = true;
            false
        }
        "error" => {
            if let Some(message) = error_of(value) {
                reply.take_error(message);
            }
            false
        }
        "message" => {
            reply.take_model(value.get("model"));
            if let Some(usage) = value.get("usage") {
                reply.take_usage(usage, TokenUsage::from_anthropic);
            }
            if let Some(reason) = value.get("stop_reason").and_then(Value::as_str) {
                reply.finish_reason = Some(reason.to_string());
            }
            let mut content = false;
            if let Some(blocks) = value.get("content").and_then(Value::as_array) {
                for (i, block) in blocks.iter().enumerate() {
                    content |= content_block(reply, &format!("b{i}"), block, true);
                }
            }
            content
        }
        _ => false,
    }
}

/// A content block: text (content when non-empty), thinking, or a tool use (whose input
/// is complete in a whole message, and streamed as `input_json_delta` otherwise).
fn content_block(reply: &mut Reply, key: &str, block: &Value, whole: bool) -> bool {
    match block.get("type").and_then(Value::as_str) {
        Some("tool_use" | "server_tool_use") => {
            let tool = reply.tool(key);
            if let Some(id) = block.get("id").and_then(Value::as_str) {
                tool.id = Some(id.to_string());
            }
            if let Some(name) = block.get("name").and_then(Value::as_str) {
                tool.name = name.to_string();
            }
            if whole && let Some(input) = block.get("input") {
                tool.arguments_bytes = super::argument_bytes(input);
            }
            true
        }
        _ => reply.add_text(block.get("text")) || non_empty(block.get("thinking")),
    }
}

/// Anthropic's saved requests and responses (the `anthropic_api` format): request `system`
/// (text or blocks), `messages` with content blocks, `tools`; response `{type: message}`
/// or `{type: error}`.
pub(crate) struct Saved;

impl SavedApi for Saved {
    fn provider(&self) -> Provider {
        Provider::Anthropic
    }

    fn is_response(&self, doc: &Value) -> bool {
        matches!(
            doc.get("type").and_then(Value::as_str),
            Some("message" | "error")
        )
    }

    fn read_request<'a>(&self, request: &'a Value, exchange: &mut Exchange<'a>) {
        exchange.endpoint = Some("/v1/messages");
        exchange.request_model = request_model(request);
        exchange.tools_available = offers_tools(request);
        exchange.system_prompt = request.get("system").and_then(system_text);
        if let Some(messages) = request.get("messages").and_then(Value::as_array) {
            exchange.history = messages.iter().collect();
        }
    }

    fn read_response(&self, response: &Value) -> SavedResponse {
        let mut saved = SavedResponse::read(Api::AnthropicMessages, response, "id");
        if response.get("content").is_some()
            && let Ok(Some(message)) = decode_message(response)
        {
            saved.messages.push(message);
        }
        saved
    }
}
