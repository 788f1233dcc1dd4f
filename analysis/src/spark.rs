//! Apache Spark as the engine of an analysis (`--engine spark`): runlens writes the
//! analysis as Spark SQL, Spark scans, filters, joins and aggregates the dataset's Parquet
//! files, and only the small per-group results come back, to be finished in Rust exactly as
//! the embedded engine finishes them.
//!
//! runlens reaches Spark through the `spark-sql` command of a Spark distribution (the
//! `pyspark` package from PyPI bundles one; `SPARK_HOME/bin/spark-sql` otherwise), with
//! `--master` naming the cluster (`local[*]`, `yarn`, `k8s://...`, `spark://...`): the
//! driver runs in client mode on the machine running runlens and the executors on the
//! user's cluster, so no runlens service is involved and no gRPC client is built into
//! runlens. One script per request: the views of the committed files (as `runlens sql
//! --dialect spark` prints them) and then the queries, each of whose rows Spark prints as
//! one JSON object (`to_json`: doubles round-trip exactly).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{AnalysisError, Result};

/// How to reach Spark.
#[derive(Debug, Clone)]
pub struct SparkOptions {
    /// The `--master` of `spark-sql` (`local[2]`, `yarn`, `k8s://https://host:443`, ...).
    pub master: String,
    /// The `spark-sql` program (None: `$SPARK_HOME/bin/spark-sql`, else `spark-sql` on PATH).
    pub program: Option<PathBuf>,
    /// Extra `--conf key=value` settings (object storage credentials providers, executors...).
    pub conf: Vec<(String, String)>,
    /// The dataset's location as Spark names it (None: derived from runlens's `--data`).
    pub root: Option<String>,
    /// Percentiles by `percentile_approx` instead of exact ones.
    pub approx: bool,
}

impl Default for SparkOptions {
    fn default() -> Self {
        SparkOptions {
            master: "local[*]".to_string(),
            program: None,
            conf: Vec::new(),
            root: None,
            approx: false,
        }
    }
}

/// The `accuracy` of `percentile_approx` with `--approx`: a percentile's rank is within
/// n / ACCURACY of the exact one (Spark's documented bound).
pub const APPROX_ACCURACY: u32 = 10_000;

/// A way to run Spark SQL scripts.
#[derive(Debug, Clone)]
pub struct Spark {
    options: SparkOptions,
    program: PathBuf,
}

/// One row of a query's result.
pub type Row = serde_json::Map<String, serde_json::Value>;

impl Spark {
    /// Finds `spark-sql`: an error naming where it was looked for when it is missing.
    pub fn new(options: SparkOptions) -> Result<Spark> {
        let program = match &options.program {
            Some(p) => p.clone(),
            None => match std::env::var_os("SPARK_HOME") {
                Some(home) => Path::new(&home).join("bin").join("spark-sql"),
                None => PathBuf::from("spark-sql"),
            },
        };
        let found = if program.components().count() > 1 {
            program.is_file()
        } else {
            std::env::var_os("PATH").is_some_and(|path| {
                std::env::split_paths(&path).any(|d| d.join(&program).is_file())
            })
        };
        if !found {
            return Err(AnalysisError::Spark {
                what: "starting spark-sql".into(),
                detail: format!(
                    "{} not found: install Spark (pip install pyspark, or a distribution with \
                     SPARK_HOME set) or give --spark-sql PATH",
                    program.display()
                ),
            });
        }
        Ok(Spark { options, program })
    }

    /// The options it runs with.
    pub fn options(&self) -> &SparkOptions {
        &self.options
    }

    /// The statements that make the dataset's committed tables temporary views in this
    /// Spark (those `runlens sql --dialect spark` prints), at `--spark-root` when given.
    pub fn views(&self, reader: &crate::scan::DatasetReader) -> Result<String> {
        crate::views::view_statements(
            reader,
            &crate::views::ViewOptions {
                dialect: crate::dialect::Dialect::Spark,
                root: self.options.root.clone(),
                trino_schema: String::new(),
            },
        )
    }

    /// Runs `script` (statements separated by `;` and a newline) and returns the rows every
    /// query printed, in order; `what` names the request in errors.
    pub fn run(&self, what: &str, script: &str) -> Result<Vec<Row>> {
        self.run_as(what, script)
    }

    /// As [`Spark::run`], each row read straight into a `T` (a row's JSON object; large
    /// arrays are then never held as JSON values).
    pub fn run_as<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        script: &str,
    ) -> Result<Vec<T>> {
        let failed = |detail: String| AnalysisError::Spark {
            what: what.to_string(),
            detail,
        };
        let scratch = tempfile::Builder::new()
            .prefix("runlens-spark-")
            .tempdir()
            .map_err(|e| failed(format!("creating a scratch folder: {e}")))?;
        let script_path = scratch.path().join("runlens.sql");
        // RUNLENS_SPARK_SCRIPTS=DIR keeps a copy of each script (docs/cluster.md).
        if let Some(dir) = std::env::var_os("RUNLENS_SPARK_SCRIPTS") {
            let copy = Path::new(&dir).join(format!("{}.sql", what.replace(' ', "-")));
            std::fs::write(&copy, script)
                .map_err(|e| failed(format!("keeping the script as {}: {e}", copy.display())))?;
        }
        std::fs::write(&script_path, script)
            .map_err(|e| failed(format!("writing {}: {e}", script_path.display())))?;
        let mut command = Command::new(&self.program);
        command
            .current_dir(scratch.path())
            .arg("--master")
            .arg(&self.options.master)
            .arg("--name")
            .arg(format!("runlens {what}"));
        // Spark's own files (warehouse, metastore, logs of derby) stay in the scratch folder.
        let warehouse = scratch.path().join("warehouse");
        let mut conf: Vec<(String, String)> = vec![
            (
                "spark.sql.warehouse.dir".into(),
                warehouse.to_string_lossy().into_owned(),
            ),
            ("spark.ui.enabled".into(), "false".into()),
            // runlens only makes temporary views: no Hive metastore to start (about 4 s of
            // each script's start here), none to reach on a cluster.
            ("spark.sql.catalogImplementation".into(), "in-memory".into()),
            // runlens's times are UTC instants and its days UTC days.
            ("spark.sql.session.timeZone".into(), "UTC".into()),
            (
                "spark.driver.extraJavaOptions".into(),
                format!("-Dderby.system.home={}", scratch.path().display()),
            ),
        ];
        conf.extend(self.options.conf.iter().cloned());
        for (key, value) in &conf {
            command.arg("--conf").arg(format!("{key}={value}"));
        }
        command.arg("-S").arg("-f").arg(&script_path);
        let output = command
            .output()
            .map_err(|e| failed(format!("running {}: {e}", self.program.display())))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(failed(format!(
                "{} --master {} exited with {}: {}",
                self.program.display(),
                self.options.master,
                output.status,
                spark_error(&String::from_utf8_lossy(&output.stderr))
            )));
        }
        let mut rows = Vec::new();
        for (number, line) in stdout.lines().enumerate() {
            let line = line.trim();
            if !line.starts_with('{') {
                continue;
            }
            match serde_json::from_str::<T>(line) {
                Ok(row) => rows.push(row),
                Err(e) => {
                    return Err(failed(format!(
                        "line {} of spark-sql's output is not the row expected ({e}): {line:.200}",
                        number + 1
                    )));
                }
            }
        }
        Ok(rows)
    }
}

/// A double as Spark's `to_json` writes it: a number, or `NaN` and the infinities as strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparkDouble(pub f64);

impl<'de> serde::Deserialize<'de> for SparkDouble {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SparkDouble;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, NaN or an infinity")
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<SparkDouble, E> {
                Ok(SparkDouble(v))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<SparkDouble, E> {
                Ok(SparkDouble(v as f64))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<SparkDouble, E> {
                Ok(SparkDouble(v as f64))
            }
            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<SparkDouble, E> {
                v.parse().map(SparkDouble).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The lines of spark-sql's standard error that say what failed: the error printed for a
/// statement (`[ERROR_CLASS] ...`), ERROR log entries, uncaught exceptions, without stack
/// frames and without the warnings and their traces (Spark logs, for instance, a
/// `FileNotFoundException` while it expands a glob of file names). The last 8 such lines,
/// each once and at most 400 characters long; the last other lines when there is none.
fn spark_error(stderr: &str) -> String {
    const KEPT: usize = 8;
    const WIDTH: usize = 400;
    let header = regex::Regex::new(r"^\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} ([A-Z]+) ")
        .expect("a valid pattern");
    let frame = regex::Regex::new(
        r"^(at )?[\w.$/]+\((Native Method|[\w$]+\.(scala|java):\d+|[\w$]+\.(scala|java))\)$",
    )
    .expect("a valid pattern");
    let mut quiet = false;
    let (mut significant, mut other): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let keep = |list: &mut Vec<String>, line: &str| {
        let line: String = line.chars().take(WIDTH).collect();
        list.retain(|k| *k != line);
        list.push(line);
    };
    for line in stderr.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.contains("setLogLevel") {
            continue;
        }
        if let Some(level) = header.captures(line).and_then(|c| c.get(1)) {
            quiet = !matches!(level.as_str(), "ERROR" | "FATAL");
            if !quiet {
                keep(&mut significant, line);
            }
            continue;
        }
        if frame.is_match(trimmed) || trimmed.starts_with("... ") {
            continue;
        }
        let exception = trimmed.starts_with("Caused by:") || is_exception_line(trimmed);
        if exception && quiet {
            continue;
        }
        if exception
            || trimmed.starts_with('[')
            || trimmed.starts_with("Exception in thread")
            || trimmed.starts_with("Error in query")
        {
            keep(&mut significant, line);
        } else if !quiet {
            keep(&mut other, line);
        }
    }
    let chosen = if significant.is_empty() {
        other
    } else {
        significant
    };
    let start = chosen.len().saturating_sub(KEPT);
    chosen[start..].join("\n")
}

/// `java.io.FileNotFoundException: ...`: a Java exception's first line.
fn is_exception_line(line: &str) -> bool {
    let class = line.split(':').next().unwrap_or_default();
    class.contains('.')
        && !class.contains(' ')
        && (class.ends_with("Exception") || class.ends_with("Error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_spark_sql_is_named() {
        let err = Spark::new(SparkOptions {
            program: Some(PathBuf::from("/nonexistent/bin/spark-sql")),
            ..SparkOptions::default()
        })
        .expect_err("missing");
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/bin/spark-sql not found"),
            "{text}"
        );
        assert!(text.contains("pip install pyspark"), "{text}");
    }

    #[test]
    fn the_error_lines_are_kept_and_the_log_left_out() {
        let stderr = "Setting default log level to \"WARN\".\n\
            To adjust logging level use sc.setLogLevel(newLevel).\n\
            26/12/02 03:52:10 WARN InMemoryFileIndex: listing failed\n\
            java.io.FileNotFoundException: File /data/runs/{date=2026-11-01/{a.parquet}} does not exist\n\
            \tat org.apache.hadoop.fs.RawLocalFileSystem.listStatus(RawLocalFileSystem.java:1)\n\
            [TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found. SQLSTATE: 42P01\n\
            \tat org.apache.spark.sql.Foo(Foo.scala:1)\n\
            'Project ['nope]\n\
            [TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found. SQLSTATE: 42P01\n";
        let text = spark_error(stderr);
        assert!(text.contains("[TABLE_OR_VIEW_NOT_FOUND]"), "{text}");
        assert!(!text.contains("FileNotFoundException"), "{text}");
        assert!(!text.contains("setLogLevel"), "{text}");
        assert!(!text.contains("Foo.scala"), "{text}");
        assert_eq!(text.matches("TABLE_OR_VIEW_NOT_FOUND").count(), 1, "{text}");
    }

    #[test]
    fn an_unreachable_master_says_why_without_the_traces() {
        let stderr = "26/12/02 03:58:46 WARN StandaloneAppClient$ClientEndpoint: Failed to connect to master 127.0.0.1:9\n\
            org.apache.spark.SparkException: Exception thrown in awaitResult:\n\
            Caused by: java.net.ConnectException: Connection refused\n\
            26/12/02 03:59:06 ERROR StandaloneSchedulerBackend: Application has been killed. Reason: All masters are unresponsive! Giving up.\n\
            Exception in thread \"main\" java.lang.IllegalStateException: Cannot call methods on a stopped SparkContext.\n\
            This stopped SparkContext was created at:\n\
            org.apache.spark.deploy.SparkSubmit.doSubmit(SparkSubmit.scala:96)\n\
            java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n\
            (No active SparkContext.)\n";
        let text = spark_error(stderr);
        assert!(text.contains("All masters are unresponsive"), "{text}");
        assert!(
            text.contains("Cannot call methods on a stopped SparkContext"),
            "{text}"
        );
        assert!(!text.contains("SparkSubmit.scala"), "{text}");
        assert!(!text.contains("Native Method"), "{text}");
        assert!(!text.contains("No active SparkContext"), "{text}");
        assert!(!text.contains("awaitResult"), "{text}");
    }

    #[test]
    fn an_executor_error_is_kept_with_its_exception() {
        let stderr = "26/12/02 03:52:40 WARN TaskSetManager: slow\n\
            26/12/02 03:52:40 ERROR Executor: Exception in task 1.0 in stage 142.0 (TID 1882)\n\
            java.lang.OutOfMemoryError: Java heap space\n\
            \tat java.base/java.util.Arrays.copyOf(Arrays.java:1)\n";
        let text = spark_error(stderr);
        assert!(text.contains("ERROR Executor: Exception in task"), "{text}");
        assert!(
            text.contains("java.lang.OutOfMemoryError: Java heap space"),
            "{text}"
        );
        assert!(!text.contains("slow"), "{text}");
    }
}
