//! Token accounting of agent sessions: totals per session and per UTC day, split into the
//! dataset's non-overlapping buckets (uncached input, output, cache read, cache write), as
//! `runlens sessions` shows them. `total_tokens` is the sum of the four buckets.

use polars::prelude::*;

use crate::analyze::{
    MODEL_KEY, PROVIDER_KEY, no_usage, price_keys, price_of, rates_frame, with_rates,
};
use crate::catalogue::cost_columns::{COST, UNPRICED};
use crate::cells;
use crate::error::{AnalysisError, Result};
use crate::labels::label_column;
use crate::prices::PriceTable;
use crate::query::{referenced_label_columns, run_sql_with, table_for_sql};
use crate::scan::DatasetReader;
use runlens_ingest::schema::{TRANSCRIPT_SOURCE, Table};

mod spark;
pub use spark::{listing_on_spark, totals_on_spark};

/// The sum of the four buckets of the table aliased `t` (`""` for none); null (never a
/// silent 0) when none was reported.
fn total(t: &str) -> String {
    let dot = if t.is_empty() { "" } else { "." };
    let c = |name: &str| format!("{t}{dot}{name}");
    let (i, o, r, w) = (
        c("input_tokens"),
        c("output_tokens"),
        c("cache_read_input_tokens"),
        c("cache_creation_input_tokens"),
    );
    format!(
        "CASE WHEN {i} IS NULL AND {o} IS NULL AND {r} IS NULL AND {w} IS NULL THEN NULL \
         ELSE COALESCE({i}, 0) + COALESCE({o}, 0) + COALESCE({r}, 0) + COALESCE({w}, 0) END"
    )
}

/// A time window in microseconds since the Unix epoch (UTC); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Earliest instant of interest.
    pub since_us: Option<i64>,
    /// Latest instant of interest.
    pub until_us: Option<i64>,
}

impl Window {
    /// SQL conditions (joined by AND, or `TRUE`) keeping rows whose span `[start, end]`
    /// (timestamp columns) overlaps the window; a bounded window leaves out rows without
    /// times, which cannot be shown to fall inside it.
    fn condition(&self, start: &str, end: &str) -> String {
        self.condition_with(start, end, |ts| format!("CAST({ts} AS BIGINT)"))
    }

    /// [`Window::condition`] with `micros` spelling a timestamp as microseconds.
    fn condition_with(&self, start: &str, end: &str, micros: impl Fn(&str) -> String) -> String {
        let mut parts = Vec::new();
        if let Some(since) = self.since_us {
            parts.push(format!(
                "COALESCE({}, {}) >= {since}",
                micros(end),
                micros(start)
            ));
        }
        if let Some(until) = self.until_us {
            parts.push(format!(
                "COALESCE({}, {}) <= {until}",
                micros(start),
                micros(end)
            ));
        }
        if parts.is_empty() {
            "TRUE".into()
        } else {
            parts.join(" AND ")
        }
    }
}

/// The transcripts' calls priced with a price table: the rates of each distinct provider
/// and model among them (looked up once), which the statements' `priced_calls` relation
/// joins to the calls as `analyze` does, and the calls left unpriced per model, for the
/// caller's warning. A dataset of at most [`IN_MEMORY_CALLS`] calls has its transcripts'
/// calls read once, priced in memory, and every statement reads them from there.
pub struct CallCosts {
    /// [`crate::analyze::rates_frame`] of the distinct price keys.
    rates: DataFrame,
    /// The transcripts' calls with `cost_usd` and `missing_price`, when read into memory.
    calls: Option<DataFrame>,
    /// Calls with usage but without a price, per model name as the dataset has it.
    pub unpriced: std::collections::BTreeMap<String, usize>,
}

/// The model a call is reported under: the responding one, else the requested one.
const MODEL_SHOWN: &str = "__model";

/// Most LLM calls (every source) that [`call_costs`] reads into memory for the statements;
/// a larger table is scanned by each statement instead. The daily report over 33,000
/// calls in 36 files took 0.035 s this way against 0.06 s with a scan per statement
/// (docs/benchmarks.md). The priced calls kept hold about 215 bytes each (7.1 MB for
/// those 33,000): at most about 55 MB.
pub const IN_MEMORY_CALLS: u64 = 250_000;

/// The columns of `llm_calls` the statements read from `priced_calls` (with the
/// [`price_keys`] and the cost): a statement naming another reads the table by a scan.
const STATEMENT_COLUMNS: [&str; 11] = [
    "start_ts",
    "session_id",
    "agent_id",
    "provider",
    "request_model",
    "response_model",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens",
];

/// Prices the dataset's transcript calls: one read of their provider and model columns
/// gives each distinct pair of price keys, priced once, with the number of calls that
/// reported usage (the cost itself is `analyze`'s expression, `analyze::cost::with_rates`).
/// A call that reported no usage has no cost (null) and does not make its group's sum null;
/// a call with usage but an unknown model does, and is counted in `unpriced`.
pub fn call_costs(reader: &DatasetReader, prices: &PriceTable) -> Result<CallCosts> {
    call_costs_within(reader, prices, IN_MEMORY_CALLS)
}

/// [`call_costs`], reading the calls into memory when the table holds at most
/// `in_memory_calls` rows.
pub fn call_costs_within(
    reader: &DatasetReader,
    prices: &PriceTable,
    in_memory_calls: u64,
) -> Result<CallCosts> {
    let mut columns = vec!["source"];
    columns.extend(STATEMENT_COLUMNS);
    match reader.read_whole(Table::LlmCalls, &columns, in_memory_calls)? {
        Some(calls) => costs_in_memory(priced_in_memory(calls, prices)?, prices),
        None => priced_by_scan(reader, prices),
    }
}

/// The transcripts' calls among `calls` (`llm_calls`' `source` and [`STATEMENT_COLUMNS`]):
/// the [`STATEMENT_COLUMNS`], the [`price_keys`], [`MODEL_SHOWN`], [`UNPRICED`], the cost
/// (`cost_usd`) and `missing_price` (1 for [`UNPRICED`], else 0).
fn priced_in_memory(calls: DataFrame, prices: &PriceTable) -> Result<DataFrame> {
    let err = || AnalysisError::polars("pricing the transcripts' calls");
    let mut keys = price_keys().to_vec();
    keys.push(model_shown());
    let calls = calls
        .lazy()
        .filter(col("source").eq(lit(TRANSCRIPT_SOURCE)))
        .with_columns(keys)
        .collect()
        .map_err(err())?;
    // What the statements and [`costs_in_memory`] read, not the rate columns.
    let mut kept: Vec<Expr> = STATEMENT_COLUMNS.iter().map(|c| col(*c)).collect();
    kept.extend([PROVIDER_KEY, MODEL_KEY, MODEL_SHOWN, UNPRICED].map(col));
    kept.push(col(COST).alias("cost_usd"));
    kept.push(col(UNPRICED).cast(DataType::UInt32).alias("missing_price"));
    crate::analyze::with_cost_in_memory(calls, prices)?
        .select(kept)
        .collect()
        .map_err(err())
}

/// [`CallCosts`] of the transcripts' calls [`priced_in_memory`].
fn costs_in_memory(priced: DataFrame, prices: &PriceTable) -> Result<CallCosts> {
    let err = || AnalysisError::polars("pricing the transcripts' calls");
    let missing = priced
        .clone()
        .lazy()
        .filter(col(UNPRICED))
        .group_by([col(MODEL_SHOWN)])
        .agg([len().alias("__calls")])
        .collect()
        .map_err(err())?;
    let models = cells::strings(&missing, MODEL_SHOWN).map_err(err())?;
    let counts = missing
        .column("__calls")
        .and_then(|c| c.idx().cloned())
        .map_err(err())?;
    let unpriced = models
        .iter()
        .zip(counts.iter())
        .map(|(model, n)| {
            let model = model.unwrap_or("(no model)").to_string();
            (model, n.unwrap_or(0) as usize)
        })
        .collect();
    Ok(CallCosts {
        rates: distinct_rates(&priced, prices)?,
        calls: Some(priced),
        unpriced,
    })
}

/// [`rates_frame`] of the pairs of [`price_keys`] in `keys`, each pair once (two shown names
/// may share one: a null model and an empty one).
fn distinct_rates(keys: &DataFrame, prices: &PriceTable) -> Result<DataFrame> {
    let distinct = keys
        .select([PROVIDER_KEY, MODEL_KEY])
        .and_then(|k| k.unique_stable(None, UniqueKeepStrategy::First, None))
        .map_err(AnalysisError::polars("pricing the transcripts' calls"))?;
    rates_frame(&distinct, prices)
}

/// [`call_costs`] by a scan of the table (the statements then scan it again).
fn priced_by_scan(reader: &DatasetReader, prices: &PriceTable) -> Result<CallCosts> {
    let err = || AnalysisError::polars("pricing the transcripts' calls");
    let mut select = price_keys().to_vec();
    select.push(model_shown());
    select.push(no_usage().not().alias("__used"));
    let keys = reader
        .scan(Table::LlmCalls)?
        .filter(col("source").eq(lit(TRANSCRIPT_SOURCE)))
        .select(select)
        .group_by([col(PROVIDER_KEY), col(MODEL_KEY), col(MODEL_SHOWN)])
        .agg([col("__used")
            .sum()
            .cast(DataType::UInt64)
            .alias("__with_usage")])
        .collect()
        .map_err(err())?;
    let providers = cells::strings(&keys, PROVIDER_KEY).map_err(err())?;
    let models = cells::strings(&keys, MODEL_KEY).map_err(err())?;
    let shown = cells::strings(&keys, MODEL_SHOWN).map_err(err())?;
    let with_usage = keys
        .column("__with_usage")
        .and_then(|c| c.u64().cloned())
        .map_err(err())?;
    let mut unpriced = std::collections::BTreeMap::new();
    for i in 0..keys.height() {
        let calls = with_usage.get(i).unwrap_or(0) as usize;
        if calls > 0 && price_of(prices, providers.get(i), models.get(i)).is_none() {
            let model = shown.get(i).unwrap_or("(no model)").to_string();
            *unpriced.entry(model).or_insert(0) += calls;
        }
    }
    Ok(CallCosts {
        rates: distinct_rates(&keys, prices)?,
        calls: None,
        unpriced,
    })
}

/// [`MODEL_SHOWN`] of a call, `(no model)` when it names none.
fn model_shown() -> Expr {
    coalesce(&[col("response_model"), col("request_model")])
        .fill_null(lit("(no model)"))
        .alias(MODEL_SHOWN)
}

impl CallCosts {
    /// The `priced_calls` relation the statements read: the transcripts' rows of
    /// `llm_calls` (as the statement `sql` reads the table: with the labels it names),
    /// each with `cost_usd` (null without usage or price) and `missing_price` (1 for a call
    /// with usage but no price, else 0).
    fn priced_calls(
        &self,
        reader: &DatasetReader,
        sql: &str,
    ) -> Result<Vec<(&'static str, LazyFrame)>> {
        if let Some(calls) = &self.calls
            && referenced_label_columns(sql).is_empty()
        {
            return Ok(vec![("priced_calls", calls.clone().lazy())]);
        }
        let calls = table_for_sql(reader, Table::LlmCalls, sql)?
            .filter(col("source").eq(lit(TRANSCRIPT_SOURCE)))
            .with_columns(price_keys());
        let priced = with_rates(calls, self.rates.clone()).with_columns([
            col(COST).alias("cost_usd"),
            col(UNPRICED).cast(DataType::UInt32).alias("missing_price"),
        ]);
        Ok(vec![("priced_calls", priced)])
    }
}

/// The sum of the calls' costs, null when any call with usage has no price (a partial sum
/// would look like the whole). Calls that reported no usage (a refused request) add nothing.
const COST_SUM: &str =
    "CASE WHEN COALESCE(SUM(c.missing_price), 0) = 0 THEN SUM(c.cost_usd) ELSE NULL END";

/// One row per session (from `sessions`, its agents folded in) whose activity overlaps
/// `window`, oldest first; with `agents`, each followed by one row per agent (`agent`:
/// `main`, or the kind and id of a sub-agent), whose figures add up to the session's.
pub fn per_session(
    reader: &DatasetReader,
    window: &Window,
    costs: &CallCosts,
    agents: bool,
) -> Result<DataFrame> {
    let keep = window.condition("s.started_ts", "s.last_activity_ts");
    let sql = format!(
        "SELECT * FROM ({}) ORDER BY {LISTING_ORDER}",
        listing_statement(&keep, agents)
    );
    let frame = run_sql_with(reader, costs.priced_calls(reader, &sql)?, &sql)?;
    let mut drop = vec!["session_start", "agent_order"];
    if !agents {
        drop.push("agent");
    }
    Ok(frame.drop_many(drop))
}

/// The listing's columns, in order (`session_start` and `agent_order` only sort it; `agent`
/// is shown with `--agents`).
const LISTING_COLUMNS: [&str; 16] = [
    "session_id",
    "agent",
    "format",
    "model",
    "started_ts",
    "messages",
    "tool_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "total_tokens",
    "cost_usd",
    "status",
    "session_start",
    "agent_order",
];

/// The listing's order: each session by its start, its agents under it, the main one first.
/// Nulls last, spelled out: engines differ in their default (Spark puts them first).
const LISTING_ORDER: &str = "session_start NULLS LAST, session_id NULLS LAST, \
    agent_order NULLS LAST, agent NULLS LAST";

/// The per-session listing (the [`LISTING_COLUMNS`], unordered) as one statement both
/// engines run, over `sessions`, `session_agents` and `priced_calls`; `keep` is
/// the window's condition on `s.` (and with `agents`, the same on `a.`'s session).
fn listing_statement(keep: &str, agents: bool) -> String {
    let columns = |t: &str| {
        let total = total(t);
        format!(
            "{t}.message_count AS messages, {t}.tool_calls, {t}.input_tokens, {t}.output_tokens, \
             {t}.cache_read_input_tokens AS cache_read_tokens, \
             {t}.cache_creation_input_tokens AS cache_write_tokens, {total} AS total_tokens"
        )
    };
    let sessions = format!(
        "SELECT s.session_id, 'session' AS agent, s.source_format AS format, s.model, \
         s.started_ts, {}, x.cost_usd, s.validation_status AS status, \
         s.started_ts AS session_start, 0 AS agent_order \
         FROM sessions s LEFT JOIN (SELECT c.session_id, {COST_SUM} AS cost_usd \
           FROM priced_calls c GROUP BY c.session_id) x \
         ON s.session_id = x.session_id \
         WHERE {keep}",
        columns("s")
    );
    if !agents {
        return sessions;
    }
    // Each agent under its session: the main agent first, then the others by id.
    format!(
        "{sessions} UNION ALL \
         SELECT a.session_id, \
           CASE WHEN a.agent_id IS NULL THEN a.agent_kind \
                ELSE a.agent_kind || ' ' || a.agent_id END AS agent, \
           a.source_format AS format, a.model, a.started_ts, {}, y.cost_usd, \
           a.validation_status AS status, s.started_ts AS session_start, \
           CASE WHEN a.agent_id IS NULL THEN 1 ELSE 2 END AS agent_order \
         FROM session_agents a \
         JOIN sessions s ON a.session_id = s.session_id AND a.source_format = s.source_format \
         LEFT JOIN (SELECT c.session_id, COALESCE(c.agent_id, '') AS agent_key, \
             {COST_SUM} AS cost_usd \
           FROM priced_calls c GROUP BY c.session_id, COALESCE(c.agent_id, '')) y \
         ON a.session_id = y.session_id AND COALESCE(a.agent_id, '') = y.agent_key \
         WHERE {keep}",
        columns("a")
    )
}

/// One row per UTC day of the transcripts' LLM calls made inside `window`.
pub fn daily(reader: &DatasetReader, window: &Window, costs: &CallCosts) -> Result<DataFrame> {
    totals(reader, window, costs, None, true)
}

/// What token totals are grouped by (`runlens sessions --by`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// The model that answered (the request's model when the response names none).
    Model,
    /// The provider.
    Provider,
    /// The session's transcript format.
    Format,
    /// A label's value (`--label key=value` at ingest, or found in the input).
    Label(String),
}

impl Grouping {
    /// Parses `model`, `provider`, `format` or `label:KEY`.
    pub fn parse(text: &str) -> std::result::Result<Grouping, String> {
        match text {
            "model" => Ok(Grouping::Model),
            "provider" => Ok(Grouping::Provider),
            "format" => Ok(Grouping::Format),
            _ => match text.strip_prefix("label:") {
                Some(key) if !key.is_empty() => Ok(Grouping::Label(key.to_string())),
                _ => Err(format!(
                    "{text:?}: group by model, provider, format or label:KEY"
                )),
            },
        }
    }
}

/// Token totals of the transcripts' LLM calls inside `window`, one row per value of `by`
/// (per UTC day and value with `daily`), largest total first within a day.
pub fn totals_by(
    reader: &DatasetReader,
    window: &Window,
    costs: &CallCosts,
    by: &Grouping,
    daily: bool,
) -> Result<DataFrame> {
    totals(reader, window, costs, Some(by), daily)
}

fn totals(
    reader: &DatasetReader,
    window: &Window,
    costs: &CallCosts,
    by: Option<&Grouping>,
    daily: bool,
) -> Result<DataFrame> {
    let keep = window.condition("c.start_ts", "c.start_ts");
    let plan = TotalsPlan::new(reader, by, daily)?;
    let sql = format!("{} ORDER BY {}", plan.statement(&keep), plan.order);
    run_sql_with(reader, costs.priced_calls(reader, &sql)?, &sql)
}

/// The grouping of a token totals query, for either engine.
struct TotalsPlan {
    /// The grouping columns as selected (`... AS day`, `... AS model`).
    select: Vec<String>,
    /// Their names.
    group: Vec<String>,
    /// A join the grouping needs (the sessions, for their format).
    join: &'static str,
    /// The ORDER BY list.
    order: String,
}

impl TotalsPlan {
    /// The totals of the transcripts' calls kept by `keep`, grouped (without an order): the
    /// transcripts' calls are a `priced_calls` relation (`llm_calls`' columns, `cost_usd`,
    /// `missing_price`).
    fn statement(&self, keep: &str) -> String {
        format!(
            "SELECT {select}, COUNT(DISTINCT c.session_id) AS sessions, \
             COUNT(*) AS calls, SUM(c.input_tokens) AS input_tokens, \
             SUM(c.output_tokens) AS output_tokens, \
             SUM(c.cache_read_input_tokens) AS cache_read_tokens, \
             SUM(c.cache_creation_input_tokens) AS cache_write_tokens, \
             SUM({total}) AS total_tokens, {COST_SUM} AS cost_usd \
             FROM priced_calls c{join} \
             WHERE {keep} \
             GROUP BY {group}",
            select = self.select.join(", "),
            group = self.group.join(", "),
            total = total("c"),
            join = self.join,
        )
    }

    fn new(reader: &DatasetReader, by: Option<&Grouping>, daily: bool) -> Result<TotalsPlan> {
        let (expr, name, join) = match by {
            None => (None, String::new(), ""),
            Some(Grouping::Model) => (
                Some("COALESCE(c.response_model, c.request_model)".to_string()),
                "model".to_string(),
                "",
            ),
            Some(Grouping::Provider) => {
                (Some("c.provider".to_string()), "provider".to_string(), "")
            }
            Some(Grouping::Format) => (
                Some("s.source_format".to_string()),
                "format".to_string(),
                " LEFT JOIN sessions s ON c.session_id = s.session_id",
            ),
            Some(Grouping::Label(key)) => {
                // The labels of the files that may hold transcript calls (the command's
                // reader is narrowed to those): a label only other calls carry is unknown here.
                let present = reader.label_keys(Table::LlmCalls)?;
                if !present.iter().any(|k| k == key) {
                    return Err(AnalysisError::UnknownLabel {
                        table: "transcript llm_calls",
                        key: key.clone(),
                        present: if present.is_empty() {
                            "none".into()
                        } else {
                            present.join(", ")
                        },
                    });
                }
                let column = label_column(key);
                (Some(format!("c.{column}")), column, "")
            }
        };
        let mut select = Vec::new();
        let mut group = Vec::new();
        if daily {
            select.push("CAST(c.start_ts AS DATE) AS day".to_string());
            group.push("day".to_string());
        }
        if let Some(expr) = &expr {
            select.push(format!("{expr} AS {name}"));
            group.push(name.clone());
        }
        // Nulls last, spelled out: engines differ in their default (Spark puts them first).
        let order = if expr.is_some() {
            let mut o: Vec<String> = group
                .iter()
                .filter(|g| *g == "day")
                .map(|g| format!("{g} NULLS LAST"))
                .collect();
            o.push("total_tokens DESC NULLS LAST".into());
            o.push(format!("{name} NULLS LAST"));
            o.join(", ")
        } else {
            let o: Vec<String> = group.iter().map(|g| format!("{g} NULLS LAST")).collect();
            o.join(", ")
        };
        Ok(TotalsPlan {
            select,
            group,
            join,
            order,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `frame` with its float columns rounded (sums added in another order may differ in
    /// the last bits).
    fn rounded(frame: &DataFrame) -> DataFrame {
        let floats: Vec<Expr> = frame
            .schema()
            .iter()
            .filter(|(_, dtype)| dtype.is_float())
            .map(|(name, _)| col(name.clone()).round(9, RoundMode::default()))
            .collect();
        frame
            .clone()
            .lazy()
            .with_columns(floats)
            .collect()
            .expect("rounded")
    }

    #[test]
    fn calls_read_into_memory_give_what_a_scan_per_statement_gives() {
        let dir = crate::test_support::sample_dataset();
        let reader = DatasetReader::new(dir.path());
        // The bundled prices, and a table of one tiered model that leaves the others unpriced.
        let one = dir.path().join("one-price.toml");
        std::fs::write(
            &one,
            "[[model]]\nname = \"claude-sonnet-4-5\"\nprovider = \"anthropic\"\n\
             input = 3.0\noutput = 15.0\ncache_read = 0.30\ncache_write_5m = 3.75\n\
             tier = { above = 1000, input = 6.0, output = 22.5 }\n",
        )
        .expect("price file");
        let tables = [
            PriceTable::bundled(),
            PriceTable::load(&one).expect("one price"),
        ];
        for (t, prices) in tables.iter().enumerate() {
            let in_memory = call_costs_within(&reader, prices, u64::MAX).expect("in memory");
            let scanned = call_costs_within(&reader, prices, 0).expect("scanned");
            assert!(in_memory.calls.is_some() && scanned.calls.is_none());
            assert_eq!(in_memory.unpriced, scanned.unpriced, "prices {t}");
            assert_eq!(in_memory.unpriced.is_empty(), t == 0, "prices {t}");
            compare_statements(&reader, &in_memory, &scanned, t);
        }
    }

    /// Every statement gives the same rows from both `costs`.
    fn compare_statements(reader: &DatasetReader, a: &CallCosts, b: &CallCosts, t: usize) {
        let window = Window::default();
        type Run<'a> = Box<dyn Fn(&CallCosts) -> Result<DataFrame> + 'a>;
        let runs: Vec<(&str, Run)> = vec![
            ("daily", Box::new(|c| daily(reader, &window, c))),
            (
                "by model",
                Box::new(|c| totals_by(reader, &window, c, &Grouping::Model, false)),
            ),
            (
                "daily by provider",
                Box::new(|c| totals_by(reader, &window, c, &Grouping::Provider, true)),
            ),
            (
                "by format",
                Box::new(|c| totals_by(reader, &window, c, &Grouping::Format, false)),
            ),
            (
                "listing",
                Box::new(|c| per_session(reader, &window, c, false)),
            ),
            (
                "agents",
                Box::new(|c| per_session(reader, &window, c, true)),
            ),
        ];
        for (name, run) in runs {
            let from_memory = run(a).expect(name);
            let from_scans = run(b).expect(name);
            assert!(from_memory.height() > 0, "{name}: no rows");
            assert!(
                rounded(&from_memory).equals_missing(&rounded(&from_scans)),
                "prices {t}, {name}:\n{from_memory}\n{from_scans}"
            );
        }
    }

    #[test]
    fn reports_read_from_the_transcripts_files_alone_give_every_figure() {
        // Latency CSVs' calls, then transcripts: files of only one source each.
        let dir = crate::test_support::samples_dataset(&["latency", "sessions"]);
        let prices = PriceTable::bundled();
        let window = Window::default();
        let reports = |reader: &DatasetReader| -> Result<Vec<DataFrame>> {
            let costs = call_costs(reader, &prices)?;
            Ok(vec![
                daily(reader, &window, &costs)?,
                totals_by(reader, &window, &costs, &Grouping::Model, true)?,
                per_session(reader, &window, &costs, true)?,
            ])
        };
        let whole = DatasetReader::new(dir.path());
        let narrowed = whole
            .narrowed_to_source(Table::LlmCalls, "transcript")
            .expect("narrowed");
        let others: Vec<runlens_ingest::dataset::log::AddedFile> = whole
            .files(Table::LlmCalls)
            .expect("files")
            .iter()
            .filter(|f| {
                f.sources
                    .as_ref()
                    .is_some_and(|s| !s.contains("transcript"))
            })
            .cloned()
            .collect();
        assert!(
            !others.is_empty(),
            "the latency CSVs' calls have files of their own"
        );
        assert_eq!(
            narrowed.files(Table::LlmCalls).expect("files").len(),
            whole.files(Table::LlmCalls).expect("files").len() - others.len()
        );
        let expected = reports(&whole).expect("reports");
        assert!(expected.iter().all(|frame| frame.height() > 0));
        let got = reports(&narrowed).expect("reports");
        for (want, have) in expected.iter().zip(&got) {
            assert!(
                rounded(want).equals_missing(&rounded(have)),
                "{want}\n{have}"
            );
        }
        // The other files are not opened: damaged, the reports stand; read whole, they fail.
        for file in &others {
            std::fs::write(dir.path().join(&file.path), b"damaged").expect("damage");
        }
        let reopened = DatasetReader::new(dir.path())
            .narrowed_to_source(Table::LlmCalls, "transcript")
            .expect("narrowed");
        let again = reports(&reopened).expect("reports without the damaged files");
        for (want, have) in expected.iter().zip(&again) {
            assert!(
                rounded(want).equals_missing(&rounded(have)),
                "{want}\n{have}"
            );
        }
        assert!(reports(&DatasetReader::new(dir.path())).is_err());
    }

    #[test]
    fn a_statement_naming_a_label_reads_the_table_by_a_scan() {
        let dir = crate::test_support::sample_dataset();
        let reader = DatasetReader::new(dir.path());
        let costs = call_costs(&reader, &PriceTable::bundled()).expect("costs");
        assert!(costs.calls.is_some());
        // The calls in memory have no label columns: a grouping by a label still works.
        let keys = reader.label_keys(Table::LlmCalls).expect("keys");
        let Some(key) = keys.first() else {
            panic!("the samples carry labels")
        };
        let frame = totals_by(
            &reader,
            &Window::default(),
            &costs,
            &Grouping::Label(key.clone()),
            false,
        )
        .expect("by label");
        assert!(frame.height() > 0);
    }
}
