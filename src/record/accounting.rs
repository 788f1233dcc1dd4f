//! How a recorded run's CPU time, peak memory and other kernel counters are measured.
//!
//! Two paths, chosen once per recording:
//! - **time**: the command runs under `/usr/bin/time` (GNU `-v` on Linux, BSD `-l` on macOS
//!   and FreeBSD), which writes its report to a file of ours (`-o`), so the command's own
//!   stderr stays untouched. The report is read by the ingest crate's time parser, the one
//!   parser of that format.
//! - **rusage**: the command runs directly and runlens reads the kernel's rusage of the
//!   reaped child (`wait4`), which covers the command and every descendant it waited for.
//!
//! Both report the same kernel figures: `ru_maxrss` is the peak of the largest *single*
//! process, which is why the recorder also samples the whole tree (see `sampler`).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use runlens_ingest::formats::time_output::{TimeReport, TimeScanner};

/// Which accounting path the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountingChoice {
    /// `/usr/bin/time` when it is there and understood, else rusage.
    Auto,
    /// `/usr/bin/time`, or an error when it is missing.
    Time,
    /// The kernel's child rusage.
    Rusage,
}

/// The accounting path in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounting {
    /// GNU time at this path, run with `-v -o FILE`.
    GnuTime(PathBuf),
    /// BSD time at this path, run with `-l -o FILE`.
    BsdTime(PathBuf),
    /// wait4's rusage of the child.
    Rusage,
}

const TIME_PATH: &str = "/usr/bin/time";

impl Accounting {
    /// Resolves `choice` on this machine.
    pub fn choose(choice: AccountingChoice) -> Result<Self, String> {
        match choice {
            AccountingChoice::Rusage => Ok(Accounting::Rusage),
            AccountingChoice::Auto => Ok(detect_time().unwrap_or(Accounting::Rusage)),
            AccountingChoice::Time => detect_time().ok_or_else(|| {
                format!("--accounting time: no usable {TIME_PATH} (GNU or BSD) on this machine; use --accounting rusage")
            }),
        }
    }

    /// Short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Accounting::GnuTime(_) => "GNU /usr/bin/time -v",
            Accounting::BsdTime(_) => "BSD /usr/bin/time -l",
            Accounting::Rusage => "kernel rusage (wait4)",
        }
    }

    /// Whether the command runs under a wrapper process (whose pid is not the command's).
    pub fn has_wrapper(&self) -> bool {
        !matches!(self, Accounting::Rusage)
    }

    /// The process to spawn for `argv`; time reports go to `report_file`.
    pub fn command(&self, argv: &[String], report_file: &Path) -> Command {
        let (program, flags): (&Path, &[&str]) = match self {
            Accounting::GnuTime(p) => (p, &["-v"]),
            Accounting::BsdTime(p) => (p, &["-l"]),
            Accounting::Rusage => {
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]);
                return cmd;
            }
        };
        let mut cmd = Command::new(program);
        cmd.args(flags)
            .arg("-o")
            .arg(report_file)
            .arg("--")
            .args(argv);
        cmd
    }
}

/// `/usr/bin/time` if it exists and is a flavour runlens reads.
fn detect_time() -> Option<Accounting> {
    let path = PathBuf::from(TIME_PATH);
    if !path.is_file() {
        return None;
    }
    let version = Command::new(&path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&version.stdout) + String::from_utf8_lossy(&version.stderr);
    if text.contains("GNU") {
        Some(Accounting::GnuTime(path))
    } else if cfg!(any(
        target_os = "macos",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    )) {
        Some(Accounting::BsdTime(path))
    } else {
        None
    }
}

/// The kernel figures of `wait4`'s rusage, as a report of format `rusage` (the same shape
/// a `/usr/bin/time` report has, so both paths become a `runs` row the same way).
// `c_long` is i64 here but i32 on 32-bit targets: the conversions are not useless there.
#[allow(clippy::useless_conversion)]
pub fn rusage_report(ru: &libc::rusage) -> TimeReport {
    let ms = |tv: libc::timeval| tv.tv_sec as f64 * 1000.0 + tv.tv_usec as f64 / 1000.0;
    // Linux and the BSDs give ru_maxrss in KiB, macOS in bytes.
    let rss_unit: i64 = if cfg!(target_os = "macos") { 1 } else { 1024 };
    TimeReport {
        format: "rusage",
        user_ms: Some(ms(ru.ru_utime)),
        sys_ms: Some(ms(ru.ru_stime)),
        max_rss_bytes: Some(i64::from(ru.ru_maxrss) * rss_unit),
        major_page_faults: Some(i64::from(ru.ru_majflt)),
        minor_page_faults: Some(i64::from(ru.ru_minflt)),
        voluntary_ctx_switches: Some(i64::from(ru.ru_nvcsw)),
        involuntary_ctx_switches: Some(i64::from(ru.ru_nivcsw)),
        fs_inputs: Some(i64::from(ru.ru_inblock)),
        fs_outputs: Some(i64::from(ru.ru_oublock)),
        ..TimeReport::default()
    }
}

/// The last report in a `/usr/bin/time -o` file, read by the ingest crate's time parser;
/// None when there is none (the wrapper itself was killed).
pub fn read_time_report(path: &Path) -> Option<TimeReport> {
    let file = std::fs::File::open(path).ok()?;
    let mut scanner = TimeScanner::new(None);
    let mut reports: Vec<TimeReport> = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.ok()?;
        reports.extend(scanner.feed(i as u64 + 1, &line));
    }
    reports.extend(scanner.finish());
    reports.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rusage_converts_units() {
        // SAFETY: rusage is plain old data; all-zero is a valid value.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        ru.ru_utime.tv_sec = 1;
        ru.ru_utime.tv_usec = 250_000;
        ru.ru_maxrss = 2048;
        let usage = rusage_report(&ru);
        assert_eq!(usage.format, "rusage");
        assert_eq!(usage.user_ms, Some(1250.0));
        let expected = if cfg!(target_os = "macos") {
            2048
        } else {
            2048 * 1024
        };
        assert_eq!(usage.max_rss_bytes, Some(expected));
    }

    #[test]
    fn a_gnu_report_file_is_read_by_the_ingest_parser() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("report");
        std::fs::write(
            &path,
            "Command exited with non-zero status 3\n\tCommand being timed: \"x\"\n\tUser time (seconds): 1.50\n\tSystem time (seconds): 0.25\n\tPercent of CPU this job got: 90%\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:02.00\n\tMaximum resident set size (kbytes): 1000\n\tExit status: 3\n",
        )
        .expect("write");
        let usage = read_time_report(&path).expect("report");
        assert_eq!(usage.format, "gnu-verbose");
        assert_eq!(usage.user_ms, Some(1500.0));
        assert_eq!(usage.max_rss_bytes, Some(1_024_000));
        assert_eq!(usage.exit_code, Some(3));
        assert!(read_time_report(&dir.path().join("absent")).is_none());
    }
}
