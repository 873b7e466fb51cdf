import ChatAPI
import XCTest

/// The JSON parser that reads every request body, and request validation behind it.
final class JSONFuzzTests: XCTestCase {
    static let jsonTokens: [[UInt8]] = ["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\udc00", "\\uD83D\\uDE00",
                                        "true", "false", "null", "-", "0", "1e", "E+", ".", " ", "\n", "\"a\":", "[]", "{}"].map { Array($0.utf8) }

    /// Parse never crashes; it returns a value or throws `JSONParseError`. A value serialized and
    /// parsed again is equal to itself, and serializing is stable.
    func testJSONParser() throws {
        let seeds = [#"{"a":[1,2.5,-3e10,true,false,null,"x\u00e9\n"],"b":{}}"#, "[]", "0", #""\ud83d\ude00""#, "  {\"k\" : [ ] }  "]
        var target = FuzzTarget(
            name: "json",
            seeds: seeds.map { Array($0.utf8) },
            mutator: ByteMutator(dictionary: Self.jsonTokens, nestings: [(Array("[".utf8), Array("]".utf8)), (Array("{\"a\":".utf8), Array("}".utf8))],
                                 maxNesting: 200_000),
            check: { input in
                let value: JSONValue
                do {
                    value = try JSONParser.parse(input)
                } catch is JSONParseError {
                    return
                } catch {
                    throw PropertyViolation("JSONParser threw an untyped error \(type(of: error)): \(error)")
                }
                let text = value.serialized()
                let again: JSONValue
                do { again = try JSONParser.parse(Array(text.utf8)) } catch {
                    throw PropertyViolation("serialized value does not parse again (\(error)): \(text.prefix(200))")
                }
                guard again == value else { throw PropertyViolation("value changed on a serialize/parse round trip: \(text.prefix(200))") }
                guard again.serialized() == text else { throw PropertyViolation("serialization is not stable: \(text.prefix(200))") }
            })
        target.generator = { rng in FuzzData.bytes(RandomJSON.value(&rng, depth: 6)) }
        try FuzzHarness(target).run()
    }

    static let requestKeys = ["model", "messages", "role", "content", "tools", "tool_choice", "function", "name", "parameters",
                              "arguments", "tool_calls", "tool_call_id", "type", "response_format", "json_schema", "schema",
                              "stream", "stream_options", "stop", "max_tokens", "max_completion_tokens", "temperature", "top_p",
                              "seed", "n", "functions", "function_call", "parallel_tool_calls", "strict", "text", "image_url",
                              "logit_bias", "logprobs", "top_logprobs", "include_usage", "reasoning_effort", "id", "refusal"]

    static let requestSeeds: [String] = [
        #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
        #"""
        {"model":"m","messages":[{"role":"system","content":"s"},{"role":"developer","content":[{"type":"text","text":"d"}]},
         {"role":"user","content":"u","name":"ann"},
         {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
         {"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"42"}]}],
         "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"integer"}}},"strict":true}}],
         "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,
         "response_format":{"type":"json_schema","json_schema":{"name":"out","schema":{"type":"object"},"strict":true}},
         "stream":true,"stream_options":{"include_usage":true},"stop":"x","max_tokens":7,"max_completion_tokens":9,
         "temperature":0.5,"top_p":0.9,"seed":-3,"presence_penalty":1,"frequency_penalty":-1,"n":1,"user":"u1",
         "reasoning_effort":"low","logit_bias":{},"logprobs":false}
        """#,
        #"{"model":"m","messages":[{"role":"user","content":"x"}],"functions":[{"name":"g","parameters":{}}],"function_call":"auto"}"#,
        #"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"tool_choice":"none"}"#,
    ]

    /// Request validation never crashes on any JSON body: it returns a request or throws an
    /// `APIError` with status 400 and a message.
    func testRequestValidation() throws {
        let valueMutator = JSONValueMutator(
            keys: Self.requestKeys,
            interestingValues: ["", "user", "assistant", "tool", "system", "function", "auto", "required", "none", "json_schema",
                                "json_object", "text", 0, -1, 1e300, 2.5, 9_223_372_036_854_775_807, .null, true, [], [:],
                                ["type": "function", "function": ["name": "f"]], [["role": "user", "content": "x"]]])
        var target = FuzzTarget(
            name: "request",
            seeds: Self.requestSeeds.map { Array($0.utf8) },
            mutator: ByteMutator(dictionary: Self.jsonTokens + Self.requestKeys.map { Array("\"\($0)\"".utf8) },
                                 nestings: [(Array("[".utf8), Array("]".utf8))], maxNesting: 2_000),
            check: { input in
                guard let json = try? JSONParser.parse(input) else { return }
                do {
                    _ = try ChatCompletionRequest(json: json)
                } catch let error as APIError {
                    guard error.status == 400, !error.message.isEmpty else {
                        throw PropertyViolation("request refused with status \(error.status), message '\(error.message)'")
                    }
                } catch {
                    throw PropertyViolation("ChatCompletionRequest(json:) threw an untyped error \(type(of: error)): \(error)")
                }
            })
        target.structuredMutation = { base, other, rng in
            let value = (try? JSONParser.parse(base)) ?? .object([:])
            let donor = (try? JSONParser.parse(other)) ?? .null
            return FuzzData.bytes(valueMutator.mutate(value, donor: donor, rng: &rng))
        }
        try FuzzHarness(target).run()
    }
}
