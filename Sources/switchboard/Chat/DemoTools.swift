import Foundation
import SwitchboardKit

/// The tools `switchboard chat` offers the model: a clock, a calculator, and a reader of text
/// files in the folder it was started in.
enum DemoTools {
    static let all: [any Tool] = [Clock(), Calculator(), FileReader(root: FileManager.default.currentDirectoryPath)]
}

@JSONSchema
struct ClockQuery: Decodable {
    /// An IANA time zone such as Europe/Paris; empty for the local one.
    let timezone: String
}

/// The current date and time.
struct Clock: Tool {
    let name = "clock"
    let description = "The current date and time, in a given time zone."

    func call(_ query: ClockQuery) async throws -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"
        if !query.timezone.isEmpty {
            guard let zone = TimeZone(identifier: query.timezone) else { throw DemoToolError("unknown time zone '\(query.timezone)'") }
            formatter.timeZone = zone
        }
        return formatter.string(from: Date())
    }
}

@JSONSchema
struct Arithmetic: Decodable {
    /// An arithmetic expression: numbers, + - * / ^, parentheses. E.g. (2 + 3) * 4.
    @SchemaBounds(minLength: 1, maxLength: 200)
    let expression: String
}

/// Evaluates arithmetic, exactly as written (no variables, no functions).
struct Calculator: Tool {
    let name = "calculator"
    let description = "Evaluate an arithmetic expression."

    func call(_ arguments: Arithmetic) async throws -> String {
        var parser = ArithmeticParser(Array(arguments.expression.utf8))
        let value = try parser.parse()
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// Recursive descent over `+ - * / ^ ( )` and decimal numbers, at most 32 levels deep.
struct ArithmeticParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() throws -> Double {
        let value = try sum()
        skipSpaces()
        guard position == bytes.count else { throw DemoToolError("unexpected '\(Character(Unicode.Scalar(bytes[position])))'") }
        guard value.isFinite else { throw DemoToolError("the result is not a finite number") }
        return value
    }

    private mutating func sum() throws -> Double {
        var value = try product()
        while let op = take(["+", "-"]) { value = op == "+" ? value + (try product()) : value - (try product()) }
        return value
    }

    private mutating func product() throws -> Double {
        var value = try power()
        while let op = take(["*", "/"]) { value = op == "*" ? value * (try power()) : value / (try power()) }
        return value
    }

    private mutating func power() throws -> Double {
        let base = try unary()
        guard take(["^"]) != nil else { return base }
        return pow(base, try power())
    }

    private mutating func unary() throws -> Double {
        if take(["-"]) != nil { return -(try unary()) }
        if take(["("]) != nil {
            depth += 1
            guard depth <= 32 else { throw DemoToolError("too many parentheses") }
            let value = try sum()
            guard take([")"]) != nil else { throw DemoToolError("missing ')'") }
            depth -= 1
            return value
        }
        skipSpaces()
        let start = position
        while position < bytes.count, (bytes[position] >= 0x30 && bytes[position] <= 0x39) || bytes[position] == 0x2E { position += 1 }
        guard position > start, let number = Double(String(decoding: bytes[start..<position], as: UTF8.self)) else {
            throw DemoToolError("a number was expected")
        }
        return number
    }

    private mutating func take(_ operators: [Character]) -> Character? {
        skipSpaces()
        guard position < bytes.count else { return nil }
        let next = Character(Unicode.Scalar(bytes[position]))
        guard operators.contains(next) else { return nil }
        position += 1
        return next
    }

    private mutating func skipSpaces() {
        while position < bytes.count, bytes[position] == 0x20 { position += 1 }
    }
}

@JSONSchema
struct FilePath: Decodable {
    /// A path relative to the current folder, e.g. README.md.
    @SchemaBounds(minLength: 1, maxLength: 500)
    let path: String
}

/// Reads a text file under `root` (the folder `chat` started in); nothing outside it, symbolic
/// links included, and at most 64 KiB.
struct FileReader: Tool {
    let root: String
    let name = "read_file"
    let description = "Read a text file in the current folder."
    static let maxBytes = 64 * 1024

    func call(_ arguments: FilePath) async throws -> String {
        let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().standardizedFileURL.path
        let target = URL(fileURLWithPath: arguments.path, relativeTo: URL(fileURLWithPath: base + "/"))
            .resolvingSymlinksInPath().standardizedFileURL.path
        guard target.hasPrefix(base + "/") else { throw DemoToolError("'\(arguments.path)' is outside the current folder") }
        // A regular file only: a FIFO or a device could block the read for good.
        guard (try? FileManager.default.attributesOfItem(atPath: target)[.type] as? FileAttributeType) == .typeRegular else {
            throw DemoToolError("'\(arguments.path)' is not a regular file")
        }
        guard let handle = FileHandle(forReadingAtPath: target) else { throw DemoToolError("cannot open '\(arguments.path)'") }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: Self.maxBytes + 1) ?? Data()
        // A cut may fall inside a character: step back to where one starts.
        var kept = data.prefix(Self.maxBytes)
        if data.count > Self.maxBytes {
            while let last = kept.last, last & 0xC0 == 0x80 { kept = kept.dropLast() }
            if let last = kept.last, last >= 0xC0 { kept = kept.dropLast() }
        }
        guard let text = String(data: kept, encoding: .utf8) else { throw DemoToolError("'\(arguments.path)' is not UTF-8 text") }
        return data.count > Self.maxBytes ? text + "\n[cut at 64 KiB]" : text
    }
}

struct DemoToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
