//! `runlens analyze`.

use runlens_analysis::DatasetReader;
use runlens_analysis::analyze::{AnalyzeOptions, analyze_on};
use runlens_analysis::stats::OutlierRule;
use runlens_reports::analysis::Extras;
use runlens_reports::frame::FrameFormat;

use super::{Outcome, print_stdout};
use crate::cli::{AnalyzeArgs, OutlierArg, OutputFormat};

/// Runs the command.
pub fn run(dataset: &runlens_ingest::Dataset, args: AnalyzeArgs) -> anyhow::Result<Outcome> {
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
        prices: super::price_file(args.prices.as_deref())?,
    };
    let targets = match &args.targets {
        None => None,
        Some(path) => {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| super::UsageError(format!("reading targets {shown}: {e}")))?;
            let targets = runlens_analysis::targets::parse_targets(&text)
                .map_err(|e| super::UsageError(format!("{shown}: {e}")))?;
            Some((shown, targets))
        }
    };
    let mut options = options;
    if let Some((_, t)) = &targets {
        // A target on a phase needs the per-phase rows.
        options.per_phase |= runlens_analysis::targets::needs_phases(t);
    }
    let spark = super::spark_engine(&args.engine, args.approx)?;
    let reader = DatasetReader::open(dataset.clone());
    let analysis = match analyze_on(&reader, &options, spark.as_ref()) {
        Err(e @ runlens_analysis::AnalysisError::UnknownLabel { .. }) => {
            return Err(super::UsageError(e.to_string()).into());
        }
        other => other?,
    };
    let judgement = match &targets {
        None => None,
        Some((shown, targets)) => Some(
            runlens_analysis::targets::judge(&analysis, targets)
                .map_err(|e| super::UsageError(format!("{shown}: {e}")))?,
        ),
    };
    let format = match args.format {
        OutputFormat::Table => FrameFormat::Table,
        OutputFormat::Csv => FrameFormat::Csv,
        OutputFormat::Json => FrameFormat::Json,
    };
    let projections =
        runlens_analysis::projections::project_costs(&analysis, args.workflows_per_day);
    let extras = Extras {
        projections: Some(&projections),
        judgement: judgement.as_ref(),
    };
    let text = runlens_reports::analysis::render_analysis(&analysis, format, extras)?;
    if let (Some(j), FrameFormat::Csv) = (&judgement, format) {
        // CSV stays the statistics rows; the verdicts go to stderr.
        eprint!(
            "{}",
            runlens_reports::analysis::render_judgement(j, &options.by)
        );
    }
    print_stdout(&text)?;
    Ok(match judgement {
        Some(j) if !j.passed => Outcome::Rejected,
        _ => Outcome::Success,
    })
}
