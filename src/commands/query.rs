//! `runlens query` and `runlens sessions`: SQL results rendered as tables, CSV or JSON.

use runlens_analysis::{AnalysisError, DatasetReader, run_query_statement};
use runlens_ingest::Dataset;
use runlens_ingest::schema::{TRANSCRIPT_SOURCE, Table};
use runlens_reports::{FrameFormat, render_frame};

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{OutputFormat, QueryArgs, SessionsArgs, SqlArgs, SqlDialect};
use crate::result_cache::{ResultCache, StoredResult};

/// Runs the command.
pub fn run(dataset: &Dataset, args: QueryArgs) -> anyhow::Result<Outcome> {
    let reader = DatasetReader::open(dataset.clone());
    let mut frame = match run_query_statement(&reader, &args.sql) {
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
    // The same question of the same committed files has the answer stored last time.
    let cache = match (&scratch, args.engine.engine, args.no_cache) {
        (None, crate::cli::EngineArg::Local, false) => {
            ResultCache::for_request(dataset, &sessions_request(&args), args.prices.as_deref())
        }
        _ => None,
    };
    if let Some(stored) = cache.as_ref().and_then(ResultCache::get) {
        for warning in &stored.warnings {
            eprintln!("{warning}");
        }
        print_stdout(&stored.stdout)?;
        return Ok(Outcome::Success);
    }
    // Every sessions report reads the transcripts' calls only: `llm_calls` files whose
    // commits recorded other sources alone (a latency CSV's calls) are not opened.
    let reader = reader.narrowed_to_source(Table::LlmCalls, TRANSCRIPT_SOURCE)?;
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
        if let Some(warning) = unpriced_warning(&unpriced, &prices) {
            eprintln!("{warning}");
        }
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
    let warnings: Vec<String> = unpriced_warning(&costs.unpriced, &prices)
        .into_iter()
        .collect();
    for warning in &warnings {
        eprintln!("{warning}");
    }
    let stdout = render_frame(&mut frame, frame_format(args.format))?;
    print_stdout(&stdout)?;
    if let Some(cache) = cache {
        cache.put(&StoredResult { stdout, warnings });
    }
    Ok(match inputs_rejected {
        true => Outcome::Rejected,
        false => Outcome::Success,
    })
}

/// What `sessions` was asked, as the key of its stored result: every argument that
/// changes the output, and the table's width (the terminal's, when stdout is one).
fn sessions_request(args: &SessionsArgs) -> String {
    let width = match args.format {
        OutputFormat::Table => runlens_reports::table::new_table(&[]).width(),
        _ => None,
    };
    format!(
        "sessions daily={} by={:?} since={:?} until={:?} agents={} format={:?} width={:?}",
        args.daily,
        args.by,
        args.window.since.map(|t| t.0),
        args.window.until.map(|t| t.0),
        args.agents,
        args.format,
        width
    )
}

/// The warning naming the models without a price (their cost is left empty).
fn unpriced_warning(
    unpriced: &std::collections::BTreeMap<String, usize>,
    prices: &runlens_analysis::prices::PriceTable,
) -> Option<String> {
    if unpriced.is_empty() {
        return None;
    }
    let models: Vec<String> = unpriced
        .iter()
        .map(|(model, n)| format!("{model} ({n} call(s))"))
        .collect();
    Some(format!(
        "warning: no price for {} in {}: their cost is left empty (give one with --prices)",
        models.join(", "),
        prices.source
    ))
}

fn frame_format(format: OutputFormat) -> FrameFormat {
    match format {
        OutputFormat::Table => FrameFormat::Table,
        OutputFormat::Csv => FrameFormat::Csv,
        OutputFormat::Json => FrameFormat::Json,
    }
}
