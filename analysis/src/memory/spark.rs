//! `runlens memory --engine spark`: Spark reads the counted runs and reduces the resource
//! samples (the largest table a recorder writes: one row per run per sampling interval) to
//! each run's least-squares slope; one row per counted run comes back, and runlens orders
//! and finishes the groups as it does for the embedded engine ([`super::growth`]).

use runlens_ingest::schema::Table;

use crate::analyze::TableLabels;
use crate::catalogue::Condition;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::scan::DatasetReader;
use crate::spark::{Spark, SparkDouble};

use super::{MIN_SAMPLES, RunMemory};

const SPARK: Dialect = Dialect::Spark;

/// One counted run as Spark prints it.
#[derive(serde::Deserialize)]
struct RunLine {
    keys: Vec<Option<String>>,
    start: Option<i64>,
    index: Option<i64>,
    path: String,
    peak: SparkDouble,
    within: Option<SparkDouble>,
}

/// The counted runs (no warm-up, not failed, with a peak) matching `filters`, keyed by `by`,
/// each with the slope of its sampled memory: the same as the embedded engine reads.
pub(super) fn runs_on_spark(
    reader: &DatasetReader,
    by: &[String],
    filters: &[(String, String)],
    spark: &Spark,
) -> Result<Vec<RunMemory>> {
    let views = spark.views(reader)?;
    let labels = TableLabels::read(reader)?;
    let q = |c: &str| SPARK.ident(c);
    let keys: Vec<String> = by
        .iter()
        .map(|key| labels.key_sql(Table::Runs, key))
        .collect();
    let mut keep: Vec<String> = filters
        .iter()
        .map(|(key, value)| {
            format!(
                "{} = {}",
                labels.key_sql(Table::Runs, key),
                SPARK.string(value)
            )
        })
        .collect();
    keep.push(format!("NOT {}", q("is_warmup")));
    keep.push(format!("NOT ({})", Condition::RunFailed.to_sql(SPARK)));
    let peak = format!(
        "CAST(COALESCE({}, {}) AS DOUBLE)",
        q("tree_peak_rss_bytes"),
        q("max_rss_bytes")
    );
    // Each run's slope of RSS (bytes) over elapsed seconds, in two passes (means, then the
    // centred sums) as `super::slope` computes it.
    let script = format!(
        "{views}\n\
         WITH s AS (SELECT {run_id} AS run_id, CAST({elapsed} AS DOUBLE) / CAST(1000 AS DOUBLE) AS x, \
         CAST({rss} AS DOUBLE) AS y FROM {samples} \
         WHERE {run_id} IS NOT NULL AND {elapsed} IS NOT NULL AND {rss} IS NOT NULL),\n\
         m AS (SELECT run_id, count(*) AS n, avg(x) AS mx, avg(y) AS my FROM s GROUP BY run_id),\n\
         w AS (SELECT s.run_id, first(m.n) AS n, sum((s.x - m.mx) * (s.x - m.mx)) AS sxx, \
         sum((s.x - m.mx) * (s.y - m.my)) AS sxy FROM s JOIN m ON s.run_id = m.run_id GROUP BY s.run_id),\n\
         slopes AS (SELECT run_id, CASE WHEN n >= {min} AND sxx <> 0 THEN sxy / sxx END AS within FROM w)\n\
         SELECT to_json(named_struct('keys', CAST(array({keys}) AS ARRAY<STRING>), \
         'start', unix_micros({start}), 'index', CAST({index} AS BIGINT), \
         'path', COALESCE({path}, ''), 'peak', {peak}, 'within', slopes.within))\n\
         FROM {runs} r LEFT JOIN slopes ON r.{run_id} = slopes.run_id\n\
         WHERE {keep} AND {peak} IS NOT NULL;\n",
        run_id = q("run_id"),
        elapsed = q("elapsed_ms"),
        rss = q("rss_bytes"),
        samples = q(Table::Samples.name()),
        runs = q(Table::Runs.name()),
        min = MIN_SAMPLES,
        keys = keys.join(", "),
        start = q("start_ts"),
        index = q("run_index"),
        path = q("source_path"),
        keep = keep.join(" AND "),
    );
    let lines: Vec<RunLine> = spark.run_as("measuring memory", &script)?;
    Ok(lines
        .into_iter()
        .map(|line| RunMemory {
            group: line.keys,
            start: line.start,
            index: line.index,
            path: line.path,
            peak: line.peak.0,
            within: line.within.map(|w| w.0),
        })
        .collect())
}
