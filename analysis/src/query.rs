//! `runlens query`: SQL over the dataset with polars SQL, every table registered by name,
//! with its labels also as `label_<key>` columns (see [`crate::labels`]); `sessions` is one
//! row per session (its agents folded in), `session_agents` one row per agent.

use polars::prelude::*;
use polars::sql::SQLContext;
use runlens_ingest::schema::Table;

use crate::error::{AnalysisError, Result};
use crate::labels::label_column;
use crate::scan::DatasetReader;

/// Runs one SQL statement over the dataset's tables and collects the result.
pub fn run_sql(reader: &DatasetReader, sql: &str) -> Result<DataFrame> {
    run_sql_with(reader, Vec::new(), sql)
}

/// [`run_sql`] with extra tables (computed frames) registered under their names.
pub fn run_sql_with(
    reader: &DatasetReader,
    extra: Vec<(&str, LazyFrame)>,
    sql: &str,
) -> Result<DataFrame> {
    let mut context = SQLContext::new();
    for (name, frame) in extra {
        context.register(name, frame);
    }
    // Label columns may cost reading the `labels` maps: only the ones asked for.
    let referenced = referenced_label_columns(sql);
    // Only the tables the statement names are registered: a scan lists a table's files
    // (and `sessions` folds its agents) even when the statement never reads it.
    for table in Table::ALL.into_iter().filter(|t| names_word(sql, t.name())) {
        let lf = if referenced.is_empty() {
            reader.scan(table)?
        } else {
            // Only the labels the statement names become columns.
            let keys: Vec<String> = reader
                .label_keys(table)?
                .into_iter()
                .filter(|k| referenced.contains(&label_column(k)))
                .collect();
            let present: Vec<String> = keys.iter().map(|k| label_column(k)).collect();
            // A label no row of this table carries reads as null, as a missing key does.
            let absent: Vec<Expr> = referenced
                .iter()
                .filter(|name| !present.contains(name))
                .map(|name| lit(NULL).cast(DataType::String).alias(name.as_str()))
                .collect();
            let lf = reader.scan_labelled(table, &keys)?;
            if absent.is_empty() {
                lf
            } else {
                lf.with_columns(absent)
            }
        };
        context.register(table.name(), lf);
    }
    // `sessions` is one row per session, its agents folded in; one row per agent here.
    if names_word(sql, "session_agents") {
        context.register("session_agents", reader.scan_agents()?);
    }
    context
        .execute(sql)
        .and_then(LazyFrame::collect)
        .map_err(AnalysisError::polars("running the query"))
}

/// Whether `sql` holds `name` as a whole word (any case): a table it may read.
fn names_word(sql: &str, name: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let word = |i: usize| bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_';
    lower.match_indices(name).any(|(start, _)| {
        let end = start + name.len();
        (start == 0 || !word(start - 1)) && (end == bytes.len() || !word(end))
    })
}

/// The `label_<key>` names the SQL mentions.
fn referenced_label_columns(sql: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let lower = sql.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut at = 0;
    while let Some(found) = lower[at..].find("label_") {
        let start = at + found;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = lower[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(lower.len(), |e| start + e);
        if boundary && end > start + "label_".len() {
            let name = lower[start..end].to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        at = end.max(start + 1);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_named_tables_are_registered() {
        let sql = "SELECT * FROM sessions s JOIN llm_calls c ON c.session_id = s.session_id";
        assert!(names_word(sql, "sessions") && names_word(sql, "llm_calls"));
        assert!(!names_word(sql, "runs") && !names_word(sql, "session_agents"));
        assert!(names_word("select count(*) from RUNS", "runs"));
        assert!(!names_word("select run_id from phases", "runs"));
    }

    #[test]
    fn label_columns_named_in_sql_are_found() {
        assert_eq!(
            referenced_label_columns(
                "select label_provider, Label_Version from runs where x_label_no = 1"
            ),
            ["label_provider", "label_version"]
        );
        assert!(referenced_label_columns("select labels from runs").is_empty());
    }
}
