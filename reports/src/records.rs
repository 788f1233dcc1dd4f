//! Typed rows as JSON and CSV, one way for every output: a row type derives `Serialize`;
//! [`keyed`] puts the `--by` keys in front of its members; [`to_csv`] writes the objects
//! with the `csv` crate (quoting as RFC 4180 says), a null as an empty cell.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ReportError, Result};

/// `row` as a JSON object whose first members are the `by` keys with the group's values.
pub fn keyed<T: Serialize>(by: &[String], keys: &[Option<String>], row: &T) -> Result<Value> {
    let mut object = Map::new();
    for (key, value) in by.iter().zip(keys) {
        object.insert(
            key.clone(),
            value.clone().map_or(Value::Null, Value::String),
        );
    }
    match serde_json::to_value(row).map_err(ReportError::Json)? {
        Value::Object(members) => object.extend(members),
        other => {
            object.insert("value".into(), other);
        }
    }
    Ok(Value::Object(object))
}

/// JSON objects as CSV: the header is `header`, each cell the member of that name.
pub fn to_csv(header: &[String], objects: &[Value]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(ReportError::Csv)?;
    for object in objects {
        let cells = header.iter().map(|name| cell(object.get(name)));
        writer.write_record(cells).map_err(ReportError::Csv)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ReportError::Csv(e.into_error().into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The header of [`to_csv`]: the keys, then `fields`.
pub fn header(by: &[String], fields: &[&str]) -> Vec<String> {
    by.iter()
        .cloned()
        .chain(fields.iter().map(|f| f.to_string()))
        .collect()
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        runs: u64,
        label: &'static str,
        growth: Option<f64>,
    }

    #[test]
    fn keys_first_and_cells_quoted() {
        let by = vec!["provider".to_string()];
        let row = Row {
            runs: 3,
            label: "a, \"b\"",
            growth: None,
        };
        let object = keyed(&by, &[Some("x,y".into())], &row).expect("object");
        assert_eq!(
            object.to_string(),
            r#"{"provider":"x,y","runs":3,"label":"a, \"b\"","growth":null}"#
        );
        let csv = to_csv(&header(&by, &["runs", "label", "growth"]), &[object]).expect("csv");
        assert_eq!(
            csv,
            "provider,runs,label,growth\n\"x,y\",3,\"a, \"\"b\"\"\",\n"
        );
    }
}
