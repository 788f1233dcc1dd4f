//! Errors of the analysis crate.

/// Result alias for the analysis crate.
pub type Result<T, E = AnalysisError> = std::result::Result<T, E>;

/// Why an analysis or query could not run.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// Polars rejected the query or failed reading the dataset.
    #[error("{context}: {error}")]
    Polars {
        /// What runlens was doing.
        context: String,
        /// Polars' error, told in this error's message (not as its source: a chain
        /// printed whole would tell it twice).
        error: polars::error::PolarsError,
    },
    /// A label was asked for that no row carries.
    #[error("no {table} row has the label {key:?}; labels present: {present}")]
    UnknownLabel {
        /// The table looked at.
        table: &'static str,
        /// The key asked for.
        key: String,
        /// The keys present, comma-separated (or "none").
        present: String,
    },
    /// A saved baseline could not be read or written.
    #[error("baseline {path}: {reason}")]
    Baseline {
        /// Its file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// A targets file does not fit the data (a metric or statistic that does not exist).
    #[error("targets: {0}")]
    Targets(String),
    /// The statements for another engine cannot be written for this dataset.
    #[error("sql: {0}")]
    Views(String),
    /// Spark could not be started, could not be reached, or rejected a statement.
    #[error("spark: {what}: {detail}")]
    Spark {
        /// What runlens asked Spark to do.
        what: String,
        /// What failed, from Spark's own messages.
        detail: String,
    },
    /// The dataset could not be listed.
    #[error(transparent)]
    Dataset(#[from] runlens_ingest::IngestError),
}

impl AnalysisError {
    /// Wraps a polars error with what was being done.
    pub fn polars(context: impl Into<String>) -> impl FnOnce(polars::error::PolarsError) -> Self {
        let context = context.into();
        move |error| AnalysisError::Polars { context, error }
    }
}
