//! A fake LLM provider for the tests: an HTTP server on loopback, in the test's process,
//! that speaks each provider's real wire format (OpenAI Chat Completions, Anthropic
//! Messages, Ollama `/api/chat`, Gemini `generateContent` / `streamGenerateContent`), streamed
//! and not, and injects known delays so measured latencies can be checked.
//!
//! The requested model picks the scenario: a model containing `tool` answers with a tool
//! call, `error-429` / `error-500` with that status and the provider's error body, `cut`
//! streams one chunk and then breaks the connection, `garbage` answers 200 with HTML; any
//! other model answers "Hello world!" in three content chunks. Streams send their head and
//! a content-free first event at once, wait `ttft_ms`, then send content chunks
//! `chunk_ms` apart. Token counts are fixed: 11 input tokens (Anthropic: plus 5 read from
//! the cache), 3 output tokens for the text answer, 9 for a tool call.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Input tokens every reply reports.
pub const INPUT_TOKENS: i64 = 11;
/// Output tokens of the text answer.
pub const TEXT_OUTPUT_TOKENS: i64 = 3;
/// Output tokens of a tool-call answer.
pub const TOOL_OUTPUT_TOKENS: i64 = 9;
/// Anthropic's cache reads.
pub const ANTHROPIC_CACHE_READ: i64 = 5;

/// Injected delays.
#[derive(Debug, Clone, Copy)]
pub struct Delays {
    /// From the request to the first content chunk (and to a whole reply), milliseconds.
    pub ttft_ms: u64,
    /// Between content chunks, milliseconds.
    pub chunk_ms: u64,
}

/// A running fake provider; stops with the test process.
pub struct FakeUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeUpstream {
    /// Starts on a free loopback port.
    pub fn start(delays: Delays) -> FakeUpstream {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        answer(req, delays)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeUpstream {
            addr,
            requests,
            _runtime: runtime,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

type Body = StreamBody<
    std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send>,
    >,
>;

/// What one reply sends: events, each after a pause, then maybe a break.
struct Script {
    status: u16,
    content_type: &'static str,
    /// (pause before, bytes).
    parts: Vec<(u64, String)>,
    /// Break the connection after the parts.
    cut: bool,
}

async fn answer(request: Request<Incoming>, delays: Delays) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    // Like the real APIs, no key no answer: proves the proxy forwards the credentials.
    let authorized = ["authorization", "x-api-key", "x-goog-api-key"]
        .iter()
        .any(|h| request.headers().contains_key(*h))
        || query.contains("key=")
        || path.starts_with("/api/");
    if !authorized {
        return Ok(respond(Script {
            status: 401,
            content_type: "application/json",
            parts: vec![(
                0,
                json!({"error": {"message": "missing API key", "type": "invalid_request_error"}})
                    .to_string(),
            )],
            cut: false,
        }));
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return Ok(respond(Script {
            status: 400,
            content_type: "application/json",
            parts: vec![(0, json!({"error": {"message": "We could not parse the JSON body of your request.", "type": "invalid_request_error"}}).to_string())],
            cut: false,
        }));
    };
    let script = if path.ends_with("/chat/completions") {
        openai(&json, delays)
    } else if path.ends_with("/messages") {
        anthropic(&json, delays)
    } else if path == "/api/chat" {
        ollama(&json, delays)
    } else if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
        let model = path
            .split("models/")
            .nth(1)
            .and_then(|m| m.split(':').next())
            .unwrap_or("")
            .to_string();
        gemini(
            &model,
            path.contains("stream"),
            query.contains("alt=sse"),
            delays,
        )
    } else {
        Script {
            status: 404,
            content_type: "application/json",
            parts: vec![(
                0,
                json!({"error": {"message": format!("no route {path}")}}).to_string(),
            )],
            cut: false,
        }
    };
    Ok(respond(script))
}

fn respond(script: Script) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(16);
    tokio::spawn(async move {
        for (pause, bytes) in script.parts {
            if pause > 0 {
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            if tx.send(Ok(Frame::data(Bytes::from(bytes)))).await.is_err() {
                return;
            }
        }
        if script.cut {
            let _ = tx.send(Err(std::io::Error::other("cut on purpose"))).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .status(script.status)
        .header("content-type", script.content_type)
        .header("x-request-id", "req_fake")
        .body(StreamBody::new(Box::pin(stream) as _))
        .expect("response")
}

fn model_of(json: &Value) -> String {
    json.get("model")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// The error scripts every provider shares (its own error body).
fn error_script(model: &str, body: impl Fn(u16) -> String) -> Option<Script> {
    let status = if model.contains("error-429") {
        429
    } else if model.contains("error-500") {
        500
    } else if model.contains("garbage") {
        return Some(Script {
            status: 200,
            content_type: "text/html",
            parts: vec![(0, "<html><body>upstream is confused</body></html>".into())],
            cut: false,
        });
    } else {
        return None;
    };
    Some(Script {
        status,
        content_type: "application/json",
        parts: vec![(0, body(status))],
        cut: false,
    })
}

const WORDS: [&str; 3] = ["Hello", " world", "!"];

/// Content parts: the first after `ttft_ms`, the rest `chunk_ms` apart (a cut stream stops
/// after the first).
fn timed<F: Fn(&str) -> String>(delays: Delays, cut: bool, event: F) -> Vec<(u64, String)> {
    WORDS
        .iter()
        .take(if cut { 1 } else { WORDS.len() })
        .enumerate()
        .map(|(i, w)| {
            (
                if i == 0 {
                    delays.ttft_ms
                } else {
                    delays.chunk_ms
                },
                event(w),
            )
        })
        .collect()
}

fn sse(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn openai(json: &Value, delays: Delays) -> Script {
    let model = model_of(json);
    if let Some(script) = error_script(&model, |status| {
        json!({"error": {"message": format!("fake {status}"), "type": if status == 429 {"rate_limit_exceeded"} else {"server_error"}}}).to_string()
    }) {
        return script;
    }
    let stream = json.get("stream").and_then(Value::as_bool) == Some(true);
    let include_usage = json
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    let tool = model.contains("tool");
    let cut = model.contains("cut");
    let output = if tool {
        TOOL_OUTPUT_TOKENS
    } else {
        TEXT_OUTPUT_TOKENS
    };
    let usage = json!({"prompt_tokens": INPUT_TOKENS, "completion_tokens": output, "total_tokens": INPUT_TOKENS + output});
    let response_model = format!("{model}-2026-01-01");
    if !stream {
        let message = if tool {
            json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_fake1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]})
        } else {
            json!({"role": "assistant", "content": WORDS.concat()})
        };
        let body = json!({"id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": response_model,
            "choices": [{"index": 0, "message": message, "finish_reason": if tool {"tool_calls"} else {"stop"}}], "usage": usage});
        return Script {
            status: 200,
            content_type: "application/json",
            parts: vec![(delays.ttft_ms, body.to_string())],
            cut: false,
        };
    }
    let chunk = |delta: Value, finish: Value| {
        sse(
            &json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": response_model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    };
    let mut parts = vec![(
        0,
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
    )];
    if tool {
        parts.push((delays.ttft_ms, chunk(json!({"tool_calls": [{"index": 0, "id": "call_fake1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}), Value::Null)));
        for piece in ["{\"city\":", "\"Oslo\"}"] {
            parts.push((
                delays.chunk_ms,
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    Value::Null,
                ),
            ));
        }
    } else {
        parts.extend(timed(delays, cut, |w| {
            chunk(json!({"content": w}), Value::Null)
        }));
    }
    if !cut {
        parts.push((
            0,
            chunk(json!({}), json!(if tool { "tool_calls" } else { "stop" })),
        ));
        if include_usage {
            parts.push((0, sse(&json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": response_model, "choices": [], "usage": usage}))));
        }
        parts.push((0, "data: [DONE]\n\n".into()));
    }
    Script {
        status: 200,
        content_type: "text/event-stream",
        parts,
        cut,
    }
}

fn anthropic(json: &Value, delays: Delays) -> Script {
    let model = model_of(json);
    if let Some(script) = error_script(&model, |status| {
        json!({"type": "error", "error": {"type": if status == 429 {"rate_limit_error"} else {"api_error"}, "message": format!("fake {status}")}}).to_string()
    }) {
        return script;
    }
    let stream = json.get("stream").and_then(Value::as_bool) == Some(true);
    let tool = model.contains("tool");
    let cut = model.contains("cut");
    let output = if tool {
        TOOL_OUTPUT_TOKENS
    } else {
        TEXT_OUTPUT_TOKENS
    };
    if !stream {
        let content = if tool {
            json!([{"type": "tool_use", "id": "toolu_fake1", "name": "get_weather", "input": {"city": "Oslo"}}])
        } else {
            json!([{"type": "text", "text": WORDS.concat()}])
        };
        let body = json!({"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": if tool {"tool_use"} else {"end_turn"}, "stop_sequence": null,
            "usage": {"input_tokens": INPUT_TOKENS, "cache_read_input_tokens": ANTHROPIC_CACHE_READ, "cache_creation_input_tokens": 0, "output_tokens": output}});
        return Script {
            status: 200,
            content_type: "application/json",
            parts: vec![(delays.ttft_ms, body.to_string())],
            cut: false,
        };
    }
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut parts = vec![
        (
            0,
            event(
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
            "usage": {"input_tokens": INPUT_TOKENS, "cache_read_input_tokens": ANTHROPIC_CACHE_READ, "cache_creation_input_tokens": 0, "output_tokens": 1}}}),
            ),
        ),
        (0, event("ping", json!({"type": "ping"}))),
    ];
    if tool {
        parts.push((delays.ttft_ms, event("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_fake1", "name": "get_weather", "input": {}}}))));
        for piece in ["{\"city\":", "\"Oslo\"}"] {
            parts.push((delays.chunk_ms, event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": piece}}))));
        }
    } else {
        parts.push((0, event("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))));
        parts.extend(timed(delays, cut, |w| event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}))));
    }
    if !cut {
        parts.push((
            0,
            event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ),
        ));
        parts.push((0, event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": if tool {"tool_use"} else {"end_turn"}, "stop_sequence": null}, "usage": {"output_tokens": output}}))));
        parts.push((0, event("message_stop", json!({"type": "message_stop"}))));
    }
    Script {
        status: 200,
        content_type: "text/event-stream",
        parts,
        cut,
    }
}

fn ollama(json: &Value, delays: Delays) -> Script {
    let model = model_of(json);
    if let Some(script) = error_script(&model, |status| {
        json!({"error": format!("fake {status}")}).to_string()
    }) {
        return script;
    }
    let stream = json.get("stream").and_then(Value::as_bool) != Some(false);
    let tool = model.contains("tool");
    let cut = model.contains("cut");
    let output = if tool {
        TOOL_OUTPUT_TOKENS
    } else {
        TEXT_OUTPUT_TOKENS
    };
    let done = |content: &str| {
        json!({"model": model, "created_at": "2026-11-22T00:00:00Z", "message": {"role": "assistant", "content": content}, "done": true, "done_reason": "stop",
            "total_duration": 500_000_000u64, "load_duration": 100_000_000u64, "prompt_eval_count": INPUT_TOKENS, "prompt_eval_duration": 50_000_000u64,
            "eval_count": output, "eval_duration": 300_000_000u64})
    };
    let tool_message = json!({"model": model, "message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]}, "done": false});
    if !stream {
        let mut body = done(if tool { "" } else { "Hello world!" });
        if tool {
            body["message"]["tool_calls"] = tool_message["message"]["tool_calls"].clone();
        }
        return Script {
            status: 200,
            content_type: "application/json",
            parts: vec![(delays.ttft_ms, body.to_string())],
            cut: false,
        };
    }
    let mut parts = if tool {
        vec![(delays.ttft_ms, format!("{tool_message}\n"))]
    } else {
        timed(delays, cut, |w| {
            format!(
                "{}\n",
                json!({"model": model, "message": {"role": "assistant", "content": w}, "done": false})
            )
        })
    };
    if !cut {
        parts.push((0, format!("{}\n", done(""))));
    }
    Script {
        status: 200,
        content_type: "application/x-ndjson",
        parts,
        cut,
    }
}

fn gemini(model: &str, stream: bool, sse_framing: bool, delays: Delays) -> Script {
    if let Some(script) = error_script(model, |status| {
        json!({"error": {"code": status, "message": format!("fake {status}"), "status": if status == 429 {"RESOURCE_EXHAUSTED"} else {"INTERNAL"}}}).to_string()
    }) {
        return script;
    }
    let tool = model.contains("tool");
    let cut = model.contains("cut");
    let output = if tool {
        TOOL_OUTPUT_TOKENS
    } else {
        TEXT_OUTPUT_TOKENS
    };
    let reply = |parts: Value, finish: bool, candidates_tokens: i64| {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if finish {
            candidate["finishReason"] = json!("STOP");
        }
        json!({"candidates": [candidate], "usageMetadata": {"promptTokenCount": INPUT_TOKENS, "candidatesTokenCount": candidates_tokens, "totalTokenCount": INPUT_TOKENS + candidates_tokens}, "modelVersion": model})
    };
    if !stream {
        let parts = if tool {
            json!([{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}])
        } else {
            json!([{"text": WORDS.concat()}])
        };
        return Script {
            status: 200,
            content_type: "application/json",
            parts: vec![(delays.ttft_ms, reply(parts, true, output).to_string())],
            cut: false,
        };
    }
    let objects: Vec<(u64, Value)> = if tool {
        vec![(
            delays.ttft_ms,
            reply(
                json!([{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]),
                true,
                output,
            ),
        )]
    } else {
        let count = if cut { 1 } else { WORDS.len() };
        (0..count)
            .map(|i| {
                let pause = if i == 0 {
                    delays.ttft_ms
                } else {
                    delays.chunk_ms
                };
                (
                    pause,
                    reply(
                        json!([{"text": WORDS[i]}]),
                        i == WORDS.len() - 1,
                        i as i64 + 1,
                    ),
                )
            })
            .collect()
    };
    let parts = if sse_framing {
        objects
            .into_iter()
            .map(|(p, o)| (p, format!("data: {o}\r\n\r\n")))
            .collect()
    } else {
        // One JSON array, its elements streamed as they come.
        let n = objects.len();
        objects
            .into_iter()
            .enumerate()
            .map(|(i, (p, o))| {
                let open = if i == 0 { "[" } else { ",\r\n" };
                let close = if i + 1 == n && !cut { "]" } else { "" };
                (p, format!("{open}{o}{close}"))
            })
            .collect()
    };
    Script {
        status: 200,
        content_type: if sse_framing {
            "text/event-stream"
        } else {
            "application/json"
        },
        parts,
        cut,
    }
}
