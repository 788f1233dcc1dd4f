//! Gathering the observations of every metric: one Parquet scan per table, then one polars
//! group-by per *source* (the metrics of a table that share their exclusion and aggregation,
//! see [`crate::catalogue`]) and phase split, each group's values handed back as lists for
//! [`crate::stats`] to summarise.
//!
//! The `runs` table is read first and kept in memory (one row per run): the warm-up and
//! failure flags of every run come from it, so the phases, outputs and calls of a run share
//! its flags without reading `runs` again; the price of each distinct model is looked up
//! once per command, whatever the number of groupings. A table
//! read by more than one group-by (phase and total rows, the calls per call and per run) is
//! streamed from its files by each: reading it into memory once instead was measured slower
//! and larger on 10 M calls (docs/benchmarks.md).

use polars::prelude::*;
use runlens_ingest::schema::Table;

use crate::catalogue::{self, Aggregation, CATALOGUE, Exclusion, Metric, Value};
use crate::cells;
use crate::error::{AnalysisError, Result};
use crate::prices::PriceTable;
use crate::scan::DatasetReader;

use super::cost::{TOKEN_COLUMNS, distinct_price_keys, price_keys, with_cost};
use super::{AnalyzeOptions, TOTAL_PHASE, group_column, keyed_parts};

const FAILED: &str = "__failed";
const WARMUP: &str = "__warmup";
const PHASE: &str = "__phase";
const ORDER: &str = "__order";
const RAW_PHASE: &str = "__phase_raw";
const RAW_ORDER: &str = "__order_raw";
const OWN_FAILED: &str = "__own_failed";
const OWN_WARMUP: &str = "__own_warmup";
const RUN_FAILED: &str = "__run_failed";
const RUN_WARMUP: &str = "__run_warmup";
const KEEP: &str = "__keep";

/// The column holding `metric`'s values.
fn value_column(metric: &Metric) -> String {
    format!("__v{}", catalogue::position(metric))
}

/// The metrics of one group-by: a table's metrics with the same aggregation class.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// The table.
    pub table: Table,
    /// The metrics, in catalogue order; they share their [`Exclusion`].
    pub metrics: Vec<&'static Metric>,
    /// Whether every observation is a run's rows summed.
    run_sum: bool,
}

impl Source {
    /// The sources of `table`, in catalogue order.
    fn of(table: Table) -> Vec<Source> {
        let mut sources: Vec<Source> = Vec::new();
        for m in CATALOGUE.iter().filter(|m| m.table == table) {
            let run_sum = m.aggregation == Aggregation::RunSum;
            match sources.iter_mut().find(|s| s.run_sum == run_sum) {
                Some(s) => s.metrics.push(m),
                None => sources.push(Source {
                    table,
                    metrics: vec![m],
                    run_sum,
                }),
            }
        }
        sources
    }

    fn exclusion(&self) -> Exclusion {
        self.metrics
            .first()
            .map_or(Exclusion::Nothing, |m| m.exclusion)
    }

    fn phased(&self) -> bool {
        self.metrics.iter().all(|m| m.phased)
    }
}

/// One group's observations of every metric of a source.
pub(super) struct Group {
    /// The `--by` key values.
    pub keys: Vec<Option<String>>,
    /// Phase, or [`TOTAL_PHASE`].
    pub phase: String,
    /// Where the phase sorts (its index in the run; -1 for the total).
    pub phase_order: i64,
    /// Per metric of the source, the values that count (slices of polars' lists).
    pub values: Vec<Option<Series>>,
    /// Failed observations (warm-ups aside).
    pub failed: usize,
    /// Warm-up observations.
    pub warmups: usize,
}

/// The groups of one source in one phase split, for one grouping.
pub(super) struct Gathered {
    /// Which of the groupings asked for.
    pub grouping: usize,
    /// The source.
    pub source: Source,
    /// Whether these are the per-phase rows (else the totals).
    pub per_phase: bool,
    /// The groups.
    pub groups: Vec<Group>,
}

/// Gathers every source of every table for each of `groupings` (lists of `--by` keys): the
/// files listed, the runs read and the models priced once for all of them.
pub(super) fn gather_all(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    groupings: &[Vec<String>],
) -> Result<Vec<Gathered>> {
    // Every grouping's keys are columns of each scan: grouping k's are those from
    // `offsets[k]` on.
    let all_keys: Vec<String> = groupings.concat();
    let mut offsets = Vec::with_capacity(groupings.len());
    let mut next = 0;
    for g in groupings {
        offsets.push(next);
        next += g.len();
    }
    let key_columns = |k: usize| -> Vec<String> {
        (offsets[k]..offsets[k] + groupings[k].len())
            .map(group_column)
            .collect()
    };
    let bundled;
    let prices = match &options.prices {
        Some(p) => p,
        None => {
            bundled = PriceTable::bundled();
            &bundled
        }
    };
    let runs = runs_frame(reader, options, &all_keys)?;
    let flags = runs
        .clone()
        .lazy()
        .select([
            col("run_id"),
            col(OWN_FAILED).alias(RUN_FAILED),
            col(OWN_WARMUP).alias(RUN_WARMUP),
        ])
        .collect()
        .map_err(AnalysisError::polars("reading the runs' flags"))?;
    let mut out = Vec::new();
    for table in [
        Table::Runs,
        Table::Phases,
        Table::Artifacts,
        Table::LlmCalls,
        Table::Sessions,
    ] {
        let sources = Source::of(table);
        if sources.is_empty() {
            continue;
        }
        let splits: Vec<(Source, bool)> = sources
            .into_iter()
            .flat_map(|s| {
                let phased = options.per_phase && s.phased();
                let both: &[bool] = if phased { &[false, true] } else { &[false] };
                both.iter()
                    .map(move |p| (s.clone(), *p))
                    .collect::<Vec<_>>()
            })
            .collect();
        // Each group-by streams its table from the files: measured on 10 M calls, that is
        // faster and smaller than reading the table into memory once and grouping it from
        // there (docs/benchmarks.md).
        let observations = match table {
            Table::Runs => runs.clone().lazy().filter(col(KEEP)),
            _ => observe(reader, table, options, &all_keys, &flags, prices)?,
        };
        for k in 0..groupings.len() {
            let keys = key_columns(k);
            for (source, per_phase) in &splits {
                let groups = group(observations.clone(), source, *per_phase, &keys)?;
                out.push(Gathered {
                    grouping: k,
                    source: source.clone(),
                    per_phase: *per_phase,
                    groups,
                });
            }
        }
    }
    Ok(out)
}

/// The raw phase and its sort order in `table` (None: the table has no phases).
fn raw_phase(table: Table) -> (Expr, Expr) {
    match table {
        Table::Phases => (col("phase"), col("phase_index").cast(DataType::Int64)),
        // Calls made outside any phase count in the totals only (their phase is null).
        Table::LlmCalls => (col("phase"), lit(i64::MAX)),
        _ => (lit(NULL).cast(DataType::String), lit(i64::MAX)),
    }
}

/// The failure and warm-up flags a row of `table` carries itself.
fn own_flags(table: Table) -> (Expr, Expr) {
    match table {
        Table::Runs => (
            catalogue::run_failed(),
            col("is_warmup").fill_null(lit(false)),
        ),
        Table::LlmCalls => (col("error_kind").is_not_null(), lit(false)),
        _ => (lit(false), lit(false)),
    }
}

/// The columns every observation frame of `table` starts with: keys, raw phase, own flags.
fn common_columns(table: Table, keys: Vec<Expr>) -> Vec<Expr> {
    let (phase, order) = raw_phase(table);
    let (failed, warmup) = own_flags(table);
    let mut select = keys;
    select.extend([
        phase.alias(RAW_PHASE),
        order.alias(RAW_ORDER),
        failed.alias(OWN_FAILED),
        warmup.alias(OWN_WARMUP),
    ]);
    select
}

/// The `runs` table, every run (the `--filter` result in [`KEEP`]), in memory: its flags serve
/// every table's runs, its values the run metrics.
fn runs_frame(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    by: &[String],
) -> Result<DataFrame> {
    let (lf, keys, keep) = keyed_parts(reader, Table::Runs, by, &options.filters)?;
    let mut select = common_columns(Table::Runs, keys);
    select.push(col("run_id"));
    select.push(keep.alias(KEEP));
    for m in CATALOGUE.iter().filter(|m| m.table == Table::Runs) {
        select.push(m.value.to_polars().alias(value_column(m).as_str()));
    }
    lf.select(select)
        .collect()
        .map_err(AnalysisError::polars("reading runs"))
}

/// The scan of `table` (not `runs`): keys, phase, flags (its run's joined from `flags`) and a
/// value column per metric (the cost priced per distinct model, read from the model columns
/// alone first).
fn observe(
    reader: &DatasetReader,
    table: Table,
    options: &AnalyzeOptions,
    by: &[String],
    flags: &DataFrame,
    prices: &PriceTable,
) -> Result<LazyFrame> {
    let metrics: Vec<&Metric> = CATALOGUE.iter().filter(|m| m.table == table).collect();
    let (lf, keys, keep) = keyed_parts(reader, table, by, &options.filters)?;
    let key_names: Vec<Expr> = (0..keys.len())
        .map(|i| col(group_column(i).as_str()))
        .collect();
    let mut select = common_columns(table, keys);
    let has_run = matches!(table, Table::Phases | Table::Artifacts | Table::LlmCalls);
    if has_run {
        select.push(col("run_id"));
    }
    let priced = |m: &&Metric| matches!(m.value, Value::CallCost | Value::CallCostInRun);
    let needs_cost = metrics.iter().any(priced);
    for m in metrics.iter().filter(|m| !priced(m)) {
        select.push(m.value.to_polars().alias(value_column(m).as_str()));
    }
    if needs_cost {
        select.extend(price_keys());
        select.extend(TOKEN_COLUMNS.iter().map(|c| col(*c)));
    }
    let mut observations = lf.filter(keep).select(select);
    if metrics.iter().any(|m| m.exclusion == Exclusion::ItsRun) {
        observations = observations.left_join(flags.clone().lazy(), col("run_id"), col("run_id"));
    }
    if needs_cost {
        // Each distinct model is priced once: read the model columns alone first.
        let distinct = distinct_price_keys(reader.scan(table)?)?;
        let mut keep_columns = key_names;
        keep_columns.extend([RAW_PHASE, RAW_ORDER, OWN_FAILED, OWN_WARMUP].map(col));
        if has_run {
            keep_columns.push(col("run_id"));
        }
        if metrics.iter().any(|m| m.exclusion == Exclusion::ItsRun) {
            keep_columns.extend([col(RUN_FAILED), col(RUN_WARMUP)]);
        }
        for m in &metrics {
            keep_columns.push(match priced(m) {
                true => m.value.to_polars().alias(value_column(m).as_str()),
                false => col(value_column(m).as_str()),
            });
        }
        return Ok(with_cost(observations, &distinct, prices)?.select(keep_columns));
    }
    Ok(observations)
}

/// The failure and warm-up flags of an observation under `exclusion`.
fn exclusion_flags(exclusion: Exclusion) -> (Expr, Expr) {
    match exclusion {
        Exclusion::OwnRun | Exclusion::CallError => (col(OWN_FAILED), col(OWN_WARMUP)),
        Exclusion::ItsRun => (
            col(RUN_FAILED).fill_null(lit(false)),
            col(RUN_WARMUP).fill_null(lit(false)),
        ),
        Exclusion::Nothing => (lit(false), lit(false)),
    }
}

/// Groups the observations of one source (per phase, or the totals).
fn group(
    observations: LazyFrame,
    source: &Source,
    per_phase: bool,
    keys: &[String],
) -> Result<Vec<Group>> {
    let (failed, warmup) = exclusion_flags(source.exclusion());
    let (phase, order) = match per_phase {
        true => (col(RAW_PHASE), col(RAW_ORDER)),
        false => (lit(TOTAL_PHASE), lit(-1i64)),
    };
    let key_exprs = || -> Vec<Expr> { keys.iter().map(|k| col(k.as_str())).collect() };
    let mut select = key_exprs();
    select.extend([
        phase.alias(PHASE),
        order.cast(DataType::Int64).alias(ORDER),
        failed.alias(FAILED),
        warmup.alias(WARMUP),
    ]);
    let values: Vec<String> = source.metrics.iter().map(|m| value_column(m)).collect();
    select.extend(values.iter().map(|v| col(v.as_str())));
    let aggregation = source.metrics.first().map(|m| m.aggregation);
    let sums_runs = source.run_sum || (aggregation == Some(Aggregation::TotalPerRun) && !per_phase);
    if sums_runs {
        select.push(col("run_id"));
    }
    let mut lf = observations.select(select);
    if source.run_sum {
        // Only the calls a recorded run made (captured by `record --capture`); any unknown
        // value (an unpriced model) leaves the run's sum unknown.
        lf = per_run_sums(
            lf.filter(col("run_id").is_not_null()),
            keys,
            &values,
            RunSum::Strict,
        );
    } else if sums_runs {
        // A run's phases (outputs) together, so the `(total)` row describes runs.
        lf = per_run_sums(lf, keys, &values, RunSum::Known);
    }
    let mut group_by = key_exprs();
    group_by.push(col(PHASE));
    let counted = col(FAILED).not().and(col(WARMUP).not());
    let mut aggregates: Vec<Expr> = values
        .iter()
        .map(|v| {
            col(v.as_str())
                .filter(col(v.as_str()).is_not_null().and(counted.clone()))
                .alias(v.as_str())
        })
        .collect();
    aggregates.extend([
        col(FAILED)
            .and(col(WARMUP).not())
            .cast(DataType::UInt32)
            .sum()
            .alias(FAILED),
        col(WARMUP).cast(DataType::UInt32).sum().alias(WARMUP),
        col(ORDER).min().alias(ORDER),
    ]);
    let frame = lf
        .group_by(group_by)
        .agg(aggregates)
        .collect()
        .map_err(AnalysisError::polars(format!(
            "gathering {}",
            source.table.name()
        )))?;
    read_groups(&frame, keys, &values, source.table.name())
}

/// How [`per_run_sums`] treats missing values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RunSum {
    /// The sum of the known values; null when none is known (a run without a memory figure).
    Known,
    /// Null as soon as one value is unknown (a call of an unpriced model).
    Strict,
}

/// Sums the observations of each run (and phase: the per-phase split keeps phases apart).
fn per_run_sums(
    observations: LazyFrame,
    keys: &[String],
    values: &[String],
    rule: RunSum,
) -> LazyFrame {
    let mut by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    by.push(col("run_id"));
    by.push(col(PHASE));
    let mut aggregates = vec![col(ORDER).min(), col(FAILED).first(), col(WARMUP).first()];
    for value in values {
        let v = || col(value.as_str());
        let unknown = match rule {
            RunSum::Known => v().count().eq(lit(0)),
            RunSum::Strict => v().null_count().gt(lit(0)),
        };
        aggregates.push(
            when(unknown)
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(v().sum())
                .alias(value.as_str()),
        );
    }
    observations.group_by(by).agg(aggregates)
}

fn read_groups(
    frame: &DataFrame,
    keys: &[String],
    values: &[String],
    table: &str,
) -> Result<Vec<Group>> {
    let err = || AnalysisError::polars(format!("reading the groups of {table}"));
    let key_columns: Vec<StringChunked> = keys
        .iter()
        .map(|k| cells::strings(frame, k))
        .collect::<PolarsResult<_>>()
        .map_err(err())?;
    let phases = cells::strings(frame, PHASE).map_err(err())?;
    let lists: Vec<ListChunked> = values
        .iter()
        .map(|v| frame.column(v.as_str()).and_then(|c| c.list().cloned()))
        .collect::<PolarsResult<_>>()
        .map_err(err())?;
    let failed = cells::counts(frame, FAILED).map_err(err())?;
    let warmups = cells::counts(frame, WARMUP).map_err(err())?;
    let orders = cells::ints(frame, ORDER).map_err(err())?;
    let mut groups = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let Some(phase) = phases.get(i) else { continue };
        let group = Group {
            keys: key_columns
                .iter()
                .map(|c| c.get(i).map(str::to_string))
                .collect(),
            phase: phase.to_string(),
            phase_order: orders.get(i).unwrap_or(i64::MAX),
            values: lists.iter().map(|list| list.get_as_series(i)).collect(),
            failed: failed.get(i).unwrap_or(0) as usize,
            warmups: warmups.get(i).unwrap_or(0) as usize,
        };
        // A group with nothing measured and nothing failed says nothing.
        let measured = group
            .values
            .iter()
            .any(|v| v.as_ref().is_some_and(|s| !s.is_empty()));
        if measured || group.failed > 0 {
            groups.push(group);
        }
    }
    Ok(groups)
}
