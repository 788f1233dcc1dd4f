//! `runlens record`: runs a command N times (after warm-ups) and writes each run straight
//! into the dataset: the run with its timing and kernel figures, its phases (from the
//! command's output), its process-tree samples and its expected outputs.
//!
//! Each run is its own commit, written as soon as the run ends: a recorder killed mid-way
//! loses at most the run in flight, and Ctrl-C still writes that run, flagged. Everything
//! stored is redacted first (command line, saved output).

mod accounting;
mod artifacts;
mod child;
mod clock;
mod host;
mod output;
mod rows;
mod sampler;
mod settle;
mod signals;
mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use regex::Regex;
use runlens_ingest::recorded::{RecordedSource, write_recorded_with};
use runlens_ingest::redact::Redactor;
use runlens_ingest::schema::{Labels, TableRows};
use runlens_reports::RecordSummary;
use runlens_reports::units::{format_bytes, format_duration_ms};

pub use accounting::{Accounting, AccountingChoice};
pub use artifacts::Expectations;
pub use signals::Interrupt;

use child::{ChildSpec, run_child, run_hook};
use host::Host;
use output::OutputSettings;

/// Everything `runlens record` was asked to do.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Counted runs.
    pub runs: u32,
    /// Warm-up runs before them (written, flagged).
    pub warmup: u32,
    /// Shell command before each run.
    pub prepare: Option<String>,
    /// Shell command after each run (after its outputs were checked).
    pub cleanup: Option<String>,
    /// Pause between runs.
    pub cooldown: Duration,
    /// Per-run limit.
    pub timeout: Option<Duration>,
    /// Stop at the first failing run.
    pub fail_fast: bool,
    /// Tree sampling interval (None: off).
    pub sample_interval: Option<Duration>,
    /// `--phase-regex`.
    pub phase_regex: Option<Regex>,
    /// `--expect` globs and their base directory.
    pub expectations: Expectations,
    /// Labels for every row.
    pub labels: Labels,
    /// `/usr/bin/time` or rusage.
    pub accounting: Accounting,
    /// Echo the command's output.
    pub echo: bool,
    /// Save the redacted output of each run under this directory.
    pub save_output: Option<PathBuf>,
    /// Record the LLM calls through a local proxy forwarding to these upstreams.
    pub capture: Option<crate::capture::upstream::Upstreams>,
}

/// How a recording ended.
#[derive(Debug, Clone)]
pub struct RecordResult {
    /// Prefix of every run id of this recording.
    pub recording_id: String,
    /// The end-of-recording table's contents.
    pub summary: RecordSummary,
    /// The signal that stopped the recording, if one did.
    pub interrupted_by: Option<i32>,
}

impl RecordResult {
    /// Whether a counted run failed or missed expected outputs.
    pub fn has_failures(&self) -> bool {
        self.summary.failed_runs > 0 || self.summary.runs_missing_outputs > 0
    }
}

/// Runs the recording and writes it into `dataset`, run by run; `note` receives one
/// progress line per run.
pub fn record(
    dataset: &runlens_ingest::Dataset,
    options: &RecordOptions,
    interrupt: &Interrupt,
    note: &dyn Fn(&str),
) -> anyhow::Result<RecordResult> {
    let redactor = Arc::new(Redactor::from_env());
    let command_line = redactor.redact(&shell_join(&options.command));
    let recording_id = new_recording_id();
    let host = Host::current();
    let phase_regex = options.phase_regex.clone().map(Arc::new);
    if let Some(dir) = &options.save_output {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let settle = Arc::new(settle::OutputSettle::default());
    let capture = match &options.capture {
        Some(upstreams) => Some(crate::capture::Capture::start(
            upstreams.clone(),
            &recording_id,
            Arc::clone(&redactor),
            Some(Arc::clone(&settle) as Arc<dyn crate::capture::PhaseClock>),
        )?),
        None => None,
    };
    if let Some(c) = &capture {
        note(&format!("capturing LLM calls: {}", c.describe()));
    }
    let child_env = capture.as_ref().map(|c| c.child_env()).unwrap_or_default();
    let mut run_starts: Vec<(String, i64)> = Vec::new();
    let total = options.warmup + options.runs;
    // One writer for every run: the commit log is read once, then kept up to date.
    let writer = dataset
        .writer()
        .with_context(|| format!("opening {} for writing", dataset.location()))?;
    let mut recorded = Vec::new();
    let mut interrupted_by = None;
    for index in 0..total {
        if let Some(sig) = interrupt.received() {
            interrupted_by = Some(sig);
            break;
        }
        let is_warmup = index < options.warmup;
        let run_id = format!("{recording_id}-r{index}");
        if let Some(script) = &options.prepare {
            run_hook("--prepare", script).map_err(|e| {
                anyhow::anyhow!(
                    "{e} before run {}; runs before it are in the dataset",
                    index + 1
                )
            })?;
        }
        let log = match &options.save_output {
            Some(dir) => {
                let path = dir.join(format!("{run_id}.log"));
                Some(
                    std::fs::File::create(&path)
                        .with_context(|| format!("creating {}", path.display()))?,
                )
            }
            None => None,
        };
        let result = run_child(ChildSpec {
            argv: &options.command,
            accounting: &options.accounting,
            timeout: options.timeout,
            sample_interval: options.sample_interval,
            output: OutputSettings {
                echo: options.echo,
                phase_regex: phase_regex.clone(),
                log,
                redactor: Arc::clone(&redactor),
                settle: Arc::clone(&settle),
            },
            interrupt,
            env: &child_env,
        })
        .with_context(|| format!("running {command_line}"))?;
        run_starts.push((run_id.clone(), result.start_ts.0));
        let mut artifacts = options.expectations.check(&run_id, result.start_ts);
        artifacts.rows.extend(options.expectations.check_announced(
            &run_id,
            &result.output.announced,
            result.start_ts,
        ));
        if let Some(script) = &options.cleanup
            && let Err(e) = run_hook("--cleanup", script)
        {
            note(&format!("warning: {e} after run {}", index + 1));
        }
        let mut run = rows::RecordedRun::new(
            rows::RunContext {
                run_id: &run_id,
                index,
                is_warmup,
                command_line: &command_line,
                host: &host,
                redactor: &redactor,
            },
            result,
            artifacts,
        );
        note(&progress_line(
            &run,
            index,
            total,
            options.expectations.globs.len(),
        ));
        let mut table_rows = TableRows::default();
        if let Some(capture) = &capture {
            // Calls still streaming when the child exits get a moment to finish.
            let calls = capture.take_calls(Duration::from_secs(2));
            let (llm_calls, tool_calls) =
                crate::capture::assign_to_runs(calls, &run_starts, &mut run.phases);
            let failed = llm_calls.iter().filter(|c| c.error_kind.is_some()).count();
            note(&format!(
                "run {}: {} LLM call(s) captured, {failed} failed",
                index + 1,
                llm_calls.len()
            ));
            table_rows.llm_calls = llm_calls;
            table_rows.tool_calls = tool_calls;
        }
        run.append_rows(&mut table_rows);
        write_recorded_with(
            &writer,
            table_rows,
            &RecordedSource {
                producer: "record",
                description: &command_line,
                labels: &options.labels,
            },
        )
        .with_context(|| format!("writing run {} into {}", index + 1, dataset.location()))?;
        let failed = run.failed();
        let was_interrupted = run.row.interrupted;
        recorded.push(run);
        if was_interrupted {
            interrupted_by = interrupt.received();
            break;
        }
        if options.fail_fast && failed {
            note(&format!(
                "--fail-fast: stopping after failed run {}",
                index + 1
            ));
            break;
        }
        if index + 1 < total && !options.cooldown.is_zero() && interrupt.sleep(options.cooldown) {
            interrupted_by = interrupt.received();
            break;
        }
    }
    if recorded.is_empty() && interrupted_by.is_none() {
        bail!("no run was recorded");
    }
    Ok(RecordResult {
        recording_id,
        summary: summary::summarise(&recorded, options.expectations.globs.len()),
        interrupted_by,
    })
}

/// Checks that the command can be started at all (a usage error, before any run).
pub fn check_program(program: &str) -> Result<(), String> {
    let is_executable = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return if is_executable(Path::new(program)) {
            Ok(())
        } else {
            Err(format!("'{program}' is not an executable file"))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program))) {
        Ok(())
    } else {
        Err(format!("'{program}' was not found on PATH"))
    }
}

fn progress_line(run: &rows::RecordedRun, index: u32, total: u32, expected: usize) -> String {
    let row = &run.row;
    let mut line = format!("run {}/{total}", index + 1);
    if row.is_warmup {
        line.push_str(" (warm-up)");
    }
    line.push_str(&format!(
        ": {}",
        format_duration_ms(row.wall_ms.unwrap_or(0.0))
    ));
    match (row.exit_code, row.signal) {
        (_, Some(sig)) => line.push_str(&format!(", killed by signal {sig}")),
        (Some(code), None) => line.push_str(&format!(", exit {code}")),
        (None, None) => {}
    }
    if row.timed_out {
        line.push_str(", TIMED OUT");
    }
    if row.interrupted {
        line.push_str(", INTERRUPTED");
    }
    line.push_str(&format!(", {} phase(s)", run.phases.len()));
    if let Some(peak) = row.tree_peak_rss_bytes.or(row.max_rss_bytes) {
        line.push_str(&format!(", peak RSS {}", format_bytes(peak)));
    }
    if expected > 0 {
        line.push_str(&format!(", outputs {}/{expected}", run.outputs_produced));
    }
    line
}

/// A command line as a shell would read it back.
fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
            if plain {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn new_recording_id() -> String {
    format!(
        "rec-{}-{:x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%6fZ"),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_join_quotes_what_needs_it() {
        let argv = ["sh", "-c", "echo 'hi' there", "a=b"].map(String::from);
        assert_eq!(shell_join(&argv), r"sh -c 'echo '\''hi'\'' there' a=b");
    }

    #[test]
    fn missing_programs_are_caught_before_running() {
        assert!(check_program("sh").is_ok());
        assert!(check_program("definitely-not-a-command-xyz").is_err());
        assert!(check_program("./no/such/file").is_err());
    }
}
