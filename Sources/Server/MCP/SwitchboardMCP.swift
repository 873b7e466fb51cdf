import ChatAPI
import Foundation
import Gateway
import MCP
import MCPClient

/// Switchboard as an MCP server: the tools `chat_completions` (see `ChatCompletionsTool`) and
/// `list_models`, answered by the same gateway as the HTTP API. A bad call is a tool error
/// (`isError`) carrying OpenAI's error object; the session goes on.
public enum SwitchboardMCP {
    /// Reported to MCP clients in `initialize`.
    public static let version = "0.1.0"

    /// An MCP server over `router`, ready for `start(transport:)`.
    public static func makeServer(router: ModelRouter) async -> Server {
        let server = Server(name: "switchboard", version: version, title: "Switchboard",
                            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: tools)
        }
        await server.withMethodHandler(CallTool.self) { [weak server] call in
            await answer(call, router: router, server: server)
        }
        return server
    }

    static var tools: [Tool] {
        [
            Tool(name: ChatCompletionsTool.name, title: "Chat completions", description: ChatCompletionsTool.description,
                 inputSchema: Value(ChatCompletionsTool.inputSchema),
                 annotations: .init(readOnlyHint: true, openWorldHint: true),
                 outputSchema: Value(ChatCompletionsTool.outputSchema)),
            Tool(name: "list_models", title: "List models",
                 description: "The models this Switchboard serves (local GGUFs and hosted routes), each with its capabilities: tools, parallel tool calls, strict schemas, streaming.",
                 inputSchema: Value(["type": "object", "properties": [:]]),
                 annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false),
                 outputSchema: Value(["type": "object", "required": ["result"], "properties": [
                     "result": ["type": "object", "description": "OpenAI's model list: {object: 'list', data: [...]}."]]])),
        ]
    }

    static func answer(_ call: CallTool.Parameters, router: ModelRouter, server: Server?) async -> CallTool.Result {
        let arguments = JSONValue(.object(call.arguments ?? [:])).objectValue ?? [:]
        do {
            switch call.name {
            case ChatCompletionsTool.name:
                let token = call._meta?.progressToken
                let progress: (@Sendable (JSONValue) async -> Void)? = token.map { token in
                    let sent = Counter()
                    return { chunk in
                        let n = await sent.next()
                        try? await server?.notify(ProgressNotification.message(
                            .init(progressToken: token, progress: Double(n), message: chunk.serialized())))
                    }
                }
                return result(try await ChatCompletionsTool.run(arguments, router: router, progress: progress))
            case "list_models":
                return result(await router.modelList().json)
            default:
                return failure(APIError.invalidRequest("Unknown tool '\(call.name)'; this server has chat_completions and list_models.",
                                                       param: "name"))
            }
        } catch let error as APIError {
            return failure(error)
        } catch let error as UpstreamError {
            return failure(error.apiError)
        } catch is CancellationError {
            return failure(APIError(status: 499, message: "The call was cancelled.", type: "cancelled", code: "cancelled"))
        } catch {
            return failure(APIError.server("The call failed: \(error)"))
        }
    }

    /// A successful result: `{"result": …}` as structured content and as its JSON text.
    static func result(_ payload: JSONValue) -> CallTool.Result {
        let structured: JSONValue = ["result": payload]
        return CallTool.Result(content: [.text(text: structured.serialized(), annotations: nil, _meta: nil)],
                               structuredContent: Optional(Value(structured)), isError: false)
    }

    /// A tool error carrying OpenAI's error object, as text and as structured content.
    static func failure(_ error: APIError) -> CallTool.Result {
        CallTool.Result(content: [.text(text: error.json.serialized(), annotations: nil, _meta: nil)],
                        structuredContent: Optional(Value(error.json)), isError: true)
    }

}

/// Numbers a call's progress notifications (MCP wants them increasing).
private actor Counter {
    private var count = 0
    func next() -> Int {
        count += 1
        return count
    }
}
