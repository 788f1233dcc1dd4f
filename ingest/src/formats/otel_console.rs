//! OpenTelemetry spans as the Python SDK's `ConsoleSpanExporter` prints them (often saved as
//! `traces.jsonl` although they are not JSONL): one pretty-printed JSON object per span,
//! objects one after another, with
//! `{"name", "context": {"trace_id": "0x…", "span_id": "0x…"}, "kind": "SpanKind.…",
//! "parent_id", "start_time", "end_time" (ISO 8601, null while the span is open),
//! "status": {"status_code": "UNSET" | "OK" | "ERROR", "description"}, "attributes": {flat
//! key: value}, "events": [{"name", "timestamp", "attributes"}], "resource"}`.
//!
//! Some instrumentations print a span twice, once when it starts (`end_time` null) and once
//! when it ends: a span id is read once, its last (ended) copy kept. Each span is turned
//! into its OTLP JSON form and read by the `otlp_genai` parser's span reader, so the GenAI
//! attributes mean the same in both formats (sessions by `gen_ai.conversation.id`, else the
//! trace id; `chat` spans as calls, `execute_tool` spans as tool calls).

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::{Map, Value, json};

use super::otlp_genai::{SessionSpans, read_request};
use super::timestamps::parse_timestamp;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};

/// The `otel_console` format.
pub struct OtelConsole;

impl Format for OtelConsole {
    fn name(&self) -> &'static str {
        "otel_console"
    }

    fn description(&self) -> &'static str {
        "OpenTelemetry spans printed by the Python SDK's ConsoleSpanExporter (pretty JSON objects, flat attributes)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let head = sniff.head;
        head.trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
            && head.contains("\"context\"")
            && head.contains("\"span_id\"")
            && head.contains("\"kind\": \"SpanKind.")
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        // Span id → its OTLP form; a later copy (the ended span) replaces an earlier one.
        let mut spans: BTreeMap<String, Value> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut objects = serde_json::Deserializer::from_reader(input).into_iter::<Value>();
        let mut read = 0usize;
        loop {
            let object = match objects.next() {
                None => break,
                Some(Ok(o)) => o,
                Some(Err(e)) => {
                    // The stream cannot resynchronise after broken JSON: keep what was read.
                    let line = e.line() as u64;
                    if read == 0 {
                        return Err(Rejection::at(line, format!("not a console span: {e}")).into());
                    }
                    sink.issue(Rejection::at(
                        line,
                        format!("spans after this line skipped: {e}"),
                    ));
                    break;
                }
            };
            read += 1;
            let Some((id, span)) = to_otlp(&object) else {
                sink.issue(Rejection::file(format!(
                    "object {read} is not a span (no context.span_id)"
                )));
                continue;
            };
            let ended = span.get("endTimeUnixNano").is_some();
            match spans.get(&id) {
                // An open copy never replaces an ended one.
                Some(existing) if existing.get("endTimeUnixNano").is_some() && !ended => {}
                Some(_) => {
                    spans.insert(id, span);
                }
                None => {
                    order.push(id.clone());
                    spans.insert(id, span);
                }
            }
        }
        let list: Vec<Value> = order.iter().filter_map(|id| spans.remove(id)).collect();
        if list.is_empty() {
            return Err(Rejection::file("no console span could be read").into());
        }
        let request = json!({"resourceSpans": [{"scopeSpans": [{"spans": list}]}]});
        let mut sessions: BTreeMap<String, SessionSpans> = BTreeMap::new();
        read_request(&request, None, &mut sessions, sink);
        for (session_id, s) in sessions {
            s.finish(session_id, "otel_console", ctx, sink);
        }
        Ok(())
    }
}

/// A console span in OTLP JSON form, with its span id; None when it has no span id.
fn to_otlp(object: &Value) -> Option<(String, Value)> {
    let hex = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(|s| s.trim_start_matches("0x").to_string())
    };
    let context = object.get("context")?;
    let span_id = hex(context.get("span_id"))?;
    let mut span = Map::new();
    span.insert(
        "name".into(),
        object.get("name").cloned().unwrap_or(Value::Null),
    );
    span.insert("spanId".into(), Value::from(span_id.clone()));
    if let Some(trace) = hex(context.get("trace_id")) {
        span.insert("traceId".into(), Value::from(trace));
    }
    if let Some(parent) = hex(object.get("parent_id")) {
        span.insert("parentSpanId".into(), Value::from(parent));
    }
    for (from, to) in [
        ("start_time", "startTimeUnixNano"),
        ("end_time", "endTimeUnixNano"),
    ] {
        if let Some(ts) = object
            .get(from)
            .and_then(Value::as_str)
            .and_then(parse_timestamp)
        {
            span.insert(to.into(), Value::from((ts.0 * 1000).to_string()));
        }
    }
    let status = object.get("status");
    let code = match status
        .and_then(|s| s.get("status_code"))
        .and_then(Value::as_str)
    {
        Some("ERROR") => 2,
        Some("OK") => 1,
        _ => 0,
    };
    let mut otlp_status = json!({"code": code});
    if let Some(description) = status
        .and_then(|s| s.get("description"))
        .filter(|d| !d.is_null())
    {
        otlp_status["message"] = description.clone();
    }
    span.insert("status".into(), otlp_status);
    span.insert("attributes".into(), attributes(object.get("attributes")));
    let events: Vec<Value> = object
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            json!({
                "name": e.get("name").cloned().unwrap_or(Value::Null),
                "attributes": attributes(e.get("attributes")),
            })
        })
        .collect();
    span.insert("events".into(), Value::Array(events));
    Some((span_id, Value::Object(span)))
}

/// A flat `{key: value}` attribute object as OTLP's `[{key, value: {…Value}}]` list.
fn attributes(flat: Option<&Value>) -> Value {
    let list = flat
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, value)| json!({"key": key, "value": any_value(value)}))
        .collect();
    Value::Array(list)
}

fn any_value(value: &Value) -> Value {
    match value {
        Value::String(s) => json!({"stringValue": s}),
        Value::Bool(b) => json!({"boolValue": b}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"intValue": n.to_string()}),
        Value::Number(n) => json!({"doubleValue": n}),
        Value::Array(items) => {
            json!({"arrayValue": {"values": items.iter().map(any_value).collect::<Vec<_>>()}})
        }
        Value::Null => json!({}),
        Value::Object(_) => json!({"stringValue": value.to_string()}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test};

    const TRACE: &str = r#"{
    "name": "chat gpt-oss-20b",
    "context": {
        "trace_id": "0xe0c0afbab54efdfe2be82c2b68c1b96e",
        "span_id": "0x1111111111111111",
        "trace_state": "[]"
    },
    "kind": "SpanKind.CLIENT",
    "parent_id": null,
    "start_time": "2026-03-01T20:47:18.711501Z",
    "end_time": null,
    "status": {
        "status_code": "UNSET"
    },
    "attributes": {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "openai/gpt-oss-20b"
    },
    "events": [],
    "links": []
}
{
    "name": "chat gpt-oss-20b",
    "context": {
        "trace_id": "0xe0c0afbab54efdfe2be82c2b68c1b96e",
        "span_id": "0x1111111111111111",
        "trace_state": "[]"
    },
    "kind": "SpanKind.CLIENT",
    "parent_id": null,
    "start_time": "2026-03-01T20:47:18.711501Z",
    "end_time": "2026-03-01T20:47:20.211501Z",
    "status": {
        "status_code": "UNSET"
    },
    "attributes": {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "openai/gpt-oss-20b",
        "gen_ai.usage.input_tokens": 215,
        "gen_ai.usage.output_tokens": 70
    },
    "events": [],
    "links": []
}

{
    "name": "execute_tool get_weather",
    "context": {
        "trace_id": "0xe0c0afbab54efdfe2be82c2b68c1b96e",
        "span_id": "0x2222222222222222",
        "trace_state": "[]"
    },
    "kind": "SpanKind.INTERNAL",
    "parent_id": "0x1111111111111111",
    "start_time": "2026-03-01T20:47:20.300000Z",
    "end_time": "2026-03-01T20:47:20.400000Z",
    "status": {
        "status_code": "ERROR",
        "description": "timeout"
    },
    "attributes": {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": "call_1"
    },
    "events": [],
    "links": []
}
"#;

    #[test]
    fn a_span_printed_twice_counts_once() {
        let (result, rows, issues) = parse_for_test(
            &OtelConsole,
            TRACE.as_bytes(),
            "traces.jsonl",
            &ParseOptions::default(),
        );
        assert!(result.is_ok(), "{result:?}");
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(rows.llm_calls.len(), 1);
        let call = &rows.llm_calls[0];
        assert_eq!(
            (call.input_tokens, call.output_tokens),
            (Some(215), Some(70))
        );
        assert_eq!(call.total_ms, Some(1500.0));
        assert_eq!(call.request_model.as_deref(), Some("openai/gpt-oss-20b"));
        assert_eq!(rows.tool_calls.len(), 1);
        assert_eq!(rows.tool_calls[0].is_error, Some(true));
        let s = &rows.sessions[0];
        assert_eq!(s.session_id, "e0c0afbab54efdfe2be82c2b68c1b96e");
        assert_eq!(s.source_format, "otel_console");
        assert_eq!(s.tool_calls, 1);
    }

    #[test]
    fn broken_json_keeps_the_spans_before_it() {
        let broken = format!("{TRACE}\n{{\"name\": ");
        let (result, rows, issues) = parse_for_test(
            &OtelConsole,
            broken.as_bytes(),
            "traces.jsonl",
            &ParseOptions::default(),
        );
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(rows.llm_calls.len(), 1);
        assert_eq!(issues.len(), 1, "{issues:?}");
    }
}
