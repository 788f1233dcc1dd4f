//! Saved OpenAI API exchanges: Chat Completions (`/v1/chat/completions`) and the Responses
//! API (`/v1/responses`), framed as in [`super::exchange`] (pairs, bare requests or
//! responses, message arrays, JSONL and batch output files).
//!
//! - Chat Completions: request `messages` (+ `tools` / legacy `functions`), response
//!   `choices[].message` (`content`, `tool_calls`, legacy `function_call`, `refusal`),
//!   `choices[].finish_reason`, `usage` with `prompt_tokens_details.cached_tokens` and
//!   `completion_tokens_details.reasoning_tokens`.
//! - Responses API: request `input` (text or items) and `instructions`, response `output`
//!   items (`message`, `function_call`, `custom_tool_call`, ...) as one assistant message,
//!   `status: incomplete` with its reason, `usage` with `input_tokens_details` /
//!   `output_tokens_details`.
//!
//! The prompt counts include cached tokens; see [`crate::usage`] for the buckets.

use std::io::BufRead;

use super::exchange::parse_exchanges;
use super::json_input::has_string_field;
use super::{Format, ParseContext, ParseError, RowSink, Sniff};
use crate::providers;

/// The `openai_api` format.
pub struct OpenAiApi;

impl Format for OpenAiApi {
    fn name(&self) -> &'static str {
        "openai_api"
    }

    fn description(&self) -> &'static str {
        "OpenAI Chat Completions / Responses API exchanges (pairs, requests, responses, JSONL, batch output)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let head = sniff.head;
        has_string_field(head, "object", "chat.completion")
            || has_string_field(head, "object", "response")
            || head.contains("\"choices\"")
            || head.contains("\"prompt_tokens\"")
            || (head.contains("\"messages\"") && head.contains("\"role\""))
            || head
                .trim_start_matches('\u{feff}')
                .trim_start()
                .strip_prefix('[')
                .is_some_and(|rest| rest.trim_start().starts_with('{') && head.contains("\"role\""))
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        parse_exchanges(&providers::openai::Saved, "openai_api", input, ctx, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_ok;

    fn parse(doc: &str) -> (crate::schema::TableRows, Vec<crate::formats::Rejection>) {
        parse_ok(&OpenAiApi, doc, "x.json")
    }

    #[test]
    fn a_chat_pair_with_a_tool_call() {
        let (rows, issues) = parse(
            r#"{"request": {"model": "gpt-4o", "tools": [{"type": "function", "function": {"name": "grep"}}],
                "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "find x"}]},
              "response": {"id": "chatcmpl-1", "object": "chat.completion", "created": 1763800000, "model": "gpt-4o-2024-08-06",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                  "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "grep", "arguments": "{\"q\":\"x\"}"}}]}}],
                "usage": {"prompt_tokens": 2100, "completion_tokens": 18, "total_tokens": 2118,
                  "prompt_tokens_details": {"cached_tokens": 2048}, "completion_tokens_details": {"reasoning_tokens": 0}}}}"#,
        );
        assert!(issues.is_empty());
        let call = &rows.llm_calls[0];
        assert_eq!(call.call_id, "chatcmpl-1");
        assert_eq!(call.endpoint.as_deref(), Some("/v1/chat/completions"));
        assert_eq!(
            (
                call.input_tokens,
                call.cache_read_input_tokens,
                call.output_tokens
            ),
            (Some(52), Some(2048), Some(18))
        );
        assert_eq!(call.tool_call_count, Some(1));
        let s = &rows.sessions[0];
        assert_eq!(
            (
                s.message_count,
                s.tool_calls,
                s.validation_status.as_deref()
            ),
            (3, 1, Some("ok"))
        );
        assert_eq!(rows.tool_calls[0].call_id.as_deref(), Some("chatcmpl-1"));
    }

    #[test]
    fn a_responses_api_response_is_one_turn() {
        let (rows, _) = parse(
            r#"{"id": "resp_1", "object": "response", "created_at": 1763800000, "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"}, "model": "gpt-5",
                "output": [{"type": "reasoning", "summary": []},
                  {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Let me look."}]},
                  {"type": "function_call", "call_id": "call_z", "name": "read_file", "arguments": "{}"}],
                "usage": {"input_tokens": 500, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 900,
                  "output_tokens_details": {"reasoning_tokens": 850}, "total_tokens": 1400}}"#,
        );
        let s = &rows.sessions[0];
        assert_eq!((s.assistant_messages, s.tool_calls), (1, 1));
        assert_eq!(s.findings.as_deref(), Some("truncated"));
        assert_eq!(rows.llm_calls[0].reasoning_tokens, Some(850));
        assert_eq!(
            rows.llm_calls[0].finish_reason.as_deref(),
            Some("max_output_tokens")
        );
    }

    #[test]
    fn jsonl_batch_output_with_a_bad_line_and_string_usage() {
        let doc = concat!(
            r#"{"id": "batch_req_1", "custom_id": "task-1", "response": {"status_code": 200, "body": {"id": "chatcmpl-a", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 2}}}, "error": null}"#,
            "\n{not json\n",
            r#"{"id": "batch_req_2", "custom_id": "task-2", "response": {"status_code": 200, "body": {"id": "chatcmpl-b", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [{"message": {"role": "assistant", "content": "yo"}, "finish_reason": "length"}], "usage": {"prompt_tokens": "10", "completion_tokens": 2}}}}"#,
            "\n"
        );
        let (rows, issues) = parse(doc);
        assert_eq!(rows.sessions.len(), 2);
        assert_eq!(rows.sessions[0].session_id, "task-1");
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert_eq!(issues[0].line, Some(2));
        assert!(issues[1].reason.contains("prompt_tokens"), "{issues:?}");
        // The string usage is missing, never 0.
        assert_eq!(rows.llm_calls[1].usage_source.as_deref(), Some("missing"));
        assert_eq!(rows.llm_calls[1].input_tokens, None);
        assert_eq!(rows.llm_calls[0].http_status, Some(200));
    }

    #[test]
    fn an_error_response_is_stored_redacted() {
        let (rows, _) = parse(
            r#"{"error": {"message": "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz123456", "type": "invalid_request_error", "code": "invalid_api_key"}}"#,
        );
        let error = rows.llm_calls[0].error.clone().unwrap_or_default();
        assert!(
            error.starts_with("invalid_request_error: Incorrect API key"),
            "{error}"
        );
        assert!(!error.contains("abcdefghijklmnop"), "{error}");
    }
}
