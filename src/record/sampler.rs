//! Samples the CPU, memory and thread count of a run's whole process tree (the command,
//! its children and grandchildren) at a fixed interval, with sysinfo.
//!
//! The kernel's `ru_maxrss` is the peak of the largest *single* process; an agent run that
//! spawns node, git and python needs the tree's total, which only sampling gives. A sample
//! is the sum over the tree's live processes: RSS in bytes, CPU in percent of one core
//! (sysinfo's usage since the previous refresh, so the first sample reads 0), threads
//! (Linux only). A peak shorter than the interval can be missed.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::clock::RunClock;
use runlens_ingest::schema::Timestamp;

/// One sample of the process tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeSample {
    /// When it was taken.
    pub ts: Timestamp,
    /// Milliseconds since the run started.
    pub elapsed_ms: f64,
    /// Summed CPU, percent of one core.
    pub cpu_percent: f64,
    /// Summed resident set size, bytes.
    pub rss_bytes: i64,
    /// Summed threads (None where the platform does not say).
    pub threads: Option<i64>,
    /// Processes in the tree.
    pub processes: i64,
}

/// A sampling thread for one run.
pub struct Sampler {
    stop: Sender<()>,
    handle: JoinHandle<Vec<TreeSample>>,
}

impl Sampler {
    /// Starts sampling the tree under `root` every `interval`; the root itself is left out
    /// when `include_root` is false (it is the `/usr/bin/time` wrapper, not the workload).
    pub fn start(root: u32, include_root: bool, interval: Duration, clock: RunClock) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let mut samples = Vec::new();
            let Ok(mut system) = System::new() else {
                return samples;
            };
            let root = Pid::from_u32(root);
            let start = Instant::now();
            for tick in 1u32.. {
                if let Some(sample) = take_sample(&mut system, root, include_root, &clock) {
                    samples.push(sample);
                }
                // Ticks on a fixed grid, so the cost of a refresh does not stretch the interval.
                let next = start + interval * tick;
                match stopped.recv_timeout(next.saturating_duration_since(Instant::now())) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
            }
            samples
        });
        Sampler { stop, handle }
    }

    /// Stops sampling and returns the samples.
    pub fn finish(self) -> Vec<TreeSample> {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}

fn take_sample(
    system: &mut System,
    root: Pid,
    include_root: bool,
    clock: &RunClock,
) -> Option<TreeSample> {
    let kind = ProcessRefreshKind::nothing().with_cpu().with_memory();
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    let (ts, elapsed_ms) = clock.now();
    let members = tree_members(system, root, include_root);
    if members.is_empty() {
        return None;
    }
    let mut sample = TreeSample {
        ts,
        elapsed_ms,
        cpu_percent: 0.0,
        rss_bytes: 0,
        threads: None,
        processes: members.len() as i64,
    };
    for pid in members {
        let Some(process) = system.process(pid) else {
            continue;
        };
        sample.cpu_percent += f64::from(process.cpu_usage());
        sample.rss_bytes += process.memory() as i64;
        if let Some(tasks) = process.tasks() {
            *sample.threads.get_or_insert(0) += tasks.len().max(1) as i64;
        }
    }
    Some(sample)
}

/// The pids of the tree rooted at `root` (threads listed as processes left out).
pub fn tree_members(system: &System, root: Pid, include_root: bool) -> Vec<Pid> {
    let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
    for (pid, process) in system.processes() {
        if process.thread_kind().is_some() {
            continue;
        }
        if let Some(parent) = process.parent() {
            children.entry(parent).or_default().push(*pid);
        }
    }
    let mut members = Vec::new();
    if include_root && system.process(root).is_some() {
        members.push(root);
    }
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(kids) = children.get(&pid) {
            for kid in kids {
                members.push(*kid);
                stack.push(*kid);
            }
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_a_tree_with_a_grandchild() {
        // sh -> sh -> sleep: the grandchild must be counted.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sh -c 'sleep 2' & wait"])
            .spawn()
            .expect("spawn sh");
        let clock = RunClock::start();
        let sampler = Sampler::start(child.id(), true, Duration::from_millis(50), clock);
        std::thread::sleep(Duration::from_millis(400));
        let samples = sampler.finish();
        let _ = child.kill();
        let _ = child.wait();
        assert!(samples.len() >= 3, "{samples:?}");
        let last = samples.last().expect("samples");
        assert!(last.processes >= 3, "sh, sh and sleep: {last:?}");
        assert!(last.rss_bytes > 0);
        if cfg!(target_os = "linux") {
            assert!(last.threads.unwrap_or(0) >= 3, "{last:?}");
        }
    }
}
