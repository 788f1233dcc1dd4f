#!/usr/bin/env python3
"""Writes a seeded corpus of Claude Code project transcripts, at any size.

    python3 sample-data/generate_claude_code.py --out /tmp/claude --size-mb 1024 --seed 42

Layout as Claude Code writes it: OUT/projects/<project>/<session-uuid>.jsonl. Each session
is a conversation of user prompts, assistant responses and tool results, in the record
shapes of sample-data/sessions/claude-code: a response is written as one line per content
block (text, then tool_use) with the same message id and request id, and the last line's
usage is the response's usage (earlier lines repeat it with output_tokens still growing);
tool results carry realistic payloads (file contents, command output, 0.2-20 KB); a few
responses come from sidechains (sub-agents), a few tool results are errors, a few lines are
`summary` and `file-history-snapshot` records. Session sizes follow a long tail (most
50-500 KB, some 5-30 MB). Timestamps spread over 14 days from 2026-11-01 UTC. Message and
request ids are unique across the corpus, so per-file and global de-duplication agree.
The same seed gives the same bytes. Only the standard library is used.
"""

import argparse
import datetime
import json
import os
import random
import uuid

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]
TOOLS = ["Read", "Bash", "Edit", "Grep", "Glob", "Write", "TodoWrite", "WebFetch"]
PROJECTS = ["-home-dev-api-gateway", "-home-dev-agent-bench", "-home-dev-webapp", "-srv-ml-pipeline"]
START = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
WORDS = ("the parser returns tokens for each line and the test expects an empty list when input "
         "is empty so we handle that case before indexing into the result").split()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def text(rng, n_words):
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def session(rng, out, project, target_bytes, counter):
    sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    t = START + datetime.timedelta(seconds=rng.randrange(14 * 86400))
    base = {"userType": "external", "cwd": "/home/dev/" + project.split("-")[-1],
            "sessionId": sid, "version": "2.0.14", "gitBranch": "main"}
    path = os.path.join(out, "projects", project, sid + ".jsonl")
    written = 0
    parent = None
    with open(path, "w") as f:
        def put(record):
            nonlocal written
            line = json.dumps(record, separators=(",", ":")) + "\n"
            f.write(line)
            written += len(line)

        def rec(kind, message, **extra):
            nonlocal parent, t
            t += datetime.timedelta(milliseconds=rng.randrange(200, 8000))
            u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            r = {"parentUuid": parent, "isSidechain": False, **base, "type": kind,
                 "message": message, "uuid": u, "timestamp": iso(t)}
            r.update(extra)
            parent = u
            return r

        put({"type": "summary", "summary": text(rng, 6), "leafUuid": str(uuid.UUID(int=rng.getrandbits(128)))})
        put(rec("user", {"role": "user", "content": text(rng, rng.randrange(8, 60))}))
        cache_read = 0
        while written < target_bytes:
            counter[0] += 1
            n = counter[0]
            model = rng.choice(MODELS)
            side = rng.random() < 0.08
            usage = {"input_tokens": rng.randrange(1, 400), "cache_creation_input_tokens": rng.randrange(0, 3000),
                     "cache_read_input_tokens": cache_read, "output_tokens": rng.randrange(20, 1500),
                     "service_tier": "standard"}
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": usage["cache_creation_input_tokens"],
                                       "ephemeral_1h_input_tokens": 0}
            # The cached prefix grows with the conversation until the context is compacted.
            cache_read += rng.randrange(500, 4000)
            if cache_read > 180_000:
                cache_read = rng.randrange(10_000, 30_000)
            mid, req = f"msg_{n:016x}", f"req_{n:016x}"
            blocks = [{"type": "text", "text": text(rng, rng.randrange(5, 80))}]
            tool = None
            if rng.random() < 0.75:
                tool = {"type": "tool_use", "id": f"toolu_{n:016x}", "name": rng.choice(TOOLS),
                        "input": {"path": f"src/module_{rng.randrange(50)}.py", "note": text(rng, 5)}}
                blocks.append(tool)
            for i, block in enumerate(blocks):
                last = i == len(blocks) - 1
                u = dict(usage, output_tokens=usage["output_tokens"] if last else 1)
                msg = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [block],
                       "stop_reason": ("tool_use" if tool else "end_turn") if last else None,
                       "stop_sequence": None, "usage": u}
                r = rec("assistant", msg, requestId=req)
                r["isSidechain"] = side
                put(r)
            if rng.random() < 0.05:
                put({"type": "file-history-snapshot", "messageId": parent, "snapshot": {"trackedFileBackups": {}},
                     "isSnapshotUpdate": False})
            if tool:
                payload = text(rng, rng.randrange(30, 3000))
                result = {"tool_use_id": tool["id"], "type": "tool_result", "content": payload}
                if rng.random() < 0.04:
                    result["is_error"] = True
                put(rec("user", {"role": "user", "content": [result]}))
            elif rng.random() < 0.5:
                put(rec("user", {"role": "user", "content": text(rng, rng.randrange(5, 40))}))
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-mb", type=float, default=64)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--first-response", type=int, default=0,
                    help="number the responses (message, request and tool ids) from here: a later "
                         "day's transcripts, new to a dataset that holds a corpus numbered from 0")
    ap.add_argument("--one-session", action="store_true",
                    help="write a single session of --size-mb (the 100 MB transcript case)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for p in PROJECTS:
        os.makedirs(os.path.join(args.out, "projects", p), exist_ok=True)
    total, target, counter, files = 0, int(args.size_mb * 1024 * 1024), [args.first_response], 0
    if args.one_session:
        total = session(rng, args.out, PROJECTS[0], target, counter)
        files = 1
    while total < target:
        size = rng.randrange(5_000_000, 30_000_000) if rng.random() < 0.03 else rng.randrange(50_000, 500_000)
        total += session(rng, args.out, rng.choice(PROJECTS), min(size, target - total + 1000), counter)
        files += 1
    print(f"{files} sessions, {counter[0] - args.first_response} responses, {total / 1048576:.1f} MiB in {args.out}")


if __name__ == "__main__":
    main()
