//! `runlens query` and `runlens sessions`: SQL results rendered as tables, CSV or JSON.

use runlens_analysis::{AnalysisError, DatasetReader, run_sql};
use runlens_ingest::Dataset;
use runlens_reports::{FrameFormat, render_frame};

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{OutputFormat, QueryArgs, SessionsArgs, SqlArgs, SqlDialect};

/// Runs the command.
pub fn run(dataset: &Dataset, args: QueryArgs) -> anyhow::Result<Outcome> {
    let reader = DatasetReader::open(dataset.clone());
    let mut frame = match run_sql(&reader, &args.sql) {
        Ok(frame) => frame,
        // A query polars cannot plan is the caller's mistake, not a failure of runlens.
        Err(AnalysisError::Polars { context, error }) => {
            return Err(UsageError(format!("{context}: {error}")).into());
        }
        Err(e) => return Err(e.into()),
    };
    print_stdout(&render_frame(&mut frame, frame_format(args.format))?)?;
    Ok(Outcome::Success)
}

/// `runlens sql`: the statements registering the dataset's committed tables as views in
/// another engine.
pub fn views(dataset: &Dataset, args: SqlArgs) -> anyhow::Result<Outcome> {
    use runlens_analysis::dialect::Dialect;
    if let Some(root) = dataset.local_root().filter(|root| !root.exists()) {
        return Err(UsageError(format!(
            "no dataset at {}: give --data (a directory or an s3://, gs://, az:// URL)",
            root.display()
        ))
        .into());
    }
    let options = runlens_analysis::views::ViewOptions {
        dialect: match args.dialect {
            SqlDialect::Spark => Dialect::Spark,
            SqlDialect::Duckdb => Dialect::DuckDb,
            SqlDialect::Trino => Dialect::Trino,
        },
        root: args.root,
        trino_schema: args.trino_schema,
    };
    let reader = DatasetReader::open(dataset.clone());
    let statements = match runlens_analysis::views::view_statements(&reader, &options) {
        Err(e @ AnalysisError::Views(_)) => return Err(UsageError(e.to_string()).into()),
        other => other?,
    };
    print_stdout(&statements)?;
    Ok(Outcome::Success)
}

/// `runlens sessions`: token totals per session or per day.
pub fn sessions(dataset: &Dataset, args: SessionsArgs) -> anyhow::Result<Outcome> {
    // Paths, or the agents' own folders when asked or when there is no dataset, are read
    // into a temporary dataset.
    let mut inputs = args.paths.clone();
    let missing = dataset.local_root().is_some_and(|root| !root.exists());
    if args.discover || (inputs.is_empty() && missing) {
        inputs.extend(super::inputs::discovered_inputs());
        if inputs.is_empty() {
            return Err(UsageError(format!(
                "no dataset at {} and no transcripts in the agents' folders: give paths, --data, \
                 or set CLAUDE_CONFIG_DIR / CODEX_HOME",
                dataset.location()
            ))
            .into());
        }
    }
    let (scratch, inputs_rejected) = match inputs.is_empty() {
        true => (None, false),
        false => {
            let (dir, rejected) = super::inputs::scratch_dataset(&inputs)?;
            (Some(dir), rejected)
        }
    };
    let reader = DatasetReader::open(match &scratch {
        Some(dir) => Dataset::new(dir.path()),
        None => dataset.clone(),
    });
    let window = runlens_analysis::sessions::Window {
        since_us: args.window.since.map(|t| t.0),
        until_us: args.window.until.map(|t| t.0),
    };
    let prices = super::price_file(args.prices.as_deref())?
        .unwrap_or_else(runlens_analysis::prices::PriceTable::bundled);
    let spark = super::spark_engine(&args.engine, false)?;
    if let Some(spark) = &spark {
        let totals = match (&args.by, args.daily) {
            (None, false) => runlens_analysis::sessions::listing_on_spark(
                &reader,
                &window,
                &prices,
                args.agents,
                spark,
            ),
            (by, daily) => runlens_analysis::sessions::totals_on_spark(
                &reader,
                &window,
                &prices,
                by.as_ref(),
                daily,
                spark,
            ),
        };
        let (mut frame, unpriced) = match totals {
            Err(e @ runlens_analysis::AnalysisError::UnknownLabel { .. }) => {
                return Err(super::UsageError(e.to_string()).into());
            }
            other => other?,
        };
        warn_unpriced(&unpriced, &prices);
        print_stdout(&render_frame(&mut frame, frame_format(args.format))?)?;
        return Ok(match inputs_rejected {
            true => Outcome::Rejected,
            false => Outcome::Success,
        });
    }
    let costs = runlens_analysis::sessions::call_costs(&reader, &prices)?;
    let mut frame = match (&args.by, args.daily) {
        (Some(by), daily) => {
            match runlens_analysis::sessions::totals_by(&reader, &window, &costs, by, daily) {
                Err(e @ runlens_analysis::AnalysisError::UnknownLabel { .. }) => {
                    return Err(super::UsageError(e.to_string()).into());
                }
                other => other?,
            }
        }
        (None, true) => runlens_analysis::sessions::daily(&reader, &window, &costs)?,
        (None, false) => {
            runlens_analysis::sessions::per_session(&reader, &window, &costs, args.agents)?
        }
    };
    warn_unpriced(&costs.unpriced, &prices);
    print_stdout(&render_frame(&mut frame, frame_format(args.format))?)?;
    Ok(match inputs_rejected {
        true => Outcome::Rejected,
        false => Outcome::Success,
    })
}

/// The warning naming the models without a price (their cost is left empty).
fn warn_unpriced(
    unpriced: &std::collections::BTreeMap<String, usize>,
    prices: &runlens_analysis::prices::PriceTable,
) {
    if unpriced.is_empty() {
        return;
    }
    let models: Vec<String> = unpriced
        .iter()
        .map(|(model, n)| format!("{model} ({n} call(s))"))
        .collect();
    eprintln!(
        "warning: no price for {} in {}: their cost is left empty (give one with --prices)",
        models.join(", "),
        prices.source
    );
}

fn frame_format(format: OutputFormat) -> FrameFormat {
    match format {
        OutputFormat::Table => FrameFormat::Table,
        OutputFormat::Csv => FrameFormat::Csv,
        OutputFormat::Json => FrameFormat::Json,
    }
}
