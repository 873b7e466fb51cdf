import ChatAPI
import Foundation
import MCP

// The MCP SDK's JSON (`Value`) and ours (`JSONValue`), each as the other. Both sides are plain
// JSON, so the conversion goes through JSON text and cannot lose anything but NaN/infinity,
// which neither can hold.

extension MCP.Value {
    /// `json` as the SDK's value.
    public init(_ json: JSONValue) {
        self = (try? JSONDecoder().decode(MCP.Value.self, from: Data(json.serializedBytes()))) ?? .null
    }
}

extension JSONValue {
    /// The SDK's `value` as ours.
    public init(_ value: MCP.Value) {
        guard let data = try? JSONEncoder().encode(value), let parsed = try? JSONParser.parse(Array(data)) else {
            self = .null
            return
        }
        self = parsed
    }
}
