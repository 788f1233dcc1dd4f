//! Claude Code project transcripts (`~/.claude/projects/<project>/<session>.jsonl`): one
//! JSON record per line, `type` `user`, `assistant`, `summary`, `system`, ... .
//!
//! One model response is written as several lines: one per content block, and streaming
//! snapshots whose `message.usage` grows. Its usage is counted once, under the key
//! `message.id` + `requestId` (`message.id` alone when `requestId` is absent or the line
//! is a sidechain replay), keeping the copy with the largest usage (the first of equal
//! copies), whose timestamp dates the response (`start_ts`); its tool calls are
//! collected across all its lines, unique by `tool_use.id`. Each response becomes an
//! `llm_calls` row (`source = transcript`, `provider = anthropic`), each tool call a
//! `tool_calls` row (`is_error` from its `tool_result`), each agent of a `sessionId` a
//! `sessions` row with its validation verdict.
//!
//! Sub-agents share their parent's `sessionId`: their lines carry `isSidechain: true` and,
//! since 2.0, an `agentId` (files `agent-<id>.jsonl` beside the session in 2.0.x,
//! `<session>/subagents/agent-<id>.jsonl` in 2.1.x; 1.0.x wrote sidechain lines without an
//! id into the session's own file, read as agent `sidechain`). Each agent is its own
//! `sessions` row under the parent's id, with `agent_id` and `agent_kind`: `compaction` for
//! an `acompact-*` agent, `warmup` for one whose first prompt is `Warmup`, else `subagent`.
//! Its calls carry the `agent_id` (and the label `sidechain=true`).
//! Anthropic's `input_tokens` excludes cached tokens, so the buckets map one to one.
//!
//! Bad lines (not JSON, numbers given as strings, ...) are reported and skipped; records
//! of other types (`summary`, `file-history-snapshot`, ...) are skipped, never fatal. Lines are read with the bounded
//! line reader, so a 100 MB transcript streams.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json_borrow::{CompactLength, Str, TextOrOther};
use super::json_input::any_object_line;
use super::lines::{for_each_line, json_line};
use super::timestamps::parse_timestamp;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::schema::{Labels, LlmCallRow, ToolCallRow};
use crate::sessions::{
    COMPACTION_AGENT, MAIN_AGENT, Message, Role, SUB_AGENT, SessionFacts, WARMUP_AGENT,
};

/// Maps and sets keyed by message and tool ids, filled line by line: hashed with foldhash
/// (seeded at random per map), not SipHash.
type IdMap<V> = HashMap<String, V, foldhash::fast::RandomState>;
type IdSet = HashSet<String, foldhash::fast::RandomState>;

/// One line, its strings borrowed from the line where they hold no escape: most of a
/// transcript's bytes are texts, tool inputs and tool results, which are only looked at.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<Str<'a>>,
    #[serde(borrow)]
    timestamp: Option<Str<'a>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Str<'a>>,
    #[serde(rename = "isSidechain", default)]
    is_sidechain: bool,
    #[serde(rename = "agentId", borrow)]
    agent_id: Option<Str<'a>>,
    #[serde(borrow)]
    message: Option<RecordMessage<'a>>,
}

impl Record<'_> {
    /// The agent that wrote the line: None for the main agent.
    fn agent(&self) -> Option<String> {
        match (&self.agent_id, self.is_sidechain) {
            (Some(id), _) => Some(id.to_string()),
            (None, true) => Some("sidechain".into()),
            (None, false) => None,
        }
    }
}

/// The kind of the agent `id` before its first prompt is read.
fn agent_kind(id: Option<&str>) -> &'static str {
    match id {
        None => MAIN_AGENT,
        Some(id) if id.starts_with("acompact") => COMPACTION_AGENT,
        Some(_) => SUB_AGENT,
    }
}

#[derive(Deserialize)]
struct RecordMessage<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    model: Option<Str<'a>>,
    #[serde(borrow)]
    content: Option<Content<'a>>,
    #[serde(borrow)]
    stop_reason: Option<Str<'a>>,
    usage: Option<Usage>,
}

/// A message's content: a string, or a list of blocks.
enum Content<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

/// Told apart by the JSON type as it is read. `#[serde(untagged)]` would buffer the whole
/// content (every text, tool input and tool result) as a tree, try it as a string, build
/// an error, then read the tree again as blocks: 7 % of the instructions of ingesting a
/// Claude Code history went to that copy and those errors (callgrind).
impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> serde::de::Visitor<'de> for ContentVisitor {
            type Value = Content<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of content blocks")
            }

            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                text: &'de str,
            ) -> Result<Content<'de>, E> {
                Ok(Content::Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Content<'de>, E> {
                Ok(Content::Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Content<'de>, E> {
                Ok(Content::Text(Cow::Owned(text)))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Content<'de>, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(block) = seq.next_element::<Block>()? {
                    blocks.push(block);
                }
                Ok(Content::Blocks(blocks))
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    /// `arguments_bytes`: the input's length as compact JSON, however the transcript
    /// spaced it, measured without building it.
    input: Option<CompactLength>,
    is_error: Option<bool>,
    #[serde(borrow)]
    tool_use_id: Option<Str<'a>>,
    /// A tool result's content, left as it is in the line: its text is read only when the
    /// result is an error (the evidence of a `tool_errors` finding). Tool results are three
    /// quarters of a transcript's bytes; unescaping every one into a copy was the largest
    /// cost of reading them.
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

impl Block<'_> {
    /// The tool result's text when its content is a JSON string; blocks are not read.
    fn result_text(&self) -> Option<Cow<'_, str>> {
        let raw = self.content?;
        match serde_json::from_str::<TextOrOther<'_>>(raw.get()) {
            Ok(TextOrOther::Text(text)) => Some(text),
            Ok(TextOrOther::Other) | Err(_) => None,
        }
    }
}

#[derive(Deserialize, Clone, Copy, Default, PartialEq)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
}

#[derive(Deserialize, Clone, Copy, Default, PartialEq)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

impl Usage {
    fn total(&self) -> u64 {
        [
            self.input_tokens,
            self.output_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
        ]
        .iter()
        .flatten()
        .sum()
    }
}

/// One model response, assembled from its lines.
struct Response {
    /// Boxed: a row is several hundred bytes, and the vector of responses moved every one
    /// of them each time it grew.
    row: Box<LlmCallRow>,
    usage: Usage,
    tool_ids: IdSet,
}

/// The `claude_code` format.
pub struct ClaudeCode;

impl Format for ClaudeCode {
    fn name(&self) -> &'static str {
        "claude_code"
    }

    fn description(&self) -> &'static str {
        "Claude Code project transcript (projects/<project>/<session>.jsonl)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        any_object_line(sniff.head, |line| {
            line.contains("\"type\"")
                && (line.contains("\"sessionId\"") || line.contains("\"leafUuid\""))
        })
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let fallback_session = ctx.file_stem_or_id();
        // By session id, then agent: the same order as a map keyed by both, looked up by
        // the line's borrowed id without building a key per line.
        let mut sessions: BTreeMap<String, BTreeMap<Option<String>, SessionFacts>> =
            BTreeMap::new();
        // Responses and tool calls in the order first seen, found by key through an index:
        // their rows are large, and a map holding them moved every row at each growth.
        let mut responses: Vec<Response> = Vec::new();
        let mut response_index: IdMap<usize> = IdMap::default();
        let mut ids_by_message: IdMap<IdSet> = IdMap::default();
        let mut tools: Vec<ToolCallRow> = Vec::new();
        let mut tool_index: IdMap<usize> = IdMap::default();
        let mut tool_errors: IdMap<bool> = IdMap::default();
        let mut good = 0u64;
        for_each_line(input, sink, &mut |line, sink| {
            let text = line.text.trim();
            if text.is_empty() {
                return Ok(());
            }
            let Some(record) =
                json_line::<Record<'_>>(text, line.number, sink, "a transcript record")
            else {
                return Ok(());
            };
            good += 1;
            let number = line.number;
            let ts = record.timestamp.as_deref().and_then(parse_timestamp);
            let session_id: &str = record.session_id.as_deref().unwrap_or(&fallback_session);
            let role = match record.kind.as_deref() {
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                Some("system") => Role::System,
                // summary, file-history-snapshot, queue-operation, ...: not messages.
                _ => return Ok(()),
            };
            let agent = record.agent();
            if !sessions.contains_key(session_id) {
                sessions.insert(session_id.to_string(), BTreeMap::new());
            }
            let Some(agents) = sessions.get_mut(session_id) else {
                return Ok(());
            };
            let facts = agents.entry(agent.clone()).or_insert_with(|| {
                let mut f = SessionFacts::new(session_id.to_string(), "claude_code");
                // Claude Code always offers the model its tools.
                f.tools_available = true;
                f.row.provider = Some("anthropic".into());
                f.row.agent_kind = agent_kind(agent.as_deref()).to_string();
                f.row.agent_id = agent.clone();
                f
            });
            let message = record.message.as_ref();
            let mut text_parts: Vec<Cow<'_, str>> = Vec::new();
            let mut calls: Vec<&str> = Vec::new();
            let (mut results, mut result_errors) = (0usize, 0usize);
            match message.and_then(|m| m.content.as_ref()) {
                Some(Content::Text(t)) => text_parts.push(Cow::Borrowed(t)),
                Some(Content::Blocks(blocks)) => {
                    for b in blocks {
                        match &*b.kind {
                            "text" => text_parts.extend(b.text.as_deref().map(Cow::Borrowed)),
                            "tool_result" => {
                                results += 1;
                                let is_error = b.is_error.unwrap_or(false);
                                result_errors += usize::from(is_error);
                                // The error text is the evidence of a `tool_errors` finding.
                                if is_error && let Some(text) = b.result_text() {
                                    text_parts.push(text);
                                }
                                if let Some(id) = &b.tool_use_id {
                                    tool_errors.insert(id.to_string(), is_error);
                                }
                            }
                            "tool_use" => {
                                let Some(id) = b.id.as_deref() else { continue };
                                if tool_index.contains_key(id) {
                                    continue;
                                }
                                let name = b.name.as_deref().unwrap_or("(unnamed)");
                                calls.push(name);
                                tool_index.insert(id.to_string(), tools.len());
                                tools.push(ToolCallRow {
                                    tool_call_id: id.to_string(),
                                    session_id: Some(session_id.to_string()),
                                    agent_id: agent.clone(),
                                    ts,
                                    tool_name: name.to_string(),
                                    arguments_bytes: b.input.map(|i| i.0 as i64),
                                    ..ToolCallRow::default()
                                });
                            }
                            _ => {}
                        }
                    }
                }
                None => {}
            }
            let text_joined: Cow<'_, str> = match text_parts.as_mut_slice() {
                [] => Cow::Borrowed(""),
                [one] => std::mem::take(one),
                many => Cow::Owned(many.join("\n")),
            };
            let msg = message;
            let response_key = msg
                .and_then(|m| m.id.as_deref())
                .filter(|_| role == Role::Assistant)
                .map(|id| match (&record.request_id, record.is_sidechain) {
                    // Joined by hand: `format!` took 2 % of the instructions here.
                    (Some(req), false) => [id, ":", req].concat(),
                    _ => id.to_string(),
                });
            // A response's second and later lines are part of the same message.
            let known_response = response_key
                .as_ref()
                .and_then(|key| response_index.get(key).copied());
            let new_message = known_response.is_none();
            let stop_reason = msg.and_then(|m| m.stop_reason.as_deref());
            // A sub-agent whose first prompt is "Warmup" only primes the cache.
            if facts.row.message_count == 0
                && role == Role::User
                && agent.is_some()
                && text_joined.trim() == "Warmup"
            {
                facts.row.agent_kind = WARMUP_AGENT.to_string();
            }
            if new_message {
                facts.message(&Message {
                    role: Some(role),
                    ts,
                    text: &text_joined,
                    tool_calls: calls.clone(),
                    tool_results: results,
                    tool_result_errors: result_errors,
                    stop_reason,
                });
            } else {
                // Later lines of a response carry its other blocks: count and judge them too.
                facts.record_tool_calls(&calls);
                facts.inspect_assistant(facts.row.message_count - 1, &text_joined, stop_reason);
            }
            let (Some(key), Some(m)) = (response_key, msg) else {
                return Ok(());
            };
            if let Some(id) = m.id.as_deref() {
                match ids_by_message.get_mut(id) {
                    Some(keys) => {
                        if !keys.contains(&key) {
                            keys.insert(key.clone());
                        }
                    }
                    None => {
                        let mut keys = IdSet::default();
                        keys.insert(key.clone());
                        ids_by_message.insert(id.to_string(), keys);
                    }
                }
            }
            let index = match known_response {
                Some(index) => index,
                None => {
                    let model = m
                        .model
                        .as_deref()
                        .filter(|m| *m != "<synthetic>")
                        .map(str::to_string);
                    let mut labels = Labels::default();
                    if record.is_sidechain {
                        labels.0.insert("sidechain".into(), "true".into());
                    }
                    let response = Response {
                        row: Box::new(LlmCallRow {
                            call_id: key.clone(),
                            session_id: Some(session_id.to_string()),
                            agent_id: agent.clone(),
                            source: crate::schema::TRANSCRIPT_SOURCE.into(),
                            provider: Some("anthropic".into()),
                            request_model: model.clone(),
                            response_model: model,
                            start_ts: ts,
                            source_line: Some(number as i64),
                            labels,
                            ..LlmCallRow::default()
                        }),
                        usage: Usage::default(),
                        tool_ids: IdSet::default(),
                    };
                    response_index.insert(key.clone(), responses.len());
                    responses.push(response);
                    responses.len() - 1
                }
            };
            let Some(entry) = responses.get_mut(index) else {
                return Ok(());
            };
            // The copy with the largest usage wins (the first of equal copies), and the
            // response is dated by that copy, as ccusage dates it.
            if let Some(usage) = m.usage
                && (usage.total() > entry.usage.total() || entry.usage == Usage::default())
            {
                entry.usage = usage;
                entry.row.start_ts = ts;
            }
            if let Some(reason) = stop_reason {
                entry.row.finish_reason = Some(reason.to_string());
            }
            if let Some(Content::Blocks(blocks)) = &m.content {
                for b in blocks.iter().filter(|b| &*b.kind == "tool_use") {
                    if let Some(id) = b.id.as_deref()
                        && !entry.tool_ids.contains(id)
                    {
                        entry.tool_ids.insert(id.to_string());
                    }
                }
            }
            Ok(())
        })?;
        if good == 0 {
            return Err(Rejection::file("no transcript record could be read").into());
        }
        // Usage counted once per response, then the session totals.
        drop(response_index);
        sink.rows.llm_calls.reserve(responses.len());
        for mut response in responses {
            let u = response.usage;
            let r = &mut response.row;
            let any = u != Usage::default();
            let i = |v: Option<u64>| v.map(|v| v as i64);
            r.input_tokens = i(u.input_tokens);
            r.output_tokens = i(u.output_tokens);
            r.cache_read_input_tokens = i(u.cache_read_input_tokens);
            r.cache_creation_input_tokens = i(u.cache_creation_input_tokens);
            r.cache_creation_5m_input_tokens =
                i(u.cache_creation.and_then(|c| c.ephemeral_5m_input_tokens));
            r.cache_creation_1h_input_tokens =
                i(u.cache_creation.and_then(|c| c.ephemeral_1h_input_tokens));
            r.usage_source = Some(if any { "reported" } else { "missing" }.into());
            r.tool_call_count = Some(response.tool_ids.len() as i64);
            for id in &response.tool_ids {
                if let Some(tool) = tool_index.get(id).and_then(|&i| tools.get_mut(i)) {
                    tool.call_id = Some(r.call_id.clone());
                }
            }
            let owner = r.session_id.as_deref().and_then(|s| sessions.get_mut(s));
            if let Some(session) = owner.and_then(|agents| agents.get_mut(&r.agent_id)) {
                session.add_usage(
                    r.input_tokens,
                    r.output_tokens,
                    r.cache_read_input_tokens,
                    r.cache_creation_input_tokens,
                );
                if session.row.model.is_none() {
                    session.row.model = r.response_model.clone();
                }
            }
            sink.rows.llm_calls.push(*response.row);
        }
        for (message_id, keys) in ids_by_message {
            if keys.len() > 1
                && let Some(call) = sink
                    .rows
                    .llm_calls
                    .iter()
                    .find(|c| c.call_id.starts_with(&message_id))
                && let Some(session) = call
                    .session_id
                    .as_deref()
                    .and_then(|s| sessions.get_mut(s))
                    .and_then(|agents| agents.get_mut(&call.agent_id))
            {
                session.duplicate_usage += 1;
            }
        }
        let mut tool_rows = tools;
        tool_rows.sort_by(|a, b| (a.ts, &a.tool_call_id).cmp(&(b.ts, &b.tool_call_id)));
        for tool in &mut tool_rows {
            tool.is_error = tool_errors.get(&tool.tool_call_id).copied();
        }
        sink.rows.tool_calls.extend(tool_rows);
        for facts in sessions.into_values().flat_map(BTreeMap::into_values) {
            let (row, _) = facts.into_row(&ctx.options.validation);
            sink.rows.sessions.push(row);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test};

    #[test]
    fn content_is_read_as_text_or_blocks_by_its_json_type() {
        let json = |content: &str| format!(r#"{{"content": {content}}}"#);
        let message = |json: &str| -> Result<Option<String>, serde_json::Error> {
            // What was read, as a comparable summary.
            let read = serde_json::from_str::<RecordMessage<'_>>(json)?;
            Ok(read.content.map(|c| match c {
                Content::Text(t) => format!("text {t}"),
                Content::Blocks(blocks) => blocks
                    .iter()
                    .map(|b| format!("{}{:?}", &*b.kind, b.input.map(|i| i.0)))
                    .collect::<Vec<_>>()
                    .join(" "),
            }))
        };
        let text = json(r#""plain \"quoted\" text""#);
        assert_eq!(
            message(&text).expect("text").as_deref(),
            Some(r#"text plain "quoted" text"#)
        );
        let blocks = json(
            r#"[{"type": "text", "text": "hi"},
                {"type": "tool_use", "id": "t1", "name": "Read", "input": {"path": "a b"}},
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text"}]}]"#,
        );
        // The input's compact length: {"path":"a b"} is 14 bytes.
        assert_eq!(
            message(&blocks).expect("blocks").as_deref(),
            Some("textNone tool_useSome(14) tool_resultNone")
        );
        assert_eq!(message(&json("[]")).expect("empty").as_deref(), Some(""));
        assert_eq!(message(&json("null")).expect("null"), None);
        for not_content in [
            "3",
            r#"{"type": "text"}"#,
            r#"[{"text": "no type"}]"#,
            "[1]",
        ] {
            assert!(message(&json(not_content)).is_err(), "{not_content}");
        }
    }

    const SAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sample-data/sessions/claude-code/projects/-home-dev-agent-demo/3f1c2a4e-7b9d-4c1e-9a2f-5d6e7f8a9b0c.jsonl"
    );

    #[test]
    fn the_sample_counts_each_response_once() {
        let bytes = std::fs::read(SAMPLE).expect("sample");
        let (result, rows, issues) =
            parse_for_test(&ClaudeCode, &bytes, SAMPLE, &ParseOptions::default());
        assert!(result.is_ok() && issues.is_empty(), "{issues:?}");
        // Hand count (sample-data/README.md): 5 responses over 8 assistant lines.
        assert_eq!(rows.llm_calls.len(), 5);
        let sum =
            |f: fn(&LlmCallRow) -> Option<i64>| rows.llm_calls.iter().filter_map(f).sum::<i64>();
        assert_eq!(sum(|c| c.input_tokens), 4 + 6 + 120 + 8 + 10);
        assert_eq!(sum(|c| c.output_tokens), 87 + 45 + 30 + 210 + 60);
        assert_eq!(
            sum(|c| c.cache_read_input_tokens),
            10_000 + 12_000 + 12_500 + 12_800
        );
        assert_eq!(sum(|c| c.cache_creation_input_tokens), 2_000 + 500 + 300);
        let sidechain: Vec<_> = rows
            .llm_calls
            .iter()
            .filter(|c| c.labels.0.contains_key("sidechain"))
            .collect();
        assert_eq!(sidechain.len(), 1);
        assert_eq!(sidechain[0].call_id, "msg_03");
        assert_eq!(rows.tool_calls.len(), 4);
        assert_eq!(
            rows.tool_calls
                .iter()
                .filter(|t| t.is_error == Some(true))
                .count(),
            1
        );
        // The main agent's row and the sidechain's (a sub-agent without an id in 1.0.x
        // transcripts); together they are the session.
        let kinds: Vec<(&str, Option<&str>)> = rows
            .sessions
            .iter()
            .map(|s| (s.agent_kind.as_str(), s.agent_id.as_deref()))
            .collect();
        assert_eq!(kinds, [("main", None), ("subagent", Some("sidechain"))]);
        let total =
            |f: fn(&crate::schema::SessionRow) -> i64| -> i64 { rows.sessions.iter().map(f).sum() };
        assert_eq!(
            (
                total(|s| s.message_count),
                total(|s| s.user_messages),
                total(|s| s.assistant_messages)
            ),
            (9, 4, 5)
        );
        assert_eq!((total(|s| s.tool_calls), total(|s| s.tool_errors)), (4, 1));
        assert_eq!(
            (
                total(|s| s.input_tokens.unwrap_or(0)),
                total(|s| s.output_tokens.unwrap_or(0))
            ),
            (148, 432)
        );
        assert_eq!(rows.sessions[0].findings.as_deref(), Some("tool_errors"));
        assert_eq!(sidechain[0].agent_id.as_deref(), Some("sidechain"));
    }

    #[test]
    fn bad_lines_are_reported_and_the_rest_kept() {
        let text = concat!(
            r#"{"type":"user","sessionId":"s1","timestamp":"2026-11-20T10:00:00Z","message":{"role":"user","content":"hi"}}"#,
            "\n",
            "garbage in the middle\n",
            r#"{"type":"assistant","sessionId":"s1","requestId":"r1","message":{"id":"m1","model":"claude-x","content":[{"type":"text","text":"yo"}],"usage":{"input_tokens":"12","output_tokens":3}}}"#,
            "\n",
            r#"{"type":"assistant","sessionId":"s1","requestId":"r2","message":{"id":"m2","model":"claude-x","content":[{"type":"tool_use","id":"t1","name":"Read","input":{}}],"usage":{"input_tokens":5,"output_tokens":7}}}"#,
            "\n",
            r#"{"type":"queue-operation","operation":"enqueue"}"#,
            "\n",
            r#"{"type":"user","message":{"role":"user","content":"no session id"}}"#,
            "\n",
            r#"{"type":"assistant","sessionId":"s1","message":{"id":"m3","#,
        );
        let (result, rows, issues) = parse_for_test(
            &ClaudeCode,
            text.as_bytes(),
            "proj/abc.jsonl",
            &ParseOptions::default(),
        );
        assert!(result.is_ok());
        let lines: Vec<_> = issues.iter().map(|i| i.line).collect();
        // The garbage line, the usage with a string for a number, the truncated last line.
        assert_eq!(lines, [Some(2), Some(3), Some(7)], "{issues:?}");
        assert_eq!(rows.llm_calls.len(), 1);
        assert_eq!(rows.tool_calls.len(), 1);
        // A record without a session id goes to the session named after the file.
        let ids: Vec<_> = rows
            .sessions
            .iter()
            .map(|s| s.session_id.as_str())
            .collect();
        assert_eq!(ids, ["abc", "s1"]);
    }

    #[test]
    fn the_largest_usage_snapshot_wins_and_sidechains_key_by_message_id() {
        let parse = |text: &str| {
            parse_for_test(
                &ClaudeCode,
                text.as_bytes(),
                "x.jsonl",
                &ParseOptions::default(),
            )
            .1
        };
        let line = |req: &str, side: bool, out: u64| {
            format!(
                r#"{{"type":"assistant","sessionId":"s","isSidechain":{side},"requestId":"{req}","message":{{"id":"m","usage":{{"input_tokens":1,"output_tokens":{out}}}}}}}"#
            )
        };
        let text = [
            line("r1", false, 1),
            line("r1", false, 50),
            line("r1", false, 9),
        ]
        .join("\n");
        let rows = parse(&text);
        assert_eq!(rows.llm_calls.len(), 1);
        assert_eq!(rows.llm_calls[0].output_tokens, Some(50));
        let text = [line("r1", true, 5), line("r2", true, 5)].join("\n");
        let rows = parse(&text);
        assert_eq!(
            rows.llm_calls.len(),
            1,
            "a sidechain replay is the same response"
        );
        let text = [line("r1", false, 5), line("r2", false, 5)].join("\n");
        let rows = parse(&text);
        assert_eq!(
            rows.llm_calls.len(),
            2,
            "keyed by message id and request id"
        );
        assert_eq!(
            rows.sessions[0].findings.as_deref(),
            Some("empty_context,no_tool_calls,duplicate_usage")
        );
    }
}
