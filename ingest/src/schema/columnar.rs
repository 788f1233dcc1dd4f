//! Rows of a table already in Arrow form: built column by column by a parser for which a
//! row struct per record costs more than reading the record (the latency CSV: millions of
//! short rows, each a 672-byte `LlmCallRow` with a handful of strings and a label map to
//! allocate, convert and free again).
//!
//! Such a batch has the table's exact schema ([`batch_of`] checks it) and is stamped with
//! its provenance ([`stamp_batch`]) the way [`super::TableRow::stamp`] stamps a row, so
//! everything downstream of the parser sees the same columns either way.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, MapArray, RecordBatch, StringArray, new_null_array};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, SchemaRef};

use super::Labels;

/// A batch of `schema` holding the columns `built` (by name) and nulls in every other
/// column. Fails when a built column has the wrong type or length, or a column that admits
/// no nulls was not built.
pub fn batch_of(
    schema: SchemaRef,
    rows: usize,
    mut built: BTreeMap<&'static str, ArrayRef>,
) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| {
            built
                .remove(field.name().as_str())
                .unwrap_or_else(|| new_null_array(field.data_type(), rows))
        })
        .collect();
    if let Some(name) = built.keys().next() {
        return Err(ArrowError::SchemaError(format!(
            "column {name} is not in the table"
        )));
    }
    RecordBatch::try_new(schema, columns)
}

/// `value` repeated `rows` times, as a string column: its bytes copied in one go and its
/// offsets computed (row `i` starts at `i * value.len()`), not appended value by value.
/// Fails when the column would pass the 2 GiB a string column's offsets can address.
pub fn repeated(value: &str, rows: usize) -> Result<ArrayRef, ArrowError> {
    let step = value.len();
    rows.checked_mul(step)
        .and_then(|total| i32::try_from(total).ok())
        .ok_or_else(|| {
            ArrowError::ComputeError(format!(
                "{rows} copies of a {step}-byte value exceed a string column's 2 GiB"
            ))
        })?;
    // No product below overflows: the largest, rows * step, was checked above.
    let offsets: Vec<i32> = (0..=rows).map(|row| (row * step) as i32).collect();
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    let bytes = Buffer::from(value.repeat(rows).into_bytes());
    Ok(Arc::new(StringArray::new(offsets, bytes, None)))
}

/// `batch` with its provenance set as [`super::TableRow::stamp`] sets a row's: a null
/// `source_path` becomes `source_path`, `ingest_id` becomes `ingest_id`, and `labels` are
/// merged into each row's labels (the given ones win over those found in the input).
pub fn stamp_batch(
    batch: &RecordBatch,
    source_path: &str,
    ingest_id: &str,
    labels: &Labels,
) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let rows = batch.num_rows();
    let mut columns = batch.columns().to_vec();
    for (i, field) in schema.fields().iter().enumerate() {
        match field.name().as_str() {
            "source_path" if columns[i].null_count() == rows => {
                columns[i] = repeated(source_path, rows)?;
            }
            "source_path" if columns[i].null_count() > 0 => {
                let given = columns[i].as_any().downcast_ref::<StringArray>();
                let stamped: StringArray = (0..rows)
                    .map(|r| match given {
                        Some(paths) if paths.is_valid(r) => Some(paths.value(r)),
                        _ => Some(source_path),
                    })
                    .collect();
                columns[i] = Arc::new(stamped);
            }
            "ingest_id" => columns[i] = repeated(ingest_id, rows)?,
            "labels" if !labels.is_empty() => {
                let maps = columns[i]
                    .as_any()
                    .downcast_ref::<MapArray>()
                    .ok_or_else(|| ArrowError::SchemaError("labels is not a map".into()))?;
                columns[i] = merge_labels(maps, labels)?;
            }
            _ => {}
        }
    }
    RecordBatch::try_new(schema, columns)
}

/// Each row's labels with `given` merged in, keys kept sorted and unique.
fn merge_labels(maps: &MapArray, given: &Labels) -> Result<ArrayRef, ArrowError> {
    let not_strings = || ArrowError::SchemaError("labels are not strings".into());
    let keys = maps
        .keys()
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(not_strings)?;
    let values = maps
        .values()
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(not_strings)?;
    let offsets = maps.value_offsets();
    let mut builder = super::labels_builder();
    let mut merged: BTreeMap<&str, &str> = BTreeMap::new();
    for row in 0..maps.len() {
        merged.clear();
        for entry in offsets[row] as usize..offsets[row + 1] as usize {
            merged.insert(keys.value(entry), values.value(entry));
        }
        for (k, v) in &given.0 {
            merged.insert(k, v);
        }
        for (k, v) in &merged {
            builder.keys().append_value(k);
            builder.values().append_value(v);
        }
        builder.append(true)?;
    }
    Ok(Arc::new(builder.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnType, LlmCallRow, TableRow};

    /// Rows stamped as structs and as a batch give the same columns.
    #[test]
    fn a_stamped_batch_equals_stamped_rows() {
        let mut found = Labels::default();
        found.0.insert("prompt_set".into(), "code".into());
        found.0.insert("region".into(), "eu".into());
        let mut user = Labels::default();
        user.0.insert("region".into(), "us".into());
        user.0.insert("version".into(), "v2".into());
        let mut rows = vec![
            LlmCallRow {
                call_id: "a".into(),
                source: "latency_csv".into(),
                labels: found.clone(),
                ..Default::default()
            },
            LlmCallRow {
                call_id: "b".into(),
                source: "latency_csv".into(),
                source_path: Some("own.csv".into()),
                ..Default::default()
            },
        ];
        let unstamped = LlmCallRow::to_batch(&rows).expect("batch");
        let stamped = stamp_batch(&unstamped, "x.csv", "ing-1", &user).expect("stamp");
        for row in &mut rows {
            row.stamp(&"x.csv".into(), &"ing-1".into(), &user);
        }
        assert_eq!(stamped, LlmCallRow::to_batch(&rows).expect("batch"));
        let labels = Labels::to_array(rows.iter().map(|r| &r.labels));
        assert_eq!(stamped.column_by_name("labels"), Some(&labels));
    }

    #[test]
    fn a_batch_has_the_table_schema_or_is_refused() {
        let built = BTreeMap::from([
            ("call_id", repeated("id", 2).expect("small")),
            ("source", repeated("latency_csv", 2).expect("small")),
            ("ingest_id", repeated("", 2).expect("small")),
            (
                "labels",
                Labels::to_array([Labels::default(), Labels::default()].iter()),
            ),
        ]);
        let batch = batch_of(LlmCallRow::schema(), 2, built.clone()).expect("batch");
        let rows = vec![
            LlmCallRow {
                call_id: "id".into(),
                source: "latency_csv".into(),
                ..Default::default()
            };
            2
        ];
        assert_eq!(batch, LlmCallRow::to_batch(&rows).expect("batch"));

        let mut unknown = built.clone();
        unknown.insert("no_such_column", repeated("x", 2).expect("small"));
        assert!(batch_of(LlmCallRow::schema(), 2, unknown).is_err());
        let mut missing = built;
        missing.remove("call_id");
        assert!(
            batch_of(LlmCallRow::schema(), 2, missing).is_err(),
            "call_id admits no nulls"
        );
    }
}
