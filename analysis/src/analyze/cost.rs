//! The cost of each LLM call in USD, as polars columns ([`crate::prices`] holds the rates):
//! every distinct provider and model among the calls is priced once, in Rust, and joined back
//! as rate columns; the cost is then one expression over the token buckets. The catalogue's
//! [`crate::catalogue::Value::CallCost`] and `CallCostInRun` read the two columns added here.

use polars::prelude::*;

use crate::catalogue::cost_columns::{COST, UNPRICED};
use crate::cells;
use crate::dialect::Dialect;
use crate::error::{AnalysisError, Result};
use crate::prices::{PER_TOKEN, PriceTable, Rates};

/// The token columns the cost reads.
pub(crate) const TOKEN_COLUMNS: [&str; 5] = [
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens",
];

pub(crate) const PROVIDER_KEY: &str = "__kp";
pub(crate) const MODEL_KEY: &str = "__km";

/// The keys a call is priced by: provider and model (the responding one, else the
/// requested), null as empty so that they join.
pub(crate) fn price_keys() -> [Expr; 2] {
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

/// The price a call with these [`price_keys`] values is charged at (empty is unknown), as
/// the cost looks it up.
pub(crate) fn price_of<'p>(
    prices: &'p PriceTable,
    provider: Option<&str>,
    model: Option<&str>,
) -> Option<&'p crate::prices::ModelPrice> {
    let provider = provider.filter(|p| !p.is_empty());
    model
        .filter(|m| !m.is_empty())
        .and_then(|m| prices.find(provider, m))
}

/// The rates of each pair of price keys in `distinct` (its [`PROVIDER_KEY`] and
/// [`MODEL_KEY`] columns, each pair once): the keys and the [`RATE_COLUMNS`], null where
/// the table has no price.
pub(crate) fn rates_frame(distinct: &DataFrame, prices: &PriceTable) -> Result<DataFrame> {
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
        let price = price_of(prices, providers.get(i), models.get(i));
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
    DataFrame::new_infer_height(frame_columns).map_err(err())
}

/// Adds [`COST`] and [`UNPRICED`] to `calls` (with the [`price_keys`] columns and the token
/// columns) from `rates`, a [`rates_frame`].
pub(crate) fn with_rates(calls: LazyFrame, rates: DataFrame) -> LazyFrame {
    let keys = [col(PROVIDER_KEY), col(MODEL_KEY)];
    calls
        .join(
            rates.lazy(),
            keys.clone(),
            keys,
            JoinArgs::new(JoinType::Left),
        )
        .with_column(cost().alias(COST))
        .with_column(unpriced().alias(UNPRICED))
}

/// Adds [`COST`] and [`UNPRICED`] to calls already in memory (a frame with the
/// [`price_keys`] columns and the token columns): each row's pair of keys is found in one
/// pass over the two key columns (a row with the pair of the row before costs a comparison,
/// others a lookup among the distinct pairs), each distinct pair is priced once, and the
/// rate columns are taken from that small table by row. [`with_rates`] does the same with a
/// join, for calls not in memory. Measured on 10 M calls in parts: the join on the two
/// string keys took 1.3 s, mostly hashing them; with this pass `analyze` used 0.6–0.8 s
/// less CPU (docs/benchmarks.md).
pub(crate) fn with_cost_in_memory(calls: DataFrame, prices: &PriceTable) -> Result<LazyFrame> {
    let err = || AnalysisError::polars("pricing the calls");
    let providers = cells::strings(&calls, PROVIDER_KEY).map_err(err())?;
    let models = cells::strings(&calls, MODEL_KEY).map_err(err())?;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut seen: PlHashMap<(&str, &str), IdxSize> = PlHashMap::new();
    let mut rows: Vec<IdxSize> = Vec::with_capacity(calls.height());
    let mut last: Option<((&str, &str), IdxSize)> = None;
    for (provider, model) in providers.iter().zip(models.iter()) {
        let key = (provider.unwrap_or(""), model.unwrap_or(""));
        let row = match last {
            Some((previous, row)) if previous == key => row,
            _ => {
                let row = *seen.entry(key).or_insert_with(|| {
                    pairs.push(key);
                    (pairs.len() - 1) as IdxSize
                });
                last = Some((key, row));
                row
            }
        };
        rows.push(row);
    }
    let distinct = DataFrame::new_infer_height(vec![
        Column::new(
            PROVIDER_KEY.into(),
            pairs.iter().map(|p| p.0).collect::<Vec<_>>(),
        ),
        Column::new(
            MODEL_KEY.into(),
            pairs.iter().map(|p| p.1).collect::<Vec<_>>(),
        ),
    ])
    .map_err(err())?;
    let rate_columns = rates_frame(&distinct, prices)?
        .select(RATE_COLUMNS)
        .and_then(|rates| rates.take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows)))
        .map_err(err())?;
    let priced = calls.hstack(rate_columns.columns()).map_err(err())?;
    Ok(priced
        .lazy()
        .with_column(cost().alias(COST))
        .with_column(unpriced().alias(UNPRICED)))
}

/// The buckets a call's cost adds up, in order: the tokens (a column, less another), the
/// base rate column and the tier's rate column. One list for both engines ([`cost`],
/// [`cost_sql`]).
const BUCKETS: [(&str, Option<&str>, &str, &str); 5] = [
    ("input_tokens", None, "__r_in", "__t_in"),
    ("output_tokens", None, "__r_out", "__t_out"),
    ("cache_read_input_tokens", None, "__r_read", "__t_read"),
    // Five-minute cache writes: all writes less the one-hour ones.
    (
        "cache_creation_input_tokens",
        Some("cache_creation_1h_input_tokens"),
        "__r_w5",
        "__t_w5",
    ),
    ("cache_creation_1h_input_tokens", None, "__r_w1", "__t_w1"),
];

/// The tokens of the prompt, which decide whether the tier's rates apply.
const PROMPT: [&str; 3] = [
    "input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

/// The tier's threshold column.
const TIER_ABOVE: &str = "__t_above";

/// The call's cost: each bucket times its rate (the tier's above its threshold), per million.
fn cost() -> Expr {
    let tokens = |c: &str| col(c).cast(DataType::Float64).fill_null(lit(0.0));
    let prompt = PROMPT
        .iter()
        .map(|c| tokens(c))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0));
    let tiered = col(TIER_ABOVE)
        .is_not_null()
        .and(prompt.gt(col(TIER_ABOVE)));
    let rate = |base: &str, tier: &str| when(tiered.clone()).then(col(tier)).otherwise(col(base));
    let cost = BUCKETS
        .iter()
        .map(|(column, less, base, tier)| {
            let counted = match less {
                Some(less) => tokens(column) - tokens(less),
                None => tokens(column),
            };
            counted * rate(base, tier)
        })
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0))
        * lit(PER_TOKEN);
    when(no_usage().or(col("__r_in").is_null()))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(cost)
}

/// [`cost`] in SQL of `dialect`, over a relation with the token and rate columns.
pub(crate) fn cost_sql(dialect: Dialect) -> String {
    let q = |c: &str| dialect.ident(c);
    let tokens = |c: &str| format!("COALESCE(CAST({} AS DOUBLE), CAST(0 AS DOUBLE))", q(c));
    let prompt: Vec<String> = PROMPT.iter().map(|c| tokens(c)).collect();
    let tiered = format!(
        "({above} IS NOT NULL AND ({prompt}) > {above})",
        above = q(TIER_ABOVE),
        prompt = prompt.join(" + ")
    );
    let buckets: Vec<String> = BUCKETS
        .iter()
        .map(|(column, less, base, tier)| {
            let counted = match less {
                Some(less) => format!("({} - {})", tokens(column), tokens(less)),
                None => tokens(column),
            };
            format!(
                "{counted} * (CASE WHEN {tiered} THEN {} ELSE {} END)",
                q(tier),
                q(base)
            )
        })
        .collect();
    format!(
        "(CASE WHEN {no_usage} OR {r_in} IS NULL THEN CAST(NULL AS DOUBLE) \
         ELSE ({sum}) * CAST('{PER_TOKEN:?}' AS DOUBLE) END)",
        no_usage = no_usage_sql(dialect),
        r_in = q("__r_in"),
        sum = buckets.join(" + ")
    )
}

/// [`unpriced`] in SQL of `dialect`.
pub(crate) fn unpriced_sql(dialect: Dialect) -> String {
    format!(
        "(NOT {} AND {} IS NULL)",
        no_usage_sql(dialect),
        dialect.ident("__r_in")
    )
}

/// A call that reported no usage at all (costs nothing known).
pub(crate) fn no_usage() -> Expr {
    TOKEN_COLUMNS[..4]
        .iter()
        .map(|c| col(*c).is_null())
        .reduce(|a, b| a.and(b))
        .unwrap_or(lit(true))
}

/// [`no_usage`] in SQL of `dialect`.
fn no_usage_sql(dialect: Dialect) -> String {
    let nulls: Vec<String> = TOKEN_COLUMNS[..4]
        .iter()
        .map(|c| format!("{} IS NULL", dialect.ident(c)))
        .collect();
    format!("({})", nulls.join(" AND "))
}

/// A call with usage whose model has no price.
fn unpriced() -> Expr {
    no_usage().not().and(col("__r_in").is_null())
}

/// The price keys of a call in SQL of `dialect`: provider and model (the responding one,
/// else the requested), null as empty, as [`price_keys`] makes them.
pub(crate) fn price_keys_sql(dialect: Dialect) -> [String; 2] {
    let q = |c: &str| dialect.ident(c);
    [
        format!("COALESCE({}, '')", q("provider")),
        format!(
            "COALESCE(COALESCE({}, {}), '')",
            q("response_model"),
            q("request_model")
        ),
    ]
}

/// The rates of each pair of price keys in `distinct` (provider, model; empty for none) as
/// a Spark SQL relation with the columns the join of [`cost_sql`] reads: the price keys
/// `__kp`, `__km` and the rate columns. One row of null keys keeps it valid when
/// `distinct` is empty (it joins no call).
pub(crate) fn rates_relation_spark(distinct: &[(String, String)], prices: &PriceTable) -> String {
    let dialect = Dialect::Spark;
    let number = |v: Option<f64>| match v {
        Some(v) => format!("CAST('{v:?}' AS DOUBLE)"),
        None => "CAST(NULL AS DOUBLE)".to_string(),
    };
    let mut rows = vec![format!(
        "(CAST(NULL AS STRING), CAST(NULL AS STRING){})",
        ", CAST(NULL AS DOUBLE)".repeat(RATE_COLUMNS.len())
    )];
    for (provider, model) in distinct {
        let price = (!model.is_empty())
            .then(|| prices.find((!provider.is_empty()).then_some(provider.as_str()), model))
            .flatten();
        let rates: Vec<String> = rates_of(price).into_iter().map(number).collect();
        rows.push(format!(
            "({}, {}, {})",
            dialect.string(provider),
            dialect.string(model),
            rates.join(", ")
        ));
    }
    let mut names = vec![PROVIDER_KEY.to_string(), MODEL_KEY.to_string()];
    names.extend(RATE_COLUMNS.iter().map(|c| c.to_string()));
    format!(
        "SELECT * FROM VALUES\n  {}\n  AS rates({})",
        rows.join(",\n  "),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cost and the unpriced flag in SQL equal polars' on calls with and without usage,
    /// price, tier and one-hour cache writes.
    #[test]
    fn the_cost_in_sql_equals_the_cost_in_polars() {
        let frame = df!(
            "input_tokens" => [Some(1000i64), None, Some(300_000), Some(10), Some(5)],
            "output_tokens" => [Some(200i64), None, Some(1000), Some(20), None],
            "cache_read_input_tokens" => [Some(50i64), None, None, None, Some(7)],
            "cache_creation_input_tokens" => [Some(400i64), None, Some(10), None, Some(9)],
            "cache_creation_1h_input_tokens" => [Some(100i64), None, None, None, Some(4)],
            "__r_in" => [Some(3.0f64), Some(3.0), Some(1.25), None, Some(0.1)],
            "__r_out" => [Some(15.0f64), Some(15.0), Some(10.0), None, Some(0.4)],
            "__r_read" => [Some(0.3f64), Some(0.3), Some(0.125), None, Some(0.1)],
            "__r_w5" => [Some(3.75f64), Some(3.75), Some(0.0), None, Some(0.0)],
            "__r_w1" => [Some(6.0f64), Some(6.0), Some(0.0), None, Some(0.0)],
            "__t_above" => [None, None, Some(200_000.0f64), None, None],
            "__t_in" => [None, None, Some(2.5f64), None, None],
            "__t_out" => [None, None, Some(15.0f64), None, None],
            "__t_read" => [None, None, Some(0.25f64), None, None],
            "__t_w5" => [None, None, Some(0.0f64), None, None],
            "__t_w1" => [None, None, Some(0.0f64), None, None]
        )
        .expect("frame");
        let from_polars = frame
            .clone()
            .lazy()
            .select([cost().alias("cost"), unpriced().alias("unpriced")])
            .collect()
            .expect("polars");
        let mut ctx = polars::sql::SQLContext::new();
        ctx.register("t", frame.lazy());
        let sql = format!(
            "SELECT {} AS cost, {} AS unpriced FROM t",
            cost_sql(Dialect::DuckDb),
            unpriced_sql(Dialect::DuckDb)
        );
        let from_sql = ctx.execute(&sql).and_then(|lf| lf.collect()).expect("sql");
        assert_eq!(from_polars, from_sql, "{sql}");
        // By hand: the first call's buckets at its rates, per million.
        let first = from_polars
            .column("cost")
            .and_then(|c| c.f64().cloned())
            .expect("cost")
            .get(0);
        let expected =
            (1000.0 * 3.0 + 200.0 * 15.0 + 50.0 * 0.3 + 300.0 * 3.75 + 100.0 * 6.0) / 1e6;
        assert!((first.unwrap_or(f64::NAN) - expected).abs() < 1e-15);
    }

    /// Pricing calls in memory gives every call its own model's rates, as the join does: calls
    /// of several models interleaved and repeated, a model without a price, calls without a
    /// model.
    #[test]
    fn pricing_in_memory_equals_the_join() {
        let prices = PriceTable::bundled();
        let models = [
            ("anthropic", "claude-sonnet-4-5"),
            ("openai", "gpt-4o-mini"),
            ("anthropic", "claude-sonnet-4-5"),
            ("anthropic", "claude-sonnet-4-5"),
            ("acme", "no-such-model"),
            ("", ""),
            ("openai", "gpt-4o-mini"),
            ("anthropic", "claude-haiku-4-5"),
        ];
        let n = models.len() as i64;
        let frame = df!(
            "__id" => (0..n).collect::<Vec<_>>(),
            PROVIDER_KEY => models.iter().map(|m| m.0).collect::<Vec<_>>(),
            MODEL_KEY => models.iter().map(|m| m.1).collect::<Vec<_>>(),
            "input_tokens" => (0..n).map(|i| Some(1000 + 17 * i)).collect::<Vec<_>>(),
            "output_tokens" => (0..n).map(|i| Some(200 + 3 * i)).collect::<Vec<_>>(),
            "cache_read_input_tokens" => vec![Some(50i64); models.len()],
            "cache_creation_input_tokens" => vec![None::<i64>; models.len()],
            "cache_creation_1h_input_tokens" => vec![None::<i64>; models.len()]
        )
        .expect("frame");
        let columns = || [col("__id"), col(COST), col(UNPRICED)];
        let in_memory = with_cost_in_memory(frame.clone(), &prices)
            .expect("priced")
            .select(columns())
            .collect()
            .expect("collected");
        let distinct = frame
            .select([PROVIDER_KEY, MODEL_KEY])
            .and_then(|k| k.unique_stable(None, UniqueKeepStrategy::First, None))
            .expect("distinct");
        let joined = with_rates(
            frame.lazy(),
            rates_frame(&distinct, &prices).expect("rates"),
        )
        .select(columns())
        .sort(["__id"], SortMultipleOptions::default())
        .collect()
        .expect("joined");
        assert_eq!(in_memory, joined);
        let costs: Vec<Option<f64>> = in_memory
            .column(COST)
            .and_then(|c| c.f64().cloned())
            .expect("cost")
            .iter()
            .collect();
        // Priced models have a cost, and two models' rates differ; the unknown has none.
        assert!(costs[0].is_some() && costs[1].is_some() && costs[7].is_some());
        assert_ne!(costs[0], costs[1]);
        assert_eq!(costs[4], None);
        assert_eq!(costs[5], None);
    }
}
