#!/usr/bin/env python3
"""Switchboard's MCP server through the official Python `mcp` client, over both transports:
stdio (`switchboard mcp`) and streamable HTTP (`switchboard serve` at `/mcp`, behind its API
key). Each time: the tools and the chat_completions input schema field by field, a forced tool
call on the default local model that satisfies its schema, streamed chunks as progress
notifications, a bad call answered as a tool error with OpenAI's error object (the session goes
on), and a cancelled call that stops generation.

    mcp_server.py --binary .build/release/switchboard
"""
import argparse
import asyncio
import json
import os
import sys

import socket
import subprocess
import time
import urllib.error
import urllib.request

import anyio
import jsonschema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from tally import Tally  # noqa: E402

TALLY = Tally("mcp_server")
check = TALLY.check




WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
                                            "parameters": {"type": "object", "additionalProperties": False,
                                                           "properties": {"city": {"type": "string", "minLength": 1},
                                                                          "days": {"type": "integer", "minimum": 1, "maximum": 7}},
                                                           "required": ["city", "days"]}}}


def payload(result):
    """The structured content of a tool result, and its text content parsed (they must agree)."""
    text = json.loads(result.content[0].text)
    return result.structured_content, text


async def exercise(session):
    init = await session.initialize()
    check("initialize names the server", init.server_info.name == "switchboard" and bool(init.server_info.version),
          init.server_info)

    tools = {t.name: t for t in (await session.list_tools()).tools}
    check("tools listed", set(tools) == {"chat_completions", "list_models"}, list(tools))
    schema = tools["chat_completions"].input_schema
    jsonschema.Draft202012Validator.check_schema(schema)
    props = schema["properties"]
    check("messages required", schema.get("required") == ["messages"], schema.get("required"))
    check("roles", set(props["messages"]["items"]["properties"]["role"]["enum"]) >= {"system", "user", "assistant", "tool"})
    content = props["messages"]["items"]["properties"]["content"]["anyOf"]
    check("content is a string or parts with image_url", content[0] == {"type": "string"}
          and "image_url" in content[1]["items"]["properties"]["type"]["enum"], content)
    for field in ["model", "tools", "tool_choice", "response_format", "seed", "stop", "user", "top_p", "temperature",
                  "max_tokens", "presence_penalty", "frequency_penalty", "reasoning_effort", "stream"]:
        check(f"field {field}", field in props, sorted(props))
    check("temperature 0..2", (props["temperature"]["minimum"], props["temperature"]["maximum"]) == (0, 2))
    check("top_p 0..1", (props["top_p"]["minimum"], props["top_p"]["maximum"]) == (0, 1))
    for field in ["presence_penalty", "frequency_penalty"]:
        check(f"{field} -2..2", (props[field]["minimum"], props[field]["maximum"]) == (-2, 2))
    check("tool_choice forms", props["tool_choice"]["anyOf"][0]["enum"] == ["none", "auto", "required"]
          and props["tool_choice"]["anyOf"][1]["type"] == "object")
    check("output schema requires result", tools["chat_completions"].output_schema.get("required") == ["result"])

    models = await session.call_tool("list_models", {})
    structured, text = payload(models)
    check("list_models", not models.is_error and structured == text and structured["result"]["data"], structured)

    # A forced call on the default local model: a schema-valid call in `result`.
    call = await session.call_tool("chat_completions", {
        "messages": [{"role": "user", "content": "What is the weather in Paris for the next 3 days?"}],
        "tools": [WEATHER], "tool_choice": "required", "parallel_tool_calls": False, "seed": 7,
        "max_tokens": 200})
    structured, text = payload(call)
    check("forced call succeeds", not call.is_error and structured == text, text)
    completion = structured["result"]
    message = completion["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    check("object is a chat.completion", completion["object"] == "chat.completion", completion)
    check("one tool call", len(calls) == 1 and completion["choices"][0]["finish_reason"] == "tool_calls", message)
    for c in calls:
        check("call names the tool", c["function"]["name"] == "get_weather", c)
        try:
            jsonschema.validate(json.loads(c["function"]["arguments"]), WEATHER["function"]["parameters"])
            check("arguments satisfy the schema", True)
        except Exception as error:  # noqa: BLE001
            check("arguments satisfy the schema", False, error)

    # Streaming: chunks arrive as progress notifications; the result is the whole completion.
    chunks = []

    async def on_progress(progress, total, message):
        chunks.append(json.loads(message))

    streamed = await session.call_tool("chat_completions", {
        "messages": [{"role": "user", "content": "Say hello."}], "stream": True, "max_tokens": 16, "seed": 1},
        progress_callback=on_progress)
    structured, _ = payload(streamed)
    streamed_text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    check("streamed chunks as progress", len(chunks) >= 2 and all(c["object"] == "chat.completion.chunk" for c in chunks),
          chunks[:3])
    check("chunks add up to the result", streamed_text == structured["result"]["choices"][0]["message"]["content"],
          (streamed_text, structured["result"]["choices"][0]["message"]))

    # Bad input: a tool error with OpenAI's error object naming the field; the session goes on.
    bad = await session.call_tool("chat_completions", {"messages": [{"role": "user", "content": "hi"}], "temperature": 5})
    structured, text = payload(bad)
    check("bad input is a tool error", bad.is_error and structured == text, bad)
    error = (structured or {}).get("error", {})
    check("error names the field", error.get("param") == "temperature" and error.get("type") == "invalid_request_error", error)
    empty = await session.call_tool("chat_completions", {"messages": []})
    check("empty messages is a tool error", empty.is_error, empty)
    again = await session.call_tool("list_models", {})
    check("session still usable", not again.is_error)

    # Cancellation: a long generation (seed 1 runs to 3,000 tokens, about 30 s) is cancelled
    # after a second. The next completion needs the same model, so it is quick only if
    # the cancelled one stopped.
    with anyio.move_on_after(1.5):
        await session.call_tool("chat_completions", {
            "messages": [{"role": "user", "content": "Write a very long story about a lighthouse."}],
            "max_tokens": 3000, "temperature": 1.0, "seed": 1, "stop": ["<never>"]})
    started = anyio.current_time()
    after = await session.call_tool("chat_completions", {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8})
    elapsed = anyio.current_time() - started
    check("the cancelled generation stopped", not after.is_error and elapsed < 8, elapsed)


async def over_stdio(binary):
    TALLY.context = "stdio"
    async with stdio_client(StdioServerParameters(command=binary, args=["mcp"])) as (read, write):
        async with ClientSession(read, write) as session:
            await exercise(session)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_raw_tools_list(url, key):
    """`tools/list` as it goes over the wire, validated strictly against the MCP types."""
    from mcp.types import InitializeResult, ListToolsResult

    def post(message, session=None):
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
        if session:
            headers["Mcp-Session-Id"] = session
        response = urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(message).encode(), headers=headers), timeout=30)
        body = response.read().decode()
        events = [line[6:] for line in body.splitlines() if line.startswith("data: ") and line[6:].strip()]
        return response.headers.get("Mcp-Session-Id"), (json.loads(events[-1]) if events else None)

    session, init = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
    InitializeResult.model_validate(init["result"], strict=True)
    check("raw initialize names the server", init["result"]["serverInfo"]["name"] == "switchboard", init)
    post({"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    _, listed = post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, session)
    try:
        ListToolsResult.model_validate(listed["result"], strict=True)
        check("raw tools/list validates against the MCP types", True)
    except Exception as error:  # noqa: BLE001
        check("raw tools/list validates against the MCP types", False, error)
    tools = {t["name"]: t for t in listed["result"]["tools"]}
    check("raw tools carry inputSchema and outputSchema",
          all(t["inputSchema"]["type"] == "object" and t["outputSchema"]["type"] == "object" for t in tools.values()), tools)


async def over_http(binary):
    TALLY.context = "http"
    port, key = free_port(), "mcp-test-key"
    server = subprocess.Popen([binary, "serve", "--port", str(port), "--api-key", key],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        # The endpoint is behind the server's key, as every route but /health.
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=5)
            check("no key, no MCP", False, "accepted")
        except urllib.error.HTTPError as error:
            check("no key, no MCP", error.code == 401, error.code)
        # A body over the server's limit is a 400 with OpenAI's error object, as for chat completions.
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b" " * (5 * 1024 * 1024), method="POST", headers={
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"}), timeout=30)
            check("oversized body refused", False, "accepted")
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            check("oversized body refused", error.code == 400 and body.get("error", {}).get("code") == "request_too_large",
                  (error.code, body))
        check_raw_tools_list(url, key)
        client = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
        async with client:
            async with streamable_http_client(url, http_client=client) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await exercise(session)
    finally:
        server.terminate()
        server.wait(timeout=15)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    asyncio.run(over_stdio(args.binary))
    asyncio.run(over_http(args.binary))
    TALLY.finish()


if __name__ == "__main__":
    main()
