//! Writes a seeded synthetic dataset of recorded workflow runs, written by runlens's own
//! writer (one commit per 500 runs), for engine comparisons and benchmarks at scale:
//!
//!     cargo run --release --example synthetic_dataset -- OUT_DIR [RUNS] [CALLS_PER_RUN] [SEED]
//!
//! Defaults: 10,000 runs, 100 LLM calls per run on average (1 M calls), seed 1. Each run
//! has three phases (`plan`, `act`, `review`), one expected output file, and calls spread
//! over its phases (some between phases, 1 % with no run at all) across five models of
//! four providers, one of them unpriced (`acme/mystery-1`). Every 50th run is a warm-up;
//! about 3 % of runs fail (exit code, signal or timeout) and 2 % of calls end in an error;
//! some figures are missing (a run without peak memory, a phase without tokens, a call
//! without a time to first token). Plus one Claude Code session row per 5 runs, some with
//! no tool call. Every tenth run has resource samples every 500 ms (memory climbing within
//! the run, faster in version 1.5) and its sampled peak. Labels: `version` 1.4 for the first half of the runs, 1.5 for the rest;
//! `suite` alternating `nightly` / `pr` per commit.

use std::path::PathBuf;

use anyhow::Context;
use runlens_analysis::stats::SplitMix64;
use runlens_ingest::Dataset;
use runlens_ingest::recorded::{RecordedSource, write_recorded_with};
use runlens_ingest::schema::{
    ArtifactRow, Labels, LlmCallRow, PhaseRow, RunRow, SampleRow, SessionRow, TableRows, Timestamp,
};

const RUNS_PER_COMMIT: usize = 500;
const PHASES: [&str; 3] = ["plan", "act", "review"];
/// (provider, model, median time to first token in ms, median output tokens per second)
const MODELS: [(&str, &str, f64, f64); 5] = [
    ("anthropic", "claude-sonnet-4-5", 900.0, 60.0),
    ("openai", "gpt-4o-mini", 450.0, 95.0),
    ("openai", "gpt-4.1", 700.0, 70.0),
    ("ollama", "llama3.2:3b", 180.0, 40.0),
    ("acme", "mystery-1", 1200.0, 30.0),
];
/// 2026-11-01T00:00:00Z in microseconds.
const START_US: i64 = 1_793_491_200_000_000;

/// Seeded draws.
struct Draw(SplitMix64);

impl Draw {
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Log-normal around `median` (sigma about 0.5): the skew of latencies.
    fn around(&mut self, median: f64) -> f64 {
        let normal: f64 = (0..6).map(|_| self.unit()).sum::<f64>() - 3.0;
        median * (0.5 * normal * std::f64::consts::SQRT_2).exp()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(
        args.first()
            .context("usage: synthetic_dataset OUT_DIR [RUNS] [CALLS_PER_RUN] [SEED]")?,
    );
    let number = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i)
            .map(|a| {
                a.parse::<u64>()
                    .with_context(|| format!("{a:?} is not a number"))
            })
            .transpose()
            .map(|v| v.unwrap_or(default))
    };
    let runs = number(1, 10_000)? as usize;
    let calls_per_run = number(2, 100)? as usize;
    let seed = number(3, 1)?;
    let dataset = Dataset::new(&out);
    let writer = dataset.writer()?;
    let mut draw = Draw(SplitMix64::new(seed));
    // The samples draw from their own stream: the rest of the dataset is what it was before
    // runs had samples.
    let mut sample_draw = Draw(SplitMix64::new(seed ^ 0x5a4d_504c_4553));
    let (mut calls_written, mut sessions_written) = (0usize, 0usize);
    for (commit, first) in (0..runs).step_by(RUNS_PER_COMMIT).enumerate() {
        let mut rows = TableRows::default();
        for i in first..(first + RUNS_PER_COMMIT).min(runs) {
            add_run(&mut rows, &mut draw, i, calls_per_run);
            if i % SAMPLED_EVERY == 3 {
                add_samples(&mut rows, &mut sample_draw, first >= runs / 2);
            }
        }
        calls_written += rows.llm_calls.len();
        sessions_written += rows.sessions.len();
        let mut labels = Labels::default();
        let version = if first < runs / 2 { "1.4" } else { "1.5" };
        labels.0.insert("version".into(), version.into());
        let suite = if commit % 2 == 0 { "nightly" } else { "pr" };
        labels.0.insert("suite".into(), suite.into());
        let description = format!("synthetic_dataset seed {seed} commit {commit}");
        write_recorded_with(
            &writer,
            rows,
            &RecordedSource {
                producer: "synthetic",
                description: &description,
                labels: &labels,
            },
        )?;
    }
    println!(
        "{}: {runs} runs, {calls_written} LLM calls, {sessions_written} sessions (seed {seed})",
        out.display()
    );
    Ok(())
}

/// Every this many runs, one is sampled by the recorder.
const SAMPLED_EVERY: usize = 10;

/// Resource samples of the run just added, every 500 ms of its wall time, and its sampled
/// tree peak: memory that climbs within the run, faster in version 1.5 (`leaky`).
fn add_samples(rows: &mut TableRows, draw: &mut Draw, leaky: bool) {
    let Some(run) = rows.runs.last_mut() else {
        return;
    };
    let (Some(start), Some(wall)) = (run.start_ts, run.wall_ms) else {
        return;
    };
    let base = draw.around(200.0) * 1024.0 * 1024.0;
    let per_s = match leaky {
        true => draw.around(4.0),
        false => draw.around(1.0),
    } * 1024.0
        * 1024.0;
    let mut peak = 0i64;
    let mut elapsed = 0.0;
    while elapsed <= wall {
        let rss = (base + per_s * elapsed / 1000.0 + draw.around(2.0) * 1024.0 * 1024.0) as i64;
        peak = peak.max(rss);
        rows.samples.push(SampleRow {
            run_id: run.run_id.clone(),
            ts: Some(Timestamp(start.0 + (elapsed * 1000.0) as i64)),
            elapsed_ms: elapsed,
            cpu_percent: Some(draw.around(80.0)),
            rss_bytes: Some(rss),
            threads: Some(8),
            processes: Some(3),
            ..SampleRow::default()
        });
        elapsed += 500.0;
    }
    run.tree_peak_rss_bytes = Some(peak);
}

/// Run `i` with its phases, output, calls and (every fifth run) a session.
fn add_run(rows: &mut TableRows, draw: &mut Draw, i: usize, calls_per_run: usize) {
    let run_id = format!("run-{i:06}");
    let start = START_US + i as i64 * 60_000_000;
    let failed = draw.chance(0.03);
    let (exit_code, signal, timed_out) = match (failed, draw.below(3)) {
        (false, _) => (Some(0), None, false),
        (true, 0) => (Some(1), None, false),
        (true, 1) => (None, Some(9), false),
        (true, _) => (Some(124), None, true),
    };
    let durations: Vec<f64> = [400.0, 6000.0, 1500.0]
        .iter()
        .map(|m| draw.around(*m))
        .collect();
    let wall: f64 = durations.iter().sum::<f64>() + draw.around(50.0);
    rows.runs.push(RunRow {
        run_id: run_id.clone(),
        source: "record".into(),
        command: Some("./workflow.sh".into()),
        run_index: (i % 5) as i32,
        is_warmup: i.is_multiple_of(50),
        start_ts: Some(Timestamp(start)),
        end_ts: Some(Timestamp(start + (wall * 1000.0) as i64)),
        wall_ms: Some(wall),
        user_ms: Some(wall * 0.3 * draw.around(1.0)),
        sys_ms: Some(wall * 0.05 * draw.around(1.0)),
        max_rss_bytes: (!i.is_multiple_of(37))
            .then(|| (draw.around(300.0) * 1024.0 * 1024.0) as i64),
        exit_code,
        signal,
        timed_out,
        ..RunRow::default()
    });
    let mut phase_start = start;
    for (index, (phase, duration)) in PHASES.iter().zip(&durations).enumerate() {
        let tokens = (!i.is_multiple_of(23)).then(|| (draw.around(2000.0), draw.around(400.0)));
        rows.phases.push(PhaseRow {
            run_id: run_id.clone(),
            phase: phase.to_string(),
            phase_index: index as i32,
            phase_number: Some(index as i32 + 1),
            start_ts: Some(Timestamp(phase_start)),
            end_ts: Some(Timestamp(phase_start + (*duration * 1000.0) as i64)),
            duration_ms: Some(*duration),
            input_tokens: tokens.map(|t| t.0 as i64),
            output_tokens: tokens.map(|t| t.1 as i64),
            total_tokens: tokens.map(|t| (t.0 + t.1) as i64),
            ..PhaseRow::default()
        });
        phase_start += (*duration * 1000.0) as i64;
    }
    rows.artifacts.push(ArtifactRow {
        run_id: run_id.clone(),
        path: "out/report.md".into(),
        expected_glob: Some("out/*.md".into()),
        exists: !draw.chance(0.05),
        size_bytes: Some(draw.around(4096.0) as i64),
        produced_by_run: (!draw.chance(0.1)).then_some(true),
        checked_ts: Some(Timestamp(start + (wall * 1000.0) as i64)),
        ..ArtifactRow::default()
    });
    let calls = calls_per_run / 2 + draw.below(calls_per_run.max(1));
    for c in 0..calls {
        let (provider, model, ttft, speed) = MODELS[draw.below(MODELS.len())];
        let phase = match draw.below(20) {
            0 => None,
            k => Some(PHASES[k % 3].to_string()),
        };
        let input = draw.around(3000.0) as i64;
        let output = draw.around(350.0) as i64;
        let cached = draw.chance(0.4);
        let written = draw.chance(0.2);
        let error = draw.chance(0.02);
        rows.llm_calls.push(LlmCallRow {
            call_id: format!("{run_id}-{c:04}"),
            run_id: (!draw.chance(0.01)).then(|| run_id.clone()),
            phase,
            source: "capture".into(),
            provider: Some(provider.into()),
            request_model: Some(model.into()),
            response_model: (!draw.chance(0.1)).then(|| model.into()),
            streamed: Some(true),
            start_ts: Some(Timestamp(start + c as i64 * 200_000)),
            ttft_ms: (!error && !draw.chance(0.03)).then(|| draw.around(ttft)),
            output_tokens_per_s: (!error).then(|| draw.around(speed)),
            input_tokens: (!error).then_some(input),
            output_tokens: (!error).then_some(output),
            cache_read_input_tokens: (!error && cached).then_some(input * 4),
            cache_creation_input_tokens: (!error && written).then_some(input / 2),
            cache_creation_1h_input_tokens: (!error && written && draw.chance(0.5))
                .then_some(input / 4),
            error_kind: error.then(|| "rate_limit".into()),
            http_status: Some(if error { 429 } else { 200 }),
            ..LlmCallRow::default()
        });
    }
    if i.is_multiple_of(5) {
        let (provider, model, _, _) = MODELS[draw.below(4)];
        let tool_calls = match draw.below(8) {
            0 => 0,
            _ => draw.below(40) as i64 + 1,
        };
        rows.sessions.push(SessionRow {
            session_id: format!("session-{i:06}"),
            source_format: "claude-code".into(),
            agent_kind: "main".into(),
            provider: Some(provider.into()),
            model: Some(model.into()),
            started_ts: Some(Timestamp(start)),
            last_activity_ts: Some(Timestamp(start + (wall * 1000.0) as i64)),
            message_count: tool_calls * 2 + 2,
            user_messages: 1,
            assistant_messages: tool_calls + 1,
            tool_calls,
            input_tokens: Some(draw.around(20_000.0) as i64),
            output_tokens: Some(draw.around(2000.0) as i64),
            validation_status: Some(if tool_calls == 0 { "error" } else { "ok" }.into()),
            ..SessionRow::default()
        });
    }
}
