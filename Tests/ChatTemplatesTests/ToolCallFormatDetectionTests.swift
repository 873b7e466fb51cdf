import Foundation
import XCTest
@testable import ChatTemplates

/// Detection against the 72 real templates in shared/data/chat-templates.
final class ToolCallFormatDetectionTests: XCTestCase {
    /// Expected format per template file (without `.jinja`). Families whose tool format is not
    /// implemented (MiniMax-M3, Kimi K3, GigaChat 3, …)
    /// and templates without tools fall back to `.generic`.
    static let expected: [String: ToolCallFormat] = [
        "Apertus-8B-Instruct": .apertus,
        "Apriel-1.6-15b-Thinker-fixed": .apriel,
        "Bielik-11B-v3.0-Instruct": .hermes,
        "ByteDance-Seed-OSS": .seedOSS,
        "Cohere2MoE": .commandR7B,
        "CohereForAI-c4ai-command-r-plus-tool_use": .commandRPlus,
        "CohereForAI-c4ai-command-r7b-12-2024-tool_use": .commandR7B,
        "GLM-4.6": .glm45,
        "GLM-4.7-Flash": .glm45,
        "GigaChat3-10B-A1.8B": .generic,
        "GigaChat3.1-10B-A1.8B": .gigachat31,
        "HuggingFaceTB-SmolLM2-135M-Instruct": .generic,
        "HuggingFaceTB-SmolLM3-3B": .generic,
        "Kimi-K2-Instruct": .kimiK2,
        "Kimi-K2-Thinking": .kimiK2,
        "Kimi-K3": .generic,
        "LFM2-8B-A1B": .lfm2,
        "LFM2.5-8B-A1B": .lfm2,
        "LFM2.5-Instruct": .lfm2,
        "MiMo-VL": .hermes,
        "MiniMax-M1": .minimaxM1,
        "MiniMax-M2": .minimaxM2,
        "MiniMax-M3": .generic,
        "Mistral-Small-3.2-24B-Instruct-2506": .mistralArgs,
        "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": .qwen3Coder,
        "NVIDIA-Nemotron-Nano-v2": .nemotronV2,
        "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use": .hermes,
        "NousResearch-Hermes-3-Llama-3.1-8B-tool_use": .hermes,
        "Qwen-QwQ-32B": .hermes,
        "Qwen-Qwen2.5-7B-Instruct": .hermes,
        "Qwen-Qwen2.5-Coder-0.5B-Instruct": .hermes,
        "Qwen-Qwen3-0.6B": .hermes,
        "Qwen3-Coder": .qwen3Coder,
        "Qwen3.5-4B": .qwen3Coder,
        "Reka-Edge": .hermes,
        "Spark2.5": .glm45,
        "StepFun3.5-Flash": .qwen3Coder,
        "deepseek-ai-DeepSeek-R1-Distill-Llama-8B": .deepseekR1,
        "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B": .deepseekR1,
        "deepseek-ai-DeepSeek-V3.1": .deepseekV31,
        "deepseek-ai-DeepSeek-V3.2": .deepseekV32,
        "deepseek-ai-DeepSeek-V4-Flash-0731": .deepseekV4,
        "deepseek-ai-DeepSeek-V4": .deepseekV4,
        "fireworks-ai-llama-3-firefunction-v2": .firefunctionV2,
        "google-gemma-2-2b-it": .generic,
        "google-gemma-4-31B-it-interleaved": .gemma,
        "google-gemma-4-31B-it": .gemma,
        "ibm-granite-granite-3.3-2B-Instruct": .granite,
        "ibm-granite-granite-4.0": .hermes,
        "ibm-granite-granite-4.1": .hermes,
        "inclusionai-ling-3.0-flash": .glm45,
        "llama-cpp-deepseek-r1": .deepseekR1,
        "llama-cpp-rwkv-world": .generic,
        "meetkai-functionary-medium-v3.1": .functionaryV31,
        "meetkai-functionary-medium-v3.2": .functionaryV32,
        "meta-llama-Llama-3.1-8B-Instruct": .llama3,
        "meta-llama-Llama-3.2-3B-Instruct": .llama3,
        "meta-llama-Llama-3.3-70B-Instruct": .llama3,
        "microsoft-Phi-3.5-mini-instruct": .generic,
        "mistralai-Ministral-3-14B-Reasoning-2512": .mistralArgs,
        "mistralai-Mistral-Nemo-Instruct-2407": .mistral,
        "moonshotai-Kimi-K2": .kimiK2,
        "muse-glimmer": .generic,
        "openai-gpt-oss-120b": .gptOss,
        "openbmb-MiniCPM5-1B": .minicpm5,
        "poolside-Laguna-S-2.1": .glm45,
        "poolside-Laguna-XS-2.1": .glm45,
        "poolside-Laguna-XS.2": .glm45,
        "tencent-Hy3": .hy3,
        "unsloth-Apriel-1.5": .apriel,
        "unsloth-mistral-Devstral-Small-2507": .mistralArgs,
        "upstage-Solar-Open-100B": .solarOpen,
    ]

    static var templatesDirectory: URL {
        // <repo>/Tests/ChatTemplatesTests/<this file> → <repo>/../shared/data/chat-templates
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/data/chat-templates")
    }

    func testEveryRealTemplateIsDetected() throws {
        let dir = Self.templatesDirectory
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".jinja") }.sorted()
        XCTAssertEqual(files.count, 72, "expected the 72 shared templates in \(dir.path)")
        var seen = Set<String>()
        for file in files {
            let name = String(file.dropLast(".jinja".count))
            seen.insert(name)
            guard let want = Self.expected[name] else { XCTFail("no expectation for \(name)"); continue }
            let source = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(ToolCallFormat.detect(template: source), want, name)
        }
        XCTAssertEqual(Set(Self.expected.keys), seen, "expectations for missing templates")
    }

    func testEveryFormatButGenericHasARealTemplate() {
        let covered = Set(Self.expected.values)
        // Functionary/Firefunction etc. are covered; Llama 3 `<|python_tag|>` is the same format.
        for format in ToolCallFormat.allCases {
            XCTAssertTrue(covered.contains(format), "no real template detected as \(format)")
        }
    }

    func testMetadataFallbackWhenTheTemplateIsMissing() {
        XCTAssertEqual(ToolCallFormat.detect(template: "", metadata: ["general.architecture": "gpt-oss"]), .gptOss)
        XCTAssertEqual(ToolCallFormat.detect(template: "", metadata: ["general.name": "Hermes 3"]), .hermes)
        XCTAssertEqual(ToolCallFormat.detect(template: "", metadata: ["general.architecture": "llama"]), .generic)
    }

    func testGenerationPromptOpeningReasoning() {
        XCTAssertTrue(ToolCallFormat.hermes.promptOpensReasoning("<|im_start|>assistant\n<think>\n"))
        XCTAssertFalse(ToolCallFormat.hermes.promptOpensReasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"))
        XCTAssertFalse(ToolCallFormat.hermes.promptOpensReasoning("<|im_start|>assistant\n"))
        XCTAssertTrue(ToolCallFormat.glm45.promptOpensReasoning("<|assistant|><think>"))
        XCTAssertTrue(ToolCallFormat.commandR7B.promptOpensReasoning("<|CHATBOT_TOKEN|><|START_THINKING|>"))
        XCTAssertFalse(ToolCallFormat.commandR7B.promptOpensReasoning("<|CHATBOT_TOKEN|><|START_THINKING|><|END_THINKING|>"))
    }
}
