//! `runlens query`: SQL over the dataset with polars SQL, every table registered by name,
//! with its labels also as `label_<key>` columns (see [`crate::labels`]).

use polars::prelude::*;
use polars::sql::SQLContext;
use runlens_ingest::schema::Table;

use crate::error::{AnalysisError, Result};
use crate::labels::{label_keys, with_label_columns};
use crate::scan::DatasetReader;

/// Runs one SQL statement over the dataset's tables and collects the result.
pub fn run_sql(reader: &DatasetReader, sql: &str) -> Result<DataFrame> {
    run_sql_with(reader, Vec::new(), sql)
}

/// [`run_sql`] with extra tables (computed frames) registered under their names.
pub fn run_sql_with(
    reader: &DatasetReader,
    extra: Vec<(&str, LazyFrame)>,
    sql: &str,
) -> Result<DataFrame> {
    let mut context = SQLContext::new();
    for (name, frame) in extra {
        context.register(name, frame);
    }
    // Label columns cost a scan of `labels` and a join per key: only when asked for.
    let wants_labels = sql.contains("label_");
    for table in Table::ALL {
        let lf = reader.scan(table)?;
        let lf = if wants_labels {
            let keys = label_keys(&lf)?;
            with_label_columns(lf, &keys)
        } else {
            lf
        };
        context.register(table.name(), lf);
    }
    context
        .execute(sql)
        .and_then(LazyFrame::collect)
        .map_err(AnalysisError::polars("running the query"))
}
