//! OpenTelemetry GenAI spans exported as OTLP JSON: one `ExportTraceServiceRequest`
//! (`{resourceSpans: [{resource, scopeSpans: [{scope, spans: [...]}]}]}`), or JSONL of them
//! as the collector's file exporter writes. Attributes follow the GenAI semantic
//! conventions:
//!
//! | span (`gen_ai.operation.name`) | becomes |
//! | --- | --- |
//! | `chat`, `text_completion`, `generate_content` | an `llm_calls` row (`source = transcript`) and an assistant message |
//! | `execute_tool` | a `tool_calls` row (`gen_ai.tool.name`, `gen_ai.tool.call.id`; error status = `is_error`) |
//! | others (`invoke_agent`, `embeddings`, ...) | nothing of their own |
//!
//! Sessions are `gen_ai.conversation.id`, else the trace id. A call's provider is
//! `gen_ai.provider.name` (or the older `gen_ai.system`), its models
//! `gen_ai.request.model` / `gen_ai.response.model`, its times the span's start and
//! duration (`start_ts`, `total_ms`), its reason the first of
//! `gen_ai.response.finish_reasons`; a span with error status carries `error`.
//! Tokens: `gen_ai.usage.input_tokens` (older `prompt_tokens`), which the conventions say
//! includes cached tokens, minus `gen_ai.usage.cache_read.input_tokens` /
//! `cache_creation.input_tokens` (also spelled `cache_read_input_tokens` /
//! `cache_creation_input_tokens`); `gen_ai.usage.output_tokens` (older
//! `completion_tokens`). The reply's text and tool calls come from
//! `gen_ai.output.messages` (JSON) or `gen_ai.choice` events when the instrumentation
//! recorded content; tool calls are those of the `execute_tool` spans when a session has
//! any, else those of the replies. A session with `execute_tool` spans or
//! `gen_ai.tool.definitions` had tools available.
//!
//! Why one file of some 530 lines: one parser per format; the OTLP JSON envelope, the span
//! attributes of the GenAI conventions and the session grouping are read together.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::Value;

use super::json_input::for_each_document;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::schema::{LlmCallRow, Timestamp, ToolCallRow};
use crate::sessions::{Message, Role, SessionFacts};
use crate::usage::TokenUsage;

/// The `otlp_genai` format.
pub struct OtlpGenAi;

impl Format for OtlpGenAi {
    fn name(&self) -> &'static str {
        "otlp_genai"
    }

    fn description(&self) -> &'static str {
        "OpenTelemetry GenAI spans as OTLP JSON (resourceSpans[].scopeSpans[].spans[], or JSONL of them)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        sniff.head.contains("\"resourceSpans\"") || sniff.head.contains("\"resource_spans\"")
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut sessions: BTreeMap<String, SessionSpans> = BTreeMap::new();
        let mut spans_seen = 0usize;
        for_each_document(input, sink, "OTLP JSON", &mut |doc, line, sink| {
            spans_seen += read_request(&doc, line, &mut sessions, sink);
            Ok(())
        })?;
        if spans_seen == 0 {
            return Err(Rejection::file(
                "no span found under resourceSpans[].scopeSpans[].spans[]",
            )
            .into());
        }
        // Traces of something else (an HTTP service, custom `tool.*` attributes): say so
        // rather than store nothing quietly.
        if sessions.is_empty() && sink.issue_count() == 0 {
            return Err(Rejection::file(format!(
                "OTLP traces with {spans_seen} span(s), none a GenAI span (no gen_ai.* \
                 attributes): runlens reads the OpenTelemetry GenAI semantic conventions; \
                 instrument the LLM calls with them (OpenLLMetry, the OpenAI / Anthropic SDK \
                 instrumentations, Logfire) and export again"
            ))
            .into());
        }
        for (session_id, s) in sessions {
            s.finish(session_id, "otlp_genai", ctx, sink);
        }
        Ok(())
    }
}

/// The GenAI spans of one session, gathered before the rows are written.
#[derive(Default)]
pub(super) struct SessionSpans {
    provider: Option<String>,
    tools_offered: bool,
    /// Chat spans: the call row, its usage, its reply text, its tool calls.
    calls: Vec<(LlmCallRow, TokenUsage, String, Vec<ToolCallRow>)>,
    tool_spans: Vec<ToolCallRow>,
    errors: Vec<String>,
}

impl SessionSpans {
    /// Writes the session's rows; `format` is its `sessions.source_format`.
    pub(super) fn finish(
        mut self,
        session_id: String,
        format: &str,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) {
        let mut f = SessionFacts::new(session_id.clone(), format);
        f.row.provider = self.provider.take();
        f.tools_available = self.tools_offered || !self.tool_spans.is_empty();
        self.calls.sort_by_key(|c| c.0.start_ts);
        let use_reply_calls = self.tool_spans.is_empty();
        for (row, usage, text, calls) in &self.calls {
            let names: Vec<&str> = if use_reply_calls {
                calls.iter().map(|c| c.tool_name.as_str()).collect()
            } else {
                Vec::new()
            };
            f.message(&Message {
                role: Some(Role::Assistant),
                ts: row.start_ts,
                text,
                tool_calls: names,
                stop_reason: row.finish_reason.as_deref(),
                ..Message::default()
            });
            // Instrumentations record no content by default: a reply that produced
            // tokens had content even when the span does not show it.
            if text.trim().is_empty() && usage.output.is_some_and(|o| o > 0) {
                f.nonempty_messages += 1;
            }
            if let Some(error) = &row.error {
                f.agent_error = Some(format!("a call failed: {error}"));
            }
            f.add_usage(
                usage.input,
                usage.output,
                usage.cache_read,
                usage.cache_creation,
            );
            if f.row.model.is_none() {
                f.row.model = row.response_model.clone().or(row.request_model.clone());
            }
        }
        if !use_reply_calls {
            self.tool_spans.sort_by_key(|t| t.ts);
            let names: Vec<&str> = self
                .tool_spans
                .iter()
                .map(|t| t.tool_name.as_str())
                .collect();
            f.record_tool_calls(&names);
            let failed = self
                .tool_spans
                .iter()
                .filter(|t| t.is_error == Some(true))
                .count();
            if failed > 0 {
                f.message(&Message {
                    role: Some(Role::Tool),
                    text: &self.errors.join("; "),
                    tool_results: failed,
                    tool_result_errors: failed,
                    ..Message::default()
                });
            }
        }
        for (row, _, _, calls) in self.calls {
            if use_reply_calls {
                sink.rows.tool_calls.extend(calls);
            }
            sink.rows.llm_calls.push(row);
        }
        sink.rows.tool_calls.extend(self.tool_spans);
        let (row, _) = f.into_row(&ctx.options.validation);
        sink.rows.sessions.push(row);
    }
}

/// Reads one export request; returns how many spans it held.
pub(super) fn read_request(
    doc: &Value,
    line: Option<u64>,
    sessions: &mut BTreeMap<String, SessionSpans>,
    sink: &mut RowSink<'_>,
) -> usize {
    let mut spans = 0;
    let resource_spans = doc
        .get("resourceSpans")
        .or_else(|| doc.get("resource_spans"))
        .and_then(Value::as_array);
    for rs in resource_spans.into_iter().flatten() {
        let scope_spans = rs
            .get("scopeSpans")
            .or_else(|| rs.get("scope_spans"))
            // OTLP before 0.15 called them instrumentationLibrarySpans.
            .or_else(|| rs.get("instrumentationLibrarySpans"))
            .and_then(Value::as_array);
        for ss in scope_spans.into_iter().flatten() {
            for span in ss
                .get("spans")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                spans += 1;
                if let Err(reason) = read_span(span, line, sessions) {
                    sink.issue(match line {
                        Some(n) => Rejection::at(n, reason),
                        None => Rejection::file(reason),
                    });
                }
            }
        }
    }
    spans
}

/// Turns one span into a call or a tool call of its session.
fn read_span(
    span: &Value,
    line: Option<u64>,
    sessions: &mut BTreeMap<String, SessionSpans>,
) -> Result<(), String> {
    let attrs = Attributes(span.get("attributes").and_then(Value::as_array));
    let span_id = span
        .get("spanId")
        .or_else(|| span.get("span_id"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = span.get("name").and_then(Value::as_str).unwrap_or("");
    let operation = attrs.string("gen_ai.operation.name").or_else(|| {
        // Instrumentations that predate the attribute name the span after it.
        name.split_whitespace()
            .next()
            .filter(|op| {
                matches!(
                    *op,
                    "chat" | "text_completion" | "generate_content" | "execute_tool"
                )
            })
            .map(str::to_string)
    });
    let Some(operation) = operation else {
        return Ok(());
    };
    let session_id = attrs
        .string("gen_ai.conversation.id")
        .or_else(|| {
            span.get("traceId")
                .or_else(|| span.get("trace_id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| format!("span {span_id}: neither gen_ai.conversation.id nor a trace id"))?;
    let start = nanos(span.get("startTimeUnixNano"));
    let end = nanos(span.get("endTimeUnixNano"));
    let start_ts = start.map(|n| Timestamp(n / 1000));
    let failed = span
        .pointer("/status/code")
        .is_some_and(|c| c.as_i64() == Some(2) || c.as_str() == Some("STATUS_CODE_ERROR"));
    let status_message = span
        .pointer("/status/message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(crate::redact::redact_command)
        .or_else(|| attrs.string("error.type"));
    let is_call = matches!(
        operation.as_str(),
        "chat" | "text_completion" | "generate_content"
    );
    if !is_call && operation != "execute_tool" {
        // invoke_agent, embeddings, ...: no call or tool call of their own.
        return Ok(());
    }
    // A bad count rejects the span before it can start a session.
    let usage = if is_call {
        token_usage(&attrs)?
    } else {
        TokenUsage::default()
    };
    let s = sessions.entry(session_id.clone()).or_default();
    let provider = attrs
        .string("gen_ai.provider.name")
        .or_else(|| attrs.string("gen_ai.system"));
    if s.provider.is_none() {
        s.provider = provider.clone();
    }
    if attrs.has("gen_ai.tool.definitions") {
        s.tools_offered = true;
    }
    match operation.as_str() {
        "execute_tool" => {
            let tool = attrs
                .string("gen_ai.tool.name")
                .or_else(|| name.strip_prefix("execute_tool ").map(str::to_string))
                .unwrap_or_else(|| "(unnamed)".into());
            if failed {
                s.errors.push(format!(
                    "{tool}: {}",
                    status_message.as_deref().unwrap_or("error")
                ));
            }
            s.tool_spans.push(ToolCallRow {
                tool_call_id: attrs
                    .string("gen_ai.tool.call.id")
                    .unwrap_or_else(|| span_id.clone()),
                session_id: Some(session_id),
                ts: start_ts,
                tool_name: tool,
                arguments_bytes: attrs
                    .string("gen_ai.tool.call.arguments")
                    .map(|a| a.len() as i64),
                is_error: Some(failed),
                ..ToolCallRow::default()
            });
        }
        _ if is_call => {
            let call_id = if span_id.is_empty() {
                attrs
                    .string("gen_ai.response.id")
                    .unwrap_or_else(|| format!("{session_id}:{}", s.calls.len()))
            } else {
                span_id
            };
            let (text, calls) = reply_content(span, &attrs, &session_id, &call_id, start_ts);
            let mut row = LlmCallRow {
                call_id,
                session_id: Some(session_id),
                source: crate::schema::TRANSCRIPT_SOURCE.into(),
                provider,
                request_model: attrs.string("gen_ai.request.model"),
                response_model: attrs.string("gen_ai.response.model"),
                start_ts,
                total_ms: start.zip(end).map(|(a, b)| (b - a) as f64 / 1e6),
                finish_reason: attrs.first_string("gen_ai.response.finish_reasons"),
                tool_call_count: Some(calls.len() as i64),
                error_kind: failed.then(|| "span_error".to_string()),
                error: if failed { status_message } else { None },
                source_line: line.map(|n| n as i64),
                ..LlmCallRow::default()
            };
            if let Some(streamed) = attrs.bool("gen_ai.request.stream") {
                row.streamed = Some(streamed);
            }
            usage.apply(&mut row);
            s.calls.push((row, usage, text, calls));
        }
        _ => {}
    }
    Ok(())
}

/// Token buckets from the span's `gen_ai.usage.*` attributes.
fn token_usage(attrs: &Attributes<'_>) -> Result<TokenUsage, String> {
    let first = |keys: &[&str]| -> Result<Option<i64>, String> {
        for key in keys {
            if let Some(v) = attrs.int(key)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    };
    let input = first(&["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"])?;
    let output = first(&[
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
    ])?;
    let cache_read = first(&[
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
    ])?;
    let cache_creation = first(&[
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
    ])?;
    let reasoning = first(&[
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
    ])?;
    let cached = cache_read.unwrap_or(0) + cache_creation.unwrap_or(0);
    Ok(TokenUsage {
        input: input.map(|i| (i - cached).max(0)),
        output,
        cache_read,
        cache_creation,
        reasoning,
        ..TokenUsage::default()
    })
}

/// The reply's text and tool calls, from `gen_ai.output.messages` or `gen_ai.choice` events.
fn reply_content(
    span: &Value,
    attrs: &Attributes<'_>,
    session_id: &str,
    call_id: &str,
    ts: Option<Timestamp>,
) -> (String, Vec<ToolCallRow>) {
    let mut texts: Vec<String> = Vec::new();
    let mut calls: Vec<ToolCallRow> = Vec::new();
    let mut tool_call = |id: Option<&str>, name: Option<&str>, args: Option<&Value>| {
        calls.push(ToolCallRow {
            tool_call_id: id
                .map(str::to_string)
                .unwrap_or_else(|| format!("{call_id}-{}", calls.len())),
            session_id: Some(session_id.to_string()),
            call_id: Some(call_id.to_string()),
            ts,
            tool_name: name.unwrap_or("(unnamed)").to_string(),
            arguments_bytes: args.map(super::chat::argument_bytes),
            ..ToolCallRow::default()
        });
    };
    let output = attrs
        .string("gen_ai.output.messages")
        .and_then(|s| serde_json::from_str::<Value>(&s).ok());
    if let Some(Value::Array(messages)) = output {
        for m in &messages {
            for part in m
                .get("parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => texts.extend(
                        part.get("content")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    ),
                    Some("tool_call") => tool_call(
                        part.get("id").and_then(Value::as_str),
                        part.get("name").and_then(Value::as_str),
                        part.get("arguments"),
                    ),
                    _ => {}
                }
            }
        }
    }
    for event in span
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if event.get("name").and_then(Value::as_str) != Some("gen_ai.choice") {
            continue;
        }
        let ea = Attributes(event.get("attributes").and_then(Value::as_array));
        // The event's message is a JSON body in `message`, or flat attributes.
        let body = ea
            .string("message")
            .and_then(|s| serde_json::from_str::<Value>(&s).ok());
        if let Some(text) = body
            .as_ref()
            .and_then(|b| b.get("content"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| ea.string("gen_ai.completion"))
        {
            texts.push(text);
        }
        for tc in body
            .as_ref()
            .and_then(|b| b.get("tool_calls"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let f = tc.get("function");
            tool_call(
                tc.get("id").and_then(Value::as_str),
                f.and_then(|f| f.get("name")).and_then(Value::as_str),
                f.and_then(|f| f.get("arguments")),
            );
        }
    }
    (texts.join("\n"), calls)
}

/// An OTLP timestamp in nanoseconds: a decimal string (int64 in OTLP JSON) or a number.
fn nanos(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// A span's `[{key, value: {stringValue | intValue | ...}}]` attribute list.
struct Attributes<'a>(Option<&'a Vec<Value>>);

impl Attributes<'_> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.0?
            .iter()
            .find(|kv| kv.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|kv| kv.get("value"))
    }

    fn has(&self, key: &str) -> bool {
        self.value(key).is_some()
    }

    fn string(&self, key: &str) -> Option<String> {
        let v = self.value(key)?;
        v.get("stringValue")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| v.as_str().map(str::to_string))
    }

    fn bool(&self, key: &str) -> Option<bool> {
        self.value(key)?.get("boolValue").and_then(Value::as_bool)
    }

    /// An integer attribute; a count that is not a whole number ≥ 0 is an error.
    fn int(&self, key: &str) -> Result<Option<i64>, String> {
        let Some(v) = self.value(key) else {
            return Ok(None);
        };
        let n = match v.get("intValue").or_else(|| v.get("doubleValue")) {
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            _ => None,
        };
        match n {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err(format!("{key} is not a token count: {v}")),
        }
    }

    /// The first string of an array attribute (or the string itself).
    fn first_string(&self, key: &str) -> Option<String> {
        let v = self.value(key)?;
        v.pointer("/arrayValue/values/0/stringValue")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| self.string(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test};

    fn kv(key: &str, value: Value) -> Value {
        serde_json::json!({"key": key, "value": value})
    }

    #[test]
    fn chat_and_tool_spans_of_one_conversation() {
        let s = |v: &str| serde_json::json!({"stringValue": v});
        let i = |v: &str| serde_json::json!({"intValue": v});
        let doc = serde_json::json!({"resourceSpans": [{"resource": {"attributes": [kv("service.name", s("agent"))]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai"}, "spans": [
          {"traceId": "aa", "spanId": "01", "name": "chat gpt-4o", "kind": 3,
           "startTimeUnixNano": "1763800000000000000", "endTimeUnixNano": "1763800001250000000",
           "attributes": [kv("gen_ai.operation.name", s("chat")), kv("gen_ai.provider.name", s("openai")),
             kv("gen_ai.request.model", s("gpt-4o")), kv("gen_ai.response.model", s("gpt-4o-2024-08-06")),
             kv("gen_ai.conversation.id", s("conv-1")),
             kv("gen_ai.usage.input_tokens", i("1200")), kv("gen_ai.usage.output_tokens", i("40")),
             kv("gen_ai.usage.cache_read.input_tokens", i("1024")),
             kv("gen_ai.response.finish_reasons", serde_json::json!({"arrayValue": {"values": [{"stringValue": "tool_calls"}]}}))],
           "status": {}},
          {"traceId": "aa", "spanId": "02", "parentSpanId": "00", "name": "execute_tool search",
           "startTimeUnixNano": "1763800001300000000", "endTimeUnixNano": "1763800001400000000",
           "attributes": [kv("gen_ai.operation.name", s("execute_tool")), kv("gen_ai.tool.name", s("search")),
             kv("gen_ai.tool.call.id", s("call_1")), kv("gen_ai.conversation.id", s("conv-1"))],
           "status": {"code": 2, "message": "timeout"}},
          {"traceId": "bb", "spanId": "03", "name": "embeddings", "attributes": [kv("gen_ai.operation.name", s("embeddings"))]}
        ]}]}]});
        let text = serde_json::to_string_pretty(&doc).expect("json");
        let (result, rows, issues) = parse_for_test(
            &OtlpGenAi,
            text.as_bytes(),
            "t.json",
            &ParseOptions::default(),
        );
        assert!(result.is_ok() && issues.is_empty(), "{result:?} {issues:?}");
        let c = &rows.llm_calls[0];
        assert_eq!(
            (c.input_tokens, c.cache_read_input_tokens, c.output_tokens),
            (Some(176), Some(1024), Some(40))
        );
        assert_eq!(c.total_ms, Some(1250.0));
        assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(c.start_ts, Some(Timestamp(1_763_800_000_000_000)));
        assert_eq!(rows.sessions.len(), 1);
        let session = &rows.sessions[0];
        assert_eq!(
            (
                session.session_id.as_str(),
                session.tool_calls,
                session.tool_errors
            ),
            ("conv-1", 1, 1)
        );
        assert_eq!(rows.tool_calls[0].is_error, Some(true));
    }

    #[test]
    fn a_chat_without_tools_and_bad_token_counts() {
        let line = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"cc","spanId":"09","name":"chat llama3.2:3b","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"gen_ai.system","value":{"stringValue":"ollama"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"-3"}}]}]}]}]}"#;
        let text = format!("{line}\n{{oops\n");
        let (result, rows, issues) = parse_for_test(
            &OtlpGenAi,
            text.as_bytes(),
            "t.jsonl",
            &ParseOptions::default(),
        );
        assert!(result.is_ok());
        assert_eq!(issues.len(), 2, "{issues:?}");
        // The span with a negative count is reported; nothing else made a session.
        assert!(rows.llm_calls.is_empty() && rows.sessions.is_empty());
    }

    /// Traces of something else (no gen_ai.* attribute anywhere) are rejected with a
    /// message that says what the file is, not stored as nothing.
    #[test]
    fn traces_without_genai_spans_are_rejected_saying_so() {
        let line = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"aa","spanId":"01","name":"GET /crops","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"tool.name","value":{"stringValue":"calendar"}}]}]}]}]}"#;
        let (result, rows, _) = parse_for_test(
            &OtlpGenAi,
            line.as_bytes(),
            "t.json",
            &ParseOptions::default(),
        );
        match result {
            Err(ParseError::Rejected(r)) => {
                assert!(
                    r.reason.contains("1 span(s), none a GenAI span"),
                    "{}",
                    r.reason
                )
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert!(rows.sessions.is_empty());
    }
}
