//! `runlens analyze`: per-group (and per-phase) statistics of every metric the dataset
//! holds, with the method stated.
//!
//! Each metric comes from the table that observes it, one observation per row:
//!
//! | metric | unit | table, one value per | failed when |
//! | --- | --- | --- | --- |
//! | `wall_time` | ms | `runs` | exit code ≠ 0, a signal, timed out or interrupted |
//! | `cpu_time` (user + sys) | ms | `runs` | as above |
//! | `peak_memory` (`max_rss_bytes`) | bytes | `runs` | as above |
//! | `phase_time` | ms | `phases` | its run failed |
//! | `phase_input_tokens`, `phase_output_tokens` | tokens | `phases` | its run failed |
//! | `ttft` | ms | `llm_calls` | the call has an `error_kind` |
//! | `output_tokens_per_s` | tokens/s | `llm_calls` | as above |
//! | `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens` | tokens | `llm_calls` | as above |
//! | `cost` (the call's tokens at the price table's rates; none for an unknown model) | USD | `llm_calls` | as above |
//! | `run_cost`, `run_llm_calls` (a run's calls summed: cost, count; null cost when one is unpriced) | USD, calls | `llm_calls` with a `run_id`, summed per run (and phase) | its run failed |
//! | `outputs` (files the run produced of those it was expected to, or announced) | files | `artifacts`, summed per run | its run failed |
//! | `tool_calls` | calls | `sessions` | never |
//!
//! Warm-up runs (and their phases) are excluded; failed observations are counted in
//! `failed` and excluded from the statistics. Rows with no value for a metric (a run
//! without a memory figure) do not count for it. Every metric has a `(total)` row: run
//! metrics per run, phase metrics summed over each run's phases (one value per run), call
//! metrics per call, `tool_calls` per session. With `--phase`, phase metrics and LLM-call
//! metrics also get one row per phase (calls made outside any phase count in the totals).
//!
//! Grouping (`--by`) and filters (`--filter key=value`) name a column of the table
//! (`provider`, `source`, ...), `model` (an LLM call's responding model, else the requested
//! one), or else a label (`--label key=value` at ingest). Polars scans the Parquet files
//! lazily and groups the observations; [`crate::stats`] then summarises each group, in
//! parallel, so every number comes from the one tested implementation.

use polars::prelude::*;
use rayon::prelude::*;
use runlens_ingest::schema::Table;

use crate::error::{AnalysisError, Result};
use crate::labels::{label_column, label_keys, with_label_columns};
use crate::prices::PriceTable;
use crate::scan::DatasetReader;
use crate::stats::{OutlierRule, analyze_sample};

/// What to analyse and how.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Grouping keys (`provider`, `model`, `version`, ...).
    pub by: Vec<String>,
    /// Also one row per phase for phase and LLM-call metrics.
    pub per_phase: bool,
    /// Only observations whose key equals the value.
    pub filters: Vec<(String, String)>,
    /// How outliers are recognised.
    pub outlier_rule: OutlierRule,
    /// Remove outliers before computing the statistics.
    pub drop_outliers: bool,
    /// Prices for the `cost` metric (None: the bundled snapshot).
    pub prices: Option<PriceTable>,
}

/// How the numbers were computed, for the output's footer.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// Percentile method.
    pub quantiles: &'static str,
    /// Confidence interval method.
    pub confidence_interval: &'static str,
    /// Outlier rule used.
    pub outlier_rule: OutlierRule,
    /// Whether outliers were removed.
    pub outliers_dropped: bool,
    /// Outliers found, over all rows.
    pub outliers_found: usize,
    /// Outliers removed (0 unless dropped).
    pub outliers_removed: usize,
    /// Warm-up observations excluded.
    pub warmups_excluded: usize,
    /// Failed observations excluded (counted per row in `failed`).
    pub failed_excluded: usize,
}

/// The result: one row per group, phase and metric, and the method.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Columns: the `--by` keys, `phase`, `metric`, `unit`, `n`, `failed`, `mean`,
    /// `stddev`, `min`, `max`, `p50`, `p95`, `p99`, `ci95_low`, `ci95_high`, `outliers`,
    /// `outliers_removed`.
    pub frame: DataFrame,
    /// How it was computed.
    pub method: Method,
}

/// The phase value of run-level rows.
pub const TOTAL_PHASE: &str = "(total)";

/// One metric: where its observations come from.
struct Metric {
    name: &'static str,
    unit: &'static str,
    table: Table,
    value: fn() -> Expr,
    /// Whether the metric has per-phase rows (and a `phase` column to take them from).
    phased: bool,
    /// Whether one observation is a run's calls together (summed per run, and per run and
    /// phase with `--phase`) rather than one row of the table.
    per_run: bool,
}

const METRICS: &[Metric] = &[
    Metric {
        name: "wall_time",
        unit: "ms",
        table: Table::Runs,
        value: || col("wall_ms"),
        phased: false,
        per_run: false,
    },
    Metric {
        name: "cpu_time",
        unit: "ms",
        table: Table::Runs,
        value: || col("user_ms") + col("sys_ms"),
        phased: false,
        per_run: false,
    },
    Metric {
        name: "peak_memory",
        unit: "bytes",
        table: Table::Runs,
        value: || col("max_rss_bytes"),
        phased: false,
        per_run: false,
    },
    Metric {
        name: "phase_time",
        unit: "ms",
        table: Table::Phases,
        value: || col("duration_ms"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "phase_input_tokens",
        unit: "tokens",
        table: Table::Phases,
        value: || col("input_tokens"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "phase_output_tokens",
        unit: "tokens",
        table: Table::Phases,
        value: || col("output_tokens"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "ttft",
        unit: "ms",
        table: Table::LlmCalls,
        value: || col("ttft_ms"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "output_tokens_per_s",
        unit: "tokens/s",
        table: Table::LlmCalls,
        value: || col("output_tokens_per_s"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "input_tokens",
        unit: "tokens",
        table: Table::LlmCalls,
        value: || col("input_tokens"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "output_tokens",
        unit: "tokens",
        table: Table::LlmCalls,
        value: || col("output_tokens"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "cost",
        unit: "usd",
        table: Table::LlmCalls,
        value: || col(COST),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "cache_read_tokens",
        unit: "tokens",
        table: Table::LlmCalls,
        value: || col("cache_read_input_tokens"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "cache_write_tokens",
        unit: "tokens",
        table: Table::LlmCalls,
        value: || col("cache_creation_input_tokens"),
        phased: true,
        per_run: false,
    },
    Metric {
        name: "run_cost",
        unit: "usd",
        table: Table::LlmCalls,
        // A call without usage costs nothing; one of an unpriced model makes its run's
        // cost unknown (null), never an undercount.
        value: || {
            when(col(UNPRICED))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(col(COST).fill_null(lit(0.0)))
        },
        phased: true,
        per_run: true,
    },
    Metric {
        name: "run_llm_calls",
        unit: "calls",
        table: Table::LlmCalls,
        value: || lit(1.0),
        phased: true,
        per_run: true,
    },
    Metric {
        name: "outputs",
        unit: "files",
        table: Table::Artifacts,
        value: || {
            when(col("exists").and(col("produced_by_run").fill_null(lit(true))))
                .then(lit(1.0))
                .otherwise(lit(0.0))
        },
        phased: false,
        per_run: false,
    },
    Metric {
        name: "tool_calls",
        unit: "calls",
        table: Table::Sessions,
        value: || col("tool_calls"),
        phased: false,
        per_run: false,
    },
];

/// Internal column names of the gathered observations.
const FAILED: &str = "__failed";
const WARMUP: &str = "__warmup";
const PHASE: &str = "__phase";
const COST: &str = "__cost";
const UNPRICED: &str = "__unpriced";
const ORDER: &str = "__order";

fn value_column(n: usize) -> String {
    format!("__v{n}")
}

pub(crate) fn group_column(i: usize) -> String {
    format!("__g{i}")
}

/// Runs the analysis over the dataset.
pub fn analyze(reader: &DatasetReader, options: &AnalyzeOptions) -> Result<Analysis> {
    check_keys(reader, options)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut method = Method {
        quantiles: "linear interpolation between order statistics (numpy default, type 7)",
        confidence_interval: "95 % CI of the mean, Student's t with n - 1 degrees of freedom",
        outlier_rule: options.outlier_rule,
        outliers_dropped: options.drop_outliers,
        outliers_found: 0,
        outliers_removed: 0,
        warmups_excluded: 0,
        failed_excluded: 0,
    };
    // One scan per table (and per phase split): every metric of the table at once.
    for source in SOURCES {
        let metrics = source.metrics();
        let phased = options.per_phase && metrics.iter().all(|i| METRICS[*i].phased);
        // Phased metrics get their per-phase rows and, from a second pass, their totals.
        let splits: &[bool] = if phased { &[false, true] } else { &[false] };
        for &per_phase in splits {
            let groups = gather(reader, source, &metrics, per_phase, options)?;
            if !per_phase {
                for g in &groups {
                    method.warmups_excluded += g.warmups;
                    method.failed_excluded += g.failed;
                }
            }
            let mut summarised: Vec<Row> = groups
                .into_par_iter()
                .flat_map_iter(|g| g.into_rows(&metrics, options))
                .collect();
            for row in &summarised {
                method.outliers_found += row.outliers;
                method.outliers_removed += row.outliers_removed;
            }
            rows.append(&mut summarised);
        }
    }
    rows.sort_by(|a, b| {
        (&a.keys, a.phase_order, &a.phase, a.metric_index).cmp(&(
            &b.keys,
            b.phase_order,
            &b.phase,
            b.metric_index,
        ))
    });
    Ok(Analysis {
        frame: to_frame(&rows, &options.by)?,
        method,
    })
}

/// The observations of one metric (and phase) that count, for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (`wall_time`, ...).
    pub metric: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Phase, or [`TOTAL_PHASE`].
    pub phase: String,
    /// The counted values (warm-ups and failures excluded).
    pub values: Vec<f64>,
}

/// The counted observations of every metric among the rows matching `filters` (and per
/// phase with `per_phase`), the same ones `analyze` summarises.
pub fn samples(
    reader: &DatasetReader,
    filters: &[(String, String)],
    per_phase: bool,
) -> Result<Vec<Sample>> {
    let options = AnalyzeOptions {
        filters: filters.to_vec(),
        per_phase,
        ..AnalyzeOptions::default()
    };
    check_keys(reader, &options)?;
    let mut out = Vec::new();
    for source in SOURCES {
        let metrics = source.metrics();
        let phased = per_phase && metrics.iter().all(|i| METRICS[*i].phased);
        let splits: &[bool] = if phased { &[false, true] } else { &[false] };
        for &split in splits {
            for group in gather(reader, source, &metrics, split, &options)? {
                for (&m, series) in metrics.iter().zip(&group.values) {
                    let values: Vec<f64> = series
                        .as_ref()
                        .and_then(|s| s.f64().ok())
                        .map(|ca| ca.iter().flatten().collect())
                        .unwrap_or_default();
                    if !values.is_empty() {
                        out.push(Sample {
                            metric: METRICS[m].name,
                            unit: METRICS[m].unit,
                            phase: group.phase.clone(),
                            values,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Where a group of metrics is observed: a table, one row per observation, or (with
/// `per_run`) its rows summed per run.
#[derive(Debug, Clone, Copy)]
struct Source {
    table: Table,
    per_run: bool,
}

impl Source {
    /// The indexes in [`METRICS`] of the metrics observed here.
    fn metrics(self) -> Vec<usize> {
        (0..METRICS.len())
            .filter(|i| METRICS[*i].table == self.table && METRICS[*i].per_run == self.per_run)
            .collect()
    }
}

/// One scan each, in output order.
const SOURCES: [Source; 6] = [
    Source {
        table: Table::Runs,
        per_run: false,
    },
    Source {
        table: Table::Phases,
        per_run: false,
    },
    Source {
        table: Table::Artifacts,
        per_run: false,
    },
    Source {
        table: Table::LlmCalls,
        per_run: false,
    },
    Source {
        table: Table::LlmCalls,
        per_run: true,
    },
    Source {
        table: Table::Sessions,
        per_run: false,
    },
];

/// The tables `analyze` reads.
const TABLES: [Table; 5] = [
    Table::Runs,
    Table::Phases,
    Table::Artifacts,
    Table::LlmCalls,
    Table::Sessions,
];

/// Every `--by` and `--filter` key must name a column, `model`, or a label present in the
/// data: a typo would otherwise group everything under "no value".
pub(crate) fn check_keys(reader: &DatasetReader, options: &AnalyzeOptions) -> Result<()> {
    let keys: Vec<&String> = options
        .by
        .iter()
        .chain(options.filters.iter().map(|(k, _)| k))
        .collect();
    let is_column = |key: &str| {
        key == "model"
            || TABLES.iter().any(|t| {
                t.schema()
                    .fields()
                    .iter()
                    .any(|f| f.name() == key && key != "labels")
            })
    };
    let unknown: Vec<&String> = keys.into_iter().filter(|k| !is_column(k)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let mut present: Vec<String> = Vec::new();
    for table in TABLES {
        present.extend(label_keys(&reader.scan(table)?)?);
    }
    present.sort();
    present.dedup();
    match unknown.into_iter().find(|k| !present.contains(k)) {
        None => Ok(()),
        Some(key) => Err(AnalysisError::UnknownLabel {
            table: "runs, phases, llm_calls or sessions",
            key: key.clone(),
            present: if present.is_empty() {
                "none".into()
            } else {
                present.join(", ")
            },
        }),
    }
}

/// One group's observations of every metric of its table.
struct Group {
    keys: Vec<Option<String>>,
    phase: String,
    phase_order: i64,
    /// Per metric (in the order asked), the values that count (slices of polars' lists).
    values: Vec<Option<Series>>,
    failed: usize,
    warmups: usize,
}

impl Group {
    /// One row per metric that has observations (or failures).
    fn into_rows(self, metrics: &[usize], options: &AnalyzeOptions) -> Vec<Row> {
        let mut rows = Vec::new();
        for (&metric_index, series) in metrics.iter().zip(&self.values) {
            let copied: Vec<f64>;
            let values: &[f64] = match series.as_ref().and_then(|s| s.f64().ok()) {
                Some(ca) => match ca.cont_slice() {
                    Ok(slice) => slice,
                    Err(_) => {
                        copied = ca.iter().flatten().collect();
                        &copied
                    }
                },
                None => &[],
            };
            if values.is_empty() && self.failed == 0 {
                continue;
            }
            let sample = analyze_sample(values, options.outlier_rule, options.drop_outliers);
            rows.push(Row {
                keys: self.keys.clone(),
                phase: self.phase.clone(),
                phase_order: self.phase_order,
                metric_index,
                n: sample.kept,
                failed: self.failed,
                summary: sample.summary,
                outliers: sample.outliers,
                outliers_removed: sample.removed,
            });
        }
        rows
    }
}

/// One output row.
struct Row {
    keys: Vec<Option<String>>,
    phase: String,
    phase_order: i64,
    metric_index: usize,
    n: usize,
    failed: usize,
    summary: Option<crate::stats::Summary>,
    outliers: usize,
    outliers_removed: usize,
}

/// The expression a grouping or filter key stands for in `table`, and the label it needs
/// (if it is one).
fn key_expr(table: Table, key: &str) -> (Expr, Option<String>) {
    let schema = table.schema();
    let has = |name: &str| schema.fields().iter().any(|f| f.name() == name);
    if key == "model" && table == Table::LlmCalls {
        return (
            coalesce(&[col("response_model"), col("request_model")]),
            None,
        );
    }
    if has(key) && key != "labels" {
        return (col(key).cast(DataType::String), None);
    }
    (col(label_column(key)), Some(key.to_string()))
}

/// A scan of `table` with the `--by` keys as columns `__g0`, `__g1`, ... (the expressions
/// returned, for a select) and the `--filter`s applied: shared by every analysis that groups.
pub(crate) fn keyed_scan(
    reader: &DatasetReader,
    table: Table,
    by: &[String],
    filters: &[(String, String)],
) -> Result<(LazyFrame, Vec<Expr>)> {
    let mut lf = reader.scan(table)?;
    let mut labels: Vec<String> = Vec::new();
    let mut keys: Vec<Expr> = Vec::new();
    for (i, key) in by.iter().enumerate() {
        let (expr, label) = key_expr(table, key);
        labels.extend(label);
        keys.push(expr.alias(group_column(i).as_str()));
    }
    let mut conditions: Vec<Expr> = Vec::new();
    for (key, value) in filters {
        let (expr, label) = key_expr(table, key);
        labels.extend(label);
        conditions.push(expr.eq(lit(value.as_str())));
    }
    labels.sort();
    labels.dedup();
    lf = with_label_columns(lf, &labels);
    for c in conditions {
        lf = lf.filter(c);
    }
    Ok((lf, keys))
}

/// Scans `table` and returns the observations of `metrics` per group (and phase, with
/// `per_phase`).
fn gather(
    reader: &DatasetReader,
    source: Source,
    metrics: &[usize],
    per_phase: bool,
    options: &AnalyzeOptions,
) -> Result<Vec<Group>> {
    let table = source.table;
    let (mut lf, keys) = keyed_scan(reader, table, &options.by, &options.filters)?;
    if source.per_run {
        // Only the calls a recorded run made (captured by `record --capture`).
        lf = lf.filter(col("run_id").is_not_null());
    }
    if table == Table::LlmCalls {
        let bundled;
        let prices = match &options.prices {
            Some(p) => p,
            None => {
                bundled = PriceTable::bundled();
                &bundled
            }
        };
        lf = with_cost(reader, lf, prices)?;
    }
    let (failed, warmup) = match table {
        Table::Runs => (run_failed(), col("is_warmup")),
        _ if table == Table::Phases || table == Table::Artifacts || source.per_run => {
            // A phase (an output) shares its run's warm-up and failure flags.
            let runs = reader.scan(Table::Runs)?.select([
                col("run_id"),
                col("is_warmup").alias("__run_warmup"),
                run_failed().alias("__run_failed"),
            ]);
            lf = lf.left_join(runs, col("run_id"), col("run_id"));
            (
                col("__run_failed").fill_null(lit(false)),
                col("__run_warmup").fill_null(lit(false)),
            )
        }
        Table::LlmCalls => (col("error_kind").is_not_null(), lit(false)),
        _ => (lit(false), lit(false)),
    };
    let (phase, order) = match (per_phase, table) {
        (true, Table::Phases) => (col("phase"), col("phase_index").cast(DataType::Int64)),
        // Calls made outside any phase count in the totals only.
        (true, _) => (col("phase"), lit(i64::MAX)),
        (false, _) => (lit(TOTAL_PHASE), lit(-1i64)),
    };
    let mut select = keys.clone();
    select.extend([
        phase.alias(PHASE),
        order.cast(DataType::Int64).alias(ORDER),
        failed.alias(FAILED),
        warmup.alias(WARMUP),
    ]);
    for (n, &m) in metrics.iter().enumerate() {
        select.push(
            (METRICS[m].value)()
                .cast(DataType::Float64)
                .alias(value_column(n).as_str()),
        );
    }
    if matches!(table, Table::Phases | Table::Artifacts) || source.per_run {
        select.push(col("run_id"));
    }
    let mut group_by: Vec<Expr> = (0..options.by.len())
        .map(|i| col(group_column(i).as_str()))
        .collect();
    group_by.push(col(PHASE));
    let counted = col(FAILED).not().and(col(WARMUP).not());
    let mut aggregates: Vec<Expr> = (0..metrics.len())
        .map(|n| {
            let value = value_column(n);
            col(value.as_str())
                .filter(col(value.as_str()).is_not_null().and(counted.clone()))
                .alias(value.as_str())
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
    let mut observations = lf.select(select);
    if source.per_run {
        // A run's calls together (per phase with `--phase`); any unknown value (an unpriced
        // model) leaves the run's sum unknown.
        observations = per_run_sums(
            observations,
            options.by.len(),
            metrics.len(),
            RunSum::Strict,
        );
    } else if (table == Table::Phases && !per_phase) || table == Table::Artifacts {
        // A run's phases together: their durations and tokens summed per run, so the
        // `(total)` row describes runs, like the run metrics.
        observations = per_run_sums(observations, options.by.len(), metrics.len(), RunSum::Known);
    }
    let frame = observations
        .group_by(group_by)
        .agg(aggregates)
        .collect()
        .map_err(AnalysisError::polars(format!("gathering {}", table.name())))?;
    read_groups(&frame, options.by.len(), metrics.len(), table.name())
}

/// The keys a call is priced by: provider and model (the responding one, else the
/// requested), null as empty so that they join.
fn price_keys() -> [Expr; 2] {
    [
        col("provider").fill_null(lit("")).alias("__kp"),
        coalesce(&[col("response_model"), col("request_model")])
            .fill_null(lit(""))
            .alias("__km"),
    ]
}

/// Adds the cost of each call in USD ([`crate::prices`]): every distinct provider and model
/// is priced once, in Rust, and joined back as rates; the cost is then one polars
/// expression over the buckets. Null for a model without a price or a call without usage.
fn with_cost(reader: &DatasetReader, lf: LazyFrame, prices: &PriceTable) -> Result<LazyFrame> {
    let err = || AnalysisError::polars("pricing the calls");
    let distinct = reader
        .scan(Table::LlmCalls)?
        .select(price_keys())
        .unique(None, UniqueKeepStrategy::First)
        .collect()
        .map_err(err())?;
    let providers = distinct
        .column("__kp")
        .and_then(|c| c.str().cloned())
        .map_err(err())?;
    let models = distinct
        .column("__km")
        .and_then(|c| c.str().cloned())
        .map_err(err())?;
    let mut columns: Vec<(&str, Vec<Option<f64>>)> = [
        "__r_in",
        "__r_out",
        "__r_read",
        "__r_w5",
        "__r_w1",
        "__t_above",
        "__t_in",
        "__t_out",
        "__t_read",
        "__t_w5",
        "__t_w1",
    ]
    .iter()
    .map(|n| (*n, Vec::with_capacity(distinct.height())))
    .collect();
    for i in 0..distinct.height() {
        let provider = providers.get(i).filter(|p| !p.is_empty());
        let price = models
            .get(i)
            .filter(|m| !m.is_empty())
            .and_then(|m| prices.find(provider, m));
        let base = price.map(|p| p.rates);
        let tier = price.and_then(|p| p.tier);
        let write5 = |r: Option<crate::prices::Rates>| r.map(|r| r.cache_write_5m.unwrap_or(0.0));
        let values = [
            base.map(|r| r.input),
            base.map(|r| r.output),
            base.map(|r| r.cache_read.unwrap_or(r.input)),
            write5(base),
            base.map(|r| r.cache_write_1h.or(r.cache_write_5m).unwrap_or(0.0)),
            tier.map(|t| t.above as f64),
            tier.map(|t| t.rates.input),
            tier.map(|t| t.rates.output),
            tier.map(|t| t.rates.cache_read.unwrap_or(t.rates.input)),
            write5(tier.map(|t| t.rates)),
            tier.map(|t| {
                t.rates
                    .cache_write_1h
                    .or(t.rates.cache_write_5m)
                    .unwrap_or(0.0)
            }),
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.1.push(value);
        }
    }
    let mut frame_columns = vec![
        Column::new("__kp".into(), providers.into_series()),
        Column::new("__km".into(), models.into_series()),
    ];
    frame_columns.extend(columns.into_iter().map(|(n, v)| Column::new(n.into(), v)));
    let rates = DataFrame::new_infer_height(frame_columns).map_err(err())?;
    let tokens = |c: &str| col(c).cast(DataType::Float64).fill_null(lit(0.0));
    let prompt = tokens("input_tokens")
        + tokens("cache_read_input_tokens")
        + tokens("cache_creation_input_tokens");
    let tiered = col("__t_above")
        .is_not_null()
        .and(prompt.gt(col("__t_above")));
    let rate = |base: &str, tier: &str| when(tiered.clone()).then(col(tier)).otherwise(col(base));
    let write_1h = tokens("cache_creation_1h_input_tokens");
    let write_5m = tokens("cache_creation_input_tokens") - write_1h.clone();
    let cost = (tokens("input_tokens") * rate("__r_in", "__t_in")
        + tokens("output_tokens") * rate("__r_out", "__t_out")
        + tokens("cache_read_input_tokens") * rate("__r_read", "__t_read")
        + write_5m * rate("__r_w5", "__t_w5")
        + write_1h * rate("__r_w1", "__t_w1"))
        / lit(1_000_000.0);
    let no_usage = col("input_tokens")
        .is_null()
        .and(col("output_tokens").is_null())
        .and(col("cache_read_input_tokens").is_null())
        .and(col("cache_creation_input_tokens").is_null());
    let unpriced = no_usage.clone().not().and(col("__r_in").is_null());
    Ok(lf
        .with_columns(price_keys())
        .join(
            rates.lazy(),
            [col("__kp"), col("__km")],
            [col("__kp"), col("__km")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            when(no_usage.or(col("__r_in").is_null()))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(cost)
                .alias(COST),
        )
        .with_column(unpriced.alias(UNPRICED)))
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
fn per_run_sums(observations: LazyFrame, keys: usize, values: usize, rule: RunSum) -> LazyFrame {
    let mut by: Vec<Expr> = (0..keys).map(|i| col(group_column(i).as_str())).collect();
    by.push(col("run_id"));
    by.push(col(PHASE));
    let mut aggregates = vec![col(ORDER).min(), col(FAILED).first(), col(WARMUP).first()];
    for n in 0..values {
        let value = value_column(n);
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

/// A run failed: non-zero exit, killed by a signal, timed out or interrupted.
pub(crate) fn run_failed() -> Expr {
    col("exit_code")
        .neq(lit(0))
        .fill_null(lit(false))
        .or(col("signal").is_not_null())
        .or(col("timed_out"))
        .or(col("interrupted"))
}

fn read_groups(frame: &DataFrame, keys: usize, metrics: usize, metric: &str) -> Result<Vec<Group>> {
    let err = AnalysisError::polars(format!("reading the groups of {metric}"));
    let key_columns: Vec<StringChunked> = (0..keys)
        .map(|i| {
            frame
                .column(group_column(i).as_str())
                .and_then(|c| c.cast(&DataType::String))
                .and_then(|c| c.str().cloned())
        })
        .collect::<PolarsResult<_>>()
        .map_err(err)?;
    let err = || AnalysisError::polars(format!("reading the groups of {metric}"));
    let phases = frame
        .column(PHASE)
        .and_then(|c| c.str().cloned())
        .map_err(err())?;
    let values: Vec<ListChunked> = (0..metrics)
        .map(|n| {
            frame
                .column(value_column(n).as_str())
                .and_then(|c| c.list().cloned())
        })
        .collect::<PolarsResult<_>>()
        .map_err(err())?;
    let failed = frame
        .column(FAILED)
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
        .map_err(err())?;
    let warmups = frame
        .column(WARMUP)
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
        .map_err(err())?;
    let orders = frame
        .column(ORDER)
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
        .map_err(err())?;
    let mut groups = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let per_metric: Vec<Option<Series>> =
            values.iter().map(|list| list.get_as_series(i)).collect();
        let group = Group {
            keys: key_columns
                .iter()
                .map(|c| c.get(i).map(str::to_string))
                .collect(),
            phase: match phases.get(i) {
                Some(p) => p.to_string(),
                None => continue,
            },
            phase_order: orders.get(i).unwrap_or(i64::MAX),
            values: per_metric,
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

fn to_frame(rows: &[Row], by: &[String]) -> Result<DataFrame> {
    let mut columns: Vec<Column> = Vec::new();
    for (i, key) in by.iter().enumerate() {
        let values: Vec<Option<&str>> = rows.iter().map(|r| r.keys[i].as_deref()).collect();
        columns.push(Column::new(key.as_str().into(), values));
    }
    let text = |f: fn(&Row) -> &str| -> Vec<&str> { rows.iter().map(f).collect() };
    columns.push(Column::new("phase".into(), text(|r| r.phase.as_str())));
    columns.push(Column::new(
        "metric".into(),
        text(|r| METRICS[r.metric_index].name),
    ));
    columns.push(Column::new(
        "unit".into(),
        text(|r| METRICS[r.metric_index].unit),
    ));
    let count = |f: fn(&Row) -> usize| -> Vec<u64> { rows.iter().map(|r| f(r) as u64).collect() };
    columns.push(Column::new("n".into(), count(|r| r.n)));
    columns.push(Column::new("failed".into(), count(|r| r.failed)));
    let stat = |f: fn(&crate::stats::Summary) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter()
            .map(|r| r.summary.as_ref().and_then(f))
            .collect()
    };
    columns.push(Column::new("mean".into(), stat(|s| Some(s.describe.mean))));
    columns.push(Column::new("stddev".into(), stat(|s| s.describe.stddev)));
    columns.push(Column::new("min".into(), stat(|s| Some(s.describe.min))));
    columns.push(Column::new("max".into(), stat(|s| Some(s.describe.max))));
    columns.push(Column::new("p50".into(), stat(|s| Some(s.p50))));
    columns.push(Column::new("p95".into(), stat(|s| Some(s.p95))));
    columns.push(Column::new("p99".into(), stat(|s| Some(s.p99))));
    columns.push(Column::new(
        "ci95_low".into(),
        stat(|s| s.ci95.map(|c| c.0)),
    ));
    columns.push(Column::new(
        "ci95_high".into(),
        stat(|s| s.ci95.map(|c| c.1)),
    ));
    columns.push(Column::new("outliers".into(), count(|r| r.outliers)));
    columns.push(Column::new(
        "outliers_removed".into(),
        count(|r| r.outliers_removed),
    ));
    DataFrame::new_infer_height(columns)
        .map_err(AnalysisError::polars("building the analysis table"))
}
