//! OpenAI's wire formats: Chat Completions (a streamed `chat.completion.chunk` per SSE
//! event ending in `data: [DONE]`, or one `chat.completion`), legacy Completions (`text`),
//! Embeddings (usage only) and the Responses API (typed SSE events ending in
//! `response.completed`, or one `response` object). Usage arrives in the last chunk of a
//! Chat stream only when the client asked for it (`stream_options.include_usage`); a
//! streamed call without it has no token counts, and says so.
//!
//! Reference: platform.openai.com/docs/api-reference/chat/streaming and
//! /responses-streaming.
//!
//! The same readers serve saved responses: [`Saved`] reads the `openai_api` format's
//! requests and responses for `formats::exchange`.

use serde_json::Value;

use super::saved::{Exchange, SavedApi, SavedResponse, offers_tools, request_model, system_text};
use super::{Api, Provider, Reply, error_of, non_empty};
use crate::formats::chat::{DecodedMessage, decode_message};
use crate::sessions::Role;
use crate::usage::TokenUsage;

/// A Chat Completions (or Completions, Embeddings) chunk or body; returns whether it
/// carried content.
pub(crate) fn apply_chat(reply: &mut Reply, value: &Value) -> bool {
    reply.take_model(value.get("model"));
    if let Some(usage) = value.get("usage") {
        reply.take_usage(usage, TokenUsage::from_openai);
    }
    if value.get("error").is_some_and(|e| !e.is_null())
        && let Some(message) = error_of(value)
    {
        reply.take_error(message);
    }
    let mut content = false;
    let Some(choices) = value.get("choices").and_then(Value::as_array) else {
        return false;
    };
    for (c, choice) in choices.iter().enumerate() {
        let choice_index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(c as u64);
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            reply.finish_reason = Some(reason.to_string());
        }
        content |= reply.add_text(choice.get("text"));
        let Some(message) = choice.get("delta").or_else(|| choice.get("message")) else {
            continue;
        };
        content |= reply.add_text(message.get("content"))
            || non_empty(message.get("reasoning_content"))
            || non_empty(message.get("reasoning"))
            || non_empty(message.get("refusal"));
        if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
            for (n, call) in calls.iter().enumerate() {
                // Streamed deltas address a call by its index; the first carries id and name.
                let index = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(n as u64);
                let tool = reply.tool(&format!("c{choice_index}-t{index}"));
                if let Some(id) = call.get("id").and_then(Value::as_str) {
                    tool.id = Some(id.to_string());
                }
                let function = call.get("function").or_else(|| call.get("custom"));
                if let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) {
                    tool.name.push_str(name);
                }
                let arguments =
                    function.and_then(|f| f.get("arguments").or_else(|| f.get("input")));
                tool.arguments_bytes += argument_bytes(arguments);
                content = true;
            }
        }
        if let Some(function) = message.get("function_call").filter(|f| f.is_object()) {
            let tool = reply.tool(&format!("c{choice_index}-f"));
            if let Some(name) = function.get("name").and_then(Value::as_str) {
                tool.name.push_str(name);
            }
            tool.arguments_bytes += argument_bytes(function.get("arguments"));
            content = true;
        }
    }
    content
}

/// Bytes of a tool call's arguments ([`super::argument_bytes`]; 0 when absent).
fn argument_bytes(arguments: Option<&Value>) -> i64 {
    arguments.map_or(0, super::argument_bytes)
}

/// A Responses API event or `response` body; returns whether it carried content.
pub(crate) fn apply_responses(reply: &mut Reply, value: &Value) -> bool {
    let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "response.output_text.delta" => reply.add_text(value.get("delta")),
        "response.refusal.delta"
        | "response.reasoning_text.delta"
        | "response.reasoning_summary_text.delta" => non_empty(value.get("delta")),
        "response.output_item.added" | "response.output_item.done" => {
            let index = value
                .get("output_index")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            match value.get("item") {
                Some(item) => {
                    output_item(reply, &format!("o{index}"), item, kind.ends_with("done"))
                }
                None => false,
            }
        }
        "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
            let index = value
                .get("output_index")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let delta = value.get("delta").and_then(Value::as_str).unwrap_or("");
            reply.tool(&format!("o{index}")).arguments_bytes += delta.len() as i64;
            !delta.is_empty()
        }
        "error" => {
            if let Some(message) = error_of(value) {
                reply.take_error(message);
            }
            false
        }
        _ if kind.starts_with("response.") => {
            if let Some(response) = value.get("response") {
                response_object(reply, response, false);
            }
            if matches!(
                kind,
                "response.completed" | "response.incomplete" | "response.failed"
            ) {
                reply.terminated = true;
            }
            false
        }
        // A whole `response` object (not streamed).
        _ => response_object(reply, value, true),
    }
}

/// The model, usage, status and (for a whole body) output items of a `response`.
fn response_object(reply: &mut Reply, response: &Value, with_output: bool) -> bool {
    reply.take_model(response.get("model"));
    if let Some(usage) = response.get("usage") {
        reply.take_usage(usage, TokenUsage::from_openai);
    }
    if let Some(status) = response.get("status").and_then(Value::as_str)
        && status != "in_progress"
        && status != "queued"
    {
        let reason = response
            .get("incomplete_details")
            .and_then(|d| d.get("reason"))
            .and_then(Value::as_str);
        reply.finish_reason = Some(reason.unwrap_or(status).to_string());
    }
    if let Some(error) = response.get("error").filter(|e| !e.is_null())
        && let Some(message) = error_of(error)
    {
        reply.take_error(message);
    }
    let mut content = false;
    if with_output && let Some(items) = response.get("output").and_then(Value::as_array) {
        for (i, item) in items.iter().enumerate() {
            content |= output_item(reply, &format!("o{i}"), item, true);
        }
    }
    content
}

/// One output item: a message (content when it has text), or a function call. `whole`
/// says the item is complete (its arguments are final, not deltas to add).
fn output_item(reply: &mut Reply, key: &str, item: &Value, whole: bool) -> bool {
    match item.get("type").and_then(Value::as_str) {
        Some("function_call" | "custom_tool_call") => {
            let tool = reply.tool(key);
            if let Some(id) = item.get("call_id").and_then(Value::as_str) {
                tool.id = Some(id.to_string());
            }
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                tool.name = name.to_string();
            }
            let arguments = item.get("arguments").or_else(|| item.get("input"));
            if whole && arguments.is_some() {
                tool.arguments_bytes = argument_bytes(arguments);
            }
            true
        }
        Some("message") if whole => {
            let parts = item.get("content").and_then(Value::as_array);
            let mut text = false;
            for part in parts.into_iter().flatten() {
                text |= reply.add_text(part.get("text"));
            }
            text
        }
        Some("reasoning") if whole => item
            .get("summary")
            .and_then(Value::as_array)
            .is_some_and(|parts| !parts.is_empty()),
        _ => false,
    }
}

/// OpenAI's saved requests and responses (the `openai_api` format): Chat Completions
/// (request `messages`, response `choices[].message`) and the Responses API (request
/// `input` and `instructions`, response `output` items, read as one assistant message).
pub(crate) struct Saved;

impl SavedApi for Saved {
    fn provider(&self) -> Provider {
        Provider::OpenAi
    }

    fn is_response(&self, doc: &Value) -> bool {
        doc.get("choices").is_some()
            || matches!(
                doc.get("object").and_then(Value::as_str),
                Some("chat.completion" | "response")
            )
            || (doc.get("output").is_some_and(Value::is_array) && doc.get("input").is_none())
            || (doc.get("error").is_some() && doc.get("messages").is_none())
    }

    fn read_request<'a>(&self, request: &'a Value, exchange: &mut Exchange<'a>) {
        exchange.request_model = request_model(request);
        exchange.tools_available = offers_tools(request);
        if let Some(messages) = request.get("messages").and_then(Value::as_array) {
            exchange.endpoint = Some("/v1/chat/completions");
            exchange.history = messages.iter().collect();
        } else if let Some(input) = request.get("input") {
            exchange.endpoint = Some("/v1/responses");
            exchange.system_prompt = request.get("instructions").and_then(system_text);
            match input {
                Value::Array(items) => exchange.history = items.iter().collect(),
                // A bare string input is one user message: keep it as one.
                Value::String(_) => exchange.history = vec![input],
                _ => {}
            }
        }
    }

    fn read_response(&self, response: &Value) -> SavedResponse {
        let responses_api = response.get("object").and_then(Value::as_str) == Some("response")
            || response.get("output").is_some_and(Value::is_array);
        let api = if responses_api {
            Api::OpenAiResponses
        } else {
            Api::OpenAiChat
        };
        let mut saved = SavedResponse::read(api, response, "id");
        if let Some(choices) = response.get("choices").and_then(Value::as_array) {
            for choice in choices {
                let finish = choice
                    .get("finish_reason")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(Ok(Some(mut message))) = choice.get("message").map(decode_message) {
                    message.stop_reason = message.stop_reason.or(finish);
                    saved.messages.push(message);
                }
            }
        } else if let Some(items) = response.get("output").and_then(Value::as_array) {
            // One response is one assistant turn, however many items it has.
            let mut turn: Option<DecodedMessage> = None;
            for item in items {
                let Ok(Some(part)) = decode_message(item) else {
                    continue;
                };
                match &mut turn {
                    None => turn = Some(part),
                    Some(t) => {
                        if !part.text.is_empty() {
                            if !t.text.is_empty() {
                                t.text.push('\n');
                            }
                            t.text.push_str(&part.text);
                        }
                        t.calls.extend(part.calls);
                    }
                }
            }
            if let Some(mut t) = turn {
                t.role = Role::Assistant;
                t.stop_reason = saved.reply.finish_reason.clone();
                saved.messages.push(t);
            }
        }
        saved
    }
}
