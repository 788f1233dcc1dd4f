//! Query results as data: one renderer per output format, returning text, doing no I/O.

use polars::prelude::*;

use crate::error::{ReportError, Result};
use crate::table::{cell_text, frame_table};

/// Output formats for a result frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFormat {
    /// A terminal table.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of row objects.
    Json,
}

/// Renders `df` in `format`.
pub fn render_frame(df: &mut DataFrame, format: FrameFormat) -> Result<String> {
    match format {
        FrameFormat::Table => Ok(frame_table(df) + "\n"),
        FrameFormat::Csv => {
            let mut flat = flatten_nested(df);
            write_with(&mut flat, "csv", |buf, df| {
                CsvWriter::new(buf).include_header(true).finish(df)
            })
        }
        FrameFormat::Json => write_with(df, "json", |buf, df| {
            JsonWriter::new(buf)
                .with_json_format(JsonFormat::Json)
                .finish(df)
        }),
    }
}

/// The rows of `df` as JSON objects, built from the values themselves (no text is parsed
/// back): numbers, text, booleans, null; lists as arrays, structs as objects, dates and
/// times as the text a table shows.
pub fn frame_rows(df: &DataFrame) -> Vec<serde_json::Value> {
    let columns = df.columns();
    (0..df.height())
        .map(|i| {
            let object = columns
                .iter()
                .map(|c| {
                    let value = c.get(i).map_or(serde_json::Value::Null, |v| json_value(&v));
                    (c.name().to_string(), value)
                })
                .collect();
            serde_json::Value::Object(object)
        })
        .collect()
}

fn json_value(value: &AnyValue<'_>) -> serde_json::Value {
    use serde_json::Value;
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(v) => Value::from(*v),
        AnyValue::Int16(v) => Value::from(*v),
        AnyValue::Int32(v) => Value::from(*v),
        AnyValue::Int64(v) => Value::from(*v),
        AnyValue::UInt8(v) => Value::from(*v),
        AnyValue::UInt16(v) => Value::from(*v),
        AnyValue::UInt32(v) => Value::from(*v),
        AnyValue::UInt64(v) => Value::from(*v),
        AnyValue::Float32(v) => finite(f64::from(*v)),
        AnyValue::Float64(v) => finite(*v),
        AnyValue::List(series) => Value::Array(series.iter().map(|v| json_value(&v)).collect()),
        other => Value::String(cell_text(other)),
    }
}

fn finite(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// CSV has no nested values: list and struct columns become the text a table shows
/// (`key=value, ...` for labels, `[a, b]` for lists).
fn flatten_nested(df: &DataFrame) -> DataFrame {
    let columns = df
        .columns()
        .iter()
        .map(|column| {
            if !column.dtype().is_nested() {
                return column.clone();
            }
            let texts: Vec<Option<String>> = (0..column.len())
                .map(|i| {
                    column
                        .get(i)
                        .ok()
                        .filter(|v| !v.is_null())
                        .map(|v| cell_text(&v))
                })
                .collect();
            Column::new(column.name().clone(), texts)
        })
        .collect();
    DataFrame::new_infer_height(columns).unwrap_or_else(|_| df.clone())
}

fn write_with(
    df: &mut DataFrame,
    format: &'static str,
    write: impl FnOnce(&mut Vec<u8>, &mut DataFrame) -> PolarsResult<()>,
) -> Result<String> {
    let mut buf = Vec::new();
    write(&mut buf, df).map_err(|error| ReportError::Polars { format, error })?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_round_trip_values() {
        let mut df = df!("n" => [1i64, 2], "s" => ["x,y", "z"]).expect("frame");
        let csv = render_frame(&mut df, FrameFormat::Csv).expect("csv");
        assert_eq!(csv, "n,s\n1,\"x,y\"\n2,z\n");
        let json = render_frame(&mut df, FrameFormat::Json).expect("json");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(parsed[0]["s"], "x,y");
        assert_eq!(parsed[1]["n"], 2);
    }

    #[test]
    fn csv_flattens_list_columns() {
        let list = Series::new("times".into(), [Series::new("".into(), [1.5f64, 2.0])]);
        let mut df = DataFrame::new_infer_height(vec![list.into()]).expect("frame");
        let csv = render_frame(&mut df, FrameFormat::Csv).expect("csv");
        assert_eq!(csv, "times\n\"[1.5, 2]\"\n");
    }
}
