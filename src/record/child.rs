//! Runs the command once: spawns it in a process group of its own (under `/usr/bin/time`
//! or bare), tees its output, samples its tree, and reaps it with `wait4` on a thread that
//! notes the exact instant of the exit. The main loop meanwhile watches the timeout and
//! the interrupt flag; either stops the tree: the signal to every process of the tree
//! (the `/usr/bin/time` wrapper spared, so it can still write its report), then SIGKILL
//! to the whole group after a grace period.

use std::os::fd::{AsRawFd, RawFd};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use runlens_ingest::schema::Timestamp;

use runlens_ingest::formats::time_output::TimeReport;

use super::accounting::{Accounting, read_time_report, rusage_report};
use super::clock::RunClock;
use super::output::{CapturedOutput, OutputCapture, OutputSettings, Stream};
use super::sampler::{Sampler, TreeSample, tree_members};
use super::signals::Interrupt;

/// How long a stopped tree gets between the polite signal and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How long the output readers get after the exit to drain the pipes.
const DRAIN_GRACE: Duration = Duration::from_secs(1);
/// How often the main loop looks at the clock and the interrupt flag.
const POLL: Duration = Duration::from_millis(20);

/// One run to execute.
pub struct ChildSpec<'a> {
    /// The command and its arguments.
    pub argv: &'a [String],
    /// How resources are measured.
    pub accounting: &'a Accounting,
    /// Kill the tree after this long.
    pub timeout: Option<Duration>,
    /// Sample the tree this often (None: no sampling).
    pub sample_interval: Option<Duration>,
    /// Output handling.
    pub output: OutputSettings,
    /// Ctrl-C / SIGTERM.
    pub interrupt: &'a Interrupt,
    /// Extra environment variables (the capture proxy's base URLs).
    pub env: &'a [(String, String)],
}

/// What one run did.
pub struct ChildResult {
    /// When it started (UTC).
    pub start_ts: Timestamp,
    /// When it was reaped (UTC).
    pub end_ts: Timestamp,
    /// Spawn to reap, ms (monotonic clock).
    pub wall_ms: f64,
    /// Exit status, if it exited.
    pub exit_code: Option<i32>,
    /// Terminating signal, if one.
    pub signal: Option<i32>,
    /// Kernel figures: the `/usr/bin/time` report, or the rusage as a report.
    pub usage: TimeReport,
    /// Killed at the timeout.
    pub timed_out: bool,
    /// Stopped by Ctrl-C / SIGTERM.
    pub interrupted: bool,
    /// Tree samples.
    pub samples: Vec<TreeSample>,
    /// Output lines and phases.
    pub output: CapturedOutput,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum StopReason {
    Timeout,
    Interrupt(i32),
}

/// Runs the command once, to the end or until stopped.
pub fn run_child(spec: ChildSpec<'_>) -> std::io::Result<ChildResult> {
    let report_dir = tempfile::tempdir()?;
    let report_file = report_dir.path().join("time-report");
    let mut command = spec.accounting.command(spec.argv, &report_file);
    command
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);

    let clock = RunClock::start();
    let mut child = command.spawn()?;
    let pid = child.id();
    let mut streams: Vec<(Box<dyn std::io::Read + Send>, Stream, Option<RawFd>)> = Vec::new();
    if let Some(out) = child.stdout.take() {
        let fd = out.as_raw_fd();
        streams.push((Box::new(out), Stream::Stdout, Some(fd)));
    }
    if let Some(err) = child.stderr.take() {
        let fd = err.as_raw_fd();
        streams.push((Box::new(err), Stream::Stderr, Some(fd)));
    }
    let capture = OutputCapture::start(streams, spec.output, clock);
    let sampler = spec
        .sample_interval
        .map(|interval| Sampler::start(pid, !spec.accounting.has_wrapper(), interval, clock));

    let (reaped_tx, reaped) = mpsc::channel();
    std::thread::spawn(move || {
        let result = wait_for(pid);
        let _ = reaped_tx.send((Instant::now(), result));
    });
    let deadline = spec.timeout.map(|t| Instant::now() + t);
    let mut stopping: Option<(StopReason, Instant)> = None;
    let mut killed = false;
    let (exited_at, wait_result) = loop {
        match reaped.recv_timeout(POLL) {
            Ok(done) => break done,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(std::io::Error::other("the reaper thread died"));
            }
        }
        match stopping {
            None => {
                let reason = match (spec.interrupt.received(), deadline) {
                    (Some(sig), _) => Some(StopReason::Interrupt(sig)),
                    (None, Some(d)) if Instant::now() >= d => Some(StopReason::Timeout),
                    _ => None,
                };
                if let Some(reason) = reason {
                    let signal = match reason {
                        StopReason::Interrupt(sig) => sig,
                        StopReason::Timeout => libc::SIGTERM,
                    };
                    signal_tree(pid, spec.accounting.has_wrapper(), signal);
                    stopping = Some((reason, Instant::now()));
                }
            }
            Some((_, since)) if !killed && since.elapsed() >= KILL_GRACE => {
                // SAFETY: plain syscall; pid is our child's process group (process_group(0)).
                unsafe { libc::killpg(pid as libc::pid_t, libc::SIGKILL) };
                killed = true;
            }
            Some(_) => {}
        }
    };
    // The std handle must not reap again: the pid is gone.
    drop(child);
    let (status, rusage) = wait_result?;
    let (end_ts, wall_ms) = clock.at(exited_at);
    let samples = sampler.map(Sampler::finish).unwrap_or_default();
    let output = capture.finish(DRAIN_GRACE);

    let wrapper_report = match spec.accounting {
        Accounting::Rusage => None,
        _ => read_time_report(&report_file),
    };
    let (mut exit_code, mut signal) = decode_status(status);
    let usage = match wrapper_report {
        Some(report) => {
            // The wrapper's own status is not the command's: the report says what the command did.
            if report.exit_code.is_some() || report.signal.is_some() {
                exit_code = report.exit_code;
                signal = report.signal;
            }
            report
        }
        // No report (or no wrapper): the kernel's figures for the process we reaped.
        None => rusage_report(&rusage),
    };
    if exit_code.is_none() && signal.is_none() {
        exit_code = Some(0);
    }
    Ok(ChildResult {
        start_ts: clock.started_at(),
        end_ts,
        wall_ms,
        exit_code,
        signal,
        usage,
        timed_out: stopping.is_some_and(|(r, _)| r == StopReason::Timeout),
        interrupted: matches!(stopping, Some((StopReason::Interrupt(_), _))),
        samples,
        output,
    })
}

/// Blocks until `pid` ends; returns its wait status and rusage.
fn wait_for(pid: u32) -> std::io::Result<(libc::c_int, libc::rusage)> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain old data; all-zero is a valid value.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers to locals; pid is our own unreaped child.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut rusage) };
        if r == pid as libc::pid_t {
            return Ok((status, rusage));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Exit code or signal from a wait status.
fn decode_status(status: libc::c_int) -> (Option<i32>, Option<i32>) {
    if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    }
}

/// Sends `signal` to the tree under `root`. With a wrapper, the wrapper is spared so it can
/// still reap the command and write its report; without one, the whole group gets it.
fn signal_tree(root: u32, spare_root: bool, signal: i32) {
    if spare_root && let Ok(mut system) = sysinfo::System::new() {
        system.refresh_processes_specifics(
            sysinfo::ProcessesToUpdate::All,
            true,
            sysinfo::ProcessRefreshKind::nothing().without_tasks(),
        );
        let members = tree_members(&system, sysinfo::Pid::from_u32(root), false);
        if !members.is_empty() {
            for pid in members {
                // SAFETY: plain syscall on a pid of the tree.
                unsafe { libc::kill(pid.as_u32() as libc::pid_t, signal) };
            }
            return;
        }
    }
    // SAFETY: plain syscall; root is the leader of its own process group.
    unsafe { libc::killpg(root as libc::pid_t, signal) };
}

/// Runs a `--prepare` / `--cleanup` shell command; Err says how it failed.
pub fn run_hook(what: &str, script: &str) -> Result<(), String> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} command failed ({status})")),
        Err(e) => Err(format!("{what} command could not run: {e}")),
    }
}
