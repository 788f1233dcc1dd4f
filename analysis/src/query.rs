//! `runlens query`: SQL over the dataset with polars SQL, every table registered by name.

use polars::prelude::*;
use polars::sql::SQLContext;
use runlens_ingest::schema::Table;

use crate::error::{AnalysisError, Result};
use crate::scan::DatasetReader;

/// Runs one SQL statement over the dataset's tables and collects the result.
pub fn run_sql(reader: &DatasetReader, sql: &str) -> Result<DataFrame> {
    let mut context = SQLContext::new();
    for table in Table::ALL {
        context.register(table.name(), reader.scan(table)?);
    }
    context
        .execute(sql)
        .and_then(LazyFrame::collect)
        .map_err(AnalysisError::polars("running the query"))
}
