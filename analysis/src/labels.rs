//! Labels as columns: the `labels` MAP of a table expanded into one `label_<key>` column
//! per key present in the data (`provider` → `label_provider`), so SQL and group-bys can
//! use them like any column. Keys are made `snake_case`; rows without the key get null.

use polars::prelude::*;

use crate::error::{AnalysisError, Result};

fn explode_labels(lf: LazyFrame) -> LazyFrame {
    lf.explode(
        cols(["labels"]),
        ExplodeOptions {
            empty_as_null: true,
            keep_nulls: true,
        },
    )
}

/// The distinct label keys of a table, sorted.
pub fn label_keys(lf: &LazyFrame) -> Result<Vec<String>> {
    let keys = explode_labels(lf.clone().select([col("labels")]))
        .select([col("labels").struct_().field_by_name("key").alias("key")])
        .drop_nulls(None)
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .map_err(AnalysisError::polars("reading label keys"))?;
    let column = keys
        .column("key")
        .and_then(|c| c.str().cloned())
        .map_err(AnalysisError::polars("reading label keys"))?;
    let mut keys: Vec<String> = column.iter().flatten().map(str::to_string).collect();
    keys.sort();
    Ok(keys)
}

/// The column name a label key gets: `label_` + the key in snake_case.
pub fn label_column(key: &str) -> String {
    let mut name = String::from("label_");
    for c in key.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    name.trim_end_matches('_').to_string()
}

/// Adds a `label_<key>` column for each of `keys`, keeping row order.
///
/// Each column is read straight out of the `labels` map of each row (an elementwise
/// expression: no explode, no join, no sort), so a label costs about what a plain column
/// costs and the plan stays streamable.
pub fn with_label_columns(lf: LazyFrame, keys: &[String]) -> LazyFrame {
    let mut taken = std::collections::HashSet::new();
    let columns: Vec<Expr> = keys
        .iter()
        .filter_map(|key| {
            let name = label_column(key);
            taken.insert(name.clone()).then(|| label_value(key, &name))
        })
        .collect();
    if columns.is_empty() {
        return lf;
    }
    lf.with_columns(columns)
}

/// The value of label `key` of each row (null when the row has no such key), named `name`.
pub fn label_value(key: &str, name: &str) -> Expr {
    let key = key.to_string();
    let output = PlSmallStr::from(name);
    col("labels")
        .map(
            move |labels| values_of_key(&labels, &key),
            move |_, _| Ok(Field::new(output.clone(), DataType::String)),
        )
        .alias(name)
}

/// For each row of a `labels` column (a list of `{key, value}` entries), the value of `key`.
fn values_of_key(labels: &Column, key: &str) -> PolarsResult<Column> {
    if labels.is_empty() {
        return Ok(Column::new_empty(labels.name().clone(), &DataType::String));
    }
    // One chunk, so that the offsets index the entries of `get_inner`.
    let list = labels.list()?.rechunk();
    let bounds = list.offsets()?;
    let bounds = bounds.as_slice();
    let nulls = list.is_null();
    let entries = list.get_inner();
    let fields = entries.struct_()?;
    let (keys, values) = (fields.field_by_name("key")?, fields.field_by_name("value")?);
    let (keys, values) = (keys.str()?, values.str()?);
    let found: StringChunked = (0..list.len())
        .map(|row| {
            if nulls.get(row).unwrap_or(true) {
                return None;
            }
            let (from, to) = (bounds[row] as usize, bounds[row + 1] as usize);
            (from..to)
                .find(|&i| keys.get(i) == Some(key))
                .and_then(|i| values.get(i))
        })
        .collect();
    Ok(found.with_name(labels.name().clone()).into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled() -> LazyFrame {
        let pairs = |items: &[(&str, &str)]| {
            let keys: Vec<&str> = items.iter().map(|p| p.0).collect();
            let values: Vec<&str> = items.iter().map(|p| p.1).collect();
            StructChunked::from_series(
                "".into(),
                keys.len(),
                [
                    Series::new("key".into(), keys),
                    Series::new("value".into(), values),
                ]
                .iter(),
            )
            .expect("struct")
            .into_series()
        };
        let labels = Series::new(
            "labels".into(),
            [
                pairs(&[("provider", "ollama"), ("Model Name", "llama3.2:3b")]),
                pairs(&[("provider", "anthropic")]),
                pairs(&[]),
            ],
        );
        DataFrame::new_infer_height(vec![Column::new("n".into(), [1i64, 2, 3]), labels.into()])
            .expect("frame")
            .lazy()
    }

    #[test]
    fn keys_become_columns_in_row_order() {
        let lf = labelled();
        let keys = label_keys(&lf).expect("keys");
        assert_eq!(keys, ["Model Name", "provider"]);
        let df = with_label_columns(lf, &keys).collect().expect("collect");
        let provider: Vec<Option<&str>> = df
            .column("label_provider")
            .expect("column")
            .str()
            .expect("str")
            .iter()
            .collect();
        assert_eq!(provider, [Some("ollama"), Some("anthropic"), None]);
        let n: Vec<Option<i64>> = df
            .column("n")
            .expect("n")
            .i64()
            .expect("i64")
            .iter()
            .collect();
        assert_eq!(n, [Some(1), Some(2), Some(3)]);
        assert!(df.column("label_model_name").is_ok());
    }

    #[test]
    fn values_are_found_across_chunks_and_slices() {
        // Two frames stacked: two chunks, each with its own offsets; then a slice that
        // starts inside the first.
        let frame = labelled().collect().expect("collect");
        let mut stacked = frame.clone();
        stacked.vstack_mut(&frame).expect("vstack");
        assert_eq!(stacked.column("labels").expect("labels").n_chunks(), 2);
        let sliced = stacked.slice(1, 4).lazy();
        let df = with_label_columns(sliced, &["provider".to_string(), "absent".to_string()])
            .collect()
            .expect("collect");
        let column = |name: &str| -> Vec<Option<String>> {
            df.column(name)
                .expect("column")
                .str()
                .expect("str")
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let provider = column("label_provider");
        assert_eq!(
            provider,
            [Some("anthropic"), None, Some("ollama"), Some("anthropic")]
                .map(|v| v.map(str::to_string))
        );
        assert_eq!(column("label_absent"), vec![None; 4]);
    }
}
