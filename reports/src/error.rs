//! Errors of the reports crate.

/// Result alias for the reports crate.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

/// Why a result could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Polars failed to serialise a frame.
    #[error("rendering {format}: {source}")]
    Polars {
        /// Output format being written.
        format: &'static str,
        /// Polars' error.
        source: polars::error::PolarsError,
    },
    /// A chart could not be drawn or encoded.
    #[error("drawing a chart: {0}")]
    Chart(String),
}
