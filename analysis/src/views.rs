//! `runlens sql`: the statements that make the dataset's tables views in another engine
//! (Spark, DuckDB, Trino), with runlens's meaning, so an analyst's notebook reads what
//! `runlens query` reads:
//!
//! - only committed files (the commit log's replay as of now: not a killed writer's files,
//!   not the files a compaction replaced), listed by name;
//! - the `date` partition as a DATE column, and `labels` as a map with one `label_<key>`
//!   column per key the table's rows carry (as `runlens query` adds them);
//! - `session_agents` (one row per agent: the most complete stored version of each) and
//!   `sessions` (one row per session, its agents folded in as [`crate::scan::fold_agents`]
//!   folds them).
//!
//! A view lists the files committed when it was printed: after new commits, print it again.

use runlens_ingest::schema::Table;

use crate::dialect::Dialect;
use crate::error::{AnalysisError, Result};
use crate::labels::label_column;
use crate::scan::{DatasetReader, SUMMED, TOKENS};

/// What to print the statements for.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// The engine.
    pub dialect: Dialect,
    /// The dataset's location as the engine names it (None: derived from runlens's).
    pub root: Option<String>,
    /// Trino's `catalog.schema` the tables and views are created in.
    pub trino_schema: String,
}

/// The statements, one per paragraph, each ending with `;`, preceded by `--` comments.
pub fn view_statements(reader: &DatasetReader, options: &ViewOptions) -> Result<String> {
    let dataset = reader.dataset();
    let snapshot = dataset.snapshot()?;
    let root = engine_root(reader, options)?;
    let plain = |part: &str| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if options.dialect == Dialect::Trino
        && !matches!(options.trino_schema.split_once('.'), Some((c, s)) if plain(c) && plain(s))
    {
        return Err(AnalysisError::Views(format!(
            "--trino-schema {:?}: expected CATALOG.SCHEMA (letters, digits, _)",
            options.trino_schema
        )));
    }
    let writer = Writer {
        dialect: options.dialect,
        root: root.clone(),
        trino_schema: options.trino_schema.clone(),
    };
    let mut out = String::new();
    out.push_str(&format!(
        "-- runlens views of {} for {}, as of commit {}: the files committed then.\n\
         -- Print them again (runlens sql) to see later commits.\n",
        dataset.location(),
        options.dialect.name(),
        snapshot.sequence.map_or_else(
            || "(none: a dataset from before the commit log)".into(),
            |s| s.to_string()
        ),
    ));
    out.push_str(&writer.preamble());
    for table in Table::ALL {
        let keys = dataset.table_files(table)?;
        let labels = match keys.is_empty() {
            true => Vec::new(),
            false => reader.label_keys(table)?,
        };
        let paths: Vec<String> = keys.iter().map(|k| format!("{root}/{k}")).collect();
        out.push_str(&writer.files_relation(table, &paths)?);
        match table {
            Table::Sessions => {
                out.push_str(&writer.session_agents_view(&paths, &labels));
                out.push_str(&writer.sessions_view(&labels));
            }
            _ => out.push_str(&writer.table_view(table, &paths, &labels)),
        }
    }
    Ok(out)
}

/// The dataset's root as the engine names it.
fn engine_root(reader: &DatasetReader, options: &ViewOptions) -> Result<String> {
    if let Some(root) = &options.root {
        return Ok(root.trim_end_matches('/').to_string());
    }
    let dataset = reader.dataset();
    let location = match dataset.local_root() {
        // An engine started elsewhere resolves a relative path against its own folder.
        Some(local) => std::path::absolute(&local)
            .unwrap_or(local)
            .to_string_lossy()
            .into_owned(),
        None => dataset.reader_path(""),
    };
    let account = std::env::var("AZURE_STORAGE_ACCOUNT_NAME")
        .or_else(|_| std::env::var("AZURE_STORAGE_ACCOUNT"))
        .ok();
    options
        .dialect
        .root_for(&location, account.as_deref())
        .ok_or_else(|| {
            AnalysisError::Views(format!(
                "{} names {location} with the storage account, which runlens does not know: \
                 set AZURE_STORAGE_ACCOUNT_NAME or give --root abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH",
                options.dialect.name()
            ))
        })
}

/// Writes the statements of one dialect.
struct Writer {
    dialect: Dialect,
    root: String,
    trino_schema: String,
}

impl Writer {
    fn q(&self, name: &str) -> String {
        self.dialect.ident(name)
    }

    /// A view's or a file relation's full name.
    fn name(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Trino => format!("{}.{}", self.trino_schema, self.q(name)),
            Dialect::Spark | Dialect::DuckDb => self.q(name),
        }
    }

    fn files_name(table: Table) -> String {
        format!("runlens_{}_files", table.name())
    }

    fn create_view(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Spark => format!("CREATE OR REPLACE TEMPORARY VIEW {}", self.name(name)),
            Dialect::DuckDb | Dialect::Trino => {
                format!("CREATE OR REPLACE VIEW {}", self.name(name))
            }
        }
    }

    fn preamble(&self) -> String {
        match self.dialect {
            Dialect::Spark => "-- Spark SQL (spark-sql, spark.sql(...), Databricks): temporary views of this session.\n\
                 -- Object storage needs the cluster's connector (hadoop-aws for s3a://, the GCS or ABFS connector).\n\n"
                .to_string(),
            Dialect::DuckDb => {
                let mut text = String::from("-- DuckDB: views of this database.\n");
                if self.root.contains("://") {
                    text.push_str(
                        "-- Object storage: INSTALL httpfs; LOAD httpfs; and credentials, e.g.\n\
                         -- CREATE SECRET (TYPE s3, PROVIDER credential_chain);  (or TYPE gcs / azure)\n",
                    );
                }
                text.push('\n');
                text
            }
            Dialect::Trino => {
                let schema_location = self.dialect.string(&self.root);
                format!(
                    "-- Trino with a Hive catalog (hive.timestamp-precision=MICROSECONDS keeps the timestamps' microseconds).\n\
                     -- Each table's files are an external table; each view reads only the committed ones (\"$path\").\n\n\
                     CREATE SCHEMA IF NOT EXISTS {} WITH (location = {schema_location});\n\n",
                    self.trino_schema
                )
            }
        }
    }

    /// `table`'s columns (schema order, then `date`) as `(name, SQL type)`.
    fn columns(&self, table: Table) -> Result<Vec<(String, String)>> {
        let mut columns = Vec::new();
        for field in table.schema().fields() {
            let sql_type = self.dialect.sql_type(field.data_type()).ok_or_else(|| {
                AnalysisError::Views(format!(
                    "{}.{} has type {}, which runlens cannot name in {}",
                    table.name(),
                    field.name(),
                    field.data_type(),
                    self.dialect.name()
                ))
            })?;
            columns.push((field.name().to_string(), sql_type));
        }
        columns.push(("date".to_string(), "DATE".to_string()));
        Ok(columns)
    }

    /// A relation of every row `paths` hold (or no row, typed, when there are none).
    fn files_relation(&self, table: Table, paths: &[String]) -> Result<String> {
        let name = Self::files_name(table);
        let columns = self.columns(table)?;
        if paths.is_empty() {
            let typed: Vec<String> = columns
                .iter()
                .map(|(c, t)| format!("CAST(NULL AS {t}) AS {}", self.q(c)))
                .collect();
            let from = match self.dialect {
                Dialect::Trino => " FROM (VALUES 0) AS runlens_none(x)",
                Dialect::Spark | Dialect::DuckDb => "",
            };
            return Ok(format!(
                "-- {}: no committed file.\n{} AS\nSELECT {}{from}\nWHERE false;\n\n",
                table.name(),
                self.create_view(&name),
                typed.join(", ")
            ));
        }
        let table_dir = format!("{}/{}", self.root, table.name());
        let statement = match self.dialect {
            Dialect::Spark => {
                let glob = spark_glob(&table_dir, paths)?;
                format!(
                    "{}\nUSING parquet\nOPTIONS (path {}, basePath {}, mergeSchema 'true');\n\n",
                    self.create_view(&name),
                    self.dialect.string(&glob),
                    self.dialect.string(&table_dir)
                )
            }
            Dialect::DuckDb => {
                let list: Vec<String> = paths.iter().map(|p| self.dialect.string(p)).collect();
                format!(
                    "{} AS\nSELECT * FROM read_parquet([\n  {}\n], hive_partitioning = true, union_by_name = true);\n\n",
                    self.create_view(&name),
                    list.join(",\n  ")
                )
            }
            Dialect::Trino => {
                let defined: Vec<String> = columns
                    .iter()
                    .map(|(c, t)| format!("  {} {t}", self.q(c)))
                    .collect();
                let (catalog, schema) = self
                    .trino_schema
                    .split_once('.')
                    .unwrap_or(("hive", self.trino_schema.as_str()));
                format!(
                    "CREATE TABLE IF NOT EXISTS {} (\n{}\n)\nWITH (external_location = {}, format = 'PARQUET', partitioned_by = ARRAY['date']);\n\n\
                     CALL {catalog}.system.sync_partition_metadata({}, {}, 'FULL');\n\n",
                    self.name(&name),
                    defined.join(",\n"),
                    self.dialect.string(&table_dir),
                    self.dialect.string(schema),
                    self.dialect.string(&name),
                )
            }
        };
        Ok(format!(
            "-- {}: {} committed file(s).\n{statement}",
            table.name(),
            paths.len()
        ))
    }

    /// Only the committed files' rows, where the relation may hold others (Trino's external
    /// table reads every file of its folders).
    fn committed_filter(&self, paths: &[String]) -> String {
        match self.dialect {
            Dialect::Trino if paths.is_empty() => "\nWHERE false".to_string(),
            Dialect::Trino => {
                let list: Vec<String> = paths.iter().map(|p| self.dialect.string(p)).collect();
                format!("\nWHERE \"$path\" IN (\n  {}\n)", list.join(",\n  "))
            }
            Dialect::Spark | Dialect::DuckDb => String::new(),
        }
    }

    /// `label_<key>` columns of `labels` read from the map column of relation `alias`.
    fn label_columns(&self, alias: &str, labels: &[String]) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        labels
            .iter()
            .filter(|k| seen.insert(label_column(k)))
            .map(|k| {
                format!(
                    "{} AS {}",
                    self.dialect
                        .map_value(&format!("{alias}.{}", self.q("labels")), k),
                    self.q(&label_column(k))
                )
            })
            .collect()
    }

    /// The table's view: its columns, `date` as a DATE, its label columns.
    fn table_view(&self, table: Table, paths: &[String], labels: &[String]) -> String {
        let mut select: Vec<String> = table
            .schema()
            .fields()
            .iter()
            .map(|f| format!("f.{}", self.q(f.name())))
            .collect();
        select.push(format!("CAST(f.{0} AS DATE) AS {0}", self.q("date")));
        select.extend(self.label_columns("f", labels));
        format!(
            "{} AS\nSELECT {}\nFROM {} AS f{};\n\n",
            self.create_view(table.name()),
            select.join(", "),
            self.name(&Self::files_name(table)),
            self.committed_filter(paths)
        )
    }

    /// `session_agents`: of the versions stored of each agent (a transcript ingested again
    /// after it grew), the most complete: most messages, then the latest ingest.
    fn session_agents_view(&self, paths: &[String], labels: &[String]) -> String {
        let q = |c: &str| self.q(c);
        let mut select: Vec<String> = Table::Sessions
            .schema()
            .fields()
            .iter()
            .map(|f| format!("f.{}", q(f.name())))
            .collect();
        select.push(format!("CAST(f.{0} AS DATE) AS {0}", q("date")));
        select.extend(self.label_columns("f", labels));
        let outer: Vec<String> = self
            .columns(Table::Sessions)
            .unwrap_or_default()
            .iter()
            .map(|(c, _)| format!("v.{}", q(c)))
            .chain(labels_out(self, "v", labels))
            .collect();
        format!(
            "{} AS\nSELECT {}\nFROM (\n  SELECT {},\n    ROW_NUMBER() OVER (PARTITION BY f.{}, f.{}, f.{} ORDER BY f.{} DESC NULLS LAST, f.{} DESC NULLS LAST) AS runlens_version\n  FROM {} AS f{}\n) AS v\nWHERE v.runlens_version = 1;\n\n",
            self.create_view("session_agents"),
            outer.join(", "),
            select.join(", "),
            q("session_id"),
            q("source_format"),
            q("agent_id"),
            q("message_count"),
            q("ingest_id"),
            self.name(&Self::files_name(Table::Sessions)),
            self.committed_filter(paths).replace('\n', "\n  "),
        )
    }

    /// `sessions`: one row per session, its agents folded in (see
    /// [`crate::scan::fold_agents`]): the main agent's (no agent id) identity, path and
    /// labels; counts summed; tokens summed (null when no agent reported any); the earliest
    /// start and latest activity; the worst status; every agent's finding codes, each once,
    /// the main agent's first.
    fn sessions_view(&self, labels: &[String]) -> String {
        let q = |c: &str| self.q(c);
        let mut folded: Vec<String> = vec![q("session_id"), q("source_format")];
        folded.extend(
            SUMMED
                .iter()
                .map(|c| format!("COALESCE(SUM({0}), 0) AS {0}", q(c))),
        );
        folded.extend(TOKENS.iter().map(|c| format!("SUM({0}) AS {0}", q(c))));
        folded.push(format!("MIN({0}) AS {0}", q("started_ts")));
        folded.push(format!("MAX({0}) AS {0}", q("last_activity_ts")));
        let status = q("validation_status");
        folded.push(format!(
            "CASE WHEN MAX(CASE WHEN {status} = 'error' THEN 1 ELSE 0 END) = 1 THEN 'error' \
             WHEN MAX(CASE WHEN {status} = 'warning' THEN 1 ELSE 0 END) = 1 THEN 'warning' END AS runlens_worst"
        ));
        folded.push(format!("{} AS runlens_codes", self.ordered_codes()));
        let select: Vec<String> = self
            .columns(Table::Sessions)
            .unwrap_or_default()
            .iter()
            .map(|(c, _)| {
                let c = c.as_str();
                if c == "validation_status" {
                    format!("COALESCE(s.runlens_worst, m.{status}) AS {status}")
                } else if c == "findings" {
                    format!("{} AS {}", self.distinct_codes("s.runlens_codes"), q(c))
                } else if SUMMED.contains(&c)
                    || TOKENS.contains(&c)
                    || c == "started_ts"
                    || c == "last_activity_ts"
                {
                    format!("s.{}", q(c))
                } else {
                    format!("m.{}", q(c))
                }
            })
            .chain(labels_out(self, "m", labels))
            .collect();
        format!(
            "{} AS\nWITH ranked AS (\n  SELECT a.*, ROW_NUMBER() OVER (PARTITION BY a.{sid}, a.{fmt} ORDER BY a.{agent} NULLS FIRST) AS runlens_rank\n  FROM {} AS a\n),\nfolded AS (\n  SELECT {}\n  FROM ranked\n  GROUP BY {sid}, {fmt}\n)\nSELECT {}\nFROM ranked AS m\nJOIN folded AS s ON m.{sid} = s.{sid} AND m.{fmt} = s.{fmt}\nWHERE m.runlens_rank = 1;\n\n",
            self.create_view("sessions"),
            self.name("session_agents"),
            folded.join(",\n    "),
            select.join(", "),
            sid = q("session_id"),
            fmt = q("source_format"),
            agent = q("agent_id"),
        )
    }

    /// Every agent's finding codes of a session (comma-separated `findings`), the main
    /// agent's first then by agent id, empty codes left out: an aggregate.
    fn ordered_codes(&self) -> String {
        let findings = self.q("findings");
        let agent = self.q("agent_id");
        match self.dialect {
            Dialect::Spark => format!(
                "filter(flatten(transform(sort_array(collect_list(struct({agent} IS NOT NULL AS k0, {agent} AS k1, split(COALESCE({findings}, ''), ',') AS codes))), x -> x.codes)), c -> c <> '')"
            ),
            Dialect::DuckDb => format!(
                "list_filter(flatten(list(string_split(COALESCE({findings}, ''), ',') ORDER BY {agent} NULLS FIRST)), lambda c: c <> '')"
            ),
            Dialect::Trino => format!(
                "filter(flatten(array_agg(split(COALESCE({findings}, ''), ',') ORDER BY {agent} NULLS FIRST)), c -> c <> '')"
            ),
        }
    }

    /// The codes of `list` each once, in order, comma-separated (null when none).
    fn distinct_codes(&self, list: &str) -> String {
        let joined = match self.dialect {
            Dialect::Spark | Dialect::Trino => format!("array_join(array_distinct({list}), ',')"),
            Dialect::DuckDb => format!(
                "array_to_string(list_filter({list}, lambda c, i: list_position({list}, c) = i), ',')"
            ),
        };
        format!("NULLIF({joined}, '')")
    }
}

/// The `label_<key>` columns of an inner relation `alias`, passed on.
fn labels_out(writer: &Writer, alias: &str, labels: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    labels
        .iter()
        .map(|k| label_column(k))
        .filter(|c| seen.insert(c.clone()))
        .map(|c| format!("{alias}.{}", writer.q(&c)))
        .collect()
}

/// One Hadoop glob naming exactly `paths` (all below `table_dir`): `dir/{date=A/{x,y},date=B/{z}}`,
/// one listing per partition folder.
fn spark_glob(table_dir: &str, paths: &[String]) -> Result<String> {
    const SPECIAL: &[char] = &['{', '}', '[', ']', '*', '?', ',', '\\'];
    if table_dir.contains(SPECIAL) {
        return Err(AnalysisError::Views(format!(
            "{table_dir} holds a glob character ({{}}[]*?,\\), which Spark would read as a \
             pattern: give --root a path without one"
        )));
    }
    let mut folders: Vec<(String, Vec<String>)> = Vec::new();
    for path in paths {
        let relative = path
            .strip_prefix(table_dir)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(path);
        if relative.contains(SPECIAL) {
            return Err(AnalysisError::Views(format!(
                "{path} holds a glob character, which Spark would read as a pattern"
            )));
        }
        let (folder, file) = relative.rsplit_once('/').unwrap_or(("", relative));
        match folders.iter_mut().find(|(f, _)| f == folder) {
            Some((_, files)) => files.push(file.to_string()),
            None => folders.push((folder.to_string(), vec![file.to_string()])),
        }
    }
    let alternatives: Vec<String> = folders
        .iter()
        .map(|(folder, files)| {
            let files = format!("{{{}}}", files.join(","));
            match folder.is_empty() {
                true => files,
                false => format!("{folder}/{files}"),
            }
        })
        .collect();
    Ok(format!("{table_dir}/{{{}}}", alternatives.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spark_glob_names_each_file_once_and_lists_each_partition_once() {
        let dir = "/d/llm_calls";
        let paths = [
            "/d/llm_calls/date=2026-11-30/a.parquet".to_string(),
            "/d/llm_calls/date=2026-11-30/b.parquet".to_string(),
            "/d/llm_calls/date=2026-12-01/c.parquet".to_string(),
        ];
        assert_eq!(
            spark_glob(dir, &paths).expect("glob"),
            "/d/llm_calls/{date=2026-11-30/{a.parquet,b.parquet},date=2026-12-01/{c.parquet}}"
        );
        assert!(spark_glob("/d/a,b/llm_calls", &paths[..1]).is_err());
    }
}
