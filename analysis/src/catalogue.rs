//! The metric catalogue: the one place a metric is defined.
//!
//! For every metric runlens computes, one [`Metric`] says where its observations come from
//! (the table and the engine-neutral [`Value`] computing one value from a row), its
//! [`Unit`], which direction is better, which observations count (warm-ups, failures:
//! [`Exclusion`]) and how observations add up per run and per phase ([`Aggregation`]).
//! `analyze`, `compare`, targets, `memory`, the report and the charts take these facts from
//! here and from nowhere else, so they cannot disagree about a metric's unit or whether more
//! of it is better.
//!
//! A [`Value`] is a small expression tree rather than a polars closure so that another engine
//! can be generated from the same definition: [`Value::to_polars`] for the embedded engine,
//! [`Value::to_sql`] for a SQL engine (checked to agree with polars in the tests below).

use polars::prelude::*;
use runlens_ingest::schema::Table;
use serde::{Serialize, Serializer};

use crate::dialect::Dialect;

/// The unit a metric's values are stored and computed in. Renderers convert to a readable
/// scale (seconds, MiB, ...) only when printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// Bytes.
    Bytes,
    /// Tokens.
    Tokens,
    /// Output tokens per second.
    TokensPerS,
    /// US dollars.
    Usd,
    /// A count of calls (LLM calls, tool calls).
    Calls,
    /// A count of files.
    Files,
}

impl Unit {
    /// The unit as written in outputs (`ms`, `bytes`, `tokens`, `tokens/s`, `usd`, `calls`,
    /// `files`).
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Bytes => "bytes",
            Unit::Tokens => "tokens",
            Unit::TokensPerS => "tokens/s",
            Unit::Usd => "usd",
            Unit::Calls => "calls",
            Unit::Files => "files",
        }
    }

    /// The unit written as [`Unit::symbol`] (case-insensitive).
    pub fn from_symbol(text: &str) -> Option<Unit> {
        let text = text.trim().to_ascii_lowercase();
        [
            Unit::Ms,
            Unit::Bytes,
            Unit::Tokens,
            Unit::TokensPerS,
            Unit::Usd,
            Unit::Calls,
            Unit::Files,
        ]
        .into_iter()
        .find(|u| u.symbol() == text)
    }

    /// How many of this unit one `suffix` is (`s` → 1000 for [`Unit::Ms`]); None when the
    /// suffix does not measure this kind of quantity.
    fn factor(self, suffix: &str) -> Option<f64> {
        const KIB: f64 = 1024.0;
        let factor = match (self, suffix) {
            (_, "") => 1.0,
            (Unit::Ms, "ms") => 1.0,
            (Unit::Ms, "s") => 1000.0,
            (Unit::Ms, "min") => 60_000.0,
            (Unit::Ms, "h") => 3_600_000.0,
            (Unit::Bytes, "b") => 1.0,
            (Unit::Bytes, "kib") => KIB,
            (Unit::Bytes, "mib") => KIB * KIB,
            (Unit::Bytes, "gib") => KIB * KIB * KIB,
            (Unit::Bytes, "kb") => 1e3,
            (Unit::Bytes, "mb") => 1e6,
            (Unit::Bytes, "gb") => 1e9,
            (Unit::Usd, "$") => 1.0,
            (Unit::Tokens, "token") | (Unit::Calls, "call") | (Unit::Files, "file") => 1.0,
            (u, s) if s == u.symbol() => 1.0,
            _ => return None,
        };
        Some(factor)
    }

    /// Reads an amount written with an optional unit (`300 s`, `1.5 GiB`, `$0.25`,
    /// `0.25 usd`, `30_000`) in this unit.
    pub fn parse_amount(self, text: &str) -> Result<f64, String> {
        let text = text.trim();
        let (dollar, body) = match text.strip_prefix('$') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, text),
        };
        let split = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-'))
            .unwrap_or(body.len());
        let number: f64 = body[..split]
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{text:?}: expected a number with an optional unit"))?;
        let suffix = if dollar {
            "$".to_string()
        } else {
            body[split..].trim().to_ascii_lowercase()
        };
        match self.factor(&suffix) {
            Some(f) => Ok(number * f),
            None => Err(format!(
                "{text:?}: unit {suffix:?} does not fit a metric in {}",
                self.symbol()
            )),
        }
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.symbol())
    }
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Less is better (time, memory, tokens, cost).
    LowerIsBetter,
    /// More is better (throughput, tool calls, outputs).
    HigherIsBetter,
}

impl Direction {
    /// `lower_is_better` or `higher_is_better`, as outputs write it.
    pub fn name(self) -> &'static str {
        match self {
            Direction::LowerIsBetter => "lower_is_better",
            Direction::HigherIsBetter => "higher_is_better",
        }
    }

    /// Whether a change from `baseline` to `candidate` is an improvement.
    pub fn improves(self, baseline: f64, candidate: f64) -> bool {
        match self {
            Direction::LowerIsBetter => candidate < baseline,
            Direction::HigherIsBetter => candidate > baseline,
        }
    }
}

/// Which observations are left out of a metric's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// The row is a run: warm-ups are excluded; failed runs ([`run_failed`]) are counted in
    /// `failed` and excluded.
    OwnRun,
    /// The row belongs to a run (a phase, an output, a run's calls): it shares that run's
    /// warm-up and failure flags.
    ItsRun,
    /// An LLM call: one with an `error_kind` is failed; calls have no warm-ups.
    CallError,
    /// Every observation counts.
    Nothing,
}

/// How observations add up per run and per phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// One observation per row, per phase and in the `(total)` row.
    PerRow,
    /// Per phase one observation per row; the `(total)` row sums each run's rows (null when
    /// none of them is known), so it describes runs like the run metrics.
    TotalPerRun,
    /// Every observation is one run's rows summed (per phase with `--phase`); unknown as
    /// soon as one of them is (a call of an unpriced model makes its run's cost unknown).
    RunSum,
}

/// How one value is computed from one row of the metric's table, in a form every engine can
/// be generated from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A column, as a float.
    Column(&'static str),
    /// The sum of two columns (null when either is).
    Sum(&'static str, &'static str),
    /// 1 for every row: a count.
    One,
    /// 1 when an artifact exists and was produced by its run (unknown counts as produced),
    /// else 0.
    ProducedOutput,
    /// The call's cost in USD at the joined price rates (see `analyze::cost`): the column
    /// the cost stage adds.
    CallCost,
    /// The call's cost for a run's total: 0 for a call without usage, unknown (null) for a
    /// call of an unpriced model.
    CallCostInRun,
}

/// Internal column names the cost stage adds to a call scan.
pub mod cost_columns {
    /// The call's cost in USD (null: no usage or no price).
    pub const COST: &str = "__cost";
    /// True when the call had usage but its model has no price.
    pub const UNPRICED: &str = "__unpriced";
}

impl Value {
    /// The polars expression computing the value (Float64).
    pub fn to_polars(self) -> Expr {
        use cost_columns::{COST, UNPRICED};
        let expr = match self {
            Value::Column(c) => col(c),
            Value::Sum(a, b) => col(a) + col(b),
            Value::One => lit(1.0),
            Value::ProducedOutput => {
                when(col("exists").and(col("produced_by_run").fill_null(lit(true))))
                    .then(lit(1.0))
                    .otherwise(lit(0.0))
            }
            Value::CallCost => col(COST),
            Value::CallCostInRun => when(col(UNPRICED))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(col(COST).fill_null(lit(0.0))),
        };
        expr.cast(DataType::Float64)
    }

    /// The same value as a SQL expression of `dialect` (CAST, CASE, COALESCE).
    pub fn to_sql(self, dialect: Dialect) -> String {
        use cost_columns::{COST, UNPRICED};
        let q = |name: &str| dialect.ident(name);
        let expr = match self {
            Value::Column(c) => q(c),
            Value::Sum(a, b) => format!("{} + {}", q(a), q(b)),
            Value::One => "1".to_string(),
            Value::ProducedOutput => format!(
                "CASE WHEN {} AND COALESCE({}, TRUE) THEN 1 ELSE 0 END",
                q("exists"),
                q("produced_by_run")
            ),
            Value::CallCost => q(COST),
            Value::CallCostInRun => format!(
                "CASE WHEN {} THEN NULL ELSE COALESCE({}, 0) END",
                q(UNPRICED),
                q(COST)
            ),
        };
        format!("CAST({expr} AS DOUBLE)")
    }
}

/// A row's own failure or warm-up flag, engine-neutral like [`Value`]: `analyze` applies
/// the same rule whichever engine reads the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The run failed ([`run_failed`]).
    RunFailed,
    /// The run is a warm-up (`is_warmup`; unknown counts as not).
    Warmup,
    /// The LLM call failed (it has an `error_kind`).
    CallFailed,
    /// Never.
    Never,
}

/// One sign of a failed run: a column and what it must show.
enum FailureSign {
    /// A known value other than 0.
    NonZero(&'static str),
    /// Any value.
    Present(&'static str),
    /// True.
    True(&'static str),
}

/// A run failed when any of these shows (see [`run_failed`]).
const FAILURE_SIGNS: [FailureSign; 4] = [
    FailureSign::NonZero("exit_code"),
    FailureSign::Present("signal"),
    FailureSign::True("timed_out"),
    FailureSign::True("interrupted"),
];

impl Condition {
    /// The polars expression (Boolean, never null).
    pub fn to_polars(self) -> Expr {
        match self {
            Condition::RunFailed => FAILURE_SIGNS
                .iter()
                .map(|sign| match sign {
                    FailureSign::NonZero(c) => col(*c).neq(lit(0)).fill_null(lit(false)),
                    FailureSign::Present(c) => col(*c).is_not_null(),
                    FailureSign::True(c) => col(*c).fill_null(lit(false)),
                })
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(false)),
            Condition::Warmup => col("is_warmup").fill_null(lit(false)),
            Condition::CallFailed => col("error_kind").is_not_null(),
            Condition::Never => lit(false),
        }
    }

    /// The same condition in SQL of `dialect` (never null).
    pub fn to_sql(self, dialect: Dialect) -> String {
        let q = |name: &str| dialect.ident(name);
        match self {
            Condition::RunFailed => {
                let signs: Vec<String> = FAILURE_SIGNS
                    .iter()
                    .map(|sign| match sign {
                        FailureSign::NonZero(c) => format!("COALESCE({} <> 0, FALSE)", q(c)),
                        FailureSign::Present(c) => format!("{} IS NOT NULL", q(c)),
                        FailureSign::True(c) => format!("COALESCE({}, FALSE)", q(c)),
                    })
                    .collect();
                format!("({})", signs.join(" OR "))
            }
            Condition::Warmup => format!("COALESCE({}, FALSE)", q("is_warmup")),
            Condition::CallFailed => format!("({} IS NOT NULL)", q("error_kind")),
            Condition::Never => "FALSE".to_string(),
        }
    }
}

/// One metric.
#[derive(Debug, PartialEq)]
pub struct Metric {
    /// Name, as written on the command line and in outputs.
    pub name: &'static str,
    /// One line for a reader.
    pub description: &'static str,
    /// The table observing it.
    pub table: Table,
    /// One value from one row.
    pub value: Value,
    /// Unit of the values.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// Which observations are left out.
    pub exclusion: Exclusion,
    /// How observations add up per run and phase.
    pub aggregation: Aggregation,
    /// Whether it has per-phase rows (from the table's `phase` column).
    pub phased: bool,
    /// Whether a value can never be negative (a confidence interval then stays at or above 0).
    pub non_negative: bool,
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

/// A metric of `table` with the common defaults: lower is better, never negative.
const fn metric(
    name: &'static str,
    description: &'static str,
    table: Table,
    value: Value,
    unit: Unit,
) -> Metric {
    let (exclusion, aggregation, phased) = match table {
        Table::Runs => (Exclusion::OwnRun, Aggregation::PerRow, false),
        Table::Phases => (Exclusion::ItsRun, Aggregation::TotalPerRun, true),
        Table::Artifacts => (Exclusion::ItsRun, Aggregation::TotalPerRun, false),
        Table::LlmCalls => (Exclusion::CallError, Aggregation::PerRow, true),
        _ => (Exclusion::Nothing, Aggregation::PerRow, false),
    };
    Metric {
        name,
        description,
        table,
        value,
        unit,
        direction: Direction::LowerIsBetter,
        exclusion,
        aggregation,
        phased,
        non_negative: true,
    }
}

/// A metric observed as one run's rows summed (per phase with `--phase`).
const fn run_sum(mut m: Metric) -> Metric {
    m.exclusion = Exclusion::ItsRun;
    m.aggregation = Aggregation::RunSum;
    m
}

/// A metric where more is better.
const fn higher_is_better(mut m: Metric) -> Metric {
    m.direction = Direction::HigherIsBetter;
    m
}

/// Every metric, in output order.
pub static CATALOGUE: [Metric; 17] = [
    metric(
        "wall_time",
        "a run's wall-clock time",
        Table::Runs,
        Value::Column("wall_ms"),
        Unit::Ms,
    ),
    metric(
        "cpu_time",
        "a run's CPU time, user + system",
        Table::Runs,
        Value::Sum("user_ms", "sys_ms"),
        Unit::Ms,
    ),
    metric(
        "peak_memory",
        "a run's peak resident memory (max_rss_bytes)",
        Table::Runs,
        Value::Column("max_rss_bytes"),
        Unit::Bytes,
    ),
    metric(
        "phase_time",
        "a phase's duration; (total): a run's phases summed",
        Table::Phases,
        Value::Column("duration_ms"),
        Unit::Ms,
    ),
    metric(
        "phase_input_tokens",
        "input tokens printed or captured in a phase; (total): per run",
        Table::Phases,
        Value::Column("input_tokens"),
        Unit::Tokens,
    ),
    metric(
        "phase_output_tokens",
        "output tokens printed or captured in a phase; (total): per run",
        Table::Phases,
        Value::Column("output_tokens"),
        Unit::Tokens,
    ),
    metric(
        "ttft",
        "an LLM call's time to the first content-bearing chunk",
        Table::LlmCalls,
        Value::Column("ttft_ms"),
        Unit::Ms,
    ),
    higher_is_better(metric(
        "output_tokens_per_s",
        "an LLM call's output tokens per second",
        Table::LlmCalls,
        Value::Column("output_tokens_per_s"),
        Unit::TokensPerS,
    )),
    metric(
        "input_tokens",
        "an LLM call's uncached input tokens",
        Table::LlmCalls,
        Value::Column("input_tokens"),
        Unit::Tokens,
    ),
    metric(
        "output_tokens",
        "an LLM call's output tokens (reasoning included)",
        Table::LlmCalls,
        Value::Column("output_tokens"),
        Unit::Tokens,
    ),
    metric(
        "cost",
        "an LLM call's tokens at the price table's rates (none for an unknown model)",
        Table::LlmCalls,
        Value::CallCost,
        Unit::Usd,
    ),
    metric(
        "cache_read_tokens",
        "an LLM call's input tokens read from the provider's cache",
        Table::LlmCalls,
        Value::Column("cache_read_input_tokens"),
        Unit::Tokens,
    ),
    metric(
        "cache_write_tokens",
        "an LLM call's input tokens written to the provider's cache",
        Table::LlmCalls,
        Value::Column("cache_creation_input_tokens"),
        Unit::Tokens,
    ),
    run_sum(metric(
        "run_cost",
        "a recorded run's LLM calls' cost summed (unknown when one is unpriced)",
        Table::LlmCalls,
        Value::CallCostInRun,
        Unit::Usd,
    )),
    run_sum(metric(
        "run_llm_calls",
        "a recorded run's LLM calls counted",
        Table::LlmCalls,
        Value::One,
        Unit::Calls,
    )),
    higher_is_better(metric(
        "outputs",
        "files a run produced of those expected or announced",
        Table::Artifacts,
        Value::ProducedOutput,
        Unit::Files,
    )),
    higher_is_better(metric(
        "tool_calls",
        "tool calls a session made",
        Table::Sessions,
        Value::Column("tool_calls"),
        Unit::Calls,
    )),
];

/// The metric called `name`.
pub fn find(name: &str) -> Option<&'static Metric> {
    CATALOGUE.iter().find(|m| m.name == name)
}

/// The metric called `name`, or an error listing the valid names.
pub fn lookup(name: &str) -> Result<&'static Metric, String> {
    find(name).ok_or_else(|| format!("unknown metric {name:?}; metrics: {}", names().join(", ")))
}

/// Every metric's name, in catalogue order.
pub fn names() -> Vec<&'static str> {
    CATALOGUE.iter().map(|m| m.name).collect()
}

/// The position of `metric` in the catalogue (its output order).
pub fn position(metric: &Metric) -> usize {
    CATALOGUE
        .iter()
        .position(|m| std::ptr::eq(m, metric))
        .unwrap_or(usize::MAX)
}

/// A run failed: a known non-zero exit code, a signal, a timeout or an interruption. A run
/// whose exit code is unknown (a time report that does not print one) has not failed for
/// that reason. The recorder's [`runlens_ingest::schema::RunRow::failed`] is the same rule
/// over one row; a test below holds them equal.
pub fn run_failed() -> Expr {
    Condition::RunFailed.to_polars()
}

#[cfg(test)]
mod tests;
