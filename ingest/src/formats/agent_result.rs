//! What a headless agent run prints: Claude Code's `claude -p --output-format json` result
//! object, and its `--output-format stream-json` event stream (JSONL) that ends with the
//! same object.
//!
//! The result object: `{type: "result", subtype: "success" | "error_max_turns" |
//! "error_during_execution", is_error, duration_ms, duration_api_ms, num_turns, result,
//! session_id, total_cost_usd, usage, modelUsage: {model: {inputTokens, outputTokens,
//! cacheReadInputTokens, cacheCreationInputTokens, costUSD}}, permission_denials: [...]}`.
//! The stream before it: `{type: "system", subtype: "init", session_id, model, tools}`,
//! then `{type: "assistant" | "user", message: <Anthropic message>}` events. The same events
//! collected into one JSON array (the execution file of Anthropic's `claude-code-action`) are
//! read in their order.
//!
//! Rows: one `sessions` row per `session_id`, labelled with what the result reports
//! (`reported_cost_usd`, `num_turns`, `duration_ms`, `duration_api_ms`, `result_subtype`); an
//! error subtype or `is_error` is the `agent_error` finding, each permission denial a tool
//! error. In a stream, each assistant message (unique by `message.id`, the largest usage
//! kept) is an `llm_calls` row and each `tool_use` a `tool_calls` row. A result object
//! alone has no per-call detail: its `modelUsage` becomes one `llm_calls` row per model
//! labelled `aggregate=true` (the totals of all its turns), so token totals per model and
//! day still add up; it does not list the tool calls, so it is not judged on them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;

use serde_json::Value;

use super::chat::{decode_message, value_ts};
use super::json_input::{for_each_document, has_string_field};
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::schema::{Labels, LlmCallRow, Timestamp, ToolCallRow};
use crate::sessions::{Message, Role, SessionFacts};
use crate::usage::{TokenUsage, count};

/// The `agent_result` format.
pub struct AgentResult;

impl Format for AgentResult {
    fn name(&self) -> &'static str {
        "agent_result"
    }

    fn description(&self) -> &'static str {
        "headless agent run output: claude -p --output-format json | stream-json"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let head = sniff.head;
        (has_string_field(head, "type", "result")
            && (head.contains("\"num_turns\"") || head.contains("\"total_cost_usd\"")))
            || (has_string_field(head, "type", "system")
                && has_string_field(head, "subtype", "init")
                && head.contains("\"session_id\""))
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut state = Stream::default();
        for_each_document(input, sink, "a JSON event", &mut |event, line, sink| {
            match event {
                // The events collected as one JSON array (claude-code-action's execution
                // file), in their order.
                Value::Array(events) => {
                    for event in &events {
                        state.event(event, line, ctx, sink);
                    }
                }
                event => state.event(&event, line, ctx, sink),
            }
            Ok(())
        })?;
        if state.sessions.is_empty() {
            return Err(Rejection::file("no agent event with a session could be read").into());
        }
        state.finish(ctx, sink);
        Ok(())
    }
}

/// One session of the stream.
#[derive(Default)]
struct Session {
    facts: Option<SessionFacts>,
    /// Assistant messages by `message.id`: the row and its largest usage so far.
    calls: Vec<(LlmCallRow, TokenUsage)>,
    call_index: HashMap<String, usize>,
    tool_ids: HashSet<String>,
    tools: Vec<ToolCallRow>,
    result: Option<Value>,
    result_line: Option<u64>,
}

#[derive(Default)]
struct Stream {
    sessions: BTreeMap<String, Session>,
    model: Option<String>,
    /// The session of the latest event that named one: an event without `session_id` (a
    /// hand-collected `user` turn, a bare result) belongs to it.
    current: Option<String>,
}

impl Stream {
    fn session(&mut self, id: &str) -> &mut Session {
        let model = self.model.clone();
        let s = self.sessions.entry(id.to_string()).or_default();
        if s.facts.is_none() {
            let mut f = SessionFacts::new(id.to_string(), "agent_result");
            f.row.provider = Some("anthropic".into());
            f.row.model = model;
            s.facts = Some(f);
        }
        s
    }

    fn event(
        &mut self,
        event: &Value,
        line: Option<u64>,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) {
        let issue = |what: String| match line {
            Some(n) => Rejection::at(n, what),
            None => Rejection::file(what),
        };
        let session_id = match event.get("session_id").and_then(Value::as_str) {
            Some(id) => {
                self.current = Some(id.to_string());
                id.to_string()
            }
            None => self
                .current
                .clone()
                .unwrap_or_else(|| ctx.file_stem_or_id()),
        };
        let ts = event.get("timestamp").and_then(value_ts);
        match event.get("type").and_then(Value::as_str) {
            Some("system") => {
                if event.get("subtype").and_then(Value::as_str) == Some("init") {
                    self.model = event
                        .get("model")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let offered = event
                        .get("tools")
                        .and_then(Value::as_array)
                        .is_some_and(|t| !t.is_empty());
                    let model = self.model.clone();
                    let s = self.session(&session_id);
                    if let Some(f) = s.facts.as_mut() {
                        f.tools_available |= offered;
                        f.row.model = f.row.model.clone().or(model);
                    }
                }
            }
            Some(kind @ ("assistant" | "user")) => {
                let Some(message) = event.get("message") else {
                    sink.issue(issue(format!("{kind} event without a message")));
                    return;
                };
                // A message without a role takes its event's (`user` turns written by hand).
                let with_role;
                let message = if message.get("role").is_none() && message.get("type").is_none() {
                    let mut m = message.clone();
                    m["role"] = Value::from(kind);
                    with_role = m;
                    &with_role
                } else {
                    message
                };
                let decoded = match decode_message(message) {
                    Ok(Some(m)) => m,
                    Ok(None) => return,
                    Err(e) => {
                        sink.issue(issue(format!("{kind} message: {e}")));
                        return;
                    }
                };
                let usage = match message.get("usage").filter(|u| !u.is_null()) {
                    Some(u) => match TokenUsage::from_anthropic(u) {
                        Ok(u) => Some(u),
                        Err(e) => {
                            sink.issue(issue(e));
                            None
                        }
                    },
                    None => None,
                };
                let message_id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let model = message
                    .get("model")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let s = self.session(&session_id);
                let Some(f) = s.facts.as_mut() else { return };
                // stream-json repeats a message once per content block: its other blocks
                // are more of the same message, its tool calls unique by id.
                let mut fresh = decoded.clone();
                fresh
                    .calls
                    .retain(|c| c.id.as_ref().is_none_or(|id| !s.tool_ids.contains(id)));
                s.tool_ids
                    .extend(fresh.calls.iter().filter_map(|c| c.id.clone()));
                let seen = message_id
                    .as_ref()
                    .and_then(|id| s.call_index.get(id))
                    .copied();
                let call_id = message_id.clone();
                match seen {
                    None => {
                        fresh.ts = fresh.ts.or(ts);
                        fresh.record(f, &session_id, call_id.as_deref(), &mut s.tools);
                    }
                    Some(_) => {
                        let names: Vec<&str> =
                            fresh.calls.iter().map(|c| c.name.as_str()).collect();
                        f.record_tool_calls(&names);
                        f.inspect_assistant(
                            f.row.message_count - 1,
                            &fresh.text,
                            fresh.stop_reason.as_deref(),
                        );
                        let index = f.row.message_count - 1;
                        s.tools
                            .extend(fresh.tool_rows(&session_id, index, call_id.as_deref()));
                    }
                }
                if decoded.role != Role::Assistant {
                    return;
                }
                let Some(id) = message_id else { return };
                let tool_count = decoded.calls.len() as i64;
                let index = *s.call_index.entry(id.clone()).or_insert_with(|| {
                    s.calls.push((
                        LlmCallRow {
                            call_id: id.clone(),
                            session_id: Some(session_id.clone()),
                            source: crate::schema::TRANSCRIPT_SOURCE.into(),
                            provider: Some("anthropic".into()),
                            request_model: model.clone(),
                            response_model: model.clone(),
                            start_ts: ts,
                            tool_call_count: Some(0),
                            source_line: line.map(|n| n as i64),
                            ..LlmCallRow::default()
                        },
                        TokenUsage::default(),
                    ));
                    s.calls.len() - 1
                });
                let (row, best) = &mut s.calls[index];
                row.tool_call_count = Some(row.tool_call_count.unwrap_or(0) + tool_count);
                if let Some(reason) = decoded.stop_reason {
                    row.finish_reason = Some(reason);
                }
                if let Some(u) = usage
                    && u.total() >= best.total()
                {
                    *best = u;
                }
            }
            Some("result") => {
                let s = self.session(&session_id);
                s.result = Some(event.clone());
                s.result_line = line;
            }
            Some(_) | None => {}
        }
    }

    fn finish(self, ctx: &ParseContext<'_>, sink: &mut RowSink<'_>) {
        for (session_id, mut s) in self.sessions {
            let Some(mut f) = s.facts.take() else {
                continue;
            };
            let streamed_usage = s.calls.iter().any(|(_, u)| !u.is_empty());
            let unattributed = match &s.result {
                Some(result) if streamed_usage => settle_output(&mut s.calls, result),
                _ => None,
            };
            if let (Some(usage), Some((first, _))) = (unattributed, s.calls.first()) {
                // Output the result counts and no single call can be given: one row, so
                // the totals are the result's.
                let mut row = LlmCallRow {
                    call_id: format!("{session_id}:unattributed"),
                    source_line: s.result_line.map(|n| n as i64),
                    tool_call_count: Some(0),
                    finish_reason: None,
                    ..first.clone()
                };
                row.labels.0.insert("aggregate".into(), "true".into());
                s.calls.push((row, usage));
            }
            for (mut row, usage) in s.calls {
                usage.apply(&mut row);
                f.add_usage(
                    usage.input,
                    usage.output,
                    usage.cache_read,
                    usage.cache_creation,
                );
                sink.rows.llm_calls.push(row);
            }
            if let Some(result) = &s.result {
                apply_result(
                    result,
                    s.result_line,
                    &session_id,
                    streamed_usage,
                    &mut f,
                    sink,
                );
            }
            sink.rows.tool_calls.append(&mut s.tools);
            let (row, _) = f.into_row(&ctx.options.validation);
            sink.rows.sessions.push(row);
        }
    }
}

/// Streamed assistant events carry their message's usage as it stood when streaming began:
/// `output_tokens` is a handful (4, 2) where the message wrote hundreds. The result's
/// `usage` holds the session's true totals, and its `usage.iterations` the last messages'
/// own. Each call whose input and cache figures equal an iteration's takes that
/// iteration's output; the output the result counts beyond the calls' then goes to the one
/// call left unsettled, or, when several are, to a returned remainder (stored as one
/// `aggregate=true` row: the per-call split is not known, the total is).
fn settle_output(calls: &mut [(LlmCallRow, TokenUsage)], result: &Value) -> Option<TokenUsage> {
    let total = TokenUsage::from_anthropic(result.get("usage")?).ok()?;
    let mut settled = vec![false; calls.len()];
    for iteration in result
        .pointer("/usage/iterations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Ok(own) = TokenUsage::from_anthropic(iteration) else {
            continue;
        };
        let same = |u: &TokenUsage| {
            (u.input, u.cache_read, u.cache_creation)
                == (own.input, own.cache_read, own.cache_creation)
        };
        if let Some(i) = (0..calls.len()).find(|&i| !settled[i] && same(&calls[i].1)) {
            if own.output > calls[i].1.output {
                calls[i].1.output = own.output;
            }
            settled[i] = true;
        }
    }
    let counted: i64 = calls.iter().map(|(_, u)| u.output.unwrap_or(0)).sum();
    let missing = total.output.unwrap_or(0) - counted;
    if missing <= 0 {
        return None;
    }
    let open: Vec<usize> = (0..calls.len()).filter(|&i| !settled[i]).collect();
    match open.as_slice() {
        [only] => {
            let output = &mut calls[*only].1.output;
            *output = Some(output.unwrap_or(0) + missing);
            None
        }
        _ => Some(TokenUsage {
            output: Some(missing),
            ..TokenUsage::default()
        }),
    }
}

/// What the final result object adds: labels, the failure verdict, permission denials, and
/// (when the stream had no usage of its own) the per-model totals.
fn apply_result(
    result: &Value,
    line: Option<u64>,
    session_id: &str,
    streamed_usage: bool,
    f: &mut SessionFacts,
    sink: &mut RowSink<'_>,
) {
    let issue = |what: String| match line {
        Some(n) => Rejection::at(n, what),
        None => Rejection::file(what),
    };
    let mut labels = Labels::default();
    let number = |k: &str| result.get(k).and_then(Value::as_f64);
    for (label, key) in [
        ("reported_cost_usd", "total_cost_usd"),
        ("num_turns", "num_turns"),
        ("duration_ms", "duration_ms"),
        ("duration_api_ms", "duration_api_ms"),
    ] {
        if let Some(v) = number(key) {
            labels.0.insert(label.into(), format_number(v));
        }
    }
    let subtype = result.get("subtype").and_then(Value::as_str);
    if let Some(st) = subtype {
        labels.0.insert("result_subtype".into(), st.into());
    }
    f.row.labels.0.extend(labels.0);
    let is_error = result.get("is_error").and_then(Value::as_bool) == Some(true);
    if is_error || subtype.is_some_and(|s| s.starts_with("error")) {
        f.agent_error = Some(subtype.unwrap_or("is_error").to_string());
    }
    let ts: Option<Timestamp> = result.get("timestamp").and_then(value_ts);
    if !streamed_usage {
        // The result alone: its reply text is the assistant's answer.
        if let Some(text) = result.get("result").and_then(Value::as_str) {
            f.message(&Message {
                role: Some(Role::Assistant),
                ts,
                text,
                ..Message::default()
            });
        }
    }
    if let Some(denials) = result.get("permission_denials").and_then(Value::as_array)
        && !denials.is_empty()
    {
        let names: Vec<&str> = denials
            .iter()
            .filter_map(|d| d.get("tool_name").and_then(Value::as_str))
            .collect();
        let text = format!("permission denied: {}", names.join(", "));
        f.message(&Message {
            role: Some(Role::Tool),
            ts,
            text: &text,
            tool_results: denials.len(),
            tool_result_errors: denials.len(),
            ..Message::default()
        });
    }
    if streamed_usage {
        return;
    }
    let Some(models) = result.get("modelUsage").and_then(Value::as_object) else {
        if let Some(u) = result.get("usage") {
            match TokenUsage::from_anthropic(u) {
                Ok(u) => f.add_usage(u.input, u.output, u.cache_read, u.cache_creation),
                Err(e) => sink.issue(issue(e)),
            }
        }
        return;
    };
    let mut main: Option<(i64, String)> = None;
    for (model, m) in models {
        let read = || -> Result<TokenUsage, String> {
            Ok(TokenUsage {
                input: count(m, "inputTokens")?,
                output: count(m, "outputTokens")?,
                cache_read: count(m, "cacheReadInputTokens")?,
                cache_creation: count(m, "cacheCreationInputTokens")?,
                ..TokenUsage::default()
            })
        };
        let usage = match read() {
            Ok(u) => u,
            Err(e) => {
                sink.issue(issue(format!("modelUsage.{model}: {e}")));
                TokenUsage::default()
            }
        };
        let mut row = LlmCallRow {
            call_id: format!("{session_id}:{model}"),
            session_id: Some(session_id.to_string()),
            source: crate::schema::TRANSCRIPT_SOURCE.into(),
            provider: Some("anthropic".into()),
            request_model: Some(model.clone()),
            response_model: Some(model.clone()),
            start_ts: ts,
            source_line: line.map(|n| n as i64),
            ..LlmCallRow::default()
        };
        row.labels.0.insert("aggregate".into(), "true".into());
        if let Some(cost) = m.get("costUSD").and_then(Value::as_f64) {
            row.labels
                .0
                .insert("reported_cost_usd".into(), format_number(cost));
        }
        usage.apply(&mut row);
        f.add_usage(
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_creation,
        );
        let output = usage.output.unwrap_or(0);
        if main.as_ref().is_none_or(|(o, _)| output > *o) {
            main = Some((output, model.clone()));
        }
        sink.rows.llm_calls.push(row);
    }
    if f.row.model.is_none() {
        f.row.model = main.map(|(_, m)| m);
    }
}

/// A number as a label: integers without a fraction.
fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_ok;

    fn parse(text: &str) -> (crate::schema::TableRows, Vec<Rejection>) {
        parse_ok(&AgentResult, text, "run.json")
    }

    /// The events collected as one JSON array (claude-code-action's execution file): user
    /// turns without a role or a session id belong to the session before them.
    #[test]
    fn events_collected_as_one_array() {
        let (rows, issues) = parse(
            r#"[
  {"type": "system", "subtype": "init", "session_id": "s1", "tools": ["Read"]},
  {"type": "assistant", "session_id": "s1", "message": {"id": "m1", "type": "message", "role": "assistant",
    "model": "claude-test-model", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "a"}}],
    "stop_reason": "tool_use", "usage": {"input_tokens": 100, "cache_read_input_tokens": 50, "output_tokens": 75}}},
  {"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]}},
  {"type": "assistant", "session_id": "s1", "message": {"id": "m2", "type": "message", "role": "assistant",
    "model": "claude-test-model", "content": [{"type": "text", "text": "done"}],
    "stop_reason": "end_turn", "usage": {"input_tokens": 200, "output_tokens": 50}}},
  {"type": "result", "total_cost_usd": 0.0347, "duration_ms": 18750, "result": "done"}
]"#,
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(rows.sessions.len(), 1, "one session, no file-named extra");
        let s = &rows.sessions[0];
        assert_eq!(s.session_id, "s1");
        assert_eq!(s.tool_calls, 1);
        assert_eq!(
            s.labels.0.get("reported_cost_usd").map(String::as_str),
            Some("0.0347")
        );
        let input: i64 = rows.llm_calls.iter().filter_map(|c| c.input_tokens).sum();
        assert_eq!((rows.llm_calls.len(), input), (2, 300));
    }

    #[test]
    fn a_result_object_alone() {
        let (rows, issues) = parse(
            r#"{
  "type": "result", "subtype": "error_max_turns", "is_error": false,
  "duration_ms": 41234, "duration_api_ms": 39000, "num_turns": 12,
  "session_id": "6a1f0c2e-0000-4000-8000-000000000001", "total_cost_usd": 0.2345,
  "usage": {"input_tokens": 40, "output_tokens": 900, "cache_read_input_tokens": 60000, "cache_creation_input_tokens": 8000},
  "modelUsage": {
    "claude-sonnet-4-5-20250929": {"inputTokens": 40, "outputTokens": 900, "cacheReadInputTokens": 60000, "cacheCreationInputTokens": 8000, "costUSD": 0.2301},
    "claude-haiku-4-5-20251001": {"inputTokens": 300, "outputTokens": 20, "cacheReadInputTokens": 0, "cacheCreationInputTokens": 0, "costUSD": 0.0044}
  },
  "permission_denials": [{"tool_name": "Bash", "tool_use_id": "toolu_9", "tool_input": {}}]
}"#,
        );
        assert!(issues.is_empty(), "{issues:?}");
        let s = &rows.sessions[0];
        assert_eq!(s.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        // The sum over models, not the main model's `usage` alone.
        assert_eq!((s.input_tokens, s.output_tokens), (Some(340), Some(920)));
        assert_eq!(s.tool_errors, 1);
        assert_eq!(s.findings.as_deref(), Some("tool_errors,agent_error"));
        assert_eq!(
            s.labels.0.get("reported_cost_usd").map(String::as_str),
            Some("0.2345")
        );
        assert_eq!(s.labels.0.get("num_turns").map(String::as_str), Some("12"));
        assert_eq!(rows.llm_calls.len(), 2);
        assert!(
            rows.llm_calls
                .iter()
                .all(|c| c.labels.0.get("aggregate").map(String::as_str) == Some("true"))
        );
    }

    #[test]
    fn a_stream_counts_each_message_once() {
        let text = [
            r#"{"type":"system","subtype":"init","session_id":"s1","model":"claude-sonnet-4-5","tools":["Bash","Read"]}"#,
            r#"{"type":"assistant","session_id":"s1","message":{"id":"msg_1","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Checking."}],"usage":{"input_tokens":3,"output_tokens":1,"cache_read_input_tokens":1000}}}"#,
            r#"{"type":"assistant","session_id":"s1","message":{"id":"msg_1","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}],"usage":{"input_tokens":3,"output_tokens":25,"cache_read_input_tokens":1000}}}"#,
            r#"{"type":"user","session_id":"s1","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a b"}]}}"#,
            r#"{"type":"assistant","session_id":"s1","message":{"id":"msg_2","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":4,"cache_read_input_tokens":1100}}}"#,
            r#"{"type":"result","subtype":"success","is_error":false,"num_turns":2,"session_id":"s1","total_cost_usd":0.01,"result":"Done.","usage":{"input_tokens":8,"output_tokens":29},"modelUsage":{"claude-sonnet-4-5":{"inputTokens":8,"outputTokens":29,"cacheReadInputTokens":2100,"cacheCreationInputTokens":0}}}"#,
        ]
        .join("\n");
        let (rows, issues) = parse(&text);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(rows.llm_calls.len(), 2);
        assert_eq!(rows.llm_calls[0].output_tokens, Some(25));
        assert_eq!(rows.llm_calls[0].tool_call_count, Some(1));
        let s = &rows.sessions[0];
        // assistant (2 lines, one message), user result, assistant.
        assert_eq!(
            (s.message_count, s.assistant_messages, s.tool_calls),
            (3, 2, 1)
        );
        assert_eq!(
            (s.input_tokens, s.output_tokens, s.cache_read_input_tokens),
            (Some(8), Some(29), Some(2100))
        );
        assert_eq!(s.validation_status.as_deref(), Some("ok"));
        assert_eq!(rows.tool_calls.len(), 1);
    }

    /// stream-json's assistant events carry a few output tokens (their usage when
    /// streaming began); the result's usage has the true total and its iterations the last
    /// message's own. The calls get them, so the totals are the result's.
    #[test]
    fn streamed_output_is_settled_from_the_result() {
        let event = |id: &str, input: i64, read: i64, output: i64| {
            format!(
                r#"{{"type":"assistant","session_id":"s","message":{{"id":"{id}","role":"assistant","model":"claude-haiku-4-5","content":[{{"type":"text","text":"x"}}],"usage":{{"input_tokens":{input},"cache_read_input_tokens":{read},"output_tokens":{output}}}}}}}"#
            )
        };
        let result = |output: i64, iterations: &str| {
            format!(
                r#"{{"type":"result","subtype":"success","session_id":"s","usage":{{"input_tokens":18,"cache_read_input_tokens":300,"output_tokens":{output},"iterations":[{iterations}]}}}}"#
            )
        };
        let last = r#"{"type":"message","input_tokens":8,"cache_read_input_tokens":200,"output_tokens":52}"#;
        // Two messages: the second settled by its iteration, the first takes the rest.
        let text = [
            event("m1", 10, 100, 4),
            event("m2", 8, 200, 2),
            result(294, last),
        ]
        .join("\n");
        let (rows, _) = parse(&text);
        let outputs: Vec<Option<i64>> = rows.llm_calls.iter().map(|c| c.output_tokens).collect();
        assert_eq!(outputs, [Some(242), Some(52)]);
        assert_eq!(rows.sessions[0].output_tokens, Some(294));
        // No iterations and two messages: the rest is one aggregate row.
        let text = [
            event("m1", 10, 100, 4),
            event("m2", 8, 200, 2),
            result(294, ""),
        ]
        .join("\n");
        let (rows, _) = parse(&text);
        let outputs: Vec<Option<i64>> = rows.llm_calls.iter().map(|c| c.output_tokens).collect();
        assert_eq!(outputs, [Some(4), Some(2), Some(288)]);
        assert_eq!(rows.llm_calls[2].call_id, "s:unattributed");
        assert_eq!(rows.llm_calls[2].labels.0["aggregate"], "true");
        assert_eq!(rows.sessions[0].output_tokens, Some(294));
        // A result that counts no more than the messages changes nothing.
        let text = [event("m1", 10, 100, 4), result(4, "")].join("\n");
        let (rows, _) = parse(&text);
        assert_eq!(rows.llm_calls.len(), 1);
        assert_eq!(rows.llm_calls[0].output_tokens, Some(4));
    }
}
