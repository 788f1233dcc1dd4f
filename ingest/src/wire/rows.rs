//! A finished call as dataset rows: its `llm_calls` row and the `tool_calls` rows of the
//! tool calls the model made.

use crate::redact::Redactor;
use crate::schema::{Labels, LlmCallRow, ToolCallRow};

use super::observer::{CallIdentity, CallObserver, Failure, Framing, MAX_BODY_BYTES, shorten};

impl CallObserver {
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
}
