import Foundation

/// Reads MaskBench's `*.jsonl.gz` splits (tests and GrammarBench): decompressed by the system's
/// `gzip`, since Foundation has no inflate on Linux and no package here provides one.
public enum Gzip {
    /// The decompressed bytes of the file at `path`; throws when `gzip` fails.
    public static func decompress(_ path: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
        }
        return data
    }

    /// The decompressed file's lines (a JSON Lines split: one document per line).
    public static func lines(_ path: String) throws -> [String] {
        String(decoding: try decompress(path), as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
