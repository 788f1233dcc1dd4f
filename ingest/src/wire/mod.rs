//! The LLM providers' HTTP wire formats, observed from outside: what the recording proxy
//! and `runlens probe` see of one call (a request body, a status, response bytes arriving
//! over time) turned into an `llm_calls` row and the `tool_calls` rows of the tool calls the
//! model made.
//!
//! [`CallObserver`] is fed as the bytes arrive and never blocks or buffers what it forwards:
//! the caller passes each chunk on to its client first. It frames the body
//! ([`framing`]: SSE, a stream of JSON objects, or one JSON body), hands each event to the
//! event reader of the API the request spoke ([`crate::providers`], one module per provider,
//! shared with the transcript parsers), and keeps the latency
//! figures of `docs/schema.md`: `ttft_ms` at the first *content-bearing* event (text,
//! reasoning or tool-call data — not headers, not a role-only delta, not a ping),
//! `chunk_gaps_ms` between content-bearing events, `total_ms` at the last byte. Token counts
//! are those the provider reported, converted by [`crate::usage::TokenUsage`] into the
//! dataset's buckets; none reported means null with `usage_source = missing`, never 0.
//!
//! Nothing here does I/O or knows about HTTP libraries: the binary's proxy and probe drive it.
//!
//! The parts: [`framing`] (SSE and JSON-stream framing), `observer` (the call's timeline),
//! and `rows` (the finished call as dataset rows).

pub mod framing;

mod observer;
mod rows;

pub use crate::providers::{Api, Provider, RequestInfo};
pub use observer::{CallIdentity, CallObserver, Failure, MAX_BODY_BYTES};

#[cfg(test)]
use crate::redact::Redactor;
#[cfg(test)]
use crate::schema::{LlmCallRow, Timestamp, ToolCallRow};

#[cfg(test)]
mod tests;
