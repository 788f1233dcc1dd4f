//! `runlens query`.

use runlens_analysis::{AnalysisError, DatasetReader, run_sql};
use runlens_reports::{FrameFormat, render_frame};

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{OutputFormat, QueryArgs};

/// Runs the command.
pub fn run(data: &std::path::Path, args: QueryArgs) -> anyhow::Result<Outcome> {
    let reader = DatasetReader::new(data);
    let mut frame = match run_sql(&reader, &args.sql) {
        Ok(frame) => frame,
        // A query polars cannot plan is the caller's mistake, not a failure of runlens.
        Err(AnalysisError::Polars { context, source }) => {
            return Err(UsageError(format!("{context}: {source}")).into());
        }
        Err(e) => return Err(e.into()),
    };
    let format = match args.format {
        OutputFormat::Table => FrameFormat::Table,
        OutputFormat::Csv => FrameFormat::Csv,
        OutputFormat::Json => FrameFormat::Json,
    };
    print_stdout(&render_frame(&mut frame, format)?)?;
    Ok(Outcome::Success)
}
