#!/usr/bin/env python3
"""A workflow for `runlens record --capture` tests, using only Python's standard library.

It calls every provider through the base-URL variables the recorder sets (the official SDKs
read the same ones), streamed and not, with tool calls and with faults, announcing a phase
before each group of calls. It checks what came back is what the fake upstream
(tests/common/upstream.rs) sent, so the proxy's passthrough is tested from the client's
side, and exits 1 on any difference.

Calls (16): openai 5, anthropic 2, ollama 2, gemini 2, faults 5.
"""

import json
import os
import sys
import urllib.error
import urllib.request

SECRET = "sk-test-SECRET0123456789abcdefSECRET"
problems = []


def phase(name):
    print(f"::runlens phase {name}", flush=True)


def post(url, body, headers=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        request.add_header(k, v)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def expect(what, condition):
    if not condition:
        problems.append(what)
        print(f"client: MISMATCH {what}", file=sys.stderr)


def sse_data(body):
    return [line[len("data:"):].strip() for line in body.decode().splitlines() if line.startswith("data:")]


openai = os.environ["OPENAI_BASE_URL"]
anthropic = os.environ["ANTHROPIC_BASE_URL"]
ollama = os.environ["OLLAMA_HOST"]
gemini = os.environ["GOOGLE_GEMINI_BASE_URL"]
auth = {"authorization": f"Bearer {SECRET}"}
messages = [{"role": "user", "content": "Say hello"}]
tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]

phase("openai")
status, _, body = post(f"{openai}/chat/completions", {"model": "fake-text", "messages": messages}, auth)
expect("openai text", status == 200 and json.loads(body)["choices"][0]["message"]["content"] == "Hello world!")
status, ctype, body = post(f"{openai}/chat/completions", {"model": "fake-text", "messages": messages, "stream": True, "stream_options": {"include_usage": True}}, auth)
events = sse_data(body)
text = "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events if e != "[DONE]" and json.loads(e)["choices"])
expect("openai stream", status == 200 and ctype.startswith("text/event-stream") and text == "Hello world!" and events[-1] == "[DONE]")
status, _, body = post(f"{openai}/chat/completions", {"model": "fake-tool", "messages": messages, "tools": tools, "stream": True}, auth)
expect("openai tool stream", status == 200 and b"call_fake1" in body)
status, _, body = post(f"{openai}/chat/completions", {"model": "fake-error-429", "messages": messages}, auth)
expect("openai 429", status == 429 and json.loads(body)["error"]["type"] == "rate_limit_exceeded")

# Chunks arrive as the upstream sends them (150 ms, then 40 ms apart), not all at the end.
import time
request = urllib.request.Request(f"{openai}/chat/completions", method="POST",
                                 data=json.dumps({"model": "fake-text", "messages": messages, "stream": True}).encode())
request.add_header("content-type", "application/json")
request.add_header("authorization", f"Bearer {SECRET}")
arrivals = []
with urllib.request.urlopen(request, timeout=30) as response:
    t0 = time.monotonic()
    for line in response:
        if line.startswith(b"data:") and b'"content":"' in line and b'"content":""' not in line:
            arrivals.append(time.monotonic() - t0)
expect(f"streamed chunks pass through one by one: {arrivals}",
       len(arrivals) == 3 and arrivals[-1] - arrivals[0] >= 0.06)

phase("anthropic")
headers = {"x-api-key": SECRET, "anthropic-version": "2023-06-01"}
status, _, body = post(f"{anthropic}/v1/messages", {"model": "claude-fake", "max_tokens": 64, "messages": messages}, headers)
expect("anthropic text", status == 200 and json.loads(body)["content"][0]["text"] == "Hello world!")
status, _, body = post(f"{anthropic}/v1/messages", {"model": "claude-fake-tool", "max_tokens": 64, "messages": messages, "stream": True, "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]}, headers)
expect("anthropic tool stream", status == 200 and b"message_stop" in body and b"toolu_fake1" in body)

phase("ollama")
status, _, body = post(f"{ollama}/api/chat", {"model": "llama-fake", "messages": messages})
lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
expect("ollama stream", status == 200 and "".join(x["message"]["content"] for x in lines) == "Hello world!" and lines[-1]["done"])
status, _, body = post(f"{ollama}/api/chat", {"model": "llama-fake-tool", "messages": messages, "stream": False, "tools": tools})
expect("ollama tool", status == 200 and json.loads(body)["message"]["tool_calls"][0]["function"]["name"] == "get_weather")

phase("gemini")
contents = {"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]}
status, _, body = post(f"{gemini}/v1beta/models/gemini-fake:streamGenerateContent", contents, {"x-goog-api-key": SECRET})
parts = json.loads(body)
expect("gemini stream", status == 200 and "".join(p["candidates"][0]["content"]["parts"][0]["text"] for p in parts) == "Hello world!")
status, _, body = post(f"{gemini}/v1beta/models/gemini-fake-tool:generateContent?key={SECRET}", contents)
expect("gemini tool", status == 200 and json.loads(body)["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "get_weather")

phase("faults")
try:
    status, _, body = post(f"{openai}/chat/completions", {"model": "fake-cut", "messages": messages, "stream": True}, auth)
    expect("openai cut stream arrives cut", b"[DONE]" not in body)
except Exception as e:  # the cut reaches the client as a broken read
    print(f"client: cut stream raised {type(e).__name__} as expected", file=sys.stderr)
status, _, body = post(f"{anthropic}/v1/messages", {"model": "claude-error-500", "max_tokens": 8, "messages": messages}, headers)
expect("anthropic 500", status == 500 and json.loads(body)["error"]["type"] == "api_error")
status, ctype, body = post(f"{gemini}/v1beta/models/gemini-garbage:generateContent", contents, {"x-goog-api-key": SECRET})
expect("gemini garbage passes through", status == 200 and ctype.startswith("text/html") and body.startswith(b"<html>"))
status, _, body = post(f"{openai}/chat/completions", None, auth, raw=b'{"model": "fake-text", "messages": [')
expect("malformed body rejected by the upstream", status == 400)
big = [{"role": "user", "content": "x" * (50 * 1024 * 1024)}]
status, _, body = post(f"{openai}/chat/completions", {"model": "fake-big", "messages": big}, auth)
expect("50 MB request", status == 200 and json.loads(body)["choices"][0]["message"]["content"] == "Hello world!")

if problems:
    print(f"client: {len(problems)} problem(s): {problems}", file=sys.stderr)
    sys.exit(1)
print("client: all replies as sent", flush=True)
