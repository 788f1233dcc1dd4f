//! The proxy itself: an HTTP/1 server on one loopback port per provider that forwards every
//! request to the provider's upstream with reqwest and streams the reply back chunk by
//! chunk, recording each LLM call on the way.
//!
//! What the client sends is passed on unchanged (method, path, query, headers, body) except
//! the hop-by-hop headers, `Host`, and `Accept-Encoding` (so the reply arrives
//! uncompressed and can be read; the client still gets a valid reply). What the upstream
//! answers reaches the client unchanged: status, headers, bytes as they come, and a cut
//! stream as a cut. When the upstream cannot be reached the client gets a 502 (504 on a
//! connect timeout) with a JSON error in OpenAI's shape. Authorization headers and API
//! keys in the query are forwarded and never recorded.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use runlens_ingest::schema::Timestamp;
use runlens_ingest::wire::{CallIdentity, CallObserver, Failure, Provider};
use tokio::sync::mpsc;

use super::pump::{elapsed_ms, error_chain, pump};
use super::upstream::Upstream;
use super::{CapturedCall, Collector, phase_moment};

/// The body of a reply to the client: bytes pushed by the pump as they arrive.
pub struct ChannelBody(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Everything one provider's listener needs.
pub struct Route {
    /// Which provider the port is for.
    pub provider: Provider,
    /// Where its calls go.
    pub upstream: Upstream,
    /// The forwarding client.
    pub client: reqwest::Client,
    /// Where finished calls go.
    pub collector: Arc<Collector>,
}

/// Handles one request from the child.
pub async fn handle(
    route: Arc<Route>,
    request: Request<Incoming>,
) -> Result<Response<ChannelBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Ok(proxy_error(400, &format!("reading the request body: {e}"))),
    };
    let observer = CallObserver::new(route.provider, &path_and_query, &body);
    let url = format!("{}{}", route.upstream.origin, path_and_query);
    let method = match reqwest::Method::from_bytes(parts.method.as_str().as_bytes()) {
        Ok(m) => m,
        Err(_) => return Ok(proxy_error(400, "unsupported method")),
    };
    let mut outgoing = route.client.request(method, &url);
    for (name, value) in &parts.headers {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower) || lower == "host" || lower == "accept-encoding" {
            continue;
        }
        outgoing = outgoing.header(name.as_str(), value.as_bytes());
    }
    let outgoing = outgoing.body(body);
    let start_ts = Timestamp::now();
    let t0 = Instant::now();
    let call_id = route.collector.next_call_id();
    let Some(mut observer) = observer else {
        // Not an LLM call (listing models, say): forwarded, not recorded.
        return Ok(match outgoing.send().await {
            Ok(response) => stream_back(response, None),
            Err(e) => unreachable_upstream(&route, &e),
        });
    };
    route.collector.started();
    // The phase is decided once the command's output up to now has been read, alongside.
    let moment = tokio::spawn(phase_moment(route.collector.phase_clock.clone()));
    let response = match outgoing.send().await {
        Ok(response) => response,
        Err(e) => {
            let reply = unreachable_upstream(&route, &e);
            let failure = Failure {
                kind: if e.is_timeout() { "timeout" } else { "connect" }.into(),
                message: format!(
                    "cannot reach {}: {}",
                    route.upstream.origin,
                    error_chain(&e)
                ),
            };
            let (row, tools) = observer.finish(
                identity(call_id, start_ts),
                elapsed_ms(t0),
                Some(failure),
                &route.collector.redactor,
            );
            let phase_ts = moment.await.ok().flatten();
            route.collector.finished(CapturedCall {
                row,
                tools,
                phase_ts,
            });
            return Ok(reply);
        }
    };
    let (tx, rx) = mpsc::channel(64);
    let head = response_head(&response);
    let collector = Arc::clone(&route.collector);
    tokio::spawn(async move {
        let (failure, last_ms) = pump(response, &mut observer, t0, Some(tx)).await;
        let (row, tools) = observer.finish(
            identity(call_id, start_ts),
            last_ms,
            failure,
            &collector.redactor,
        );
        let phase_ts = moment.await.ok().flatten();
        collector.finished(CapturedCall {
            row,
            tools,
            phase_ts,
        });
    });
    Ok(with_body(head, ChannelBody(rx)))
}

fn identity(call_id: String, start_ts: Timestamp) -> CallIdentity {
    CallIdentity {
        call_id,
        start_ts,
        source: "proxy",
        run_id: None,
        phase: None,
    }
}

/// The upstream's status and headers, minus the hop-by-hop ones.
fn response_head(response: &reqwest::Response) -> hyper::http::response::Builder {
    let mut builder = Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    builder
}

fn with_body(head: hyper::http::response::Builder, body: ChannelBody) -> Response<ChannelBody> {
    head.body(body)
        .unwrap_or_else(|e| proxy_error(502, &format!("bad reply head: {e}")))
}

/// Streams a reply that is not recorded.
fn stream_back(mut response: reqwest::Response, _: Option<()>) -> Response<ChannelBody> {
    let (tx, rx) = mpsc::channel(64);
    let head = response_head(&response);
    tokio::spawn(async move {
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    break;
                }
            }
        }
    });
    with_body(head, ChannelBody(rx))
}

fn unreachable_upstream(route: &Route, error: &reqwest::Error) -> Response<ChannelBody> {
    let status = if error.is_timeout() { 504 } else { 502 };
    proxy_error(
        status,
        &format!(
            "runlens proxy: cannot reach the {} upstream {}: {}",
            route.provider.name(),
            route.upstream.origin,
            error_chain(error)
        ),
    )
}

/// A reply the proxy makes itself, as a JSON error in OpenAI's shape (which the other
/// providers' clients also surface).
fn proxy_error(status: u16, message: &str) -> Response<ChannelBody> {
    let body = serde_json::json!({
        "error": {"message": message, "type": "runlens_proxy_error"}
    })
    .to_string();
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(Ok(Bytes::from(body)));
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(ChannelBody(rx))
        .unwrap_or_else(|_| Response::new(ChannelBody(mpsc::channel(1).1)))
}
