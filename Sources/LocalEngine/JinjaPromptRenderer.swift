import ChatAPI
import ChatTemplates

/// Renders prompts with the model's own chat template (the GGUF's `tokenizer.chat_template`)
/// through the ChatTemplates Jinja interpreter, configured as Hugging Face's
/// `apply_chat_template` is, so the prompt is byte for byte what the model was trained on.
public struct JinjaPromptRenderer: PromptRenderer {
    public let template: ChatTemplate
    public let bosToken: String
    public let eosToken: String

    public init(template: ChatTemplate, bosToken: String, eosToken: String) {
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// The renderer for `model`: its own template, or llama.cpp's ChatML when it has none.
    /// A template our interpreter cannot parse is a load-time error, not a per-request surprise.
    public static func forModel(_ model: LlamaModel) throws -> any PromptRenderer {
        guard let source = model.chatTemplate, !source.isEmpty else {
            return BuiltinTemplateRenderer(template: "chatml")
        }
        let template: ChatTemplate
        do {
            template = try ChatTemplate(source: source)
        } catch {
            throw LocalEngineError.templateFailed("the model's chat template does not parse: \(error)")
        }
        return JinjaPromptRenderer(
            template: template,
            bosToken: model.beginningOfSequenceToken.map(model.tokenText) ?? "",
            eosToken: model.endOfSequenceToken.map(model.tokenText) ?? "")
    }

    public func render(_ messages: [PromptMessage], addGenerationPrompt: Bool) throws -> String {
        let context = ChatTemplateContext(
            // Templates know `system`; OpenAI's `developer` is the same role under a newer name.
            messages: messages.map { ["role": .string($0.role == "developer" ? "system" : $0.role), "content": .string($0.content)] },
            addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
        do {
            return try template.render(context)
        } catch {
            throw LocalEngineError.templateFailed("\(error)")
        }
    }
}
