//! Errors of the analysis crate.

/// Result alias for the analysis crate.
pub type Result<T, E = AnalysisError> = std::result::Result<T, E>;

/// Why an analysis or query could not run.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// Polars rejected the query or failed reading the dataset.
    #[error("{context}: {source}")]
    Polars {
        /// What runlens was doing.
        context: String,
        /// Polars' error.
        source: polars::error::PolarsError,
    },
    /// The dataset could not be listed.
    #[error(transparent)]
    Dataset(#[from] runlens_ingest::IngestError),
}

impl AnalysisError {
    /// Wraps a polars error with what was being done.
    pub fn polars(context: impl Into<String>) -> impl FnOnce(polars::error::PolarsError) -> Self {
        let context = context.into();
        move |source| AnalysisError::Polars { context, source }
    }
}
