//! A load generator for the proxy benchmark (benches/proxy.sh): `N` chat completion
//! requests, `C` at a time, to `$OPENAI_BASE_URL` (the proxy when run under
//! `runlens record --capture`, the upstream itself otherwise), streamed with `stream`.
//! Prints one JSON line: requests, errors, latency to the last byte p50/p99 (ms), requests/s.
//!
//! `cargo run --release --example llm_load -- N C [stream]`

use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let requests: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let concurrency: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let stream = args.get(2).is_some_and(|a| a == "stream");
    let base = std::env::var("OPENAI_BASE_URL").expect("OPENAI_BASE_URL");
    let url = format!("{base}/chat/completions");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let body = serde_json::json!({
        "model": "fake-text",
        "messages": [{"role": "user", "content": "Say hello"}],
        "stream": stream,
        "stream_options": {"include_usage": true},
    })
    .to_string();
    let client = reqwest::Client::new();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let latencies: Vec<Option<f64>> = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(requests);
        for _ in 0..requests {
            let permit = Arc::clone(&semaphore)
                .acquire_owned()
                .await
                .expect("semaphore");
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let t0 = Instant::now();
                let result = async {
                    let mut response = client
                        .post(&url)
                        .header("authorization", "Bearer sk-bench")
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await?;
                    let ok = response.status().is_success();
                    while response.chunk().await?.is_some() {}
                    Ok::<bool, reqwest::Error>(ok)
                }
                .await;
                drop(permit);
                matches!(result, Ok(true)).then(|| t0.elapsed().as_secs_f64() * 1000.0)
            }));
        }
        let mut out = Vec::with_capacity(requests);
        for task in tasks {
            out.push(task.await.ok().flatten());
        }
        out
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut ok: Vec<f64> = latencies.iter().flatten().copied().collect();
    ok.sort_by(f64::total_cmp);
    let quantile = |p: f64| -> f64 {
        if ok.is_empty() {
            return f64::NAN;
        }
        let rank = p * (ok.len() - 1) as f64;
        let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
        ok[lo] + (ok[hi] - ok[lo]) * (rank - lo as f64)
    };
    println!(
        "{}",
        serde_json::json!({
            "requests": requests,
            "errors": requests - ok.len(),
            "p50_ms": quantile(0.5),
            "p99_ms": quantile(0.99),
            "requests_per_s": requests as f64 / seconds,
        })
    );
}
