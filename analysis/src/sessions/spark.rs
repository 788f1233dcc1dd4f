//! `runlens sessions --daily` and `--by` on Spark (`--engine spark`): the same totals as
//! [`super::totals_by`], the same statement with Spark's spelling, over the views of the
//! committed files ([`crate::views`]). Each call is priced at its model's rates (the
//! distinct models read first and priced once in Rust, as `analyze` on Spark does; the cost
//! from the same bucket list, [`crate::analyze::cost_sql`]); the unpriced calls per model
//! come back for the warning.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::analyze::{cost_sql, price_keys_sql, rates_relation_spark, unpriced_sql};
use crate::dialect::Dialect;
use crate::error::{AnalysisError, Result};
use crate::prices::PriceTable;
use crate::scan::DatasetReader;
use crate::spark::{Row, Spark};
use crate::views::{ViewOptions, view_statements};

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
    let views = view_statements(
        reader,
        &ViewOptions {
            dialect: Dialect::Spark,
            root: spark.options().root.clone(),
            trino_schema: String::new(),
        },
    )?;
    let [provider, model] = price_keys_sql(Dialect::Spark);
    let distinct: Vec<(String, String)> = spark
        .run(
            "listing the models",
            &format!(
                "{views}\nSELECT to_json(named_struct('p', p, 'm', m)) FROM \
                 (SELECT DISTINCT {provider} AS p, {model} AS m FROM llm_calls \
                 WHERE source = 'transcript');\n"
            ),
        )?
        .iter()
        .map(|row| (text(row, "p"), text(row, "m")))
        .collect();
    let keep = window.condition_with("c.start_ts", "c.start_ts", |ts| {
        format!("unix_micros({ts})")
    });
    let script = format!(
        "{views}\n\
         CREATE OR REPLACE TEMPORARY VIEW __runlens_rates AS\n{rates};\n\n\
         CREATE OR REPLACE TEMPORARY VIEW call_costs AS\n\
         SELECT call_id, {cost} AS cost_usd, CASE WHEN {unpriced} THEN 1 ELSE 0 END AS missing_price, \
         COALESCE({model_name}, '(no model)') AS __model\n\
         FROM llm_calls LEFT JOIN __runlens_rates ON {provider} = __kp AND {model} = __km\n\
         WHERE source = 'transcript';\n\n\
         SELECT to_json(named_struct('unpriced', __model, 'calls', count(*))) FROM call_costs \
         WHERE missing_price = 1 GROUP BY __model;\n\n\
         SELECT to_json(struct(*)) FROM ({totals}) t ORDER BY {order};\n",
        rates = rates_relation_spark(&distinct, prices),
        cost = cost_sql(Dialect::Spark),
        unpriced = unpriced_sql(Dialect::Spark),
        model_name = "COALESCE(response_model, request_model)",
        totals = plan.statement(&keep),
        order = plan.order,
    );
    let rows = spark.run("summing the tokens", &script)?;
    let mut unpriced = BTreeMap::new();
    let mut totals: Vec<&Row> = Vec::new();
    for row in &rows {
        match row.get("unpriced").and_then(|m| m.as_str()) {
            Some(model) => {
                let calls = row.get("calls").and_then(|c| c.as_u64()).unwrap_or(0);
                unpriced.insert(model.to_string(), calls as usize);
            }
            None => totals.push(row),
        }
    }
    Ok((frame(&plan, &totals)?, unpriced))
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
        let column = Column::new(name.as_str().into(), values);
        columns.push(match name.as_str() {
            "day" => column.cast(&DataType::Date).map_err(err())?,
            _ => column,
        });
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

fn text(row: &Row, name: &str) -> String {
    row.get(name)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}
