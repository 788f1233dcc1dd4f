//! `runlens analyze`: per-group (and per-phase) statistics of every metric of the
//! [`crate::catalogue`], with the method stated.
//!
//! Each metric comes from the table that observes it, one observation per row or per run as
//! its catalogue entry says; warm-up runs (and their phases) are excluded; failed
//! observations are counted in `failed` and excluded from the statistics. Rows with no value
//! for a metric (a run without a memory figure) do not count for it. Every metric has a
//! `(total)` row: run metrics per run, phase metrics summed over each run's phases (one value
//! per run), call metrics per call, `tool_calls` per session. With `--phase`, phase metrics
//! and LLM-call metrics also get one row per phase (calls made outside any phase count in
//! the totals only).
//!
//! Grouping (`--by`) and filters (`--filter key=value`) name a column of the table
//! (`provider`, `source`, ...), `model` (an LLM call's responding model, else the requested
//! one), or else a label (`--label key=value` at ingest). Polars scans the tables lazily
//! (`gather`) and groups the observations; [`crate::stats`] then summarises each group, in
//! parallel, so every number comes from the one tested implementation. The result is typed
//! ([`result`]).

mod cost;
mod gather;
pub mod result;
mod spark_sql;

use polars::prelude::*;
use rayon::prelude::*;
use runlens_ingest::schema::Table;

use crate::catalogue::{self, Metric};
use crate::error::{AnalysisError, Result};
use crate::labels::label_column;
use crate::prices::PriceTable;
use crate::scan::DatasetReader;
use crate::stats::{OutlierRule, analyze_sample};

pub(crate) use cost::{
    MODEL_KEY, PROVIDER_KEY, cost_sql, no_usage, price_keys, price_keys_sql, price_of, rates_frame,
    rates_relation_spark, unpriced_sql, with_cost_in_memory, with_rates,
};
pub use result::{Analysis, Method, Record, StatRow, Statistic};
pub(crate) use spark_sql::TableLabels;
pub use spark_sql::{
    APPROX_QUANTILES, GroupFigures, SHIPPED_VALUES_MAX, analyze_groupings_on_spark, groups_on_spark,
};

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

/// The phase value of run-level rows.
pub const TOTAL_PHASE: &str = "(total)";

pub(crate) fn group_column(i: usize) -> String {
    format!("__g{i}")
}

/// Runs the analysis over the dataset.
pub fn analyze(reader: &DatasetReader, options: &AnalyzeOptions) -> Result<Analysis> {
    let mut analyses = analyze_groupings(reader, options, std::slice::from_ref(&options.by))?;
    Ok(analyses.pop().unwrap_or_else(|| Analysis {
        by: options.by.clone(),
        rows: Vec::new(),
        method: Method::new(options.outlier_rule, options.drop_outliers),
    }))
}

/// [`analyze`] on the engine given: the embedded one (None) or Spark.
pub fn analyze_on(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    spark: Option<&crate::spark::Spark>,
) -> Result<Analysis> {
    let Some(spark) = spark else {
        return analyze(reader, options);
    };
    let mut analyses =
        analyze_groupings_on_spark(reader, options, std::slice::from_ref(&options.by), spark)?;
    Ok(analyses.pop().unwrap_or_else(|| Analysis {
        by: options.by.clone(),
        rows: Vec::new(),
        method: Method::new(options.outlier_rule, options.drop_outliers),
    }))
}

/// The analysis once per grouping (`options.by` is ignored) on the embedded engine, or on
/// Spark when `spark` is given.
pub fn analyze_groupings_on(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    groupings: &[Vec<String>],
    spark: Option<&crate::spark::Spark>,
) -> Result<Vec<Analysis>> {
    match spark {
        Some(spark) => analyze_groupings_on_spark(reader, options, groupings, spark),
        None => analyze_groupings(reader, options, groupings),
    }
}

/// The analysis once per grouping (`options.by` is ignored), sharing the file listing, the
/// runs' flags and the pricing: a report that shows the same data grouped several ways asks
/// once.
pub fn analyze_groupings(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    groupings: &[Vec<String>],
) -> Result<Vec<Analysis>> {
    analyze_reading(reader, options, groupings, gather::Reading::DEFAULT)
}

/// [`analyze_groupings`], reading large tables as `reading` says.
fn analyze_reading(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    groupings: &[Vec<String>],
    reading: gather::Reading,
) -> Result<Vec<Analysis>> {
    check_groupings(reader, groupings, &options.filters)?;
    let mut methods =
        vec![Method::new(options.outlier_rule, options.drop_outliers); groupings.len()];
    let mut rows: Vec<Vec<(i64, StatRow)>> = vec![Vec::new(); groupings.len()];
    // Each source's groups are summarised (and their values dropped) as soon as they are
    // gathered.
    gather::gather_all(reader, options, groupings, reading, &mut |gathered| {
        let method = &mut methods[gathered.grouping];
        if !gathered.per_phase && gathered.first_pass {
            for g in &gathered.groups {
                method.warmups_excluded += g.warmups;
                method.failed_excluded += g.failed;
            }
        }
        let metrics = &gathered.source.metrics;
        let mut summarised: Vec<(i64, StatRow)> = gathered
            .groups
            .into_par_iter()
            .flat_map_iter(|g| summarise(g, metrics, options))
            .collect();
        for (_, row) in &summarised {
            method.outliers_found += row.outliers;
            method.outliers_removed += row.outliers_removed;
        }
        rows[gathered.grouping].append(&mut summarised);
        Ok(())
    })?;
    Ok(analyses(groupings, rows, methods))
}

/// Each grouping's analysis from its rows (each with its phase's place in the run) and
/// method, the rows in output order: by group, then phase (its place in the run, then name),
/// then catalogue order. Both engines finish here.
fn analyses(
    groupings: &[Vec<String>],
    rows: Vec<Vec<(i64, StatRow)>>,
    methods: Vec<Method>,
) -> Vec<Analysis> {
    groupings
        .iter()
        .zip(rows)
        .zip(methods)
        .map(|((by, mut rows), method)| {
            rows.sort_by(|(ao, a), (bo, b)| {
                (&a.keys, ao, &a.phase, catalogue::position(a.metric)).cmp(&(
                    &b.keys,
                    bo,
                    &b.phase,
                    catalogue::position(b.metric),
                ))
            });
            Analysis {
                by: by.clone(),
                rows: rows.into_iter().map(|(_, r)| r).collect(),
                method,
            }
        })
        .collect()
}

/// One row per metric of a group that has observations (or failures), with the group's
/// phase order for sorting.
fn summarise(
    mut group: gather::Group,
    metrics: &[&'static Metric],
    options: &AnalyzeOptions,
) -> Vec<(i64, StatRow)> {
    let mut rows = Vec::new();
    for (&metric, series) in metrics.iter().zip(std::mem::take(&mut group.values)) {
        // One copy of the values, sorted in place (a group merged from several parts has
        // several chunks).
        let values: Vec<f64> = match series.as_ref().and_then(|s| s.f64().ok()) {
            Some(ca) if ca.null_count() == 0 => ca
                .downcast_iter()
                .flat_map(|chunk| chunk.values().iter().copied())
                .collect(),
            Some(ca) => ca.iter().flatten().collect(),
            None => Vec::new(),
        };
        if values.is_empty() && group.failed == 0 {
            continue;
        }
        let sample = analyze_sample(
            values,
            options.outlier_rule,
            options.drop_outliers,
            metric.non_negative,
        );
        rows.push((
            group.phase_order,
            StatRow {
                keys: group.keys.clone(),
                phase: group.phase.clone(),
                metric,
                n: sample.kept,
                failed: group.failed,
                summary: sample.summary,
                outliers: sample.outliers,
                outliers_removed: sample.removed,
            },
        ));
    }
    rows
}

/// The observations of one metric (and phase) that count, for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric.
    pub metric: &'static Metric,
    /// Phase, or [`TOTAL_PHASE`].
    pub phase: String,
    /// The counted values (warm-ups and failures excluded).
    pub values: Vec<f64>,
}

/// The counted observations of every metric among the rows matching `filters` (and per
/// phase with `per_phase`), the same ones `analyze` summarises; costs priced with `prices`
/// (None: the bundled snapshot).
pub fn samples(
    reader: &DatasetReader,
    filters: &[(String, String)],
    per_phase: bool,
    prices: Option<&PriceTable>,
) -> Result<Vec<Sample>> {
    let options = AnalyzeOptions {
        filters: filters.to_vec(),
        per_phase,
        prices: prices.cloned(),
        ..AnalyzeOptions::default()
    };
    check_keys(reader, &options)?;
    let mut out = Vec::new();
    let reading = gather::Reading::DEFAULT;
    gather::gather_all(reader, &options, &[Vec::new()], reading, &mut |gathered| {
        for group in gathered.groups {
            for (&metric, series) in gathered.source.metrics.iter().zip(&group.values) {
                let mut values: Vec<f64> = series
                    .as_ref()
                    .and_then(|s| s.f64().ok())
                    .map(|ca| ca.iter().flatten().collect())
                    .unwrap_or_default();
                // Sorted: the files are read in parallel, and a seeded bootstrap gives the
                // same interval only for the values in the same order.
                values.sort_unstable_by(f64::total_cmp);
                if !values.is_empty() {
                    out.push((
                        group.phase_order,
                        Sample {
                            metric,
                            phase: group.phase.clone(),
                            values,
                        },
                    ));
                }
            }
        }
        Ok(())
    })?;
    Ok(in_catalogue_order(out))
}

/// Samples (each with its phase's order) in one order whatever order the groups came in: the
/// catalogue's metrics, each with its total first and then its phases in the order they ran.
fn in_catalogue_order(mut samples: Vec<(i64, Sample)>) -> Vec<Sample> {
    samples.sort_by(|(order_a, a), (order_b, b)| {
        let key =
            |s: &Sample, order: i64| (catalogue::position(s.metric), s.phase != TOTAL_PHASE, order);
        key(a, *order_a)
            .cmp(&key(b, *order_b))
            .then_with(|| a.phase.cmp(&b.phase))
    });
    samples.into_iter().map(|(_, sample)| sample).collect()
}

/// The tables `analyze` reads.
const TABLES: [Table; 5] = [
    Table::Runs,
    Table::Phases,
    Table::Artifacts,
    Table::LlmCalls,
    Table::Sessions,
];

/// [`check_keys`] for every key of every grouping and the filters.
pub(crate) fn check_groupings(
    reader: &DatasetReader,
    groupings: &[Vec<String>],
    filters: &[(String, String)],
) -> Result<()> {
    check_keys(
        reader,
        &AnalyzeOptions {
            by: groupings.concat(),
            filters: filters.to_vec(),
            ..AnalyzeOptions::default()
        },
    )
}

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
        present.extend(reader.label_keys(table)?);
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

/// A scan of `table`, the `--by` keys as expressions aliased `__g0`, `__g1`, ... (for a
/// select), and the `--filter`s as one condition (true when there are none).
pub(crate) fn keyed_parts(
    reader: &DatasetReader,
    table: Table,
    by: &[String],
    filters: &[(String, String)],
) -> Result<(LazyFrame, Vec<Expr>, Expr)> {
    keyed_parts_of(reader, table, by, filters, true)
}

/// [`keyed_parts`] over every file of `table`, also those whose recorded labels rule the
/// filters out: for the runs, whose failure and warm-up flags serve the rows of every table
/// (calls filtered by a key the runs do not carry still belong to failed or warm-up runs).
pub(crate) fn keyed_parts_every_file(
    reader: &DatasetReader,
    table: Table,
    by: &[String],
    filters: &[(String, String)],
) -> Result<(LazyFrame, Vec<Expr>, Expr)> {
    keyed_parts_of(reader, table, by, filters, false)
}

fn keyed_parts_of(
    reader: &DatasetReader,
    table: Table,
    by: &[String],
    filters: &[(String, String)],
    prune: bool,
) -> Result<(LazyFrame, Vec<Expr>, Expr)> {
    let mut labels: Vec<String> = Vec::new();
    let mut keys: Vec<Expr> = Vec::new();
    for (i, key) in by.iter().enumerate() {
        let (expr, label) = key_expr(table, key);
        labels.extend(label);
        keys.push(expr.alias(group_column(i).as_str()));
    }
    let mut condition = lit(true);
    let mut label_filters = Vec::new();
    for (key, value) in filters {
        let (expr, label) = key_expr(table, key);
        if let Some(label) = label {
            label_filters.push((label.clone(), value.clone()));
            labels.push(label);
        }
        condition = condition.and(expr.eq(lit(value.as_str())));
    }
    labels.sort();
    labels.dedup();
    // Files whose recorded labels rule a filter out are not read at all.
    if !prune {
        label_filters.clear();
    }
    let scan = reader.scan_labelled_where(table, &labels, &label_filters)?;
    Ok((scan, keys, condition))
}

/// [`keyed_parts`] with the filters applied: shared by every analysis that groups.
pub(crate) fn keyed_scan(
    reader: &DatasetReader,
    table: Table,
    by: &[String],
    filters: &[(String, String)],
) -> Result<(LazyFrame, Vec<Expr>)> {
    let (lf, keys, condition) = keyed_parts(reader, table, by, filters)?;
    Ok((lf.filter(condition), keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    /// Several groupings in one analysis give exactly what one analysis per grouping gives.
    #[test]
    fn groupings_from_one_scan_equal_separate_analyses() {
        let dir = crate::test_support::sample_dataset();
        let reader = DatasetReader::new(dir.path());
        let groupings = vec![
            vec!["source".to_string()],
            vec!["provider".to_string(), "model".to_string()],
            vec![],
        ];
        let base = AnalyzeOptions {
            per_phase: true,
            ..AnalyzeOptions::default()
        };
        let together = analyze_groupings(&reader, &base, &groupings).expect("together");
        assert_eq!(together.len(), 3);
        for (by, joint) in groupings.iter().zip(&together) {
            let alone = analyze(
                &DatasetReader::new(dir.path()),
                &AnalyzeOptions {
                    by: by.clone(),
                    ..base.clone()
                },
            )
            .expect("alone");
            assert!(!alone.rows.is_empty());
            assert_eq!(&alone, joint, "grouped by {by:?}");
        }
    }

    /// Reading every file as its own part and merging, and reading one metric per pass,
    /// give exactly what one read gives, with every outlier rule and per phase.
    #[test]
    fn an_analysis_in_parts_equals_one_in_one_read() {
        let dir = crate::test_support::sample_dataset();
        let reader = DatasetReader::new(dir.path());
        let files = reader.parts(Table::LlmCalls, 1).expect("parts").len();
        assert!(files > 1, "the samples' calls lie in {files} file(s)");
        let groupings = vec![
            vec!["source".to_string()],
            vec!["model".to_string()],
            vec![],
        ];
        for rule in [OutlierRule::Sd, OutlierRule::Iqr, OutlierRule::Mad] {
            let options = AnalyzeOptions {
                per_phase: true,
                outlier_rule: rule,
                drop_outliers: true,
                ..AnalyzeOptions::default()
            };
            let one_read = gather::Reading {
                part_rows: u64::MAX,
                values_budget: u64::MAX,
            };
            let whole = analyze_reading(&reader, &options, &groupings, one_read).expect("whole");
            assert!(whole.iter().all(|a| !a.rows.is_empty()));
            // Every file a part; then also one metric per pass.
            for values_budget in [u64::MAX, 1] {
                let reading = gather::Reading {
                    part_rows: 1,
                    values_budget,
                };
                let parts = analyze_reading(&reader, &options, &groupings, reading).expect("parts");
                assert_eq!(whole, parts, "outliers by {rule:?}, budget {values_budget}");
            }
        }
    }
}
