import ChatAPI

/// The request as a backend will honour it: what its capabilities say it would ignore is
/// rewritten into a form it obeys, and the guard checks the answer against the original.
enum UpstreamRequest {
    static func adapt(_ request: ChatCompletionRequest, to capabilities: BackendCapabilities,
                      report: GuardReport) -> ChatCompletionRequest {
        guard !capabilities.validByConstruction, !request.tools.isEmpty else { return request }
        var adapted = request
        switch request.toolChoice {
        case .function(let name) where !capabilities.namedToolChoice:
            adapted.tools = request.tools.filter { $0.name == name }
            adapted.toolChoice = capabilities.requiredToolChoice ? .required : .auto
            report.add(.narrowedTools(name))
            if !capabilities.requiredToolChoice { report.add(.requiredEnforced) }
        case .allowed(let names, let required) where !capabilities.namedToolChoice:
            let allowed = Set(names)
            adapted.tools = request.tools.filter { allowed.contains($0.name) }
            adapted.toolChoice = required && capabilities.requiredToolChoice ? .required : .auto
            report.add(.narrowedTools(names.joined(separator: ",")))
            if required && !capabilities.requiredToolChoice { report.add(.requiredEnforced) }
        case .required where !capabilities.requiredToolChoice:
            adapted.toolChoice = .auto
            report.add(.requiredEnforced)
        default:
            break
        }
        if !capabilities.parallelToolCalls, !request.parallelToolCalls || request.usesLegacyFunctions {
            adapted.parallelToolCalls = true
            adapted.usesLegacyFunctions = false
            report.add(.parallelEnforced)
        }
        if !capabilities.strict {
            var strictDropped = false
            for i in adapted.tools.indices where adapted.tools[i].strict {
                adapted.tools[i].strict = false
                strictDropped = true
            }
            if case .jsonSchema(let name, let description, let schema, true) = adapted.responseFormat {
                adapted.responseFormat = .jsonSchema(name: name, description: description, schema: schema, strict: false)
                strictDropped = true
            }
            if strictDropped { report.add(.strictEnforced) }
        }
        return adapted
    }
}
