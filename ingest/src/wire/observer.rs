//! One call's timeline: the reply's bytes framed as they arrive, each event handed to the
//! provider module of the request's API, and the latency figures kept (first content,
//! gaps between content, last byte).

use serde_json::Value;

use super::framing::{ObjectSplitter, SseDecoder};
use super::{Api, Provider, RequestInfo};
use crate::providers::{Reply, error_of};
use crate::schema::Timestamp;

/// How the reply's body is being framed.
#[derive(Debug)]
pub(super) enum Framing {
    /// Not decided yet (no response head seen).
    Pending,
    Sse(SseDecoder),
    Objects(ObjectSplitter),
    /// A whole JSON body, parsed at the end (kept up to [`MAX_BODY_BYTES`]).
    Body(Vec<u8>),
}

/// Largest non-streamed body kept for reading its usage; beyond it the bytes still pass
/// through but the call's figures are missing (and the row says why).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How a call failed outside the reply's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// `connect`, `timeout`, `stream_cut`, `upstream_io`, `client_gone`, ...
    pub kind: String,
    /// A short description.
    pub message: String,
}

/// Watches one call from its request to the last byte of its reply.
#[derive(Debug)]
pub struct CallObserver {
    pub(super) provider: Provider,
    pub(super) api: Api,
    pub(super) endpoint: String,
    pub(super) request: RequestInfo,
    pub(super) status: Option<u16>,
    pub(super) streamed: bool,
    pub(super) framing: Framing,
    pub(super) body_overflow: bool,
    pub(super) first_content_ms: Option<f64>,
    pub(super) last_content_ms: Option<f64>,
    pub(super) gaps_ms: Vec<f64>,
    pub(super) bad_events: usize,
    pub(super) reply: Reply,
}

impl CallObserver {
    /// Starts watching a request to `path` (the query, which can hold an API key, is
    /// dropped) with `body`; None when the path is not an LLM call runlens records.
    pub fn new(provider: Provider, path: &str, body: &[u8]) -> Option<CallObserver> {
        let endpoint = path.split('?').next().unwrap_or(path);
        Some(CallObserver::with_api(
            provider,
            Api::of_path(endpoint)?,
            path,
            body,
        ))
    }

    /// Starts watching a request whose API the caller knows (the probe builds it).
    pub fn with_api(provider: Provider, api: Api, path: &str, body: &[u8]) -> CallObserver {
        let endpoint = path.split('?').next().unwrap_or(path).to_string();
        let request = RequestInfo::read(api, &endpoint, body);
        CallObserver {
            provider,
            api,
            endpoint,
            request,
            status: None,
            streamed: false,
            framing: Framing::Pending,
            body_overflow: false,
            first_content_ms: None,
            last_content_ms: None,
            gaps_ms: Vec::new(),
            bad_events: 0,
            reply: Reply::default(),
        }
    }

    /// What the request asked for.
    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// Keep the answer's text (up to 64 KiB) for [`CallObserver::text`]: the probe's tool
    /// check reads it; the proxy does not keep what the model said.
    pub fn keep_text(&mut self) {
        self.reply.text.get_or_insert_with(String::new);
    }

    /// The answer's text so far, if kept.
    pub fn text(&self) -> Option<&str> {
        self.reply.text.as_deref()
    }

    /// The response head arrived: its status and content type decide the framing.
    pub fn on_response(&mut self, status: u16, content_type: Option<&str>) {
        self.status = Some(status);
        let content_type = content_type.unwrap_or("").to_ascii_lowercase();
        let ok = (200..300).contains(&status);
        self.framing = if content_type.starts_with("text/event-stream") {
            self.streamed = true;
            Framing::Sse(SseDecoder::default())
        } else if content_type.contains("ndjson") || (ok && self.request.stream) {
            self.streamed = true;
            Framing::Objects(ObjectSplitter::default())
        } else {
            Framing::Body(Vec::new())
        };
    }

    /// Bytes of the reply arrived `at_ms` after the request was sent.
    pub fn on_bytes(&mut self, bytes: &[u8], at_ms: f64) {
        if matches!(self.framing, Framing::Pending) {
            self.on_response(200, None);
        }
        match &mut self.framing {
            Framing::Sse(decoder) => {
                for event in decoder.feed(bytes) {
                    self.on_sse(event.name.as_deref(), &event.data, at_ms);
                }
            }
            Framing::Objects(splitter) => {
                for object in splitter.feed(bytes) {
                    self.on_object(&object, at_ms);
                }
            }
            Framing::Body(body) => {
                if body.is_empty() && !bytes.is_empty() {
                    // A whole reply: its content arrives with its first byte.
                    self.first_content_ms.get_or_insert(at_ms);
                }
                if body.len() + bytes.len() <= MAX_BODY_BYTES {
                    body.extend_from_slice(bytes);
                } else {
                    self.body_overflow = true;
                }
            }
            Framing::Pending => {}
        }
    }

    pub(super) fn on_sse(&mut self, name: Option<&str>, data: &str, at_ms: f64) {
        let data = data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            self.reply.terminated = true;
            return;
        }
        match serde_json::from_str::<Value>(data) {
            Ok(value) => self.on_event(name, &value, at_ms),
            Err(_) => self.bad_events += 1,
        }
    }

    fn on_object(&mut self, bytes: &[u8], at_ms: f64) {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => self.on_event(None, &value, at_ms),
            Err(_) => self.bad_events += 1,
        }
    }

    fn on_event(&mut self, name: Option<&str>, value: &Value, at_ms: f64) {
        let content = self.api.apply(&mut self.reply, name, value);
        if content && self.streamed {
            if let Some(last) = self.last_content_ms {
                self.gaps_ms.push(at_ms - last);
            }
            self.first_content_ms.get_or_insert(at_ms);
            self.last_content_ms = Some(at_ms);
        }
    }

    pub(super) fn on_body(&mut self, body: &[u8], at_ms: f64) {
        if body.is_empty() || self.body_overflow {
            return;
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => {
                let is_error = self.status.is_some_and(|s| s >= 400);
                if is_error {
                    if let Some(message) = error_of(&value) {
                        self.reply.take_error(message);
                    }
                } else {
                    self.on_event(None, &value, at_ms);
                }
                self.reply.terminated = true;
            }
            Err(_) => {
                if self.status.is_some_and(|s| s >= 400) {
                    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
                    self.reply.take_error(text.trim().to_string());
                } else {
                    self.bad_events += 1;
                }
            }
        }
    }
}

/// Who a finished call is: its id, when it was sent, what observed it and (for the
/// recorder) the run and phase it belongs to.
#[derive(Debug, Clone)]
pub struct CallIdentity {
    /// Stable id of the call.
    pub call_id: String,
    /// When the request was sent (UTC).
    pub start_ts: Timestamp,
    /// `proxy` or `probe`.
    pub source: &'static str,
    /// The run, if known now (the recorder assigns it later otherwise).
    pub run_id: Option<String>,
    /// The phase, if known now.
    pub phase: Option<String>,
}

/// At most 300 characters of an error text, on a character boundary.
pub(super) fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
