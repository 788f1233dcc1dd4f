//! `runlens report`.

use anyhow::Context;
use runlens_analysis::DatasetReader;
use runlens_analysis::compare::{GroupSpec, load_groups};
use runlens_analysis::release::{ReleaseOptions, ReleaseVerdict, release_comparison};
use runlens_analysis::report_content::{ReportOptions, ReportVerdict, build_report};
use runlens_ingest::Dataset;

use super::{Outcome, UsageError, print_stdout, usage_or_failure};
use crate::cli::{ReportArgs, ReportFormat};

/// Runs the command.
pub fn run(dataset: &Dataset, args: ReportArgs) -> anyhow::Result<Outcome> {
    // Input paths are reported on by themselves, from a temporary dataset.
    let (scratch, inputs_rejected) = match args.paths.is_empty() {
        true => (None, false),
        false => {
            let (dir, rejected) = super::inputs::scratch_dataset(&args.paths)?;
            (Some(dir), rejected)
        }
    };
    let dataset = match &scratch {
        Some(dir) => Dataset::new(dir.path()),
        None => dataset.clone(),
    };
    let targets = match &args.targets {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("reading targets {}: {e}", path.display())))?;
            Some(
                runlens_analysis::targets::parse_targets(&text)
                    .map_err(|e| UsageError(format!("{}: {e}", path.display())))?,
            )
        }
    };
    let prices = super::price_file(args.prices.as_deref())?;
    let spark = super::spark_engine(&args.engine, false)?;
    if let (Some(baseline), Some(candidate)) = (&args.baseline, &args.candidate) {
        let outcome = release_report(
            &dataset,
            &args,
            [baseline, candidate],
            prices.as_ref(),
            spark.as_ref(),
        )?;
        return Ok(if inputs_rejected {
            Outcome::Rejected
        } else {
            outcome
        });
    }
    let options = ReportOptions {
        by: args
            .by
            .iter()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect(),
        filters: args.filters.clone(),
        targets,
        prices,
        workflows_per_day: args.workflows_per_day,
    };
    let report = match build_report(
        &DatasetReader::open(dataset.clone()),
        &options,
        spark.as_ref(),
    ) {
        Err(e @ runlens_analysis::AnalysisError::UnknownLabel { .. })
        | Err(e @ runlens_analysis::AnalysisError::Targets(_)) => {
            return Err(UsageError(e.to_string()).into());
        }
        other => other?,
    };
    let reader = DatasetReader::open(dataset.clone());
    let needs_charts = args.format == ReportFormat::Html || args.charts.is_some();
    let chart_data = match needs_charts {
        true => Some(runlens_analysis::chart_data::chart_data(
            &reader,
            &report,
            &options.filters,
        )?),
        false => None,
    };
    if let (Some(dir), Some(chart_data)) = (&args.charts, &chart_data) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for kind in runlens_reports::charts::available(chart_data) {
            let png = runlens_reports::charts::render_png(chart_data, kind)?;
            let path = dir.join(format!("{}.png", kind.name));
            std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("runlens: chart {}", path.display());
        }
    }
    let text = match args.format {
        ReportFormat::Html => {
            let charts = match &chart_data {
                Some(d) => runlens_reports::charts::available(d)
                    .into_iter()
                    .map(|k| Ok((k, runlens_reports::charts::render_svg(d, k)?)))
                    .collect::<runlens_reports::Result<Vec<_>>>()?,
                None => Vec::new(),
            };
            runlens_reports::html::render_html(&report, &charts)
        }
        ReportFormat::Md => runlens_reports::report::render_markdown(&report),
        ReportFormat::Csv => runlens_reports::report::render_csv(&report)?,
        ReportFormat::Json => runlens_reports::report::render_json(&report)?,
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print_stdout(&text)?,
    }
    Ok(
        if report.verdict == ReportVerdict::Fail || inputs_rejected {
            Outcome::Rejected
        } else {
            Outcome::Success
        },
    )
}

/// The release comparison report: baseline against candidate. Exit 1 on a regression (or a
/// claim that does not hold).
fn release_report(
    dataset: &Dataset,
    args: &ReportArgs,
    [baseline, candidate]: [&GroupSpec; 2],
    prices: Option<&runlens_analysis::prices::PriceTable>,
    spark: Option<&runlens_analysis::spark::Spark>,
) -> anyhow::Result<Outcome> {
    for metric in &args.metrics {
        runlens_analysis::catalogue::lookup(metric).map_err(UsageError)?;
    }
    if matches!(candidate, GroupSpec::Saved(_)) {
        return Err(UsageError("--candidate takes a filter, not saved:".into()).into());
    }
    let reader = DatasetReader::open(dataset.clone());
    let mut groups = load_groups(&reader, &[baseline, candidate], true, prices, spark)
        .map_err(usage_or_failure)?
        .into_iter();
    let (baseline_group, candidate_group) = (
        groups.next().unwrap_or_default(),
        groups.next().unwrap_or_default(),
    );
    if baseline_group.samples.is_empty() {
        return Err(UsageError("the baseline matches no measurement".into()).into());
    }
    if candidate_group.samples.is_empty() {
        return Err(UsageError("the candidate matches no measurement".into()).into());
    }
    let options = ReleaseOptions {
        baseline: baseline.clone(),
        candidate: candidate.clone(),
        threshold: args.threshold,
        metrics: args.metrics.clone(),
        claims: args.expect_speedup.clone(),
        workflows_per_day: args.workflows_per_day,
    };
    let comparison = release_comparison(&options, baseline_group, candidate_group);
    let text = match args.format {
        ReportFormat::Md => runlens_reports::release::render_markdown(&comparison),
        ReportFormat::Json => runlens_reports::release::render_json(&comparison)?,
        ReportFormat::Csv => runlens_reports::release::render_csv(&comparison)?,
        ReportFormat::Html => {
            let charts = runlens_reports::release_charts::release_charts(&comparison)?;
            runlens_reports::release_html::render_html(&comparison, &charts)
        }
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print_stdout(&text)?,
    }
    Ok(if comparison.verdict == ReleaseVerdict::Regression {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}
