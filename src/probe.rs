//! `runlens probe`: drives a provider directly — a prompt set, a number of requests, a
//! concurrency — and records each call as the proxy would (`source = probe`), with the same
//! observer and the same clock: TTFT at the first content chunk, gaps between chunks,
//! tokens as reported.
//!
//! API keys come only from the environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`,
//! `GEMINI_API_KEY` / `GOOGLE_API_KEY`), are sent in headers, and are never stored. With
//! `--check-tools` every request offers one tool (`get_weather`) with a prompt that needs
//! it, and the answer is kept long enough to tell a structured call from a call written as
//! text or from prose.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use runlens_ingest::redact::Redactor;
use runlens_ingest::schema::{LlmCallRow, Timestamp, ToolCallRow};
use runlens_ingest::wire::{Api, CallIdentity, CallObserver, Failure, Provider};
use serde_json::{Value, json};

use crate::capture::pump::{elapsed_ms, error_chain, pump};
use crate::capture::upstream::Upstream;

/// The tool offered by `--check-tools`.
pub const CHECK_TOOL: &str = "get_weather";

/// Prompts that need [`CHECK_TOOL`], used by `--check-tools` when no prompts are given.
pub const TOOL_PROMPTS: [&str; 5] = [
    "What is the weather in Oslo right now? Use the available tool.",
    "Is it raining in Tokyo at the moment?",
    "I need the current temperature in Lima, Peru.",
    "Check the weather in Nairobi for me.",
    "How windy is it in Wellington today?",
];

/// The prompt used when none is given.
pub const DEFAULT_PROMPT: &str = "Write one short paragraph about the history of the bicycle.";

/// What to probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The provider's wire format.
    pub provider: Provider,
    /// Its base URL.
    pub base: Upstream,
    /// The model.
    pub model: String,
    /// Prompts, used in turn.
    pub prompts: Vec<String>,
    /// Requests in all.
    pub requests: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Output limit per request.
    pub max_tokens: u32,
    /// Ask for streamed replies.
    pub stream: bool,
    /// Offer the tool and classify the answers.
    pub check_tools: bool,
    /// Give up on a request after this long.
    pub timeout: Duration,
}

/// One probed call.
#[derive(Debug, Clone)]
pub struct ProbedCall {
    /// Its row.
    pub row: LlmCallRow,
    /// The tool calls the model made.
    pub tools: Vec<ToolCallRow>,
    /// The answer's text (kept with `--check-tools`).
    pub text: Option<String>,
}

/// Runs the probe; one entry per request, in the order they were sent.
pub fn probe(
    options: &ProbeOptions,
    id_prefix: &str,
    redactor: Arc<Redactor>,
) -> anyhow::Result<Vec<ProbedCall>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the probe's runtime")?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(options.timeout)
        .build()
        .context("building the probe's HTTP client")?;
    let key = api_key(options.provider);
    let options = Arc::new(options.clone());
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let calls = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(options.requests);
        for n in 0..options.requests {
            let permit = Arc::clone(&semaphore).acquire_owned().await;
            let (client, options, key, redactor) = (
                client.clone(),
                Arc::clone(&options),
                key.clone(),
                Arc::clone(&redactor),
            );
            let call_id = format!("{id_prefix}-c{n}");
            tasks.push(tokio::spawn(async move {
                let call = one_call(&client, &options, n, key.as_deref(), call_id, &redactor).await;
                drop(permit);
                call
            }));
        }
        let mut calls = Vec::with_capacity(tasks.len());
        for task in tasks {
            if let Ok(call) = task.await {
                calls.push(call);
            }
        }
        calls
    });
    runtime.shutdown_background();
    Ok(calls)
}

/// The provider's API key from the environment, if set.
fn api_key(provider: Provider) -> Option<String> {
    provider
        .api_key_variables()
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
}

async fn one_call(
    client: &reqwest::Client,
    options: &ProbeOptions,
    n: usize,
    key: Option<&str>,
    call_id: String,
    redactor: &Redactor,
) -> ProbedCall {
    let prompt = &options.prompts[n % options.prompts.len()];
    let (path, api, body) = request(options, prompt);
    let body = body.to_string();
    let url = format!("{}{}{}", options.base.origin, options.base.base_path, path);
    let full_path = format!("{}{}", options.base.base_path, path);
    let mut observer = CallObserver::with_api(options.provider, api, &full_path, body.as_bytes());
    if options.check_tools {
        observer.keep_text();
    }
    let mut builder = client.post(&url).header("content-type", "application/json");
    if let Some(key) = key {
        builder = match options.provider {
            Provider::OpenAi | Provider::Ollama => builder.bearer_auth(key),
            Provider::Anthropic => builder.header("x-api-key", key),
            Provider::Gemini => builder.header("x-goog-api-key", key),
        };
    }
    if options.provider == Provider::Anthropic {
        builder = builder.header("anthropic-version", "2023-06-01");
    }
    let start_ts = Timestamp::now();
    let t0 = Instant::now();
    let (failure, total_ms) = match builder.body(body).send().await {
        Ok(response) => pump(response, &mut observer, t0, None).await,
        Err(e) => (
            Some(Failure {
                kind: if e.is_timeout() { "timeout" } else { "connect" }.into(),
                message: format!("cannot reach {}: {}", options.base.origin, error_chain(&e)),
            }),
            elapsed_ms(t0),
        ),
    };
    let text = observer.text().map(str::to_string);
    let identity = CallIdentity {
        call_id,
        start_ts,
        source: "probe",
        run_id: None,
        phase: None,
    };
    let (row, tools) = observer.finish(identity, total_ms, failure, redactor);
    ProbedCall { row, tools, text }
}

/// The path (below the base URL), API and body of one request in the provider's format.
pub fn request(options: &ProbeOptions, prompt: &str) -> (String, Api, Value) {
    let (model, max, stream) = (&options.model, options.max_tokens, options.stream);
    let parameters = json!({"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]});
    let description = "The current weather in a city.";
    let openai_tools = json!([{"type": "function", "function": {"name": CHECK_TOOL, "description": description, "parameters": parameters}}]);
    match options.provider {
        Provider::OpenAi => {
            let mut body = json!({"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max, "stream": stream});
            if stream {
                body["stream_options"] = json!({"include_usage": true});
            }
            if options.check_tools {
                body["tools"] = openai_tools;
            }
            ("/chat/completions".into(), Api::OpenAiChat, body)
        }
        Provider::Anthropic => {
            let mut body = json!({"model": model, "max_tokens": max, "messages": [{"role": "user", "content": prompt}], "stream": stream});
            if options.check_tools {
                body["tools"] = json!([{"name": CHECK_TOOL, "description": description, "input_schema": parameters}]);
            }
            ("/v1/messages".into(), Api::AnthropicMessages, body)
        }
        Provider::Ollama => {
            let mut body = json!({"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream, "options": {"num_predict": max}});
            if options.check_tools {
                body["tools"] = openai_tools;
            }
            ("/api/chat".into(), Api::OllamaChat, body)
        }
        Provider::Gemini => {
            let mut body = json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}], "generationConfig": {"maxOutputTokens": max}});
            if options.check_tools {
                body["tools"] = json!([{"functionDeclarations": [{"name": CHECK_TOOL, "description": description, "parameters": parameters}]}]);
            }
            let path = if stream {
                format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
            } else {
                format!("/v1beta/models/{model}:generateContent")
            };
            (path, Api::GeminiGenerate, body)
        }
    }
}
