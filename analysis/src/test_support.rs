//! What the unit tests of several modules share: a dataset of the bundled samples.

use runlens_ingest::pipeline::{IngestOptions, Progress, ingest};

/// Ingest that reports nothing.
struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64, _: u64) {}
    fn advance(&self, _: u64) {}
    fn note(&self, _: &str) {}
    fn finish(&self) {}
}

/// A temporary dataset holding every file of `sample-data`.
pub(crate) fn sample_dataset() -> tempfile::TempDir {
    samples_dataset(&[""])
}

/// A temporary dataset holding the files of each of `folders` of `sample-data` (`""`: all
/// of it), each folder ingested on its own, in order.
pub(crate) fn samples_dataset(folders: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../sample-data");
    for folder in folders {
        let options = IngestOptions {
            inputs: vec![format!("{samples}/{folder}")],
            ..IngestOptions::default()
        };
        ingest(&runlens_ingest::Dataset::new(dir.path()), &options, &Quiet).expect("ingested");
    }
    dir
}
