//! Codex CLI rollout transcripts (`~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`):
//! one JSON record per line, `{timestamp, type, payload}` with `type`
//! - `session_meta`: the session id (`payload.id`), start time, cwd, CLI version;
//! - `turn_context`: the model used from here on (`payload.model`);
//! - `response_item`: a Responses API item (`message`, `function_call`,
//!   `custom_tool_call`, `local_shell_call`, `*_output`, `reasoning`), decoded by
//!   [`super::chat`];
//! - `event_msg`: UI events; those with `payload.type = token_count` carry
//!   `info.total_token_usage` (cumulative) and `info.last_token_usage` (this response);
//! - `compacted`: a context compaction summary.
//!
//! Older rollouts (before the `payload` envelope) hold a first line with the session
//! `id` and then bare items; both are read.
//!
//! Each counted `token_count` event is one model response: an `llm_calls` row
//! (`source = transcript`, `provider = openai`, model from the last `turn_context`) with
//! `last_token_usage`, or the growth of the running total when only that is given. An
//! event repeating the previous running total is the same response reported again and is
//! not counted; `info: null` events carry no usage. Codex's `input_tokens` includes the
//! cached tokens and `output_tokens` the reasoning tokens ([`crate::usage`]).
//!
//! A fork (`session_meta.forked_from_id`, or a sub-agent's
//! `source.subagent.thread_spawn.parent_thread_id`) starts with its parent's history
//! replayed, `token_count` events included: its session carries the label `forked_from`,
//! and ingest drops the replayed calls once it sees the parent's ([`crate::forks`]).
//! `event_msg` records other than `token_count` repeat the `response_item`s for the UI and
//! are not counted again. Records of unknown types are counted and reported once per file.

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;

use serde_json::Value;

use super::chat::{decode_message, value_ts};
use super::json_input::for_each_document;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::schema::{LlmCallRow, ToolCallRow};
use crate::sessions::{Finding, SessionFacts, Severity, add_finding};
use crate::usage::TokenUsage;

/// The `codex_rollout` format.
pub struct CodexRollout;

/// Item types of the pre-envelope rollouts.
const BARE_ITEM_TYPES: &[&str] = &[
    "message",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "local_shell_call",
    "local_shell_call_output",
    "web_search_call",
    "reasoning",
];

impl Format for CodexRollout {
    fn name(&self) -> &'static str {
        "codex_rollout"
    }

    fn description(&self) -> &'static str {
        "Codex CLI rollout transcript (~/.codex/sessions/.../rollout-*.jsonl)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        super::json_input::any_object_line(sniff.head, |line| {
            line.contains("\"payload\"")
                && ["session_meta", "turn_context", "response_item", "event_msg"]
                    .iter()
                    .any(|t| super::json_input::has_string_field(line, "type", t))
        }) || (sniff
            .path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("rollout-"))
            && sniff.head.trim_start().starts_with('{'))
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut session_id: Option<String> = None;
        let mut facts: Option<SessionFacts> = None;
        let mut model: Option<String> = None;
        let mut previous_total: Option<TokenUsage> = None;
        let mut pending_tools: Vec<ToolCallRow> = Vec::new();
        let mut responses = 0usize;
        let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
        let mut good = 0u64;
        // A fork's parent, and its calls and tool calls, held back until the replay of the
        // parent's history among them is known.
        let mut forked_from: Option<String> = None;
        let mut held: Option<(Vec<LlmCallRow>, Vec<ToolCallRow>)> = None;
        for_each_document(
            input,
            sink,
            "a rollout record",
            &mut |record, line, sink| {
                let number = line.unwrap_or(1);
                if !record.is_object() {
                    sink.issue(Rejection::at(
                        number,
                        "not a rollout record (not an object)",
                    ));
                    return Ok(());
                }
                good += 1;
                let ts = record.get("timestamp").and_then(value_ts);
                let kind = record.get("type").and_then(Value::as_str).unwrap_or("");
                let payload = record.get("payload");
                // The session's facts exist from the first record on; the id may come later
                // only in damaged files, and then the file name stands in.
                let ensure = |facts: &mut Option<SessionFacts>, id: &Option<String>| {
                    if facts.is_none() {
                        let id = id.clone().unwrap_or_else(|| session_from_path(ctx));
                        let mut f = SessionFacts::new(id, "codex_rollout");
                        // Codex always offers the model its shell and patch tools.
                        f.tools_available = true;
                        f.row.provider = Some("openai".into());
                        *facts = Some(f);
                    }
                };
                match (kind, payload) {
                    ("session_meta", Some(p)) => {
                        if facts.is_none() {
                            session_id = p.get("id").and_then(Value::as_str).map(str::to_string);
                        }
                        ensure(&mut facts, &session_id);
                        let parent = crate::forks::parent_of(p);
                        if let (Some(parent), None) = (parent, &forked_from) {
                            forked_from = Some(parent.to_string());
                            held = Some((Vec::new(), Vec::new()));
                        }
                        if let Some(f) = facts.as_mut() {
                            let started = p.get("timestamp").and_then(value_ts).or(ts);
                            if f.row.started_ts.is_none() {
                                f.row.started_ts = started;
                            }
                            if let Some(parent) = parent {
                                f.row
                                    .labels
                                    .0
                                    .entry(crate::forks::FORKED_FROM.into())
                                    .or_insert_with(|| parent.to_string());
                            }
                        }
                    }
                    ("turn_context", Some(p)) => {
                        if let Some(m) = p.get("model").and_then(Value::as_str) {
                            model = Some(m.to_string());
                        }
                    }
                    ("response_item", Some(item)) => {
                        ensure(&mut facts, &session_id);
                        let Some(f) = facts.as_mut() else {
                            return Ok(());
                        };
                        record_item(item, ts, f, &mut pending_tools, sink, number);
                    }
                    ("event_msg", Some(p)) => {
                        if p.get("type").and_then(Value::as_str) != Some("token_count") {
                            return Ok(());
                        }
                        let Some(info) = p.get("info").filter(|i| !i.is_null()) else {
                            return Ok(());
                        };
                        ensure(&mut facts, &session_id);
                        let Some(f) = facts.as_mut() else {
                            return Ok(());
                        };
                        let total = match info.get("total_token_usage").map(TokenUsage::from_openai)
                        {
                            Some(Ok(t)) => Some(t),
                            Some(Err(e)) => {
                                sink.issue(Rejection::at(number, e));
                                return Ok(());
                            }
                            None => None,
                        };
                        if total.is_some() && total == previous_total {
                            // The same response reported again.
                            return Ok(());
                        }
                        let last = match info.get("last_token_usage").map(TokenUsage::from_openai) {
                            Some(Ok(l)) => Some(l),
                            Some(Err(e)) => {
                                sink.issue(Rejection::at(number, e));
                                return Ok(());
                            }
                            None => None,
                        };
                        let usage = match (last, total, previous_total) {
                            (Some(l), _, _) => l,
                            (None, Some(t), Some(p)) if t.total() >= p.total() => t.minus(&p),
                            (None, Some(t), _) => t,
                            (None, None, _) => TokenUsage::default(),
                        };
                        if total.is_some() {
                            previous_total = total;
                        }
                        responses += 1;
                        let call_id = format!("{}:t{responses}", f.row.session_id);
                        let mut row = LlmCallRow {
                            call_id: call_id.clone(),
                            session_id: Some(f.row.session_id.clone()),
                            source: crate::schema::TRANSCRIPT_SOURCE.into(),
                            provider: Some("openai".into()),
                            request_model: model.clone(),
                            response_model: model.clone(),
                            start_ts: ts,
                            tool_call_count: Some(pending_tools.len() as i64),
                            source_line: Some(number as i64),
                            ..LlmCallRow::default()
                        };
                        usage.apply(&mut row);
                        if held.is_none() {
                            f.add_usage(
                                usage.input,
                                usage.output,
                                usage.cache_read,
                                usage.cache_creation,
                            );
                        }
                        if f.row.model.is_none() {
                            f.row.model = model.clone();
                        }
                        let (calls, tools) = match held.as_mut() {
                            Some((calls, tools)) => (calls, tools),
                            None => (&mut sink.rows.llm_calls, &mut sink.rows.tool_calls),
                        };
                        for mut tool in pending_tools.drain(..) {
                            tool.call_id = Some(call_id.clone());
                            tools.push(tool);
                        }
                        calls.push(row);
                    }
                    ("compacted", _) => {}
                    // Pre-envelope rollouts: a header line, state records, bare items.
                    (k, None) if BARE_ITEM_TYPES.contains(&k) => {
                        ensure(&mut facts, &session_id);
                        let Some(f) = facts.as_mut() else {
                            return Ok(());
                        };
                        record_item(&record, ts, f, &mut pending_tools, sink, number);
                    }
                    ("", None) if record.get("record_type").is_some() => {}
                    ("", None) if record.get("id").is_some() && facts.is_none() => {
                        session_id = record.get("id").and_then(Value::as_str).map(str::to_string);
                        ensure(&mut facts, &session_id);
                        if let Some(f) = facts.as_mut() {
                            f.row.started_ts = ts;
                        }
                    }
                    (other, _) => {
                        let name = if other.is_empty() { "(no type)" } else { other };
                        *unknown.entry(name.to_string()).or_default() += 1;
                    }
                }
                Ok(())
            },
        )?;
        if good == 0 {
            return Err(Rejection::file("no rollout record could be read").into());
        }
        if !unknown.is_empty() {
            let list: Vec<String> = unknown.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
            sink.issue(Rejection::file(format!(
                "{} records of unknown types skipped: {}",
                unknown.values().sum::<u64>(),
                list.join(", ")
            )));
        }
        // A fork: its parent's replayed calls are left out (crate::forks).
        let mut unresolved = None;
        if let (Some((calls, tools)), Some(parent), Some(f)) = (held, &forked_from, facts.as_mut())
        {
            let replayed = match ctx.options.fork_parents.get(parent) {
                Some(line) => {
                    let vectors: Vec<_> = calls.iter().map(crate::forks::usage_vector).collect();
                    let replayed = crate::forks::replayed_line(&vectors, line);
                    // A fork replays some of its parent's history: none found means the
                    // line is incomplete (a grandparent not at hand).
                    if replayed == 0 && !calls.is_empty() && line.iter().any(|l| !l.is_empty()) {
                        unresolved = Some(parent.clone());
                    }
                    replayed
                }
                None => {
                    unresolved = Some(parent.clone());
                    0
                }
            };
            let dropped: HashSet<&str> = calls[..replayed]
                .iter()
                .map(|c| c.call_id.as_str())
                .collect();
            let (kept_tools, dropped_tools): (Vec<ToolCallRow>, Vec<ToolCallRow>) = tools
                .into_iter()
                .partition(|t| t.call_id.as_deref().is_none_or(|id| !dropped.contains(id)));
            f.row.tool_calls -= dropped_tools.len() as i64;
            if unresolved.is_none() {
                f.row
                    .labels
                    .0
                    .insert("fork_replayed_calls".into(), replayed.to_string());
            }
            for call in &calls[replayed..] {
                f.add_usage(
                    call.input_tokens,
                    call.output_tokens,
                    call.cache_read_input_tokens,
                    call.cache_creation_input_tokens,
                );
            }
            sink.rows.llm_calls.extend(calls.into_iter().skip(replayed));
            sink.rows.tool_calls.extend(kept_tools);
        }
        // Tool calls after the last usage report belong to no counted response.
        sink.rows.tool_calls.append(&mut pending_tools);
        if let Some(f) = facts {
            let (mut row, _) = f.into_row(&ctx.options.validation);
            if let Some(parent) = unresolved {
                add_finding(
                    &mut row,
                    Finding {
                        code: "fork_replay_unresolved",
                        severity: Severity::Warning,
                        detail: format!(
                            "forked from {parent}, whose history could not be matched (the \
                             parent, or its own parent, is not in the dataset): its totals \
                             include the replayed history"
                        ),
                        message_index: None,
                        excerpt: None,
                    },
                );
            }
            sink.rows.sessions.push(row);
        }
        Ok(())
    }
}

/// Counts one Responses item into the session; its tool calls wait for their response's
/// usage report.
fn record_item(
    item: &Value,
    ts: Option<crate::schema::Timestamp>,
    facts: &mut SessionFacts,
    pending_tools: &mut Vec<ToolCallRow>,
    sink: &mut RowSink<'_>,
    line: u64,
) {
    match decode_message(item) {
        Ok(Some(mut message)) => {
            message.ts = message.ts.or(ts);
            let session = facts.row.session_id.clone();
            message.record(facts, &session, None, pending_tools);
        }
        Ok(None) => {}
        Err(e) => sink.issue(Rejection::at(line, e)),
    }
}

/// The session id in a rollout file name (`rollout-2025-10-01T10-00-00-<uuid>.jsonl`),
/// else the file's stem.
fn session_from_path(ctx: &ParseContext<'_>) -> String {
    let stem = ctx.file_stem_or_id();
    // A UUID is the last 36 characters: 8-4-4-4-12.
    let tail = stem.len().checked_sub(36).and_then(|at| stem.get(at..));
    match tail {
        Some(t) if t.chars().filter(|c| *c == '-').count() == 4 => t.to_string(),
        _ => stem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_ok;

    fn parse(text: &str, path: &str) -> (crate::schema::TableRows, Vec<Rejection>) {
        parse_ok(&CodexRollout, text, path)
    }

    #[test]
    fn usage_per_response_with_repeats_and_totals_only() {
        let text = [
            r#"{"timestamp":"2025-10-01T10:00:00.000Z","type":"session_meta","payload":{"id":"0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","timestamp":"2025-10-01T10:00:00.000Z","cwd":"/w","cli_version":"0.44.0"}}"#,
            r#"{"timestamp":"2025-10-01T10:00:01.000Z","type":"turn_context","payload":{"cwd":"/w","model":"gpt-5-codex","effort":"medium"}}"#,
            r#"{"timestamp":"2025-10-01T10:00:01.100Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"list files"}]}}"#,
            r#"{"timestamp":"2025-10-01T10:00:01.200Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{}}}"#,
            r#"{"timestamp":"2025-10-01T10:00:03.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"ls\"]}","call_id":"call_1"}}"#,
            r#"{"timestamp":"2025-10-01T10:00:03.100Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":5000,"cached_input_tokens":4000,"output_tokens":100,"reasoning_output_tokens":60,"total_tokens":5100},"last_token_usage":{"input_tokens":5000,"cached_input_tokens":4000,"output_tokens":100,"reasoning_output_tokens":60,"total_tokens":5100},"model_context_window":272000}}}"#,
            r#"{"timestamp":"2025-10-01T10:00:03.200Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":5000,"cached_input_tokens":4000,"output_tokens":100,"reasoning_output_tokens":60,"total_tokens":5100},"last_token_usage":{"input_tokens":5000,"cached_input_tokens":4000,"output_tokens":100,"reasoning_output_tokens":60,"total_tokens":5100}}}}"#,
            r#"{"timestamp":"2025-10-01T10:00:04.000Z","type":"response_item","payload":{"type":"function_call_output","call_id":"call_1","output":"{\"output\":\"a\\nb\\n\",\"metadata\":{\"exit_code\":0}}"}}"#,
            r#"{"timestamp":"2025-10-01T10:00:06.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10300,"cached_input_tokens":9000,"output_tokens":180,"reasoning_output_tokens":60,"total_tokens":10480}}}}"#,
            r#"{"timestamp":"2025-10-01T10:00:06.100Z","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Two files."}]}}"#,
            r#"{"timestamp":"2025-10-01T10:00:06.200Z","type":"event_msg","payload":{"type":"agent_message","message":"Two files."}}"#,
            r#"{"timestamp":"2025-10-01T10:00:07.000Z","type":"ghost_snapshot","payload":{}}"#,
        ]
        .join("\n");
        let (rows, issues) = parse(
            &text,
            "rollout-2025-10-01T10-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl",
        );
        // Two responses: the repeated report is not counted, the second is the growth.
        assert_eq!(rows.llm_calls.len(), 2);
        let (a, b) = (&rows.llm_calls[0], &rows.llm_calls[1]);
        assert_eq!(
            (
                a.input_tokens,
                a.cache_read_input_tokens,
                a.output_tokens,
                a.reasoning_tokens
            ),
            (Some(1000), Some(4000), Some(100), Some(60))
        );
        assert_eq!(
            (
                b.input_tokens,
                b.cache_read_input_tokens,
                b.output_tokens,
                b.reasoning_tokens
            ),
            (Some(300), Some(5000), Some(80), Some(0))
        );
        assert_eq!(a.response_model.as_deref(), Some("gpt-5-codex"));
        assert_eq!(a.tool_call_count, Some(1));
        assert_eq!(
            rows.tool_calls[0].call_id.as_deref(),
            Some(a.call_id.as_str())
        );
        let s = &rows.sessions[0];
        assert_eq!(s.session_id, "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        // user, call, call output, assistant: the agent_message event is not a second copy.
        assert_eq!(
            (
                s.message_count,
                s.tool_calls,
                s.validation_status.as_deref()
            ),
            (4, 1, Some("ok"))
        );
        assert_eq!(
            (s.input_tokens, s.cache_read_input_tokens, s.output_tokens),
            (Some(1300), Some(9000), Some(180))
        );
        assert_eq!(issues.len(), 1);
        assert!(issues[0].reason.contains("ghost_snapshot ×1"), "{issues:?}");
    }

    #[test]
    fn pre_envelope_rollouts_and_a_missing_id() {
        let old = [
            r#"{"id":"5973b6c0-94b8-487b-a530-2aeb6098ae0e","timestamp":"2025-04-20T09:00:00Z","instructions":null}"#,
            r#"{"record_type":"state"}"#,
            r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}"#,
            r#"{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hello"}]}"#,
        ]
        .join("\n");
        let (rows, issues) = parse(&old, "rollout-x.jsonl");
        assert!(issues.is_empty(), "{issues:?}");
        let s = &rows.sessions[0];
        assert_eq!(
            (s.session_id.as_str(), s.message_count),
            ("5973b6c0-94b8-487b-a530-2aeb6098ae0e", 2)
        );
        // Codex offers its tools; none called, and nothing said they were expected.
        assert_eq!(s.findings.as_deref(), Some("no_tool_calls"));
        let no_meta = r#"{"timestamp":"2025-10-01T10:00:00Z","type":"response_item","payload":{"type":"message","role":"user","content":"x"}}"#;
        let (rows, _) = parse(
            no_meta,
            "rollout-2025-10-01T10-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c.jsonl",
        );
        assert_eq!(
            rows.sessions[0].session_id,
            "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
        );
    }

    /// A fork replays its parent's two responses, then makes one of its own (its tool call
    /// with it). Given the parent's calls, only its own is kept, with its tool call; without
    /// them, it is kept whole and says so.
    #[test]
    fn a_fork_leaves_out_its_parents_replayed_calls() {
        let count = |ts: &str, input: i64, output: i64, total_out: i64| {
            format!(
                r#"{{"timestamp":"{ts}","type":"event_msg","payload":{{"type":"token_count","info":{{"last_token_usage":{{"input_tokens":{input},"cached_input_tokens":0,"output_tokens":{output}}},"total_token_usage":{{"input_tokens":{},"cached_input_tokens":0,"output_tokens":{total_out}}}}}}}}}"#,
                input * 10 + total_out
            )
        };
        let child = [
            r#"{"timestamp":"2025-10-02T09:00:00Z","type":"session_meta","payload":{"id":"child","forked_from_id":"parent","timestamp":"2025-10-02T09:00:00Z"}}"#.to_string(),
            r#"{"timestamp":"2025-10-02T09:00:00Z","type":"turn_context","payload":{"model":"gpt-5"}}"#.to_string(),
            count("2025-10-02T09:00:00.1Z", 100, 10, 10),
            count("2025-10-02T09:00:00.2Z", 200, 20, 30),
            r#"{"timestamp":"2025-10-02T09:01:00Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{}","call_id":"c1"}}"#.to_string(),
            count("2025-10-02T09:01:01Z", 300, 40, 70),
        ]
        .join("\n");
        let parent: crate::forks::ParentCalls = [(
            "parent".to_string(),
            vec![vec![
                [Some(100), Some(0), Some(10), None],
                [Some(200), Some(0), Some(20), None],
            ]],
        )]
        .into();
        let options = crate::formats::ParseOptions {
            fork_parents: std::sync::Arc::new(parent),
            ..crate::formats::ParseOptions::default()
        };
        let (result, rows, _) = crate::formats::parse_for_test(
            &CodexRollout,
            child.as_bytes(),
            "rollout-child.jsonl",
            &options,
        );
        assert!(result.is_ok());
        assert_eq!(rows.llm_calls.len(), 1);
        assert_eq!(rows.llm_calls[0].output_tokens, Some(40));
        assert_eq!(rows.tool_calls.len(), 1);
        let s = &rows.sessions[0];
        assert_eq!(
            (s.output_tokens, s.input_tokens, s.tool_calls),
            (Some(40), Some(300), 1)
        );
        assert_eq!(s.labels.0["forked_from"], "parent");
        assert_eq!(s.labels.0["fork_replayed_calls"], "2");

        let (rows, _) = parse(&child, "rollout-child.jsonl");
        assert_eq!(rows.llm_calls.len(), 3);
        let s = &rows.sessions[0];
        assert_eq!(s.output_tokens, Some(70));
        assert!(
            s.findings
                .as_deref()
                .is_some_and(|f| f.ends_with("fork_replay_unresolved"))
        );
    }
}
