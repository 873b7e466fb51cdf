import Foundation
import CLlama

/// Turns chat messages into the model's prompt text. A protocol so the Jinja interpreter
/// (ChatTemplates) can replace llama.cpp's built-in template heuristics later.
public protocol PromptRenderer: Sendable {
    /// Renders `messages`; with `addGenerationPrompt`, ends with the text that opens an
    /// assistant turn.
    func render(_ messages: [PromptMessage], addGenerationPrompt: Bool) throws -> String
}

/// Renders with `llama_chat_apply_template`, which recognises the common template families
/// (ChatML, Llama 2/3, Gemma, Mistral, Phi, …) from a model's Jinja template text. Not a
/// Jinja interpreter: a template it does not recognise fails with `templateFailed`.
public struct BuiltinTemplateRenderer: PromptRenderer {
    /// The template text (or a built-in name such as "chatml") handed to llama.cpp.
    public let template: String

    /// Uses `model`'s own template, or ChatML when the model has none.
    public init(model: LlamaModel) {
        self.template = model.chatTemplate ?? "chatml"
    }

    public init(template: String) { self.template = template }

    public func render(_ messages: [PromptMessage], addGenerationPrompt: Bool) throws -> String {
        // llama.cpp's template families know system/user/assistant (and ChatML any role);
        // OpenAI's "developer" is the system role under a newer name.
        let roles = messages.map { $0.role == "developer" ? "system" : $0.role }
        let contents = messages.map(\.content)
        var needed = contents.reduce(256) { $0 + 2 * $1.utf8.count + 64 }
        for _ in 0..<2 {
            var buffer = [CChar](repeating: 0, count: needed + 1)
            let written = withCStrings(roles) { rolePointers in
                withCStrings(contents) { contentPointers in
                    var chat = zip(rolePointers, contentPointers).map {
                        llama_chat_message(role: $0, content: $1)
                    }
                    return llama_chat_apply_template(
                        template, &chat, chat.count, addGenerationPrompt, &buffer, Int32(buffer.count))
                }
            }
            if written < 0 {
                throw LocalEngineError.templateFailed(
                    "llama.cpp does not recognise this model's chat template; supply a PromptRenderer")
            }
            if Int(written) <= needed {
                return buffer.withUnsafeBufferPointer { raw in
                    raw.withMemoryRebound(to: UInt8.self) {
                        String(decoding: $0[0..<Int(written)], as: UTF8.self)
                    }
                }
            }
            needed = Int(written)
        }
        throw LocalEngineError.templateFailed("rendered prompt size changed between attempts")
    }
}

/// Calls `body` with C strings for `strings` that stay valid for the duration of the call.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>]) -> R) -> R {
    let copies = strings.map { strdup($0)! }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}
