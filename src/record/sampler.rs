//! Samples the CPU, memory and thread count of a run's whole process tree (the command,
//! its children and grandchildren) at a fixed interval, with sysinfo.
//!
//! The kernel's `ru_maxrss` is the peak of the largest *single* process; an agent run that
//! spawns node, git and python needs the tree's total, which only sampling gives. A sample
//! is the sum over the tree's live processes: RSS in bytes, threads (Linux only), and CPU
//! in percent of one core: the growth of the processes' accumulated CPU time since the
//! previous sample over the wall time between them (clock-tick resolution, 10 ms on Linux;
//! CPU of a process that starts and ends between two samples is not seen). A peak shorter
//! than the interval can be missed.

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
            let mut cpu = CpuTracker::default();
            for tick in 1u32.. {
                if let Some(sample) = take_sample(&mut system, root, include_root, &clock, &mut cpu)
                {
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

/// CPU time seen at the previous sample, per process.
#[derive(Default)]
struct CpuTracker {
    cpu_ms: HashMap<Pid, u64>,
    at: Option<Instant>,
}

fn take_sample(
    system: &mut System,
    root: Pid,
    include_root: bool,
    clock: &RunClock,
    cpu: &mut CpuTracker,
) -> Option<TreeSample> {
    // Every process's parent is needed to find the tree, and its CPU and memory come from
    // the same /proc files; but listing every process's threads (sysinfo's default) would
    // cost more than all the rest on a busy desktop, so threads are read for the tree only.
    let now = Instant::now();
    let (ts, elapsed_ms) = clock.at(now);
    system.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing()
            .with_cpu()
            .with_memory()
            .without_tasks(),
    );
    let members = tree_members(system, root, include_root);
    if members.is_empty() {
        return None;
    }
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&members),
        false,
        ProcessRefreshKind::nothing().with_tasks(),
    );
    let mut sample = TreeSample {
        ts,
        elapsed_ms,
        cpu_percent: 0.0,
        rss_bytes: 0,
        threads: None,
        processes: members.len() as i64,
    };
    let since_ms = match cpu.at {
        Some(previous) => now.saturating_duration_since(previous).as_secs_f64() * 1000.0,
        None => elapsed_ms,
    };
    let mut cpu_ms_now = HashMap::with_capacity(members.len());
    let mut cpu_delta_ms = 0u64;
    for pid in members {
        let Some(process) = system.process(pid) else {
            continue;
        };
        let total = process.accumulated_cpu_time();
        // A process not seen before started after the previous sample: all its time is new.
        cpu_delta_ms += total.saturating_sub(cpu.cpu_ms.get(&pid).copied().unwrap_or(0));
        cpu_ms_now.insert(pid, total);
        sample.rss_bytes += process.memory() as i64;
        if let Some(tasks) = process.tasks() {
            *sample.threads.get_or_insert(0) += tasks.len().max(1) as i64;
        }
    }
    if since_ms > 0.0 {
        sample.cpu_percent = cpu_delta_ms as f64 / since_ms * 100.0;
    }
    cpu.cpu_ms = cpu_ms_now;
    cpu.at = Some(now);
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

    #[test]
    fn sampled_cpu_adds_up_to_the_childs_own_cpu_time() {
        // The samples' CPU (percent × time between samples) must add up to the CPU time the
        // kernel charged the child: true on an idle machine and on one where the child gets
        // a fraction of a core, unlike any fixed "about one core".
        // Reaped below with wait4, which also gives its rusage.
        #[allow(clippy::zombie_processes)]
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("spawn sh");
        let pid = child.id();
        let interval = Duration::from_millis(100);
        let sampler = Sampler::start(pid, true, interval, RunClock::start());
        std::thread::sleep(Duration::from_millis(1200));
        let _ = child.kill();
        // Let the sampler see the dead child once more (its CPU time stays readable until
        // it is reaped).
        std::thread::sleep(interval * 3);
        let samples = sampler.finish();
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own child, not reaped yet; both pointers are valid.
        let reaped = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
        assert_eq!(reaped, pid as i32);
        let tv_ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
        let charged_ms = tv_ms(usage.ru_utime) + tv_ms(usage.ru_stime);
        let mut previous_ms = 0.0;
        let mut sampled_ms = 0.0;
        for s in &samples {
            sampled_ms += s.cpu_percent / 100.0 * (s.elapsed_ms - previous_ms);
            previous_ms = s.elapsed_ms;
        }
        assert!(charged_ms > 0.0, "the child ran");
        // The samples' deltas add up to the child's accumulated CPU time at the last sample
        // (measured here: within one 10 ms clock tick, idle or beside three busy loops), plus
        // whatever it spent after the last sample that saw it, if a busy machine delayed that.
        let tolerance = 30.0 + 0.1 * charged_ms;
        assert!(
            (sampled_ms - charged_ms).abs() <= tolerance,
            "sampled {sampled_ms:.0} ms of CPU, the kernel charged {charged_ms:.0} ms ({} samples)",
            samples.len()
        );
    }
}
