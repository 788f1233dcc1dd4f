//! Errors of the reports crate.

/// Result alias for the reports crate.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

/// Why a result could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Polars failed to serialise a frame.
    #[error("rendering {format}: {error}")]
    Polars {
        /// Output format being written.
        format: &'static str,
        /// Polars' error, told in this error's message (not as its source: a chain
        /// printed whole would tell it twice).
        error: polars::error::PolarsError,
    },
    /// A typed result could not be serialised.
    #[error("writing JSON: {0}")]
    Json(serde_json::Error),
    /// A CSV record could not be written.
    #[error("writing CSV: {0}")]
    Csv(csv::Error),
    /// A chart could not be drawn or encoded.
    #[error("drawing a chart: {0}")]
    Chart(String),
}
