//! Agent sessions: the facts every transcript parser gathers message by message, and the
//! validation that turns them into named findings.
//!
//! The most expensive failure in agent benchmarking is silent: the workflow exits 0 and the
//! model never called a tool. Each parser feeds a [`SessionFacts`] one message at a time
//! (so a 100 MB transcript needs no more memory than its counters and the first piece of
//! evidence of each finding); [`SessionFacts::findings`] applies the rules below and
//! [`SessionFacts::into_row`] stores the verdict on the `sessions` row.
//!
//! | code | severity | when |
//! | --- | --- | --- |
//! | `empty_context` | error | no message has any content |
//! | `system_only` | error | every message is a system message |
//! | `no_assistant_reply` | error | users spoke, the assistant never answered |
//! | `zero_tool_calls` | error | tools were expected, none was called (the finding says why they were expected) |
//! | `no_tool_calls` | warning | tools were available but nothing said they were expected, none was called |
//! | `too_few_tool_calls` | error | fewer structured calls than `--min-tool-calls` |
//! | `missing_expected_tool` | error | an `--expect-tool` was never called |
//! | `tool_call_as_text` | error | the assistant wrote a tool call into plain text |
//! | `tool_errors` | warning | tool results marked as errors |
//! | `truncated` | warning | a reply stopped on the token limit |
//! | `agent_error` | error | the run itself reported failure (`error_max_turns`, a provider error reply) |
//! | `duplicate_usage` | warning | one response's usage appeared under several requests (counted once) |
//! | `fork_replay_unresolved` | warning | a Codex fork whose parent was not found: its totals include the parent's replayed history ([`crate::forks`]) |
//!
//! Tools are *expected* when the user says so (`--expect-tool-calls`, `--min-tool-calls`,
//! `--expect-tool`) or the input does (a workflow session that declares its tools); merely
//! *available* when the transcript only offered them (Claude Code always does; a request
//! with a `tools` array): someone who asked a question and got an answer is not an error.
//! The tool-call rules judge a session's main agent: a sub-agent's work is its parent's
//! (the parent called a tool to start it), and compaction and warm-up agents never call a
//! tool by design.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::redact::redact_command;
use crate::schema::{SessionRow, Timestamp};

/// What the user says a session must contain (`--min-tool-calls`, `--expect-tool`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidationOptions {
    /// At least this many structured tool calls.
    pub min_tool_calls: Option<u32>,
    /// Tools that must each be called at least once.
    pub expected_tools: Vec<String>,
    /// Every session is expected to call tools (`--expect-tool-calls`).
    pub expect_tool_calls: bool,
    /// Sessions carrying one of these labels are expected to call tools
    /// (`--expect-tool-calls-where KEY=VALUE`): labels found in the input, and at ingest the
    /// batch's `--label`s.
    pub expect_tool_calls_where: Vec<(String, String)>,
    /// The labels every session of the batch gets (ingest's `--label`), for
    /// `expect_tool_calls_where`: they are stamped on the rows after these are judged.
    pub batch_labels: Vec<(String, String)>,
}

impl ValidationOptions {
    /// Why the user expects tool calls of a session with `labels`, if they do (the flag
    /// that says so).
    fn expectation(&self, labels: &crate::schema::Labels) -> Option<String> {
        if let Some((key, value)) = self.expect_tool_calls_where.iter().find(|(k, v)| {
            labels.0.get(k) == Some(v)
                || self.batch_labels.iter().any(|(bk, bv)| bk == k && bv == v)
        }) {
            return Some(format!("--expect-tool-calls-where {key}={value}"));
        }
        if let Some(min) = self.min_tool_calls {
            return Some(format!("--min-tool-calls {min}"));
        }
        if let Some(tool) = self.expected_tools.first() {
            return Some(format!("--expect-tool {tool}"));
        }
        self.expect_tool_calls
            .then(|| "--expect-tool-calls".to_string())
    }
}

/// `sessions.agent_kind` of a session's main agent.
pub const MAIN_AGENT: &str = "main";
/// `sessions.agent_kind` of a task the main agent handed to a sub-agent.
pub const SUB_AGENT: &str = "subagent";
/// `sessions.agent_kind` of the agent that summarises a full context.
pub const COMPACTION_AGENT: &str = "compaction";
/// `sessions.agent_kind` of the agent that primes the cache before the first prompt.
pub const WARMUP_AGENT: &str = "warmup";

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Suspicious, but the session may be fine.
    Warning,
    /// The session did not do its job.
    Error,
}

impl Severity {
    /// `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One validation finding, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Stable code (`zero_tool_calls`, ...).
    pub code: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What was found, in one sentence.
    pub detail: String,
    /// 0-based index of the message that shows it, if one does.
    pub message_index: Option<i64>,
    /// A short excerpt of that message.
    pub excerpt: Option<String>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// System or developer prompt.
    System,
    /// The user (tool results included when the format files them under the user).
    User,
    /// The model.
    Assistant,
    /// A tool result message (OpenAI `role: tool`).
    Tool,
}

/// One message as a parser saw it.
#[derive(Debug, Clone, Default)]
pub struct Message<'a> {
    /// Who wrote it (None: a record of another kind, not counted).
    pub role: Option<Role>,
    /// When.
    pub ts: Option<Timestamp>,
    /// Its plain text, all text blocks joined.
    pub text: &'a str,
    /// Names of the structured tool calls it makes.
    pub tool_calls: Vec<&'a str>,
    /// Tool results it carries: how many, and how many are errors.
    pub tool_results: usize,
    /// Of `tool_results`, the errors.
    pub tool_result_errors: usize,
    /// Why the reply stopped, as the provider said.
    pub stop_reason: Option<&'a str>,
}

/// Counters and first evidence of one session, fed message by message.
#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    /// The `sessions` row being filled (id, format, provider, model, tokens).
    pub row: SessionRow,
    /// Whether the transcript says tools were available (or the format implies it).
    pub tools_available: bool,
    /// Why the input itself says tools were expected (a workflow that declares its
    /// tools), if it does.
    pub tools_expected: Option<String>,
    /// Messages with any content.
    pub nonempty_messages: i64,
    tool_names: BTreeSet<String>,
    first_user: Option<(i64, String)>,
    first_tool_error: Option<(i64, String)>,
    first_text_tool_call: Option<(i64, String)>,
    first_truncation: Option<(i64, String)>,
    /// Responses whose usage appeared under more than one request.
    pub duplicate_usage: i64,
    /// How the run itself said it failed (a headless result's error subtype, a provider's
    /// error reply).
    pub agent_error: Option<String>,
}

/// Characters kept of a message as evidence.
const EXCERPT_CHARS: usize = 120;

/// Shapes of a tool call written as text instead of made: `<tool_call>`, `<function=...>`,
/// a JSON object with a name and arguments, `functions.name(`, Python-tag calls.
static TEXT_TOOL_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        <tool_call> | <function[=\s] | <\|python_tag\|> | \[TOOL_CALLS\]
        | \{\s*"(?:name|tool|function|tool_name)"\s*:\s*"[^"]+"\s*,\s*"(?:arguments|parameters|args|input)"\s*:
        | \bfunctions\.[A-Za-z_][A-Za-z0-9_]*\s*\(
        "#,
    )
    .expect("static regex")
});

impl SessionFacts {
    /// Facts of a session with this id, read from `format`.
    pub fn new(session_id: String, format: &str) -> Self {
        SessionFacts {
            row: SessionRow {
                session_id,
                source_format: format.to_string(),
                agent_kind: MAIN_AGENT.to_string(),
                ..SessionRow::default()
            },
            ..SessionFacts::default()
        }
    }

    /// Counts one message; returns its 0-based index.
    pub fn message(&mut self, m: &Message<'_>) -> i64 {
        let index = self.row.message_count;
        let Some(role) = m.role else {
            return index;
        };
        self.row.message_count += 1;
        if let Some(ts) = m.ts {
            self.row.started_ts = Some(self.row.started_ts.map_or(ts, |s| s.min(ts)));
            self.row.last_activity_ts = Some(self.row.last_activity_ts.map_or(ts, |l| l.max(ts)));
        }
        let has_content =
            !m.text.trim().is_empty() || !m.tool_calls.is_empty() || m.tool_results > 0;
        if has_content {
            self.nonempty_messages += 1;
        }
        match role {
            Role::System => self.row.system_messages += 1,
            Role::User => {
                self.row.user_messages += 1;
                if self.first_user.is_none() && !m.text.trim().is_empty() {
                    self.first_user = Some((index, excerpt(m.text)));
                }
            }
            Role::Assistant => {
                self.row.assistant_messages += 1;
                self.inspect_assistant(index, m.text, m.stop_reason);
            }
            Role::Tool => {}
        }
        self.record_tool_calls(&m.tool_calls);
        self.row.tool_errors += m.tool_result_errors as i64;
        if m.tool_result_errors > 0 && self.first_tool_error.is_none() {
            self.first_tool_error = Some((index, excerpt(m.text)));
        }
        index
    }

    /// Looks at assistant text (of message `index`) for a tool call written as text and
    /// for a stop at the token limit; also for later parts of a message already counted.
    pub fn inspect_assistant(&mut self, index: i64, text: &str, stop_reason: Option<&str>) {
        if !text.trim().is_empty() && self.nonempty_messages == 0 {
            self.nonempty_messages = 1;
        }
        if self.first_text_tool_call.is_none()
            && let Some(found) = TEXT_TOOL_CALL.find(text)
        {
            self.first_text_tool_call = Some((index, excerpt(&text[found.start()..])));
        }
        if self.first_truncation.is_none()
            && matches!(
                stop_reason,
                Some("max_tokens" | "length" | "MAX_TOKENS" | "max_output_tokens")
            )
        {
            self.first_truncation = Some((index, excerpt(text)));
        }
    }

    /// Counts structured tool calls found outside a message (deduplicated upstream).
    pub fn record_tool_calls(&mut self, names: &[&str]) {
        self.row.tool_calls += names.len() as i64;
        for name in names {
            self.tool_names.insert((*name).to_string());
        }
    }

    /// Adds one LLM call's token buckets to the session's totals.
    pub fn add_usage(
        &mut self,
        input: Option<i64>,
        output: Option<i64>,
        cache_read: Option<i64>,
        cache_write: Option<i64>,
    ) {
        let add = |total: &mut Option<i64>, v: Option<i64>| {
            if let Some(v) = v {
                *total = Some(total.unwrap_or(0) + v);
            }
        };
        add(&mut self.row.input_tokens, input);
        add(&mut self.row.output_tokens, output);
        add(&mut self.row.cache_read_input_tokens, cache_read);
        add(&mut self.row.cache_creation_input_tokens, cache_write);
    }

    /// The findings of the rules in the module docs.
    pub fn findings(&self, options: &ValidationOptions) -> Vec<Finding> {
        let r = &self.row;
        let mut out = Vec::new();
        let mut push = |code, severity, detail: String, evidence: Option<&(i64, String)>| {
            out.push(Finding {
                code,
                severity,
                detail,
                message_index: evidence.map(|e| e.0),
                excerpt: evidence.map(|e| e.1.clone()),
            });
        };
        // A call that failed outright has no messages: its error is the finding.
        if self.nonempty_messages == 0 && !(r.message_count == 0 && self.agent_error.is_some()) {
            push(
                "empty_context",
                Severity::Error,
                format!("{} message(s), none with content", r.message_count),
                None,
            );
        }
        if r.message_count > 0 && r.system_messages == r.message_count {
            push(
                "system_only",
                Severity::Error,
                format!("all {} message(s) are system messages", r.message_count),
                None,
            );
        }
        if r.user_messages > 0 && r.assistant_messages == 0 {
            push(
                "no_assistant_reply",
                Severity::Error,
                format!("{} user message(s), no assistant reply", r.user_messages),
                self.first_user.as_ref(),
            );
        }
        // Tool calls are the main agent's duty (see the module docs).
        let judged = r.agent_kind == MAIN_AGENT;
        let expected = options
            .expectation(&r.labels)
            .or_else(|| self.tools_expected.clone());
        match (&expected, judged && r.tool_calls == 0) {
            (_, false) => {}
            (Some(why), true) => push(
                "zero_tool_calls",
                Severity::Error,
                format!("tools were expected ({why}) and no tool was called"),
                None,
            ),
            (None, true) if self.tools_available => push(
                "no_tool_calls",
                Severity::Warning,
                "tools were available and no tool was called; not an error, as nothing said \
                 they were expected (--expect-tool-calls, --min-tool-calls, --expect-tool)"
                    .into(),
                None,
            ),
            (None, true) => {}
        }
        if let Some(min) = options.min_tool_calls
            && judged
            && r.tool_calls > 0
            && r.tool_calls < i64::from(min)
        {
            push(
                "too_few_tool_calls",
                Severity::Error,
                format!("{} tool call(s), at least {min} expected", r.tool_calls),
                None,
            );
        }
        for tool in options.expected_tools.iter().filter(|_| judged) {
            if !self.tool_names.contains(tool) {
                push(
                    "missing_expected_tool",
                    Severity::Error,
                    format!("expected tool {tool} was never called"),
                    None,
                );
            }
        }
        if let Some(e) = &self.first_text_tool_call {
            push(
                "tool_call_as_text",
                Severity::Error,
                "the assistant wrote a tool call as text instead of making it".into(),
                Some(e),
            );
        }
        if r.tool_errors > 0 {
            push(
                "tool_errors",
                Severity::Warning,
                format!("{} tool result(s) marked as errors", r.tool_errors),
                self.first_tool_error.as_ref(),
            );
        }
        if let Some(e) = &self.first_truncation {
            push(
                "truncated",
                Severity::Warning,
                "a reply stopped at the token limit".into(),
                Some(e),
            );
        }
        if let Some(how) = &self.agent_error {
            push(
                "agent_error",
                Severity::Error,
                format!("the run reported failure: {how}"),
                None,
            );
        }
        if self.duplicate_usage > 0 {
            push(
                "duplicate_usage",
                Severity::Warning,
                format!(
                    "{} response(s) logged under several request ids, counted once per request",
                    self.duplicate_usage
                ),
                None,
            );
        }
        out
    }

    /// The `sessions` row with its validation verdict.
    pub fn into_row(self, options: &ValidationOptions) -> (SessionRow, Vec<Finding>) {
        let findings = self.findings(options);
        let mut row = self.row;
        row.validation_status = Some(
            findings
                .iter()
                .map(|f| f.severity)
                .max()
                .map_or("ok", Severity::as_str)
                .to_string(),
        );
        row.findings = (!findings.is_empty()).then(|| {
            findings
                .iter()
                .map(|f| f.code)
                .collect::<Vec<_>>()
                .join(",")
        });
        row.finding_details = (!findings.is_empty()).then(|| findings_json(&findings));
        (row, findings)
    }
}

/// Adds a finding to a `sessions` row already judged: its code, its details, and the status
/// if the finding is worse.
pub fn add_finding(row: &mut SessionRow, finding: Finding) {
    let mut details: Vec<serde_json::Value> = row
        .finding_details
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    if let serde_json::Value::Array(mut added) =
        serde_json::from_str(&findings_json(std::slice::from_ref(&finding)))
            .unwrap_or(serde_json::Value::Null)
    {
        details.append(&mut added);
    }
    row.finding_details = Some(serde_json::Value::Array(details).to_string());
    row.findings = Some(match row.findings.take() {
        Some(codes) if !codes.is_empty() => format!("{codes},{}", finding.code),
        _ => finding.code.to_string(),
    });
    let rank = |s: Option<&str>| match s {
        Some("error") => 2,
        Some("warning") => 1,
        _ => 0,
    };
    if rank(Some(finding.severity.as_str())) > rank(row.validation_status.as_deref()) {
        row.validation_status = Some(finding.severity.as_str().to_string());
    }
}

/// Findings as the JSON stored in `sessions.finding_details`.
pub fn findings_json(findings: &[Finding]) -> String {
    let items: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "code": f.code,
                "severity": f.severity.as_str(),
                "detail": f.detail,
                "message_index": f.message_index,
                "excerpt": f.excerpt,
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// The first characters of `text` on one line, secrets redacted.
fn excerpt(text: &str) -> String {
    let flat = redact_command(&flattened_start(text, EXCERPT_CONTEXT_BYTES));
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// Bytes of a text flattened and redacted for an excerpt: far more than its
/// [`EXCERPT_CHARS`], so that a secret beginning inside the excerpt is still whole enough
/// for its shape to be recognised, however it continues. The rest of a long text (a tool's
/// whole error output) was flattened and searched for secrets only to be cut off: 2 % of a
/// Claude Code ingest's samples.
const EXCERPT_CONTEXT_BYTES: usize = 4096;

/// The start of `text`, its runs of whitespace made single spaces, up to about `limit`
/// bytes (cut at a character boundary).
fn flattened_start(text: &str, limit: usize) -> String {
    let mut flat = String::new();
    for word in text.split_whitespace() {
        if !flat.is_empty() {
            flat.push(' ');
        }
        let room = limit.saturating_sub(flat.len());
        if word.len() <= room {
            flat.push_str(word);
            continue;
        }
        let cut = (0..=room)
            .rev()
            .find(|&i| word.is_char_boundary(i))
            .unwrap_or(0);
        flat.push_str(&word[..cut]);
        break;
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(facts: &SessionFacts, options: &ValidationOptions) -> Vec<&'static str> {
        facts.findings(options).iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_system_only_session_is_hollow() {
        let mut facts = SessionFacts::new("s".into(), "workflow_session");
        facts.tools_available = true;
        facts.tools_expected = Some("the workflow declares read_file".into());
        facts.message(&Message {
            role: Some(Role::System),
            text: "You are an agent with tools.",
            ..Message::default()
        });
        assert_eq!(
            codes(&facts, &ValidationOptions::default()),
            ["system_only", "zero_tool_calls"]
        );
        let (row, _) = facts.into_row(&ValidationOptions::default());
        assert_eq!(row.validation_status.as_deref(), Some("error"));
        assert_eq!(row.findings.as_deref(), Some("system_only,zero_tool_calls"));
    }

    #[test]
    fn text_tool_calls_truncation_and_tool_errors_carry_evidence() {
        let mut facts = SessionFacts::new("s".into(), "x");
        facts.message(&Message {
            role: Some(Role::User),
            text: "list files",
            ..Message::default()
        });
        facts.message(&Message {
            role: Some(Role::Assistant),
            text: "Sure: {\"name\": \"list_files\", \"arguments\": {}}",
            stop_reason: Some("length"),
            ..Message::default()
        });
        facts.message(&Message {
            role: Some(Role::User),
            text: "permission denied",
            tool_results: 1,
            tool_result_errors: 1,
            ..Message::default()
        });
        let findings = facts.findings(&ValidationOptions {
            min_tool_calls: Some(1),
            expected_tools: vec!["read".into()],
            ..ValidationOptions::default()
        });
        let got: Vec<_> = findings.iter().map(|f| (f.code, f.message_index)).collect();
        assert_eq!(
            got,
            [
                ("zero_tool_calls", None),
                ("missing_expected_tool", None),
                ("tool_call_as_text", Some(1)),
                ("tool_errors", Some(2)),
                ("truncated", Some(1)),
            ]
        );
        assert!(
            findings[2]
                .excerpt
                .as_deref()
                .is_some_and(|e| e.starts_with("{\"name\""))
        );
    }

    /// A question answered without tools: a warning when tools were only available, an
    /// error naming the flag when they were expected; compaction, warm-up and sub-agents
    /// are not judged on tool calls at all.
    #[test]
    fn tools_available_are_not_tools_expected() {
        let answered = |kind: &str| {
            let mut facts = SessionFacts::new("s".into(), "claude_code");
            facts.tools_available = true;
            facts.row.agent_kind = kind.to_string();
            for (role, text) in [(Role::User, "what is 2 + 2?"), (Role::Assistant, "4")] {
                facts.message(&Message {
                    role: Some(role),
                    text,
                    ..Message::default()
                });
            }
            facts
        };
        let only_available = answered(MAIN_AGENT).findings(&ValidationOptions::default());
        assert_eq!(only_available.len(), 1);
        assert_eq!(
            (only_available[0].code, only_available[0].severity),
            ("no_tool_calls", Severity::Warning)
        );
        let flagged = ValidationOptions {
            expect_tool_calls: true,
            ..ValidationOptions::default()
        };
        let expected = answered(MAIN_AGENT).findings(&flagged);
        assert_eq!(
            (expected[0].code, expected[0].severity),
            ("zero_tool_calls", Severity::Error)
        );
        assert!(expected[0].detail.contains("--expect-tool-calls"));
        let mut declared = answered(MAIN_AGENT);
        declared.tools_expected = Some("the workflow declares its tools: grep".into());
        let found = declared.findings(&ValidationOptions::default());
        assert_eq!(found[0].code, "zero_tool_calls");
        assert!(found[0].detail.contains("declares its tools: grep"));
        // A label the user names: only sessions carrying it are expected to call tools.
        let labelled = ValidationOptions {
            expect_tool_calls_where: vec![("workflow".into(), "coding".into())],
            ..ValidationOptions::default()
        };
        assert_eq!(
            answered(MAIN_AGENT).findings(&labelled)[0].code,
            "no_tool_calls"
        );
        let mut coding = answered(MAIN_AGENT);
        coding
            .row
            .labels
            .0
            .insert("workflow".into(), "coding".into());
        let found = coding.findings(&labelled);
        assert_eq!(found[0].code, "zero_tool_calls");
        assert!(
            found[0]
                .detail
                .contains("--expect-tool-calls-where workflow=coding")
        );
        for kind in [COMPACTION_AGENT, WARMUP_AGENT, SUB_AGENT] {
            let strict = ValidationOptions {
                min_tool_calls: Some(2),
                expected_tools: vec!["Edit".into()],
                expect_tool_calls: true,
                ..ValidationOptions::default()
            };
            assert!(answered(kind).findings(&strict).is_empty(), "{kind}");
        }
    }

    #[test]
    fn a_working_session_is_ok() {
        let mut facts = SessionFacts::new("s".into(), "x");
        facts.tools_available = true;
        facts.message(&Message {
            role: Some(Role::User),
            text: "go",
            ..Message::default()
        });
        facts.message(&Message {
            role: Some(Role::Assistant),
            text: "",
            tool_calls: vec!["Read"],
            ..Message::default()
        });
        assert!(facts.findings(&ValidationOptions::default()).is_empty());
        assert_eq!(
            facts
                .into_row(&ValidationOptions::default())
                .0
                .validation_status
                .as_deref(),
            Some("ok")
        );
    }

    #[test]
    fn an_excerpt_flattens_and_redacts_only_the_start_of_a_long_text() {
        let long = format!(
            "token=sk-ant-abcdefghijklmnop {}",
            "word\n\t ".repeat(10_000)
        );
        let shown = excerpt(&long);
        assert!(shown.starts_with("token=[REDACTED] word word"), "{shown}");
        assert_eq!(
            shown.chars().count(),
            EXCERPT_CHARS + 1,
            "cut, with an ellipsis"
        );
        // A word longer than the limit is cut at a character boundary.
        let wide = "é".repeat(5_000);
        let start = flattened_start(&format!("a {wide}"), 11);
        assert_eq!(start, format!("a {}", "é".repeat(4)));
        assert_eq!(flattened_start("  one \n two  ", 100), "one two");
    }
}
