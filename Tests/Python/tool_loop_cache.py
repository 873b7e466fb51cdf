"""A two-turn tool loop through the official openai SDK: the second turn re-reads only what is new.

Run by scripts/conformance against a fresh release server on the default local model. Turn one
asks for a tool call (tool_choice "required"); turn two sends the call and its result back. The
second turn's prompt starts with the first turn's, which the server keeps in a sequence's KV cache,
so `usage.prompt_tokens_details.cached_tokens` must be above zero (and below the prompt's length).
The same holds streamed, where usage comes in the last chunk. Eight concurrent streams follow,
each of which must complete: they generate side by side, not one after another.
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import argparse
import os
import concurrent.futures
import json
import sys
import time

import openai

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
from tally import Tally  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()

client = openai.OpenAI(base_url=args.base_url, api_key="unused", max_retries=0, timeout=120)
TALLY = Tally("tool_loop_cache")


tools = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
system = {"role": "system", "content": "You are a weather assistant. Use the tools to answer. " * 8}

for streamed in (False, True):
    label = "streamed" if streamed else "plain"
    messages = [system, {"role": "user", "content": f"What is the weather in Lisbon? ({label})"}]
    first = client.chat.completions.create(model=args.model, messages=messages, tools=tools, tool_choice="required",
                                           temperature=0, max_tokens=60)
    calls = first.choices[0].message.tool_calls or []
    TALLY.check(f"{label}: turn one made a tool call", len(calls) >= 1)
    if not calls:
        continue
    call = calls[0]
    messages += [{"role": "assistant", "content": None, "tool_calls": [
                     {"id": call.id, "type": "function",
                      "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
                 {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"city": "Lisbon", "celsius": 21})}]
    if streamed:
        usage = None
        for chunk in client.chat.completions.create(model=args.model, messages=messages, tools=tools, temperature=0,
                                                    max_tokens=20, stream=True, stream_options={"include_usage": True}):
            usage = chunk.usage or usage
    else:
        usage = client.chat.completions.create(model=args.model, messages=messages, tools=tools, temperature=0,
                                               max_tokens=20).usage
    cached = (usage.prompt_tokens_details.cached_tokens or 0) if usage and usage.prompt_tokens_details else 0
    TALLY.check(f"{label}: turn two's cached_tokens {cached} of {usage.prompt_tokens if usage else None} prompt tokens",
                usage is not None and 0 < cached < usage.prompt_tokens)


def stream(i):
    start = time.monotonic()
    text, finish = "", None
    for chunk in client.chat.completions.create(model=args.model, temperature=0, max_tokens=16, stream=True,
                                                messages=[{"role": "user", "content": f"Tell me fact number {i} about the sea."}]):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    return finish, time.monotonic() - start


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    results = list(pool.map(stream, range(8)))
for i, (finish, _) in enumerate(results):
    TALLY.check(f"concurrent stream {i}: finish_reason {finish!r}", finish in ("stop", "length"))

TALLY.finish()
