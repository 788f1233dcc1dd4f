//! `runlens memory`.

use runlens_analysis::DatasetReader;
use runlens_analysis::memory::{MemoryVerdict, memory_growth_on};

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{MemoryArgs, OutputFormat};

/// Runs the command: exit 1 when a group's memory grows like a leak.
pub fn run(dataset: &runlens_ingest::Dataset, args: MemoryArgs) -> anyhow::Result<Outcome> {
    let by: Vec<String> = args
        .by
        .iter()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    let spark = super::spark_engine(&args.engine, false)?;
    let rows = match memory_growth_on(
        &DatasetReader::open(dataset.clone()),
        &by,
        &args.filters,
        args.threshold,
        spark.as_ref(),
    ) {
        Err(e @ runlens_analysis::AnalysisError::UnknownLabel { .. }) => {
            return Err(UsageError(e.to_string()).into());
        }
        other => other?,
    };
    let text = match args.format {
        OutputFormat::Table => runlens_reports::memory::render_table(&rows, &by, args.threshold),
        OutputFormat::Json => {
            runlens_reports::memory::render_json(&rows, &by, args.threshold)? + "\n"
        }
        OutputFormat::Csv => runlens_reports::memory::render_csv(&rows, &by)?,
    };
    print_stdout(&text)?;
    Ok(if rows.iter().any(|r| r.verdict != MemoryVerdict::Stable) {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}
