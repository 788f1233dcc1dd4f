//! `runlens compare`.

use runlens_analysis::DatasetReader;
use runlens_analysis::compare::{GroupSpec, compare, group_samples, save_baseline, speedup_claim};

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{CompareArgs, OutputFormat};

/// Runs the command: exit 1 when a metric got worse beyond the threshold or a claimed
/// speed-up does not hold.
pub fn run(data: &std::path::Path, args: CompareArgs) -> anyhow::Result<Outcome> {
    let reader = DatasetReader::new(data);
    let usage = |e: runlens_analysis::AnalysisError| -> anyhow::Error {
        match e {
            e @ (runlens_analysis::AnalysisError::UnknownLabel { .. }
            | runlens_analysis::AnalysisError::Baseline { .. }) => UsageError(e.to_string()).into(),
            other => other.into(),
        }
    };
    let baseline = group_samples(&reader, data, &args.baseline, args.phase).map_err(usage)?;
    if let Some(name) = &args.save_baseline {
        if matches!(args.baseline, GroupSpec::Saved(_)) {
            return Err(UsageError(
                "--save-baseline needs a filtered --baseline, not saved:".into(),
            )
            .into());
        }
        let path = save_baseline(data, name, &baseline)?;
        eprintln!(
            "saved the baseline's figures as {name} ({})",
            path.display()
        );
    }
    let Some(candidate_spec) = &args.candidate else {
        if args.save_baseline.is_some() {
            return Ok(Outcome::Success);
        }
        return Err(
            UsageError("--candidate is required (unless only saving a baseline)".into()).into(),
        );
    };
    if matches!(candidate_spec, GroupSpec::Saved(_)) {
        return Err(UsageError("--candidate takes a filter, not saved:".into()).into());
    }
    let candidate = group_samples(&reader, data, candidate_spec, args.phase).map_err(usage)?;
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
            serde_json::to_string_pretty(&serde_json::json!({
                "threshold": args.threshold,
                "method": runlens_reports::compare::method_line(args.threshold),
                "rows": rows,
                "speedup": claim,
            }))? + "\n"
        }
        OutputFormat::Csv => {
            let mut out = String::from(
                "metric,phase,unit,baseline_n,baseline_median,candidate_n,candidate_median,ratio,ratio_ci95_low,ratio_ci95_high,p_value,verdict\n",
            );
            let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            for r in &rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{}\n",
                    csv_field(&r.metric),
                    csv_field(&r.phase),
                    r.unit,
                    r.baseline_n,
                    r.baseline_median,
                    r.candidate_n,
                    r.candidate_median,
                    opt(r.ratio),
                    opt(r.ratio_ci95_low),
                    opt(r.ratio_ci95_high),
                    opt(r.p_value),
                    r.verdict
                ));
            }
            out
        }
    };
    print_stdout(&text)?;
    let regressed = rows.iter().any(|r| r.verdict == "worse");
    let claim_failed = claim.as_ref().is_some_and(|c| !c.holds);
    Ok(if regressed || claim_failed {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}

/// A CSV field, quoted when it holds a comma or a quote.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
