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

use serde_json::Value;

use super::chat::{DecodedMessage, decode_message};
use super::exchange::{Api, Exchange, Reply, ResponseKeys, parse_exchanges, system_text};
use super::{Format, ParseContext, ParseError, RowSink, Sniff};
use crate::sessions::Role;
use crate::usage::TokenUsage;

/// The `gemini_api` format.
pub struct GeminiApi;

impl Api for GeminiApi {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    fn format(&self) -> &'static str {
        "gemini_api"
    }

    fn is_response(&self, doc: &Value) -> bool {
        doc.get("candidates").is_some()
            || doc.get("usageMetadata").is_some()
            || (doc.get("error").is_some() && doc.get("contents").is_none())
    }

    fn read_request<'a>(&self, request: &'a Value, exchange: &mut Exchange<'a>) {
        exchange.endpoint = Some("generateContent");
        exchange.request_model = request
            .get("model")
            .and_then(Value::as_str)
            .map(|m| m.trim_start_matches("models/").to_string());
        exchange.tools_available =
            request
                .get("tools")
                .and_then(Value::as_array)
                .is_some_and(|tools| {
                    tools.iter().any(|t| {
                        t.get("functionDeclarations")
                            .or_else(|| t.get("function_declarations"))
                            .and_then(Value::as_array)
                            .is_some_and(|d| !d.is_empty())
                    })
                });
        exchange.system_prompt = request
            .get("systemInstruction")
            .or_else(|| request.get("system_instruction"))
            .and_then(system_text);
        if let Some(contents) = request.get("contents").and_then(Value::as_array) {
            exchange.history = contents.iter().collect();
        }
    }

    fn read_response(&self, response: &Value) -> Reply {
        let mut reply = Reply::read(
            response,
            ResponseKeys {
                id: "responseId",
                model: "modelVersion",
                usage: "usageMetadata",
                read_usage: TokenUsage::from_gemini,
            },
        );
        for candidate in response
            .get("candidates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let finish = candidate
                .get("finishReason")
                .and_then(Value::as_str)
                .map(str::to_string);
            let mut message = match candidate.get("content").map(decode_message) {
                Some(Ok(Some(m))) => m,
                // A candidate stopped by a safety filter has no content.
                _ => DecodedMessage::new(Role::Assistant),
            };
            message.role = Role::Assistant;
            message.stop_reason = finish.clone();
            reply.finish_reason = reply.finish_reason.or(finish);
            reply.messages.push(message);
        }
        reply
    }

    fn read_array<'a>(&self, items: &'a [Value], exchange: &mut Exchange<'a>) {
        if !items.first().is_some_and(|c| self.is_response(c)) {
            exchange.history = items.iter().collect();
            return;
        }
        // Streamed chunks: one reply, texts and calls joined, the last usage and reason.
        let mut joined = Reply {
            streamed: Some(true),
            ..Reply::default()
        };
        let mut turn: Option<DecodedMessage> = None;
        for chunk in items {
            let part = self.read_response(chunk);
            joined.id = joined.id.or(part.id);
            joined.model = joined.model.or(part.model);
            joined.ts = joined.ts.or(part.ts);
            joined.error = joined.error.or(part.error);
            if part.usage.is_some() {
                joined.usage = part.usage;
            }
            if part.finish_reason.is_some() {
                joined.finish_reason = part.finish_reason;
            }
            for m in part.messages {
                match &mut turn {
                    None => turn = Some(m),
                    Some(t) => {
                        t.text.push_str(&m.text);
                        t.calls.extend(m.calls);
                    }
                }
            }
        }
        if let Some(mut t) = turn {
            t.stop_reason = joined.finish_reason.clone();
            joined.messages.push(t);
        }
        exchange.response = Some(joined);
    }
}

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
        parse_exchanges(self, input, ctx, sink)
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
