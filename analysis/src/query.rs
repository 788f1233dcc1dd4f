//! `runlens query`: SQL over the dataset with polars SQL, every table registered by name,
//! with its labels also as `label_<key>` columns (see [`crate::labels`]); `sessions` is one
//! row per session (its agents folded in), `session_agents` one row per agent.

use polars::prelude::*;
use polars::sql::SQLContext;
use runlens_ingest::schema::Table;

use crate::error::{AnalysisError, Result};
use crate::labels::label_column;
use crate::scan::DatasetReader;

/// Runs one SQL statement over the dataset's tables and collects the result with polars'
/// in-memory engine (the reports built on SQL: `sessions`, `report`). The daily report's
/// costs, summed over frames held in memory, come out the same to the last digit every
/// time; on the streaming engine they did not.
pub fn run_sql(reader: &DatasetReader, sql: &str) -> Result<DataFrame> {
    run_sql_with(reader, Vec::new(), sql)
}

/// [`run_sql`] with extra tables (computed frames) registered under their names.
pub fn run_sql_with(
    reader: &DatasetReader,
    extra: Vec<(&str, LazyFrame)>,
    sql: &str,
) -> Result<DataFrame> {
    plan_sql(reader, extra, sql)?
        .collect()
        .map_err(AnalysisError::polars("running the query"))
}

/// Runs a user's SQL statement (`runlens query`) on polars' streaming engine, which reads
/// the files in morsels instead of whole: `ORDER BY ... LIMIT` over 5 M calls held 4.3 GiB
/// and took 5.0 s in memory, 176 MiB and 0.9 s streaming; a group-by on a label (one scan
/// per recorded value) 436 MiB against 70 MiB (docs/benchmarks.md). Sums and means may
/// differ from [`run_sql`]'s in the last digits (the morsels are summed in the order they
/// finish, as polars' in-memory group-by already did for such a statement). Should that
/// engine fail or panic on a statement (it does not support every operation the in-memory
/// engine does), the statement is run again in memory, whose error, if any, is reported.
pub fn run_query_statement(reader: &DatasetReader, sql: &str) -> Result<DataFrame> {
    let plan = plan_sql(reader, Vec::new(), sql)?;
    let streaming = plan.clone();
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        streaming
            .collect_with_engine(Engine::Streaming)
            // A SQL statement is one query with one result.
            .map(|result| result.unwrap_single())
    }));
    match attempt {
        Ok(Ok(frame)) => Ok(frame),
        Ok(Err(_)) | Err(_) => plan
            .collect()
            .map_err(AnalysisError::polars("running the query")),
    }
}

/// The plan of one SQL statement over the dataset's tables and the `extra` frames.
fn plan_sql(reader: &DatasetReader, extra: Vec<(&str, LazyFrame)>, sql: &str) -> Result<LazyFrame> {
    let mut context = SQLContext::new();
    for (name, frame) in extra {
        context.register(name, frame);
    }
    // Only the tables the statement reads are registered: a scan lists a table's files
    // (and `sessions` folds its agents) even when the statement never reads it.
    let read = tables_read(sql);
    let reads = |name: &str| read.iter().any(|t| t == name);
    for table in Table::ALL.into_iter().filter(|t| reads(t.name())) {
        context.register(table.name(), table_for_sql(reader, table, sql)?);
    }
    // `sessions` is one row per session, its agents folded in; one row per agent here.
    if reads("session_agents") {
        context.register("session_agents", reader.scan_agents()?);
    }
    context
        .execute(sql)
        .map_err(AnalysisError::polars("running the query"))
}

/// `table` as a statement `sql` reads it: a scan, with a `label_<key>` column for each label
/// the statement names (null where no row of the table carries that key).
pub(crate) fn table_for_sql(reader: &DatasetReader, table: Table, sql: &str) -> Result<LazyFrame> {
    // Label columns may cost reading the `labels` maps: only the ones asked for.
    let referenced = referenced_label_columns(sql);
    if referenced.is_empty() {
        return reader.scan(table);
    }
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
    Ok(if absent.is_empty() {
        lf
    } else {
        lf.with_columns(absent)
    })
}

/// The names (lower case) of the tables `sql` reads: those in its FROM and JOIN clauses,
/// subqueries and set operations, as polars' SQL parser finds them (a column named like a
/// table, `count(*) AS sessions`, is not one). A statement it cannot parse reads every
/// table it names as a whole word, and fails with polars' own message when run.
fn tables_read(sql: &str) -> Vec<String> {
    match polars::sql::extract_table_identifiers(sql, false, true) {
        Ok(names) => names.iter().map(|n| n.to_ascii_lowercase()).collect(),
        Err(_) => Table::ALL
            .iter()
            .map(|t| t.name())
            .chain(["session_agents"])
            .filter(|name| names_word(sql, name))
            .map(str::to_string)
            .collect(),
    }
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
pub(crate) fn referenced_label_columns(sql: &str) -> Vec<String> {
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
    fn the_tables_read_are_those_in_from_and_join_clauses() {
        let read = |sql: &str| tables_read(sql);
        assert_eq!(
            read("SELECT count(DISTINCT session_id) AS sessions FROM llm_calls GROUP BY date"),
            ["llm_calls"]
        );
        assert_eq!(
            read(
                "SELECT * FROM sessions s JOIN (SELECT * FROM LLM_Calls) c \
                 ON c.session_id = s.session_id UNION ALL SELECT * FROM session_agents"
            ),
            ["sessions", "llm_calls", "session_agents"]
        );
        // Not parsed: every table named as a word.
        assert_eq!(read("SELEC runs FROM phases"), ["runs", "phases"]);
    }

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
