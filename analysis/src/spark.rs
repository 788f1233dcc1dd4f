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

    /// Runs `script` (statements separated by `;` and a newline) and returns the rows every
    /// query printed, in order; `what` names the request in errors.
    pub fn run(&self, what: &str, script: &str) -> Result<Vec<Row>> {
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
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(row)) => rows.push(row),
                _ => {
                    return Err(failed(format!(
                        "line {} of spark-sql's output is not a JSON object: {line:.200}",
                        number + 1
                    )));
                }
            }
        }
        Ok(rows)
    }
}

/// The lines of spark-sql's standard error that say what failed (its error lines and the
/// SQL error with its class, each once), without the log's informational lines and stack
/// frames; the last lines when none is recognised.
fn spark_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim_end).collect();
    let start = lines.iter().position(|l| {
        l.starts_with('[')
            || l.contains("Exception")
            || l.contains(" ERROR ")
            || l.starts_with("Error in query")
    });
    let mut chosen: Vec<&str> = Vec::new();
    let candidates: Box<dyn Iterator<Item = &&str>> = match start {
        Some(i) => Box::new(lines[i..].iter()),
        None => Box::new(lines.iter().skip(lines.len().saturating_sub(12))),
    };
    for line in candidates {
        let trimmed = line.trim();
        let frame = trimmed.starts_with("at ") || trimmed.starts_with("... ");
        if trimmed.is_empty() || frame || trimmed.contains(" WARN ") || chosen.contains(line) {
            continue;
        }
        chosen.push(line);
        if chosen.len() == 8 {
            break;
        }
    }
    chosen.join("\n")
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
        let stderr = "26/12/02 WARN NativeCodeLoader: Unable to load native-hadoop library\n\
            [TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found. SQLSTATE: 42P01\n\
            \tat org.apache.spark.sql.Foo(Foo.scala:1)\n\
            'Project ['nope]\n\
            [TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found. SQLSTATE: 42P01\n";
        let text = spark_error(stderr);
        assert!(text.starts_with("[TABLE_OR_VIEW_NOT_FOUND]"), "{text}");
        assert!(!text.contains("NativeCodeLoader"), "{text}");
        assert!(!text.contains("Foo.scala"), "{text}");
        assert_eq!(text.matches("TABLE_OR_VIEW_NOT_FOUND").count(), 1, "{text}");
    }
}
