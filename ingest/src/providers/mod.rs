//! The LLM providers' APIs, one module per provider, shared by both readers of their
//! traffic: the transcript parsers of saved exchanges ([`crate::formats`]: `openai_api`,
//! `anthropic_api`, `gemini_api`) and the live observer of the proxy and the probe
//! ([`crate::wire`]). A provider module holds its event reader (one streamed event or one
//! whole body into a `Reply`) and its reader of saved requests and responses
//! (`saved::SavedApi`); a saved reply is read by the same event reader as a captured one,
//! so the two agree on model, usage, finish reason and errors by construction.
//!
//! The parts: [`catalogue`] (the providers, and which API a request path speaks), `reply`
//! (what a reply said), `saved` (the shapes of saved exchanges), and the provider modules
//! `openai`, `anthropic`, `gemini`, `ollama`. Here: the facts every provider shares
//! (error objects, tool-call argument sizes).

pub(crate) mod anthropic;
pub mod catalogue;
pub(crate) mod gemini;
pub(crate) mod ollama;
pub(crate) mod openai;
mod reply;
pub(crate) mod saved;

pub use catalogue::{Api, Provider, RequestInfo};
pub(crate) use reply::{Reply, error_of, non_empty};

use serde_json::Value;

/// The message of a provider error object, in any of its shapes: `{"message", "type" |
/// "status" | "code"}` (OpenAI, Anthropic, Gemini; a numeric code included) as
/// `kind: message`, or a plain string (Ollama's `{"error": "text"}`). None for anything else.
pub fn error_message(error: &Value) -> Option<String> {
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

/// Size in bytes of a tool call's arguments: a JSON string as sent (OpenAI), an object as
/// serialised (Anthropic, Gemini); 0 for none.
pub fn argument_bytes(arguments: &Value) -> i64 {
    match arguments {
        Value::Null => 0,
        Value::String(s) => s.len() as i64,
        other => other.to_string().len() as i64,
    }
}

impl Api {
    /// Reads one event of a reply of this API (its SSE event `name` when it had one), or a
    /// whole body, into `reply`; returns whether it carried content (text, reasoning or
    /// tool-call data), which is what the latency figures are measured at.
    pub(crate) fn apply(self, reply: &mut Reply, name: Option<&str>, value: &Value) -> bool {
        match self {
            Api::OpenAiChat | Api::OpenAiCompletions | Api::OpenAiEmbeddings => {
                openai::apply_chat(reply, value)
            }
            Api::OpenAiResponses => openai::apply_responses(reply, value),
            Api::AnthropicMessages => anthropic::apply(reply, name, value),
            Api::OllamaChat | Api::OllamaGenerate | Api::OllamaEmbed => ollama::apply(reply, value),
            Api::GeminiGenerate => gemini::apply(reply, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_error_shape() {
        let openai = json!({"message": "Rate limit", "type": "rate_limit_error"});
        assert_eq!(
            error_message(&openai).as_deref(),
            Some("rate_limit_error: Rate limit")
        );
        let gemini = json!({"code": 429, "message": "Quota"});
        assert_eq!(error_message(&gemini).as_deref(), Some("429: Quota"));
        assert_eq!(
            error_message(&json!("model not found")).as_deref(),
            Some("model not found")
        );
        assert_eq!(error_message(&json!({"detail": 1})), None);
    }

    #[test]
    fn arguments_as_sent() {
        assert_eq!(argument_bytes(&json!("{\"a\":1}")), 7);
        assert_eq!(argument_bytes(&json!({"a": 1})), 7);
        assert_eq!(argument_bytes(&Value::Null), 0);
    }
}
