"""Many writers, one dataset, no lock: runlens's commit protocol under concurrency, SIGKILL
and compaction, on an S3-protocol server (tests/s3/moto_server.py, started by .ci/run)
and on a local directory. Every figure is checked against counts made here, without
runlens: the generated files' own row counts.

Usage:
  python3 check_concurrency.py RUNLENS local
  python3 check_concurrency.py RUNLENS s3 ENDPOINT BUCKET [AUTH_ENDPOINT]
  python3 check_concurrency.py RUNLENS az CONTAINER     (Azurite's blob service on its
                                                        default port, AZURE_STORAGE_USE_EMULATOR)

AUTH_ENDPOINT is a second server with authentication on, for the wrong-credentials check.

What it checks (issue 15's "done when"):
  1. 8 `runlens ingest` processes at once over overlapping inputs (every file offered by
     four of them): every input stored exactly once; row counts equal a single writer's.
  2. writers killed with SIGKILL at random moments, 24 times, while a reader counts in a
     loop: the reader only ever sees whole commits (rows of llm_calls equal the rows the
     ingest_log of the same snapshot says were stored, no call twice); a re-run completes
     with nothing lost and nothing doubled.
  3. `runlens record --runs 5` from 4 processes at once: 20 runs.
  4. `compact` while 4 writers ingest, a reader counting in a loop: only counts of
     committed states; the final count equals the sum of everything committed; `vacuum`
     then leaves the same figures.
  5. (s3) pyarrow reads the committed files from the server, as docs/dataset-format.md
     says, and agrees with `runlens query`.
  6. A fake secret key in the environment appears in no stored byte, output or error.
  7. No lock file anywhere.
"""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = sys.argv[1]
MODE = sys.argv[2]
SECRET = "runlens-FAKE-secret-" + "".join(random.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(24))
OUTPUTS: list[str] = []  # every stdout and stderr runlens printed, searched for the secret
failures: list[str] = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else f": {detail}"), flush=True)
    if not ok:
        failures.append(what)


def env():
    e = dict(os.environ)
    if LOCAL_ROOT:
        # Object-storage writers stage their files in a temporary folder; a SIGKILLed one
        # cannot remove it: keep those inside the work folder, removed with it.
        e["TMPDIR"] = str(Path(LOCAL_ROOT) / "tmp")
    if MODE == "s3":
        e.update(
            AWS_ENDPOINT_URL=sys.argv[3],
            AWS_ACCESS_KEY_ID="runlens-test-key",
            AWS_SECRET_ACCESS_KEY=SECRET,
            AWS_REGION="us-east-1",
        )
    else:
        # The secret is in the environment here too: nothing may copy it anywhere.
        e["AWS_SECRET_ACCESS_KEY"] = SECRET
        if MODE == "az":
            e["AZURE_STORAGE_USE_EMULATOR"] = "true"
    return e


def runlens(data, *args, check_rc=True):
    p = subprocess.run([BIN, "--data", data, *args], capture_output=True, text=True, env=env())
    OUTPUTS.extend([p.stdout, p.stderr])
    if check_rc and p.returncode not in (0, 1):
        raise SystemExit(f"runlens {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def query(data, sql):
    p = runlens(data, "query", "--format", "json", sql)
    text = p.stdout.strip()
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def consistent_counts(data):
    """(calls, logged, distinct calls) from one snapshot (one runlens command)."""
    rows = query(
        data,
        "select a.calls, a.distinct_calls, b.logged from "
        "(select count(*) as calls, count(distinct call_id) as distinct_calls from llm_calls) a "
        "cross join (select coalesce(sum(rows), 0) as logged from ingest_log "
        "where status in ('ingested', 'partial') and format = 'latency_csv') b",
    )
    r = rows[0]
    return r["calls"], r["logged"], r["distinct_calls"]


def make_inputs(folder: Path, count: int, start: int, base_rows: int = 40):
    """Latency CSVs, file i with base_rows + i rows (so every file's share is known)."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for i in range(start, start + count):
        rows = base_rows + i
        lines = ["timestamp,provider,model,first_token_ms,tokens_per_s,total_ms,output_tokens"]
        for r in range(rows):
            minute = (i * 7 + r) % 60
            lines.append(
                f"2026-11-{1 + i % 28:02d}T10:{minute:02d}:{r % 60:02d}Z,ollama,model-{i % 5},"
                f"{100 + r * 1.5 + i},{50 + (r % 9)},{1000 + r},{100 + r}"
            )
        path = folder / f"lat-{i:04d}.csv"
        path.write_text("\n".join(lines) + "\n")
        sizes[path] = rows
    return sizes


LOCAL_ROOT = None


def new_location(name):
    if MODE == "s3":
        return f"s3://{sys.argv[4]}/{name}-{int(time.time() * 1000)}"
    if MODE == "az":
        return f"az://{sys.argv[3]}/{name}-{int(time.time() * 1000)}"
    # Under the run's temporary directory, removed with it when the check ends.
    return str(Path(tempfile.mkdtemp(prefix="runlens-conc-", dir=LOCAL_ROOT)) / name)


def concurrent_ingest(work: Path):
    inputs = make_inputs(work / "in-a", 32, 0)
    files = sorted(inputs)
    expected = sum(inputs.values())
    reference = new_location("reference")
    runlens(reference, "ingest", str(work / "in-a"))
    ref_calls, _, _ = consistent_counts(reference)
    check(ref_calls == expected, f"single writer stores {expected} calls (got {ref_calls})")

    data = new_location("eight")
    procs = []
    for w in range(8):
        # Writer w is offered files f with f % 4 in {w % 4, (w + 1) % 4}: each file by four.
        mine = [str(f) for k, f in enumerate(files) if k % 4 in (w % 4, (w + 1) % 4)]
        random.shuffle(mine)
        procs.append(
            subprocess.Popen([BIN, "--data", data, "ingest", *mine], env=env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    for p in procs:
        out, err = p.communicate()
        OUTPUTS.extend([out, err])
        check(p.returncode == 0, f"concurrent writer exited {p.returncode}", err.strip()[-300:])
    calls, logged, distinct = consistent_counts(data)
    check(calls == expected == distinct, f"8 writers: {calls} calls stored, {distinct} distinct, expected {expected}")
    per_hash = query(
        data,
        "select content_hash, count(*) as n from ingest_log where status = 'ingested' group by content_hash",
    )
    check(len(per_hash) == len(files) and all(r["n"] == 1 for r in per_hash),
          f"every input file stored exactly once ({len(per_hash)} hashes, max {max((r['n'] for r in per_hash), default=0)})")
    by_model = lambda d: sorted((r["model"], r["n"]) for r in query(d, "select request_model as model, count(*) as n from llm_calls group by request_model"))
    check(by_model(data) == by_model(reference), "per-model counts equal the single writer's")
    return data


class Reader(threading.Thread):
    """Counts in a loop; every observation must be a whole committed state."""

    def __init__(self, data):
        super().__init__(daemon=True)
        self.data, self.stop, self.seen, self.bad = data, False, [], []

    def run(self):
        while not self.stop:
            try:
                calls, logged, distinct = consistent_counts(self.data)
            except SystemExit as e:  # a failed query is a failure too
                self.bad.append(str(e))
                continue
            self.seen.append(calls)
            if calls != logged or calls != distinct:
                self.bad.append(f"calls {calls}, logged {logged}, distinct {distinct}")


def kill_test(work: Path):
    # Large enough that a writer takes a while: the kills land while it works.
    inputs = make_inputs(work / "in-b", 24, 100, base_rows=1500)
    files = sorted(inputs)
    expected = sum(inputs.values())
    started = time.monotonic()
    runlens(new_location("timing"), "ingest", *map(str, files))
    duration = time.monotonic() - started
    print(f"     one writer takes {duration:.2f} s; kills land within that", flush=True)
    kills, reads, torn = 0, 0, []
    for round_ in range(24):
        # A fresh dataset, two writers over overlapping two thirds, one killed at a random
        # moment, a reader counting all along; then a re-run must complete the dataset.
        data = new_location("killed")
        reader = Reader(data)
        reader.start()
        a = [str(f) for k, f in enumerate(files) if k % 3 != round_ % 3]
        b = [str(f) for k, f in enumerate(files) if k % 3 != (round_ + 1) % 3]
        pa = subprocess.Popen([BIN, "--data", data, "ingest", *a], env=env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        pb = subprocess.Popen([BIN, "--data", data, "ingest", *b], env=env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(random.uniform(0.05, duration * 0.9))
        victim = pa if round_ % 2 == 0 else pb
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            kills += 1
        for p in (pa, pb):
            _, err = p.communicate()
            OUTPUTS.append(err.decode(errors="replace"))
        reader.stop = True
        reader.join()
        reads += len(reader.seen)
        torn.extend(reader.bad)
        runlens(data, "ingest", *map(str, files))
        calls, logged, distinct = consistent_counts(data)
        if not calls == expected == distinct == logged:
            check(False, f"round {round_}: after the kill a re-run stores {calls} calls ({distinct} distinct, {logged} logged), expected {expected}")
    check(not torn, f"readers saw only whole commits ({reads} reads during the kills)", str(torn[:3]))
    check(kills >= 20, f"{kills} writers killed with SIGKILL mid-ingest (at least 20); every re-run completed with {expected} calls, none twice")


def record_test():
    data = new_location("record")
    procs = [
        subprocess.Popen([BIN, "--data", data, "record", "--runs", "5", "--", "true"], env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for p in procs:
        out, err = p.communicate()
        OUTPUTS.extend([out, err])
        check(p.returncode == 0, f"record exited {p.returncode}", err.strip()[-300:])
    runs = query(data, "select count(*) as n, count(distinct run_id) as d from runs where not is_warmup")[0]
    check(runs["n"] == 20 == runs["d"], f"4 x record --runs 5: {runs['n']} runs ({runs['d']} distinct)")


def compact_test(work: Path):
    data = new_location("compact")
    batches = [make_inputs(work / f"in-c{w}", 12, 200 + 12 * w) for w in range(4)]
    expected = sum(sum(b.values()) for b in batches)
    reader = Reader(data)
    reader.start()
    writers = []
    for w, batch in enumerate(batches):
        # Each writer ingests its files a few at a time: many small commits to compact.
        files = sorted(map(str, batch))
        script = " && ".join(
            f"{BIN} --data {data} ingest {' '.join(files[k:k + 2])} > /dev/null" for k in range(0, len(files), 2)
        )
        writers.append(subprocess.Popen(["sh", "-c", script], env=env(), stderr=subprocess.PIPE, text=True))
    compactions = 0
    while any(p.poll() is None for p in writers):
        p = runlens(data, "compact", "--target-size", "64MB", check_rc=False)
        check(p.returncode == 0, f"compact during writes exited {p.returncode}", p.stderr.strip()[-300:])
        compactions += 1
    for p in writers:
        _, err = p.communicate()
        OUTPUTS.append(err)
        check(p.returncode == 0, f"writer during compaction exited {p.returncode}", err.strip()[-300:])
    runlens(data, "compact")
    reader.stop = True
    reader.join()
    check(not reader.bad, f"reader during compaction saw only committed states ({len(reader.seen)} reads): {reader.bad[:3]}")
    calls, logged, distinct = consistent_counts(data)
    check(calls == expected == logged == distinct, f"after {compactions + 1} compactions: {calls} calls, expected {expected}")
    p = runlens(data, "vacuum", "--older-than", "0s")
    check("deleted" in p.stdout, f"vacuum: {p.stdout.strip()}")
    calls2, _, _ = consistent_counts(data)
    check(calls2 == expected, f"after vacuum: {calls2} calls, expected {expected}")
    files = query(data, "select count(*) as n from llm_calls")  # still readable
    check(files[0]["n"] == expected, "llm_calls readable after vacuum")
    return data


def committed_files(read_json, list_keys, prefix):
    """The committed data files, replayed from the commit log (docs/dataset-format.md)."""
    live = {}
    for key in sorted(k for k in list_keys(prefix + "_runlens/commits/") if k.endswith(".json")):
        record = read_json(key)
        for path in record.get("remove", []):
            live.pop(path, None)
        for added in record.get("add", []):
            live[added["path"]] = added["table"]
    return live


def pyarrow_test(data):
    import boto3
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs

    bucket, _, prefix = data[len("s3://"):].partition("/")
    s3 = boto3.client("s3", endpoint_url=sys.argv[3], aws_access_key_id="runlens-test-key",
                      aws_secret_access_key=SECRET, region_name="us-east-1")

    def list_keys(p):
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=p):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return keys

    def read_json(key):
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    live = committed_files(read_json, list_keys, prefix + "/")
    fs = pafs.S3FileSystem(endpoint_override=sys.argv[3], scheme="http", access_key="runlens-test-key",
                           secret_key=SECRET, region="us-east-1")
    for table in ("llm_calls", "ingest_log"):
        # As docs/dataset-format.md reads them: the replayed files, hive partitioning on.
        paths = [f"{bucket}/{prefix}/{k}" for k, t in live.items() if t == table]
        ds = pads.dataset(paths, filesystem=fs, format="parquet",
                          partitioning=pads.HivePartitioning.discover(),
                          partition_base_dir=f"{bucket}/{prefix}/{table}")
        check("date" in ds.schema.names, f"pyarrow sees the date partition of {table}")
        rows = ds.count_rows()
        theirs = query(data, f"select count(*) as n from {table}")[0]["n"]
        check(rows == theirs, f"pyarrow over S3 reads {rows} {table} rows, runlens query {theirs}")
    stored = list_keys(prefix + "/")
    leaked = [k for k in stored if SECRET.encode() in s3.get_object(Bucket=bucket, Key=k)["Body"].read()]
    check(not leaked and stored, f"the secret is in none of the {len(stored)} stored objects {leaked[:3]}")


def duckdb_doc_statement_check(root: Path):
    """The DuckDB statement of docs/dataset-format.md, run as written on a local dataset."""
    import duckdb

    doc = (Path(__file__).resolve().parents[2] / "docs" / "dataset-format.md").read_text()
    block = doc.split("**DuckDB**", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    sql = block.replace("'runlens-data'", f"'{root}'")
    con = duckdb.connect()
    result = None
    for statement in sql.split(";"):
        if statement.strip():
            result = con.execute(statement).fetchall()
    theirs = query(str(root), "select count(*) as n from llm_calls")[0]["n"]
    check(result == [(theirs,)], f"the DuckDB statement of docs/dataset-format.md counts {result}, runlens {theirs}")


def azure_secret_check():
    from azure.storage.blob import BlobServiceClient

    # Azurite's well-known development account (not a secret).
    svc = BlobServiceClient.from_connection_string(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")
    container = svc.get_container_client(sys.argv[3])
    names = [b.name for b in container.list_blobs()]
    leaked = [n for n in names if SECRET.encode() in container.download_blob(n).readall()]
    check(not leaked and names, f"the secret is in none of the {len(names)} stored blobs {leaked[:3]}")


def local_secret_and_lock_check(root: Path):
    leaked, locks, count = [], [], 0
    for path in root.rglob("*"):
        if path.is_file():
            count += 1
            if SECRET.encode() in path.read_bytes():
                leaked.append(str(path))
            if path.name == ".lock":
                locks.append(str(path))
    check(not leaked and count > 0, f"the secret is in none of the {count} stored files {leaked[:3]}")
    check(not locks, f"no lock file {locks[:3]}")


def bad_input_tests():
    def line(args, extra_env=None):
        e = env()
        e.update(extra_env or {})
        p = subprocess.run([BIN, *args], capture_output=True, text=True, env=e, timeout=300)
        OUTPUTS.extend([p.stdout, p.stderr])
        return p.returncode, p.stderr.strip()

    rc, err = line(["--data", "ftp://host/ds", "query", "select 1"])
    check(rc == 2 and "ftp://" in err, f"unknown scheme: exit {rc}: {err.splitlines()[0] if err else ''}")
    if MODE != "s3":
        return
    rc, err = line(["--data", "s3://no-such-bucket-runlens/ds", "ingest", "sample-data/time"])
    check(rc == 3 and len(err.splitlines()) == 1 and "s3://no-such-bucket-runlens/ds" in err and "NoSuchBucket" in err,
          f"missing bucket: exit {rc}: {err}")
    rc, err = line(["--data", f"s3://{sys.argv[4]}/unreachable", "query", "select count(*) from runs"],
                   {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    check(rc == 3 and len(err.splitlines()) == 1 and f"s3://{sys.argv[4]}/unreachable" in err,
          f"unreachable endpoint: exit {rc}: {err}")
    if len(sys.argv) > 5:
        import boto3

        # A server that checks credentials: a key it does not know is refused.
        boto3.client("s3", endpoint_url=sys.argv[5], region_name="us-east-1",
                     aws_access_key_id="x", aws_secret_access_key="y").create_bucket(Bucket="runlens-auth")
        rc, err = line(["--data", "s3://runlens-auth/ds", "ingest", "sample-data/time"],
                       {"AWS_ENDPOINT_URL": sys.argv[5], "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNRUNLENS00"})
        check(rc == 3 and len(err.splitlines()) == 1 and "s3://runlens-auth/ds" in err and "InvalidAccessKeyId" in err,
              f"wrong credentials: exit {rc}: {err}")


def main():
    random.seed(15)
    if MODE == "s3":
        import boto3

        s3 = boto3.client("s3", endpoint_url=sys.argv[3], region_name="us-east-1",
                          aws_access_key_id="runlens-test-key", aws_secret_access_key=SECRET)
        if sys.argv[4] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            s3.create_bucket(Bucket=sys.argv[4])
    global LOCAL_ROOT
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        LOCAL_ROOT = tmp
        (work / "tmp").mkdir()
        data = concurrent_ingest(work)
        kill_test(work)
        record_test()
        compacted = compact_test(work)
        bad_input_tests()
        if MODE == "s3":
            pyarrow_test(data)
            pyarrow_test(compacted)
        elif MODE == "az":
            azure_secret_check()
        else:
            for location in (data, compacted):
                local_secret_and_lock_check(Path(location))
                duckdb_doc_statement_check(Path(location))
    leaked = [o for o in OUTPUTS if SECRET in o]
    check(not leaked, f"the secret is in none of the {len(OUTPUTS)} outputs and errors")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print(f"all concurrency checks passed ({MODE})")


if __name__ == "__main__":
    main()
