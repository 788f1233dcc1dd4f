#!/usr/bin/env python3
"""Writes a seeded corpus of every agent transcript format except Claude Code's, at any size.

    python3 sample-data/generate_transcripts.py --out /tmp/transcripts --size-mb 256 --seed 42

(Claude Code transcripts have their own generator, generate_claude_code.py.) The bytes are
split evenly between six formats, in the shapes of the samples in sample-data/sessions:

- codex/YYYY/MM/DD/rollout-*.jsonl: Codex CLI rollouts (session_meta, turn_context,
  response items with shell / apply_patch calls and outputs, token_count events with
  info: null, repeated reports and growing running totals);
- openai/exchanges-N.jsonl: Chat Completions request/response pairs, one per line, with
  tool calls in the history and the reply, cached and reasoning token details;
- anthropic/exchanges-N.jsonl: Messages pairs with tool_use / tool_result blocks and cache
  usage;
- gemini/exchanges-N.jsonl: generateContent pairs with functionCall parts and thoughts;
- otel/traces-N.jsonl: OTLP JSON exports (the collector's file exporter), one trace per line:
  chat spans and execute_tool spans of one gen_ai.conversation.id;
- headless/*.jsonl: `claude -p --output-format stream-json` runs, each message written as two
  events with growing usage, ending with the result object.

About 8 % of the sessions are hollow: tools offered, none called. Next to OUT the generator
writes OUT.expected.json: per format the sessions, LLM calls, tool calls, hollow sessions and
the token sums in runlens's buckets (uncached input, output, cache read, cache write,
reasoning), computed here from the numbers written, so that a test can check runlens's
totals against them (tests/transcripts/check_generated.py). The same seed gives the same
bytes. Only the standard library is used.
"""

import argparse
import datetime
import json
import os
import random
import uuid

START = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
WORDS = ("the parser returns tokens for each line and the test expects an empty list when input "
         "is empty so we handle that case before indexing into the result").split()
TOOLS = ["read_file", "grep", "run_tests", "write_file", "list_dir"]
HOLLOW_RATE = 0.08


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def text(rng, n_words):
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def uid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_totals():
    return {"sessions": 0, "llm_calls": 0, "tool_calls": 0, "hollow_sessions": 0,
            "input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0, "reasoning_tokens": 0}


class Writer:
    """Appends lines to a file, counting bytes."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "w")
        self.bytes = 0

    def put(self, record):
        line = json.dumps(record, separators=(",", ":")) + "\n"
        self.f.write(line)
        self.bytes += len(line)

    def close(self):
        self.f.close()


def codex(rng, out, budget, totals):
    """Codex rollouts until `budget` bytes are written."""
    written = 0
    while written < budget:
        t = START + datetime.timedelta(seconds=rng.randrange(14 * 86400))
        sid = uid(rng)
        name = f"rollout-{t.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"
        w = Writer(os.path.join(out, "codex", t.strftime("%Y/%m/%d"), name))
        hollow = rng.random() < HOLLOW_RATE
        totals["sessions"] += 1
        session_calls = 0

        def at():
            nonlocal t
            t += datetime.timedelta(milliseconds=rng.randrange(100, 6000))
            return iso(t)

        w.put({"timestamp": at(), "type": "session_meta", "payload": {
            "id": sid, "timestamp": iso(t), "cwd": "/home/dev/app", "originator": "codex_cli_rs",
            "cli_version": "0.58.0", "source": "cli", "model_provider": "openai"}})
        w.put({"timestamp": at(), "type": "response_item", "payload": {
            "type": "message", "role": "user", "content": [{"type": "input_text",
                                                            "text": "<environment_context>\n  <cwd>/home/dev/app</cwd>\n</environment_context>"}]}})
        model = rng.choice(["gpt-5-codex", "gpt-5", "gpt-5-mini"])
        w.put({"timestamp": at(), "type": "turn_context", "payload": {"cwd": "/home/dev/app", "model": model,
                                                                      "effort": "medium", "summary": "auto"}})
        running = [0, 0, 0, 0]
        context = rng.randrange(6000, 12000)
        size_target = rng.randrange(30_000, 400_000)
        while w.bytes < size_target:
            w.put({"timestamp": at(), "type": "response_item", "payload": {
                "type": "message", "role": "user", "content": [{"type": "input_text", "text": text(rng, rng.randrange(5, 40))}]}})
            w.put({"timestamp": at(), "type": "event_msg", "payload": {"type": "token_count", "info": None}})
            for step in range(rng.randrange(1, 6)):
                last_step = hollow or step == 0 and rng.random() < 0.2
                w.put({"timestamp": at(), "type": "response_item", "payload": {
                    "type": "reasoning", "summary": [{"type": "summary_text", "text": text(rng, 6)}],
                    "encrypted_content": "gAAAA" + "x" * rng.randrange(100, 600)}})
                cached = context - rng.randrange(200, 2000)
                output = rng.randrange(20, 900)
                reasoning = rng.randrange(0, output)
                if last_step:
                    w.put({"timestamp": at(), "type": "response_item", "payload": {
                        "type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": text(rng, rng.randrange(10, 80))}]}})
                else:
                    call_id = "call_" + uid(rng)[:12]
                    if rng.random() < 0.3:
                        w.put({"timestamp": at(), "type": "response_item", "payload": {
                            "type": "custom_tool_call", "status": "completed", "call_id": call_id, "name": "apply_patch",
                            "input": "*** Begin Patch\n" + text(rng, rng.randrange(20, 200)) + "\n*** End Patch\n"}})
                        kind_out = "custom_tool_call_output"
                    else:
                        w.put({"timestamp": at(), "type": "response_item", "payload": {
                            "type": "function_call", "name": "shell", "call_id": call_id,
                            "arguments": json.dumps({"command": ["bash", "-lc", text(rng, 4)], "timeout_ms": 120000})}})
                        kind_out = "function_call_output"
                    totals["tool_calls"] += 1
                    session_calls += 1
                usage = [context, cached, output, reasoning]
                running = [a + b for a, b in zip(running, usage)]
                info = {"total_token_usage": codex_usage(running), "last_token_usage": codex_usage(usage),
                        "model_context_window": 272000}
                w.put({"timestamp": at(), "type": "event_msg", "payload": {"type": "token_count", "info": info}})
                if rng.random() < 0.15:
                    w.put({"timestamp": at(), "type": "event_msg", "payload": {"type": "token_count", "info": info}})
                totals["llm_calls"] += 1
                totals["input_tokens"] += context - cached
                totals["cache_read_input_tokens"] += cached
                totals["output_tokens"] += output
                totals["reasoning_tokens"] += reasoning
                context += output + rng.randrange(100, 3000)
                if last_step:
                    break
                code = 1 if rng.random() < 0.05 else 0
                w.put({"timestamp": at(), "type": "response_item", "payload": {
                    "type": kind_out, "call_id": call_id,
                    "output": json.dumps({"output": text(rng, rng.randrange(10, 400)), "metadata": {"exit_code": code}})}})
            if hollow:
                break
        # Also a session whose every turn ended without a call is hollow.
        totals["hollow_sessions"] += session_calls == 0
        w.close()
        written += w.bytes
    return written


def codex_usage(u):
    return {"input_tokens": u[0], "cached_input_tokens": u[1], "output_tokens": u[2],
            "reasoning_output_tokens": u[3], "total_tokens": u[0] + u[2]}


def exchanges(rng, out, budget, totals, fmt):
    """JSONL files of request/response pairs (one session each) of one provider."""
    written, n = 0, 0
    while written < budget:
        w = Writer(os.path.join(out, fmt, f"exchanges-{n:03d}.jsonl"))
        n += 1
        while w.bytes < 4_000_000 and written + w.bytes < budget:
            t = START + datetime.timedelta(seconds=rng.randrange(14 * 86400))
            hollow = rng.random() < HOLLOW_RATE
            totals["sessions"] += 1
            totals["hollow_sessions"] += hollow
            totals["llm_calls"] += 1
            turns = 0 if hollow else rng.randrange(0, 6)
            line = {"openai": openai_pair, "anthropic": anthropic_pair, "gemini": gemini_pair}[fmt](
                rng, t, turns, hollow, totals)
            line["custom_id"] = f"{fmt}-{uid(rng)[:18]}"
            w.put(line)
        w.close()
        written += w.bytes
    return written


def openai_pair(rng, t, turns, hollow, totals):
    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in TOOLS]
    messages = [{"role": "system", "content": "You are a coding agent. " + text(rng, 30)},
                {"role": "user", "content": text(rng, rng.randrange(5, 40))}]
    for _ in range(turns):
        cid = "call_" + uid(rng)[:20]
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": rng.choice(TOOLS), "arguments": json.dumps({"path": text(rng, 2)})}}]})
        messages.append({"role": "tool", "tool_call_id": cid, "content": text(rng, rng.randrange(20, 600))})
        totals["tool_calls"] += 1
    if hollow or rng.random() < 0.3:
        message = {"role": "assistant", "content": text(rng, rng.randrange(10, 120))}
        finish = "stop"
        if not hollow and turns == 0:
            totals["hollow_sessions"] += 1
    else:
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_" + uid(rng)[:20], "type": "function", "function": {"name": rng.choice(TOOLS), "arguments": "{}"}}]}
        finish = "tool_calls"
        totals["tool_calls"] += 1
    prompt = rng.randrange(500, 30000)
    cached = rng.choice([0, prompt // 1024 * 1024 // 2])
    completion = rng.randrange(10, 800)
    reasoning = rng.choice([0, completion // 2])
    totals["input_tokens"] += prompt - cached
    totals["cache_read_input_tokens"] += cached
    totals["output_tokens"] += completion
    totals["reasoning_tokens"] += reasoning
    return {"request": {"model": "gpt-4o", "tools": tools, "messages": messages},
            "response": {"id": "chatcmpl-" + uid(rng)[:24], "object": "chat.completion", "created": int(t.timestamp()),
                         "model": "gpt-4o-2024-08-06",
                         "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                         "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                                   "prompt_tokens_details": {"cached_tokens": cached},
                                   "completion_tokens_details": {"reasoning_tokens": reasoning}}}}


def anthropic_pair(rng, t, turns, hollow, totals):
    tools = [{"name": n, "input_schema": {"type": "object"}} for n in TOOLS]
    messages = [{"role": "user", "content": text(rng, rng.randrange(5, 40))}]
    for _ in range(turns):
        tid = "toolu_" + uid(rng)[:22]
        messages.append({"role": "assistant", "content": [
            {"type": "text", "text": text(rng, 8)},
            {"type": "tool_use", "id": tid, "name": rng.choice(TOOLS), "input": {"path": text(rng, 2)}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tid, "content": text(rng, rng.randrange(20, 600))}]})
        totals["tool_calls"] += 1
    content = [{"type": "text", "text": text(rng, rng.randrange(10, 120))}]
    stop = "end_turn"
    if not hollow and rng.random() < 0.7:
        content.append({"type": "tool_use", "id": "toolu_" + uid(rng)[:22], "name": rng.choice(TOOLS), "input": {}})
        stop = "tool_use"
        totals["tool_calls"] += 1
    elif not hollow and turns == 0:
        totals["hollow_sessions"] += 1
    usage = {"input_tokens": rng.randrange(3, 400), "output_tokens": rng.randrange(10, 900),
             "cache_read_input_tokens": rng.randrange(0, 40000), "cache_creation_input_tokens": rng.randrange(0, 3000)}
    totals["input_tokens"] += usage["input_tokens"]
    totals["output_tokens"] += usage["output_tokens"]
    totals["cache_read_input_tokens"] += usage["cache_read_input_tokens"]
    totals["cache_creation_input_tokens"] += usage["cache_creation_input_tokens"]
    return {"request": {"model": "claude-sonnet-4-5", "max_tokens": 4096,
                        "system": [{"type": "text", "text": "You are a coding agent. " + text(rng, 30)}],
                        "tools": tools, "messages": messages},
            "response": {"id": "msg_" + uid(rng)[:24], "type": "message", "role": "assistant",
                         "model": "claude-sonnet-4-5-20250929", "content": content, "stop_reason": stop,
                         "usage": usage}}


def gemini_pair(rng, t, turns, hollow, totals):
    contents = [{"role": "user", "parts": [{"text": text(rng, rng.randrange(5, 40))}]}]
    for _ in range(turns):
        name = rng.choice(TOOLS)
        contents.append({"role": "model", "parts": [{"functionCall": {"name": name, "args": {"path": text(rng, 2)}}}]})
        contents.append({"role": "user", "parts": [{"functionResponse": {"name": name, "response": {"result": text(rng, rng.randrange(20, 600))}}}]})
        totals["tool_calls"] += 1
    if not hollow and rng.random() < 0.7:
        parts = [{"functionCall": {"name": rng.choice(TOOLS), "args": {}}}]
        totals["tool_calls"] += 1
    else:
        parts = [{"text": text(rng, rng.randrange(10, 120))}]
        if not hollow and turns == 0:
            totals["hollow_sessions"] += 1
    prompt = rng.randrange(200, 20000)
    cached = rng.choice([0, prompt // 2])
    candidates = rng.randrange(5, 600)
    thoughts = rng.randrange(0, 400)
    totals["input_tokens"] += prompt - cached
    totals["cache_read_input_tokens"] += cached
    totals["output_tokens"] += candidates + thoughts
    totals["reasoning_tokens"] += thoughts
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": candidates, "thoughtsTokenCount": thoughts,
             "totalTokenCount": prompt + candidates + thoughts}
    if cached:
        usage["cachedContentTokenCount"] = cached
    return {"request": {"model": "models/gemini-2.5-flash",
                        "systemInstruction": {"parts": [{"text": "Use the tools."}]},
                        "tools": [{"functionDeclarations": [{"name": n} for n in TOOLS]}],
                        "contents": contents},
            "response": {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
                         "usageMetadata": usage, "modelVersion": "gemini-2.5-flash",
                         "responseId": uid(rng)[:24]}}


def otel(rng, out, budget, totals):
    """JSONL of OTLP exports, one conversation per line."""
    written, n = 0, 0

    def kv(k, v):
        if isinstance(v, int):
            return {"key": k, "value": {"intValue": str(v)}}
        if isinstance(v, list):
            return {"key": k, "value": {"arrayValue": {"values": [{"stringValue": x} for x in v]}}}
        return {"key": k, "value": {"stringValue": v}}

    while written < budget:
        w = Writer(os.path.join(out, "otel", f"traces-{n:03d}.jsonl"))
        n += 1
        while w.bytes < 4_000_000 and written + w.bytes < budget:
            t_ns = int((START + datetime.timedelta(seconds=rng.randrange(14 * 86400))).timestamp()) * 10**9
            trace = uid(rng).replace("-", "")
            conv = "conv-" + uid(rng)[:13]
            hollow = rng.random() < HOLLOW_RATE
            totals["sessions"] += 1
            totals["hollow_sessions"] += hollow
            spans = []
            steps = 1 if hollow else rng.randrange(1, 8)
            for step in range(steps):
                inp = rng.randrange(300, 20000)
                cache = rng.choice([0, inp // 2])
                outp = rng.randrange(5, 500)
                dur = rng.randrange(300, 9000) * 10**6
                spans.append({"traceId": trace, "spanId": uid(rng).replace("-", "")[:16], "name": "chat gpt-4o", "kind": 3,
                              "startTimeUnixNano": str(t_ns), "endTimeUnixNano": str(t_ns + dur),
                              "attributes": [kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"),
                                             kv("gen_ai.request.model", "gpt-4o"), kv("gen_ai.response.model", "gpt-4o-2024-08-06"),
                                             kv("gen_ai.conversation.id", conv), kv("gen_ai.usage.input_tokens", inp),
                                             kv("gen_ai.usage.cache_read.input_tokens", cache),
                                             kv("gen_ai.usage.output_tokens", outp),
                                             kv("gen_ai.response.finish_reasons", ["tool_calls" if step < steps - 1 else "stop"])],
                              "status": {}})
                totals["llm_calls"] += 1
                totals["input_tokens"] += inp - cache
                totals["cache_read_input_tokens"] += cache
                totals["output_tokens"] += outp
                t_ns += dur
                if step < steps - 1:
                    spans.append({"traceId": trace, "spanId": uid(rng).replace("-", "")[:16],
                                  "name": "execute_tool", "kind": 1, "startTimeUnixNano": str(t_ns),
                                  "endTimeUnixNano": str(t_ns + 5 * 10**7),
                                  "attributes": [kv("gen_ai.operation.name", "execute_tool"),
                                                 kv("gen_ai.tool.name", rng.choice(TOOLS)),
                                                 kv("gen_ai.tool.call.id", "call_" + uid(rng)[:20]),
                                                 kv("gen_ai.conversation.id", conv)],
                                  "status": {"code": 2, "message": "tool failed"} if rng.random() < 0.05 else {}})
                    totals["tool_calls"] += 1
                    t_ns += 6 * 10**7
            w.put({"resourceSpans": [{"resource": {"attributes": [kv("service.name", "agent")]},
                                      "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2"},
                                                      "spans": spans}]}]})
        w.close()
        written += w.bytes
    # A hollow trace has no tool span and no tool definitions: runlens cannot know tools
    # were offered, so it is not counted as hollow there.
    totals["hollow_sessions"] = 0
    return written


def headless(rng, out, budget, totals):
    """stream-json runs, one per file."""
    written, n = 0, 0
    while written < budget:
        w = Writer(os.path.join(out, "headless", f"run-{n:05d}.jsonl"))
        n += 1
        sid = uid(rng)
        hollow = rng.random() < HOLLOW_RATE
        totals["sessions"] += 1
        totals["hollow_sessions"] += hollow
        model = "claude-sonnet-4-5-20250929"
        w.put({"type": "system", "subtype": "init", "session_id": sid, "model": model,
               "tools": ["Bash", "Read", "Edit", "Grep"], "cwd": "/home/dev/app"})
        sums = [0, 0, 0, 0]
        turns = 1 if hollow else rng.randrange(2, 12)
        for turn in range(turns):
            mid = "msg_" + uid(rng)[:24]
            usage = {"input_tokens": rng.randrange(2, 50), "cache_creation_input_tokens": rng.randrange(0, 2000),
                     "cache_read_input_tokens": rng.randrange(5000, 60000), "output_tokens": 1}
            base = {"id": mid, "type": "message", "role": "assistant", "model": model, "stop_reason": None}
            w.put({"type": "assistant", "session_id": sid, "message": dict(base, content=[{"type": "text", "text": text(rng, 12)}], usage=dict(usage))})
            usage["output_tokens"] = rng.randrange(20, 700)
            last = turn == turns - 1
            if last:
                w.put({"type": "assistant", "session_id": sid, "message": dict(base, stop_reason="end_turn", content=[{"type": "text", "text": text(rng, 20)}], usage=dict(usage))})
            else:
                tid = "toolu_" + uid(rng)[:22]
                w.put({"type": "assistant", "session_id": sid, "message": dict(base, content=[{"type": "tool_use", "id": tid, "name": "Bash", "input": {"command": text(rng, 3)}}], usage=dict(usage))})
                w.put({"type": "user", "session_id": sid, "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": tid, "content": text(rng, rng.randrange(20, 800))}]}})
                totals["tool_calls"] += 1
            sums = [a + b for a, b in zip(sums, [usage["input_tokens"], usage["output_tokens"],
                                                 usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]])]
            totals["llm_calls"] += 1
        totals["input_tokens"] += sums[0]
        totals["output_tokens"] += sums[1]
        totals["cache_read_input_tokens"] += sums[2]
        totals["cache_creation_input_tokens"] += sums[3]
        w.put({"type": "result", "subtype": "success", "is_error": False, "num_turns": turns, "session_id": sid,
               "duration_ms": rng.randrange(2000, 90000), "total_cost_usd": round(sums[1] * 15e-6 + sums[2] * 0.3e-6, 6),
               "result": text(rng, 20),
               "modelUsage": {model: {"inputTokens": sums[0], "outputTokens": sums[1],
                                      "cacheReadInputTokens": sums[2], "cacheCreationInputTokens": sums[3]}}})
        w.close()
        written += w.bytes
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-mb", type=float, default=64)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    share = int(args.size_mb * 1024 * 1024 / 6)
    expected, total = {}, 0
    for name, make in [("codex_rollout", lambda t: codex(rng, args.out, share, t)),
                       ("openai_api", lambda t: exchanges(rng, args.out, share, t, "openai")),
                       ("anthropic_api", lambda t: exchanges(rng, args.out, share, t, "anthropic")),
                       ("gemini_api", lambda t: exchanges(rng, args.out, share, t, "gemini")),
                       ("otlp_genai", lambda t: otel(rng, args.out, share, t)),
                       ("agent_result", lambda t: headless(rng, args.out, share, t))]:
        totals = new_totals()
        total += make(totals)
        expected[name] = totals
    manifest = args.out.rstrip("/") + ".expected.json"
    with open(manifest, "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
    sessions = sum(t["sessions"] for t in expected.values())
    print(f"{sessions} sessions, {total / 1048576:.1f} MiB in {args.out}; expected totals in {manifest}")


if __name__ == "__main__":
    main()
