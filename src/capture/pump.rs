//! Reading one upstream reply chunk by chunk: each chunk is stamped with the moment it
//! arrived, handed on to the client first (when there is one: the proxy), then shown to the
//! [`CallObserver`]. Shared by the proxy and `runlens probe`, so both measure the same way.

use std::time::Instant;

use bytes::Bytes;
use runlens_ingest::wire::{CallObserver, Failure};
use tokio::sync::mpsc;

/// What the pump forwards to the client: bytes, or the error that cut the stream.
pub type Forward = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Milliseconds since `t0`.
pub fn elapsed_ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

/// Reads `response` to its end; returns the failure that ended it early (if any) and the
/// moment its last byte arrived, in milliseconds after `t0`.
pub async fn pump(
    mut response: reqwest::Response,
    observer: &mut CallObserver,
    t0: Instant,
    forward: Option<Forward>,
) -> (Option<Failure>, f64) {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    observer.on_response(response.status().as_u16(), content_type.as_deref());
    let mut last_ms = elapsed_ms(t0);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                last_ms = elapsed_ms(t0);
                if let Some(tx) = &forward
                    && tx.send(Ok(chunk.clone())).await.is_err()
                {
                    observer.on_bytes(&chunk, last_ms);
                    return (
                        Some(Failure {
                            kind: "client_gone".into(),
                            message: "the client closed the connection before the reply ended"
                                .into(),
                        }),
                        last_ms,
                    );
                }
                observer.on_bytes(&chunk, last_ms);
            }
            Ok(None) => return (None, last_ms),
            Err(e) => {
                last_ms = elapsed_ms(t0);
                let failure = Failure {
                    kind: if e.is_timeout() {
                        "timeout"
                    } else {
                        "stream_cut"
                    }
                    .into(),
                    message: format!("the upstream's reply broke off: {}", error_chain(&e)),
                };
                if let Some(tx) = &forward {
                    // The client sees the cut too, as it would without the proxy.
                    let _ = tx
                        .send(Err(std::io::Error::other(failure.message.clone())))
                        .await;
                }
                return (Some(failure), last_ms);
            }
        }
    }
}

/// An error and its sources, one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
