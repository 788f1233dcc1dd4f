//! `runlens compare`.

use runlens_analysis::DatasetReader;
use runlens_analysis::catalogue;
use runlens_analysis::compare::{
    Change, GroupSpec, compare, load_groups, save_baseline, speedup_claim,
};

use super::{Outcome, UsageError, print_stdout, usage_or_failure};
use crate::cli::{CompareArgs, OutputFormat};

/// Runs the command: exit 1 when a metric got worse beyond the threshold or a claimed
/// speed-up does not hold.
pub fn run(dataset: &runlens_ingest::Dataset, args: CompareArgs) -> anyhow::Result<Outcome> {
    let reader = DatasetReader::open(dataset.clone());
    for metric in &args.metrics {
        catalogue::lookup(metric).map_err(UsageError)?;
    }
    let prices = super::price_file(args.prices.as_deref())?;
    if args.save_baseline.is_some() && matches!(args.baseline, GroupSpec::Saved(_)) {
        return Err(
            UsageError("--save-baseline needs a filtered --baseline, not saved:".into()).into(),
        );
    }
    if args.candidate.is_none() && args.save_baseline.is_none() {
        return Err(
            UsageError("--candidate is required (unless only saving a baseline)".into()).into(),
        );
    }
    if matches!(args.candidate, Some(GroupSpec::Saved(_))) {
        return Err(UsageError("--candidate takes a filter, not saved:".into()).into());
    }
    let spark = super::spark_engine(&args.engine, false)?;
    // Both groups at once: on Spark, one script measures them.
    let specs: Vec<&GroupSpec> = std::iter::once(&args.baseline)
        .chain(args.candidate.as_ref())
        .collect();
    let mut groups = load_groups(&reader, &specs, args.phase, prices.as_ref(), spark.as_ref())
        .map_err(usage_or_failure)?
        .into_iter();
    let baseline = groups.next().unwrap_or_default();
    if let Some(name) = &args.save_baseline {
        let location = save_baseline(dataset, name, &baseline)?;
        eprintln!("saved the baseline's figures as {name} ({location})");
    }
    let Some(candidate) = groups.next() else {
        return Ok(Outcome::Success);
    };
    let candidate = candidate.samples;
    let baseline = baseline.samples;
    if baseline.is_empty() {
        return Err(UsageError("the baseline matches no measurement".into()).into());
    }
    if candidate.is_empty() {
        return Err(UsageError("the candidate matches no measurement".into()).into());
    }
    let rows = compare(&baseline, &candidate, &args.metrics, args.threshold);
    let claim = args.expect_speedup.map(|factor| {
        let metric = args.metrics.first().map_or("wall_time", String::as_str);
        speedup_claim(&baseline, &candidate, metric, factor)
    });
    let text = match args.format {
        OutputFormat::Table => {
            runlens_reports::compare::render_table(&rows, claim.as_ref(), args.threshold)
        }
        OutputFormat::Json => {
            runlens_reports::compare::render_json(&rows, claim.as_ref(), args.threshold)?
        }
        OutputFormat::Csv => runlens_reports::compare::render_csv(&rows)?,
    };
    print_stdout(&text)?;
    let regressed = rows.iter().any(|r| r.verdict == Change::Worse);
    let claim_failed = claim.as_ref().is_some_and(|c| !c.holds);
    Ok(if regressed || claim_failed {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}
