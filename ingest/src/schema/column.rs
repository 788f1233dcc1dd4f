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
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, TimestampMicrosecondArray,
    new_null_array,
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
    /// Builds the Arrow array holding `values`, in order. The values can be walked twice:
    /// once to size the array's buffers, once to fill them.
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef
    where
        Self: 'a;
}

/// An all-null array of the column's type when every value is `None` (many columns of a
/// table are empty for a given input format): built at once instead of value by value.
fn all_null<'a, V>(mut values: impl Iterator<Item = &'a Option<V>>) -> Option<ArrayRef>
where
    Option<V>: ColumnType,
    V: 'a,
{
    let mut count = 0;
    if values.all(|v| {
        count += 1;
        v.is_none()
    }) {
        Some(new_null_array(
            &<Option<V> as ColumnType>::data_type(),
            count,
        ))
    } else {
        None
    }
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
            fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
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
            fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
                if let Some(nulls) = all_null(values.clone()) {
                    return nulls;
                }
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
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
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
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
        Arc::new(values.copied().collect::<BooleanArray>())
    }
}

/// Text columns, from owned strings or from strings shared by many rows (`Arc<str>`: the
/// provenance columns, the same path and ingest id on every row of a file).
macro_rules! string_column {
    ($ty:ty) => {
        impl ColumnType for $ty {
            const NULLABLE: bool = false;
            fn data_type() -> DataType {
                DataType::Utf8
            }
            fn doc_type() -> &'static str {
                "string"
            }
            fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
                let (count, bytes) = values
                    .clone()
                    .fold((0, 0), |(count, bytes), v| (count + 1, bytes + v.len()));
                let mut builder = StringBuilder::with_capacity(count, bytes);
                values.for_each(|v| builder.append_value(v));
                Arc::new(builder.finish())
            }
        }

        impl ColumnType for Option<$ty> {
            const NULLABLE: bool = true;
            fn data_type() -> DataType {
                DataType::Utf8
            }
            fn doc_type() -> &'static str {
                "string"
            }
            fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
                if let Some(nulls) = all_null(values.clone()) {
                    return nulls;
                }
                let (count, bytes) = values.clone().fold((0, 0), |(count, bytes), v| {
                    (count + 1, bytes + v.as_ref().map_or(0, |v| v.len()))
                });
                let mut builder = StringBuilder::with_capacity(count, bytes);
                values.for_each(|v| builder.append_option(v.as_deref()));
                Arc::new(builder.finish())
            }
        }
    };
}

string_column!(String);
string_column!(Arc<str>);

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
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
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
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
        if let Some(nulls) = all_null(values.clone()) {
            return nulls;
        }
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
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
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
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
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

/// An empty builder for the `labels` column: a map of string keys to string values,
/// the one place its Arrow layout is chosen.
pub(crate) fn labels_builder() -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
}

impl ColumnType for Labels {
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        labels_builder().finish().data_type().clone()
    }
    fn doc_type() -> &'static str {
        "map<string, string>"
    }
    fn to_array<'a>(values: impl Iterator<Item = &'a Self> + Clone) -> ArrayRef {
        let (mut rows, mut entries, mut key_bytes, mut value_bytes) = (0, 0, 0, 0);
        for labels in values.clone() {
            rows += 1;
            entries += labels.0.len();
            for (k, v) in &labels.0 {
                key_bytes += k.len();
                value_bytes += v.len();
            }
        }
        let mut builder = MapBuilder::with_capacity(
            None,
            StringBuilder::with_capacity(entries, key_bytes),
            StringBuilder::with_capacity(entries, value_bytes),
            rows,
        );
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
    use arrow_array::StringArray;

    #[test]
    fn labels_array_matches_declared_type() {
        let mut labels = Labels::default();
        labels.0.insert("provider".into(), "ollama".into());
        let array = Labels::to_array([labels, Labels::default()].iter());
        assert_eq!(array.data_type(), &Labels::data_type());
        assert_eq!(array.len(), 2);
    }

    #[test]
    fn all_null_and_mixed_columns_keep_their_type_and_values() {
        let none: [Option<String>; 3] = [None, None, None];
        let array = <Option<String>>::to_array(none.iter());
        assert_eq!(array.data_type(), &DataType::Utf8);
        assert_eq!((array.len(), array.null_count()), (3, 3));

        let mixed = [None, Some("gpt-4o".to_string()), Some(String::new())];
        let array = <Option<String>>::to_array(mixed.iter());
        let strings = array.as_any().downcast_ref::<StringArray>().expect("utf8");
        assert_eq!(
            strings.iter().collect::<Vec<_>>(),
            [None, Some("gpt-4o"), Some("")]
        );

        let instants: [Option<Timestamp>; 2] = [None, None];
        let array = <Option<Timestamp>>::to_array(instants.iter());
        assert_eq!(array.data_type(), &<Option<Timestamp>>::data_type());
        assert_eq!(array.null_count(), 2);

        let counts = [None, Some(7_i64)];
        let array = <Option<i64>>::to_array(counts.iter());
        let ints = array.as_any().downcast_ref::<Int64Array>().expect("int64");
        assert_eq!(ints.iter().collect::<Vec<_>>(), [None, Some(7)]);

        let ids = ["a".to_string(), "bc".to_string()];
        let array = String::to_array(ids.iter());
        let strings = array.as_any().downcast_ref::<StringArray>().expect("utf8");
        assert_eq!(strings.iter().collect::<Vec<_>>(), [Some("a"), Some("bc")]);
        assert_eq!(array.null_count(), 0);
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
