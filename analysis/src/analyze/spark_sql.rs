//! `analyze` on Spark (`--engine spark`): the same observations as [`super::gather`], the
//! same statistics as [`crate::stats`], with the heavy part written as Spark SQL.
//!
//! Spark reads the committed files through the views `runlens sql --dialect spark` prints
//! ([`crate::views`]), makes every table's observations as `gather` makes them (the
//! `--by` keys and `--filter`s, the run's warm-up and failure flags joined from `runs`, the
//! cost at the rates of each distinct model, runs' rows summed per run), and per group,
//! phase and metric computes the outlier fences of the rule, the outliers, and over the
//! values kept: count, mean, sample standard deviation, minimum, maximum and the exact
//! p50/p95/p99 (`percentile`: linear interpolation between order statistics, as
//! [`crate::stats::quantile_sorted`]). Each metric's value comes from its catalogue
//! definition ([`crate::catalogue::Value::to_sql`]), the flags from
//! [`crate::catalogue::Condition::to_sql`], the cost from [`super::cost::cost_sql`]: the
//! definitions both engines are generated from.
//!
//! Only those per-group figures come back, and Rust finishes each row as the local engine
//! does ([`crate::stats::summary_from_parts`]: Student's t interval, or the bootstrap of a
//! non-negative metric's mean, for which a group's sorted values come back too when
//! [`crate::stats::may_bootstrap`] holds: at most 100,000 of them).
//!
//! Two scripts are run: the distinct models first (each is priced once, in Rust, from the
//! price table), then the analysis with their rates as an inline table.

use std::collections::HashMap;

use runlens_ingest::schema::Table;

use crate::catalogue::{self, Condition, Exclusion, Metric};
use crate::dialect::Dialect;
use crate::error::{AnalysisError, Result};
use crate::labels::label_column;
use crate::prices::PriceTable;
use crate::scan::DatasetReader;
use crate::spark::{APPROX_ACCURACY, Row, Spark, SparkDouble};
use crate::stats::{
    BOOTSTRAP_MEAN_MAX_N, Describe, OutlierRule, may_bootstrap, summary_from_parts,
};

use super::cost::{cost_sql, price_keys_sql, rates_relation_spark, unpriced_sql};
use super::gather::{RunSum, Source, own_conditions, value_column};
use super::{Analysis, AnalyzeOptions, Method, StatRow, TOTAL_PHASE, check_groupings};

const SPARK: Dialect = Dialect::Spark;

/// How percentiles are computed with `--approx`, as the output states it.
pub const APPROX_QUANTILES: &str = "Spark's percentile_approx with accuracy 10000: each \
    percentile is a value of the sample whose rank is within n/10000 of the exact one";

/// The most distinct values of one metric, in one compared group and phase, that Spark
/// sends back for `compare` (as value and count pairs). Beyond it the statement fails and
/// runlens exits 3: the bootstrap and the Mann–Whitney test then run on fewer values
/// (`--metric`, narrower groups). 20 M pairs are 320 MB in runlens's memory.
pub const SHIPPED_VALUES_MAX: usize = 20_000_000;

/// A compared group as Spark measured it: the counted values of every metric and phase
/// (the same as [`super::samples`] gives) and its sessions' findings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFigures {
    /// Every metric's (and phase's) counted values, sorted; in the order of `samples`.
    pub samples: Vec<super::Sample>,
    /// Sessions in the group.
    pub sessions: u64,
    /// Sessions per validation finding.
    pub findings: std::collections::BTreeMap<String, u64>,
}

/// `compare`'s groups (each the rows matching every one of its filters) measured by Spark
/// in one script: the observations made as for `analyze` (see the module doc), and per
/// group, phase and metric only its distinct counted values with their counts come back
/// (at most [`SHIPPED_VALUES_MAX`]); Rust expands and sorts them, so the medians, the
/// bootstrap interval and the Mann–Whitney test are the local engine's on the same values.
pub fn groups_on_spark(
    reader: &DatasetReader,
    groups: &[Vec<(String, String)>],
    per_phase: bool,
    prices: Option<&PriceTable>,
    spark: &Spark,
) -> Result<Vec<GroupFigures>> {
    check_groupings(reader, &[], &groups.concat())?;
    let views = spark.views(reader)?;
    let labels = TableLabels::read(reader)?;
    let distinct = distinct_models(spark, &views)?;
    let prices = PriceTable::or_bundled(prices);
    let prices = prices.as_ref();
    let options = AnalyzeOptions {
        per_phase,
        ..AnalyzeOptions::default()
    };
    let plan = Plan::for_groups(&options, groups, &labels);
    let script = format!("{views}\n{}", plan.groups_script(&distinct, prices, groups));
    let rows: Vec<GroupRow> = spark.run_as("measuring the compared groups", &script)?;
    plan.assemble_groups(rows, groups.len())
}

/// A row of `compare`'s script: a phase's order, a histogram, or a group's sessions or
/// one of their findings (the fields each has).
#[derive(serde::Deserialize)]
struct GroupRow {
    split: Option<usize>,
    keys: Option<Vec<Option<String>>>,
    phase: Option<String>,
    order: Option<i64>,
    m: Option<usize>,
    h: Option<Vec<[SparkDouble; 2]>>,
    group: Option<usize>,
    sessions: Option<u64>,
    finding: Option<String>,
    n: Option<u64>,
}

/// The analysis once per grouping, computed by Spark (see the module doc).
pub fn analyze_groupings_on_spark(
    reader: &DatasetReader,
    options: &AnalyzeOptions,
    groupings: &[Vec<String>],
    spark: &Spark,
) -> Result<Vec<Analysis>> {
    check_groupings(reader, groupings, &options.filters)?;
    let views = spark.views(reader)?;
    let labels = TableLabels::read(reader)?;
    let distinct = distinct_models(spark, &views)?;
    let prices = PriceTable::or_bundled(options.prices.as_ref());
    let prices = prices.as_ref();
    let plan = Plan::new(options, groupings, &labels, spark.options().approx);
    let script = format!("{views}\n{}", plan.script(&distinct, prices));
    let rows = spark.run("analyzing", &script)?;
    plan.assemble(&rows, options, groupings, spark.options().approx)
}

/// The distinct (provider, model) pairs of the LLM calls, each to be priced once in Rust
/// (Spark's first script).
fn distinct_models(spark: &Spark, views: &str) -> Result<Vec<(String, String)>> {
    let [provider, model] = price_keys_sql(SPARK);
    let script = format!(
        "{views}\nSELECT to_json(named_struct('p', p, 'm', m)) FROM \
         (SELECT DISTINCT {provider} AS p, {model} AS m FROM {calls});\n",
        calls = SPARK.ident(Table::LlmCalls.name())
    );
    Ok(spark
        .run("listing the models", &script)?
        .iter()
        .map(|row| {
            (
                text(row, "p").unwrap_or_default(),
                text(row, "m").unwrap_or_default(),
            )
        })
        .collect())
}

/// The `label_<key>` columns each table's view has (those of the keys its rows carry).
pub(crate) struct TableLabels(HashMap<Table, Vec<String>>);

impl TableLabels {
    /// The label keys of every table `analyze` reads, from the commit log.
    pub(crate) fn read(reader: &DatasetReader) -> Result<TableLabels> {
        let mut labels = HashMap::new();
        for table in super::TABLES {
            let keys = match reader.dataset().table_files(table)?.is_empty() {
                true => Vec::new(),
                false => reader.label_keys(table)?,
            };
            labels.insert(table, keys);
        }
        Ok(TableLabels(labels))
    }

    /// What a `--by` or `--filter` key stands for in `table`, as `analyze::key_expr` says: the
    /// responding else requested model, a column as text, or a label (null where the table
    /// has no such label).
    pub(crate) fn key_sql(&self, table: Table, key: &str) -> String {
        let has = |name: &str| table.schema().fields().iter().any(|f| f.name() == name);
        if key == "model" && table == Table::LlmCalls {
            return format!(
                "COALESCE({}, {})",
                SPARK.ident("response_model"),
                SPARK.ident("request_model")
            );
        }
        if has(key) && key != "labels" {
            return format!("CAST({} AS STRING)", SPARK.ident(key));
        }
        let column = label_column(key);
        let present = self
            .0
            .get(&table)
            .is_some_and(|keys| keys.iter().any(|k| label_column(k) == column));
        match present {
            true => SPARK.ident(&column),
            false => "CAST(NULL AS STRING)".to_string(),
        }
    }
}

/// One split of one source for one grouping: a query pair in the script.
struct Split {
    grouping: usize,
    source: Source,
    per_phase: bool,
}

/// What a key of the observation views stands for.
enum ObsKey {
    /// A `--by` key: its value in each table ([`TableLabels::key_sql`]).
    By(String),
    /// A compared group (`compare`'s baseline or candidate): `'true'` where the row matches
    /// every one of its filters, else null.
    Matches(Vec<(String, String)>),
}

/// The analysis as Spark SQL: every split of every source for every grouping.
struct Plan<'a> {
    splits: Vec<Split>,
    options: &'a AnalyzeOptions,
    labels: &'a TableLabels,
    /// Where grouping k's keys start among all the keys.
    offsets: Vec<usize>,
    all_keys: Vec<ObsKey>,
    /// The rows kept: those matching every filter of any of these sets.
    keep: Vec<Vec<(String, String)>>,
    approx: bool,
}

/// The name of key `i` of all the groupings' keys in the observation views.
fn key_name(i: usize) -> String {
    format!("__g{i}")
}

/// The name of a grouping's key `i` in a split's relations.
fn split_key(i: usize) -> String {
    format!("__k{i}")
}

fn obs_view(table: Table) -> String {
    format!("__runlens_obs_{}", table.name())
}

fn split_view(n: usize) -> String {
    format!("__runlens_split_{n}")
}

impl<'a> Plan<'a> {
    fn new(
        options: &'a AnalyzeOptions,
        groupings: &[Vec<String>],
        labels: &'a TableLabels,
        approx: bool,
    ) -> Plan<'a> {
        let mut offsets = Vec::new();
        let mut next = 0;
        for g in groupings {
            offsets.push(next);
            next += g.len();
        }
        let mut splits = Vec::new();
        for table in super::TABLES {
            for (source, per_phase) in Source::splits(table, options.per_phase) {
                for grouping in 0..groupings.len() {
                    splits.push(Split {
                        grouping,
                        source: source.clone(),
                        per_phase,
                    });
                }
            }
        }
        Plan {
            splits,
            options,
            labels,
            offsets,
            all_keys: groupings.concat().into_iter().map(ObsKey::By).collect(),
            keep: vec![options.filters.clone()],
            approx,
        }
    }

    /// The plan of `compare`'s groups: one grouping per group, whose one key says whether
    /// a row belongs to it; the rows of any group kept.
    fn for_groups(
        options: &'a AnalyzeOptions,
        groups: &[Vec<(String, String)>],
        labels: &'a TableLabels,
    ) -> Plan<'a> {
        let groupings = vec![vec![String::new()]; groups.len()];
        let mut plan = Plan::new(options, &groupings, labels, false);
        plan.all_keys = groups.iter().cloned().map(ObsKey::Matches).collect();
        plan.keep = groups.to_vec();
        plan
    }

    /// Whether a row of `table` matches every filter (`TRUE` for none).
    fn matches_sql(&self, table: Table, filters: &[(String, String)]) -> String {
        let all: Vec<String> = filters
            .iter()
            .map(|(key, value)| {
                format!(
                    "{} = {}",
                    self.labels.key_sql(table, key),
                    SPARK.string(value)
                )
            })
            .collect();
        match all.is_empty() {
            true => "TRUE".to_string(),
            false => format!("({})", all.join(" AND ")),
        }
    }

    /// The statements after the views: rates, the observation views, a view per split and
    /// its two queries (groups, statistics).
    fn script(&self, distinct: &[(String, String)], prices: &PriceTable) -> String {
        self.splits_script(distinct, prices, Plan::stats_query)
    }

    /// The rates and the observation views, then per split its view, its groups query and
    /// the query `per_split` writes (statistics for `analyze`, histograms for `compare`).
    fn splits_script(
        &self,
        distinct: &[(String, String)],
        prices: &PriceTable,
        per_split: fn(&Self, usize, &Split) -> String,
    ) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "CREATE OR REPLACE TEMPORARY VIEW __runlens_rates AS\n{};\n\n",
            rates_relation_spark(distinct, prices)
        ));
        for table in super::TABLES {
            out.push_str(&self.observation_view(table));
        }
        for (n, split) in self.splits.iter().enumerate() {
            out.push_str(&self.split_view(n, split));
            out.push_str(&self.groups_query(n, split));
            out.push_str(&per_split(self, n, split));
        }
        out
    }

    /// `table`'s rows as observations: every grouping's keys, raw phase and order, own
    /// flags, the run's flags (joined from `runs`), whether the filters keep the row, a value
    /// per metric.
    fn observation_view(&self, table: Table) -> String {
        let q = |c: &str| SPARK.ident(c);
        let mut select: Vec<String> = self
            .all_keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let value = match key {
                    ObsKey::By(key) => self.labels.key_sql(table, key),
                    ObsKey::Matches(filters) => format!(
                        "CASE WHEN {} THEN 'true' END",
                        self.matches_sql(table, filters)
                    ),
                };
                format!("{value} AS {}", key_name(i))
            })
            .collect();
        let (phase, order) = match table {
            Table::Phases => (q("phase"), format!("CAST({} AS BIGINT)", q("phase_index"))),
            Table::LlmCalls => (q("phase"), format!("{}L", i64::MAX)),
            _ => ("CAST(NULL AS STRING)".to_string(), format!("{}L", i64::MAX)),
        };
        let (failed, warmup) = own_conditions(table);
        select.extend([
            format!("{phase} AS __phase_raw"),
            format!("{order} AS __order_raw"),
            format!("{} AS __own_failed", failed.to_sql(SPARK)),
            format!("{} AS __own_warmup", warmup.to_sql(SPARK)),
        ]);
        let has_run = matches!(
            table,
            Table::Runs | Table::Phases | Table::Artifacts | Table::LlmCalls
        );
        if has_run {
            select.push(format!("t.{}", q("run_id")));
        }
        let keep = match self.keep.iter().any(Vec::is_empty) {
            true => "TRUE".to_string(),
            false => {
                let any: Vec<String> = self
                    .keep
                    .iter()
                    .map(|filters| self.matches_sql(table, filters))
                    .collect();
                format!("({})", any.join(" OR "))
            }
        };
        for m in catalogue::CATALOGUE.iter().filter(|m| m.table == table) {
            select.push(format!("{} AS {}", m.value.to_sql(SPARK), value_column(m)));
        }
        let rows = match table {
            Table::LlmCalls => {
                let [provider, model] = price_keys_sql(SPARK);
                format!(
                    "(SELECT *, {cost} AS {cost_name}, {unpriced} AS {unpriced_name} FROM {calls} \
                     LEFT JOIN __runlens_rates ON {provider} = __kp AND {model} = __km)",
                    cost = cost_sql(SPARK),
                    cost_name = q(catalogue::cost_columns::COST),
                    unpriced = unpriced_sql(SPARK),
                    unpriced_name = q(catalogue::cost_columns::UNPRICED),
                    calls = q(table.name()),
                )
            }
            _ => q(table.name()),
        };
        match table {
            // Every run: its flags serve the other tables; the filters keep the run metrics'.
            Table::Runs => {
                select.push(format!("{keep} AS __keep"));
                format!(
                    "CREATE OR REPLACE TEMPORARY VIEW {view} AS\nSELECT {select}\nFROM {rows} t;\n\n\
                     CREATE OR REPLACE TEMPORARY VIEW __runlens_flags AS\n\
                     SELECT {run_id} AS __flag_run, __own_failed AS __run_failed, \
                     __own_warmup AS __run_warmup FROM {view};\n\n",
                    view = obs_view(table),
                    select = select.join(",\n  "),
                    run_id = q("run_id"),
                )
            }
            _ => {
                let join = match has_run {
                    true => {
                        select.extend(["f.__run_failed".into(), "f.__run_warmup".into()]);
                        format!(
                            " LEFT JOIN __runlens_flags f ON t.{} = f.__flag_run",
                            q("run_id")
                        )
                    }
                    false => String::new(),
                };
                format!(
                    "CREATE OR REPLACE TEMPORARY VIEW {view} AS\nSELECT {select}\nFROM {rows} t{join}\nWHERE {keep};\n\n",
                    view = obs_view(table),
                    select = select.join(",\n  "),
                )
            }
        }
    }

    /// The split's observations: its grouping's keys, phase, order, flags by the source's
    /// exclusion, its metrics' values; summed per run when the source sums runs.
    fn split_view(&self, n: usize, split: &Split) -> String {
        let source = &split.source;
        let table = source.table;
        let offset = self.offsets[split.grouping];
        let keys = self.grouping_len(split.grouping);
        let mut select: Vec<String> = (0..keys)
            .map(|i| format!("{} AS {}", key_name(offset + i), split_key(i)))
            .collect();
        let (phase, order) = match split.per_phase {
            true => ("__phase_raw".to_string(), "__order_raw".to_string()),
            false => (SPARK.string(TOTAL_PHASE), "-1L".to_string()),
        };
        let (failed, warmup) = match source.exclusion() {
            Exclusion::OwnRun | Exclusion::CallError => {
                ("__own_failed".to_string(), "__own_warmup".to_string())
            }
            Exclusion::ItsRun => (
                "COALESCE(__run_failed, FALSE)".to_string(),
                "COALESCE(__run_warmup, FALSE)".to_string(),
            ),
            Exclusion::Nothing => (
                Condition::Never.to_sql(SPARK),
                Condition::Never.to_sql(SPARK),
            ),
        };
        select.extend([
            format!("{phase} AS __phase"),
            format!("CAST({order} AS BIGINT) AS __order"),
            format!("{failed} AS __failed"),
            format!("{warmup} AS __warmup"),
        ]);
        let values: Vec<String> = source.metrics.iter().map(|m| value_column(m)).collect();
        select.extend(values.iter().cloned());
        let rule = source.run_rule(split.per_phase);
        if rule.is_some() {
            select.push(SPARK.ident("run_id"));
        }
        let mut conditions = Vec::new();
        if table == Table::Runs {
            conditions.push("__keep".to_string());
        }
        if split.per_phase {
            // Calls made outside any phase count in the totals only.
            conditions.push("__phase_raw IS NOT NULL".to_string());
        }
        if rule == Some(RunSum::Strict) {
            // Only the calls a recorded run made.
            conditions.push(format!("{} IS NOT NULL", SPARK.ident("run_id")));
        }
        let filter = match conditions.is_empty() {
            true => String::new(),
            false => format!("\nWHERE {}", conditions.join(" AND ")),
        };
        let rows = format!(
            "SELECT {}\nFROM {}{filter}",
            select.join(", "),
            obs_view(table)
        );
        let body = match rule {
            None => rows,
            Some(rule) => {
                let mut group: Vec<String> = (0..keys).map(split_key).collect();
                group.push(SPARK.ident("run_id"));
                group.push("__phase".to_string());
                let mut sums: Vec<String> = (0..keys).map(split_key).collect();
                sums.extend([
                    "__phase".to_string(),
                    "min(__order) AS __order".to_string(),
                    "bool_or(__failed) AS __failed".to_string(),
                    "bool_or(__warmup) AS __warmup".to_string(),
                ]);
                for v in &values {
                    let unknown = match rule {
                        RunSum::Known => format!("count({v}) = 0"),
                        RunSum::Strict => format!("count(*) > count({v})"),
                    };
                    sums.push(format!(
                        "CASE WHEN {unknown} THEN CAST(NULL AS DOUBLE) ELSE sum({v}) END AS {v}"
                    ));
                }
                format!(
                    "SELECT {}\nFROM ({rows}) r\nGROUP BY {}",
                    sums.join(", "),
                    group.join(", ")
                )
            }
        };
        format!(
            "CREATE OR REPLACE TEMPORARY VIEW {} AS\n{body};\n\n",
            split_view(n)
        )
    }

    fn grouping_len(&self, grouping: usize) -> usize {
        let end = self
            .offsets
            .get(grouping + 1)
            .copied()
            .unwrap_or(self.all_keys.len());
        end - self.offsets[grouping]
    }

    /// The keys array of a split's relation `alias` (or unqualified).
    fn keys_array(&self, split: &Split, alias: &str) -> String {
        let keys: Vec<String> = (0..self.grouping_len(split.grouping))
            .map(|i| format!("{alias}{}", split_key(i)))
            .collect();
        format!("CAST(array({}) AS ARRAY<STRING>)", keys.join(", "))
    }

    /// Per group and phase: its place, failed and warm-up observations, and whether any
    /// metric has a counted value.
    fn groups_query(&self, n: usize, split: &Split) -> String {
        let values: Vec<String> = split
            .source
            .metrics
            .iter()
            .map(|m| format!("{} IS NOT NULL", value_column(m)))
            .collect();
        let mut group: Vec<String> = (0..self.grouping_len(split.grouping))
            .map(split_key)
            .collect();
        group.push("__phase".to_string());
        format!(
            "SELECT to_json(named_struct('split', {n}, 'keys', {keys}, 'phase', __phase, \
             'order', min(__order), \
             'failed', sum(CASE WHEN __failed AND NOT __warmup THEN 1 ELSE 0 END), \
             'warmups', sum(CASE WHEN __warmup THEN 1 ELSE 0 END), \
             'measured', count(CASE WHEN NOT __failed AND NOT __warmup AND ({values}) THEN 1 END)))\n\
             FROM {view}\nGROUP BY {group};\n\n",
            keys = self.keys_array(split, ""),
            values = values.join(" OR "),
            view = split_view(n),
            group = group.join(", "),
        )
    }

    /// The split's counted values, one row per value: its group's keys, phase, metric
    /// (`m`, its place in the catalogue), value `v` and whether it is finite (`fin`).
    fn long_relation(&self, n: usize, split: &Split) -> String {
        let mut columns: Vec<String> = (0..self.grouping_len(split.grouping))
            .map(split_key)
            .collect();
        columns.push("__phase".to_string());
        let stack: Vec<String> = split
            .source
            .metrics
            .iter()
            .map(|m| format!("{}, {}", catalogue::position(m), value_column(m)))
            .collect();
        format!(
            "SELECT {columns}, m, v, abs(v) < double('Infinity') AS fin\n  \
             FROM {view} LATERAL VIEW stack({count}, {stack}) s AS m, v\n  \
             WHERE NOT __failed AND NOT __warmup AND v IS NOT NULL",
            columns = columns.join(", "),
            view = split_view(n),
            count = stack.len(),
            stack = stack.join(", "),
        )
    }

    /// A split's key columns in the long relation, and what its statistics are grouped by:
    /// those keys, then the phase and the metric.
    fn split_columns(&self, split: &Split) -> (Vec<String>, Vec<String>) {
        let keys: Vec<String> = (0..self.grouping_len(split.grouping))
            .map(split_key)
            .collect();
        let mut group = keys.clone();
        group.extend(["__phase".to_string(), "m".to_string()]);
        (keys, group)
    }

    /// Per group (rows that belong to one), phase and metric: every distinct counted value
    /// with how often it occurs, as `[value, count]` pairs; Spark fails the statement
    /// (`USER_RAISED_EXCEPTION`) rather than send more than [`SHIPPED_VALUES_MAX`] of them.
    fn histogram_query(&self, n: usize, split: &Split) -> String {
        let (keys, group) = self.split_columns(split);
        let group_by = group.join(", ");
        let belongs = match keys.is_empty() {
            true => "TRUE".to_string(),
            false => keys
                .iter()
                .map(|k| format!("{k} IS NOT NULL"))
                .collect::<Vec<_>>()
                .join(" AND "),
        };
        format!(
            "WITH long AS ({long})\n\
             SELECT to_json(named_struct('split', {n}, 'keys', {keys}, 'phase', __phase, 'm', m, \
             'h', CASE WHEN count(*) > {max} THEN raise_error(concat('runlens: more than {max} \
             distinct values of one metric to send back (metric ', m, ', phase ', __phase, \
             '): narrow the groups or choose --metric')) \
             ELSE collect_list(array(v, CAST(c AS DOUBLE))) END))\n\
             FROM (SELECT {group_by}, v, count(*) AS c FROM long WHERE {belongs} GROUP BY {group_by}, v)\n\
             GROUP BY {group_by};\n\n",
            long = self.long_relation(n, split),
            keys = self.keys_array(split, ""),
            max = SHIPPED_VALUES_MAX,
        )
    }

    /// The statements of `compare`'s groups after the views: rates, observation views, per
    /// split its view, its groups (for the phases' order) and its histograms; per group the
    /// sessions and their findings.
    fn groups_script(
        &self,
        distinct: &[(String, String)],
        prices: &PriceTable,
        groups: &[Vec<(String, String)>],
    ) -> String {
        let mut out = self.splits_script(distinct, prices, Plan::histogram_query);
        let sessions = SPARK.ident(Table::Sessions.name());
        let findings = SPARK.ident("findings");
        for (side, filters) in groups.iter().enumerate() {
            let matches = self.matches_sql(Table::Sessions, filters);
            out.push_str(&format!(
                "SELECT to_json(named_struct('group', {side}, 'sessions', count(*))) \
                 FROM {sessions} WHERE {matches};\n\n\
                 SELECT to_json(named_struct('group', {side}, 'finding', f, 'n', count(*))) \
                 FROM (SELECT trim(f) AS f FROM {sessions} LATERAL VIEW explode(split({findings}, ',')) x AS f \
                 WHERE {matches}) WHERE f <> '' GROUP BY f;\n\n"
            ));
        }
        out
    }

    /// Per group, phase and metric: counted values, outliers by the rule, and the
    /// statistics of the values kept; the sorted values where the interval may need them.
    fn stats_query(&self, n: usize, split: &Split) -> String {
        let (_, group) = self.split_columns(split);
        let group_by = group.join(", ");
        let same_group = |a: &str, b: &str| -> String {
            group
                .iter()
                .map(|c| format!("{a}.{c} <=> {b}.{c}"))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let long = self.long_relation(n, split);
        let finite = "SELECT *, CASE WHEN fin THEN v END AS fv FROM long";
        let fences = match self.options.outlier_rule {
            OutlierRule::Sd => format!(
                "SELECT {group_by}, avg(fv) - 3D * stddev_samp(fv) AS lo, \
                 avg(fv) + 3D * stddev_samp(fv) AS hi FROM ({finite}) GROUP BY {group_by}"
            ),
            OutlierRule::Iqr => format!(
                "SELECT {group_by}, q[0] - 1.5D * (q[1] - q[0]) AS lo, q[1] + 1.5D * (q[1] - q[0]) AS hi \
                 FROM (SELECT {group_by}, percentile(fv, array(0.25D, 0.75D)) AS q FROM ({finite}) GROUP BY {group_by})"
            ),
            OutlierRule::Mad => format!(
                "SELECT {group_by}, CASE WHEN mad = 0 THEN NULL ELSE med - (3.5D * mad / 0.6745D) END AS lo, \
                 CASE WHEN mad = 0 THEN NULL ELSE med + (3.5D * mad / 0.6745D) END AS hi \
                 FROM (SELECT {qualified}, d.med, percentile(abs(l.fv - d.med), 0.5D) AS mad \
                 FROM ({finite}) l JOIN (SELECT {group_by}, percentile(fv, 0.5D) AS med FROM ({finite}) GROUP BY {group_by}) d \
                 ON {same} GROUP BY {qualified}, d.med)",
                qualified = group
                    .iter()
                    .map(|c| format!("l.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                same = same_group("l", "d"),
            ),
        };
        let drop = match self.options.drop_outliers {
            true => "AND NOT outlier",
            false => "",
        };
        let percentiles = match self.approx {
            true => format!("percentile_approx(kv, array(0.5D, 0.95D, 0.99D), {APPROX_ACCURACY})"),
            false => "percentile(kv, array(0.5D, 0.95D, 0.99D))".to_string(),
        };
        let non_negative: Vec<String> = split
            .source
            .metrics
            .iter()
            .filter(|m| m.non_negative)
            .map(|m| catalogue::position(m).to_string())
            .collect();
        // A superset of the groups whose interval is a bootstrap (stats::may_bootstrap).
        let values = match non_negative.is_empty() {
            true => "SELECT * FROM kept WHERE FALSE".to_string(),
            false => format!(
                "SELECT k.* FROM kept k JOIN stats s ON {same} \
                 WHERE s.m IN ({list}) AND s.n >= 2 AND s.n <= {max} \
                 AND s.mean - 12.71D * s.sd / sqrt(s.n) < 0",
                same = same_group("k", "s"),
                list = non_negative.join(", "),
                max = BOOTSTRAP_MEAN_MAX_N,
            ),
        };
        format!(
            "WITH long AS ({long}),\n\
             fences AS ({fences}),\n\
             flagged AS (SELECT l.*, COALESCE(l.fin AND (l.v < f.lo OR l.v > f.hi), FALSE) AS outlier \
             FROM long l LEFT JOIN fences f ON {same_lf}),\n\
             kept AS (SELECT *, CASE WHEN fin {drop} THEN v END AS kv FROM flagged),\n\
             stats AS (SELECT {group_by}, count(*) AS nonnull, count_if(outlier) AS outliers, \
             count(kv) AS n, avg(kv) AS mean, stddev_samp(kv) AS sd, min(kv) AS lo, max(kv) AS hi, \
             {percentiles} AS p FROM kept GROUP BY {group_by}),\n\
             sorted AS (SELECT {group_by}, sort_array(collect_list(kv)) AS vs FROM ({values}) GROUP BY {group_by})\n\
             SELECT to_json(named_struct('split', {n}, 'keys', {keys}, 'phase', s.__phase, 'm', s.m, \
             'nonnull', s.nonnull, 'outliers', s.outliers, 'n', s.n, 'mean', s.mean, 'sd', s.sd, \
             'min', s.lo, 'max', s.hi, 'p', s.p, 'values', v.vs))\n\
             FROM stats s LEFT JOIN sorted v ON {same_sv};\n\n",
            same_lf = same_group("l", "f"),
            same_sv = same_group("s", "v"),
            keys = self.keys_array(split, "s."),
        )
    }

    /// `compare`'s groups from the rows Spark printed: each histogram expanded into its
    /// sorted values.
    fn assemble_groups(&self, rows: Vec<GroupRow>, groups: usize) -> Result<Vec<GroupFigures>> {
        let mut out = vec![GroupFigures::default(); groups];
        let mut orders: HashMap<(usize, String), i64> = HashMap::new();
        let mut samples: Vec<Vec<(i64, super::Sample)>> = vec![Vec::new(); groups];
        let mut histograms = Vec::new();
        for row in rows {
            match (row.split, row.group) {
                (Some(split), None) => {
                    let phase = row
                        .phase
                        .ok_or_else(|| malformed("a row without its phase"))?;
                    match (row.m, row.h) {
                        (Some(m), Some(h)) => histograms.push((split, phase, m, h)),
                        // The order of a phase among the group's own rows.
                        _ if row.keys.iter().flatten().any(Option::is_none) => {}
                        _ => {
                            let order = row.order.unwrap_or(i64::MAX);
                            let slot = orders.entry((split, phase)).or_insert(order);
                            *slot = (*slot).min(order);
                        }
                    }
                }
                (None, Some(group)) => {
                    let figures = out
                        .get_mut(group)
                        .ok_or_else(|| malformed("a row of an unknown group"))?;
                    match (row.sessions, row.finding, row.n) {
                        (Some(sessions), _, _) => figures.sessions = sessions,
                        (None, Some(finding), Some(n)) => {
                            *figures.findings.entry(finding).or_default() += n
                        }
                        _ => return Err(malformed("a findings row without its counts")),
                    }
                }
                _ => return Err(malformed("a row of neither a split nor a group")),
            }
        }
        for (split_index, phase, m, histogram) in histograms {
            let split = self
                .splits
                .get(split_index)
                .ok_or_else(|| malformed("a row of an unknown split"))?;
            let metric = catalogue::CATALOGUE
                .get(m)
                .ok_or_else(|| malformed("a row of an unknown metric"))?;
            let mut values = Vec::new();
            for [SparkDouble(value), SparkDouble(count)] in histogram {
                values.extend(std::iter::repeat_n(value, count as usize));
            }
            values.sort_unstable_by(f64::total_cmp);
            if values.is_empty() {
                continue;
            }
            let order = orders
                .get(&(split_index, phase.clone()))
                .copied()
                .unwrap_or(i64::MAX);
            samples[split.grouping].push((
                order,
                super::Sample {
                    metric,
                    phase,
                    values,
                },
            ));
        }
        for (figures, samples) in out.iter_mut().zip(samples) {
            figures.samples = super::in_catalogue_order(samples);
        }
        Ok(out)
    }

    /// The analyses from the rows Spark printed.
    fn assemble(
        &self,
        rows: &[Row],
        options: &AnalyzeOptions,
        groupings: &[Vec<String>],
        approx: bool,
    ) -> Result<Vec<Analysis>> {
        type GroupKey = (usize, Vec<Option<String>>, String);
        struct GroupFacts {
            order: i64,
            failed: usize,
            warmups: usize,
            measured: bool,
        }
        let mut groups: Vec<(GroupKey, GroupFacts)> = Vec::new();
        let mut stats: HashMap<(GroupKey, usize), &Row> = HashMap::new();
        for row in rows {
            let split = count(row, "split").ok_or_else(|| malformed("a row without its split"))?;
            let keys = row
                .get("keys")
                .and_then(|k| k.as_array())
                .map(|k| k.iter().map(|v| v.as_str().map(str::to_string)).collect())
                .ok_or_else(|| malformed("a row without its keys"))?;
            let phase = text(row, "phase").ok_or_else(|| malformed("a row without its phase"))?;
            let key = (split, keys, phase);
            match row.get("m").and_then(|m| m.as_u64()) {
                Some(m) => {
                    stats.insert((key, m as usize), row);
                }
                None => groups.push((
                    key,
                    GroupFacts {
                        order: row
                            .get("order")
                            .and_then(|o| o.as_i64())
                            .unwrap_or(i64::MAX),
                        failed: count(row, "failed").unwrap_or(0),
                        warmups: count(row, "warmups").unwrap_or(0),
                        measured: count(row, "measured").unwrap_or(0) > 0,
                    },
                )),
            }
        }
        let mut methods =
            vec![Method::new(options.outlier_rule, options.drop_outliers); groupings.len()];
        if approx {
            for m in &mut methods {
                m.quantiles = APPROX_QUANTILES;
            }
        }
        let mut out: Vec<Vec<(i64, StatRow)>> = vec![Vec::new(); groupings.len()];
        for ((split_index, keys, phase), facts) in groups {
            let split = self
                .splits
                .get(split_index)
                .ok_or_else(|| malformed("a row of an unknown split"))?;
            // A group with nothing measured and nothing failed says nothing.
            if !facts.measured && facts.failed == 0 {
                continue;
            }
            let method = &mut methods[split.grouping];
            if !split.per_phase {
                method.warmups_excluded += facts.warmups;
                method.failed_excluded += facts.failed;
            }
            for &metric in &split.source.metrics {
                let key = (
                    (split_index, keys.clone(), phase.clone()),
                    catalogue::position(metric),
                );
                let found = stats.get(&key).copied();
                let nonnull = found.and_then(|r| count(r, "nonnull")).unwrap_or(0);
                if nonnull == 0 && facts.failed == 0 {
                    continue;
                }
                let row = stat_row(
                    metric,
                    keys.clone(),
                    phase.clone(),
                    facts.failed,
                    found,
                    options,
                )?;
                method.outliers_found += row.outliers;
                method.outliers_removed += row.outliers_removed;
                out[split.grouping].push((facts.order, row));
            }
        }
        Ok(super::analyses(groupings, out, methods))
    }
}

/// One row of the analysis from Spark's statistics of it (None: no counted value).
fn stat_row(
    metric: &'static Metric,
    keys: Vec<Option<String>>,
    phase: String,
    failed: usize,
    stats: Option<&Row>,
    options: &AnalyzeOptions,
) -> Result<StatRow> {
    let n = stats.and_then(|r| count(r, "n")).unwrap_or(0);
    let outliers = stats.and_then(|r| count(r, "outliers")).unwrap_or(0);
    let summary = match (stats, n) {
        (Some(r), 1..) => {
            let number = |name: &str| {
                number(r, name).ok_or_else(|| malformed(&format!("{} without {name}", metric.name)))
            };
            let describe = Describe {
                count: n,
                mean: number("mean")?,
                stddev: (n >= 2).then(|| number("sd")).transpose()?,
                min: number("min")?,
                max: number("max")?,
            };
            let p = r
                .get("p")
                .and_then(|p| p.as_array())
                .map(|p| p.iter().filter_map(json_number).collect::<Vec<f64>>())
                .unwrap_or_default();
            let [p50, p95, p99] = p[..] else {
                return Err(malformed(&format!("{}: percentiles {p:?}", metric.name)));
            };
            let mut values: Option<Vec<f64>> = r
                .get("values")
                .and_then(|v| v.as_array())
                .map(|v| v.iter().filter_map(json_number).collect());
            if values.is_none()
                && may_bootstrap(n, describe.mean, describe.stddev, metric.non_negative)
            {
                return Err(malformed(&format!(
                    "{}: the values did not come back",
                    metric.name
                )));
            }
            Some(summary_from_parts(
                describe,
                [p50, p95, p99],
                metric.non_negative,
                values.as_deref_mut(),
            ))
        }
        _ => None,
    };
    Ok(StatRow {
        keys,
        phase,
        metric,
        n,
        failed,
        summary,
        outliers,
        outliers_removed: if options.drop_outliers { outliers } else { 0 },
    })
}

fn malformed(what: &str) -> AnalysisError {
    AnalysisError::Spark {
        what: "reading the analysis".into(),
        detail: format!("unexpected result: {what}"),
    }
}

fn text(row: &Row, name: &str) -> Option<String> {
    row.get(name).and_then(|v| v.as_str()).map(str::to_string)
}

fn count(row: &Row, name: &str) -> Option<usize> {
    row.get(name)
        .and_then(|v| v.as_u64())
        .and_then(|v| usize::try_from(v).ok())
}

fn number(row: &Row, name: &str) -> Option<f64> {
    row.get(name).and_then(json_number)
}

/// A double as Spark's `to_json` writes it (a number; `NaN` and infinities as strings).
fn json_number(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}
