//! Turns what one run did into the dataset's rows: `runs`, `phases`, `samples` and
//! `artifacts`, with the run's figures named for what they are (`max_rss_bytes` from the
//! kernel, `tree_*` from sampling).

use runlens_ingest::redact::Redactor;
use runlens_ingest::schema::{ArtifactRow, PhaseRow, RunRow, SampleRow, TableRows};

use super::artifacts::ArtifactCheck;
use super::child::ChildResult;
use super::host::Host;

/// What a run row needs besides the run's own result.
pub struct RunContext<'a> {
    /// The run's id.
    pub run_id: &'a str,
    /// Position in the recording, warm-ups included.
    pub index: u32,
    /// Whether it is a warm-up.
    pub is_warmup: bool,
    /// The redacted command line.
    pub command_line: &'a str,
    /// The machine.
    pub host: &'a Host,
    /// For phase names.
    pub redactor: &'a Redactor,
}

/// One recorded run, as rows.
#[derive(Debug, Clone)]
pub struct RecordedRun {
    /// The `runs` row.
    pub row: RunRow,
    /// Its phases.
    pub phases: Vec<PhaseRow>,
    /// Its tree samples.
    pub samples: Vec<SampleRow>,
    /// Its expected outputs.
    pub artifacts: Vec<ArtifactRow>,
    /// Expected-output globs the run answered.
    pub outputs_produced: usize,
}

impl RecordedRun {
    /// Builds the rows of one run.
    pub fn new(ctx: RunContext<'_>, result: ChildResult, artifacts: ArtifactCheck) -> Self {
        let run_id = ctx.run_id.to_string();
        let usage = &result.usage;
        let cpu_percent = match (usage.user_ms, usage.sys_ms) {
            (Some(u), Some(s)) if result.wall_ms > 0.0 => Some((u + s) / result.wall_ms * 100.0),
            _ => None,
        };
        let samples = &result.samples;
        let peak = |f: fn(&super::sampler::TreeSample) -> f64| {
            samples
                .iter()
                .map(f)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        };
        let mean = |f: fn(&super::sampler::TreeSample) -> f64| {
            (!samples.is_empty()).then(|| samples.iter().map(f).sum::<f64>() / samples.len() as f64)
        };
        let row = RunRow {
            run_id: run_id.clone(),
            source: "record".into(),
            command: Some(ctx.command_line.to_string()),
            run_index: ctx.index as i32,
            is_warmup: ctx.is_warmup,
            start_ts: Some(result.start_ts),
            end_ts: Some(result.end_ts),
            wall_ms: Some(result.wall_ms),
            cpu_percent,
            tree_peak_rss_bytes: peak(|s| s.rss_bytes as f64).map(|v| v as i64),
            tree_mean_rss_bytes: mean(|s| s.rss_bytes as f64).map(|v| v.round() as i64),
            tree_peak_cpu_percent: peak(|s| s.cpu_percent),
            tree_mean_cpu_percent: mean(|s| s.cpu_percent),
            tree_peak_threads: samples.iter().filter_map(|s| s.threads).max(),
            exit_code: result.exit_code,
            signal: result.signal,
            timed_out: result.timed_out,
            interrupted: result.interrupted,
            host_name: ctx.host.name.clone(),
            host_cpu_model: ctx.host.cpu_model.clone(),
            host_logical_cores: ctx.host.logical_cores,
            host_memory_bytes: ctx.host.memory_bytes,
            host_os: ctx.host.os.clone(),
            source_line: None,
            // The kernel figures (CPU time, max RSS, faults, switches, block I/O) as the
            // time report (or rusage) gave them.
            ..usage.to_run_row()
        };
        let mut tracker = result.output.phases;
        // The last phase ends when the run does.
        tracker.observe_ts(result.end_ts);
        let phases = tracker
            .into_phases(&run_id)
            .into_iter()
            .map(|mut p| {
                p.phase = ctx.redactor.redact(&p.phase);
                p
            })
            .collect();
        let samples = result
            .samples
            .iter()
            .map(|s| SampleRow {
                run_id: run_id.clone(),
                ts: Some(s.ts),
                elapsed_ms: s.elapsed_ms,
                cpu_percent: Some(s.cpu_percent),
                rss_bytes: Some(s.rss_bytes),
                threads: s.threads,
                processes: Some(s.processes),
                ..SampleRow::default()
            })
            .collect();
        RecordedRun {
            row,
            phases,
            samples,
            artifacts: artifacts.rows,
            outputs_produced: artifacts.produced,
        }
    }

    /// Whether the run failed ([`RunRow::failed`], the rule the analyses use).
    pub fn failed(&self) -> bool {
        self.row.failed()
    }

    /// Copies the rows into `rows`.
    pub fn append_rows(&self, rows: &mut TableRows) {
        rows.runs.push(self.row.clone());
        rows.phases.extend(self.phases.iter().cloned());
        rows.samples.extend(self.samples.iter().cloned());
        rows.artifacts.extend(self.artifacts.iter().cloned());
    }
}
