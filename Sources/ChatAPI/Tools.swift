/// A function the model may call (`tools[i].function`).
public struct FunctionDefinition: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// JSON Schema of the arguments object; nil means the function takes no arguments.
    public var parameters: JSONValue?
    /// `strict: true` asks for arguments that always satisfy `parameters`.
    public var strict: Bool

    public init(name: String, description: String? = nil, parameters: JSONValue? = nil, strict: Bool = false) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.strict = strict
    }
}

/// What the request allows or demands of tool use.
public enum ToolChoice: Sendable, Equatable {
    /// No tool call may be generated.
    case none
    /// The model chooses between answering and calling.
    case auto
    /// At least one tool call, and no free text first.
    case required
    /// Exactly this function.
    case function(String)
    /// `allowed_tools`: only these functions, with `auto` or `required` semantics.
    case allowed(names: [String], required: Bool)
}

extension ToolChoice {
    /// The choice for a tool loop's later rounds (the server-side MCP loop, the SDK's
    /// `ToolRunner`): what forced a call forces it no more, so the model can answer with what
    /// the tools returned instead of calling again until the rounds run out.
    public var afterFirstRound: ToolChoice {
        switch self {
        case .required, .function: .auto
        case .allowed(let names, _): .allowed(names: names, required: false)
        case .none, .auto: self
        }
    }
}

/// The requested output format (`response_format`).
public enum ResponseFormat: Sendable, Equatable {
    case text
    /// Any JSON object.
    case jsonObject
    /// JSON matching a schema (`json_schema.schema`; nil schema means any JSON value).
    case jsonSchema(name: String, description: String?, schema: JSONValue?, strict: Bool)
}

// MARK: - Decoding with validation

extension FunctionDefinition {
    /// OpenAI's rule for function names: `^[a-zA-Z0-9_-]{1,64}$`.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count) else { return false }
        return name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
        }
    }

    init(json: JSONValue, path: String) throws {
        let r = try FieldReader(json, path: path)
        self.name = try r.requiredString("name")
        guard Self.isValidName(name) else {
            throw APIError.invalidRequest(
                "Invalid '\(r.param("name"))': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                param: r.param("name"))
        }
        self.description = try r.string("description")
        self.strict = try r.bool("strict") ?? false
        if let p = r.value("parameters") {
            guard case .object = p else {
                throw APIError.invalidRequest(
                    "Invalid '\(r.param("parameters"))': the parameters of a function must be a JSON Schema object, got \(p.typeName).",
                    param: r.param("parameters"), code: "invalid_function_parameters")
            }
            self.parameters = p
        } else {
            self.parameters = nil
        }
    }
}

extension ToolChoice {
    init(json: JSONValue, path: String) throws {
        switch json {
        case .string("none"): self = .none
        case .string("auto"): self = .auto
        case .string("required"): self = .required
        case .string(let other):
            throw APIError.invalidRequest(
                "Invalid value for '\(path)': '\(other)'. Supported values are: 'none', 'auto' and 'required', or an object naming a function.",
                param: path)
        case .object:
            let r = try FieldReader(json, path: path)
            let type = try r.requiredString("type")
            switch type {
            case "function":
                guard let f = try r.objectReader("function") else { throw APIError.missing(r.param("function")) }
                self = .function(try f.requiredString("name"))
            case "allowed_tools":
                guard let a = try r.objectReader("allowed_tools") else { throw APIError.missing(r.param("allowed_tools")) }
                let mode = try a.requiredString("mode")
                guard mode == "auto" || mode == "required" else {
                    throw APIError.invalidRequest("Invalid value for '\(a.param("mode"))': '\(mode)'. Supported values are: 'auto' and 'required'.",
                                                  param: a.param("mode"))
                }
                guard let tools = try a.array("tools") else { throw APIError.missing(a.param("tools")) }
                let names = try tools.enumerated().map { i, t -> String in
                    let tr = try FieldReader(t, path: "\(a.param("tools"))[\(i)]")
                    guard let f = try tr.objectReader("function") else { throw APIError.missing(tr.param("function")) }
                    return try f.requiredString("name")
                }
                self = .allowed(names: names, required: mode == "required")
            case "custom":
                throw APIError.invalidRequest("Custom tools are not supported; use function tools.", param: r.param("type"))
            default:
                throw APIError.invalidRequest("Invalid value for '\(r.param("type"))': '\(type)'. Supported values are: 'function' and 'allowed_tools'.",
                                              param: r.param("type"))
            }
        default:
            throw APIError.wrongType(path, expected: "a string or an object", got: json)
        }
    }

    /// Legacy `function_call`: `"none"`, `"auto"` or `{"name": …}`.
    init(legacyJSON json: JSONValue, path: String) throws {
        switch json {
        case .string("none"): self = .none
        case .string("auto"): self = .auto
        case .object:
            self = .function(try FieldReader(json, path: path).requiredString("name"))
        default:
            throw APIError.invalidRequest("Invalid value for '\(path)': expected 'none', 'auto' or {\"name\": …}.", param: path)
        }
    }
}

extension ResponseFormat {
    init(json: JSONValue, path: String) throws {
        let r = try FieldReader(json, path: path)
        let type = try r.requiredString("type")
        switch type {
        case "text": self = .text
        case "json_object": self = .jsonObject
        case "json_schema":
            guard let s = try r.objectReader("json_schema") else { throw APIError.missing(r.param("json_schema")) }
            let name = try s.requiredString("name")
            guard FunctionDefinition.isValidName(name) else {
                throw APIError.invalidRequest(
                    "Invalid '\(s.param("name"))': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                    param: s.param("name"))
            }
            var schema: JSONValue? = nil
            if let v = s.value("schema") {
                guard case .object = v else {
                    throw APIError.wrongType(s.param("schema"), expected: "an object", got: v)
                }
                schema = v
            }
            self = .jsonSchema(name: name, description: try s.string("description"), schema: schema, strict: try s.bool("strict") ?? false)
        default:
            throw APIError.invalidRequest(
                "Invalid value for '\(r.param("type"))': '\(type)'. Supported values are: 'text', 'json_object' and 'json_schema'.",
                param: r.param("type"))
        }
    }
}
