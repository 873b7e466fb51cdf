"""A small MCP server for Switchboard's server-side loop tests (Tests/Python/mcp/tool_loop.py).

It offers `get_weather` (meant to be auto-approved) and `set_thermostat` (meant to need the
caller's approval), and appends every call it receives to --calls-log as one JSON line, so the
test can tell a call that really ran from one the model merely wrote.

    python weather_server.py --calls-log FILE                 # stdio
    python weather_server.py --calls-log FILE --http PORT     # streamable HTTP at /mcp
"""
import argparse
import json

from mcp.server.mcpserver import MCPServer

parser = argparse.ArgumentParser()
parser.add_argument("--calls-log", required=True)
parser.add_argument("--http", type=int, help="serve streamable HTTP on this port instead of stdio")
args = parser.parse_args()

server = MCPServer("weather")

# What the model can only know by calling the tool.
FORECASTS = {"paris": "18°C, light rain, wind 12 km/h"}


def record(tool: str, arguments: dict) -> None:
    with open(args.calls_log, "a") as log:
        log.write(json.dumps({"tool": tool, "arguments": arguments}) + "\n")


@server.tool()
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    record("get_weather", {"city": city})
    return f"The weather in {city}: {FORECASTS.get(city.strip().lower(), '21°C, sunny, wind 5 km/h')}."


@server.tool()
def set_thermostat(celsius: int) -> str:
    """Set the home thermostat to a temperature in degrees Celsius."""
    record("set_thermostat", {"celsius": celsius})
    return f"Thermostat set to {celsius}°C."


if args.http:
    server.run("streamable-http", host="127.0.0.1", port=args.http)
else:
    server.run()
