//! The provider catalogue: which provider and API a request speaks, from its path and
//! body, and what the request asked for.

use serde_json::Value;

/// The providers runlens speaks to, each with its own base-URL variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// OpenAI and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio, ...).
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// Ollama's native API (its OpenAI-compatible `/v1` endpoints are read as OpenAI's).
    Ollama,
    /// Google's Gemini API (`generateContent`, `streamGenerateContent`).
    Gemini,
}

impl Provider {
    /// Every provider, in documentation order.
    pub const ALL: [Provider; 4] = [
        Provider::OpenAi,
        Provider::Anthropic,
        Provider::Ollama,
        Provider::Gemini,
    ];

    /// The name in the dataset's `provider` column and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
            Provider::Gemini => "gemini",
        }
    }

    /// The provider called `name` (case-insensitive).
    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The official endpoint, in the form of the provider's base-URL variable.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Ollama => "http://127.0.0.1:11434",
            Provider::Gemini => "https://generativelanguage.googleapis.com",
        }
    }

    /// The environment variables clients read the provider's base URL from.
    pub fn base_url_variables(self) -> &'static [&'static str] {
        match self {
            Provider::OpenAi => &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
            Provider::Anthropic => &["ANTHROPIC_BASE_URL"],
            Provider::Ollama => &["OLLAMA_HOST"],
            Provider::Gemini => &["GOOGLE_GEMINI_BASE_URL", "GEMINI_BASE_URL"],
        }
    }

    /// The variables holding the provider's API key (read by the probe, never stored).
    pub fn api_key_variables(self) -> &'static [&'static str] {
        match self {
            Provider::OpenAi => &["OPENAI_API_KEY"],
            Provider::Anthropic => &["ANTHROPIC_API_KEY"],
            Provider::Ollama => &[],
            Provider::Gemini => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        }
    }
}

/// The API a request speaks, from its path: decides how its body and reply are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `.../chat/completions` (OpenAI and every compatible server).
    OpenAiChat,
    /// `.../completions` (legacy text completions).
    OpenAiCompletions,
    /// `.../responses` (OpenAI Responses API).
    OpenAiResponses,
    /// `.../embeddings`.
    OpenAiEmbeddings,
    /// `.../v1/messages` (Anthropic Messages).
    AnthropicMessages,
    /// `/api/chat` (Ollama).
    OllamaChat,
    /// `/api/generate` (Ollama).
    OllamaGenerate,
    /// `/api/embed`, `/api/embeddings` (Ollama).
    OllamaEmbed,
    /// `...:generateContent`, `...:streamGenerateContent` (Gemini).
    GeminiGenerate,
}

impl Api {
    /// The API of a request path (query removed), if it is an LLM call runlens records.
    pub fn of_path(path: &str) -> Option<Api> {
        let path = path.trim_end_matches('/');
        if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
            return Some(Api::GeminiGenerate);
        }
        let ends = |suffix: &str| path.ends_with(suffix);
        Some(if ends("/chat/completions") {
            Api::OpenAiChat
        } else if ends("/completions") {
            Api::OpenAiCompletions
        } else if ends("/responses") {
            Api::OpenAiResponses
        } else if ends("/embeddings") && !path.starts_with("/api/") {
            Api::OpenAiEmbeddings
        } else if ends("/messages") {
            Api::AnthropicMessages
        } else if path == "/api/chat" {
            Api::OllamaChat
        } else if path == "/api/generate" {
            Api::OllamaGenerate
        } else if path == "/api/embed" || path == "/api/embeddings" {
            Api::OllamaEmbed
        } else {
            return None;
        })
    }

    /// Whether the reply ends with an explicit terminator (`[DONE]`, `message_stop`,
    /// `done: true`, `response.completed`) whose absence means the stream was cut.
    pub(crate) fn has_terminator(self) -> bool {
        matches!(
            self,
            Api::OpenAiChat
                | Api::OpenAiCompletions
                | Api::OpenAiResponses
                | Api::AnthropicMessages
                | Api::OllamaChat
                | Api::OllamaGenerate
        )
    }
}

/// What the request asked for, read from its path and body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestInfo {
    /// The model named in the request (Gemini: in the path).
    pub model: Option<String>,
    /// Whether the request asked for a streamed reply.
    pub stream: bool,
    /// Whether the body was not valid JSON (the upstream will say why).
    pub malformed: bool,
    /// Tools offered to the model.
    pub tools_offered: usize,
}

impl RequestInfo {
    /// Reads a request of `api` at `path` with `body`.
    pub fn read(api: Api, path: &str, body: &[u8]) -> RequestInfo {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let json = parsed.as_ref();
        let model = match api {
            Api::GeminiGenerate => gemini_model_of_path(path),
            _ => json
                .and_then(|v| v.get("model"))
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let stream_flag = json.and_then(|v| v.get("stream")).and_then(Value::as_bool);
        let stream = match api {
            Api::GeminiGenerate => path.contains(":streamGenerateContent"),
            // Ollama streams unless told not to.
            Api::OllamaChat | Api::OllamaGenerate => stream_flag.unwrap_or(true),
            _ => stream_flag.unwrap_or(false),
        };
        let tools_offered = json
            .and_then(|v| v.get("tools"))
            .and_then(Value::as_array)
            .map(|tools| match api {
                // Gemini groups functionDeclarations inside tool objects.
                Api::GeminiGenerate => tools
                    .iter()
                    .map(|t| {
                        t.get("functionDeclarations")
                            .and_then(Value::as_array)
                            .map_or(1, Vec::len)
                    })
                    .sum(),
                _ => tools.len(),
            })
            .unwrap_or(0);
        RequestInfo {
            model,
            stream,
            malformed: json.is_none() && !body.is_empty(),
            tools_offered,
        }
    }
}

/// `models/gemini-2.5-flash:generateContent` → `gemini-2.5-flash`.
fn gemini_model_of_path(path: &str) -> Option<String> {
    let rest = &path[path.find("models/")? + "models/".len()..];
    let end = rest.find(':').unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}
