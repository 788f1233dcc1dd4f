//! Prices per model and the cost of token counts: the one place runlens turns tokens into
//! money.
//!
//! The table is the bundled snapshot (`analysis/prices/prices.toml`, USD per million
//! tokens), or a file given with `--prices`: the same TOML format, or LiteLLM's
//! `model_prices_and_context_window.json` (USD per token: `input_cost_per_token`,
//! `output_cost_per_token`, `cache_read_input_token_cost`,
//! `cache_creation_input_token_cost`, `*_above_200k_tokens`,
//! `cache_creation_input_token_cost_above_1hr`).
//!
//! Model names are matched after normalisation ([`normalize_model`]): lower case, a
//! provider prefix (`anthropic/`, `openai/`, `models/`, ...) removed, then a version suffix
//! (`@20240620`, `-20250929`, `-2024-08-06`, `-002`, `-latest`) removed. A provider's `*`
//! entry prices every model of that provider (Ollama: 0). An unknown model has no price:
//! its cost is null and the caller warns, never 0.
//!
//! Cost of one request = Σ bucket tokens × bucket rate / 10⁶, the buckets being the
//! dataset's non-overlapping ones. Cache writes are priced by duration when the split is
//! known, else at the 5-minute rate (Anthropic's default). A missing cache-read rate falls
//! back to the input rate. A tiered model uses its `tier` rates for every bucket of a
//! request whose input (uncached + cache read + cache write) exceeds the tier's threshold.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

/// Rates are per million tokens; a cost is their sum times this. A product, not a division
/// by a million: polars rewrites a division by a constant into this product, and every
/// engine must compute the same double.
pub const PER_TOKEN: f64 = 1e-6;

/// The bundled snapshot.
pub const BUNDLED: &str = include_str!("../prices/prices.toml");

/// Rates of one model, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Default)]
pub struct Rates {
    /// Uncached input.
    pub input: f64,
    /// Output (reasoning included).
    pub output: f64,
    /// Cache read; the input rate when absent.
    pub cache_read: Option<f64>,
    /// Cache write with a 5-minute lifetime; free when absent.
    pub cache_write_5m: Option<f64>,
    /// Cache write with a 1-hour lifetime; the 5-minute rate when absent.
    pub cache_write_1h: Option<f64>,
}

/// Higher rates above an input size.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Tier {
    /// Input tokens (uncached + cache read + cache write) above which the tier applies.
    pub above: u64,
    /// The tier's rates.
    #[serde(flatten)]
    pub rates: Rates,
}

/// One priced model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelPrice {
    /// Normalised model name, or `*` for every model of the provider.
    pub name: String,
    /// Provider (`anthropic`, `openai`, `gemini`, `ollama`, ...).
    #[serde(default)]
    pub provider: Option<String>,
    /// Base rates.
    #[serde(flatten)]
    pub rates: Rates,
    /// Higher rates for large requests.
    #[serde(default)]
    pub tier: Option<Tier>,
}

/// Token counts of one request (or a sum of requests) in the dataset's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tokens {
    /// Uncached input.
    pub input: u64,
    /// Output.
    pub output: u64,
    /// Cache read.
    pub cache_read: u64,
    /// Cache write, all durations.
    pub cache_write: u64,
    /// Of `cache_write`, the 1-hour writes (the rest are priced as 5-minute writes).
    pub cache_write_1h: u64,
}

/// A price table.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    /// Where it came from (`bundled snapshot 2026-11-01`, a path).
    pub source: String,
    /// The models, in file order.
    pub models: Vec<ModelPrice>,
}

/// Why a price file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is neither format.
    #[error("{path}: not a runlens price TOML nor a LiteLLM price JSON: {reason}")]
    Format {
        /// The file.
        path: String,
        /// What the parser said.
        reason: String,
    },
}

#[derive(Deserialize)]
struct TomlFile {
    snapshot: Option<String>,
    #[serde(default)]
    model: Vec<ModelPrice>,
}

impl PriceTable {
    /// `prices` when given, else the bundled snapshot: the table every analysis prices with.
    pub fn or_bundled(prices: Option<&PriceTable>) -> std::borrow::Cow<'_, PriceTable> {
        match prices {
            Some(prices) => std::borrow::Cow::Borrowed(prices),
            None => std::borrow::Cow::Owned(PriceTable::bundled()),
        }
    }

    /// The bundled snapshot.
    pub fn bundled() -> PriceTable {
        // The bundled file is checked by a test; an error here cannot happen at run time.
        parse_toml(BUNDLED, "bundled").unwrap_or_else(|_| PriceTable {
            source: "bundled (unreadable)".into(),
            models: Vec::new(),
        })
    }

    /// Loads `path`: runlens TOML, or LiteLLM JSON when it starts with `{`.
    pub fn load(path: &Path) -> Result<PriceTable, PriceError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PriceError::Io {
            path: shown.clone(),
            source,
        })?;
        let result = if text.trim_start().starts_with('{') {
            parse_litellm(&text, &shown)
        } else {
            parse_toml(&text, &shown)
        };
        result.map_err(|reason| PriceError::Format {
            path: shown,
            reason,
        })
    }

    /// The price of `model` (of `provider`, if known), after normalisation.
    pub fn find(&self, provider: Option<&str>, model: &str) -> Option<&ModelPrice> {
        let wanted = normalize_model(model);
        let same_provider = |m: &&ModelPrice| {
            provider.is_none() || m.provider.is_none() || m.provider.as_deref() == provider
        };
        self.models
            .iter()
            .filter(same_provider)
            .find(|m| m.name == wanted)
            .or_else(|| {
                // Ollama tags (`llama3.2:3b`) are local models even without a provider.
                let provider = provider.or(model.contains(':').then_some("ollama"))?;
                self.models
                    .iter()
                    .find(|m| m.name == "*" && m.provider.as_deref() == Some(provider))
            })
    }

    /// The cost in USD of `tokens` at `price` (the rates are per million tokens).
    pub fn cost(price: &ModelPrice, tokens: &Tokens) -> f64 {
        let prompt = tokens.input + tokens.cache_read + tokens.cache_write;
        let rates = match &price.tier {
            Some(tier) if prompt > tier.above => &tier.rates,
            _ => &price.rates,
        };
        let write_5m = rates.cache_write_5m.unwrap_or(0.0);
        let write_1h = rates.cache_write_1h.unwrap_or(write_5m);
        let five_minute = tokens.cache_write.saturating_sub(tokens.cache_write_1h);
        (tokens.input as f64 * rates.input
            + tokens.output as f64 * rates.output
            + tokens.cache_read as f64 * rates.cache_read.unwrap_or(rates.input)
            + five_minute as f64 * write_5m
            + tokens.cache_write_1h.min(tokens.cache_write) as f64 * write_1h)
            * PER_TOKEN
    }
}

fn parse_toml(text: &str, source: &str) -> Result<PriceTable, String> {
    let file: TomlFile = toml::from_str(text).map_err(|e| e.to_string())?;
    if file.model.is_empty() {
        return Err("no [[model]] entry".into());
    }
    let mut models = file.model;
    for m in &mut models {
        if m.name != "*" {
            m.name = normalize_model(&m.name);
        }
    }
    Ok(PriceTable {
        source: match (source, file.snapshot) {
            ("bundled", Some(date)) => format!("bundled snapshot {date}"),
            (path, _) => path.to_string(),
        },
        models,
    })
}

/// LiteLLM's `model_prices_and_context_window.json`: per-token USD rates by model key.
fn parse_litellm(text: &str, source: &str) -> Result<PriceTable, String> {
    let entries: HashMap<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    let per_million =
        |v: &serde_json::Value, key: &str| v.get(key).and_then(|x| x.as_f64()).map(|x| x * 1e6);
    let mut models: Vec<ModelPrice> = Vec::new();
    let mut keys: Vec<&String> = entries.keys().collect();
    keys.sort();
    for key in keys {
        let v = &entries[key];
        let (Some(input), Some(output)) = (
            per_million(v, "input_cost_per_token"),
            per_million(v, "output_cost_per_token"),
        ) else {
            continue; // `sample_spec` and non-chat entries (images, audio)
        };
        let rates = Rates {
            input,
            output,
            cache_read: per_million(v, "cache_read_input_token_cost"),
            cache_write_5m: per_million(v, "cache_creation_input_token_cost"),
            cache_write_1h: per_million(v, "cache_creation_input_token_cost_above_1hr"),
        };
        let tier = match (
            per_million(v, "input_cost_per_token_above_200k_tokens"),
            per_million(v, "output_cost_per_token_above_200k_tokens"),
        ) {
            (Some(input), Some(output)) => Some(Tier {
                above: 200_000,
                rates: Rates {
                    input,
                    output,
                    cache_read: per_million(v, "cache_read_input_token_cost_above_200k_tokens"),
                    cache_write_5m: per_million(
                        v,
                        "cache_creation_input_token_cost_above_200k_tokens",
                    ),
                    cache_write_1h: None,
                },
            }),
            _ => None,
        };
        let provider = v
            .get("litellm_provider")
            .and_then(|p| p.as_str())
            .map(|p| match p {
                "vertex_ai-language-models" | "gemini" => "gemini".to_string(),
                other => other.to_string(),
            });
        let name = normalize_model(key);
        if models
            .iter()
            .any(|m| m.name == name && m.provider == provider)
        {
            continue; // dated duplicates of a model normalise to the same name
        }
        models.push(ModelPrice {
            name,
            provider,
            rates,
            tier,
        });
    }
    if models.is_empty() {
        return Err("no entry with input_cost_per_token and output_cost_per_token".into());
    }
    Ok(PriceTable {
        source: source.to_string(),
        models,
    })
}

static VERSION_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(@[0-9a-z.-]+|-\d{8}|-\d{4}-\d{2}-\d{2}|-\d{3}|-latest|-preview)$").expect("regex")
});

/// A model name as the price table keys it: `Anthropic/Claude-Sonnet-4-5-20250929` →
/// `claude-sonnet-4-5`, `models/gemini-1.5-pro-002` → `gemini-1.5-pro`, `gpt-4o-2024-08-06`
/// → `gpt-4o`, `claude-3-5-sonnet@20240620` → `claude-3-5-sonnet`.
pub fn normalize_model(model: &str) -> String {
    let lower = model.trim().to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    let mut name = base.to_string();
    // A name may carry two suffixes (`-2024-08-06` after `-preview`): strip until stable.
    loop {
        let stripped = VERSION_SUFFIX.replace(&name, "").into_owned();
        if stripped == name || stripped.is_empty() {
            return name;
        }
        name = stripped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> PriceTable {
        parse_toml(BUNDLED, "bundled").expect("the bundled table parses")
    }

    #[test]
    fn the_bundled_snapshot_has_the_reference_models() {
        let t = bundled();
        assert_eq!(t.source, "bundled snapshot 2026-11-01");
        for (model, input, output) in [
            ("claude-3-5-sonnet-20241022", 3.0, 15.0),
            ("gpt-4-turbo-2024-04-09", 10.0, 30.0),
            ("gemini-1.5-pro-002", 1.25, 5.0),
            ("claude-sonnet-4-5-20250929", 3.0, 15.0),
            ("gpt-5", 1.25, 10.0),
            ("models/gemini-2.5-pro", 1.25, 10.0),
        ] {
            let p = t.find(None, model).unwrap_or_else(|| panic!("{model}"));
            assert_eq!((p.rates.input, p.rates.output), (input, output), "{model}");
        }
        assert!(t.find(None, "some-new-model").is_none());
        let local = t.find(Some("ollama"), "llama3.2:3b").expect("ollama");
        assert_eq!(TableCost::of(local, 1_000_000, 1_000_000), 0.0);
        assert!(
            t.find(None, "qwen2.5:7b").is_some(),
            "an Ollama tag is local"
        );
    }

    /// Cost of plain input and output tokens.
    struct TableCost;
    impl TableCost {
        fn of(p: &ModelPrice, input: u64, output: u64) -> f64 {
            PriceTable::cost(
                p,
                &Tokens {
                    input,
                    output,
                    ..Tokens::default()
                },
            )
        }
    }

    #[test]
    fn hand_computed_costs() {
        let t = bundled();
        let sonnet = t
            .find(Some("anthropic"), "claude-sonnet-4-5")
            .expect("sonnet");
        // 10,000 in × $3 + 2,000 out × $15 + 50,000 cache read × $0.30 + 4,000 writes
        // (1,000 of them 1 h) 3,000 × $3.75 + 1,000 × $6, per million:
        // 0.03 + 0.03 + 0.015 + 0.01125 + 0.006 = 0.09225
        let tokens = Tokens {
            input: 10_000,
            output: 2_000,
            cache_read: 50_000,
            cache_write: 4_000,
            cache_write_1h: 1_000,
        };
        assert!((PriceTable::cost(sonnet, &tokens) - 0.092_25).abs() < 1e-12);
        // Above 200k input: every bucket at the tier rate. 250,000 × $6 + 1,000 × $22.5.
        let big = Tokens {
            input: 250_000,
            output: 1_000,
            ..Tokens::default()
        };
        assert!((PriceTable::cost(sonnet, &big) - (1.5 + 0.0225)).abs() < 1e-12);
        // Exactly 200k is not above.
        let edge = Tokens {
            input: 200_000,
            ..Tokens::default()
        };
        assert!((PriceTable::cost(sonnet, &edge) - 0.6).abs() < 1e-12);
        // GPT-4 Turbo: no cache-read rate, so cached tokens cost the input rate.
        let turbo = t.find(None, "gpt-4-turbo").expect("turbo");
        let cached = Tokens {
            input: 1_000,
            cache_read: 1_000,
            output: 500,
            ..Tokens::default()
        };
        assert!((PriceTable::cost(turbo, &cached) - (0.02 + 0.015)).abs() < 1e-12);
    }

    #[test]
    fn names_normalise() {
        for (raw, want) in [
            ("Anthropic/Claude-Sonnet-4-5-20250929", "claude-sonnet-4-5"),
            ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet"),
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("models/gemini-1.5-pro-002", "gemini-1.5-pro"),
            (
                "gemini-2.5-flash-preview-05-20",
                "gemini-2.5-flash-preview-05-20",
            ),
            ("gpt-4o-mini", "gpt-4o-mini"),
            ("o3", "o3"),
        ] {
            assert_eq!(normalize_model(raw), want, "{raw}");
        }
    }

    #[test]
    fn litellm_json_is_read() {
        let json = r#"{
          "sample_spec": {"max_tokens": "set to max"},
          "claude-sonnet-4-5-20250929": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
            "cache_creation_input_token_cost_above_1hr": 6e-06,
            "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
            "litellm_provider": "anthropic", "mode": "chat"},
          "dall-e-3": {"output_cost_per_image": 0.04}
        }"#;
        let t = parse_litellm(json, "prices.json").expect("litellm");
        assert_eq!(t.models.len(), 1);
        let p = t
            .find(Some("anthropic"), "claude-sonnet-4-5")
            .expect("found");
        assert!((p.rates.input - 3.0).abs() < 1e-9 && (p.rates.output - 15.0).abs() < 1e-9);
        assert_eq!(p.tier.map(|t| t.above), Some(200_000));
        assert!((p.rates.cache_write_1h.unwrap_or(0.0) - 6.0).abs() < 1e-9);
    }
}
