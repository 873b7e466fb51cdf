#!/usr/bin/env python3
"""A fake Anthropic Messages API on loopback, for the conformance run through a gateway.

It refuses what the real API refuses (headers, required and unknown fields, alternating roles
from a user turn, block types per role, empty text, tool results that must answer exactly the
previous turn's tool uses, tool definitions and choice, parameter ranges) with Anthropic's error
shape, and answers a valid request by translating it to an OpenAI-compatible server (a second
Switchboard serving the default model) and the answer back, whole or as the SSE events Anthropic
sends (message_start, content blocks with text_delta / input_json_delta, message_delta,
message_stop, a ping). Standard library only.

    anthropic_upstream.py --port 9000 --backend http://127.0.0.1:8080/v1 --api-key KEY
"""
import argparse
import json
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = "2023-06-01"
TOP_LEVEL = {"model", "max_tokens", "messages", "system", "tools", "tool_choice", "stop_sequences",
             "temperature", "top_p", "top_k", "thinking", "metadata", "stream", "service_tier"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


class Invalid(Exception):
    """A request the real API refuses with a 400."""


def check(condition, message):
    if not condition:
        raise Invalid(message)


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate(body):
    check(isinstance(body, dict), "body: Input should be an object")
    for key in body:
        check(key in TOP_LEVEL, f"{key}: Extra inputs are not permitted")
    check(isinstance(body.get("model"), str) and body["model"], "model: Field required")
    max_tokens = body.get("max_tokens")
    check(isinstance(max_tokens, int) and not isinstance(max_tokens, bool), "max_tokens: Field required")
    check(max_tokens >= 1, "max_tokens: Input should be greater than or equal to 1")
    if "system" in body:
        check(isinstance(body["system"], (str, list)), "system: Input should be a valid string")
    for key in ("temperature", "top_p"):
        if key in body:
            check(is_number(body[key]) and 0 <= body[key] <= 1, f"{key}: Input should be between 0 and 1")
    if "stream" in body:
        check(isinstance(body["stream"], bool), "stream: Input should be a valid boolean")
    if "stop_sequences" in body:
        check(isinstance(body["stop_sequences"], list) and all(isinstance(s, str) and s for s in body["stop_sequences"]),
              "stop_sequences: Input should be a list of non-empty strings")
    names = set()
    for i, tool in enumerate(body.get("tools", [])):
        check(isinstance(tool, dict) and isinstance(tool.get("name"), str) and tool["name"], f"tools.{i}.name: Field required")
        check(isinstance(tool.get("input_schema"), dict) and tool["input_schema"].get("type") == "object",
              f"tools.{i}.input_schema.type: Input should be 'object'")
        for key in tool:
            check(key in ("name", "description", "input_schema", "cache_control"), f"tools.{i}.{key}: Extra inputs are not permitted")
        check(tool["name"] not in names, "tools: Tool names must be unique.")
        names.add(tool["name"])
    if "tool_choice" in body:
        choice = body["tool_choice"]
        check("tools" in body, "tool_choice: may only be specified while providing tools.")
        check(isinstance(choice, dict) and choice.get("type") in ("auto", "any", "tool", "none"),
              "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
        if choice["type"] == "tool":
            check(choice.get("name") in names, "tool_choice.name: Tool not found")
    if "thinking" in body:
        thinking = body["thinking"]
        check(isinstance(thinking, dict) and thinking.get("type") == "enabled" and isinstance(thinking.get("budget_tokens"), int),
              "thinking: invalid")
        check(thinking["budget_tokens"] >= 1024, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        check(thinking["budget_tokens"] < max_tokens, "`max_tokens` must be greater than `thinking.budget_tokens`")
    validate_messages(body.get("messages"))


def blocks_of(message, i):
    content = message.get("content")
    if isinstance(content, str):
        check(content != "", f"messages.{i}: all messages must have non-empty content")
        return [{"type": "text", "text": content}]
    check(isinstance(content, list) and content, f"messages.{i}: all messages must have non-empty content")
    return content


def validate_messages(messages):
    check(isinstance(messages, list), "messages: Field required")
    check(messages, "messages: at least one message is required")
    pending = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        check(role in ("user", "assistant"), f"messages.{i}.role: Input should be 'user' or 'assistant'")
        check(i > 0 or role == "user", 'messages: first message must use the "user" role')
        check(i == 0 or messages[i - 1]["role"] != role, 'messages: roles must alternate between "user" and "assistant"')
        allowed = {"text", "image", "tool_result"} if role == "user" else {"text", "tool_use", "thinking", "redacted_thinking"}
        results, uses = [], []
        for j, block in enumerate(blocks_of(message, i)):
            at = f"messages.{i}.content.{j}"
            kind = block.get("type") if isinstance(block, dict) else None
            check(kind in allowed, f"{at}.type: Input tag '{kind}' is not allowed in a {role} message")
            if kind == "text":
                check(isinstance(block.get("text"), str) and block["text"], f"{at}.text: text content blocks must be non-empty")
            elif kind == "tool_result":
                check(isinstance(block.get("tool_use_id"), str), f"{at}.tool_use_id: Field required")
                check(len(results) == j, f"{at}: tool_result blocks must come first in the user message")
                results.append(block["tool_use_id"])
            elif kind == "tool_use":
                check(isinstance(block.get("id"), str) and isinstance(block.get("name"), str) and isinstance(block.get("input"), dict),
                      f"{at}: tool_use needs id, name and an object input")
                uses.append(block["id"])
            elif kind == "thinking":
                check(isinstance(block.get("signature"), str) and block["signature"], f"{at}.signature: Field required")
            elif kind == "image":
                check(isinstance(block.get("source"), dict), f"{at}.source: Field required")
        if role == "user":
            check(sorted(results) == sorted(pending),
                  f"messages.{i}: tool_use ids were found without tool_result blocks immediately after: "
                  f"{[u for u in pending if u not in results]}; unexpected tool_use_id in tool_result blocks: "
                  f"{[r for r in results if r not in pending]}")
            pending = []
        else:
            pending = uses


# --- Anthropic -> OpenAI ---------------------------------------------------------------------

def text_of(content):
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content or [] if block.get("type") == "text")


def openai_request(body):
    messages = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": text_of(system)})
    for message in body["messages"]:
        blocks = blocks_of(message, 0)
        if message["role"] == "assistant":
            out = {"role": "assistant", "content": text_of(blocks) or None}
            calls = [{"id": b["id"], "type": "function", "function": {"name": b["name"], "arguments": json.dumps(b["input"])}}
                     for b in blocks if b["type"] == "tool_use"]
            if calls:
                out["tool_calls"] = calls
            messages.append(out)
            continue
        for block in blocks:
            if block["type"] == "tool_result":
                messages.append({"role": "tool", "tool_call_id": block["tool_use_id"], "content": text_of(block.get("content", "")) or " "})
        parts = []
        for block in blocks:
            if block["type"] == "text":
                parts.append({"type": "text", "text": block["text"]})
            elif block["type"] == "image":
                source = block["source"]
                url = source.get("url") or f"data:{source.get('media_type')};base64,{source.get('data')}"
                parts.append({"type": "image_url", "image_url": {"url": url}})
        if parts:
            messages.append({"role": "user", "content": parts})
    request = {"model": body["model"], "messages": messages, "max_tokens": body["max_tokens"]}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "top_p"), ("stop_sequences", "stop")):
        if ours in body:
            request[theirs] = body[ours]
    if body.get("tools"):
        request["tools"] = [{"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                                               "parameters": t["input_schema"]}} for t in body["tools"]]
        choice = body.get("tool_choice", {"type": "auto"})
        request["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}.get(choice["type"]) or \
            {"type": "function", "function": {"name": choice.get("name")}}
        if choice.get("disable_parallel_tool_use"):
            request["parallel_tool_calls"] = False
    return request


# --- OpenAI -> Anthropic ---------------------------------------------------------------------

def anthropic_message(completion, model):
    choice = completion["choices"][0]
    message = choice["message"]
    content = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        content.append({"type": "tool_use", "id": call["id"], "name": call["function"]["name"],
                        "input": json.loads(call["function"]["arguments"] or "{}")})
    usage = completion.get("usage") or {}
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {"id": "msg_" + completion.get("id", "fake").replace("chatcmpl-", ""), "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": STOP_REASONS.get(choice.get("finish_reason"), "end_turn"),
            "stop_sequence": None,
            "usage": {"input_tokens": max(0, usage.get("prompt_tokens", 0) - cached), "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": cached, "output_tokens": usage.get("completion_tokens", 0)}}


def pieces(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def sse_events(message):
    """The message as the SSE events Anthropic streams it in."""
    start = dict(message, content=[], stop_reason=None, stop_sequence=None,
                 usage=dict(message["usage"], output_tokens=1))
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            for piece in pieces(block["text"], 16):
                yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "text_delta", "text": piece}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}
            # Spaced as the real API writes it, and cut anywhere.
            for piece in pieces(json.dumps(block["input"]), 12):
                yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "input_json_delta", "partial_json": piece}}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": message["usage"]["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend = ""
    api_key = ""

    def log_message(self, *args):
        pass

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error_body(self, status, message):
        self.send_json(status, {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}})

    def backend_call(self, method, path, body=None):
        request = urllib.request.Request(self.backend + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())

    def do_GET(self):
        if self.path.split("?")[0] != "/v1/models":
            return self.send_error_body(404, f"Not found: {self.path}")
        models = self.backend_call("GET", "/models")["data"]
        data = [{"type": "model", "id": m["id"], "display_name": m["id"], "created_at": "2025-01-01T00:00:00Z"} for m in models]
        self.send_json(200, {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                             "last_id": data[-1]["id"] if data else None})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/v1/messages":
            return self.send_error_body(404, f"Not found: {self.path}")
        if self.headers.get("x-api-key") != self.api_key:
            return self.send_error_body(401, "invalid x-api-key")
        if self.headers.get("anthropic-version") != API_VERSION:
            return self.send_error_body(400, "anthropic-version: header is required")
        try:
            body = json.loads(raw)
            validate(body)
        except (ValueError, Invalid) as error:
            return self.send_error_body(400, str(error))
        try:
            completion = self.backend_call("POST", "/chat/completions", openai_request(body))
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("error", {})
            return self.send_error_body(error.code, detail.get("message", "backend error"))
        message = anthropic_message(completion, body["model"])
        if not body.get("stream"):
            return self.send_json(200, message)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for name, data in sse_events(message):
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", required=True, help="the OpenAI-compatible base URL answers come from")
    parser.add_argument("--api-key", required=True, help="the x-api-key requests must carry")
    args = parser.parse_args()
    Handler.backend = args.backend.rstrip("/")
    Handler.api_key = args.api_key
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"fake Anthropic upstream on 127.0.0.1:{args.port} -> {Handler.backend}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
