//! `runlens record --capture`: a local proxy for the LLM providers that records every call
//! the wrapped command makes.
//!
//! [`Capture::start`] runs the proxy on its own tokio runtime (the recorder stays
//! synchronous), one loopback port per provider, and gives the variables that point the
//! child at it ([`Capture::child_env`]). Finished calls collect in a [`Collector`]; after
//! each run the recorder takes them ([`Capture::take_calls`], which waits a moment for calls
//! still in flight) and assigns them to the run and to the phase active when each started.
//! A failure of one call (upstream down, a cut stream, a client gone) is data in its row;
//! nothing a call does stops the recording.

mod proxy;
pub mod pump;
pub mod upstream;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use runlens_ingest::redact::Redactor;
use runlens_ingest::schema::{LlmCallRow, ToolCallRow};
use runlens_ingest::wire::Provider;

use upstream::Upstreams;

/// One recorded call.
#[derive(Debug, Clone)]
pub struct CapturedCall {
    /// Its row.
    pub row: LlmCallRow,
    /// The tool calls the model made in it.
    pub tools: Vec<ToolCallRow>,
    /// When every line the recorded command had written before the request was stamped
    /// (µs since the epoch): the moment that decides the call's phase.
    pub phase_ts: Option<i64>,
}

/// Tells the proxy when the recorded command's output has been read up to now
/// ([`crate::record`]'s output readers implement it).
pub trait PhaseClock: Send + Sync {
    /// Whether every byte the command has written so far has been read and stamped.
    fn settled(&self) -> bool;
}

/// Waits (at most 100 ms, without holding up the request) until the command's output
/// is settled, and returns that moment.
pub async fn phase_moment(clock: Option<Arc<dyn PhaseClock>>) -> Option<i64> {
    let clock = clock?;
    let deadline = Instant::now() + Duration::from_millis(100);
    while !clock.settled() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    Some(runlens_ingest::schema::Timestamp::now().0)
}

/// Where the proxy's finished calls collect until the recorder takes them.
pub struct Collector {
    calls: Mutex<Vec<CapturedCall>>,
    in_flight: AtomicUsize,
    next_id: AtomicU64,
    id_prefix: String,
    /// Error texts pass through it before they are stored.
    pub redactor: Arc<Redactor>,
    /// The recorded command's output clock, for phases.
    pub phase_clock: Option<Arc<dyn PhaseClock>>,
}

impl Collector {
    fn new(
        id_prefix: &str,
        redactor: Arc<Redactor>,
        phase_clock: Option<Arc<dyn PhaseClock>>,
    ) -> Collector {
        Collector {
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            id_prefix: id_prefix.to_string(),
            redactor,
            phase_clock,
        }
    }

    /// A new call id, unique within the recording.
    pub fn next_call_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{}-c{n}", self.id_prefix)
    }

    /// A recorded call was sent.
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    /// A recorded call ended.
    pub fn finished(&self, call: CapturedCall) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The running proxy.
pub struct Capture {
    runtime: Option<tokio::runtime::Runtime>,
    ports: Vec<(Provider, u16)>,
    upstreams: Upstreams,
    collector: Arc<Collector>,
}

impl Capture {
    /// Starts one listener per provider on 127.0.0.1 (free ports).
    pub fn start(
        upstreams: Upstreams,
        id_prefix: &str,
        redactor: Arc<Redactor>,
        phase_clock: Option<Arc<dyn PhaseClock>>,
    ) -> anyhow::Result<Capture> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("runlens-proxy")
            .enable_all()
            .build()
            .context("starting the capture proxy's runtime")?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Replies are passed on as they are; no decompression in between.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the proxy's HTTP client")?;
        let collector = Arc::new(Collector::new(id_prefix, redactor, phase_clock));
        let mut ports = Vec::new();
        for (&provider, upstream) in &upstreams.0 {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
                .context("binding the capture proxy to a loopback port")?;
            let port = listener
                .local_addr()
                .context("reading the proxy's port")?
                .port();
            ports.push((provider, port));
            let route = Arc::new(proxy::Route {
                provider,
                upstream: upstream.clone(),
                client: client.clone(),
                collector: Arc::clone(&collector),
            });
            runtime.spawn(serve(listener, route));
        }
        Ok(Capture {
            runtime: Some(runtime),
            ports,
            upstreams,
            collector,
        })
    }

    /// The base-URL variables that point the child at the proxy, one per provider variable.
    pub fn child_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for &(provider, port) in &self.ports {
            let path = &self.upstreams.0[&provider].base_path;
            let url = format!("http://127.0.0.1:{port}{path}");
            for variable in provider.base_url_variables() {
                env.push((variable.to_string(), url.clone()));
            }
        }
        env
    }

    /// One line: each provider's proxy port and upstream.
    pub fn describe(&self) -> String {
        self.ports
            .iter()
            .map(|&(provider, port)| {
                let upstream = &self.upstreams.0[&provider];
                format!(
                    "{} 127.0.0.1:{port} → {}{}",
                    provider.name(),
                    upstream.origin,
                    upstream.base_path
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The calls finished so far, after waiting up to `grace` for those in flight.
    pub fn take_calls(&self, grace: Duration) -> Vec<CapturedCall> {
        let deadline = Instant::now() + grace;
        while self.collector.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.collector
            .calls
            .lock()
            .map(|mut calls| std::mem::take(&mut *calls))
            .unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Accepts connections until the runtime stops; each connection is served on its own task.
async fn serve(listener: tokio::net::TcpListener, route: Arc<proxy::Route>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Each streamed chunk leaves at once (no Nagle delay waiting to coalesce writes).
        let _ = stream.set_nodelay(true);
        let route = Arc::clone(&route);
        tokio::spawn(async move {
            let service = service_fn(move |request| proxy::handle(Arc::clone(&route), request));
            // A connection that breaks (a client killed mid-request) ends here, quietly.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Puts each call into the run it started in (the latest of `runs`, `(run_id, start_ts in
/// µs)` in order, that started before it; a call still in flight when its run was written
/// arrives with the next run) and, for calls of the current run (the last of `runs`), into
/// the phase whose time span holds its start, adding the call's uncached input and output
/// tokens to that phase.
pub fn assign_to_runs(
    calls: Vec<CapturedCall>,
    runs: &[(String, i64)],
    phases: &mut [runlens_ingest::schema::PhaseRow],
) -> (Vec<LlmCallRow>, Vec<ToolCallRow>) {
    let mut rows = Vec::with_capacity(calls.len());
    let mut tools = Vec::new();
    let current = runs.last().map(|(id, _)| id.as_str());
    for captured in calls {
        let (mut call, mut tool_calls) = (captured.row, captured.tools);
        let start = call.start_ts.map(|t| t.0);
        let phase_moment = captured.phase_ts.or(start);
        let run = runs
            .iter()
            .rev()
            .find(|(_, run_start)| start.is_some_and(|s| s >= *run_start))
            .or(runs.last())
            .map(|(id, _)| id.clone());
        if run.as_deref() == current
            && let Some(phase) =
                phases
                    .iter_mut()
                    .find(|p| match (phase_moment, p.start_ts, p.end_ts) {
                        (Some(s), Some(from), Some(to)) => s >= from.0 && s < to.0,
                        (Some(s), Some(from), None) => s >= from.0,
                        _ => false,
                    })
        {
            call.phase = Some(phase.phase.clone());
            if let Some(input) = call.input_tokens {
                phase.input_tokens = Some(phase.input_tokens.unwrap_or(0) + input);
            }
            if let Some(out) = call.output_tokens {
                phase.output_tokens = Some(phase.output_tokens.unwrap_or(0) + out);
            }
        }
        call.run_id = run.clone();
        for t in &mut tool_calls {
            t.run_id = run.clone();
        }
        rows.push(call);
        tools.extend(tool_calls);
    }
    rows.sort_by_key(|c| c.start_ts.map(|t| t.0));
    (rows, tools)
}
