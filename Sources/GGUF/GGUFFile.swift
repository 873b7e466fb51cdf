import Foundation

/// Errors reading a GGUF file.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(String)
    case notGGUF
    case unsupportedVersion(UInt32)
    case truncated(offset: Int)
    case invalidValueType(UInt32, offset: Int)
    case invalidUTF8(offset: Int)

    public var description: String {
        switch self {
        case .cannotOpen(let p): return "cannot open GGUF file \(p)"
        case .notGGUF: return "not a GGUF file (bad magic)"
        case .unsupportedVersion(let v): return "unsupported GGUF version \(v)"
        case .truncated(let o): return "GGUF metadata truncated at byte \(o)"
        case .invalidValueType(let t, let o): return "invalid GGUF value type \(t) at byte \(o)"
        case .invalidUTF8(let o): return "invalid UTF-8 in GGUF string at byte \(o)"
        }
    }
}

/// The header and metadata key/values of a GGUF model file.
///
/// Only the metadata section is read: the file is memory-mapped and parsing stops before the
/// tensor-info section, so tensor data (hundreds of MB) is never paged in.
public struct GGUFFile: Sendable {
    /// GGUF format version (2 or 3).
    public let version: UInt32
    /// Number of tensors the file declares.
    public let tensorCount: UInt64
    /// Metadata in file order.
    public let keys: [String]
    /// Metadata by key.
    public let metadata: [String: GGUFValue]

    /// Reads the metadata of the GGUF file at `path`.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw GGUFError.cannotOpen(path)
        }
        try self.init(data: data)
    }

    /// Parses GGUF metadata from bytes (the whole file or at least its metadata prefix).
    public init(data: Data) throws {
        var parsed: (UInt32, UInt64, [String], [String: GGUFValue])?
        var failure: Error?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            do {
                var reader = GGUFReader(raw)
                parsed = try reader.readHeaderAndMetadata()
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        let p = parsed!
        (version, tensorCount, keys, metadata) = (p.0, p.1, p.2, p.3)
    }

    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// A string value, or nil when absent or of another type.
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }

    /// An integer value of any integer type.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }

    /// A float value (float32/float64, or integer converted).
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }

    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    /// An array of strings, or nil when absent or not an array of strings.
    public func stringArray(_ key: String) -> [String]? {
        guard case .array(.string, let items)? = metadata[key] else { return nil }
        return items.map { $0.stringValue ?? "" }
    }

    /// An array of integers (any integer element type).
    public func intArray(_ key: String) -> [Int]? {
        guard case .array(_, let items)? = metadata[key] else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = item.intValue else { return nil }
            out.append(v)
        }
        return out
    }

    /// The model architecture (`general.architecture`).
    public var architecture: String? { string("general.architecture") }

    /// The Jinja chat template stored in the file, if any.
    public var chatTemplate: String? { string("tokenizer.chat_template") }
}

/// Little-endian cursor over the mapped bytes.
struct GGUFReader {
    let base: UnsafeRawBufferPointer
    var offset = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    mutating func need(_ n: Int) throws {
        if n < 0 || offset + n > base.count { throw GGUFError.truncated(offset: offset) }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readString() throws -> String {
        let len = try read(UInt64.self)
        guard len <= UInt64(base.count) else { throw GGUFError.truncated(offset: offset) }
        let n = Int(len)
        try need(n)
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<offset + n])
        let start = offset
        offset += n
        // Token texts may be arbitrary bytes in some vocabularies; validate strictly and fall back
        // to a lossy decode only so that a single odd token does not make the file unreadable.
        if let s = String(validating: slice.bindMemory(to: UInt8.self), as: UTF8.self) { return s }
        _ = start
        return String(decoding: slice.bindMemory(to: UInt8.self), as: UTF8.self)
    }

    mutating func readValue(type code: UInt32) throws -> GGUFValue {
        guard let type = GGUFValueType(rawValue: code) else {
            throw GGUFError.invalidValueType(code, offset: offset)
        }
        switch type {
        case .uint8: return .uint8(try read(UInt8.self))
        case .int8: return .int8(try read(Int8.self))
        case .uint16: return .uint16(try read(UInt16.self))
        case .int16: return .int16(try read(Int16.self))
        case .uint32: return .uint32(try read(UInt32.self))
        case .int32: return .int32(try read(Int32.self))
        case .uint64: return .uint64(try read(UInt64.self))
        case .int64: return .int64(try read(Int64.self))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self)))
        case .bool: return .bool(try read(UInt8.self) != 0)
        case .string: return .string(try readString())
        case .array:
            let elemCode = try read(UInt32.self)
            guard let elemType = GGUFValueType(rawValue: elemCode) else {
                throw GGUFError.invalidValueType(elemCode, offset: offset - 4)
            }
            let count = try read(UInt64.self)
            guard count <= UInt64(base.count) else { throw GGUFError.truncated(offset: offset) }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { items.append(try readValue(type: elemCode)) }
            return .array(elementType: elemType, items)
        }
    }

    mutating func readHeaderAndMetadata() throws -> (UInt32, UInt64, [String], [String: GGUFValue]) {
        let magic = try read(UInt32.self)
        guard magic == 0x4655_4747 else { throw GGUFError.notGGUF }  // "GGUF" little-endian
        let version = try read(UInt32.self)
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }
        let tensorCount = try read(UInt64.self)
        let kvCount = try read(UInt64.self)
        guard kvCount <= UInt64(base.count) else { throw GGUFError.truncated(offset: offset) }
        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<Int(kvCount) {
            let key = try readString()
            let type = try read(UInt32.self)
            metadata[key] = try readValue(type: type)
            keys.append(key)
        }
        return (version, tensorCount, keys, metadata)
    }
}
