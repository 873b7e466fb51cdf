#!/usr/bin/env python3
"""A fake Gemini API (generativelanguage.googleapis.com, v1beta) on loopback, for the conformance run through a gateway.

It refuses what the real API refuses (the x-goog-api-key header, unknown and mistyped fields as
Google's JSON parser reports them, roles, parts holding exactly one kind of data, function calls
and responses per role, function response turns that must answer exactly the previous function
call turn, function declarations and their OpenAPI-subset schemas, tool config, generation
config ranges) with Google's error shape, and answers a valid request by translating it to an
OpenAI-compatible server (a second Switchboard serving the default model) and the answer back,
whole (generateContent) or streamed as Gemini streams it (streamGenerateContent?alt=sse: one
`data:` event per text delta, each function call whole, the finish reason and usage on the
last event, no [DONE]). It also lists and gets models. Standard library only.

    gemini_upstream.py --port 9000 --backend http://127.0.0.1:8080/v1 --api-key KEY
"""
import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PACKAGE = "google.ai.generativelanguage.v1beta"
STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
            409: "ABORTED", 413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL",
            501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
# Gemini ends a turn of function calls with STOP too.
FINISH_REASONS = {"stop": "STOP", "tool_calls": "STOP", "function_call": "STOP", "length": "MAX_TOKENS",
                  "content_filter": "SAFETY"}
NO_KEY = ("Method doesn't allow unregistered callers (callers without established identity). "
          "Please use API Key or other form of API consumer identity to call this API.")
BAD_KEY = "API key not valid. Please pass a valid API key."
MAX_DEPTH = 64
FUNCTION_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")
BASE64 = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")
INTEGER = re.compile(r"^-?\d+$")
MIME_TYPES = ("text/plain", "application/json", "text/x.enum")
# Thinking budgets per reasoning effort, as the gateway maps them (the inverse is used here).
EFFORTS = ((0, "none"), (512, "minimal"), (1024, "low"), (8192, "medium"))

# The request's proto messages, field by field (lowerCamel, as Google's JSON parser also takes
# snake_case): a kind ("string", "bool", "int32", "int64", "float", "bytes", "struct", "value",
# "enum:Name", a message name), [kind] for a repeated field, ("map", kind) for a map. Fields the
# real API has but this fake does not handle are "unsupported": a 400 saying so, never ignored.
MESSAGES = {
    "GenerateContentRequest": {"contents": ["Content"], "systemInstruction": "Content", "tools": ["Tool"],
                               "toolConfig": "ToolConfig", "generationConfig": "GenerationConfig",
                               "safetySettings": ["SafetySetting"], "cachedContent": "string"},
    "Content": {"role": "string", "parts": ["Part"]},
    "Part": {"text": "string", "inlineData": "Blob", "fileData": "FileData", "functionCall": "FunctionCall",
             "functionResponse": "FunctionResponse", "executableCode": "ExecutableCode",
             "codeExecutionResult": "CodeExecutionResult", "thought": "bool", "thoughtSignature": "bytes",
             "videoMetadata": "unsupported"},
    "Blob": {"mimeType": "string", "data": "bytes"},
    "FileData": {"mimeType": "string", "fileUri": "string"},
    "FunctionCall": {"id": "string", "name": "string", "args": "struct"},
    "FunctionResponse": {"id": "string", "name": "string", "response": "struct", "parts": "unsupported",
                         "willContinue": "unsupported", "scheduling": "unsupported"},
    "ExecutableCode": {"language": "enum:Language", "code": "string"},
    "CodeExecutionResult": {"outcome": "enum:Outcome", "output": "string"},
    "Tool": {"functionDeclarations": ["FunctionDeclaration"], "codeExecution": "unsupported",
             "googleSearch": "unsupported", "googleSearchRetrieval": "unsupported", "urlContext": "unsupported",
             "fileSearch": "unsupported", "googleMaps": "unsupported", "computerUse": "unsupported"},
    "FunctionDeclaration": {"name": "string", "description": "string", "parameters": "Schema",
                            "parametersJsonSchema": "unsupported", "response": "unsupported",
                            "responseJsonSchema": "unsupported", "behavior": "unsupported"},
    "Schema": {"type": "enum:Type", "format": "string", "title": "string", "description": "string",
               "nullable": "bool", "enum": ["string"], "maxItems": "int64", "minItems": "int64",
               "properties": ("map", "Schema"), "required": ["string"], "minProperties": "int64",
               "maxProperties": "int64", "minLength": "int64", "maxLength": "int64", "pattern": "string",
               "example": "value", "anyOf": ["Schema"], "propertyOrdering": ["string"], "default": "value",
               "items": "Schema", "minimum": "float", "maximum": "float"},
    "ToolConfig": {"functionCallingConfig": "FunctionCallingConfig", "retrievalConfig": "unsupported"},
    "FunctionCallingConfig": {"mode": "enum:Mode", "allowedFunctionNames": ["string"]},
    "GenerationConfig": {"stopSequences": ["string"], "responseMimeType": "string", "responseSchema": "Schema",
                         "responseJsonSchema": "value", "candidateCount": "int32", "maxOutputTokens": "int32",
                         "temperature": "float", "topP": "float", "topK": "int32", "seed": "int32",
                         "presencePenalty": "float", "frequencyPenalty": "float", "responseLogprobs": "bool",
                         "logprobs": "int32", "thinkingConfig": "ThinkingConfig",
                         "responseModalities": "unsupported", "speechConfig": "unsupported",
                         "mediaResolution": "unsupported", "imageConfig": "unsupported",
                         "enableEnhancedCivicAnswers": "unsupported"},
    "ThinkingConfig": {"thinkingBudget": "int32", "includeThoughts": "bool", "thinkingLevel": "enum:ThinkingLevel"},
    "SafetySetting": {"category": "enum:HarmCategory", "threshold": "enum:HarmBlockThreshold"},
}
ENUMS = {
    "Type": ("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"),
    "Mode": ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"),
    "ThinkingLevel": ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"),
    "Language": ("LANGUAGE_UNSPECIFIED", "PYTHON"),
    "Outcome": ("OUTCOME_UNSPECIFIED", "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"),
    "HarmCategory": ("HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
                     "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT",
                     "HARM_CATEGORY_CIVIC_INTEGRITY"),
    "HarmBlockThreshold": ("HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
                           "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF"),
}
PART_DATA = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
             "codeExecutionResult")
SCALAR_TYPES = {"string": "TYPE_STRING", "bool": "TYPE_BOOL", "int32": "TYPE_INT32", "int64": "TYPE_INT64",
                "float": "TYPE_FLOAT", "bytes": "TYPE_BYTES"}


class Invalid(Exception):
    """A request the real API refuses with a 400."""


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def snake(name):
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), name)


# --- Parsing, as Google's JSON parser does it --------------------------------------------------

def type_name(kind):
    """A field kind as Google's parser names it in `Invalid value` errors."""
    if kind == "struct":
        return "type.googleapis.com/google.protobuf.Struct"
    if kind in MESSAGES or kind.startswith("enum:"):
        return f"type.googleapis.com/{PACKAGE}.{kind.removeprefix('enum:')}"
    return SCALAR_TYPES.get(kind, kind)


class Parser:
    """The body as proto messages: unknown names and mistyped values are errors (all of them, in
    Google's words); the result has lowerCamel keys, nulls dropped and enums upper-cased."""

    def __init__(self):
        self.errors = []

    def invalid(self, at, kind, value):
        self.errors.append(f"Invalid value at '{at}' ({kind}), {json.dumps(value)}")

    def parse(self, value, kind, at):
        if isinstance(kind, list):
            if not isinstance(value, list):
                return self.invalid(at, type_name(kind[0]), value)
            items = [self.parse(item, kind[0], f"{at}[{i}]") for i, item in enumerate(value)]
            return [item for item in items if item is not None]
        if isinstance(kind, tuple):
            if not isinstance(value, dict):
                return self.invalid(at, type_name(kind[1]), value)
            entries = {key: self.parse(item, kind[1], f"{at}[{i}].value") for i, (key, item) in enumerate(value.items())}
            return {key: item for key, item in entries.items() if item is not None}
        if kind in MESSAGES:
            return self.message(value, kind, at)
        if kind == "value":
            return value
        if kind == "struct":
            if isinstance(value, dict):
                return value
            return self.invalid(at, type_name(kind), value)
        if kind.startswith("enum:"):
            if isinstance(value, str) and value.upper() in ENUMS[kind[5:]]:
                return value.upper()
            return self.invalid(at, type_name(kind), value)
        if kind == "string" and isinstance(value, str):
            return value
        if kind == "bool" and isinstance(value, bool):
            return value
        if kind in ("int32", "int64"):
            if isinstance(value, str) and INTEGER.match(value):
                value = int(value)
            if is_number(value) and float(value).is_integer():
                return int(value)
        if kind == "float":
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    pass
            if is_number(value):
                return value
        if kind == "bytes" and isinstance(value, str):
            if BASE64.match(value) and len(value.rstrip("=")) % 4 != 1:
                return value
            return self.errors.append(f"Invalid value at '{at}' (TYPE_BYTES), Base64 decoding failed for {json.dumps(value)}")
        return self.invalid(at, type_name(kind), value)

    def message(self, value, name, at):
        if not isinstance(value, dict):
            return self.invalid(at, type_name(name), value)
        fields = MESSAGES[name]
        names = dict({snake(field): field for field in fields}, **{field: field for field in fields})
        where = f" at '{at}'" if at else ""
        out = {}
        for key, item in value.items():
            field = names.get(key)
            inner = f"{at}.{snake(field or key)}" if at else snake(field or key)
            if field is None:
                self.errors.append(f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.')
            elif field in out:
                self.errors.append(f'Invalid JSON payload received. Duplicate field "{key}"{where}.')
            elif item is None:
                continue
            elif fields[field] == "unsupported":
                self.errors.append(f"'{inner}' is a field of the real Gemini API this fake upstream does not support.")
            elif name == "Part" and field in PART_DATA and any(data in out for data in PART_DATA):
                self.errors.append(f"Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '{key}'{where}.")
            else:
                parsed = self.parse(item, fields[field], inner)
                if parsed is not None:
                    out[field] = parsed
        return out


# --- Validation, as the API then does it -------------------------------------------------------

class Checker:
    """The parsed request's semantic errors, as `* GenerateContentRequest.<field>: <why>` lines."""

    def __init__(self):
        self.errors = []

    def fail(self, field, message):
        self.errors.append(f"* GenerateContentRequest.{field}: {message}\n")

    def schema(self, schema, at, depth=0):
        if depth > MAX_DEPTH:
            return self.fail(at, f"schema nested deeper than {MAX_DEPTH} levels")
        kind = schema.get("type", "TYPE_UNSPECIFIED")
        if kind == "TYPE_UNSPECIFIED" and "anyOf" not in schema:
            self.fail(f"{at}.type", "must be specified when not using one_of type")
        if "enum" in schema and kind != "STRING":
            self.fail(f"{at}.enum", "only allowed for STRING type")
        properties = schema.get("properties")
        if properties is not None and kind != "OBJECT":
            self.fail(f"{at}.properties", "only allowed for OBJECT type")
        elif properties is not None and not properties:
            self.fail(f"{at}.properties", "should be non-empty for OBJECT type")
        if "required" in schema and kind != "OBJECT":
            self.fail(f"{at}.required", "only allowed for OBJECT type")
        for i, name in enumerate(schema.get("required", [])):
            if name not in (properties or {}):
                self.fail(f"{at}.required[{i}]", "property is not defined")
        if kind == "ARRAY" and "items" not in schema:
            self.fail(f"{at}.items", "missing field.")
        if "items" in schema and kind != "ARRAY":
            self.fail(f"{at}.items", "only allowed for ARRAY type")
        if "anyOf" in schema and not schema["anyOf"]:
            self.fail(f"{at}.any_of", "must not be empty")
        for key, value in (properties or {}).items():
            self.schema(value, f"{at}.properties[{key}]", depth + 1)
        if "items" in schema:
            self.schema(schema["items"], f"{at}.items", depth + 1)
        for i, value in enumerate(schema.get("anyOf", [])):
            self.schema(value, f"{at}.any_of[{i}]", depth + 1)

    def part(self, part, at, role):
        data = [field for field in PART_DATA if field in part]
        if not data:
            return self.fail(f"{at}.data", "required oneof field 'data' must have one initialized field")
        kind = data[0]
        if kind == "functionCall":
            if role != "model":
                self.fail(f"{at}.function_call", 'function_call parts are only allowed in a content with role "model"')
            if not part[kind].get("name"):
                self.fail(f"{at}.function_call.name", "Name cannot be empty.")
        elif kind == "functionResponse":
            if role != "user":
                self.fail(f"{at}.function_response", 'function_response parts are only allowed in a content with role "user"')
            if not part[kind].get("name"):
                self.fail(f"{at}.function_response.name", "Name cannot be empty.")
            if "response" not in part[kind]:
                self.fail(f"{at}.function_response.response", "missing field.")
        elif kind == "inlineData":
            if not part[kind].get("mimeType"):
                self.fail(f"{at}.inline_data.mime_type", "missing field.")
            if "data" not in part[kind]:
                self.fail(f"{at}.inline_data.data", "missing field.")
        elif kind == "fileData" and not part[kind].get("fileUri"):
            self.fail(f"{at}.file_data.file_uri", "missing field.")
        elif kind == "executableCode" and "code" not in part[kind]:
            self.fail(f"{at}.executable_code.code", "missing field.")
        if part.get("thought") and kind != "text":
            self.fail(f"{at}.thought", "only allowed on text parts")

    def request(self, body):
        contents = body.get("contents") or []
        if not contents:
            self.fail("contents", "contents is not specified")
        for i, content in enumerate(contents):
            if not content.get("parts"):
                self.fail(f"contents[{i}].parts", "contents.parts must not be empty.")
            role = content.get("role", "user" if len(contents) == 1 else None)
            if role not in ("user", "model"):
                raise Invalid("Please use a valid role: user, model.")
            for j, part in enumerate(content.get("parts", [])):
                self.part(part, f"contents[{i}].parts[{j}]", role)
        if "systemInstruction" in body:
            parts = body["systemInstruction"].get("parts", [])
            if not parts:
                self.fail("system_instruction.parts", "contents.parts must not be empty.")
            for j, part in enumerate(parts):
                if set(part) != {"text"}:
                    self.fail(f"system_instruction.parts[{j}]", "only text parts are allowed in system_instruction")
        names = self.tools(body.get("tools", []))
        if "toolConfig" in body:
            self.tool_config(body["toolConfig"], names, "tools" in body)
        self.generation_config(body.get("generationConfig", {}))
        categories = set()
        for i, setting in enumerate(body.get("safetySettings", [])):
            for field in ("category", "threshold"):
                if field not in setting:
                    self.fail(f"safety_settings[{i}].{field}", "missing field.")
            if setting.get("category") in categories:
                self.fail(f"safety_settings[{i}].category", "duplicate category in safety_settings")
            categories.add(setting.get("category"))
        if self.errors:
            raise Invalid("".join(self.errors))
        check_turns(contents)

    def tools(self, tools):
        names = []
        for i, tool in enumerate(tools):
            declarations = tool.get("functionDeclarations")
            if not declarations:
                self.fail(f"tools[{i}].tool_type", "required one_of 'tool_type' must have one initialized field")
            for j, declaration in enumerate(declarations or []):
                at = f"tools[{i}].function_declarations[{j}]"
                name = declaration.get("name", "")
                if not FUNCTION_NAME.match(name):
                    self.fail(f"{at}.name", "Invalid function name. Must start with a letter or an underscore. Must be "
                              "a-z, A-Z, 0-9, or contain underscores (_), dots (.), colons (:), or dashes (-), with a "
                              "maximum length of 64.")
                elif name in names:
                    self.fail(f"{at}.name", f"Duplicate function declaration found: {name}")
                names.append(name)
                if "parameters" in declaration:
                    self.schema(declaration["parameters"], f"{at}.parameters")
        return names

    def tool_config(self, config, names, has_tools):
        calling = config.get("functionCallingConfig")
        if calling is None:
            return
        if not has_tools:
            raise Invalid("Function calling config is set without function_declarations.")
        at = "tool_config.function_calling_config"
        mode = calling.get("mode", "MODE_UNSPECIFIED")
        allowed = calling.get("allowedFunctionNames", [])
        if allowed and mode not in ("ANY", "VALIDATED"):
            self.fail(f"{at}.allowed_function_names", "allowed_function_names can only be set when the mode is ANY or VALIDATED")
        for i, name in enumerate(allowed):
            if name not in names:
                self.fail(f"{at}.allowed_function_names[{i}]", f'"{name}" is not the name of a declared function')

    def generation_config(self, config):
        at = "generation_config"
        ranges = {"temperature": (0, 2), "topP": (0, 1), "presencePenalty": (-2, 2), "frequencyPenalty": (-2, 2),
                  "logprobs": (0, 20), "maxOutputTokens": (1, 2 ** 31 - 1), "topK": (1, 2 ** 31 - 1)}
        for field, (low, high) in ranges.items():
            if field in config and not low <= config[field] <= high:
                self.fail(f"{at}.{snake(field)}", f"{snake(field)} must be in the range [{low}, {high}]")
        if len(config.get("stopSequences", [])) > 5:
            self.fail(f"{at}.stop_sequences", "the number of stop sequences must be at most 5")
        if config.get("candidateCount", 1) != 1:
            self.fail(f"{at}.candidate_count", "this fake upstream answers one candidate only (candidate_count 1)")
        if "logprobs" in config and not config.get("responseLogprobs"):
            self.fail(f"{at}.logprobs", "logprobs can only be set when response_logprobs is true")
        mime = config.get("responseMimeType", "text/plain")
        if mime not in MIME_TYPES:
            self.fail(f"{at}.response_mime_type", "allowed mimetypes are `text/plain`, `application/json` and `text/x.enum`.")
        if "responseSchema" in config and "responseJsonSchema" in config:
            self.fail(f"{at}.response_schema", "only one of response_schema and response_json_schema may be set")
        for field in ("responseSchema", "responseJsonSchema"):
            if field in config and mime not in ("application/json", "text/x.enum"):
                self.fail(f"{at}.{snake(field)}", f"{snake(field)} needs response_mime_type application/json or text/x.enum")
        if "responseSchema" in config:
            self.schema(config["responseSchema"], f"{at}.response_schema")
        if mime == "text/x.enum" and (config.get("responseSchema", {}).get("type") != "STRING" or
                                      not config["responseSchema"].get("enum")):
            self.fail(f"{at}.response_schema", "text/x.enum needs a response_schema of type STRING with an enum")
        thinking = config.get("thinkingConfig", {})
        if "thinkingBudget" in thinking and "thinkingLevel" in thinking:
            self.fail(f"{at}.thinking_config", "You can only set only one of thinking budget and thinking level.")
        if not -1 <= thinking.get("thinkingBudget", 0) <= 32768:
            self.fail(f"{at}.thinking_config.thinking_budget", "thinking_budget must be -1 (dynamic) or in the range [0, 32768]")


def function_calls(content):
    return [part["functionCall"] for part in content["parts"] if "functionCall" in part]


def function_responses(content):
    return [part["functionResponse"] for part in content["parts"] if "functionResponse" in part]


def pair_responses(calls, responses):
    """For each function response, the index of the call it answers (None for none): by id when
    the response has one and a call carries it, otherwise the first unanswered call of that name."""
    taken, pairs = set(), []
    ids = {call.get("id"): k for k, call in enumerate(calls) if call.get("id")}
    for response in responses:
        if response.get("id") and ids:
            k = ids.get(response["id"])
        else:
            k = next((k for k, call in enumerate(calls) if k not in taken and call["name"] == response["name"]), None)
        if k in taken:
            k = None
        taken.add(k)
        pairs.append(k)
    return pairs


def check_turns(contents):
    """Function call turns follow a user turn; function response turns answer exactly the
    function call turn before them."""
    count = ("Please ensure that the number of function response parts is equal to the number of function "
             "call parts of the function call turn.")
    for i, content in enumerate(contents):
        calls, responses = function_calls(content), function_responses(content)
        if calls and (i == 0 or contents[i - 1].get("role", "user") != "user"):
            raise Invalid("Please ensure that function call turn comes immediately after a user turn or after a "
                          "function response turn.")
        if calls and i + 1 < len(contents) and not function_responses(contents[i + 1]):
            raise Invalid(count)
        if not responses:
            continue
        previous = function_calls(contents[i - 1]) if i > 0 and contents[i - 1].get("role") == "model" else []
        if not previous:
            raise Invalid("Please ensure that function response turn comes immediately after a function call turn.")
        if len(responses) != len(previous):
            raise Invalid(count)
        where = [j for j, part in enumerate(content["parts"]) if "functionResponse" in part]
        for j, response, k in zip(where, responses, pair_responses(previous, responses)):
            at = f"* GenerateContentRequest.contents[{i}].parts[{j}].function_response"
            if k is None and response.get("id") and any(call.get("id") for call in previous):
                raise Invalid(f'{at}.id: "{response["id"]}" is not the id of a function call of the function call turn\n')
            if k is None or previous[k]["name"] != response["name"]:
                raise Invalid(f'{at}.name: "{response["name"]}" is not the name of a function call of the function '
                              f"call turn\n")


def validate(body):
    parser = Parser()
    if not isinstance(body, dict):
        raise Invalid(f"Invalid value at '' (type.googleapis.com/{PACKAGE}.GenerateContentRequest), {json.dumps(body)}")
    parsed = parser.message(body, "GenerateContentRequest", "")
    if parser.errors:
        raise Invalid("\n".join(parser.errors))
    Checker().request(parsed)
    return parsed


# --- Gemini -> OpenAI ------------------------------------------------------------------------

def json_schema(schema):
    """A Gemini Schema as JSON Schema (what it says, without title, format, example, ordering)."""
    out = {}
    kind = schema.get("type", "TYPE_UNSPECIFIED")
    nullable = schema.get("nullable") is True
    if kind != "TYPE_UNSPECIFIED":
        out["type"] = kind.lower()
        if nullable and kind != "NULL":
            out["type"] = [out["type"], "null"]
    for key in ("description", "pattern", "minimum", "maximum", "default", "minItems", "maxItems", "minLength",
                "maxLength", "minProperties", "maxProperties", "required"):
        if key in schema:
            out[key] = schema[key]
    if "enum" in schema:
        out["enum"] = schema["enum"] + ([None] if nullable else [])
    if "properties" in schema:
        out["properties"] = {key: json_schema(value) for key, value in schema["properties"].items()}
    if "items" in schema:
        out["items"] = json_schema(schema["items"])
    if "anyOf" in schema:
        out["anyOf"] = [json_schema(value) for value in schema["anyOf"]] + ([{"type": "null"}] if nullable and "type" not in out else [])
    return out


def tool_content(response):
    if len(response) == 1 and isinstance(response.get("output", response.get("error")), str):
        return next(iter(response.values()))
    return json.dumps(response)


def openai_request(body, model):
    messages = []
    system = body.get("systemInstruction")
    if system:
        messages.append({"role": "system", "content": "\n".join(part["text"] for part in system["parts"])})
    counter, answered = 0, []  # the last function call turn's calls, with the ids they go by
    for content in body["contents"]:
        parts = content["parts"]
        if content.get("role", "user") == "model":
            answered = []
            for call in function_calls(content):
                counter += 1
                answered.append((call, call.get("id") or f"call_{counter}"))
            calls = [{"id": call_id, "type": "function",
                      "function": {"name": call["name"], "arguments": json.dumps(call.get("args", {}))}} for call, call_id in answered]
            text = "".join(part["text"] for part in parts if "text" in part and not part.get("thought"))
            text += "".join(code_text(part) for part in parts)
            out = {"role": "assistant", "content": text or (None if calls else "")}
            thoughts = "".join(part["text"] for part in parts if "text" in part and part.get("thought"))
            if thoughts:
                out["reasoning_content"] = thoughts
            if calls:
                out["tool_calls"] = calls
            messages.append(out)
            continue
        responses = function_responses(content)
        for response, k in zip(responses, pair_responses([call for call, _ in answered], responses)):
            messages.append({"role": "tool", "tool_call_id": answered[k][1], "content": tool_content(response["response"])})
        answered = []
        pieces = []
        for part in parts:
            if "text" in part:
                pieces.append({"type": "text", "text": part["text"]})
            elif "inlineData" in part:
                blob = part["inlineData"]
                pieces.append({"type": "image_url", "image_url": {"url": f"data:{blob['mimeType']};base64,{blob['data']}"}})
            elif "fileData" in part:
                pieces.append({"type": "image_url", "image_url": {"url": part["fileData"]["fileUri"]}})
            elif code_text(part):
                pieces.append({"type": "text", "text": code_text(part)})
        if pieces:
            messages.append({"role": "user", "content": pieces})
    request = {"model": model, "messages": messages}
    config = body.get("generationConfig", {})
    for ours, theirs in (("temperature", "temperature"), ("topP", "top_p"), ("maxOutputTokens", "max_tokens"),
                         ("stopSequences", "stop"), ("seed", "seed"), ("presencePenalty", "presence_penalty"),
                         ("frequencyPenalty", "frequency_penalty"), ("responseLogprobs", "logprobs"),
                         ("logprobs", "top_logprobs")):
        if ours in config:
            request[theirs] = config[ours]
    if not request.get("stop"):
        request.pop("stop", None)
    mime = config.get("responseMimeType")
    if "responseSchema" in config:
        request["response_format"] = {"type": "json_schema",
                                      "json_schema": {"name": "response", "schema": json_schema(config["responseSchema"])}}
    elif "responseJsonSchema" in config:
        request["response_format"] = {"type": "json_schema", "json_schema": {"name": "response", "schema": config["responseJsonSchema"]}}
    elif mime == "application/json":
        request["response_format"] = {"type": "json_object"}
    thinking = config.get("thinkingConfig", {})
    if thinking.get("thinkingLevel", "THINKING_LEVEL_UNSPECIFIED") != "THINKING_LEVEL_UNSPECIFIED":
        request["reasoning_effort"] = thinking["thinkingLevel"].lower()
    elif thinking.get("thinkingBudget", -1) >= 0:
        request["reasoning_effort"] = next((effort for budget, effort in EFFORTS if thinking["thinkingBudget"] <= budget), "high")
    declarations = [d for tool in body.get("tools", []) for d in tool.get("functionDeclarations", [])]
    if declarations:
        calling = body.get("toolConfig", {}).get("functionCallingConfig", {})
        mode = calling.get("mode", "AUTO")
        allowed = calling.get("allowedFunctionNames", [])
        if allowed:
            declarations = [d for d in declarations if d["name"] in allowed]
        request["tools"] = [{"type": "function", "function": dict(
            {"name": d["name"], "parameters": json_schema(d["parameters"]) if "parameters" in d else {"type": "object", "properties": {}}},
            **({"description": d["description"]} if "description" in d else {}))} for d in declarations]
        if mode == "ANY" and len(declarations) == 1 and allowed:
            request["tool_choice"] = {"type": "function", "function": {"name": declarations[0]["name"]}}
        else:
            request["tool_choice"] = {"ANY": "required", "NONE": "none"}.get(mode, "auto")
    return request


def code_text(part):
    if "executableCode" in part:
        return f"```python\n{part['executableCode'].get('code', '')}\n```\n"
    if "codeExecutionResult" in part:
        return part["codeExecutionResult"].get("output", "")
    return ""


# --- OpenAI -> Gemini ------------------------------------------------------------------------

class Options:
    """What shapes the answer beyond the backend's completion."""

    def __init__(self, body, model):
        config = body.get("generationConfig", {})
        self.model = model
        self.include_thoughts = config.get("thinkingConfig", {}).get("includeThoughts") is True
        self.enum = config.get("responseMimeType") == "text/x.enum"
        self.logprobs = config.get("responseLogprobs") is True


def response_id(completion_id):
    return (completion_id or uuid.uuid4().hex).replace("chatcmpl-", "")


def function_call_part(call):
    arguments = json.loads(call["function"].get("arguments") or "{}")
    if not isinstance(arguments, dict):
        raise ValueError(f"the backend's arguments for {call['function'].get('name')} are not a JSON object")
    return {"functionCall": {"name": call["function"]["name"], "args": arguments}}


def enum_text(text):
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) else text


def usage_metadata(usage):
    prompt = usage.get("prompt_tokens", 0)
    completion = usage.get("completion_tokens", 0)
    thoughts = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    out = {"promptTokenCount": prompt, "candidatesTokenCount": completion - thoughts, "totalTokenCount": prompt + completion}
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    if cached:
        out["cachedContentTokenCount"] = cached
    return out


def logprobs_result(entries):
    chosen = [{"token": e.get("token", ""), "logProbability": e.get("logprob", 0)} for e in entries]
    top = [{"candidates": [{"token": t.get("token", ""), "logProbability": t.get("logprob", 0)}
                           for t in e.get("top_logprobs") or []]} for e in entries]
    return {"topCandidates": top, "chosenCandidates": chosen, "logProbabilitySum": sum(c["logProbability"] for c in chosen)}


def candidate(parts, finish=None, logprobs=None):
    # Proto3 JSON leaves an empty repeated field out: a candidate with nothing has no `parts`.
    out = {"content": {"parts": parts, "role": "model"} if parts else {"role": "model"}}
    if finish:
        out["finishReason"] = finish
    if logprobs:
        out["logprobsResult"] = logprobs_result(logprobs)
        out["avgLogprobs"] = out["logprobsResult"]["logProbabilitySum"] / len(logprobs)
    out["index"] = 0
    return out


def gemini_response(completion, options):
    choice = completion["choices"][0]
    message = choice["message"]
    parts = []
    if options.include_thoughts and message.get("reasoning_content"):
        parts.append({"text": message["reasoning_content"], "thought": True})
    if message.get("content"):
        parts.append({"text": enum_text(message["content"]) if options.enum else message["content"]})
    parts += [function_call_part(call) for call in message.get("tool_calls") or []]
    logprobs = ((choice.get("logprobs") or {}).get("content") or []) if options.logprobs else []
    return {"candidates": [candidate(parts, FINISH_REASONS.get(choice.get("finish_reason"), "STOP"), logprobs)],
            "usageMetadata": usage_metadata(completion.get("usage") or {}), "modelVersion": options.model,
            "responseId": response_id(completion.get("id"))}


def model_object(model_id):
    return {"name": f"models/{model_id}", "version": "001", "displayName": model_id,
            "description": f"{model_id}, served by the fake Gemini upstream's OpenAI-compatible backend",
            "inputTokenLimit": 8192, "outputTokenLimit": 8192,
            "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
            "temperature": 1.0, "maxTemperature": 2.0, "topP": 0.95, "topK": 64}


class BackendError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Stream:
    """The backend's SSE chunks as Gemini's events: one per text delta, each function call whole
    once the backend is done, the finish reason and usage on the last event (held back one event)."""

    def __init__(self, wfile, options):
        self.wfile = wfile
        self.options = options
        self.id = None
        self.pending = None
        self.calls = {}
        self.finish = None
        self.usage = {}
        self.logprobs = []
        self.text = ""

    def send(self, event):
        self.wfile.write(f"data: {json.dumps(event)}\r\n\r\n".encode())
        self.wfile.flush()

    def emit(self, parts):
        if self.pending:
            self.send(self.pending)
        self.pending = {"candidates": [candidate(parts)], "modelVersion": self.options.model,
                        "responseId": response_id(self.id)}

    def chunk(self, chunk):
        self.id = self.id or chunk.get("id")
        self.usage = chunk.get("usage") or self.usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if self.options.include_thoughts and delta.get("reasoning_content"):
                self.emit([{"text": delta["reasoning_content"], "thought": True}])
            if delta.get("content") and self.options.enum:
                self.text += delta["content"]
            elif delta.get("content"):
                self.emit([{"text": delta["content"]}])
            for call in delta.get("tool_calls") or []:
                whole = self.calls.setdefault(call.get("index", len(self.calls)), {"function": {"name": "", "arguments": ""}})
                function = call.get("function") or {}
                whole["function"]["name"] += function.get("name") or ""
                whole["function"]["arguments"] += function.get("arguments") or ""
            if self.options.logprobs:
                self.logprobs += (choice.get("logprobs") or {}).get("content") or []
            self.finish = choice.get("finish_reason") or self.finish

    def end(self):
        if self.text:
            self.emit([{"text": enum_text(self.text)}])
        for index in sorted(self.calls):
            self.emit([function_call_part(self.calls[index])])
        if self.pending is None:
            self.emit([])
        last = self.pending["candidates"][0]
        last["finishReason"] = FINISH_REASONS.get(self.finish, "STOP")
        if self.logprobs:
            last.update({k: v for k, v in candidate([], None, self.logprobs).items() if k in ("logprobsResult", "avgLogprobs")})
        self.pending["usageMetadata"] = usage_metadata(self.usage)
        self.send(self.pending)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend = ""
    api_key = ""

    def log_message(self, format, *args):
        print(f"[fake gemini] {format % args}", file=sys.stderr, flush=True)

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error_body(self, status, message):
        google_status = STATUSES.get(status, "INVALID_ARGUMENT" if status < 500 else "INTERNAL")
        self.log_message("%d %s: %s", status, google_status, message.strip())
        self.send_json(status, {"error": {"code": status, "message": message, "status": google_status}})

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def backend_open(self, method, path, body=None):
        request = urllib.request.Request(self.backend + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        try:
            return urllib.request.urlopen(request, timeout=300)
        except urllib.error.HTTPError as error:
            raw = error.read() or b"{}"
            try:
                detail = json.loads(raw).get("error", {})
                message = detail.get("message", "backend error") if isinstance(detail, dict) else str(detail)
            except (ValueError, AttributeError):
                message = raw.decode(errors="replace")
            raise BackendError(error.code, message)
        except OSError as error:
            raise BackendError(503, f"The backend is unavailable: {error}")

    def backend_call(self, method, path, body=None):
        with self.backend_open(method, path, body) as response:
            return json.loads(response.read())

    def route(self):
        """(action, model, query) for the request, or None for a path the API does not have."""
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/v1beta/models":
            return ("list", None, query) if self.command == "GET" else None
        if not url.path.startswith("/v1beta/models/"):
            return None
        rest = urllib.parse.unquote(url.path[len("/v1beta/models/"):])
        if self.command == "GET":
            return ("get", rest, query) if rest else None
        model, _, method = rest.rpartition(":")
        if self.command == "POST" and model and method in ("generateContent", "streamGenerateContent"):
            return (method, model, query)
        return None

    def authorized(self):
        key = self.headers.get("x-goog-api-key")
        if key is None:
            self.send_error_body(403, NO_KEY)
        elif key != self.api_key:
            self.send_error_body(400, BAD_KEY)
        return key == self.api_key

    def handle_any(self):
        raw = self.read_body() if self.command == "POST" else b""
        route = self.route()
        if route is None:
            return self.send_error_body(404, f"Not found: {self.command} {self.path}")
        if not self.authorized():
            return
        action, model, query = route
        try:
            if action == "list":
                return self.list_models(query)
            if action == "get":
                return self.get_model(model)
            return self.generate(model, raw, stream=action == "streamGenerateContent", query=query)
        except BackendError as error:
            return self.send_error_body(error.code, str(error))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def model_ids(self):
        return [m["id"] for m in self.backend_call("GET", "/models").get("data", [])]

    def list_models(self, query):
        ids = self.model_ids()
        try:
            size = int((query.get("pageSize") or ["50"])[0])
            start = int((query.get("pageToken") or ["0"])[0] or "0")
        except ValueError:
            return self.send_error_body(400, "Invalid pageSize or pageToken.")
        size = 50 if size <= 0 else min(size, 1000)
        if not 0 <= start <= len(ids):
            return self.send_error_body(400, "Invalid page token.")
        body = {"models": [model_object(i) for i in ids[start:start + size]]}
        if start + size < len(ids):
            body["nextPageToken"] = str(start + size)
        self.send_json(200, body)

    def get_model(self, model):
        name = model[len("models/"):] if model.startswith("models/") else model
        if name not in self.model_ids():
            return self.send_error_body(404, f"models/{name} is not found for API version v1beta, or is not supported "
                                             "for generateContent. Call ListModels to see the list of available models "
                                             "and their supported methods.")
        self.send_json(200, model_object(name))

    def generate(self, model, raw, stream, query):
        if stream and query.get("alt") != ["sse"]:
            return self.send_error_body(400, "This fake Gemini upstream streams only as server-sent events: "
                                             "call streamGenerateContent with ?alt=sse.")
        try:
            body = json.loads(raw)
        except ValueError:
            return self.send_error_body(400, "Invalid JSON payload received. Unexpected token.")
        except RecursionError:
            return self.send_error_body(400, "Invalid JSON payload received. Message too deeply nested.")
        try:
            body = validate(body)
        except Invalid as error:
            return self.send_error_body(400, str(error))
        except RecursionError:
            return self.send_error_body(400, f"Invalid JSON payload received. Nested deeper than {MAX_DEPTH} schema levels.")
        if "cachedContent" in body:
            return self.send_error_body(403, "CachedContent not found (or permission denied)")
        options = Options(body, model)
        request = openai_request(body, model)
        if not stream:
            completion = self.backend_call("POST", "/chat/completions", request)
            try:
                answer = gemini_response(completion, options)
            except ValueError as error:
                return self.send_error_body(500, f"Internal error: {error}")
            return self.send_json(200, answer)
        response = self.backend_open("POST", "/chat/completions", dict(request, stream=True, stream_options={"include_usage": True}))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        events = Stream(self.wfile, options)
        with response:
            try:
                for line in response:
                    line = line.decode().strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if "error" in chunk:
                        raise ValueError((chunk["error"] or {}).get("message", "backend error"))
                    events.chunk(chunk)
                events.end()
            except (BrokenPipeError, ConnectionResetError):
                pass
            except ValueError as error:
                self.log_message("500 INTERNAL mid-stream: %s", error)
                events.send({"error": {"code": 500, "message": f"Internal error: {error}", "status": "INTERNAL"}})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", required=True, help="the OpenAI-compatible base URL answers come from")
    parser.add_argument("--api-key", required=True, help="the x-goog-api-key requests must carry")
    args = parser.parse_args()
    Handler.backend = args.backend.rstrip("/")
    Handler.api_key = args.api_key
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"fake Gemini upstream on 127.0.0.1:{args.port} -> {Handler.backend}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
