//! `runlens sessions --daily` and `--by` on Spark (`--engine spark`): the same totals as
//! [`super::totals_by`], the same statement with Spark's spelling, over the views of the
//! committed files ([`crate::views`]). Each call is priced at its model's rates (the
//! distinct models read first and priced once in Rust, as `analyze` on Spark does; the cost
//! from the same bucket list, [`crate::analyze::cost_sql`]); the unpriced calls per model
//! come back for the warning. The per-session listing likewise: the embedded engine's
//! statement (`listing_statement`) run by Spark.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::analyze::{cost_sql, price_keys_sql, rates_relation_spark, unpriced_sql};
use crate::dialect::Dialect;
use crate::error::{AnalysisError, Result};
use crate::prices::PriceTable;
use crate::scan::DatasetReader;
use crate::spark::{Row, Spark};
use runlens_ingest::schema::{TRANSCRIPT_SOURCE, Table};

use super::{Grouping, TotalsPlan, Window};

/// Token totals computed by Spark, with the unpriced calls per model.
pub fn totals_on_spark(
    reader: &DatasetReader,
    window: &Window,
    prices: &PriceTable,
    by: Option<&Grouping>,
    daily: bool,
    spark: &Spark,
) -> Result<(DataFrame, BTreeMap<String, usize>)> {
    let plan = TotalsPlan::new(reader, by, daily)?;
    let keep = window.condition_with("c.start_ts", "c.start_ts", |ts| {
        format!("unix_micros({ts})")
    });
    let script = format!(
        "{}SELECT to_json(struct(*)) FROM ({totals}) t ORDER BY {order};\n",
        priced_calls(reader, prices, spark)?,
        totals = plan.statement(&keep),
        order = plan.order,
    );
    let rows = spark.run("summing the tokens", &script)?;
    let (unpriced, totals) = unpriced_apart(&rows);
    Ok((frame(&plan, &totals)?, unpriced))
}

/// The per-session listing computed by Spark (the statement the embedded engine runs,
/// `listing_statement` in `sessions.rs`), with the unpriced calls per model.
pub fn listing_on_spark(
    reader: &DatasetReader,
    window: &Window,
    prices: &PriceTable,
    agents: bool,
    spark: &Spark,
) -> Result<(DataFrame, BTreeMap<String, usize>)> {
    let keep = window.condition_with("s.started_ts", "s.last_activity_ts", |ts| {
        format!("unix_micros({ts})")
    });
    let shown: Vec<&str> = super::LISTING_COLUMNS
        .into_iter()
        .filter(|c| !["session_start", "agent_order"].contains(c) && (agents || *c != "agent"))
        .collect();
    let fields: Vec<String> = shown
        .iter()
        .map(|c| match *c {
            // Microseconds: to_json would write a timestamp to the millisecond.
            "started_ts" => format!("'{c}', unix_micros({c})"),
            _ => format!("'{c}', {c}"),
        })
        .collect();
    let script = format!(
        "{}SELECT to_json(named_struct({})) FROM ({}) t ORDER BY {};\n",
        priced_calls(reader, prices, spark)?,
        fields.join(", "),
        super::listing_statement(&keep, agents),
        super::LISTING_ORDER,
    );
    let rows = spark.run("listing the sessions", &script)?;
    let (unpriced, listed) = unpriced_apart(&rows);
    let err = || AnalysisError::polars("building the listing from Spark's rows");
    let started_type = reader
        .scan(Table::Sessions)?
        .collect_schema()
        .map_err(err())?
        .get("started_ts")
        .cloned()
        .unwrap_or(DataType::Datetime(TimeUnit::Microseconds, None));
    let mut columns = Vec::new();
    for name in shown {
        let column = match name {
            "session_id" | "agent" | "format" | "model" | "status" => {
                let values: Vec<Option<&str>> = listed
                    .iter()
                    .map(|r| r.get(name).and_then(|v| v.as_str()))
                    .collect();
                Column::new(name.into(), values)
            }
            "cost_usd" => {
                let values: Vec<Option<f64>> = listed
                    .iter()
                    .map(|r| r.get(name).and_then(|v| v.as_f64()))
                    .collect();
                Column::new(name.into(), values)
            }
            _ => {
                let values: Vec<Option<i64>> = listed
                    .iter()
                    .map(|r| r.get(name).and_then(|v| v.as_i64()))
                    .collect();
                let column = Column::new(name.into(), values);
                match name {
                    "started_ts" => column.cast(&started_type).map_err(err())?,
                    _ => column,
                }
            }
        };
        columns.push(column);
    }
    Ok((
        DataFrame::new_infer_height(columns).map_err(err())?,
        unpriced,
    ))
}

/// The statements every sessions script starts with: the views of the committed files, the
/// rates of each distinct model (listed by a first script, priced in Rust), the
/// `priced_calls` view (the transcripts' calls, each with its cost and whether its model has
/// no price, as `CallCosts::priced_calls` makes them), and the query of the unpriced calls
/// per model.
fn priced_calls(reader: &DatasetReader, prices: &PriceTable, spark: &Spark) -> Result<String> {
    let views = spark.views(reader)?;
    let [provider, model] = price_keys_sql(Dialect::Spark);
    let distinct: Vec<(String, String)> = spark
        .run(
            "listing the models",
            &format!(
                "{views}\nSELECT to_json(named_struct('p', p, 'm', m)) FROM \
                 (SELECT DISTINCT {provider} AS p, {model} AS m FROM llm_calls \
                 WHERE source = '{TRANSCRIPT_SOURCE}');\n"
            ),
        )?
        .iter()
        .map(|row| (text(row, "p"), text(row, "m")))
        .collect();
    Ok(format!(
        "{views}\n\
         CREATE OR REPLACE TEMPORARY VIEW __runlens_rates AS\n{rates};\n\n\
         CREATE OR REPLACE TEMPORARY VIEW priced_calls AS\n\
         SELECT llm_calls.*, {cost} AS cost_usd, CASE WHEN {unpriced} THEN 1 ELSE 0 END AS missing_price, \
         COALESCE({model_name}, '(no model)') AS __model\n\
         FROM llm_calls LEFT JOIN __runlens_rates ON {provider} = __kp AND {model} = __km\n\
         WHERE source = '{TRANSCRIPT_SOURCE}';\n\n\
         SELECT to_json(named_struct('unpriced', __model, 'calls', count(*))) FROM priced_calls \
         WHERE missing_price = 1 GROUP BY __model;\n\n",
        rates = rates_relation_spark(&distinct, prices),
        cost = cost_sql(Dialect::Spark),
        unpriced = unpriced_sql(Dialect::Spark),
        model_name = "COALESCE(response_model, request_model)",
    ))
}

/// The unpriced calls per model, and the other rows.
fn unpriced_apart(rows: &[Row]) -> (BTreeMap<String, usize>, Vec<&Row>) {
    let mut unpriced = BTreeMap::new();
    let mut others = Vec::new();
    for row in rows {
        match row.get("unpriced").and_then(|m| m.as_str()) {
            Some(model) => {
                let calls = row.get("calls").and_then(|c| c.as_u64()).unwrap_or(0);
                unpriced.insert(model.to_string(), calls as usize);
            }
            None => others.push(row),
        }
    }
    (unpriced, others)
}

/// The rows as the embedded engine's frame: the grouping columns (`day` a date), counts,
/// token sums and the cost.
fn frame(plan: &TotalsPlan, rows: &[&Row]) -> Result<DataFrame> {
    let err = || AnalysisError::polars("building the totals from Spark's rows");
    let mut columns: Vec<Column> = Vec::new();
    for name in &plan.group {
        let values: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.get(name).and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        let column = match name.as_str() {
            // Days since the epoch: polars' cast of text to a date is deprecated.
            "day" => Column::new(
                name.as_str().into(),
                values
                    .iter()
                    .map(|v| v.as_deref().and_then(days_since_epoch))
                    .collect::<Vec<Option<i32>>>(),
            )
            .cast(&DataType::Date)
            .map_err(err())?,
            _ => Column::new(name.as_str().into(), values),
        };
        columns.push(column);
    }
    for name in ["sessions", "calls"] {
        let values: Vec<Option<u32>> = rows
            .iter()
            .map(|r| {
                r.get(name)
                    .and_then(|v| v.as_u64())
                    .and_then(|v| u32::try_from(v).ok())
            })
            .collect();
        columns.push(
            Column::new(name.into(), values)
                .cast(&IDX_DTYPE)
                .map_err(err())?,
        );
    }
    for name in [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "total_tokens",
    ] {
        let values: Vec<Option<i64>> = rows
            .iter()
            .map(|r| r.get(name).and_then(|v| v.as_i64()))
            .collect();
        columns.push(Column::new(name.into(), values));
    }
    let costs: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.get("cost_usd").and_then(|v| v.as_f64()))
        .collect();
    columns.push(Column::new("cost_usd".into(), costs));
    DataFrame::new_infer_height(columns).map_err(err())
}

/// A `YYYY-MM-DD` day (as Spark writes a date) in days since 1970-01-01.
fn days_since_epoch(day: &str) -> Option<i32> {
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from(date.signed_duration_since(epoch).num_days()).ok()
}

fn text(row: &Row, name: &str) -> String {
    row.get(name)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}
