//! Tests of [`super`]: the catalogue checked against values computed independently.
use super::*;

#[test]
fn every_metric_states_its_direction() {
    // The direction each metric must have, written independently of the catalogue.
    let expected = [
        ("wall_time", Direction::LowerIsBetter),
        ("cpu_time", Direction::LowerIsBetter),
        ("peak_memory", Direction::LowerIsBetter),
        ("phase_time", Direction::LowerIsBetter),
        ("phase_input_tokens", Direction::LowerIsBetter),
        ("phase_output_tokens", Direction::LowerIsBetter),
        ("ttft", Direction::LowerIsBetter),
        ("output_tokens_per_s", Direction::HigherIsBetter),
        ("input_tokens", Direction::LowerIsBetter),
        ("output_tokens", Direction::LowerIsBetter),
        ("cost", Direction::LowerIsBetter),
        ("cache_read_tokens", Direction::LowerIsBetter),
        ("cache_write_tokens", Direction::LowerIsBetter),
        ("run_cost", Direction::LowerIsBetter),
        ("run_llm_calls", Direction::LowerIsBetter),
        ("outputs", Direction::HigherIsBetter),
        ("tool_calls", Direction::HigherIsBetter),
    ];
    assert_eq!(
        expected.len(),
        CATALOGUE.len(),
        "a metric without a stated direction"
    );
    for (name, direction) in expected {
        assert_eq!(lookup(name).map(|m| m.direction), Ok(direction), "{name}");
    }
}

#[test]
fn units_are_the_metrics_own() {
    assert_eq!(lookup("cost").map(|m| m.unit), Ok(Unit::Usd));
    assert_eq!(lookup("run_cost").map(|m| m.unit), Ok(Unit::Usd));
    assert_eq!(lookup("peak_memory").map(|m| m.unit), Ok(Unit::Bytes));
    for m in &CATALOGUE {
        assert_eq!(Unit::from_symbol(m.unit.symbol()), Some(m.unit));
    }
    assert!(lookup("wal_time").is_err_and(|e| e.contains("wall_time")));
}

#[test]
fn amounts_convert_or_are_refused() {
    assert_eq!(Unit::Ms.parse_amount("1.5 s"), Ok(1500.0));
    assert_eq!(Unit::Ms.parse_amount("2 min"), Ok(120_000.0));
    assert_eq!(Unit::Bytes.parse_amount("512 MiB"), Ok(536_870_912.0));
    assert_eq!(Unit::Usd.parse_amount("$0.25"), Ok(0.25));
    assert_eq!(Unit::Usd.parse_amount("0.25 usd"), Ok(0.25));
    assert_eq!(Unit::Calls.parse_amount("3"), Ok(3.0));
    assert_eq!(Unit::Tokens.parse_amount("30_000"), Ok(30_000.0));
    assert!(Unit::Ms.parse_amount("3 GiB").is_err());
    assert!(Unit::Usd.parse_amount("3 tokens").is_err());
}

#[test]
fn run_failed_is_the_recorders_rule() {
    use runlens_ingest::schema::RunRow;
    let mut runs = Vec::new();
    for exit_code in [None, Some(0), Some(1)] {
        for signal in [None, Some(9)] {
            for (timed_out, interrupted) in [(false, false), (true, false), (false, true)] {
                runs.push(RunRow {
                    exit_code,
                    signal,
                    timed_out,
                    interrupted,
                    ..RunRow::default()
                });
            }
        }
    }
    let frame = df!(
        "exit_code" => runs.iter().map(|r| r.exit_code).collect::<Vec<_>>(),
        "signal" => runs.iter().map(|r| r.signal).collect::<Vec<_>>(),
        "timed_out" => runs.iter().map(|r| r.timed_out).collect::<Vec<_>>(),
        "interrupted" => runs.iter().map(|r| r.interrupted).collect::<Vec<_>>()
    )
    .expect("frame");
    let failed = frame
        .lazy()
        .select([run_failed().alias("f")])
        .collect()
        .expect("collect");
    let from_polars: Vec<Option<bool>> = failed
        .column("f")
        .expect("f")
        .bool()
        .expect("bool")
        .iter()
        .collect();
    let from_rows: Vec<Option<bool>> = runs.iter().map(|r| Some(r.failed())).collect();
    assert_eq!(from_polars, from_rows);
    // An unknown exit code alone is not a failure.
    assert!(!runs[0].failed());
}

/// Both generated forms of every value agree on the same rows (polars' own SQL engine
/// evaluates the SQL form).
#[test]
fn sql_and_polars_forms_agree() {
    use cost_columns::{COST, UNPRICED};
    let frame = df!(
        "wall_ms" => [Some(1.5f64), None, Some(3.0)],
        "user_ms" => [Some(1.0f64), Some(2.0), None],
        "sys_ms" => [Some(0.5f64), Some(0.25), Some(1.0)],
        "exists" => [true, true, false],
        "produced_by_run" => [Some(true), None, Some(true)],
        COST => [Some(0.5f64), None, None],
        UNPRICED => [false, false, true]
    )
    .expect("frame");
    let values = [
        Value::Column("wall_ms"),
        Value::Sum("user_ms", "sys_ms"),
        Value::One,
        Value::ProducedOutput,
        Value::CallCost,
        Value::CallCostInRun,
    ];
    let mut ctx = polars::sql::SQLContext::new();
    ctx.register("t", frame.clone().lazy());
    for value in values {
        let from_polars = frame
            .clone()
            .lazy()
            .with_column(value.to_polars().alias("v"))
            .select([col("v")])
            .collect()
            .expect("polars");
        let sql = format!(
            "SELECT {} AS v FROM t",
            value.to_sql(crate::dialect::Dialect::DuckDb)
        );
        let from_sql = ctx.execute(&sql).and_then(|lf| lf.collect()).expect("sql");
        assert_eq!(from_polars, from_sql, "{value:?}: {sql}");
    }
}

/// Each row condition in SQL selects the rows its polars expression selects, nulls included.
#[test]
fn conditions_in_sql_agree_with_polars() {
    let frame = df!(
        "exit_code" => [None, Some(0i32), Some(1), None, Some(0), None],
        "signal" => [None, None, None, Some(9i32), None, None],
        "timed_out" => [None, Some(false), None, None, Some(true), None],
        "interrupted" => [Some(false), None, None, None, None, Some(true)],
        "is_warmup" => [None, Some(true), Some(false), None, None, None],
        "error_kind" => [None, Some("timeout"), None, None, None, Some("rate_limit")]
    )
    .expect("frame");
    let mut ctx = polars::sql::SQLContext::new();
    ctx.register("t", frame.clone().lazy());
    for condition in [
        Condition::RunFailed,
        Condition::Warmup,
        Condition::CallFailed,
    ] {
        let from_polars = frame
            .clone()
            .lazy()
            .select([condition.to_polars().alias("c")])
            .collect()
            .expect("polars");
        let sql = format!(
            "SELECT {} AS c FROM t",
            condition.to_sql(crate::dialect::Dialect::DuckDb)
        );
        let from_sql = ctx.execute(&sql).and_then(|lf| lf.collect()).expect("sql");
        assert_eq!(from_polars, from_sql, "{condition:?}: {sql}");
        let column = from_polars.column("c").expect("c");
        assert_eq!(column.null_count(), 0, "{condition:?} is never null");
    }
}
