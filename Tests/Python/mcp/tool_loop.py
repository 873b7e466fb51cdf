#!/usr/bin/env python3
"""Switchboard as an MCP client: the server-side tool loop, through the official openai SDK.

A small MCP server written for the test (servers/weather_server.py, on the official Python
`mcp` package) offers `get_weather` (auto-approved in the configuration) and `set_thermostat`
(needs the caller's approval). Switchboard reaches it over stdio (it starts the process) and
over streamable HTTP, and serves the default local model both directly and through a second
Switchboard whose config file routes to the first, so the loop runs on a local and on a hosted
backend; the first takes its MCP servers from flags, the second from its config file. For each:

- a request naming the server's tools runs the loop: the tool really runs (the server's call
  log says so), its arguments satisfy its inputSchema, and the final answer contains its result,
  with the calls made in the `mcp_calls` extension field; streamed too;
- a call of the caller's own function ends the loop and comes back;
- a call of a tool that needs approval comes back unexecuted; approved, it runs and the loop
  goes on; refused, it does not run and the model reads the refusal;
- `mcp_max_rounds` bounds the loop: out of rounds, the calls come back to the caller;
- bad references are 400s naming the field; a server that cannot start is a 502, and the
  server goes on serving.

    tool_loop.py --binary .build/release/switchboard
"""
import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import jsonschema
import openai
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from tally import Tally  # noqa: E402

TALLY = Tally("tool_loop")
check = TALLY.check
MODEL = "SmolLM2-135M-Instruct.Q4_1"
HERE = os.path.dirname(os.path.abspath(__file__))
WEATHER_SERVER = os.path.join(HERE, "servers", "weather_server.py")
# What the model can only know from the tool (weather_server.py's forecast for Paris).
PARIS_FORECAST = "18°C, light rain"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, process):
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"process on port {port} exited with {process.returncode}")
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def wait_listening(port):
    for _ in range(150):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the MCP server on port {port} never listened")


class CallLog:
    """The weather server's record of the calls it really received."""

    def __init__(self, path):
        self.path = path

    def entries(self):
        if not os.path.exists(self.path):
            return []
        with open(self.path) as f:
            return [json.loads(line) for line in f if line.strip()]


def mcp_calls(message):
    return (message.model_extra or {}).get("mcp_calls")


def get_weather_schema():
    """The inputSchema the MCP server declares for get_weather, asked of the server itself."""
    async def listed():
        params = StdioServerParameters(command=sys.executable, args=[WEATHER_SERVER, "--calls-log", os.devnull])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return {t.name: t.input_schema for t in (await session.list_tools()).tools}
    return asyncio.run(listed())["get_weather"]


def exercise(client, label, log, schema):
    tools = [{"type": "mcp", "server_label": label}]
    weather_only = [{"type": "mcp", "server_label": label, "allowed_tools": ["get_weather"]}]
    ask = [{"role": "user", "content": "What is the weather in Paris right now?"}]

    # The loop: a forced first call, run on the MCP server, then the answer.
    before = len(log.entries())
    response = client.chat.completions.create(model=MODEL, messages=ask, tools=weather_only,
                                              tool_choice="required", temperature=0, max_tokens=120)
    message = response.choices[0].message
    ran = log.entries()[before:]
    calls = mcp_calls(message) or []
    check("the loop ran get_weather on the MCP server", [e["tool"] for e in ran] == ["get_weather"], ran)
    check("mcp_calls lists the call made", len(calls) == 1 and calls[0]["name"] == "get_weather"
          and calls[0]["server_label"] == label and not calls[0]["is_error"], calls)
    if calls:
        arguments = json.loads(calls[0]["arguments"])
        try:
            jsonschema.validate(arguments, schema)
            valid = True
        except jsonschema.ValidationError as error:
            valid = error
        check("the call's arguments satisfy the tool's inputSchema", valid is True, (arguments, valid))
        check("mcp_calls carries the tool's output", PARIS_FORECAST in calls[0]["output"], calls[0]["output"])
    check("the final answer contains the tool's result", PARIS_FORECAST in (message.content or ""), message.content)
    check("the final answer is an answer", response.choices[0].finish_reason == "stop" and not message.tool_calls,
          (response.choices[0].finish_reason, message.tool_calls))
    check("usage counts every round", response.usage.prompt_tokens > 150, response.usage)

    # The same, streamed: the calls made arrive as a delta before the answer.
    before = len(log.entries())
    stream = client.chat.completions.create(model=MODEL, messages=ask, tools=weather_only,
                                            tool_choice="required", temperature=0, max_tokens=120, stream=True)
    text, streamed_calls, finish = "", [], None
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        streamed_calls += (delta.model_extra or {}).get("mcp_calls") or []
        finish = chunk.choices[0].finish_reason or finish
    check("streamed: the loop ran get_weather", [e["tool"] for e in log.entries()[before:]] == ["get_weather"])
    check("streamed: mcp_calls delta", [c["name"] for c in streamed_calls] == ["get_weather"], streamed_calls)
    check("streamed: the answer contains the result", PARIS_FORECAST in text and finish == "stop", (text, finish))

    # A tool that needs approval: its call comes back to the caller, not run.
    thermostat = [{"role": "user", "content": "Set the thermostat to 21 degrees."}]
    before = len(log.entries())
    response = client.chat.completions.create(
        model=MODEL, messages=thermostat, tools=tools, temperature=0,
        tool_choice={"type": "function", "function": {"name": "set_thermostat"}})
    message = response.choices[0].message
    check("a call needing approval comes back", response.choices[0].finish_reason == "tool_calls"
          and message.tool_calls and message.tool_calls[0].function.name == "set_thermostat", message)
    check("a call needing approval does not run", len(log.entries()) == before, log.entries()[before:])
    if not message.tool_calls:
        return
    call = message.tool_calls[0]
    pending = thermostat + [{"role": "assistant", "content": None, "tool_calls": [call.model_dump()]}]

    # Approved: it runs, and the loop goes on.
    response = client.chat.completions.create(
        model=MODEL, messages=pending, tools=tools, temperature=0, max_tokens=60,
        extra_body={"mcp_approvals": [{"tool_call_id": call.id, "approve": True}], "mcp_max_rounds": 1})
    ran = log.entries()[before:]
    calls = mcp_calls(response.choices[0].message) or []
    check("an approved call runs", [e["tool"] for e in ran] == ["set_thermostat"]
          and ran[0]["arguments"] == json.loads(call.function.arguments), ran)
    check("an approved call is in mcp_calls", [c["id"] for c in calls][:1] == [call.id]
          and "Thermostat set" in calls[0]["output"], calls)

    # Approved, but with arguments the caller changed to break the tool's schema: a 400, nothing runs.
    forged = dict(call.model_dump(), function={"name": "set_thermostat", "arguments": '{"celsius": "hot"}'})
    before = len(log.entries())
    try:
        client.chat.completions.create(
            model=MODEL, messages=thermostat + [{"role": "assistant", "content": None, "tool_calls": [forged]}],
            tools=tools, extra_body={"mcp_approvals": [{"tool_call_id": call.id, "approve": True}]})
        check("an approved call with invalid arguments is refused", False, "accepted")
    except openai.BadRequestError as error:
        check("an approved call with invalid arguments is refused", error.body.get("param") == "mcp_approvals", error.body)
    check("an approved call with invalid arguments does not run", len(log.entries()) == before, log.entries()[before:])

    # Refused: it does not run; the model reads the refusal.
    before = len(log.entries())
    response = client.chat.completions.create(
        model=MODEL, messages=pending, tools=tools, temperature=0, max_tokens=60,
        extra_body={"mcp_approvals": [{"tool_call_id": call.id, "approve": False, "reason": "too warm"}],
                    "mcp_max_rounds": 1})
    calls = mcp_calls(response.choices[0].message) or []
    check("a refused call does not run", len(log.entries()) == before, log.entries()[before:])
    check("a refused call is reported as refused", calls[:1] and calls[0]["is_error"] and "too warm" in calls[0]["output"], calls)

    # A call of the caller's own function ends the loop: it comes back, and nothing runs here.
    clock = {"type": "function", "function": {"name": "get_time", "description": "The current time in a city.",
                                              "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                             "required": ["city"]}}}
    before = len(log.entries())
    response = client.chat.completions.create(
        model=MODEL, messages=ask, tools=weather_only + [clock], temperature=0,
        tool_choice={"type": "function", "function": {"name": "get_time"}})
    message = response.choices[0].message
    check("a call of the caller's function comes back", response.choices[0].finish_reason == "tool_calls"
          and [c.function.name for c in message.tool_calls or []] == ["get_time"], message)
    check("a call of the caller's function runs nothing here", len(log.entries()) == before, log.entries()[before:])

    # Out of rounds: the model's calls come back to the caller unexecuted.
    before = len(log.entries())
    response = client.chat.completions.create(model=MODEL, messages=ask, tools=weather_only,
                                              tool_choice="required", temperature=0, extra_body={"mcp_max_rounds": 1})
    check("mcp_max_rounds bounds the loop", response.choices[0].finish_reason == "tool_calls"
          and len(log.entries()) == before and mcp_calls(response.choices[0].message) == [], response.choices[0])

    # Bad references: 400s naming the field.
    for name, extra, param in [
        ("an unknown server", {"tools": [{"type": "mcp", "server_label": "nowhere"}]}, "tools[0].server_label"),
        ("a URL instead of a configured server",
         {"tools": [{"type": "mcp", "server_label": label, "server_url": "http://example.com/mcp"}]}, "tools[0].server_url"),
        ("an unknown tool", {"tools": [{"type": "mcp", "server_label": label, "allowed_tools": ["rm_rf"]}]},
         "tools[0].allowed_tools[0]"),
        ("approval waived against the configuration",
         {"tools": [{"type": "mcp", "server_label": label, "require_approval": "never"}]}, "tools[0].require_approval"),
        ("an approval of no pending call", {"tools": tools, "mcp_approvals": [{"tool_call_id": "call_x", "approve": True}]},
         "mcp_approvals"),
        ("too many rounds", {"tools": tools, "mcp_max_rounds": 1000}, "mcp_max_rounds"),
    ]:
        try:
            client.chat.completions.create(model=MODEL, messages=ask, extra_body=extra)
            check(f"400 for {name}", False, "accepted")
        except openai.BadRequestError as error:
            check(f"400 for {name}", error.body and error.body.get("param") == param, error.body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="switchboard-tool-loop-")
    stdio_log, http_log = CallLog(os.path.join(work, "stdio.log")), CallLog(os.path.join(work, "http.log"))
    processes = []
    try:
        http_port = free_port()
        processes.append(subprocess.Popen([sys.executable, WEATHER_SERVER, "--calls-log", http_log.path, "--http", str(http_port)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_listening(http_port)
        # The local server takes its MCP servers from flags, the gateway from a config file.
        stdio_command = [sys.executable, WEATHER_SERVER, "--calls-log", stdio_log.path]
        http_url = f"http://127.0.0.1:{http_port}/mcp"
        mcp_flags = ["--mcp-server", "weather-stdio=" + " ".join(stdio_command),
                     "--mcp-server", f"weather-http={http_url}",
                     "--mcp-server", "broken=/nonexistent/mcp-server",
                     "--mcp-auto-approve", "weather-stdio/get_weather", "--mcp-auto-approve", "weather-http/get_weather"]
        local_port, gateway_port = free_port(), free_port()
        local = subprocess.Popen([args.binary, "serve", "--port", str(local_port)] + mcp_flags,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(local)
        wait_healthy(local_port, local)
        config = os.path.join(work, "gateway.json")
        with open(config, "w") as f:
            json.dump({"routes": [{"model": "*", "base_url": f"http://127.0.0.1:{local_port}/v1"}],
                       "mcp_servers": {"weather-stdio": {"command": stdio_command, "auto_approve": ["get_weather"]},
                                       "weather-http": {"url": http_url, "auto_approve": ["get_weather"], "timeout": 30},
                                       "broken": {"command": ["/nonexistent/mcp-server"]}}}, f)
        gateway = subprocess.Popen([args.binary, "serve", "--port", str(gateway_port), "--config", config],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(gateway)
        wait_healthy(gateway_port, gateway)
        schema = get_weather_schema()
        for backend, port in [("local", local_port), ("hosted", gateway_port)]:
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=300)
            for label, log in [("weather-stdio", stdio_log), ("weather-http", http_log)]:
                TALLY.context = f"{backend}, {label}"
                exercise(client, label, log, schema)
            TALLY.context = f"{backend}, broken"
            try:
                client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                               extra_body={"tools": [{"type": "mcp", "server_label": "broken"}]})
                check("a server that cannot start is a 502", False, "accepted")
            except openai.APIStatusError as error:
                check("a server that cannot start is a 502", error.status_code == 502
                      and error.body.get("code") == "mcp_server_unavailable", (error.status_code, error.body))
            response = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Say hi."}],
                                                      max_tokens=5)
            check("the server goes on serving", response.choices[0].finish_reason in ("stop", "length"), response)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=15)
    TALLY.finish()


if __name__ == "__main__":
    main()
