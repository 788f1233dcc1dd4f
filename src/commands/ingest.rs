//! `runlens ingest`.

use runlens_ingest::formats::ParseOptions;
use runlens_ingest::formats::run_log::compile_phase_regex;
use runlens_ingest::formats::time_output::CustomFormat;
use runlens_ingest::pipeline::check_format;
use runlens_ingest::schema::Labels;
use runlens_ingest::{IngestOptions, ingest};

use super::{Outcome, UsageError, print_stdout};
use crate::cli::IngestArgs;
use crate::progress::Bar;

/// Turns the flags into [`IngestOptions`]; every mistake is a usage error.
fn options(args: IngestArgs) -> Result<IngestOptions, UsageError> {
    let usage = |e: runlens_ingest::IngestError| UsageError(e.to_string());
    if let Some(name) = &args.format {
        check_format(name).map_err(usage)?;
    }
    let parse = ParseOptions {
        phase_regex: args
            .phase_regex
            .as_deref()
            .map(compile_phase_regex)
            .transpose()
            .map_err(usage)?,
        time_format: args
            .time_format
            .as_deref()
            .map(CustomFormat::compile)
            .transpose()
            .map_err(usage)?,
        validation: runlens_ingest::sessions::ValidationOptions {
            // `--expect-tool-calls-where` also matches the batch's own labels.
            batch_labels: args.labels.clone(),
            ..args.expectations.to_options()
        },
        ..ParseOptions::default()
    };
    Ok(IngestOptions {
        inputs: args.paths,
        format: args.format,
        labels: Labels(args.labels.into_iter().collect()),
        dry_run: args.dry_run,
        parse,
        since: args.since,
    })
}

/// Runs the command.
pub fn run(dataset: &runlens_ingest::Dataset, args: IngestArgs) -> anyhow::Result<Outcome> {
    let options = options(args)?;
    let summary = ingest(dataset, &options, &Bar::for_stderr()).map_err(|e| match e {
        // A storage error names the dataset already.
        e @ runlens_ingest::IngestError::Storage { .. } => anyhow::Error::from(e),
        other => {
            anyhow::Error::from(other).context(format!("ingesting into {}", dataset.location()))
        }
    })?;
    print_stdout(&runlens_reports::render_ingest_summary(&summary))?;
    Ok(if summary.has_rejections() {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}
