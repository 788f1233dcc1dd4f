//! Saved Anthropic Messages API exchanges (`/v1/messages`), framed as in
//! [`super::exchange`]: request `system` (text or blocks), `messages` with content blocks
//! `text`, `tool_use`, `tool_result` (`is_error`), `tools`; response `{type: message}`
//! with `content` blocks, `stop_reason` and `usage` (`input_tokens`, `output_tokens`,
//! `cache_read_input_tokens`, `cache_creation_input_tokens`, and the 5-minute / 1-hour
//! split under `cache_creation`); error responses `{type: error, error: {type, message}}`.
//!
//! Anthropic's `input_tokens` excludes cached tokens: the buckets map one to one.

use std::io::BufRead;

use super::exchange::parse_exchanges;
use super::json_input::has_string_field;
use super::{Format, ParseContext, ParseError, RowSink, Sniff};
use crate::providers;

/// The `anthropic_api` format.
pub struct AnthropicApi;

impl Format for AnthropicApi {
    fn name(&self) -> &'static str {
        "anthropic_api"
    }

    fn description(&self) -> &'static str {
        "Anthropic Messages API exchanges (pairs, requests, responses, JSONL)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let head = sniff.head;
        (has_string_field(head, "type", "message") && head.contains("\"content\""))
            || head.contains("\"cache_creation_input_tokens\"")
            || head.contains("\"input_schema\"")
            || (head.contains("\"messages\"")
                && (has_string_field(head, "type", "tool_use")
                    || has_string_field(head, "type", "tool_result")
                    || head.contains("\"stop_reason\"")))
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        parse_exchanges(
            &providers::anthropic::Saved,
            "anthropic_api",
            input,
            ctx,
            sink,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test};

    #[test]
    fn a_pair_with_tool_use_results_and_cache_usage() {
        let doc = r#"{"request": {"model": "claude-sonnet-4-5", "max_tokens": 1024,
            "system": [{"type": "text", "text": "You are a coding agent."}],
            "tools": [{"name": "read_file", "input_schema": {"type": "object"}}],
            "messages": [
              {"role": "user", "content": "Fix the bug"},
              {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.rs"}}]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true, "content": "not found"}]}]},
          "response": {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "Trying another path."},
                        {"type": "tool_use", "id": "toolu_2", "name": "read_file", "input": {"path": "src/a.rs"}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 30, "output_tokens": 64, "cache_read_input_tokens": 1800,
                      "cache_creation_input_tokens": 200,
                      "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 0}}}}"#;
        let (result, rows, issues) = parse_for_test(
            &AnthropicApi,
            doc.as_bytes(),
            "pair.json",
            &ParseOptions::default(),
        );
        assert!(result.is_ok() && issues.is_empty(), "{result:?} {issues:?}");
        let s = &rows.sessions[0];
        // system + 3 history messages + the reply
        assert_eq!(
            (
                s.message_count,
                s.system_messages,
                s.tool_calls,
                s.tool_errors
            ),
            (5, 1, 2, 1)
        );
        assert_eq!(s.findings.as_deref(), Some("tool_errors"));
        assert_eq!(s.session_id, "pair");
        let c = &rows.llm_calls[0];
        assert_eq!(
            (
                c.input_tokens,
                c.output_tokens,
                c.cache_read_input_tokens,
                c.cache_creation_input_tokens
            ),
            (Some(30), Some(64), Some(1800), Some(200))
        );
        assert_eq!(c.cache_creation_5m_input_tokens, Some(200));
        assert_eq!(c.tool_call_count, Some(1));
        assert_eq!(
            rows.tool_calls
                .iter()
                .map(|t| t.tool_call_id.as_str())
                .collect::<Vec<_>>(),
            ["toolu_1", "toolu_2"]
        );
    }

    #[test]
    fn a_bare_error_response() {
        let doc =
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
        let (result, rows, _) = parse_for_test(
            &AnthropicApi,
            doc.as_bytes(),
            "e.json",
            &ParseOptions::default(),
        );
        assert!(result.is_ok());
        assert_eq!(
            rows.llm_calls[0].error.as_deref(),
            Some("overloaded_error: Overloaded")
        );
        assert_eq!(rows.llm_calls[0].usage_source.as_deref(), Some("missing"));
    }
}
