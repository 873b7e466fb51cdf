import ChatAPI
import HTTPTypes

/// What Gemini's `generateContent` refuses, checked by the fake upstream as strictly as the real
/// API does, so that a translation that would fail there fails here: the key header, unknown
/// fields, roles, one kind of data per part, calls only from the model and responses only from
/// the user, as many responses as the calls of the turn before, function declarations and their
/// OpenAPI-subset schemas, and the calling config.
enum GeminiRules {
    /// The HTTP status, Google status name and message for a request the API would refuse.
    static func problem(headers: HTTPFields, body: JSONValue) -> (Int, String, String)? {
        guard headers[HTTPField.Name("x-goog-api-key")!]?.isEmpty == false else {
            return (403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers. Please use API Key.")
        }
        return invalid(body).map { (400, "INVALID_ARGUMENT", $0) }
    }

    static let topLevel: Set<String> = ["contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings", "cachedContent"]
    static let partData: Set<String> = ["text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult"]
    static let schemaKeys: Set<String> = [
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties",
        "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
    ]
    static let generationKeys: Set<String> = [
        "stopSequences", "responseMimeType", "responseSchema", "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed",
        "presencePenalty", "frequencyPenalty", "thinkingConfig",
    ]

    /// Why `body` is not a valid `generateContent` request, or nil.
    static func invalid(_ body: JSONValue) -> String? {
        guard let o = body.objectValue else { return "Invalid JSON payload received." }
        for key in o.keys where !topLevel.contains(key) { return #"Invalid JSON payload received. Unknown name "\#(key)": Cannot find field."# }
        var declared = Set<String>()
        for (i, tool) in (o["tools"]?.arrayValue ?? []).enumerated() {
            for (j, declaration) in (tool["functionDeclarations"]?.arrayValue ?? []).enumerated() {
                let at = "tools[\(i)].function_declarations[\(j)]"
                guard let name = declaration["name"]?.stringValue, !name.isEmpty else { return "\(at).name: Name cannot be empty." }
                guard declared.insert(name).inserted else { return "\(at).name: Duplicate function declaration name." }
                if let parameters = declaration["parameters"], let problem = invalidSchema(parameters, at: "\(at).parameters") { return problem }
            }
        }
        if let config = o["toolConfig"]?["functionCallingConfig"] {
            guard o["tools"] != nil else { return "toolConfig: Function calling config is set without function_declarations." }
            guard let mode = config["mode"]?.stringValue, ["AUTO", "ANY", "NONE", "VALIDATED"].contains(mode) else {
                return "tool_config.function_calling_config.mode: Invalid value."
            }
            if let allowed = config["allowedFunctionNames"]?.arrayValue {
                guard mode == "ANY" || mode == "VALIDATED" else {
                    return "tool_config.function_calling_config.allowed_function_names: only allowed when mode is ANY."
                }
                for name in allowed where !declared.contains(name.stringValue ?? "") {
                    return "tool_config.function_calling_config.allowed_function_names: \(name.stringValue ?? "") is not a declared function."
                }
            }
        }
        if let generation = o["generationConfig"]?.objectValue {
            for key in generation.keys where !generationKeys.contains(key) {
                return #"Invalid JSON payload received. Unknown name "\#(key)" at 'generation_config': Cannot find field."#
            }
            if let t = generation["temperature"]?.doubleValue, !(0...2).contains(t) { return "generation_config.temperature: must be in [0, 2]." }
            if let schema = generation["responseSchema"], let problem = invalidSchema(schema, at: "generation_config.response_schema") { return problem }
        }
        return invalidContents(o["contents"])
    }

    static func invalidContents(_ contents: JSONValue?) -> String? {
        guard let contents = contents?.arrayValue, !contents.isEmpty else { return "* GenerateContentRequest.contents: contents is not specified" }
        var pendingCalls = 0
        for (i, content) in contents.enumerated() {
            guard let role = content["role"]?.stringValue, ["user", "model"].contains(role) else {
                return "contents[\(i)].role: Please use a valid role: user, model."
            }
            guard let parts = content["parts"]?.arrayValue, !parts.isEmpty else { return "contents[\(i)].parts: must not be empty." }
            var calls = 0
            var responses = 0
            for (j, part) in parts.enumerated() {
                let at = "contents[\(i)].parts[\(j)]"
                let keys = Set(part.objectValue?.keys.map { $0 } ?? [])
                for key in keys where !partData.contains(key) && key != "thought" && key != "thoughtSignature" {
                    return #"Invalid JSON payload received. Unknown name "\#(key)" at '\#(at)': Cannot find field."#
                }
                guard keys.intersection(partData).count == 1 else { return "\(at): a part holds exactly one kind of data." }
                if part["functionCall"] != nil {
                    guard role == "model" else { return "\(at): function calls come from the model." }
                    calls += 1
                }
                if let response = part["functionResponse"] {
                    guard role == "user" else { return "\(at): function responses come from the user." }
                    guard response["name"]?.stringValue != nil, response["response"]?.objectValue != nil else {
                        return "\(at).function_response: name and an object response are required."
                    }
                    responses += 1
                }
                if let text = part["text"], text.stringValue == nil { return "\(at).text: must be a string." }
            }
            if role == "user" {
                guard responses == pendingCalls else {
                    return "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn."
                }
                pendingCalls = 0
            } else {
                pendingCalls = calls
            }
        }
        return nil
    }

    static func invalidSchema(_ schema: JSONValue, at: String, depth: Int = 0) -> String? {
        guard depth < 64, let s = schema.objectValue else { return "\(at): must be a schema object." }
        for key in s.keys where !schemaKeys.contains(key) {
            return #"Invalid JSON payload received. Unknown name "\#(key)" at '\#(at)': Cannot find field."#
        }
        if let type = s["type"]?.stringValue {
            guard ["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"].contains(type.uppercased()) else {
                return "\(at).type: Invalid value."
            }
            if type.uppercased() == "ARRAY", s["items"] == nil { return "\(at).items: missing field." }
        } else if s["anyOf"] == nil {
            return "\(at).type: must be specified."
        }
        if let properties = s["properties"]?.objectValue {
            guard !properties.isEmpty else { return "\(at).properties: should be non-empty for OBJECT type" }
            for (name, property) in properties {
                if let problem = invalidSchema(property, at: "\(at).properties[\(name)]", depth: depth + 1) { return problem }
            }
        }
        for name in s["required"]?.arrayValue ?? [] where s["properties"]?[name.stringValue ?? ""] == nil {
            return "\(at).required[\(name.stringValue ?? "")]: property is not defined"
        }
        if let items = s["items"], let problem = invalidSchema(items, at: "\(at).items", depth: depth + 1) { return problem }
        for (i, branch) in (s["anyOf"]?.arrayValue ?? []).enumerated() {
            if let problem = invalidSchema(branch, at: "\(at).any_of[\(i)]", depth: depth + 1) { return problem }
        }
        if let values = s["enum"]?.arrayValue, !values.allSatisfy({ $0.stringValue != nil }) { return "\(at).enum: values must be strings." }
        return nil
    }
}
