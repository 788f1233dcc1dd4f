//! Labels as columns: the `labels` MAP of a table expanded into one `label_<key>` column
//! per key present in the data (`provider` → `label_provider`), so SQL and group-bys can
//! use them like any column. Keys are made `snake_case`; rows without the key get null.

use polars::prelude::*;

use crate::error::{AnalysisError, Result};

const ROW: &str = "__runlens_row";

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
pub fn with_label_columns(lf: LazyFrame, keys: &[String]) -> LazyFrame {
    if keys.is_empty() {
        return lf;
    }
    let base = lf.with_row_index(ROW, None);
    let pairs = explode_labels(base.clone().select([col(ROW), col("labels")])).select([
        col(ROW),
        col("labels").struct_().field_by_name("key").alias("key"),
        col("labels")
            .struct_()
            .field_by_name("value")
            .alias("value"),
    ]);
    let mut out = base;
    let mut taken = std::collections::HashSet::new();
    for key in keys {
        let name = label_column(key);
        if !taken.insert(name.clone()) {
            continue;
        }
        let one = pairs
            .clone()
            .filter(col("key").eq(lit(key.as_str())))
            .select([col(ROW), col("value").alias(name.as_str())])
            .unique(Some(cols([ROW])), UniqueKeepStrategy::First);
        out = out.left_join(one, col(ROW), col(ROW));
    }
    out.sort([ROW], SortMultipleOptions::default())
        .drop(cols([ROW]))
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
}
