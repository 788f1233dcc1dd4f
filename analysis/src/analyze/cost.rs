//! The cost of each LLM call in USD, as polars columns ([`crate::prices`] holds the rates):
//! every distinct provider and model among the calls is priced once, in Rust, and joined back
//! as rate columns; the cost is then one expression over the token buckets. The catalogue's
//! [`crate::catalogue::Value::CallCost`] and `CallCostInRun` read the two columns added here.

use polars::prelude::*;

use crate::catalogue::cost_columns::{COST, UNPRICED};
use crate::error::{AnalysisError, Result};
use crate::prices::{PriceTable, Rates};

/// The token columns the cost reads.
pub(super) const TOKEN_COLUMNS: [&str; 5] = [
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens",
];

const PROVIDER_KEY: &str = "__kp";
const MODEL_KEY: &str = "__km";

/// The keys a call is priced by: provider and model (the responding one, else the
/// requested), null as empty so that they join.
pub(super) fn price_keys() -> [Expr; 2] {
    [
        col("provider").fill_null(lit("")).alias(PROVIDER_KEY),
        coalesce(&[col("response_model"), col("request_model")])
            .fill_null(lit(""))
            .alias(MODEL_KEY),
    ]
}

/// The rate columns, in the order [`rates_of`] fills them.
const RATE_COLUMNS: [&str; 11] = [
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
];

/// One price's rates in [`RATE_COLUMNS`] order (USD per million tokens; the tier's threshold in
/// prompt tokens).
fn rates_of(price: Option<&crate::prices::ModelPrice>) -> [Option<f64>; 11] {
    let base = price.map(|p| p.rates);
    let tier = price.and_then(|p| p.tier);
    let write5 = |r: Option<Rates>| r.map(|r| r.cache_write_5m.unwrap_or(0.0));
    let write1 = |r: Option<Rates>| r.map(|r| r.cache_write_1h.or(r.cache_write_5m).unwrap_or(0.0));
    let read = |r: Option<Rates>| r.map(|r| r.cache_read.unwrap_or(r.input));
    let tier_rates = tier.map(|t| t.rates);
    [
        base.map(|r| r.input),
        base.map(|r| r.output),
        read(base),
        write5(base),
        write1(base),
        tier.map(|t| t.above as f64),
        tier_rates.map(|r| r.input),
        tier_rates.map(|r| r.output),
        read(tier_rates),
        write5(tier_rates),
        write1(tier_rates),
    ]
}

/// Adds [`COST`] and [`UNPRICED`] to `calls`, a frame with the [`price_keys`] columns and the
/// token columns. `distinct` holds each distinct pair of price keys once.
pub(super) fn with_cost(
    calls: LazyFrame,
    distinct: &DataFrame,
    prices: &PriceTable,
) -> Result<LazyFrame> {
    let err = || AnalysisError::polars("pricing the calls");
    let providers = distinct
        .column(PROVIDER_KEY)
        .and_then(|c| c.str().cloned())
        .map_err(err())?;
    let models = distinct
        .column(MODEL_KEY)
        .and_then(|c| c.str().cloned())
        .map_err(err())?;
    let mut columns: Vec<Vec<Option<f64>>> = (0..RATE_COLUMNS.len())
        .map(|_| Vec::with_capacity(distinct.height()))
        .collect();
    for i in 0..distinct.height() {
        let provider = providers.get(i).filter(|p| !p.is_empty());
        let price = models
            .get(i)
            .filter(|m| !m.is_empty())
            .and_then(|m| prices.find(provider, m));
        for (column, value) in columns.iter_mut().zip(rates_of(price)) {
            column.push(value);
        }
    }
    let mut frame_columns = vec![
        Column::new(PROVIDER_KEY.into(), providers.into_series()),
        Column::new(MODEL_KEY.into(), models.into_series()),
    ];
    frame_columns.extend(
        RATE_COLUMNS
            .iter()
            .zip(columns)
            .map(|(name, values)| Column::new((*name).into(), values)),
    );
    let rates = DataFrame::new_infer_height(frame_columns).map_err(err())?;
    let keys = [col(PROVIDER_KEY), col(MODEL_KEY)];
    Ok(calls
        .join(
            rates.lazy(),
            keys.clone(),
            keys,
            JoinArgs::new(JoinType::Left),
        )
        .with_column(cost().alias(COST))
        .with_column(unpriced().alias(UNPRICED)))
}

/// The call's cost: each bucket times its rate (the tier's above its threshold), per million.
fn cost() -> Expr {
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
    when(no_usage().or(col("__r_in").is_null()))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(cost)
}

/// A call that reported no usage at all (costs nothing known).
fn no_usage() -> Expr {
    TOKEN_COLUMNS[..4]
        .iter()
        .map(|c| col(*c).is_null())
        .reduce(|a, b| a.and(b))
        .unwrap_or(lit(true))
}

/// A call with usage whose model has no price.
fn unpriced() -> Expr {
    no_usage().not().and(col("__r_in").is_null())
}

/// The distinct price keys of `calls` (a scan of `llm_calls`): only the model columns are read.
pub(super) fn distinct_price_keys(calls: LazyFrame) -> Result<DataFrame> {
    calls
        .select(price_keys())
        .unique(None, UniqueKeepStrategy::First)
        .collect()
        .map_err(AnalysisError::polars("pricing the calls"))
}
