#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod analyze;
pub mod catalogue;
pub mod cells;
pub mod chart_data;
pub mod compare;
pub mod dialect;
pub mod error;
pub mod labels;
pub mod memory;
pub mod prices;
pub mod probe;
pub mod projections;
pub mod query;
pub mod release;
pub mod report_content;
pub mod scan;
pub mod sessions;
pub mod spark;
pub mod stats;
pub mod targets;
#[cfg(test)]
mod test_support;
pub mod views;

pub use error::{AnalysisError, Result};
pub use query::{run_query_statement, run_sql};
pub use scan::DatasetReader;

/// The polars types results are returned in, for the crates that render them.
pub use polars::prelude::DataFrame;
