#!/usr/bin/env python3
"""runlens against real agent session files in ../shared/realworld, counted here without
runlens:

- codex/*exec-json*.jsonl (`codex exec --json`): tokens from the `turn.completed` running
  totals (their growth per turn; OpenAI input includes the cached tokens), tool calls from
  completed tool items;
- otel-genai/*traces.jsonl (Python ConsoleSpanExporter dumps): chat spans (each span id
  once, its ended copy), their gen_ai.usage tokens, execute_tool spans;
- claude-result/*.json, *.ndjson (`claude -p` stream-json, also collected as one array):
  assistant messages unique by message.id, tool_use blocks, and the tokens of the final
  result's `usage` (the messages' own, when the result has none);
- codex/codexbar-fork-*.jsonl: the fork child keeps only the growth of its running total
  beyond its parent's final one; alone, it is kept whole with a warning;
- claude-code/ (project transcripts, sub-agent files beside their sessions): per session,
  sub-agents included, the responses' token buckets and tool calls, each agent's kind, and
  no session reported as an error.

    python3 tests/realworld/check_sessions.py target/debug/runlens ../shared/realworld

Exit 1 on the first difference; a missing folder is reported and skipped.
"""

import csv
import io
import json
import pathlib
import subprocess
import sys
import tempfile

TOOL_ITEMS = {"command_execution", "file_change", "mcp_tool_call", "web_search", "todo_list"}


def json_objects(path):
    """Every JSON value in a file: JSONL, one document, or pretty objects one after another."""
    text, decoder, i = path.read_text(encoding="utf-8"), json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        value, i = decoder.raw_decode(text, i)
        if isinstance(value, list):
            yield from value
        else:
            yield value


def codex_exec(path):
    previous = {"input": 0, "cached": 0, "output": 0}
    want = {"calls": 0, "input": 0, "cache_read": 0, "output": 0, "tools": 0}
    for e in json_objects(path):
        if e.get("type") == "item.completed" and e["item"].get("type") in TOOL_ITEMS:
            want["tools"] += 1
        if e.get("type") == "turn.completed":
            u = e.get("usage") or {}
            now = {"input": u.get("input_tokens", 0), "cached": u.get("cached_input_tokens", 0),
                   "output": u.get("output_tokens", 0)}
            grow = {k: now[k] - previous[k] for k in now}
            previous = now
            want["calls"] += 1
            want["input"] += grow["input"] - grow["cached"]
            want["cache_read"] += grow["cached"]
            want["output"] += grow["output"]
    return want


def otel_console(path):
    spans = {}
    for o in json_objects(path):
        sid = o["context"]["span_id"]
        if sid not in spans or o.get("end_time") is not None:
            spans[sid] = o
    op = lambda s: s["attributes"].get("gen_ai.operation.name")
    chat = [s for s in spans.values() if op(s) == "chat"]
    return {"calls": len(chat),
            "input": sum(s["attributes"].get("gen_ai.usage.input_tokens", 0) for s in chat),
            "cache_read": 0,
            "output": sum(s["attributes"].get("gen_ai.usage.output_tokens", 0) for s in chat),
            "tools": sum(1 for s in spans.values() if op(s) == "execute_tool")}


def claude_stream(path):
    """Assistant messages unique by id, tool_use blocks unique by id; the tokens are the
    result's `usage` when the stream ends with one (streamed events carry each message's
    usage as it stood when streaming began: a few output tokens), else the messages' sum."""
    messages, tools, result = {}, set(), None
    for e in json_objects(path):
        if e.get("type") == "result":
            result = e.get("usage")
        if e.get("type") != "assistant":
            continue
        m = e["message"]
        messages[m["id"]] = m.get("usage") or {}
        tools.update(b["id"] for b in m.get("content", []) if b.get("type") == "tool_use")
    totals = [result] if result else list(messages.values())
    return {"calls": len(messages),
            "input": sum(u.get("input_tokens", 0) for u in totals),
            "cache_read": sum(u.get("cache_read_input_tokens", 0) for u in totals),
            "output": sum(u.get("output_tokens", 0) for u in totals),
            "tools": len(tools)}


def claude_code_sessions(folder):
    """Per sessionId (its sub-agents' files and sidechain lines included): token buckets of
    each response once (key message.id + requestId, message.id alone on sidechain lines; the
    copy with the largest usage) and tool_use blocks unique by id; and each agent's kind as
    its file says (agentId acompact-*: compaction; first prompt "Warmup": warmup)."""
    totals, responses, tools, kinds = {}, {}, {}, {}
    for path in sorted(folder.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            sid, m = e.get("sessionId"), e.get("message") or {}
            if not sid or e.get("type") not in ("user", "assistant"):
                continue
            agent = e.get("agentId")
            if agent and (sid, agent) not in kinds:
                first = m.get("content") if isinstance(m.get("content"), str) else ""
                kinds[(sid, agent)] = ("compaction" if agent.startswith("acompact")
                                       else "warmup" if first.strip() == "Warmup" else "subagent")
            if e["type"] != "assistant" or not m.get("id"):
                continue
            side = e.get("isSidechain") or agent
            key = (sid, m["id"] if side or not e.get("requestId") else f"{m['id']}:{e['requestId']}")
            u = m.get("usage") or {}
            size = sum(u.get(k) or 0 for k in ("input_tokens", "output_tokens",
                                                 "cache_read_input_tokens", "cache_creation_input_tokens"))
            if key not in responses or size > responses[key][0]:
                responses[key] = (size, u)
            for b in m.get("content") or []:
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    tools.setdefault(sid, set()).add(b["id"])
    for (sid, _), (_, u) in responses.items():
        t = totals.setdefault(sid, {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0})
        t["input"] += u.get("input_tokens") or 0
        t["output"] += u.get("output_tokens") or 0
        t["cache_read"] += u.get("cache_read_input_tokens") or 0
        t["cache_write"] += u.get("cache_creation_input_tokens") or 0
    for sid, t in totals.items():
        t["tools"] = len(tools.get(sid, ()))
    return totals, kinds


def check_claude_code(runlens, shared):
    """A whole folder of real Claude Code files: one row per session with its sub-agents'
    tokens and tool calls, each agent of its kind, and no session an error."""
    folder = shared / "claude-code"
    if not folder.is_dir():
        return 0
    want, kinds = claude_code_sessions(folder)
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "d"
        subprocess.run([runlens, "--data", str(data), "ingest", str(folder)], capture_output=True, check=True)
        rows = query(runlens, data, "select session_id, coalesce(input_tokens, 0) as input, "
                     "coalesce(output_tokens, 0) as output, coalesce(cache_read_input_tokens, 0) as cache_read, "
                     "coalesce(cache_creation_input_tokens, 0) as cache_write, tool_calls as tools, "
                     "validation_status from sessions")
        agents = query(runlens, data, "select session_id, agent_id, agent_kind from session_agents "
                       "where agent_id is not null and agent_id <> 'sidechain'")
    got = {r.pop("session_id"): r for r in rows}
    for sid, row in got.items():
        if row.pop("validation_status") == "error":
            sys.exit(f"check_sessions: claude-code session {sid} is an error")
    got = {sid: {k: int(v) for k, v in r.items()} for sid, r in got.items()}
    if got != want:
        for sid in sorted(set(got) | set(want)):
            if got.get(sid) != want.get(sid):
                print(f"  {sid}: runlens {got.get(sid)}, counted {want.get(sid)}")
        sys.exit("check_sessions: claude-code sessions differ")
    got_kinds = {(a["session_id"], a["agent_id"]): a["agent_kind"] for a in agents}
    if got_kinds != kinds:
        sys.exit(f"check_sessions: claude-code agents: runlens {got_kinds}, files {kinds}")
    return len(want)


def final_total(path):
    """The last running total of a Codex rollout's token_count events."""
    last = None
    for e in json_objects(path):
        info = (e.get("payload") or {}).get("info") if e.get("type") == "event_msg" else None
        if info and info.get("total_token_usage"):
            last = info["total_token_usage"]
    return last


def check_codex_fork(runlens, shared):
    """The fork pair: ingested together, the child keeps only the growth of its running
    total beyond the parent's final one (its replay of the parent is left out); alone, it is
    kept whole with the fork_replay_unresolved warning."""
    parent, child = shared / "codex" / "codexbar-fork-parent.jsonl", shared / "codex" / "codexbar-fork-child.jsonl"
    if not (parent.exists() and child.exists()):
        return 0
    p, c = final_total(parent), final_total(child)
    own = lambda t, base: {"input": (t["input_tokens"] - t["cached_input_tokens"]) - (base["input_tokens"] - base["cached_input_tokens"]),
                           "cache_read": t["cached_input_tokens"] - base["cached_input_tokens"],
                           "output": t["output_tokens"] - base["output_tokens"]}
    zero = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
    want = {"child-session": own(c, p), "parent-session": own(p, zero)}
    sql = ("select session_id, sum(input_tokens) as input, sum(cache_read_input_tokens) as cache_read, "
           "sum(output_tokens) as output from llm_calls group by session_id")
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "d"
        subprocess.run([runlens, "--data", str(data), "ingest", str(child), str(parent)], capture_output=True, check=True)
        got = {r.pop("session_id"): {k: int(v) for k, v in r.items()} for r in query(runlens, data, sql)}
        alone = pathlib.Path(tmp) / "alone"
        subprocess.run([runlens, "--data", str(alone), "ingest", str(child)], capture_output=True, check=True)
        whole = query(runlens, alone, "select output_tokens, findings from sessions")[0]
    if got != want:
        sys.exit(f"check_sessions: codex fork: runlens {got}, counted from the running totals {want}")
    if int(whole["output_tokens"]) != c["output_tokens"] or "fork_replay_unresolved" not in whole["findings"]:
        sys.exit(f"check_sessions: codex fork child alone: {whole}")
    return 1


def check_rejected_traces(runlens, shared):
    """OTLP traces without a GenAI span are rejected, saying so, rather than stored as
    nothing."""
    path = shared / "otel-genai" / "nlp-crop-calendar-otel-traces.json"
    if not path.exists():
        return 0
    out = subprocess.run([runlens, "validate", str(path)], capture_output=True, text=True)
    if out.returncode != 1 or "none a GenAI span" not in out.stdout + out.stderr:
        sys.exit(f"check_sessions: {path.name}: expected a rejection naming the missing GenAI spans, got "
                 f"exit {out.returncode}\n{out.stdout}{out.stderr}")
    return 1


CHECKS = [("codex", "*exec-json*.jsonl", codex_exec),
          ("otel-genai", "*traces.jsonl", otel_console),
          ("claude-result", "*.json", claude_stream),
          ("claude-result", "*.ndjson", claude_stream)]


def query(runlens, data, sql):
    out = subprocess.run([runlens, "--data", str(data), "query", "--format", "csv", sql],
                         capture_output=True, text=True, check=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def main():
    runlens, shared = sys.argv[1], pathlib.Path(sys.argv[2])
    if not shared.is_dir():
        print(f"check_sessions: {shared} not found, skipped")
        return
    checked = 0
    for folder, pattern, count in CHECKS:
        for path in sorted((shared / folder).glob(pattern)):
            with tempfile.TemporaryDirectory() as tmp:
                data = pathlib.Path(tmp) / "d"
                out = subprocess.run([runlens, "--data", str(data), "ingest", str(path)],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    sys.exit(f"check_sessions: {path.name}: ingest exit {out.returncode}\n{out.stdout}{out.stderr}")
                calls = query(runlens, data, "select count(*) as calls, coalesce(sum(input_tokens), 0) as input, "
                              "coalesce(sum(cache_read_input_tokens), 0) as cache_read, "
                              "coalesce(sum(output_tokens), 0) as output from llm_calls")[0]
                tools = query(runlens, data, "select count(*) as tools from tool_calls")[0]
                got = {k: int(v) for k, v in {**calls, **tools}.items()}
                want = count(path)
                if got != want:
                    sys.exit(f"check_sessions: {folder}/{path.name}: runlens {got}, counted {want}")
                checked += 1
    sessions = check_claude_code(runlens, shared)
    forks = check_codex_fork(runlens, shared)
    check_rejected_traces(runlens, shared)
    print(f"check_sessions: ok: {checked} real session files, calls, token buckets and tool calls as counted "
          f"without runlens; {sessions} Claude Code sessions with their sub-agents folded in, none an error; "
          f"{forks} Codex fork counted once (its own growth beyond the parent's running total)")


if __name__ == "__main__":
    main()
