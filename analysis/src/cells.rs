//! Reading the columns and cells of a frame polars computed (a query result, a group-by), by
//! column name: a typed column, cast where needed, or a single cell.

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

/// The column `name` as text (cast), or a polars error.
pub fn strings(df: &DataFrame, name: &str) -> PolarsResult<StringChunked> {
    df.column(name)
        .and_then(|c| c.cast(&DataType::String))
        .and_then(|c| c.str().cloned())
}

/// The column `name` as floats (cast).
pub fn floats(df: &DataFrame, name: &str) -> PolarsResult<Float64Chunked> {
    df.column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .and_then(|c| c.f64().cloned())
}

/// The column `name` as 64-bit integers (cast).
pub fn ints(df: &DataFrame, name: &str) -> PolarsResult<Int64Chunked> {
    df.column(name)
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
}

/// The column `name` as counts (cast).
pub fn counts(df: &DataFrame, name: &str) -> PolarsResult<UInt64Chunked> {
    df.column(name)
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
}
