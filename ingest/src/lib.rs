#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod dataset;
pub mod error;
pub mod forks;
pub mod formats;
pub mod pipeline;
pub mod providers;
pub mod recorded;
pub mod redact;
pub mod schema;
pub mod sessions;
pub mod usage;
pub mod validate;
pub mod window;
pub mod wire;

pub use dataset::Dataset;
pub use error::{IngestError, Result};
pub use pipeline::{FileOutcome, FileStatus, IngestOptions, IngestSummary, Progress, ingest};
