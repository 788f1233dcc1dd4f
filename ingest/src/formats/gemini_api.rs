//! Saved Gemini `generateContent` exchanges, framed as in [`super::exchange`]: request
//! `contents[]` (`role` user/model/function, `parts[]` with `text`, `functionCall`,
//! `functionResponse`), `systemInstruction`, `tools[].functionDeclarations`; response
//! `candidates[].content.parts[]`, `candidates[].finishReason`, `usageMetadata`,
//! `modelVersion`, `responseId`. A JSON array of response objects is a saved
//! `streamGenerateContent` answer: its chunks are joined into one reply, and the usage is
//! the last chunk's (Gemini repeats the running totals in each chunk).
//!
//! `promptTokenCount` includes `cachedContentTokenCount`, and `thoughtsTokenCount` is
//! output outside `candidatesTokenCount`; see [`crate::usage`].

use std::io::BufRead;

use super::exchange::parse_exchanges;
use super::{Format, ParseContext, ParseError, RowSink, Sniff};
use crate::providers;

/// The `gemini_api` format.
pub struct GeminiApi;

impl Format for GeminiApi {
    fn name(&self) -> &'static str {
        "gemini_api"
    }

    fn description(&self) -> &'static str {
        "Gemini generateContent exchanges (pairs, requests, responses, streamed chunk arrays, JSONL)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let head = sniff.head;
        head.contains("\"candidates\"")
            || head.contains("\"usageMetadata\"")
            || (head.contains("\"contents\"") && head.contains("\"parts\""))
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        parse_exchanges(&providers::gemini::Saved, "gemini_api", input, ctx, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse_for_test};

    #[test]
    fn a_pair_with_a_function_call() {
        let doc = r#"{"request": {"model": "models/gemini-2.5-flash",
            "systemInstruction": {"parts": [{"text": "Use the tools."}]},
            "tools": [{"functionDeclarations": [{"name": "get_weather"}]}],
            "contents": [{"role": "user", "parts": [{"text": "Weather in Oslo?"}]}]},
          "response": {"responseId": "r-1", "modelVersion": "gemini-2.5-flash",
            "candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 8, "thoughtsTokenCount": 40, "totalTokenCount": 168}}}"#;
        let (result, rows, issues) = parse_for_test(
            &GeminiApi,
            doc.as_bytes(),
            "g.json",
            &ParseOptions::default(),
        );
        assert!(result.is_ok() && issues.is_empty());
        let s = &rows.sessions[0];
        assert_eq!(
            (s.message_count, s.tool_calls, s.model.as_deref()),
            (3, 1, Some("gemini-2.5-flash"))
        );
        let c = &rows.llm_calls[0];
        assert_eq!(
            (c.input_tokens, c.output_tokens, c.reasoning_tokens),
            (Some(120), Some(48), Some(40))
        );
        assert_eq!(c.finish_reason.as_deref(), Some("STOP"));
    }

    #[test]
    fn streamed_chunks_are_one_reply_with_the_last_usage() {
        let doc = r#"[
          {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}], "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}, "modelVersion": "gemini-2.0-flash", "responseId": "s-1"},
          {"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "MAX_TOKENS"}], "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2, "totalTokenCount": 11}, "modelVersion": "gemini-2.0-flash", "responseId": "s-1"}
        ]"#;
        let (result, rows, _) = parse_for_test(
            &GeminiApi,
            doc.as_bytes(),
            "s.json",
            &ParseOptions::default(),
        );
        assert!(result.is_ok());
        let c = &rows.llm_calls[0];
        assert_eq!(
            (c.streamed, c.input_tokens, c.output_tokens),
            (Some(true), Some(9), Some(2))
        );
        assert_eq!(rows.sessions[0].findings.as_deref(), Some("truncated"));
        assert_eq!(rows.sessions[0].assistant_messages, 1);
    }
}
