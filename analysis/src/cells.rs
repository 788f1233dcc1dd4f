//! Reading single cells of a result frame by column name and row, for renderers and
//! judgements that walk an analysis row by row.

use polars::prelude::*;

/// The cell as text (None when null or missing).
pub fn text(df: &DataFrame, column: &str, row: usize) -> Option<String> {
    df.column(column)
        .ok()
        .and_then(|c| c.get(row).ok())
        .and_then(|v| match v {
            AnyValue::String(s) => Some(s.to_string()),
            AnyValue::StringOwned(s) => Some(s.to_string()),
            AnyValue::Null => None,
            other => Some(other.to_string()),
        })
}

/// The cell as a number (None when null, missing or not numeric).
pub fn number(df: &DataFrame, column: &str, row: usize) -> Option<f64> {
    df.column(column)
        .ok()
        .and_then(|c| c.get(row).ok())
        .and_then(|v| v.extract::<f64>())
}
