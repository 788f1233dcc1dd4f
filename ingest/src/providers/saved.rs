//! What a saved exchange (a request, a response, or both, as people keep them on disk) says,
//! read by each provider module's [`SavedApi`]. The framing of the files (pairs, batch
//! output, JSONL) is the `formats::exchange` parser's; a saved response is read by the same
//! event reader as a captured one ([`Api::apply`]), plus its messages for the session.

use serde_json::Value;

use super::{Api, Provider, Reply};
use crate::formats::chat::{DecodedMessage, block_text, value_ts};
use crate::schema::Timestamp;
use crate::usage::TokenUsage;

/// What a provider module reads out of one exchange.
#[derive(Debug, Default)]
pub(crate) struct Exchange<'a> {
    /// API endpoint path, when the shape tells it.
    pub endpoint: Option<&'static str>,
    /// Model named in the request.
    pub request_model: Option<String>,
    /// Whether the request offered tools.
    pub tools_available: bool,
    /// A system prompt given outside the messages (`system`, `instructions`, ...).
    pub system_prompt: Option<String>,
    /// The request's messages, in any shape `formats::chat::decode_message` reads.
    pub history: Vec<&'a Value>,
    /// The response, if the exchange has one.
    pub response: Option<SavedResponse>,
}

/// A saved response: what the provider's event reader makes of it, and its messages.
#[derive(Debug, Default)]
pub(crate) struct SavedResponse {
    /// The provider's response id.
    pub id: Option<String>,
    /// When the response was created.
    pub ts: Option<Timestamp>,
    /// Whether the reply was streamed (saved as chunks).
    pub streamed: Option<bool>,
    /// Model, usage, finish reason and error, as a captured reply would have them.
    pub reply: Reply,
    /// An `error` member the event reader found no message in, as JSON text.
    pub unreadable_error: Option<String>,
    /// The reply messages (usually one).
    pub messages: Vec<DecodedMessage>,
}

impl SavedResponse {
    /// Reads the fields every provider's response has: `api`'s event reader on the whole
    /// body, the id under `id_key`, the creation time; not streamed.
    pub fn read(api: Api, response: &Value, id_key: &str) -> SavedResponse {
        let mut saved = SavedResponse {
            id: response
                .get(id_key)
                .and_then(Value::as_str)
                .map(str::to_string),
            ts: created_ts(response),
            streamed: Some(false),
            ..SavedResponse::default()
        };
        saved.add_chunk(api, response);
        saved
    }

    /// Adds one streamed chunk (or the whole body) read by `api`'s event reader.
    pub fn add_chunk(&mut self, api: Api, chunk: &Value) {
        api.apply(&mut self.reply, None, chunk);
        if self.reply.error.is_none()
            && let Some(error) = chunk.get("error").filter(|e| !e.is_null())
        {
            self.unreadable_error = Some(error.to_string());
        }
    }

    /// The error the provider answered with, if any.
    pub fn error(&self) -> Option<&str> {
        self.reply
            .error
            .as_deref()
            .or(self.unreadable_error.as_deref())
    }

    /// The usage, or why it could not be read; None when the response had none.
    pub fn usage(&self) -> Option<Result<TokenUsage, String>> {
        match (&self.reply.usage_error, self.reply.usage) {
            (Some(e), _) => Some(Err(e.clone())),
            (None, Some(u)) => Some(Ok(u)),
            (None, None) => None,
        }
    }
}

/// One provider's saved request and response shapes.
pub(crate) trait SavedApi: Sync {
    /// The provider.
    fn provider(&self) -> Provider;
    /// Whether a bare document is a response (else it is a request).
    fn is_response(&self, doc: &Value) -> bool;
    /// Reads a request into `exchange`.
    fn read_request<'a>(&self, request: &'a Value, exchange: &mut Exchange<'a>);
    /// Reads a response.
    fn read_response(&self, response: &Value) -> SavedResponse;
    /// Reads a top-level array (messages, or streamed chunks).
    fn read_array<'a>(&self, items: &'a [Value], exchange: &mut Exchange<'a>) {
        exchange.history = items.iter().collect();
    }
}

/// The text of a system prompt given as a string, text blocks or Gemini parts.
pub(crate) fn system_text(value: &Value) -> Option<String> {
    match value {
        Value::Object(_) => value.get("parts").and_then(system_text),
        _ => block_text(value),
    }
}

/// Whether a request's `tools` (or legacy `functions`) list is non-empty.
pub(crate) fn offers_tools(request: &Value) -> bool {
    ["tools", "functions"].iter().any(|k| {
        request
            .get(*k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    })
}

/// The model a request names (`model`), without Gemini's `models/` prefix.
pub(crate) fn request_model(request: &Value) -> Option<String> {
    request
        .get("model")
        .and_then(Value::as_str)
        .map(|m| m.trim_start_matches("models/").to_string())
}

/// A response's creation time (`created` / `created_at` Unix seconds or ISO text).
fn created_ts(response: &Value) -> Option<Timestamp> {
    ["created_at", "created", "createTime"]
        .iter()
        .find_map(|k| response.get(*k))
        .and_then(value_ts)
}
