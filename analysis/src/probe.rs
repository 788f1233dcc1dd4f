//! What `runlens probe` prints: per provider and model, how many requests were made and
//! failed, time to first token (p50, p95), inter-chunk latency (p50, p95 over every gap
//! between content chunks), output tokens per second and the tokens used; and, for
//! `--check-tools`, how the model answered a prompt that needs a tool.
//!
//! Percentiles interpolate linearly between order statistics ([`crate::stats`]); failed
//! calls count as errors and are left out of the latency figures.

use std::collections::BTreeMap;

use runlens_ingest::schema::LlmCallRow;

use crate::stats::quantile_sorted;

/// One provider and model's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSummary {
    /// Provider.
    pub provider: String,
    /// The responding model, else the requested one.
    pub model: String,
    /// Requests made.
    pub requests: usize,
    /// Requests that failed (HTTP error, cut stream, unreachable...).
    pub errors: usize,
    /// TTFT p50 and p95, milliseconds (successful calls).
    pub ttft_ms: Option<(f64, f64)>,
    /// Inter-chunk gap p50 and p95, milliseconds (streamed calls).
    pub chunk_gap_ms: Option<(f64, f64)>,
    /// Mean inter-chunk gap, milliseconds.
    pub chunk_gap_mean_ms: Option<f64>,
    /// Mean output tokens per second over the calls that have a rate.
    pub output_tokens_per_s: Option<f64>,
    /// Input tokens, all buckets (uncached, cache reads and writes), summed.
    pub input_tokens: i64,
    /// Output tokens summed.
    pub output_tokens: i64,
    /// Successful calls whose reply reported no token counts.
    pub usage_missing: usize,
}

fn p50_p95(values: &mut [f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    Some((quantile_sorted(values, 0.5), quantile_sorted(values, 0.95)))
}

/// The summary of `calls`, one entry per provider and model, sorted.
pub fn summarize_calls(calls: &[LlmCallRow]) -> Vec<ProbeSummary> {
    let mut groups: BTreeMap<(String, String), Vec<&LlmCallRow>> = BTreeMap::new();
    for call in calls {
        let model = call
            .response_model
            .clone()
            .or_else(|| call.request_model.clone())
            .unwrap_or_default();
        let provider = call.provider.clone().unwrap_or_default();
        groups.entry((provider, model)).or_default().push(call);
    }
    groups
        .into_iter()
        .map(|((provider, model), calls)| {
            let ok: Vec<&&LlmCallRow> = calls.iter().filter(|c| c.error_kind.is_none()).collect();
            let mut ttft: Vec<f64> = ok.iter().filter_map(|c| c.ttft_ms).collect();
            let mut gaps: Vec<f64> = ok
                .iter()
                .flat_map(|c| c.chunk_gaps_ms.iter().flatten().copied())
                .collect();
            let rates: Vec<f64> = ok.iter().filter_map(|c| c.output_tokens_per_s).collect();
            let sum = |f: fn(&LlmCallRow) -> Option<i64>| -> i64 {
                calls.iter().filter_map(|c| f(c)).sum()
            };
            ProbeSummary {
                provider,
                model,
                requests: calls.len(),
                errors: calls.len() - ok.len(),
                ttft_ms: p50_p95(&mut ttft),
                chunk_gap_mean_ms: (!gaps.is_empty())
                    .then(|| gaps.iter().sum::<f64>() / gaps.len() as f64),
                chunk_gap_ms: p50_p95(&mut gaps),
                output_tokens_per_s: (!rates.is_empty())
                    .then(|| rates.iter().sum::<f64>() / rates.len() as f64),
                input_tokens: sum(|c| c.input_tokens)
                    + sum(|c| c.cache_read_input_tokens)
                    + sum(|c| c.cache_creation_input_tokens),
                output_tokens: sum(|c| c.output_tokens),
                usage_missing: ok
                    .iter()
                    .filter(|c| c.usage_source.as_deref() == Some("missing"))
                    .count(),
            }
        })
        .collect()
}

/// How a model answered a prompt that needed a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolAnswer {
    /// A structured tool call, as the API defines them.
    Structured,
    /// The tool call written out as text (the tool's name or a JSON call in the answer).
    AsText,
    /// Prose: no call at all.
    Prose,
    /// The request failed.
    Failed,
}

/// Classifies one reply of the tool check: `tool_calls` the API reported, the answer's
/// `text`, and the tool's name.
pub fn classify_tool_answer(
    failed: bool,
    tool_calls: usize,
    text: &str,
    tool_name: &str,
) -> ToolAnswer {
    if failed {
        return ToolAnswer::Failed;
    }
    if tool_calls > 0 {
        return ToolAnswer::Structured;
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let json_call = [
        "{\"name\":",
        "{\"function\":",
        "{\"tool\":",
        "\"arguments\":",
        "\"parameters\":",
    ]
    .iter()
    .any(|p| compact.contains(p));
    if text.contains(tool_name) || json_call {
        ToolAnswer::AsText
    } else {
        ToolAnswer::Prose
    }
}

/// The tool check's tally for one model, and whether the model is fit for tool use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCheck {
    /// Provider.
    pub provider: String,
    /// Model.
    pub model: String,
    /// Structured tool calls.
    pub structured: usize,
    /// Calls written as text.
    pub as_text: usize,
    /// Prose answers.
    pub prose: usize,
    /// Failed requests.
    pub failed: usize,
}

impl ToolCheck {
    /// Counts one answer.
    pub fn add(&mut self, answer: ToolAnswer) {
        match answer {
            ToolAnswer::Structured => self.structured += 1,
            ToolAnswer::AsText => self.as_text += 1,
            ToolAnswer::Prose => self.prose += 1,
            ToolAnswer::Failed => self.failed += 1,
        }
    }

    /// Answered requests.
    pub fn answered(&self) -> usize {
        self.structured + self.as_text + self.prose
    }

    /// Fit for a tool-using workflow: at least 90 % of the answered prompts that needed
    /// the tool got a structured call (and at least one was answered).
    pub fn fit(&self) -> bool {
        self.answered() > 0 && self.structured * 10 >= self.answered() * 9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(model: &str, ttft: Option<f64>, gaps: &[f64], error: bool) -> LlmCallRow {
        LlmCallRow {
            provider: Some("openai".into()),
            request_model: Some(model.into()),
            ttft_ms: ttft,
            chunk_gaps_ms: Some(gaps.to_vec()),
            input_tokens: Some(10),
            cache_read_input_tokens: Some(5),
            output_tokens: Some(20),
            output_tokens_per_s: ttft.map(|t| 1000.0 / t),
            usage_source: Some("reported".into()),
            error_kind: error.then(|| "http".to_string()),
            ..LlmCallRow::default()
        }
    }

    #[test]
    fn percentiles_by_hand() {
        let calls = [
            call("m", Some(100.0), &[10.0, 20.0], false),
            call("m", Some(200.0), &[30.0], false),
            call("m", Some(300.0), &[40.0, 50.0], false),
            call("m", Some(400.0), &[], false),
            call("m", Some(9999.0), &[9999.0], true),
        ];
        let s = &summarize_calls(&calls)[0];
        assert_eq!((s.requests, s.errors), (5, 1));
        // TTFT 100, 200, 300, 400: p50 = 250; p95 at rank 0.95 × 3 = 2.85 → 300 + 0.85 × 100.
        assert_eq!(s.ttft_ms, Some((250.0, 385.0)));
        // Gaps 10..50: p50 30; p95 at rank 3.8 → 40 + 0.8 × 10.
        assert_eq!(s.chunk_gap_ms, Some((30.0, 48.0)));
        assert_eq!(s.chunk_gap_mean_ms, Some(30.0));
        // Rates 10, 5, 3.33, 2.5 per second.
        let mean = (10.0 + 5.0 + 1000.0 / 300.0 + 2.5) / 4.0;
        assert!((s.output_tokens_per_s.expect("rate") - mean).abs() < 1e-12);
        assert_eq!((s.input_tokens, s.output_tokens), (75, 100));
    }

    #[test]
    fn tool_answers_are_told_apart() {
        assert_eq!(
            classify_tool_answer(false, 1, "", "get_weather"),
            ToolAnswer::Structured
        );
        assert_eq!(
            classify_tool_answer(
                false,
                0,
                "{\"name\": \"lookup\", \"arguments\": {}}",
                "get_weather"
            ),
            ToolAnswer::AsText
        );
        assert_eq!(
            classify_tool_answer(
                false,
                0,
                "I would call get_weather(city=Oslo)",
                "get_weather"
            ),
            ToolAnswer::AsText
        );
        assert_eq!(
            classify_tool_answer(false, 0, "It is sunny.", "get_weather"),
            ToolAnswer::Prose
        );
        assert_eq!(
            classify_tool_answer(true, 0, "", "get_weather"),
            ToolAnswer::Failed
        );
        let mut check = ToolCheck::default();
        for a in [ToolAnswer::Structured; 9] {
            check.add(a);
        }
        check.add(ToolAnswer::Prose);
        assert!(check.fit());
        check.add(ToolAnswer::AsText);
        assert!(!check.fit());
        assert!(!ToolCheck::default().fit());
    }
}
