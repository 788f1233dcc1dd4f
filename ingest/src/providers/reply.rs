//! What a reply said, filled in event by event (or from one whole body) by the provider
//! modules.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::usage::TokenUsage;

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

/// The message of an error reply or event: its `error` member (or the value itself) read by
/// [`super::error_message`].
pub(crate) fn error_of(value: &Value) -> Option<String> {
    super::error_message(value.get("error").unwrap_or(value))
}
