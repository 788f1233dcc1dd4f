//! The tests' fake LLM provider (tests/integration/common/upstream.rs) as a process, for
//! benchmarks: `cargo run --release --example fake_provider -- TTFT_MS CHUNK_MS` prints
//! `http://127.0.0.1:PORT` and serves until killed.

#[path = "../tests/integration/common/upstream.rs"]
#[allow(dead_code)]
mod upstream;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().unwrap_or(0));
    let delays = upstream::Delays {
        ttft_ms: args.next().unwrap_or(0),
        chunk_ms: args.next().unwrap_or(0),
    };
    let server = upstream::FakeUpstream::start(delays);
    println!("{}", server.origin());
    loop {
        std::thread::park();
    }
}
