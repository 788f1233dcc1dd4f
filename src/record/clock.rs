//! One clock per run: a monotonic start instant paired with the wall-clock time it
//! corresponds to, so every event of the run (output lines, samples, the exit) gets a UTC
//! timestamp that cannot jump when the system clock is adjusted mid-run.

use std::time::Instant;

use runlens_ingest::schema::Timestamp;

/// The start of a run, on both clocks.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    started: Instant,
    started_at: Timestamp,
}

impl RunClock {
    /// A clock starting now.
    pub fn start() -> Self {
        RunClock {
            started: Instant::now(),
            started_at: Timestamp::now(),
        }
    }

    /// When the run started (UTC).
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    /// The timestamp of `instant` and the milliseconds since the start.
    pub fn at(&self, instant: Instant) -> (Timestamp, f64) {
        let elapsed = instant.saturating_duration_since(self.started);
        (
            Timestamp(self.started_at.0 + elapsed.as_micros() as i64),
            elapsed.as_secs_f64() * 1000.0,
        )
    }

    /// The timestamp of now and the milliseconds since the start.
    pub fn now(&self) -> (Timestamp, f64) {
        self.at(Instant::now())
    }
}
