import ChatAPI
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import MCPClient

/// `POST /v1/chat/completions`: decode and validate, route, then answer as one JSON body or as
/// an SSE stream, both built from the backend's `ChatEvent` stream.
struct ChatCompletionsHandler: Sendable {
    let router: ModelRouter
    /// The configured MCP servers; a request naming their tools runs the server-side loop.
    let toolbox: MCPToolbox
    let configuration: ServerConfiguration
    let closeSignals: ConnectionCloseSignals

    func handle(_ request: Request, context: SwitchboardRequestContext) async throws -> Response {
        try Self.checkContentType(request)
        // Until the response starts, nothing is written, so the only sign that the client left
        // is its connection closing: that cancels the work (decoding, compiling, prefill,
        // non-streaming generation). Reading the request stream for EOF instead would treat a
        // half-close as a hang-up and cost the keep-alive connection (see ConnectionGuard).
        return try await closeSignals.cancellingOnClose(context.channel) {
            try await respond(request, logger: context.logger)
        }
    }

    /// Answers, and counts the answer in the router's metrics (by route, with its status and
    /// the time to the response head).
    private func respond(_ request: Request, logger: Logger) async throws -> Response {
        let started = ContinuousClock.now
        var route = "unknown"
        do {
            let (chatRequest, mcp) = try await decode(request.body)
            route = router.routeLabel(for: chatRequest.model)
            let response = try await respond(chatRequest, mcp: mcp, route: route, logger: logger)
            router.metrics.request(route: route, status: Int(response.status.code), duration: ContinuousClock.now - started)
            return response
        } catch {
            router.metrics.request(route: route, status: (error as? APIError)?.status ?? 500,
                                   duration: ContinuousClock.now - started)
            throw error
        }
    }

    private func respond(_ chatRequest: ChatCompletionRequest, mcp: MCPToolUse?, route: String, logger: Logger) async throws -> Response {
        let identity = CompletionIdentity.new(model: chatRequest.model, systemFingerprint: configuration.systemFingerprint,
                                              now: Date().timeIntervalSince1970)
        let routed: GatewayCompletion
        var mcpCalls: MCPCallLog?
        if let mcp {
            (routed, mcpCalls) = try await ServerSideToolLoop(router: router, toolbox: toolbox).start(chatRequest, use: mcp)
        } else {
            routed = try await router.startCompletion(chatRequest)
        }
        if chatRequest.stream {
            return try await streamingResponse(routed, mcpCalls: mcpCalls, request: chatRequest, route: route, identity: identity,
                                               logger: logger)
        }
        let completion = try await routed.completion(identity: identity, legacyFunctionCall: chatRequest.usesLegacyFunctions)
        logCompletion(completion.usage, finish: completion.finishReason, model: chatRequest.model, route: route, logger: logger)
        var json = completion.json
        if let mcpCalls { json = Self.addingMCPCalls(mcpCalls.all, to: json) }
        var response = Response.json(json)
        Self.addGuardHeader(routed.report, to: &response.headers)
        return response
    }

    /// The calls the server-side loop ran, as `choices[0].message.mcp_calls`.
    private static func addingMCPCalls(_ calls: [MCPCallRecord], to completion: JSONValue) -> JSONValue {
        guard case .object(var object) = completion, case .array(var choices)? = object["choices"],
              case .object(var choice)? = choices.first, case .object(var message)? = choice["message"] else { return completion }
        message["mcp_calls"] = .array(calls.map(\.json))
        choice["message"] = .object(message)
        choices[0] = .object(choice)
        object["choices"] = .array(choices)
        return .object(object)
    }

    /// What the guard did, for the client to see (`x-switchboard-guard`).
    private static func addGuardHeader(_ report: GuardReport, to headers: inout HTTPFields) {
        if let value = report.headerValue, let name = HTTPField.Name(GuardReport.headerName) { headers[name] = value }
    }

    /// Only JSON bodies. A missing Content-Type, and curl's default form type for `-d`, are read
    /// as JSON too, so `curl -d '{…}'` works as it does with other OpenAI-compatible servers.
    static func checkContentType(_ request: Request) throws {
        guard let type = request.headers[.contentType], type != "application/json" else { return }
        let mime = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let accepted = mime == "application/json" || mime == "application/x-www-form-urlencoded"
            || (mime.hasPrefix("application/") && mime.hasSuffix("+json"))
        guard accepted else {
            throw APIError.invalidRequest(
                "Invalid Content-Type header '\(type)': this endpoint accepts 'application/json' only.",
                param: "Content-Type", code: "invalid_content_type")
        }
    }

    /// The request, and what it asks of MCP (its `mcp` tools, turned into function tools first).
    private func decode(_ body: RequestBody) async throws -> (ChatCompletionRequest, MCPToolUse?) {
        let buffer = try await Self.collectBody(body, limit: configuration.maxBodyBytes)
        let json: JSONValue
        do {
            json = try JSONParser.parse(buffer.readableBytesView)
        } catch let error as JSONParseError {
            throw APIError.invalidRequest(
                "We could not parse the JSON body of your request (\(error)). The request body must be valid JSON.",
                param: nil, code: "invalid_json")
        }
        if let (rewritten, use) = try await toolbox.prepare(json) {
            return (try ChatCompletionRequest(json: rewritten), use)
        }
        return (try ChatCompletionRequest(json: json), nil)
    }

    /// Collects the body up to `maxBodyBytes`. An oversized body is still read to its end (and
    /// thrown away, so memory stays bounded) before the 400 goes out: a client blocked writing the
    /// rest of it would otherwise never read the answer, and would time out instead of failing
    /// fast. Hummingbird keeps the connection open after a response, so stopping early hangs it.
    /// (A client that sends the body too slowly is cut off by ConnectionGuard's body deadline.)
    static func collectBody(_ body: RequestBody, limit: Int) async throws -> ByteBuffer {
        var buffer = ByteBuffer()
        var received = 0
        for try await part in body {
            received += part.readableBytes
            if received <= limit {
                var part = part
                buffer.writeBuffer(&part)
            }
        }
        guard received <= limit else {
            throw APIError.invalidRequest(
                "The request body is larger than the \(limit / 1024 / 1024) MiB limit of this server.",
                param: nil, code: "request_too_large")
        }
        return buffer
    }

    /// Waits for the first event before committing to `200 text/event-stream`, so an error the
    /// backend finds up front (prompt too long, upstream refusal) is still a proper HTTP error.
    private func streamingResponse(_ routed: GatewayCompletion, mcpCalls: MCPCallLog?, request: ChatCompletionRequest, route: String,
                                   identity: CompletionIdentity, logger: Logger) async throws -> Response {
        var iterator = routed.events.makeAsyncIterator()
        let first = try await iterator.next()
        let box = IteratorBox(iterator: iterator, first: first)
        let model = request.model
        let includeUsage = request.includeUsage, legacy = request.usesLegacyFunctions
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        // What the guard did before the stream started; what it does later cannot be a header.
        Self.addGuardHeader(routed.report, to: &headers)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            // If the client disconnects, the next write throws (every token is a write, so
            // generation stops within a token); leaving this closure drops the iterator, which
            // terminates the event stream and stops generation.
            var encoder = ChunkEncoder(identity: identity, includeUsage: includeUsage, legacyFunctionCall: legacy)
            do {
                var pending = box.first
                try await writer.write(ByteBuffer(string: SSE.event(encoder.roleChunk())))
                while let event = pending {
                    var out = ""
                    // The calls the loop ran since the last event: they precede what the model
                    // said after reading their results.
                    if let ran = mcpCalls?.takeUnread(), !ran.isEmpty {
                        out += SSE.event(encoder.extensionChunk(["mcp_calls": .array(ran.map(\.json))]))
                    }
                    for chunk in encoder.chunks(for: event) { out += SSE.event(chunk) }
                    if !out.isEmpty { try await writer.write(ByteBuffer(string: out)) }
                    if case .finished(let reason, let usage) = event {
                        self.logCompletion(usage, finish: reason, model: model, route: route, logger: logger)
                        break
                    }
                    pending = try await box.iterator.next()
                }
                // A cancelled stream (server shutdown) ends early; it must not look complete.
                try Task.checkCancellation()
            } catch let error as APIError {
                try await writer.write(ByteBuffer(string: SSE.event(error.json)))
            } catch is CancellationError {
                return
            } catch {
                logger.error("stream failed", metadata: ["error": "\(error)"])
                try await writer.write(ByteBuffer(string: SSE.event(APIError.server("The stream failed: \(error)").json)))
            }
            try await writer.write(ByteBuffer(string: SSE.done))
            try await writer.finish(nil)
        })
    }

    /// Logs a finished completion and counts its tokens.
    private func logCompletion(_ usage: TokenUsage, finish: FinishReason, model: String, route: String, logger: Logger) {
        router.metrics.tokens(route: route, usage)
        logger.info("completion", metadata: [
            "model": "\(model)", "finish": "\(finish.rawValue)",
            "prompt_tokens": "\(usage.promptTokens)", "completion_tokens": "\(usage.completionTokens)",
        ])
    }
}

extension GatewayCompletion {
    /// The whole completion the events fold into; `each` sees every event on the way.
    func completion(identity: CompletionIdentity, legacyFunctionCall: Bool,
                    each: (ChatEvent) async -> Void = { _ in }) async throws -> ChatCompletion {
        var assembler = CompletionAssembler()
        for try await event in events {
            assembler.add(event)
            await each(event)
        }
        try Task.checkCancellation()
        guard let completion = assembler.completion(identity: identity, legacyFunctionCall: legacyFunctionCall) else {
            throw APIError.server("The model stopped without finishing the response.")
        }
        return completion
    }
}

/// Carries the event iterator into the response-body closure (it is used by one task at a time).
private final class IteratorBox: @unchecked Sendable {
    var iterator: AsyncThrowingStream<ChatEvent, Error>.AsyncIterator
    let first: ChatEvent?
    init(iterator: AsyncThrowingStream<ChatEvent, Error>.AsyncIterator, first: ChatEvent?) {
        self.iterator = iterator
        self.first = first
    }
}
