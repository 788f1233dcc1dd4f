//! The child's stdout and stderr: passed through to the terminal live, byte for byte, and
//! read line by line for phase markers (the log parser's rules), each line stamped with
//! the moment it arrived. With `--save-output DIR` the lines are also written, redacted
//! and prefixed with that UTC timestamp, to `DIR/<run_id>.log`, a file `runlens ingest`
//! reads back as a run log.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::fd::RawFd;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use regex::Regex;
use runlens_ingest::formats::run_log::{PhaseMatcher, PhaseTracker};
use runlens_ingest::redact::Redactor;

use super::clock::RunClock;
use super::settle::{OutputSettle, wait_readable};

/// A line longer than this is cut: phase markers are short, and memory stays bounded.
const MAX_LINE_BYTES: usize = 1 << 20;

/// Which of our own streams a child stream is echoed to.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Our stdout.
    Stdout,
    /// Our stderr.
    Stderr,
}

/// What happens to each output line besides the echo.
pub struct OutputSettings {
    /// Echo the child's output to ours.
    pub echo: bool,
    /// `--phase-regex`.
    pub phase_regex: Option<Arc<Regex>>,
    /// Where to save the redacted output, if anywhere.
    pub log: Option<File>,
    /// Redacts saved lines.
    pub redactor: Arc<Redactor>,
    /// Tells the capture proxy when every line written so far has been stamped.
    pub settle: Arc<OutputSettle>,
}

struct Shared {
    tracker: PhaseTracker,
    announced: Vec<String>,
    lines: u64,
    log: Option<BufWriter<File>>,
    regex: Option<Arc<Regex>>,
    redactor: Arc<Redactor>,
    clock: RunClock,
}

impl Shared {
    fn line(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        self.lines += 1;
        let (ts, _) = self.clock.now();
        let matcher = PhaseMatcher::new(self.regex.as_deref());
        self.tracker.feed(&matcher, text, self.lines, Some(ts));
        if let Some(path) = announced_artifact(text) {
            self.announced.push(path.to_string());
        }
        if let Some(log) = &mut self.log {
            let stamp = chrono::DateTime::from_timestamp_micros(ts.0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
                .unwrap_or_default();
            if writeln!(log, "{stamp} {}", self.redactor.redact(text)).is_err() {
                self.log = None;
            }
        }
    }
}

/// The reader threads of one run.
pub struct OutputCapture {
    shared: Arc<Mutex<Shared>>,
    done: Receiver<()>,
    readers: usize,
}

/// What the output said.
pub struct CapturedOutput {
    /// The phases seen.
    pub phases: PhaseTracker,
    /// Paths the command announced with `::runlens artifact PATH`.
    pub announced: Vec<String>,
}

impl OutputCapture {
    /// Starts reading `streams` (each with the stream it is echoed to, and its pipe's
    /// descriptor, waited on with `poll` so that [`OutputSettle`] knows what is unread).
    pub fn start(
        streams: Vec<(Box<dyn Read + Send>, Stream, Option<RawFd>)>,
        settings: OutputSettings,
        clock: RunClock,
    ) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            tracker: PhaseTracker::default(),
            announced: Vec::new(),
            lines: 0,
            log: settings.log.map(BufWriter::new),
            regex: settings.phase_regex,
            redactor: settings.redactor,
            clock,
        }));
        let (done_tx, done) = mpsc::channel();
        let readers = streams.len();
        settings
            .settle
            .watch(streams.iter().filter_map(|(_, _, fd)| *fd).collect());
        for (reader, stream, fd) in streams {
            let shared = Arc::clone(&shared);
            let done_tx = done_tx.clone();
            let echo = settings.echo;
            let settle = Arc::clone(&settings.settle);
            std::thread::spawn(move || {
                pump(reader, stream, fd, echo, &shared, &settle);
                let _ = done_tx.send(());
            });
        }
        OutputCapture {
            shared,
            done,
            readers,
        }
    }

    /// Waits up to `grace` for both streams to close (a background process the command
    /// left behind may hold them open forever), then returns what was read.
    pub fn finish(self, grace: Duration) -> CapturedOutput {
        let until = std::time::Instant::now() + grace;
        for _ in 0..self.readers {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if self.done.recv_timeout(left).is_err() {
                break;
            }
        }
        let mut shared = lock(&self.shared);
        if let Some(log) = &mut shared.log {
            let _ = log.flush();
        }
        shared.log = None;
        CapturedOutput {
            phases: std::mem::take(&mut shared.tracker),
            announced: std::mem::take(&mut shared.announced),
        }
    }
}

const ARTIFACT_MARKER: &str = "::runlens artifact ";

/// The path of a `::runlens artifact PATH` line: the marker starts the line, after at most
/// a timestamp or log prefix without words (`[2026-11-22T10:00:00Z] `).
fn announced_artifact(line: &str) -> Option<&str> {
    let at = line.find(ARTIFACT_MARKER)?;
    let prefix_has_words = line[..at]
        .chars()
        .any(|c| c.is_alphabetic() && c != 'T' && c != 'Z');
    let path = line[at + ARTIFACT_MARKER.len()..].trim();
    (!prefix_has_words && !path.is_empty()).then_some(path)
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic in another reader leaves the tracker usable.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Copies one stream to ours and splits it into lines.
fn pump(
    mut reader: Box<dyn Read + Send>,
    stream: Stream,
    fd: Option<RawFd>,
    mut echo: bool,
    shared: &Mutex<Shared>,
    settle: &OutputSettle,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if let Some(fd) = fd
            && !wait_readable(fd)
        {
            break;
        }
        // Busy from before the bytes leave the pipe until their lines are stamped.
        settle.begin();
        let n = match reader.read(&mut buf) {
            Ok(0) => {
                settle.end();
                break;
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                settle.end();
                continue;
            }
            Err(_) => {
                settle.end();
                break;
            }
        };
        let chunk = &buf[..n];
        if echo {
            // Our stdout may be a closed pipe; the recording goes on without the echo.
            echo = write_through(stream, chunk).is_ok();
        }
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            pending.extend_from_slice(&rest[..pos]);
            lock(shared).line(&pending);
            pending.clear();
            rest = &rest[pos + 1..];
        }
        let room = MAX_LINE_BYTES.saturating_sub(pending.len());
        pending.extend_from_slice(&rest[..rest.len().min(room)]);
        settle.end();
    }
    if !pending.is_empty() {
        lock(shared).line(&pending);
    }
    if let Some(fd) = fd {
        settle.forget(fd);
    }
}

fn write_through(stream: Stream, bytes: &[u8]) -> std::io::Result<()> {
    match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Stream::Stderr => {
            let mut err = std::io::stderr().lock();
            err.write_all(bytes)?;
            err.flush()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phases read from `bytes` given as the child's stdout.
    fn phases_of(bytes: &'static [u8]) -> Vec<runlens_ingest::schema::PhaseRow> {
        let out: Box<dyn Read + Send> = Box::new(bytes);
        let capture = OutputCapture::start(
            vec![(out, Stream::Stdout, None)],
            OutputSettings {
                echo: false,
                phase_regex: None,
                log: None,
                redactor: Arc::new(Redactor::default()),
                settle: Arc::new(OutputSettle::default()),
            },
            RunClock::start(),
        );
        capture
            .finish(Duration::from_secs(5))
            .phases
            .into_phases("r")
    }

    #[test]
    fn phases_come_from_the_output_stamped_on_arrival() {
        let phases = phases_of(b"::runlens phase one\nwork\n");
        assert_eq!(phases.len(), 1);
        assert_eq!(phases[0].phase, "one");
        assert!(phases[0].start_ts.is_some());
    }

    #[test]
    fn artifact_markers_name_paths() {
        assert_eq!(
            announced_artifact("::runlens artifact out/report.md"),
            Some("out/report.md")
        );
        assert_eq!(
            announced_artifact("[2026-11-22T10:00:00.123Z] ::runlens artifact a b.json "),
            Some("a b.json")
        );
        assert_eq!(announced_artifact("echo ::runlens artifact x"), None);
        assert_eq!(announced_artifact("::runlens artifact "), None);
    }

    #[test]
    fn a_line_without_newline_at_the_end_still_counts() {
        let phases = phases_of(b"a\r\n::runlens phase last");
        assert_eq!(phases.len(), 1);
        assert_eq!(phases[0].phase, "last");
    }
}
