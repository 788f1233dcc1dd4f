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

use super::chat::decode_message;
use super::json_input::for_each_document;
use super::{ParseContext, ParseError, Rejection, RowSink};
use crate::providers::saved::{Exchange, SavedApi};
use crate::schema::LlmCallRow;
use crate::sessions::{Message, Role, SessionFacts};
use crate::usage::TokenUsage;

/// Reads a file of exchanges of `api` (the format `format`): one document, or JSONL of
/// documents.
pub(crate) fn parse_exchanges(
    api: &dyn SavedApi,
    format: &'static str,
    input: &mut dyn BufRead,
    ctx: &ParseContext<'_>,
    sink: &mut RowSink<'_>,
) -> Result<(), ParseError> {
    let mut good = 0u64;
    for_each_document(input, sink, "a JSON document", &mut |doc, line, sink| {
        match (emit(api, format, &doc, line, ctx, sink), line) {
            (Ok(()), _) => good += 1,
            (Err(reason), Some(n)) => sink.issue(Rejection::at(n, reason)),
            (Err(reason), None) => return Err(Rejection::file(reason).into()),
        }
        Ok(())
    })?;
    if good == 0 {
        return Err(Rejection::file(format!(
            "no {} exchange could be read",
            api.provider().name()
        ))
        .into());
    }
    Ok(())
}

/// The request and response of a document, whatever its framing.
fn split<'a>(
    api: &dyn SavedApi,
    doc: &'a Value,
) -> (Option<&'a Value>, Option<&'a Value>, Option<i64>) {
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
    api: &dyn SavedApi,
    format: &'static str,
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
            api.provider().name()
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
    let mut facts = SessionFacts::new(session_id.clone(), format);
    facts.tools_available = exchange.tools_available;
    facts.row.provider = Some(api.provider().name().into());
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
        // Providers quote part of a rejected key back; it never reaches the dataset.
        let error = reply.error().map(crate::redact::redact_command);
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
            source: crate::schema::TRANSCRIPT_SOURCE.into(),
            provider: Some(api.provider().name().into()),
            endpoint: exchange.endpoint.map(str::to_string),
            request_model: exchange.request_model.clone(),
            response_model: reply.reply.response_model.clone(),
            streamed: reply.streamed,
            start_ts: reply.ts,
            finish_reason: reply.reply.finish_reason.clone(),
            tool_call_count: Some(tool_count),
            http_status: status.and_then(|s| i32::try_from(s).ok()),
            error_kind: error.as_ref().map(|_| "http".to_string()),
            error: error.clone(),
            source_line: line.map(|n| n as i64),
            ..LlmCallRow::default()
        };
        if let Some(error) = &error {
            facts.agent_error = Some(format!("the provider answered with an error: {error}"));
        }
        let usage = match reply.usage() {
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
            facts.row.model = reply.reply.response_model;
        }
        sink.rows.llm_calls.push(row);
    }
    let (row, _) = facts.into_row(&ctx.options.validation);
    sink.rows.sessions.push(row);
    sink.rows.tool_calls.extend(tool_rows);
    Ok(())
}
