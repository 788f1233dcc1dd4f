"""Checks `runlens analyze --by provider,model --format json` figures against DuckDB's on the
same Parquet files (docs/benchmarks.md): count, mean, stddev, min, max, p50/p95/p99 of four
call metrics per provider and model, relative difference at most 1e-9. Exit 1 on any
difference.

    python3 benches/analyze_check_duckdb.py OUT.json DATA_DIR
"""
import json, sys, duckdb
out, data = sys.argv[1], sys.argv[2]
rows = json.load(open(out))["rows"]
metrics = {"ttft": "ttft_ms", "output_tokens_per_s": "output_tokens_per_s", "input_tokens": "input_tokens", "output_tokens": "output_tokens"}
con = duckdb.connect()
ref = {}
# One metric per query: all four at once ran DuckDB out of memory at 100 M calls.
for m, c in metrics.items():
    sel = f"count({c}), avg({c}), stddev_samp({c}), min({c}), max({c}), quantile_cont({c}, 0.5), quantile_cont({c}, 0.95), quantile_cont({c}, 0.99)"
    res = con.execute(f"SELECT provider, coalesce(response_model, request_model), {sel} FROM read_parquet('{data}/llm_calls/**/*.parquet', hive_partitioning = true) WHERE error_kind IS NULL GROUP BY ALL").fetchall()
    for r in res:
        ref[(r[0], r[1], m)] = r[2:10]
checked = 0
bad = 0
for row in rows:
    key = (row["provider"], row["model"], row["metric"])
    if key not in ref or row["phase"] != "(total)":
        continue
    n, mean, sd, lo, hi, p50, p95, p99 = ref[key]
    mine = (row["n"], row["mean"], row["stddev"], row["min"], row["max"], row["p50"], row["p95"], row["p99"])
    theirs = (n, mean, sd, lo, hi, p50, p95, p99)
    for a, b, name in zip(mine, theirs, ["n", "mean", "sd", "min", "max", "p50", "p95", "p99"]):
        if abs(a - b) > 1e-9 * max(1.0, abs(b)):
            bad += 1
            print("DIFF", key, name, a, b)
    checked += 1
print(f"{checked} group/metric rows checked against DuckDB, {bad} differences")
sys.exit(1 if bad or not checked else 0)
