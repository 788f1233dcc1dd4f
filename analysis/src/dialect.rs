//! SQL dialects of the engines runlens writes statements for (Spark SQL, DuckDB, Trino):
//! how each quotes a name and a string, spells a column's type, reads a value out of the
//! `labels` map, and names a dataset's location. One place for these differences, so the
//! statements themselves are written once.

use arrow_schema::{DataType as ArrowType, TimeUnit as ArrowTimeUnit};

/// An engine's SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Apache Spark SQL (3.3 and later).
    Spark,
    /// DuckDB (1.3 and later).
    DuckDb,
    /// Trino (and Starburst, Amazon Athena engine 3), through a Hive catalog.
    Trino,
}

impl Dialect {
    /// The dialect's name as the command line writes it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Spark => "spark",
            Dialect::DuckDb => "duckdb",
            Dialect::Trino => "trino",
        }
    }

    /// `name` quoted as an identifier (every name is quoted: `date` and `exists` are
    /// reserved words in some of these engines).
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            Dialect::DuckDb | Dialect::Trino => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// `text` as a string literal. Spark reads a backslash in a literal as an escape, the
    /// others do not.
    pub fn string(self, text: &str) -> String {
        match self {
            Dialect::Spark => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
            Dialect::DuckDb | Dialect::Trino => format!("'{}'", text.replace('\'', "''")),
        }
    }

    /// The SQL type a column of Arrow type `data_type` is read as; None for a type the
    /// dataset does not use.
    pub fn sql_type(self, data_type: &ArrowType) -> Option<String> {
        let spelled = match (self, data_type) {
            (_, ArrowType::Boolean) => "BOOLEAN".to_string(),
            (Dialect::DuckDb | Dialect::Spark, ArrowType::Int32) => "INT".to_string(),
            (Dialect::Trino, ArrowType::Int32) => "INTEGER".to_string(),
            (_, ArrowType::Int64) => "BIGINT".to_string(),
            (_, ArrowType::Float64) => "DOUBLE".to_string(),
            (Dialect::Spark, ArrowType::Utf8) => "STRING".to_string(),
            (Dialect::DuckDb | Dialect::Trino, ArrowType::Utf8) => "VARCHAR".to_string(),
            // Stored as UTC instants (Parquet isAdjustedToUTC). Trino's Hive connector has no
            // zoned timestamp for Parquet: the values are UTC.
            (Dialect::Spark, ArrowType::Timestamp(ArrowTimeUnit::Microsecond, _)) => {
                "TIMESTAMP".to_string()
            }
            (Dialect::DuckDb, ArrowType::Timestamp(ArrowTimeUnit::Microsecond, _)) => {
                "TIMESTAMPTZ".to_string()
            }
            (Dialect::Trino, ArrowType::Timestamp(ArrowTimeUnit::Microsecond, _)) => {
                "TIMESTAMP(6)".to_string()
            }
            (_, ArrowType::List(item)) => {
                let item = self.sql_type(item.data_type())?;
                match self {
                    Dialect::Spark => format!("ARRAY<{item}>"),
                    Dialect::DuckDb => format!("{item}[]"),
                    Dialect::Trino => format!("ARRAY({item})"),
                }
            }
            (_, ArrowType::Map(_, _)) => match self {
                Dialect::Spark => "MAP<STRING, STRING>".to_string(),
                Dialect::DuckDb => "MAP(VARCHAR, VARCHAR)".to_string(),
                Dialect::Trino => "MAP(VARCHAR, VARCHAR)".to_string(),
            },
            (Dialect::Spark | Dialect::DuckDb | Dialect::Trino, _) => return None,
        };
        Some(spelled)
    }

    /// The value of `key` in the map column `map`, null when the row has no such key (Spark
    /// in ANSI mode and Trino fail on `map[key]` for a missing key).
    pub fn map_value(self, map: &str, key: &str) -> String {
        let key = self.string(key);
        match self {
            Dialect::Spark => format!("try_element_at({map}, {key})"),
            Dialect::DuckDb => format!("{map}[{key}]"),
            Dialect::Trino => format!("element_at({map}, {key})"),
        }
    }

    /// The dataset root `location` (a local path or an `s3://`, `gs://`, `az://` URL, as
    /// runlens names it) as this engine's file system names it: Hadoop's S3 connector is
    /// `s3a://`; Azure containers are `abfss://container@account.dfs.core.windows.net/` for
    /// Spark and Trino (the account from `AZURE_STORAGE_ACCOUNT_NAME`). None when the engine
    /// needs something runlens does not know (the Azure account): then `--root` names it.
    pub fn root_for(self, location: &str, azure_account: Option<&str>) -> Option<String> {
        let location = location.trim_end_matches('/');
        let (scheme, rest) = match location.split_once("://") {
            Some(parts) => parts,
            None => return Some(location.to_string()),
        };
        let scheme = scheme.to_ascii_lowercase();
        let named = match (self, scheme.as_str()) {
            (Dialect::Spark, "s3" | "s3a") => format!("s3a://{rest}"),
            (_, "s3" | "s3a") => format!("s3://{rest}"),
            (_, "gs" | "gcs") => format!("gs://{rest}"),
            (Dialect::DuckDb, "az" | "azure" | "abfs" | "abfss") => format!("az://{rest}"),
            (_, "az" | "azure") => {
                let (container, path) = rest.split_once('/').unwrap_or((rest, ""));
                let account = azure_account?;
                let base = format!("abfss://{container}@{account}.dfs.core.windows.net");
                match path.is_empty() {
                    true => base,
                    false => format!("{base}/{path}"),
                }
            }
            (_, "file") => rest.to_string(),
            _ => location.to_string(),
        };
        Some(named)
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "spark" | "sparksql" | "spark-sql" | "databricks" => Ok(Dialect::Spark),
            "duckdb" => Ok(Dialect::DuckDb),
            "trino" | "presto" | "athena" => Ok(Dialect::Trino),
            other => Err(format!(
                "unknown SQL dialect {other:?}; dialects: spark, duckdb, trino"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_strings_are_quoted_the_way_each_engine_reads_them() {
        assert_eq!(Dialect::Spark.ident("date"), "`date`");
        assert_eq!(Dialect::Spark.ident("a`b"), "`a``b`");
        assert_eq!(Dialect::DuckDb.ident("exists"), "\"exists\"");
        assert_eq!(Dialect::Trino.ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::Spark.string(r"C:\it's"), r"'C:\\it\'s'");
        assert_eq!(Dialect::DuckDb.string(r"C:\it's"), r"'C:\it''s'");
        assert_eq!(Dialect::Trino.string("it's"), "'it''s'");
    }

    #[test]
    fn each_engine_names_object_storage_its_own_way() {
        let s3 = "s3://bench/nightly/";
        assert_eq!(
            Dialect::Spark.root_for(s3, None).as_deref(),
            Some("s3a://bench/nightly")
        );
        assert_eq!(
            Dialect::Trino.root_for(s3, None).as_deref(),
            Some("s3://bench/nightly")
        );
        assert_eq!(
            Dialect::DuckDb.root_for("gcs://b/p", None).as_deref(),
            Some("gs://b/p")
        );
        assert_eq!(Dialect::Spark.root_for("az://c/p", None), None);
        assert_eq!(
            Dialect::Spark.root_for("az://c/p", Some("acct")).as_deref(),
            Some("abfss://c@acct.dfs.core.windows.net/p")
        );
        assert_eq!(
            Dialect::DuckDb.root_for("az://c/p", None).as_deref(),
            Some("az://c/p")
        );
        assert_eq!(
            Dialect::DuckDb.root_for("/data/ds", None).as_deref(),
            Some("/data/ds")
        );
    }

    #[test]
    fn every_column_type_of_the_dataset_has_a_name_in_every_dialect() {
        for dialect in [Dialect::Spark, Dialect::DuckDb, Dialect::Trino] {
            for table in runlens_ingest::schema::Table::ALL {
                for field in table.schema().fields() {
                    assert!(
                        dialect.sql_type(field.data_type()).is_some(),
                        "{} has no {} type for {}.{}",
                        dialect.name(),
                        field.data_type(),
                        table.name(),
                        field.name()
                    );
                }
            }
        }
    }
}
