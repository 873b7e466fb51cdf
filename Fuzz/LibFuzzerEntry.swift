import ChatAPI
import ChatTemplates
import Foundation
import Grammar
import JSONSchemaKit

// libFuzzer entry point for long runs outside CI (scripts/fuzz). The target is chosen by
// FUZZ_TARGET (json, request, jinja, regex, schema), with the properties of Tests/FuzzTests in
// their simplest form: no crash, typed errors only, compiles return under their budget. A broken
// property aborts, which libFuzzer records as a crash.

private let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "json"

private let vocabulary: GrammarVocabulary = {
    var tokens: [[UInt8]] = [Array("<eos>".utf8)]
    for b in 0..<256 { tokens.append([UInt8(b)]) }
    return GrammarVocabulary(tokenBytes: tokens, specialIDs: [0], endOfGenerationIDs: [0])
}()

private let templateContext: [String: JSONValue] = [
    "messages": [["role": "system", "content": "s"], ["role": "user", "content": "What's the weather?"],
                 ["role": "assistant", "content": .null,
                  "tool_calls": [["id": "c1", "type": "function", "function": ["name": "get_weather", "arguments": ["city": "Paris"]]]]],
                 ["role": "tool", "tool_call_id": "c1", "content": "21"]],
    "tools": [["type": "function", "function": ["name": "get_weather", "parameters": ["type": "object", "properties": ["city": ["type": "string"]]]]]],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
]

private func violated(_ message: String) -> Never {
    FileHandle.standardError.write(Data("[fuzz] \(target): \(message)\n".utf8))
    abort()
}

/// Compiles `schema` with both compilers under a 2 s budget; any error but a typed refusal, or
/// a compile that ignores its budget, is a violation.
private func compileBoth(_ schema: JSONValue) {
    let start = ContinuousClock.now
    do { _ = try JSONSchema(json: schema, budget: WorkBudget(time: .seconds(2))) } catch is SchemaError {} catch is WorkBudgetExceeded {} catch {
        violated("JSONSchema threw \(type(of: error)): \(error)")
    }
    do { _ = try GrammarCompiler(vocabulary: vocabulary).compile(schema: schema, budget: WorkBudget(time: .seconds(2))) }
    catch is GrammarError {} catch is WorkBudgetExceeded {} catch is SchemaError {} catch {
        violated("GrammarCompiler threw \(type(of: error)): \(error)")
    }
    if ContinuousClock.now - start > .seconds(10) { violated("compiling took \(ContinuousClock.now - start) under 2 s budgets") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "json":
        guard let value = try? JSONParser.parse(bytes) else { return 0 }
        guard let again = try? JSONParser.parse(Array(value.serialized().utf8)), again == value else {
            violated("serialize/parse round trip changed the value")
        }
    case "request":
        guard let json = try? JSONParser.parse(bytes) else { return 0 }
        do { _ = try ChatCompletionRequest(json: json) } catch is APIError {} catch { violated("request threw \(type(of: error))") }
    case "jinja":
        do {
            var options = ChatTemplateOptions()
            options.limits = RenderLimits(maxLoopIterations: 20_000, maxCallDepth: 64, maxOutputBytes: 1 << 20, maxRange: 10_000)
            _ = try ChatTemplate(source: String(decoding: bytes, as: UTF8.self), options: options).render(context: templateContext)
        } catch is TemplateError {} catch { violated("template threw \(type(of: error))") }
    case "regex":
        compileBoth(["type": "string", "pattern": .string(String(decoding: bytes, as: UTF8.self))])
    case "schema":
        guard let schema = try? JSONParser.parse(bytes) else { return 0 }
        compileBoth(schema)
    default:
        violated("unknown FUZZ_TARGET (json, request, jinja, regex, schema)")
    }
    return 0
}

// SwiftPM links an executable's entry point under the name `<module>_main` (so tests can link
// the module); hand control to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("switchboard_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}
