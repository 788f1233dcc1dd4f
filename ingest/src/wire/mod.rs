//! The LLM providers' HTTP wire formats, observed from outside: what the recording proxy
//! and `runlens probe` see of one call (a request body, a status, response bytes arriving
//! over time) turned into an `llm_calls` row and the `tool_calls` rows of the tool calls the
//! model made.
//!
//! [`CallObserver`] is fed as the bytes arrive and never blocks or buffers what it forwards:
//! the caller passes each chunk on to its client first. It frames the body
//! ([`framing`]: SSE, a stream of JSON objects, or one JSON body), hands each event to the
//! parser of the API the request spoke (one module per provider), and keeps the latency
//! figures of `docs/schema.md`: `ttft_ms` at the first *content-bearing* event (text,
//! reasoning or tool-call data — not headers, not a role-only delta, not a ping),
//! `chunk_gaps_ms` between content-bearing events, `total_ms` at the last byte. Token counts
//! are those the provider reported, converted by [`crate::usage::TokenUsage`] into the
//! dataset's buckets; none reported means null with `usage_source = missing`, never 0.
//!
//! Nothing here does I/O or knows about HTTP libraries: the binary's proxy and probe drive it.

pub mod framing;

mod anthropic;
mod gemini;
mod ollama;
mod openai;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::redact::Redactor;
use crate::schema::{Labels, LlmCallRow, Timestamp, ToolCallRow};
use crate::usage::TokenUsage;
use framing::{ObjectSplitter, SseDecoder};

/// The providers runlens speaks to, each with its own base-URL variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// OpenAI and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio, ...).
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// Ollama's native API (its OpenAI-compatible `/v1` endpoints are read as OpenAI's).
    Ollama,
    /// Google's Gemini API (`generateContent`, `streamGenerateContent`).
    Gemini,
}

impl Provider {
    /// Every provider, in documentation order.
    pub const ALL: [Provider; 4] = [
        Provider::OpenAi,
        Provider::Anthropic,
        Provider::Ollama,
        Provider::Gemini,
    ];

    /// The name in the dataset's `provider` column and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
            Provider::Gemini => "gemini",
        }
    }

    /// The provider called `name` (case-insensitive).
    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The official endpoint, in the form of the provider's base-URL variable.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Ollama => "http://127.0.0.1:11434",
            Provider::Gemini => "https://generativelanguage.googleapis.com",
        }
    }

    /// The environment variables clients read the provider's base URL from.
    pub fn base_url_variables(self) -> &'static [&'static str] {
        match self {
            Provider::OpenAi => &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
            Provider::Anthropic => &["ANTHROPIC_BASE_URL"],
            Provider::Ollama => &["OLLAMA_HOST"],
            Provider::Gemini => &["GOOGLE_GEMINI_BASE_URL", "GEMINI_BASE_URL"],
        }
    }

    /// The variables holding the provider's API key (read by the probe, never stored).
    pub fn api_key_variables(self) -> &'static [&'static str] {
        match self {
            Provider::OpenAi => &["OPENAI_API_KEY"],
            Provider::Anthropic => &["ANTHROPIC_API_KEY"],
            Provider::Ollama => &[],
            Provider::Gemini => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        }
    }
}

/// The API a request speaks, from its path: decides how its body and reply are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `.../chat/completions` (OpenAI and every compatible server).
    OpenAiChat,
    /// `.../completions` (legacy text completions).
    OpenAiCompletions,
    /// `.../responses` (OpenAI Responses API).
    OpenAiResponses,
    /// `.../embeddings`.
    OpenAiEmbeddings,
    /// `.../v1/messages` (Anthropic Messages).
    AnthropicMessages,
    /// `/api/chat` (Ollama).
    OllamaChat,
    /// `/api/generate` (Ollama).
    OllamaGenerate,
    /// `/api/embed`, `/api/embeddings` (Ollama).
    OllamaEmbed,
    /// `...:generateContent`, `...:streamGenerateContent` (Gemini).
    GeminiGenerate,
}

impl Api {
    /// The API of a request path (query removed), if it is an LLM call runlens records.
    pub fn of_path(path: &str) -> Option<Api> {
        let path = path.trim_end_matches('/');
        if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
            return Some(Api::GeminiGenerate);
        }
        let ends = |suffix: &str| path.ends_with(suffix);
        Some(if ends("/chat/completions") {
            Api::OpenAiChat
        } else if ends("/completions") {
            Api::OpenAiCompletions
        } else if ends("/responses") {
            Api::OpenAiResponses
        } else if ends("/embeddings") && !path.starts_with("/api/") {
            Api::OpenAiEmbeddings
        } else if ends("/messages") {
            Api::AnthropicMessages
        } else if path == "/api/chat" {
            Api::OllamaChat
        } else if path == "/api/generate" {
            Api::OllamaGenerate
        } else if path == "/api/embed" || path == "/api/embeddings" {
            Api::OllamaEmbed
        } else {
            return None;
        })
    }

    /// Whether the reply ends with an explicit terminator (`[DONE]`, `message_stop`,
    /// `done: true`, `response.completed`) whose absence means the stream was cut.
    fn has_terminator(self) -> bool {
        matches!(
            self,
            Api::OpenAiChat
                | Api::OpenAiCompletions
                | Api::OpenAiResponses
                | Api::AnthropicMessages
                | Api::OllamaChat
                | Api::OllamaGenerate
        )
    }
}

/// What the request asked for, read from its path and body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestInfo {
    /// The model named in the request (Gemini: in the path).
    pub model: Option<String>,
    /// Whether the request asked for a streamed reply.
    pub stream: bool,
    /// Whether the body was not valid JSON (the upstream will say why).
    pub malformed: bool,
    /// Tools offered to the model.
    pub tools_offered: usize,
}

impl RequestInfo {
    /// Reads a request of `api` at `path` with `body`.
    pub fn read(api: Api, path: &str, body: &[u8]) -> RequestInfo {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let json = parsed.as_ref();
        let model = match api {
            Api::GeminiGenerate => gemini_model_of_path(path),
            _ => json
                .and_then(|v| v.get("model"))
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let stream_flag = json.and_then(|v| v.get("stream")).and_then(Value::as_bool);
        let stream = match api {
            Api::GeminiGenerate => path.contains(":streamGenerateContent"),
            // Ollama streams unless told not to.
            Api::OllamaChat | Api::OllamaGenerate => stream_flag.unwrap_or(true),
            _ => stream_flag.unwrap_or(false),
        };
        let tools_offered = json
            .and_then(|v| v.get("tools"))
            .and_then(Value::as_array)
            .map(|tools| match api {
                // Gemini groups functionDeclarations inside tool objects.
                Api::GeminiGenerate => tools
                    .iter()
                    .map(|t| {
                        t.get("functionDeclarations")
                            .and_then(Value::as_array)
                            .map_or(1, Vec::len)
                    })
                    .sum(),
                _ => tools.len(),
            })
            .unwrap_or(0);
        RequestInfo {
            model,
            stream,
            malformed: json.is_none() && !body.is_empty(),
            tools_offered,
        }
    }
}

/// `models/gemini-2.5-flash:generateContent` → `gemini-2.5-flash`.
fn gemini_model_of_path(path: &str) -> Option<String> {
    let rest = &path[path.find("models/")? + "models/".len()..];
    let end = rest.find(':').unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

/// A tool call the model made, accumulated from one or many events.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ToolCallSeen {
    /// Where the provider's deltas address it (choice and index, block index, ...).
    pub key: String,
    pub id: Option<String>,
    pub name: String,
    pub arguments_bytes: i64,
}

/// What the reply said so far: filled in by the provider modules.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    pub response_model: Option<String>,
    pub usage: Option<TokenUsage>,
    /// A usage field that was present but unreadable.
    pub usage_error: Option<String>,
    pub finish_reason: Option<String>,
    pub tool_calls: Vec<ToolCallSeen>,
    /// An error the reply itself carried (an error object, an error event).
    pub error: Option<String>,
    /// The stream's explicit end was seen.
    pub terminated: bool,
    /// Provider figures without a column of their own (Ollama's durations).
    pub extra: BTreeMap<String, String>,
    /// The answer's text, when kept ([`CallObserver::keep_text`]).
    pub text: Option<String>,
}

/// Most answer text kept per call.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Whether a JSON value is a non-empty string.
pub(crate) fn non_empty(value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|text| !text.is_empty())
}

impl Reply {
    /// Answer text (not reasoning): whether there was some; kept when asked.
    pub fn add_text(&mut self, value: Option<&Value>) -> bool {
        let Some(text) = value.and_then(Value::as_str).filter(|t| !t.is_empty()) else {
            return false;
        };
        if let Some(kept) = &mut self.text
            && kept.len() < MAX_TEXT_BYTES
        {
            let room = MAX_TEXT_BYTES - kept.len();
            let mut end = text.len().min(room);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            kept.push_str(&text[..end]);
        }
        true
    }

    /// The tool call addressed by `key`, created on first sight.
    pub fn tool(&mut self, key: &str) -> &mut ToolCallSeen {
        match self.tool_calls.iter().position(|t| t.key == key) {
            Some(i) => &mut self.tool_calls[i],
            None => {
                self.tool_calls.push(ToolCallSeen {
                    key: key.to_string(),
                    ..ToolCallSeen::default()
                });
                let last = self.tool_calls.len() - 1;
                &mut self.tool_calls[last]
            }
        }
    }

    /// Records a usage object converted by `convert`; a later report replaces the fields it
    /// gives (Anthropic's `message_delta` usage is cumulative, Gemini's too).
    pub fn take_usage(&mut self, usage: &Value, convert: fn(&Value) -> Result<TokenUsage, String>) {
        if !usage.is_object() {
            return;
        }
        match convert(usage) {
            Ok(new) => {
                let old = self.usage.unwrap_or_default();
                self.usage = Some(TokenUsage {
                    input: new.input.or(old.input),
                    output: new.output.or(old.output),
                    cache_read: new.cache_read.or(old.cache_read),
                    cache_creation: new.cache_creation.or(old.cache_creation),
                    cache_creation_5m: new.cache_creation_5m.or(old.cache_creation_5m),
                    cache_creation_1h: new.cache_creation_1h.or(old.cache_creation_1h),
                    reasoning: new.reasoning.or(old.reasoning),
                });
            }
            Err(e) => self.usage_error = Some(e),
        }
    }

    /// Takes a model name if the event names one.
    pub fn take_model(&mut self, model: Option<&Value>) {
        if let Some(m) = model.and_then(Value::as_str).filter(|m| !m.is_empty()) {
            self.response_model = Some(m.to_string());
        }
    }

    /// Records the first error message the reply carried.
    pub fn take_error(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }
}

/// The message of a provider error object in any of its shapes: `{"error": {"message"}}`
/// (OpenAI, Anthropic, Gemini), `{"error": "text"}` (Ollama), `{"message"}`.
pub(crate) fn error_message(value: &Value) -> Option<String> {
    let error = value.get("error").unwrap_or(value);
    if let Some(text) = error.as_str() {
        return Some(text.to_string());
    }
    let message = error.get("message").and_then(Value::as_str)?;
    let kind = error
        .get("type")
        .or_else(|| error.get("status"))
        .or_else(|| error.get("code"))
        .and_then(|k| match k {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    Some(match kind {
        Some(kind) => format!("{kind}: {message}"),
        None => message.to_string(),
    })
}

/// How the reply's body is being framed.
#[derive(Debug)]
enum Framing {
    /// Not decided yet (no response head seen).
    Pending,
    Sse(SseDecoder),
    Objects(ObjectSplitter),
    /// A whole JSON body, parsed at the end (kept up to [`MAX_BODY_BYTES`]).
    Body(Vec<u8>),
}

/// Largest non-streamed body kept for reading its usage; beyond it the bytes still pass
/// through but the call's figures are missing (and the row says why).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How a call failed outside the reply's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// `connect`, `timeout`, `stream_cut`, `upstream_io`, `client_gone`, ...
    pub kind: String,
    /// A short description.
    pub message: String,
}

/// Watches one call from its request to the last byte of its reply.
#[derive(Debug)]
pub struct CallObserver {
    provider: Provider,
    api: Api,
    endpoint: String,
    request: RequestInfo,
    status: Option<u16>,
    streamed: bool,
    framing: Framing,
    body_overflow: bool,
    first_content_ms: Option<f64>,
    last_content_ms: Option<f64>,
    gaps_ms: Vec<f64>,
    bad_events: usize,
    reply: Reply,
}

impl CallObserver {
    /// Starts watching a request to `path` (the query, which can hold an API key, is
    /// dropped) with `body`; None when the path is not an LLM call runlens records.
    pub fn new(provider: Provider, path: &str, body: &[u8]) -> Option<CallObserver> {
        let endpoint = path.split('?').next().unwrap_or(path);
        Some(CallObserver::with_api(
            provider,
            Api::of_path(endpoint)?,
            path,
            body,
        ))
    }

    /// Starts watching a request whose API the caller knows (the probe builds it).
    pub fn with_api(provider: Provider, api: Api, path: &str, body: &[u8]) -> CallObserver {
        let endpoint = path.split('?').next().unwrap_or(path).to_string();
        let request = RequestInfo::read(api, &endpoint, body);
        CallObserver {
            provider,
            api,
            endpoint,
            request,
            status: None,
            streamed: false,
            framing: Framing::Pending,
            body_overflow: false,
            first_content_ms: None,
            last_content_ms: None,
            gaps_ms: Vec::new(),
            bad_events: 0,
            reply: Reply::default(),
        }
    }

    /// What the request asked for.
    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// Keep the answer's text (up to 64 KiB) for [`CallObserver::text`]: the probe's tool
    /// check reads it; the proxy does not keep what the model said.
    pub fn keep_text(&mut self) {
        self.reply.text.get_or_insert_with(String::new);
    }

    /// The answer's text so far, if kept.
    pub fn text(&self) -> Option<&str> {
        self.reply.text.as_deref()
    }

    /// The response head arrived: its status and content type decide the framing.
    pub fn on_response(&mut self, status: u16, content_type: Option<&str>) {
        self.status = Some(status);
        let content_type = content_type.unwrap_or("").to_ascii_lowercase();
        let ok = (200..300).contains(&status);
        self.framing = if content_type.starts_with("text/event-stream") {
            self.streamed = true;
            Framing::Sse(SseDecoder::default())
        } else if content_type.contains("ndjson") || (ok && self.request.stream) {
            self.streamed = true;
            Framing::Objects(ObjectSplitter::default())
        } else {
            Framing::Body(Vec::new())
        };
    }

    /// Bytes of the reply arrived `at_ms` after the request was sent.
    pub fn on_bytes(&mut self, bytes: &[u8], at_ms: f64) {
        if matches!(self.framing, Framing::Pending) {
            self.on_response(200, None);
        }
        match &mut self.framing {
            Framing::Sse(decoder) => {
                for event in decoder.feed(bytes) {
                    self.on_sse(event.name.as_deref(), &event.data, at_ms);
                }
            }
            Framing::Objects(splitter) => {
                for object in splitter.feed(bytes) {
                    self.on_object(&object, at_ms);
                }
            }
            Framing::Body(body) => {
                if body.is_empty() && !bytes.is_empty() {
                    // A whole reply: its content arrives with its first byte.
                    self.first_content_ms.get_or_insert(at_ms);
                }
                if body.len() + bytes.len() <= MAX_BODY_BYTES {
                    body.extend_from_slice(bytes);
                } else {
                    self.body_overflow = true;
                }
            }
            Framing::Pending => {}
        }
    }

    fn on_sse(&mut self, name: Option<&str>, data: &str, at_ms: f64) {
        let data = data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            self.reply.terminated = true;
            return;
        }
        match serde_json::from_str::<Value>(data) {
            Ok(value) => self.on_event(name, &value, at_ms),
            Err(_) => self.bad_events += 1,
        }
    }

    fn on_object(&mut self, bytes: &[u8], at_ms: f64) {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => self.on_event(None, &value, at_ms),
            Err(_) => self.bad_events += 1,
        }
    }

    fn on_event(&mut self, name: Option<&str>, value: &Value, at_ms: f64) {
        let content = match self.api {
            Api::OpenAiChat | Api::OpenAiCompletions | Api::OpenAiEmbeddings => {
                openai::apply_chat(&mut self.reply, value)
            }
            Api::OpenAiResponses => openai::apply_responses(&mut self.reply, value),
            Api::AnthropicMessages => anthropic::apply(&mut self.reply, name, value),
            Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => {
                ollama::apply(&mut self.reply, value)
            }
            Api::GeminiGenerate => gemini::apply(&mut self.reply, value),
        };
        if content && self.streamed {
            if let Some(last) = self.last_content_ms {
                self.gaps_ms.push(at_ms - last);
            }
            self.first_content_ms.get_or_insert(at_ms);
            self.last_content_ms = Some(at_ms);
        }
    }

    /// The reply ended (`failure` says how, if not normally) `total_ms` after the request
    /// was sent; returns the call's row (with `call_id`, `start_ts` and `source` set) and
    /// the rows of the tool calls the model made. Error texts pass through `redactor`.
    pub fn finish(
        mut self,
        call: CallIdentity,
        total_ms: f64,
        failure: Option<Failure>,
        redactor: &Redactor,
    ) -> (LlmCallRow, Vec<ToolCallRow>) {
        let mut cut_inside_event = false;
        match std::mem::replace(&mut self.framing, Framing::Pending) {
            Framing::Sse(mut decoder) => {
                if let Some(event) = decoder.finish() {
                    self.on_sse(event.name.as_deref(), &event.data, total_ms);
                }
            }
            Framing::Objects(splitter) => {
                cut_inside_event = splitter.is_mid_object();
                if splitter.stray_bytes() > 0 {
                    self.bad_events += 1;
                }
            }
            Framing::Body(body) => self.on_body(&body, total_ms),
            Framing::Pending => {}
        }
        let status = self.status;
        let http_error = status.is_some_and(|s| s >= 400);
        let (error_kind, error) = if let Some(f) = failure {
            (Some(f.kind), Some(f.message))
        } else if http_error {
            let code = status.unwrap_or(0);
            let message = self
                .reply
                .error
                .clone()
                .unwrap_or_else(|| format!("HTTP {code}"));
            (
                Some("http".to_string()),
                Some(format!("HTTP {code}: {message}")),
            )
        } else if let Some(message) = self.reply.error.clone() {
            (Some("provider_error".to_string()), Some(message))
        } else if self.streamed
            && self.api.has_terminator()
            && (!self.reply.terminated || cut_inside_event)
        {
            (
                Some("stream_cut".to_string()),
                Some("the stream ended before its final event".to_string()),
            )
        } else if self.body_overflow {
            (
                Some("body_too_large".to_string()),
                Some(format!(
                    "reply larger than {} MiB: passed through, not read",
                    MAX_BODY_BYTES >> 20
                )),
            )
        } else if self.bad_events > 0 {
            (
                Some("bad_response".to_string()),
                Some(format!(
                    "{} part(s) of the reply were not the provider's JSON",
                    self.bad_events
                )),
            )
        } else {
            (None, None)
        };
        let usage = self.reply.usage.unwrap_or_default();
        let ttft_ms = self.first_content_ms;
        let output = usage.output;
        let tpot_ms = match (self.streamed, ttft_ms, output) {
            (true, Some(ttft), Some(out)) if out > 1 => Some((total_ms - ttft) / (out - 1) as f64),
            _ => None,
        };
        let output_tokens_per_s = match (tpot_ms, output) {
            (Some(tpot), _) if tpot > 0.0 => Some(1000.0 / tpot),
            (None, Some(out)) if !self.streamed && out > 0 && total_ms > 0.0 => {
                Some(out as f64 * 1000.0 / total_ms)
            }
            _ => None,
        };
        let answered = status.is_some_and(|s| (200..300).contains(&s)) && error_kind.is_none();
        let mut labels = Labels::default();
        for (k, v) in &self.reply.extra {
            labels.0.insert(k.clone(), v.clone());
        }
        if let Some(e) = &self.reply.usage_error {
            labels.0.insert("usage_error".into(), redactor.redact(e));
        }
        let mut row = LlmCallRow {
            call_id: call.call_id.clone(),
            run_id: call.run_id.clone(),
            phase: call.phase.clone(),
            source: call.source.to_string(),
            provider: Some(self.provider.name().to_string()),
            endpoint: Some(self.endpoint.clone()),
            request_model: self.request.model.clone(),
            response_model: self.reply.response_model.clone(),
            streamed: Some(self.streamed),
            start_ts: Some(call.start_ts),
            ttft_ms,
            total_ms: Some(total_ms),
            tpot_ms,
            output_tokens_per_s,
            chunk_gaps_ms: (self.streamed && !self.gaps_ms.is_empty()).then_some(self.gaps_ms),
            usage_source: Some(
                if usage.is_empty() {
                    "missing"
                } else {
                    "reported"
                }
                .into(),
            ),
            finish_reason: self.reply.finish_reason.clone(),
            tool_call_count: answered.then_some(self.reply.tool_calls.len() as i64),
            http_status: status.map(i32::from),
            error_kind,
            error: error.map(|e| shorten(&redactor.redact(&e))),
            labels,
            ..LlmCallRow::default()
        };
        usage.apply(&mut row);
        let tools = self
            .reply
            .tool_calls
            .iter()
            .enumerate()
            .map(|(n, t)| ToolCallRow {
                tool_call_id: t
                    .id
                    .clone()
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| format!("{}-tool{n}", call.call_id)),
                call_id: Some(call.call_id.clone()),
                run_id: call.run_id.clone(),
                ts: Some(call.start_ts),
                tool_name: t.name.clone(),
                arguments_bytes: Some(t.arguments_bytes),
                ..ToolCallRow::default()
            })
            .collect();
        (row, tools)
    }

    fn on_body(&mut self, body: &[u8], at_ms: f64) {
        if body.is_empty() || self.body_overflow {
            return;
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => {
                let is_error = self.status.is_some_and(|s| s >= 400);
                if is_error {
                    if let Some(message) = error_message(&value) {
                        self.reply.take_error(message);
                    }
                } else {
                    self.on_event(None, &value, at_ms);
                }
                self.reply.terminated = true;
            }
            Err(_) => {
                if self.status.is_some_and(|s| s >= 400) {
                    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
                    self.reply.take_error(text.trim().to_string());
                } else {
                    self.bad_events += 1;
                }
            }
        }
    }
}

/// Who a finished call is: its id, when it was sent, what observed it and (for the
/// recorder) the run and phase it belongs to.
#[derive(Debug, Clone)]
pub struct CallIdentity {
    /// Stable id of the call.
    pub call_id: String,
    /// When the request was sent (UTC).
    pub start_ts: Timestamp,
    /// `proxy` or `probe`.
    pub source: &'static str,
    /// The run, if known now (the recorder assigns it later otherwise).
    pub run_id: Option<String>,
    /// The phase, if known now.
    pub phase: Option<String>,
}

/// At most 300 characters of an error text, on a character boundary.
fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
