//! Framing shared by the provider API formats (`openai_api`, `anthropic_api`,
//! `gemini_api`): what a saved API exchange looks like on disk, and how it becomes rows.
//!
//! A file holds one JSON document, or JSONL with one document per line (a log of calls,
//! an OpenAI batch output file). Each document is one exchange, any of:
//! - a pair `{"request": {...}, "response": {...}}` (`status`/`status_code` optional);
//! - a batch output line `{"custom_id", "response": {"status_code", "body": {...}}}`;
//! - a bare response, or a bare request (model, messages, tools);
//! - a bare array of messages (a saved conversation), or for Gemini an array of
//!   streamed response chunks.
//!
//! Each exchange becomes a `sessions` row (the conversation: request history plus the
//! reply; id = `session_id`/`custom_id` when given, else the file name for a single
//! document and `<file>:<line>` for a JSONL line), one `llm_calls` row for its response
//! (`source = transcript`), and a `tool_calls` row per structured call. A request that
//! offered tools makes tools "available", so a reply without a call is `zero_tool_calls`.

use std::io::BufRead;

use serde_json::Value;

use super::chat::{DecodedMessage, decode_message, value_ts};
use super::json_input::for_each_document;
use super::{ParseContext, ParseError, Rejection, RowSink};
use crate::schema::{LlmCallRow, Timestamp};
use crate::sessions::{Message, Role, SessionFacts};
use crate::usage::TokenUsage;

/// What a provider module reads out of one exchange.
#[derive(Debug, Default)]
pub struct Exchange<'a> {
    /// API endpoint path, when the shape tells it.
    pub endpoint: Option<&'static str>,
    /// Model named in the request.
    pub request_model: Option<String>,
    /// Whether the request offered tools.
    pub tools_available: bool,
    /// A system prompt given outside the messages (`system`, `instructions`, ...).
    pub system_prompt: Option<String>,
    /// The request's messages, in any shape [`decode_message`] reads.
    pub history: Vec<&'a Value>,
    /// The response, if the exchange has one.
    pub response: Option<Reply>,
}

/// A provider's response, decoded.
#[derive(Debug, Default)]
pub struct Reply {
    /// The provider's response id.
    pub id: Option<String>,
    /// Model named in the response.
    pub model: Option<String>,
    /// The reply messages (usually one).
    pub messages: Vec<DecodedMessage>,
    /// Usage in the dataset's buckets, or why it could not be read.
    pub usage: Option<Result<TokenUsage, String>>,
    /// Why generation stopped.
    pub finish_reason: Option<String>,
    /// When the response was created.
    pub ts: Option<Timestamp>,
    /// An error the provider answered with.
    pub error: Option<String>,
    /// Whether the reply was streamed (saved as chunks).
    pub streamed: Option<bool>,
}

/// Where a provider's response names its id, model and usage.
#[derive(Debug, Clone, Copy)]
pub struct ResponseKeys {
    /// The response id's member (`id`, `responseId`).
    pub id: &'static str,
    /// The model's member (`model`, `modelVersion`).
    pub model: &'static str,
    /// The usage object's member (`usage`, `usageMetadata`).
    pub usage: &'static str,
    /// The provider's usage converter ([`TokenUsage`]).
    pub read_usage: fn(&Value) -> Result<TokenUsage, String>,
}

impl Reply {
    /// The fields every provider's response has, read under its `keys`: id, model, usage,
    /// creation time and error; not streamed.
    pub fn read(response: &Value, keys: ResponseKeys) -> Reply {
        let text = |key: &str| {
            response
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Reply {
            id: text(keys.id),
            model: text(keys.model),
            usage: response
                .get(keys.usage)
                .filter(|u| !u.is_null())
                .map(keys.read_usage),
            ts: created_ts(response),
            error: error_summary(response),
            streamed: Some(false),
            ..Reply::default()
        }
    }
}

/// One provider's wire shapes.
pub trait Api: Sync {
    /// Provider name as stored (`openai`, `anthropic`, `gemini`).
    fn provider(&self) -> &'static str;
    /// Format name as stored in `sessions.source_format`.
    fn format(&self) -> &'static str;
    /// Whether a bare document is a response (else it is a request).
    fn is_response(&self, doc: &Value) -> bool;
    /// Reads a request into `exchange`.
    fn read_request<'a>(&self, request: &'a Value, exchange: &mut Exchange<'a>);
    /// Reads a response.
    fn read_response(&self, response: &Value) -> Reply;
    /// Reads a top-level array (messages, or streamed chunks).
    fn read_array<'a>(&self, items: &'a [Value], exchange: &mut Exchange<'a>) {
        exchange.history = items.iter().collect();
    }
}

/// Reads a file of exchanges of `api`: one document, or JSONL of documents.
pub fn parse_exchanges(
    api: &dyn Api,
    input: &mut dyn BufRead,
    ctx: &ParseContext<'_>,
    sink: &mut RowSink<'_>,
) -> Result<(), ParseError> {
    let mut good = 0u64;
    for_each_document(input, sink, "a JSON document", &mut |doc, line, sink| {
        match (emit(api, &doc, line, ctx, sink), line) {
            (Ok(()), _) => good += 1,
            (Err(reason), Some(n)) => sink.issue(Rejection::at(n, reason)),
            (Err(reason), None) => return Err(Rejection::file(reason).into()),
        }
        Ok(())
    })?;
    if good == 0 {
        return Err(
            Rejection::file(format!("no {} exchange could be read", api.provider())).into(),
        );
    }
    Ok(())
}

/// The request and response of a document, whatever its framing.
fn split<'a>(api: &dyn Api, doc: &'a Value) -> (Option<&'a Value>, Option<&'a Value>, Option<i64>) {
    let status = ["status_code", "status"]
        .iter()
        .find_map(|k| doc.get(*k).and_then(Value::as_i64));
    match (doc.get("request"), doc.get("response")) {
        (request, Some(response)) if response.is_object() => {
            // Batch output: the response is wrapped with its status code.
            if let Some(body) = response.get("body").filter(|b| b.is_object()) {
                let status = response
                    .get("status_code")
                    .and_then(Value::as_i64)
                    .or(status);
                return (request, Some(body), status);
            }
            (request, Some(response), status)
        }
        (Some(request), _) => (Some(request), None, status),
        _ if api.is_response(doc) => (None, Some(doc), status),
        _ => (Some(doc), None, status),
    }
}

/// Turns one document into a session, its call and its tool calls.
fn emit(
    api: &dyn Api,
    doc: &Value,
    line: Option<u64>,
    ctx: &ParseContext<'_>,
    sink: &mut RowSink<'_>,
) -> Result<(), String> {
    let mut exchange = Exchange::default();
    let mut status = None;
    match doc {
        Value::Array(items) => api.read_array(items, &mut exchange),
        Value::Object(_) => {
            let (request, response, s) = split(api, doc);
            status = s;
            if let Some(request) = request {
                api.read_request(request, &mut exchange);
            }
            if let Some(response) = response {
                exchange.response = Some(api.read_response(response));
            }
        }
        _ => return Err("expected a JSON object or array".into()),
    }
    if exchange.history.is_empty() && exchange.response.is_none() {
        return Err(format!(
            "neither messages nor a response of the {} API",
            api.provider()
        ));
    }
    let session_id = ["session_id", "custom_id", "conversation_id"]
        .iter()
        .find_map(|k| doc.get(*k).and_then(Value::as_str))
        .map(str::to_string)
        .or_else(|| {
            doc.pointer("/request/metadata/session_id")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| match line {
            Some(n) => format!("{}:{n}", ctx.file_stem_or_id()),
            None => ctx.file_stem_or_id(),
        });
    let mut facts = SessionFacts::new(session_id.clone(), api.format());
    facts.tools_available = exchange.tools_available;
    facts.row.provider = Some(api.provider().into());
    facts.row.model = exchange.request_model.clone();
    let line_issue = |what: String| match line {
        Some(n) => Rejection::at(n, what),
        None => Rejection::file(what),
    };
    if let Some(system) = &exchange.system_prompt {
        facts.message(&Message {
            role: Some(Role::System),
            text: system,
            ..Message::default()
        });
    }
    let mut tool_rows = Vec::new();
    for (index, value) in exchange.history.iter().enumerate() {
        if let Value::String(text) = value {
            // The Responses API takes a bare string as the user's message.
            facts.message(&Message {
                role: Some(Role::User),
                text,
                ..Message::default()
            });
            continue;
        }
        match decode_message(value) {
            Ok(Some(message)) => {
                message.record(&mut facts, &session_id, None, &mut tool_rows);
            }
            Ok(None) => {}
            Err(e) => sink.issue(line_issue(format!("messages[{index}]: {e}"))),
        }
    }
    if let Some(reply) = exchange.response {
        let call_id = reply.id.clone().unwrap_or_else(|| match line {
            Some(n) => format!("{}:{n}", ctx.file_id),
            None => format!("{}:response", ctx.file_id),
        });
        let mut tool_count = 0;
        for message in &reply.messages {
            tool_count += message.calls.len() as i64;
            let mut message = message.clone();
            if message.ts.is_none() {
                message.ts = reply.ts;
            }
            message.record(&mut facts, &session_id, Some(&call_id), &mut tool_rows);
        }
        let mut row = LlmCallRow {
            call_id,
            session_id: Some(session_id.clone()),
            source: "transcript".into(),
            provider: Some(api.provider().into()),
            endpoint: exchange.endpoint.map(str::to_string),
            request_model: exchange.request_model.clone(),
            response_model: reply.model.clone(),
            streamed: reply.streamed,
            start_ts: reply.ts,
            finish_reason: reply.finish_reason.clone(),
            tool_call_count: Some(tool_count),
            http_status: status.and_then(|s| i32::try_from(s).ok()),
            error_kind: reply.error.as_ref().map(|_| "http".to_string()),
            error: reply.error.clone(),
            source_line: line.map(|n| n as i64),
            ..LlmCallRow::default()
        };
        if let Some(error) = &reply.error {
            facts.agent_error = Some(format!("the provider answered with an error: {error}"));
        }
        let usage = match reply.usage {
            Some(Ok(u)) => u,
            Some(Err(e)) => {
                sink.issue(line_issue(e));
                TokenUsage::default()
            }
            None => TokenUsage::default(),
        };
        usage.apply(&mut row);
        facts.add_usage(
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_creation,
        );
        if facts.row.model.is_none() {
            facts.row.model = reply.model;
        }
        sink.rows.llm_calls.push(row);
    }
    let (row, _) = facts.into_row(&ctx.options.validation);
    sink.rows.sessions.push(row);
    sink.rows.tool_calls.extend(tool_rows);
    Ok(())
}

/// The text of a system prompt given as a string, text blocks or Gemini parts.
pub fn system_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        Value::Object(_) => value.get("parts").and_then(system_text),
        _ => None,
    }
}

/// Whether a request's `tools` (or legacy `functions`) list is non-empty.
pub fn offers_tools(request: &Value) -> bool {
    ["tools", "functions"].iter().any(|k| {
        request
            .get(*k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    })
}

/// A response's creation time (`created` / `created_at` Unix seconds or ISO text).
pub fn created_ts(response: &Value) -> Option<Timestamp> {
    ["created_at", "created", "createTime"]
        .iter()
        .find_map(|k| response.get(*k))
        .and_then(value_ts)
}

/// The `error` object of an error response as one line, secrets redacted.
pub fn error_summary(response: &Value) -> Option<String> {
    let error = response.get("error")?;
    if error.is_null() {
        return None;
    }
    let summary = crate::api::error_message(error).unwrap_or_else(|| error.to_string());
    // Providers quote part of a rejected key back; it never reaches the dataset.
    Some(crate::redact::redact_command(&summary))
}
