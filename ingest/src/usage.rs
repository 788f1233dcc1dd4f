//! Token usage as each provider reports it, converted into the dataset's non-overlapping
//! buckets (see `docs/schema.md`, "Token buckets").
//!
//! Providers disagree on what "input tokens" means: OpenAI's `prompt_tokens` /
//! `input_tokens` and Gemini's `promptTokenCount` include the cached tokens, Anthropic's
//! `input_tokens` does not. Gemini's `candidatesTokenCount` excludes the thinking tokens,
//! OpenAI's `completion_tokens` includes the reasoning tokens. Every parser (and the proxy)
//! goes through these converters, so the buckets always add up and a sum never counts a
//! token twice.
//!
//! A count given as a string, a negative number or a fraction is an error naming the
//! field: the caller reports it and treats the usage as missing, never as 0.

use serde_json::Value;

use crate::schema::LlmCallRow;

/// Token counts in the dataset's buckets; `None` where the provider gave no figure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Uncached input tokens.
    pub input: Option<i64>,
    /// Output tokens, reasoning included.
    pub output: Option<i64>,
    /// Input tokens read from the prompt cache.
    pub cache_read: Option<i64>,
    /// Input tokens written to the prompt cache (all durations).
    pub cache_creation: Option<i64>,
    /// Of `cache_creation`, those cached for 5 minutes.
    pub cache_creation_5m: Option<i64>,
    /// Of `cache_creation`, those cached for 1 hour.
    pub cache_creation_1h: Option<i64>,
    /// Of `output`, the reasoning (thinking) tokens.
    pub reasoning: Option<i64>,
}

impl TokenUsage {
    /// Whether no bucket has a figure.
    pub fn is_empty(&self) -> bool {
        *self == TokenUsage::default()
    }

    /// Sum of the four buckets (input, output, cache read, cache write).
    pub fn total(&self) -> i64 {
        [
            self.input,
            self.output,
            self.cache_read,
            self.cache_creation,
        ]
        .iter()
        .flatten()
        .sum()
    }

    /// OpenAI usage in any of its spellings: Chat Completions (`prompt_tokens`,
    /// `completion_tokens`, `prompt_tokens_details.cached_tokens`,
    /// `completion_tokens_details.reasoning_tokens`), the Responses API (`input_tokens`,
    /// `output_tokens`, `input_tokens_details`, `output_tokens_details`) and Codex CLI
    /// (`cached_input_tokens`, `reasoning_output_tokens`). Cached tokens are inside the
    /// prompt count, so uncached input = prompt − cached.
    pub fn from_openai(usage: &Value) -> Result<TokenUsage, String> {
        let prompt = first_count(usage, &["prompt_tokens", "input_tokens"])?;
        let output = first_count(usage, &["completion_tokens", "output_tokens"])?;
        let cached = match count_at(usage, "/prompt_tokens_details/cached_tokens")? {
            Some(c) => Some(c),
            None => match count_at(usage, "/input_tokens_details/cached_tokens")? {
                Some(c) => Some(c),
                None => count(usage, "cached_input_tokens")?,
            },
        };
        let reasoning = match count_at(usage, "/completion_tokens_details/reasoning_tokens")? {
            Some(r) => Some(r),
            None => match count_at(usage, "/output_tokens_details/reasoning_tokens")? {
                Some(r) => Some(r),
                None => count(usage, "reasoning_output_tokens")?,
            },
        };
        Ok(TokenUsage {
            input: uncached(prompt, cached),
            output,
            cache_read: cached,
            reasoning,
            ..TokenUsage::default()
        })
    }

    /// Anthropic Messages usage: `input_tokens` already excludes the cache, so the buckets
    /// map one to one; `cache_creation.ephemeral_5m/1h_input_tokens` split the writes.
    pub fn from_anthropic(usage: &Value) -> Result<TokenUsage, String> {
        Ok(TokenUsage {
            input: count(usage, "input_tokens")?,
            output: count(usage, "output_tokens")?,
            cache_read: count(usage, "cache_read_input_tokens")?,
            cache_creation: count(usage, "cache_creation_input_tokens")?,
            cache_creation_5m: count_at(usage, "/cache_creation/ephemeral_5m_input_tokens")?,
            cache_creation_1h: count_at(usage, "/cache_creation/ephemeral_1h_input_tokens")?,
            reasoning: None,
        })
    }

    /// Gemini `usageMetadata`: `promptTokenCount` (plus `toolUsePromptTokenCount`) includes
    /// `cachedContentTokenCount`; output = `candidatesTokenCount` + `thoughtsTokenCount`.
    pub fn from_gemini(usage: &Value) -> Result<TokenUsage, String> {
        let prompt = count(usage, "promptTokenCount")?;
        let tool_prompt = count(usage, "toolUsePromptTokenCount")?;
        let cached = count(usage, "cachedContentTokenCount")?;
        let candidates = count(usage, "candidatesTokenCount")?;
        let thoughts = count(usage, "thoughtsTokenCount")?;
        let prompt = add(prompt, tool_prompt);
        Ok(TokenUsage {
            input: uncached(prompt, cached),
            output: add(candidates, thoughts),
            cache_read: cached,
            reasoning: thoughts,
            ..TokenUsage::default()
        })
    }

    /// Writes the buckets into an `llm_calls` row, with `usage_source` `reported` or
    /// `missing`.
    pub fn apply(&self, row: &mut LlmCallRow) {
        row.input_tokens = self.input;
        row.output_tokens = self.output;
        row.cache_read_input_tokens = self.cache_read;
        row.cache_creation_input_tokens = self.cache_creation;
        row.cache_creation_5m_input_tokens = self.cache_creation_5m;
        row.cache_creation_1h_input_tokens = self.cache_creation_1h;
        row.reasoning_tokens = self.reasoning;
        row.usage_source = Some(
            if self.is_empty() {
                "missing"
            } else {
                "reported"
            }
            .into(),
        );
    }

    /// `self − earlier` per bucket: the growth of a running total (never below 0).
    pub fn minus(&self, earlier: &TokenUsage) -> TokenUsage {
        let sub = |x: Option<i64>, y: Option<i64>| x.map(|x| (x - y.unwrap_or(0)).max(0));
        TokenUsage {
            input: sub(self.input, earlier.input),
            output: sub(self.output, earlier.output),
            cache_read: sub(self.cache_read, earlier.cache_read),
            cache_creation: sub(self.cache_creation, earlier.cache_creation),
            cache_creation_5m: None,
            cache_creation_1h: None,
            reasoning: sub(self.reasoning, earlier.reasoning),
        }
    }

    /// The bucket-wise sum of two usages (a bucket stays `None` only if both are).
    pub fn plus(&self, other: &TokenUsage) -> TokenUsage {
        TokenUsage {
            input: add(self.input, other.input),
            output: add(self.output, other.output),
            cache_read: add(self.cache_read, other.cache_read),
            cache_creation: add(self.cache_creation, other.cache_creation),
            cache_creation_5m: add(self.cache_creation_5m, other.cache_creation_5m),
            cache_creation_1h: add(self.cache_creation_1h, other.cache_creation_1h),
            reasoning: add(self.reasoning, other.reasoning),
        }
    }
}

/// Uncached input: the prompt minus its cached part (never below 0).
fn uncached(prompt: Option<i64>, cached: Option<i64>) -> Option<i64> {
    prompt.map(|p| (p - cached.unwrap_or(0)).max(0))
}

fn add(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

/// The count under the first of `keys` that is present.
fn first_count(usage: &Value, keys: &[&str]) -> Result<Option<i64>, String> {
    for key in keys {
        if let Some(v) = count(usage, key)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// The count under `key`: absent or null is `None`; anything but a whole number ≥ 0 is
/// an error naming the field.
pub fn count(usage: &Value, key: &str) -> Result<Option<i64>, String> {
    checked(usage.get(key), key)
}

fn count_at(usage: &Value, pointer: &str) -> Result<Option<i64>, String> {
    checked(usage.pointer(pointer), &pointer[1..].replace('/', "."))
}

fn checked(value: Option<&Value>, name: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if v >= 0 => Ok(Some(v)),
            _ => Err(format!("usage.{name} is {n}, not a token count")),
        },
        Some(Value::String(s)) => Err(format!("usage.{name} is the string {s:?}, not a number")),
        Some(other) => Err(format!("usage.{name} is not a number: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_chat_cached_tokens_come_out_of_the_prompt() {
        // prompt 1200 of which 1024 cached; completion 300 of which 200 reasoning.
        let u = TokenUsage::from_openai(&json!({
            "prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 200}
        }))
        .expect("usage");
        assert_eq!(
            (u.input, u.cache_read, u.output, u.reasoning),
            (Some(176), Some(1024), Some(300), Some(200))
        );
        assert_eq!(u.total(), 1500);
    }

    #[test]
    fn responses_api_and_codex_spellings() {
        let r = TokenUsage::from_openai(&json!({
            "input_tokens": 50, "output_tokens": 20,
            "input_tokens_details": {"cached_tokens": 10},
            "output_tokens_details": {"reasoning_tokens": 5}, "total_tokens": 70
        }))
        .expect("usage");
        assert_eq!(
            (r.input, r.cache_read, r.reasoning),
            (Some(40), Some(10), Some(5))
        );
        let c = TokenUsage::from_openai(&json!({
            "input_tokens": 9000, "cached_input_tokens": 8000, "output_tokens": 120,
            "reasoning_output_tokens": 64, "total_tokens": 9120
        }))
        .expect("usage");
        assert_eq!(
            (c.input, c.cache_read, c.output, c.reasoning),
            (Some(1000), Some(8000), Some(120), Some(64))
        );
    }

    #[test]
    fn anthropic_maps_one_to_one_with_the_cache_split() {
        let u = TokenUsage::from_anthropic(&json!({
            "input_tokens": 12, "output_tokens": 340, "cache_read_input_tokens": 4000,
            "cache_creation_input_tokens": 1500,
            "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 500}
        }))
        .expect("usage");
        assert_eq!(u.total(), 12 + 340 + 4000 + 1500);
        assert_eq!(
            (u.cache_creation_5m, u.cache_creation_1h),
            (Some(1000), Some(500))
        );
    }

    #[test]
    fn gemini_thoughts_are_output_and_cache_is_inside_the_prompt() {
        let u = TokenUsage::from_gemini(&json!({
            "promptTokenCount": 800, "cachedContentTokenCount": 600,
            "candidatesTokenCount": 50, "thoughtsTokenCount": 150, "totalTokenCount": 1000
        }))
        .expect("usage");
        assert_eq!(
            (u.input, u.cache_read, u.output, u.reasoning),
            (Some(200), Some(600), Some(200), Some(150))
        );
        // The buckets add up to the provider's own total.
        assert_eq!(u.total(), 1000);
    }

    #[test]
    fn strings_for_numbers_are_errors_not_zeros() {
        let err = TokenUsage::from_openai(&json!({"prompt_tokens": "12"}));
        assert_eq!(
            err,
            Err("usage.prompt_tokens is the string \"12\", not a number".into())
        );
        assert!(TokenUsage::from_anthropic(&json!({"input_tokens": -1})).is_err());
        let empty = TokenUsage::from_gemini(&json!({})).expect("usage");
        let mut row = LlmCallRow::default();
        empty.apply(&mut row);
        assert_eq!(row.usage_source.as_deref(), Some("missing"));
        assert_eq!(row.input_tokens, None);
    }
}
