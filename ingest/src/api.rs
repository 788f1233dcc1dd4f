//! Facts of the LLM providers' APIs that both readers of their traffic need: the transcript
//! parsers (saved exchanges, [`crate::formats`]) and the live observer of the proxy and the
//! probe ([`crate::wire`]). One definition each, so a saved reply and a captured one are read
//! the same way.

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
