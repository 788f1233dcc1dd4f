//! Terminal tables (comfy-table): the one layout every command's table output shares.
//!
//! Numbers are right-aligned; nulls are blank; floats keep at most three decimals. Width
//! follows the terminal when stdout is one, and is unconstrained otherwise (pipes, tests).
//! runlens prints no colour, so `NO_COLOR` is honoured trivially.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use polars::prelude::*;

/// Builds an empty table with runlens's look and the given header.
pub fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        table.force_no_tty();
    }
    table
}

/// Right-aligns the given columns (numbers).
pub fn align_right(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Formats one value for a table cell.
pub fn cell_text(value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(v) => format_float(*v),
        AnyValue::Float32(v) => format_float(f64::from(*v)),
        AnyValue::List(items) => list_text(items),
        other => other.to_string(),
    }
}

/// A list cell: `key=value, ...` for label maps, `[a, b]` for other lists.
fn list_text(items: &Series) -> String {
    if let Ok(pairs) = items.struct_() {
        let fields = pairs.fields_as_series();
        if let [keys, values] = fields.as_slice() {
            return (0..pairs.len())
                .map(|i| {
                    let key = keys.get(i).map(|v| cell_text(&v)).unwrap_or_default();
                    let value = values.get(i).map(|v| cell_text(&v)).unwrap_or_default();
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join(", ");
        }
    }
    let texts: Vec<String> = items.iter().map(|v| cell_text(&v)).collect();
    format!("[{}]", texts.join(", "))
}

/// A float with at most three decimals and no trailing zeros.
pub fn format_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Renders a whole frame as a terminal table.
pub fn frame_table(df: &DataFrame) -> String {
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    let mut table = new_table(&names);
    let numeric: Vec<usize> = df
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.dtype().is_primitive_numeric())
        .map(|(i, _)| i)
        .collect();
    for row in 0..df.height() {
        let cells: Vec<String> = df
            .columns()
            .iter()
            .map(|c| c.get(row).map(|v| cell_text(&v)).unwrap_or_default())
            .collect();
        table.add_row(cells);
    }
    align_right(&mut table, &numeric);
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_short() {
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(1.23456), "1.235");
    }

    #[test]
    fn frame_renders_nulls_blank_and_strings_unquoted() {
        let df = df!("model" => ["a", "b"], "ttft_ms" => [Some(12.5), None]).expect("frame");
        let text = frame_table(&df);
        assert!(text.contains("│ a "), "{text}");
        assert!(text.contains("12.5"));
        assert!(!text.contains("null"));
        assert!(!text.contains("\"a\""));
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;

    #[test]
    fn query_result_table() {
        let times = Series::new(
            "times_ms".into(),
            [
                Series::new("".into(), [51.45f64, 51.32]),
                Series::new("".into(), [101.67f64]),
            ],
        );
        let df = DataFrame::new_infer_height(vec![
            Column::new("name".into(), ["sleep 0.05", "sleep 0.1"]),
            Column::new("mean_ms".into(), [51.385f64, 101.67]),
            Column::new("iterations".into(), [Some(2i64), None]),
            times.into(),
        ])
        .expect("frame");
        insta::assert_snapshot!(frame_table(&df));
    }
}
