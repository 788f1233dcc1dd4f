//! The ingest progress bar (indicatif), drawn only when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runlens_ingest::Progress;

/// A byte-based progress bar on stderr.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar that draws only if stderr is a terminal.
    pub fn for_stderr() -> Self {
        let bar = ProgressBar::hidden();
        if std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {msg})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, files: u64, bytes: u64) {
        self.bar.set_length(bytes);
        self.bar.set_message(format!("{files} files"));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn note(&self, message: &str) {
        self.bar.suspend(|| eprintln!("runlens: {message}"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
