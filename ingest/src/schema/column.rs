//! Rust field types that can be stored as dataset columns.
//!
//! Each type says which Arrow type it becomes, whether the column is nullable, and how a
//! slice of values turns into an Arrow array. The table definitions in
//! [`super::tables`] use only these types, so every column's Arrow type, nullability and
//! documentation name come from one place.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, ListBuilder, MapBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, TimeUnit};

/// A point in time as UTC microseconds since the Unix epoch, the dataset's one time unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since_epoch.as_micros() as i64)
    }

    /// The UTC calendar day (`YYYY-MM-DD`) this instant falls on: the hive partition key.
    pub fn utc_day(self) -> String {
        chrono::DateTime::from_timestamp_micros(self.0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "1970-01-01".to_string())
    }
}

/// Free-form `key=value` labels (provider, model, version, ...) attached to rows.
///
/// Stored as a Parquet `MAP<string, string>`; keys are unique and kept sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(pub BTreeMap<String, String>);

impl Labels {
    /// Adds every label of `other`, replacing values of keys already present.
    pub fn merge_from(&mut self, other: &Labels) {
        for (k, v) in &other.0 {
            self.0.insert(k.clone(), v.clone());
        }
    }

    /// Parses one `key=value` argument; the key must be non-empty.
    pub fn parse_pair(text: &str) -> Result<(String, String), String> {
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(format!("label '{text}' is not of the form key=value")),
        }
    }

    /// Whether no label is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A Rust type that can be a dataset column.
pub trait ColumnType: Sized {
    /// Whether the column admits nulls.
    const NULLABLE: bool;
    /// The Arrow type of the column.
    fn data_type() -> DataType;
    /// The type as written in `docs/schema.md`.
    fn doc_type() -> &'static str;
    /// Builds the Arrow array holding `values`, in order.
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef
    where
        Self: 'a;
}

macro_rules! primitive_column {
    ($ty:ty, $array:ty, $dt:expr, $doc:literal) => {
        impl ColumnType for $ty {
            const NULLABLE: bool = false;
            fn data_type() -> DataType {
                $dt
            }
            fn doc_type() -> &'static str {
                $doc
            }
            fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
                Arc::new(<$array>::from_iter_values(values.cloned()))
            }
        }
        impl ColumnType for Option<$ty> {
            const NULLABLE: bool = true;
            fn data_type() -> DataType {
                $dt
            }
            fn doc_type() -> &'static str {
                $doc
            }
            fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
                Arc::new(<$array>::from_iter(values.cloned()))
            }
        }
    };
}

primitive_column!(i64, Int64Array, DataType::Int64, "int64");
primitive_column!(i32, Int32Array, DataType::Int32, "int32");
primitive_column!(f64, Float64Array, DataType::Float64, "float64");

impl ColumnType for bool {
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        DataType::Boolean
    }
    fn doc_type() -> &'static str {
        "bool"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.map(|v| Some(*v)).collect::<BooleanArray>())
    }
}

impl ColumnType for Option<bool> {
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        DataType::Boolean
    }
    fn doc_type() -> &'static str {
        "bool"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.copied().collect::<BooleanArray>())
    }
}

impl ColumnType for String {
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn doc_type() -> &'static str {
        "string"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(values))
    }
}

impl ColumnType for Option<String> {
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn doc_type() -> &'static str {
        "string"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.map(|v| v.as_deref()).collect::<StringArray>())
    }
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

impl ColumnType for Timestamp {
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        timestamp_type()
    }
    fn doc_type() -> &'static str {
        "timestamp[us, UTC]"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(values.map(|t| t.0)).with_timezone("UTC"),
        )
    }
}

impl ColumnType for Option<Timestamp> {
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        timestamp_type()
    }
    fn doc_type() -> &'static str {
        "timestamp[us, UTC]"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from_iter(values.map(|t| t.map(|t| t.0)))
                .with_timezone("UTC"),
        )
    }
}

fn list_field(item: DataType) -> Arc<Field> {
    Arc::new(Field::new("item", item, true))
}

impl ColumnType for Option<Vec<f64>> {
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        DataType::List(list_field(DataType::Float64))
    }
    fn doc_type() -> &'static str {
        "list<float64>"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        let mut builder = ListBuilder::new(Float64Builder::new());
        for value in values {
            match value {
                Some(items) => {
                    builder.values().append_slice(items);
                    builder.append(true);
                }
                None => builder.append(false),
            }
        }
        Arc::new(builder.finish())
    }
}

impl ColumnType for Option<Vec<Option<i64>>> {
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        DataType::List(list_field(DataType::Int64))
    }
    fn doc_type() -> &'static str {
        "list<int64>"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        let mut builder = ListBuilder::new(Int64Builder::new());
        for value in values {
            match value {
                Some(items) => {
                    for item in items {
                        builder.values().append_option(*item);
                    }
                    builder.append(true);
                }
                None => builder.append(false),
            }
        }
        Arc::new(builder.finish())
    }
}

fn map_builder() -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
}

impl ColumnType for Labels {
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        map_builder().finish().data_type().clone()
    }
    fn doc_type() -> &'static str {
        "map<string, string>"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        let mut builder = map_builder();
        for labels in values {
            for (k, v) in &labels.0 {
                builder.keys().append_value(k);
                builder.values().append_value(v);
            }
            // Appending a map entry only fails when keys and values differ in length,
            // which the loop above rules out.
            builder
                .append(true)
                .expect("keys and values appended in pairs");
        }
        Arc::new(builder.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_array_matches_declared_type() {
        let mut labels = Labels::default();
        labels.0.insert("provider".into(), "ollama".into());
        let array = Labels::to_array([labels, Labels::default()].iter());
        assert_eq!(array.data_type(), &Labels::data_type());
        assert_eq!(array.len(), 2);
    }

    #[test]
    fn timestamp_day_is_utc() {
        // 2026-11-22T23:59:59Z and one second later.
        assert_eq!(Timestamp(1_795_391_999_000_000).utc_day(), "2026-11-22");
        assert_eq!(Timestamp(1_795_392_000_000_000).utc_day(), "2026-11-23");
    }

    #[test]
    fn label_pairs_need_a_key() {
        assert_eq!(
            Labels::parse_pair("model=llama3.2:3b"),
            Ok(("model".into(), "llama3.2:3b".into()))
        );
        assert!(Labels::parse_pair("=x").is_err());
        assert!(Labels::parse_pair("novalue").is_err());
    }
}
