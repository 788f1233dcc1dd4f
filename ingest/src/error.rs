//! Errors of the ingest crate: dataset I/O, locking and Parquet encoding.
//!
//! Parse problems in an input file are *not* errors of this type: they are data
//! ([`crate::formats::Rejection`], [`crate::formats::LineIssue`]) that end up in the
//! `ingest_log` table. An `IngestError` means runlens itself could not do its job
//! (the dataset directory is unwritable, a Parquet file could not be encoded, ...).

use std::path::PathBuf;

/// Result alias for the ingest crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;

/// Failure of runlens's own machinery while reading or writing the dataset.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A file or directory of the dataset could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What runlens was doing ("creating", "renaming", ...).
        action: &'static str,
        /// The path it was doing it to.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Arrow rejected a batch (a schema mismatch: a bug in runlens, please report it).
    #[error("building the {table} batch: {source}")]
    Arrow {
        /// Table being built.
        table: &'static str,
        /// Arrow's error.
        source: arrow_schema::ArrowError,
    },
    /// The Parquet encoder or decoder failed on a dataset file.
    #[error("Parquet {path}: {source}")]
    Parquet {
        /// The dataset file.
        path: PathBuf,
        /// The parquet crate's error.
        source: parquet::errors::ParquetError,
    },
    /// A dataset file does not carry the schema version this runlens understands.
    #[error(
        "{path} has runlens.schema_version {found}, this runlens writes {expected}: use a matching runlens or a new --data directory"
    )]
    SchemaVersion {
        /// The offending file.
        path: PathBuf,
        /// Version found in the file's metadata.
        found: String,
        /// Version this build writes.
        expected: u32,
    },
    /// A commit record of the dataset could not be read or written.
    #[error("commit record {key}: {reason}")]
    CommitRecord {
        /// The record's location.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The dataset's storage (an object store) refused or failed an operation.
    #[error("{location}: {action}: {reason}")]
    Storage {
        /// The dataset's location as the user gave it (never a credential).
        location: String,
        /// What runlens was doing.
        action: String,
        /// Why it failed, one line.
        reason: String,
    },
    /// `--format` named a format runlens does not have.
    #[error("unknown format '{name}'; valid formats: {valid}")]
    UnknownFormat {
        /// What the user asked for.
        name: String,
        /// Comma-separated list of valid names.
        valid: String,
    },
    /// A user-supplied regular expression or format string is invalid.
    #[error("invalid {what}: {reason}")]
    InvalidOption {
        /// Which option ("--phase-regex", "--time-format", ...).
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
}

impl IngestError {
    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IngestError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
