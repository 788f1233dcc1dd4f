//! Gathering the observations of every metric: one Parquet scan per table, then one polars
//! group-by per *source* (the metrics of a table that share their exclusion and aggregation,
//! see [`crate::catalogue`]) and phase split, each group's values handed back as lists for
//! [`crate::stats`] to summarise.
//!
//! A large table is read in parts of about 260,000 rows (whole files), and each part's
//! groups are merged into the whole's: a group's values are appended (the percentiles stay
//! exact: every counted value is kept, and nothing else of the part is), and observations
//! summed per run are first summed per run within each part, with how many values were
//! known and unknown, then combined, since a run's rows may lie in several parts. Parts
//! are gathered in parallel, as many at once as there are threads, and merged in their
//! order. Memory thus holds those parts' rows and the values kept, not the table. The
//! values kept are bounded too ([`Reading::values_budget`]): a table too large for all of
//! a source's metrics' values at once is read once per set of metrics that fits (each pass
//! computing only its own metrics), and each set's groups are summarised and dropped
//! before the next is read.
//!
//! The `runs` table is read first and kept in memory (one row per run): the warm-up and
//! failure flags of every run come from it, so the phases, outputs and calls of a run share
//! its flags without reading `runs` again. Each part is read from its files once, into
//! memory, and its calls priced there (each distinct model of the part looked up once);
//! every group-by of the pass (phase and total rows, the calls per call and per run, each
//! grouping) then runs on that frame. Reading the whole table into memory for them was
//! measured slower and larger on 10 M calls than a scan per group-by; a part of 260,000
//! rows is neither (docs/benchmarks.md).

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;
use runlens_ingest::schema::Table;

use crate::catalogue::{self, Aggregation, CATALOGUE, Condition, Exclusion, Metric, Value};
use crate::cells;
use crate::error::{AnalysisError, Result};
use crate::prices::PriceTable;
use crate::scan::DatasetReader;

use super::cost::{TOKEN_COLUMNS, price_keys, with_cost_in_memory};
use super::{AnalyzeOptions, TOTAL_PHASE, group_column, keyed_parts, keyed_parts_every_file};

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

/// How `analyze` reads a large table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reading {
    /// About how many rows are read at once (whole files; see [`DatasetReader::parts`]).
    pub part_rows: u64,
    /// About how many bytes of values one pass over a table may keep for the percentiles:
    /// a source with more metrics than fit is read once per set of metrics that fits.
    pub values_budget: u64,
}

impl Reading {
    /// About 260,000 rows at a time (measured on 10 M calls: 1 M rows per part peaked at
    /// 1.1 GiB, 260,000 at 0.7 GiB, in the same time); up to 1 GiB of values kept (128 M
    /// values: every call metric of 10 M calls in one pass; at 100 M calls, one per pass).
    pub const DEFAULT: Reading = Reading {
        part_rows: 1 << 18,
        values_budget: 1 << 30,
    };

    /// How many metrics one pass over `rows` rows keeps values of.
    fn metrics_per_pass(self, rows: u64) -> usize {
        let per_metric = rows.saturating_mul(8).max(1);
        usize::try_from(self.values_budget / per_metric)
            .unwrap_or(usize::MAX)
            .max(1)
    }
}

/// The column holding `metric`'s values.
pub(super) fn value_column(metric: &Metric) -> String {
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
    pub run_sum: bool,
}

impl Source {
    /// The sources of `table`, in catalogue order.
    pub(super) fn of(table: Table) -> Vec<Source> {
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

    pub(super) fn exclusion(&self) -> Exclusion {
        self.metrics
            .first()
            .map_or(Exclusion::Nothing, |m| m.exclusion)
    }

    fn phased(&self) -> bool {
        self.metrics.iter().all(|m| m.phased)
    }

    /// The sources of `table` with their phase splits: `(source, per_phase)`, the totals
    /// first and, with `per_phase`, the per-phase rows of a phased source.
    pub(super) fn splits(table: Table, per_phase: bool) -> Vec<(Source, bool)> {
        Source::of(table)
            .into_iter()
            .flat_map(|s| {
                let phased = per_phase && s.phased();
                let both: &[bool] = if phased { &[false, true] } else { &[false] };
                both.iter()
                    .map(move |p| (s.clone(), *p))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// How one split of this source makes its observations: None for one per row, else
    /// each run's rows summed by that rule (the totals of a [`Aggregation::TotalPerRun`]
    /// source, and every split of a [`Aggregation::RunSum`] one).
    pub(super) fn run_rule(&self, per_phase: bool) -> Option<RunSum> {
        let total_per_run = self.metrics.first().map(|m| m.aggregation)
            == Some(Aggregation::TotalPerRun)
            && !per_phase;
        if self.run_sum {
            Some(RunSum::Strict)
        } else if total_per_run {
            Some(RunSum::Known)
        } else {
            None
        }
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
    /// Whether these are the first of their source's metrics (a source read in several
    /// passes hands its groups, with the same failed and warm-up counts, once per pass).
    pub first_pass: bool,
    /// The groups.
    pub groups: Vec<Group>,
}

/// Gathers every source of every table for each of `groupings` (lists of `--by` keys), the
/// files listed and the runs read once for all of them, and hands each
/// source's groups to `each` as soon as they are complete (so that their values can be
/// summarised and dropped before the next are read).
pub(super) fn gather_all(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    groupings: &[Vec<String>],
    reading: Reading,
    each: &mut dyn FnMut(Gathered) -> Result<()>,
) -> Result<()> {
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
    let prices = PriceTable::or_bundled(options.prices.as_ref());
    let prices = prices.as_ref();
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
        let splits = Source::splits(table, options.per_phase);
        // A large table is read in parts of about `Reading::part_rows` rows, each part's
        // groups merged into the whole's, so that memory holds a few parts' rows (and the
        // values kept for the percentiles), not the table.
        let parts = match table {
            Table::Runs => vec![reader.clone()],
            _ => reader.parts(table, reading.part_rows)?,
        };
        let rows: u64 = match table {
            Table::Runs => runs.height() as u64,
            _ => reader.rows(table)?,
        };
        // A pass keeps the values of the metrics that fit the budget; sources summed per
        // run keep one value per run and always fit.
        let per_pass = reading.metrics_per_pass(rows);
        let mut passes: Vec<Vec<(Source, bool, bool)>> = Vec::new();
        for (source, per_phase) in &splits {
            let chunks: Vec<&[&'static Metric]> = match source.run_rule(*per_phase) {
                None => source.metrics.chunks(per_pass).collect(),
                Some(_) => vec![&source.metrics],
            };
            for (i, metrics) in chunks.into_iter().enumerate() {
                let part_of_source = Source {
                    metrics: metrics.to_vec(),
                    ..source.clone()
                };
                if passes.len() <= i {
                    passes.push(Vec::new());
                }
                passes[i].push((part_of_source, *per_phase, i == 0));
            }
        }
        for pass in &passes {
            let mut merged: Vec<Merged> = (0..groupings.len() * pass.len())
                .map(|i| {
                    let (source, per_phase, _) = &pass[i % pass.len()];
                    Merged::new(source, *per_phase)
                })
                .collect();
            // Parts are gathered in parallel, as many at once as there are threads, and
            // merged in their order (the per-run sums add up in the same order every time).
            let at_once = rayon::current_num_threads().max(1);
            // Only the metrics of this pass are computed from each part (a table read in
            // several passes decodes each metric's columns once, not once per pass).
            let pass_metrics: Vec<&'static Metric> = pass
                .iter()
                .flat_map(|(source, _, _)| source.metrics.iter().copied())
                .collect();
            for batch in parts.chunks(at_once) {
                let gathered: Vec<Vec<PartGroups>> = batch
                    .par_iter()
                    .map(|part| {
                        // A part is read and priced once, into memory, for every group-by of
                        // the pass (each grouping, source and phase split).
                        let observations = match table {
                            Table::Runs => runs.clone().lazy().filter(col(KEEP)),
                            _ => observe(
                                part,
                                table,
                                options,
                                &all_keys,
                                &flags,
                                prices,
                                &pass_metrics,
                            )?
                            .lazy(),
                        };
                        let mut groups = Vec::with_capacity(groupings.len() * pass.len());
                        for k in 0..groupings.len() {
                            let keys = key_columns(k);
                            for (source, per_phase, _) in pass {
                                groups.push(PartGroups::of(
                                    observations.clone(),
                                    source,
                                    *per_phase,
                                    &keys,
                                )?);
                            }
                        }
                        Ok(groups)
                    })
                    .collect::<Result<_>>()?;
                for part in gathered {
                    for (merged, groups) in merged.iter_mut().zip(part) {
                        merged.add_groups(groups)?;
                    }
                }
            }
            for (i, merged) in merged.into_iter().enumerate() {
                let (k, (source, per_phase, first_pass)) = (i / pass.len(), &pass[i % pass.len()]);
                each(Gathered {
                    grouping: k,
                    source: source.clone(),
                    per_phase: *per_phase,
                    first_pass: *first_pass,
                    groups: merged.finish(source, &key_columns(k))?,
                })?;
            }
        }
    }
    Ok(())
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

/// The failure and warm-up conditions a row of `table` carries itself.
pub(super) fn own_conditions(table: Table) -> (Condition, Condition) {
    match table {
        Table::Runs => (Condition::RunFailed, Condition::Warmup),
        Table::LlmCalls => (Condition::CallFailed, Condition::Never),
        _ => (Condition::Never, Condition::Never),
    }
}

/// The failure and warm-up flags a row of `table` carries itself.
fn own_flags(table: Table) -> (Expr, Expr) {
    let (failed, warmup) = own_conditions(table);
    (failed.to_polars(), warmup.to_polars())
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
    let (lf, keys, keep) = keyed_parts_every_file(reader, Table::Runs, by, &options.filters)?;
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

/// The rows of one part of `table` (not `runs`) in memory: keys, phase, flags (its run's
/// joined from `flags`) and a value column per metric of `wanted` (each once, though a
/// pass may list it for two phase splits), the cost priced at the rates of each distinct
/// model of the part (looked up once per part).
fn observe(
    reader: &DatasetReader,
    table: Table,
    options: &AnalyzeOptions,
    by: &[String],
    flags: &DataFrame,
    prices: &PriceTable,
    wanted: &[&'static Metric],
) -> Result<DataFrame> {
    let err = || AnalysisError::polars(format!("reading {}", table.name()));
    let metrics: Vec<&Metric> = CATALOGUE
        .iter()
        .filter(|m| m.table == table && wanted.iter().any(|w| std::ptr::eq(*w, *m)))
        .collect();
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
    let observations = observations.collect().map_err(err())?;
    if !needs_cost {
        return Ok(observations);
    }
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
    with_cost_in_memory(observations, prices)?
        .select(keep_columns)
        .collect()
        .map_err(err())
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

/// The groups of one source and phase split, merged part by part (see [`DatasetReader::parts`]).
enum Merged {
    /// One observation per row: each part's groups, merged by keys and phase as they come.
    Rows {
        groups: Vec<Group>,
        index: HashMap<(Vec<Option<String>>, String), usize>,
    },
    /// One observation per run: each part's per-run partial sums, combined at the end (a
    /// run's rows may lie in several parts).
    Runs {
        rule: RunSum,
        partials: Vec<DataFrame>,
    },
}

/// One part's share of a [`Merged`]: made from the part alone, so that parts can be
/// gathered in parallel and merged after.
enum PartGroups {
    /// Its groups, each with its values as lists.
    Rows(Vec<Group>),
    /// Its per-run partial sums ([`run_partials`]).
    Runs(DataFrame),
}

impl PartGroups {
    /// The groups of one source and phase split in one part's observations.
    fn of(
        observations: LazyFrame,
        source: &Source,
        per_phase: bool,
        keys: &[String],
    ) -> Result<PartGroups> {
        let rule = source.run_rule(per_phase);
        let (lf, values) = prepared(observations, source, per_phase, keys, rule.is_some());
        match rule {
            None => Ok(PartGroups::Rows(lists(lf, keys, &values, source.table)?)),
            Some(rule) => {
                // Only the calls a recorded run made (captured by `record --capture`).
                let lf = match rule {
                    RunSum::Strict => lf.filter(col("run_id").is_not_null()),
                    RunSum::Known => lf,
                };
                let partials =
                    run_partials(lf, keys, &values)
                        .collect()
                        .map_err(AnalysisError::polars(format!(
                            "gathering {}",
                            source.table.name()
                        )))?;
                Ok(PartGroups::Runs(partials))
            }
        }
    }
}

impl Merged {
    fn new(source: &Source, per_phase: bool) -> Merged {
        match source.run_rule(per_phase) {
            Some(rule) => Merged::Runs {
                rule,
                partials: Vec::new(),
            },
            None => Merged::Rows {
                groups: Vec::new(),
                index: HashMap::new(),
            },
        }
    }

    /// Adds one part's observations.
    #[cfg(test)]
    fn add(
        &mut self,
        observations: LazyFrame,
        source: &Source,
        per_phase: bool,
        keys: &[String],
    ) -> Result<()> {
        self.add_groups(PartGroups::of(observations, source, per_phase, keys)?)
    }

    /// Adds one part's groups (of the same source, phase split and grouping).
    fn add_groups(&mut self, part: PartGroups) -> Result<()> {
        match (self, part) {
            (Merged::Rows { groups, index }, PartGroups::Rows(part)) => {
                for group in part {
                    let key = (group.keys.clone(), group.phase.clone());
                    match index.get(&key) {
                        Some(&i) => groups[i].merge(group)?,
                        None => {
                            index.insert(key, groups.len());
                            groups.push(group);
                        }
                    }
                }
            }
            (Merged::Runs { partials, .. }, PartGroups::Runs(part)) => partials.push(part),
            _ => {
                return Err(AnalysisError::polars("merging the parts' groups")(
                    polars_err!(ComputeError: "a part's groups of another kind"),
                ));
            }
        }
        Ok(())
    }

    /// The groups of every part together.
    fn finish(self, source: &Source, keys: &[String]) -> Result<Vec<Group>> {
        match self {
            Merged::Rows { groups, .. } => Ok(groups),
            Merged::Runs { rule, partials } => {
                let values: Vec<String> = source.metrics.iter().map(|m| value_column(m)).collect();
                let parts: Vec<LazyFrame> = partials.into_iter().map(IntoLazy::lazy).collect();
                if parts.is_empty() {
                    return Ok(Vec::new());
                }
                let all = concat(parts, UnionArgs::default()).map_err(AnalysisError::polars(
                    format!("gathering {}", source.table.name()),
                ))?;
                lists(
                    run_sums(all, keys, &values, rule),
                    keys,
                    &values,
                    source.table,
                )
            }
        }
    }
}

impl Group {
    /// Adds another part's observations of the same group.
    fn merge(&mut self, other: Group) -> Result<()> {
        for (mine, theirs) in self.values.iter_mut().zip(other.values) {
            match (mine.as_mut(), theirs) {
                (Some(mine), Some(theirs)) => {
                    mine.append_owned(theirs)
                        .map_err(AnalysisError::polars("merging the parts' groups"))?;
                }
                (None, theirs) => *mine = theirs,
                (Some(_), None) => {}
            }
        }
        self.failed += other.failed;
        self.warmups += other.warmups;
        self.phase_order = self.phase_order.min(other.phase_order);
        Ok(())
    }
}

/// The observations of one source (per phase, or the totals) as keys, phase, order, flags,
/// a value column per metric and, when they are summed per run, the run id.
fn prepared(
    observations: LazyFrame,
    source: &Source,
    per_phase: bool,
    keys: &[String],
    sums_runs: bool,
) -> (LazyFrame, Vec<String>) {
    let (failed, warmup) = exclusion_flags(source.exclusion());
    let (phase, order) = match per_phase {
        true => (col(RAW_PHASE), col(RAW_ORDER)),
        false => (lit(TOTAL_PHASE), lit(-1i64)),
    };
    let mut select: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    select.extend([
        phase.alias(PHASE),
        order.cast(DataType::Int64).alias(ORDER),
        failed.alias(FAILED),
        warmup.alias(WARMUP),
    ]);
    let values: Vec<String> = source.metrics.iter().map(|m| value_column(m)).collect();
    select.extend(values.iter().map(|v| col(v.as_str())));
    if sums_runs {
        select.push(col("run_id"));
    }
    // Per phase, rows outside any phase (calls made between phases) have no group.
    let observations = match per_phase {
        true => observations.filter(col(RAW_PHASE).is_not_null()),
        false => observations,
    };
    (observations.select(select), values)
}

/// Groups observations by keys and phase: each group's counted values as lists, its failed
/// and warm-up observations counted.
fn lists(lf: LazyFrame, keys: &[String], values: &[String], table: Table) -> Result<Vec<Group>> {
    let mut group_by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
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
        .map_err(AnalysisError::polars(format!("gathering {}", table.name())))?;
    read_groups(&frame, keys, values, table.name())
}

/// How [`run_sums`] treats missing values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum RunSum {
    /// The sum of the known values; null when none is known (a run without a memory figure).
    Known,
    /// Null as soon as one value is unknown (a call of an unpriced model).
    Strict,
}

/// The suffixes of a value's partial state: values known, values unknown.
const KNOWN: &str = "__known";
const UNKNOWN: &str = "__unknown";

/// One part's observations summed per run (and phase: the per-phase split keeps phases
/// apart), with how many values were known and unknown, so that parts combine exactly.
fn run_partials(observations: LazyFrame, keys: &[String], values: &[String]) -> LazyFrame {
    let mut aggregates = vec![col(ORDER).min(), col(FAILED).first(), col(WARMUP).first()];
    for value in values {
        let v = || col(value.as_str());
        aggregates.extend([
            v().sum(),
            v().count().alias(format!("{value}{KNOWN}")),
            v().null_count().alias(format!("{value}{UNKNOWN}")),
        ]);
    }
    observations.group_by(run_keys(keys)).agg(aggregates)
}

/// Each run's sums from the parts' [`run_partials`]: null when none of the run's values is
/// known ([`RunSum::Known`]) or one is unknown ([`RunSum::Strict`]).
fn run_sums(partials: LazyFrame, keys: &[String], values: &[String], rule: RunSum) -> LazyFrame {
    let mut aggregates = vec![col(ORDER).min(), col(FAILED).first(), col(WARMUP).first()];
    for value in values {
        let unknown = match rule {
            RunSum::Known => col(format!("{value}{KNOWN}")).sum().eq(lit(0)),
            RunSum::Strict => col(format!("{value}{UNKNOWN}")).sum().gt(lit(0)),
        };
        aggregates.push(
            when(unknown)
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(col(value.as_str()).sum())
                .alias(value.as_str()),
        );
    }
    partials.group_by(run_keys(keys)).agg(aggregates)
}

/// A run (and phase) within a group.
fn run_keys(keys: &[String]) -> Vec<Expr> {
    let mut by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    by.push(col("run_id"));
    by.push(col(PHASE));
    by
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One row of observations: group, run, whether the run is a warm-up, a value per metric.
    type Row<'a> = (&'a str, &'a str, bool, &'a [Option<f64>]);

    /// A group's keys, its sorted values per metric, its failed and warm-up counts.
    type Seen = (Vec<Option<String>>, Vec<Vec<f64>>, usize, usize);

    /// Observations of `source` as [`observe`] makes them.
    fn observations(source: &Source, rows: &[Row]) -> LazyFrame {
        let n = rows.len();
        let mut columns = vec![
            Column::new(
                group_column(0).into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new(RAW_PHASE.into(), vec!["build"; n]),
            Column::new(RAW_ORDER.into(), vec![0i64; n]),
            Column::new(OWN_FAILED.into(), vec![false; n]),
            Column::new(OWN_WARMUP.into(), vec![false; n]),
            Column::new(
                "run_id".into(),
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            ),
            Column::new(RUN_FAILED.into(), vec![false; n]),
            Column::new(
                RUN_WARMUP.into(),
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            ),
        ];
        for (i, m) in source.metrics.iter().enumerate() {
            let values: Vec<Option<f64>> = rows.iter().map(|r| r.3[i]).collect();
            columns.push(Column::new(value_column(m).into(), values));
        }
        DataFrame::new_infer_height(columns).expect("frame").lazy()
    }

    /// What [`Merged`] gathers from `parts`, by group.
    fn gathered(source: &Source, parts: &[&[Row]]) -> Vec<Seen> {
        let keys = vec![group_column(0)];
        let mut merged = Merged::new(source, false);
        for part in parts {
            merged
                .add(observations(source, part), source, false, &keys)
                .expect("added");
        }
        let mut groups: Vec<_> = merged
            .finish(source, &keys)
            .expect("finished")
            .into_iter()
            .map(|g| {
                let values = g
                    .values
                    .iter()
                    .map(|s| {
                        let mut v: Vec<f64> = s
                            .as_ref()
                            .map(|s| s.f64().expect("f64").iter().flatten().collect())
                            .unwrap_or_default();
                        v.sort_by(f64::total_cmp);
                        v
                    })
                    .collect();
                (g.keys, values, g.failed, g.warmups)
            })
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups
    }

    /// A run's phases in two parts are one observation of the run: summed over the values
    /// known, unknown when none is; a warm-up run is counted as such once.
    #[test]
    fn runs_split_across_parts_sum_once() {
        let phases = Source::of(Table::Phases).remove(0);
        assert_eq!(phases.metrics.len(), 3);
        let first: &[Row] = &[
            ("a", "r1", false, &[Some(10.0), Some(5.0), Some(1.0)]),
            ("a", "r2", false, &[Some(7.0), None, Some(4.0)]),
        ];
        let second: &[Row] = &[
            ("a", "r1", false, &[Some(20.0), None, Some(2.0)]),
            ("a", "r3", true, &[Some(100.0), Some(1.0), Some(1.0)]),
            ("b", "r4", false, &[Some(1.5), Some(2.0), None]),
        ];
        let expected = vec![
            (
                vec![Some("a".to_string())],
                vec![vec![7.0, 30.0], vec![5.0], vec![3.0, 4.0]],
                0,
                1,
            ),
            (
                vec![Some("b".to_string())],
                vec![vec![1.5], vec![2.0], vec![]],
                0,
                0,
            ),
        ];
        assert_eq!(gathered(&phases, &[first, second]), expected);
        let together: Vec<_> = first.iter().chain(second).copied().collect();
        assert_eq!(gathered(&phases, &[&together]), expected);
    }

    /// A recorded run's cost is unknown as soon as one of its calls, in any part, is
    /// unpriced.
    #[test]
    fn a_run_sum_is_unknown_when_any_part_has_an_unknown_value() {
        let run_sums = Source::of(Table::LlmCalls)
            .into_iter()
            .find(|s| s.run_sum)
            .expect("the calls' run sums");
        let first: &[Row] = &[
            ("a", "r1", false, &[Some(0.5), Some(1.0)]),
            ("a", "r2", false, &[Some(0.25), Some(1.0)]),
        ];
        let second: &[Row] = &[
            ("a", "r1", false, &[None, Some(1.0)]),
            ("a", "r2", false, &[Some(0.25), Some(1.0)]),
        ];
        let expected = vec![(
            vec![Some("a".to_string())],
            vec![vec![0.5], vec![2.0, 2.0]],
            0,
            0,
        )];
        assert_eq!(gathered(&run_sums, &[first, second]), expected);
    }
}
