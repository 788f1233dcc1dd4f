#!/usr/bin/env python3
"""The official `openai` Python package as the child of `runlens record --capture`.

It reads OPENAI_BASE_URL like any user's workflow; the recorder points it at the proxy,
which forwards to the fake upstream of tests/common/upstream.rs. Three calls: a tool call
without streaming, a streamed answer with usage, a streamed tool call with usage.
"""

import sys

import openai

client = openai.OpenAI(api_key="sk-test-SECRET0123456789abcdefSECRET", max_retries=0)
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
messages = [{"role": "user", "content": "Weather in Oslo?"}]

reply = client.chat.completions.create(model="fake-tool", messages=messages, tools=tools)
call = reply.choices[0].message.tool_calls[0]
assert call.function.name == "get_weather" and call.function.arguments == '{"city":"Oslo"}', call
assert reply.usage.completion_tokens == 9, reply.usage

text = ""
usage = None
for chunk in client.chat.completions.create(
    model="fake-text", messages=messages, stream=True, stream_options={"include_usage": True}
):
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage:
        usage = chunk.usage
assert text == "Hello world!", text
assert usage is not None and usage.prompt_tokens == 11, usage

arguments = ""
with client.chat.completions.stream(
    model="fake-tool", messages=messages, tools=tools, stream_options={"include_usage": True}
) as stream:
    for event in stream:
        pass
    final = stream.get_final_completion()
assert final.choices[0].message.tool_calls[0].function.arguments == '{"city":"Oslo"}', final

print("openai client: all calls answered", file=sys.stderr)
