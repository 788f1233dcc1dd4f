//! One module per command: each converts its clap arguments into library options, calls
//! the library, and prints the rendered result.

pub mod analyze;
pub mod compare;
pub mod ingest;
pub mod inputs;
pub mod maintenance;
pub mod memory;
pub mod prices;
pub mod probe;
pub mod query;
pub mod record;
pub mod report;
pub mod validate;

use std::io::Write;

/// How a command ended, mapped to the exit status (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked: exit 0.
    Success,
    /// It ran, but inputs were rejected or a check failed: exit 1.
    Rejected,
    /// Stopped by this signal (Ctrl-C, SIGTERM) after writing what it had: exit 128 + signal.
    Interrupted(i32),
}

/// A mistake in how runlens was called (exit 2), as opposed to a failure while working.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// An analysis error as the CLI reports it: what the user asked wrongly (an unknown label
/// key, a saved baseline that is missing or unreadable) is a usage error (exit 2).
pub fn usage_or_failure(e: runlens_analysis::AnalysisError) -> anyhow::Error {
    match e {
        e @ (runlens_analysis::AnalysisError::UnknownLabel { .. }
        | runlens_analysis::AnalysisError::Baseline { .. }) => UsageError(e.to_string()).into(),
        other => other.into(),
    }
}

/// The price table a `--prices FILE` names (a file that cannot be read or parsed is a usage
/// error), or None for the bundled snapshot.
pub fn price_file(
    path: Option<&std::path::Path>,
) -> Result<Option<runlens_analysis::prices::PriceTable>, UsageError> {
    path.map(|p| {
        runlens_analysis::prices::PriceTable::load(p).map_err(|e| UsageError(e.to_string()))
    })
    .transpose()
}

/// The Spark engine the arguments ask for (None: the embedded one); `--approx` without
/// Spark is a usage error.
pub fn spark_engine(
    args: &crate::cli::EngineArgs,
    approx: bool,
) -> anyhow::Result<Option<runlens_analysis::spark::Spark>> {
    use crate::cli::EngineArg;
    match args.engine {
        EngineArg::Local if approx => Err(UsageError(
            "--approx needs --engine spark: the embedded engine's percentiles are exact".into(),
        )
        .into()),
        EngineArg::Local => Ok(None),
        EngineArg::Spark => Ok(Some(runlens_analysis::spark::Spark::new(
            runlens_analysis::spark::SparkOptions {
                master: args.spark_master.clone(),
                program: args.spark_sql.clone(),
                conf: args.spark_conf.clone(),
                root: args.spark_root.clone(),
                approx,
            },
        )?)),
    }
}

/// Writes `text` to stdout; a closed pipe (`runlens query ... | head`) is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
