//! Robustness: every parser, fed every bundled sample cut at many points and with bytes
//! flipped, returns rows or a rejection, and never panics.

use std::path::{Path, PathBuf};

use runlens_ingest::formats::{ParseContext, ParseError, ParseOptions, REGISTRY, RowSink, detect};
use runlens_ingest::schema::TableRows;

fn samples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-data");
    let mut files = Vec::new();
    for dir in ["time", "logs", "bench", "hyperfine", "latency"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("sample dir") {
            files.push(entry.expect("entry").path());
        }
    }
    files.sort();
    files
}

/// Parses `bytes` with every format (and with detection); panics propagate to the test.
fn parse_all(bytes: &[u8], options: &ParseOptions) -> usize {
    let mut rows = 0;
    let ctx = ParseContext {
        file_id: "f",
        path: Path::new("input"),
        options,
    };
    let _ = detect(
        &bytes[..bytes.len().min(65536)],
        Path::new("input"),
        options,
    );
    for format in REGISTRY {
        let mut spill = |spilled: TableRows| {
            rows += spilled.len();
            Ok(())
        };
        let mut sink = RowSink::new(&mut spill, 64);
        match format.parse(&mut &bytes[..], &ctx, &mut sink) {
            Ok(()) | Err(ParseError::Rejected(_)) => {}
            Err(ParseError::Dataset(e)) => {
                panic!("{}: dataset error without a dataset: {e}", format.name())
            }
        }
        rows += sink.finish().0.len();
    }
    rows
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn truncated_samples_never_panic() {
    let options = ParseOptions::default();
    for path in samples() {
        let bytes = std::fs::read(&path).expect("read sample");
        let step = (bytes.len() / 60).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            parse_all(&bytes[..cut], &options);
        }
    }
}

#[test]
fn corrupted_samples_never_panic() {
    let options = ParseOptions::default();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for path in samples() {
        let original = std::fs::read(&path).expect("read sample");
        for _ in 0..40 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.next() % 8 {
                let at = (rng.next() as usize) % bytes.len().max(1);
                if let Some(b) = bytes.get_mut(at) {
                    *b = match rng.next() % 4 {
                        0 => b'\n',
                        1 => b'"',
                        2 => 0xff,
                        _ => rng.next() as u8,
                    };
                }
            }
            parse_all(&bytes, &options);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let options = ParseOptions::default();
    let mut rng = Rng(42);
    for len in [0usize, 1, 2, 17, 300, 5000] {
        for _ in 0..20 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            parse_all(&bytes, &options);
        }
    }
}
