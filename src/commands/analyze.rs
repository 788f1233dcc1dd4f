//! `runlens analyze`.

use runlens_analysis::DatasetReader;
use runlens_analysis::analyze::{AnalyzeOptions, analyze};
use runlens_analysis::stats::OutlierRule;
use runlens_reports::frame::FrameFormat;

use super::{Outcome, print_stdout};
use crate::cli::{AnalyzeArgs, OutlierArg, OutputFormat};

/// Runs the command.
pub fn run(data: &std::path::Path, args: AnalyzeArgs) -> anyhow::Result<Outcome> {
    let options = AnalyzeOptions {
        by: args
            .by
            .iter()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect(),
        per_phase: args.phase,
        filters: args.filters,
        outlier_rule: match args.outliers {
            OutlierArg::Sd => OutlierRule::Sd,
            OutlierArg::Iqr => OutlierRule::Iqr,
            OutlierArg::Mad => OutlierRule::Mad,
        },
        drop_outliers: args.drop_outliers,
    };
    let analysis = match analyze(&DatasetReader::new(data), &options) {
        Err(e @ runlens_analysis::AnalysisError::UnknownLabel { .. }) => {
            return Err(super::UsageError(e.to_string()).into());
        }
        other => other?,
    };
    let format = match args.format {
        OutputFormat::Table => FrameFormat::Table,
        OutputFormat::Csv => FrameFormat::Csv,
        OutputFormat::Json => FrameFormat::Json,
    };
    print_stdout(&runlens_reports::analysis::render_analysis(
        &analysis, format,
    )?)?;
    Ok(Outcome::Success)
}
