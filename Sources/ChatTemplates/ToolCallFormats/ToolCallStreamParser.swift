import ChatAPI
import Foundation

/// Incremental parser of one generation's output in a given `ToolCallFormat`.
///
/// Feed text in chunks of any size; each call returns the events that are certain so far.
/// Guarantees:
/// - Text that could still be the start of a marker (`<tool_` at a chunk end) is held back and
///   never reported as text; once it cannot be a marker it is released.
/// - Feeding a text whole or one character at a time yields the same concatenated text,
///   reasoning and argument fragments, and the same calls.
/// - A call's `argumentsDelta` fragments concatenate to one compact JSON object (insignificant
///   whitespace removed while streaming, literal number text kept; XML/Gemma values converted).
/// - Malformed output: if the call was not yet announced, its raw text is returned as text
///   (it was just text that looked like a marker). Once announced, `malformedToolCall` carries
///   the raw text and the reason, and parsing resumes in text mode.
public struct ToolCallStreamParser: Sendable {
    let plan: ParsePlan
    let tools: [String: FunctionDefinition]
    var buffer: [UInt8] = []
    var pos = 0
    private var pendingUTF8: [UInt8] = []
    private var mode: Mode
    /// The call being read while `mode == .call` (kept out of `mode` so it is mutated in place).
    private var call = CallState.idle
    /// Text-mode markers, flattened once; `startsMarker[b]` says whether byte `b` can begin one.
    private let markers: [(bytes: [UInt8], action: MarkerAction)]
    private let startsMarker: [Bool]
    var nextIndex = 0
    var sink = EventSink()

    private enum Mode {
        case text(trimLeading: Bool)
        case reasoning(close: [UInt8], atStart: Bool)
        case call
        case afterCall(ParsePlan.Layout)
    }

    struct CallState {
        static let idle = CallState(layout: ParsePlan.Layout(steps: []))
        var layout: ParsePlan.Layout
        var step = 0
        var raw: [UInt8] = []
        var name: String?
        var id: String?
        /// The current call was announced and not yet finished.
        var started = false
        /// Some call of this section was announced.
        var sectionStarted = false
        /// A control token announced a call (`<|python_tag|>`): any tool name counts.
        var tagged = false
        /// Whitespace dropped before the trigger; restored if the call turns out to be text.
        var leadingSpace: [UInt8] = []
        var sub: Sub = .none

        /// Moves the sub-state out (no copy), leaving `.none`.
        mutating func takeSub() -> Sub {
            var s = Sub.none
            swap(&s, &sub)
            return s
        }
    }

    enum Sub {
        case none
        case json(JSONStreamScanner)
        case calls(CallsState)
        case xml(XMLState)
        case gemma(GemmaState)
        case pythonArguments(PythonArgumentsState)

        var isIdle: Bool { if case .none = self { return true } else { return false } }
    }

    enum StepResult { case done, needMore, fail(String), toText }

    init(plan: ParsePlan, tools: [FunctionDefinition], startInReasoning: Bool) {
        self.plan = plan
        var byName: [String: FunctionDefinition] = [:]
        for t in tools { byName[t.name] = t }
        self.tools = byName
        var markers: [(bytes: [UInt8], action: MarkerAction)] = []
        for t in plan.triggers { markers.append((t.text, .trigger(t))) }
        for r in plan.reasoning { markers.append((r.open, .reasoning(r.close))) }
        for d in plan.dropMarkers { markers.append((d, .drop)) }
        self.markers = markers
        var starts = [Bool](repeating: false, count: 256)
        for m in markers { if let b = m.bytes.first { starts[Int(b)] = true } }
        self.startsMarker = starts
        if startInReasoning, let block = plan.reasoning.first {
            mode = .reasoning(close: block.close, atStart: true)
        } else if let layout = plan.initialLayout {
            call = CallState(layout: layout)
            mode = .call
        } else {
            mode = .text(trimLeading: false)
        }
    }

    /// Consumes the next chunk of output.
    public mutating func feed(_ text: String) -> [ParsedEvent] {
        buffer.append(contentsOf: text.utf8)
        run(final: false)
        return sink.drain()
    }

    /// Consumes raw output bytes; an incomplete UTF-8 sequence at the end waits for the next chunk.
    public mutating func feed(bytes: [UInt8]) -> [ParsedEvent] {
        var all = pendingUTF8 + bytes
        pendingUTF8 = []
        let cut = completeUTF8Prefix(all)
        pendingUTF8 = Array(all[cut...])
        all.removeSubrange(cut...)
        buffer.append(contentsOf: all)
        run(final: false)
        return sink.drain()
    }

    /// Ends the output: releases held-back text and completes or rejects an unfinished call.
    /// A call whose arguments are complete but whose closing markers are missing (generation
    /// stopped at an end-of-turn token) is accepted.
    public mutating func finish() -> [ParsedEvent] {
        buffer.append(contentsOf: pendingUTF8)
        pendingUTF8 = []
        run(final: true)
        switch mode {
        case .text, .afterCall:
            sink.text(buffer[pos...])
        case .reasoning:
            break  // only held-back trailing whitespace is left
        case .call:
            var c = takeCall()
            if c.sub.isIdle, c.layout.steps[c.step...].allSatisfy(\.isLiteral) {
                c.raw += buffer[pos...]
                if c.started { sink.event(.toolCallFinished(index: nextIndex)); nextIndex += 1 }
            } else {
                c.raw += buffer[pos...]
                pos = buffer.count
                fail(c, "the output ended inside a tool call")
            }
        }
        pos = buffer.count
        mode = .text(trimLeading: false)
        compact()
        return sink.drain()
    }

    /// Parses a complete output in one go (same events as feeding it in chunks, then `finish`).
    public mutating func parse(_ text: String) -> [ParsedEvent] {
        feed(text) + finish()
    }

    // MARK: - Driver

    private mutating func run(final: Bool) {
        var guardCount = 0
        while guardCount < 1_000_000 {
            guardCount += 1
            let progressed: Bool
            switch mode {
            case .text(let trim): progressed = stepText(trimLeading: trim, final: final)
            case .reasoning(let close, let atStart): progressed = stepReasoning(close: close, atStart: atStart, final: final)
            case .call: progressed = stepCall(final: final)
            case .afterCall(let layout): progressed = stepAfterCall(layout, final: final)
            }
            if !progressed { break }
        }
        compact()
    }

    private mutating func compact() {
        if pos > 4096 || pos == buffer.count {
            buffer.removeSubrange(0..<pos)
            pos = 0
        }
    }

    // MARK: - Text and reasoning

    private enum MarkerAction { case trigger(ParsePlan.Trigger), reasoning([UInt8]), drop }

    private mutating func stepText(trimLeading: Bool, final: Bool) -> Bool {
        if trimLeading {
            while pos < buffer.count, isSpace(buffer[pos]) { pos += 1 }
            if pos == buffer.count { return false }
            mode = .text(trimLeading: false)
        }
        var i = pos
        while i < buffer.count {
            if !startsMarker[Int(buffer[i])] { i += 1; continue }
            var bestIndex = -1
            var partial = false
            for (k, marker) in markers.enumerated() {
                switch match(marker.bytes, at: i) {
                case .full:
                    if bestIndex < 0 || marker.bytes.count > markers[bestIndex].bytes.count { bestIndex = k }
                case .partial: partial = true
                case .none: break
                }
            }
            let best = bestIndex < 0 ? nil : (action: markers[bestIndex].action, length: markers[bestIndex].bytes.count)
            if partial && !final {
                emitText(upTo: i, holdTrailingSpace: true)
                return false
            }
            if let best {
                var space: [UInt8] = []
                if case .trigger = best.action {
                    // Whitespace between text and a call is layout, not content (it comes back
                    // if the call turns out to be text).
                    emitText(upTo: i, holdTrailingSpace: true)
                    space = Array(buffer[pos..<i])
                } else {
                    emitText(upTo: i, holdTrailingSpace: false)
                }
                pos = i
                switch best.action {
                case .trigger(let t):
                    var c = CallState(layout: t.layout)
                    c.leadingSpace = space
                    if t.consumed { c.raw = t.text; pos += t.text.count }
                    call = c
                    mode = .call
                case .reasoning(let close):
                    pos += best.length
                    mode = .reasoning(close: close, atStart: true)
                case .drop:
                    pos += best.length
                }
                return true
            }
            i += 1
        }
        emitText(upTo: buffer.count, holdTrailingSpace: !final)
        return false
    }

    /// Emits text up to `end`; with `holdTrailingSpace`, trailing whitespace stays in the
    /// buffer until it is known whether a call follows it.
    private mutating func emitText(upTo end: Int, holdTrailingSpace: Bool) {
        var e = end
        if holdTrailingSpace { while e > pos, isSpace(buffer[e - 1]) { e -= 1 } }
        sink.text(buffer[pos..<e]); pos = e
    }

    private mutating func stepReasoning(close: [UInt8], atStart: Bool, final: Bool) -> Bool {
        if atStart {
            while pos < buffer.count, isSpace(buffer[pos]) { pos += 1 }
            if pos == buffer.count { return false }
            mode = .reasoning(close: close, atStart: false)
        }
        if let (at, full) = find(close, from: pos) {
            if full {
                var end = at
                while end > pos, isSpace(buffer[end - 1]) { end -= 1 }
                sink.reasoning(buffer[pos..<end])
                pos = at + close.count
                mode = .text(trimLeading: true)
                return true
            }
            if !final { emitReasoning(upTo: at, holdTrailingSpace: true); return false }
        }
        // Trailing whitespace waits for more reasoning; at the end it is dropped (as before a close).
        emitReasoning(upTo: buffer.count, holdTrailingSpace: true)
        return false
    }

    private mutating func emitReasoning(upTo end: Int, holdTrailingSpace: Bool) {
        var e = end
        if holdTrailingSpace { while e > pos, isSpace(buffer[e - 1]) { e -= 1 } }
        sink.reasoning(buffer[pos..<e]); pos = e
    }

    // MARK: - Calls

    private mutating func stepCall(final: Bool) -> Bool {
        guard case .call = mode else { return false }
        var c = takeCall()
        let step = c.layout.steps[c.step]
        let result: StepResult
        switch step {
        case .literal(let lit): result = readLiteral(lit, optional: false, &c)
        case .optionalLiteral(let lit): result = readLiteral(lit, optional: true, &c)
        case .name(let terminators, let keep, let style): result = readName(terminators, keep, style, &c)
        case .optionalID(let open, let close): result = readOptionalID(open, close, &c)
        case .skipThrough(let marker): result = skipThrough(marker, &c)
        case .begin:
            sink.event(.toolCallStarted(index: nextIndex, name: c.name ?? "", id: c.id))
            c.started = true; c.sectionStarted = true
            result = .done
        case .jsonArguments: result = readJSONArguments(&c)
        case .jsonCalls(let keys): result = readJSONCalls(keys, &c)
        case .xmlArguments(let style): result = readXMLArguments(style, &c)
        case .gemmaArguments: result = readGemmaArguments(&c)
        case .pythonTag(let keys): result = readPythonTag(keys, final: final, &c)
        case .pythonCode: result = readPythonCode(final: final, &c)
        case .pythonArguments: result = readPythonArguments(&c)
        }
        switch result {
        case .needMore:
            swap(&call, &c)
            return false
        case .toText:
            mode = .text(trimLeading: false)
            return true
        case .fail(let reason):
            fail(c, reason)
            return true
        case .done:
            c.step += 1
            c.sub = .none
            if c.step < c.layout.steps.count { swap(&call, &c); return true }
            if c.started { sink.event(.toolCallFinished(index: nextIndex)); nextIndex += 1 }
            mode = .afterCall(c.layout)
            return true
        }
    }

    /// Moves the current call out of `self` (no copy), leaving an idle placeholder.
    private mutating func takeCall() -> CallState {
        var c = CallState.idle
        swap(&c, &call)
        return c
    }

    private mutating func fail(_ c: CallState, _ reason: String) {
        if c.started || c.sectionStarted {
            sink.event(.malformedToolCall(index: nextIndex, text: String(decoding: c.raw, as: UTF8.self), reason: reason))
            if c.started { nextIndex += 1 }
        } else if c.raw.isEmpty {
            // The trigger was part of the call text and nothing was read: release one byte so
            // text scanning moves past it.
            sink.text(c.leadingSpace)
            if pos < buffer.count { sink.text(buffer[pos...pos]); pos += 1 }
        } else {
            sink.text(c.leadingSpace + c.raw)
        }
        mode = .text(trimLeading: false)
    }

    private mutating func stepAfterCall(_ layout: ParsePlan.Layout, final: Bool) -> Bool {
        var j = pos
        while j < buffer.count, isSpace(buffer[j]) { j += 1 }
        if j == buffer.count {
            if final { pos = j }
            return false
        }
        for (marker, isEnd) in [(layout.sectionEnd, true), (layout.nextCall, false)] {
            guard let marker else { continue }
            switch match(marker, at: j) {
            case .full:
                if isEnd {
                    pos = j + marker.count
                    mode = .text(trimLeading: true)
                } else {
                    var c = CallState(layout: layout)
                    c.sectionStarted = true
                    if layout.nextCallIsCallText {
                        pos = j
                    } else {
                        pos = j + marker.count
                        c.raw = marker
                    }
                    call = c
                    mode = .call
                }
                return true
            case .partial where !final: return false
            default: break
            }
        }
        mode = .text(trimLeading: true)
        return true
    }

    mutating func take(_ n: Int, _ c: inout CallState) {
        c.raw += buffer[pos..<(pos + n)]
        pos += n
    }

    func skipSpace(from start: Int) -> Int {
        var j = start
        while j < buffer.count, isSpace(buffer[j]) { j += 1 }
        return j
    }

    private mutating func readLiteral(_ lit: [UInt8], optional: Bool, _ c: inout CallState) -> StepResult {
        let j = skipSpace(from: pos)
        if j == buffer.count { return .needMore }
        switch match(lit, at: j) {
        case .full: take(j - pos + lit.count, &c); return .done
        case .partial: return .needMore
        case .none:
            return optional ? .done : .fail("expected \"\(String(decoding: lit, as: UTF8.self))\"")
        }
    }

    private mutating func readName(_ terminators: [[UInt8]], _ keep: Bool, _ style: ParsePlan.NameStyle,
                                   _ c: inout CallState) -> StepResult {
        var i = pos
        while i < buffer.count {
            for t in terminators {
                switch match(t, at: i) {
                case .partial: return .needMore
                case .none: continue
                case .full:
                    let raw = String(decoding: buffer[pos..<i], as: UTF8.self)
                    let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                    take(i - pos + (keep ? 0 : t.count), &c)
                    guard !name.isEmpty, name.count <= 256, !name.contains(where: \.isWhitespace) else {
                        return .fail("invalid function name \"\(name)\"")
                    }
                    switch style {
                    case .plain: c.name = name
                    case .recipient:
                        // Tolerate a repeated ">>>" when the prompt already ended with one.
                        let recipient = name.hasPrefix(">>>") ? String(name.dropFirst(3)) : name
                        if recipient == "all" { return .toText }
                        c.name = recipient
                    case .kimi:
                        c.id = name
                        var n = Substring(name)
                        if n.hasPrefix("functions.") { n = n.dropFirst("functions.".count) }
                        if let colon = n.lastIndex(of: ":"), n[n.index(after: colon)...].allSatisfy(\.isNumber) {
                            n = n[..<colon]
                        }
                        c.name = String(n)
                    }
                    if plan.requireKnownName, tools[c.name!] == nil { return .fail("unknown tool \"\(c.name!)\"") }
                    return .done
                }
            }
            i += 1
        }
        return buffer.count - pos > 256 ? .fail("function name too long") : .needMore
    }

    private mutating func readOptionalID(_ open: [UInt8], _ close: [UInt8], _ c: inout CallState) -> StepResult {
        switch match(open, at: pos) {
        case .none: return .done
        case .partial: return .needMore
        case .full:
            guard let (at, full) = find(close, from: pos + open.count), full else {
                return buffer.count - pos > 300 ? .fail("call id too long") : .needMore
            }
            c.id = String(decoding: buffer[(pos + open.count)..<at], as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            take(at - pos, &c)
            return .done
        }
    }

    private mutating func skipThrough(_ marker: [UInt8], _ c: inout CallState) -> StepResult {
        if let (at, full) = find(marker, from: pos) {
            if full { take(at + marker.count - pos, &c); return .done }
            take(at - pos, &c)
        } else {
            take(buffer.count - pos, &c)
        }
        return c.raw.count > 1024 ? .fail("expected \"\(String(decoding: marker, as: UTF8.self))\"") : .needMore
    }

    private mutating func readJSONArguments(_ c: inout CallState) -> StepResult {
        var scanner: JSONStreamScanner
        if case .json(let s) = c.takeSub() { scanner = s } else { scanner = JSONStreamScanner() }
        var items: [JSONStreamScanner.Item] = []
        var out: [UInt8] = []
        defer { sink.arguments(nextIndex, out) }
        while pos < buffer.count, !scanner.isComplete {
            let b = buffer[pos]
            let isFirst = scanner.depth == 0 && !isSpace(b)
            if isFirst, b != UInt8(ascii: "{") { return .fail("arguments are not a JSON object") }
            items.removeAll(keepingCapacity: true)
            do { try scanner.consume(b, into: &items) } catch {
                return .fail("invalid JSON arguments: \((error as? JSONStreamScanner.ScanError)?.message ?? "\(error)")")
            }
            for case .output(let o) in items { out.append(o) }
            take(1, &c)
        }
        c.sub = .json(scanner)
        return scanner.isComplete ? .done : .needMore
    }

    // MARK: - JSON call objects

    struct CallsState {
        enum Shape { case undecided, object, single, array, wrapper }
        enum Role { case none, name, id, arguments, argumentsString, other }
        var scanner = JSONStreamScanner()
        var shape = Shape.undecided
        var callDepth = -1
        var inCall = false
        var expectObject = false
        var expectArray = false
        var topKey: String?
        var currentKey: String?
        var role = Role.none
        var capture: [UInt8] = []
        var pendingArguments: [UInt8] = []
        var argumentsDone = false
        var argumentsBegan = false
    }

    mutating func readJSONCalls(_ keys: ParsePlan.JSONCallKeys, _ c: inout CallState) -> StepResult {
        var s: CallsState
        if case .calls(let existing) = c.takeSub() { s = existing } else { s = CallsState() }
        var items: [JSONStreamScanner.Item] = []
        while pos < buffer.count, !s.scanner.isComplete {
            items.removeAll(keepingCapacity: true)
            do { try s.scanner.consume(buffer[pos], into: &items) } catch {
                return .fail("invalid JSON: \((error as? JSONStreamScanner.ScanError)?.message ?? "\(error)")")
            }
            for item in items {
                if let failure = handle(item, keys, &s, &c) { return .fail(failure) }
            }
            take(1, &c)
        }
        if s.scanner.isComplete {
            if s.shape == .object { return .fail("not a tool call") }
            return .done
        }
        c.sub = .calls(s)
        return .needMore
    }

    /// Applies one scanner item to the call-extraction state; returns a failure reason.
    private mutating func handle(_ item: JSONStreamScanner.Item, _ keys: ParsePlan.JSONCallKeys,
                                 _ s: inout CallsState, _ c: inout CallState) -> String? {
        switch item {
        case .begin(let d):
            if s.shape == .undecided || s.shape == .object { return nil }
            if d == s.callDepth {
                s.inCall = true; s.expectObject = true
                s.currentKey = nil; s.argumentsDone = false; s.argumentsBegan = false; s.pendingArguments = []
                c.name = nil; c.id = nil
            } else if s.inCall, d == s.callDepth + 1 {
                let key = s.currentKey ?? ""
                if keys.name.contains(key) { s.role = .name }
                else if keys.arguments.contains(key) { s.role = s.argumentsDone ? .other : .arguments }
                else if keys.id.contains(key) { s.role = .id }
                else { s.role = .other }
                s.capture = []
            } else if s.shape == .wrapper, d == 1 {
                if s.topKey == "tool_calls" { s.expectArray = true }
            }
        case .key(let k, let d):
            if s.shape == .object, d == 1 {
                if keys.allowWrapper, k == "tool_calls" {
                    s.shape = .wrapper; s.callDepth = 2
                } else {
                    s.shape = .single; s.callDepth = 0; s.inCall = true
                    s.argumentsDone = false; s.argumentsBegan = false; s.pendingArguments = []
                    c.name = nil; c.id = nil
                }
            }
            if s.shape == .wrapper, d == 1 { s.topKey = k }
            if s.inCall, d == s.callDepth + 1 { s.currentKey = k }
        case .output(let b):
            switch s.shape {
            case .undecided:
                if b == UInt8(ascii: "{") { s.shape = .object } else { s.shape = .array; s.callDepth = 1 }
                return nil
            default: break
            }
            if s.expectObject {
                s.expectObject = false
                if b != UInt8(ascii: "{") { return "a tool call is not a JSON object" }
                return nil
            }
            if s.expectArray {
                s.expectArray = false
                if b != UInt8(ascii: "[") { return "\"tool_calls\" is not an array" }
                return nil
            }
            guard s.inCall else { return nil }
            switch s.role {
            case .none, .other: break
            case .name, .id, .argumentsString: s.capture.append(b)
            case .arguments:
                if !s.argumentsBegan {
                    if b == UInt8(ascii: "\"") { s.role = .argumentsString; s.capture = [b]; return nil }
                    if b != UInt8(ascii: "{") { return "arguments are not a JSON object" }
                    s.argumentsBegan = true
                }
                if c.started { sink.arguments(nextIndex, CollectionOfOne(b)) } else { s.pendingArguments.append(b) }
            }
        case .end(let d):
            if s.inCall, d == s.callDepth + 1 {
                defer { s.role = .none }
                switch s.role {
                case .name:
                    guard let name = (try? JSONParser.parse(s.capture))?.stringValue, !name.isEmpty else {
                        return "the function name is not a string"
                    }
                    if plan.requireKnownName, !c.tagged, tools[name] == nil { return "unknown tool \"\(name)\"" }
                    c.name = name
                    sink.event(.toolCallStarted(index: nextIndex, name: name, id: c.id))
                    c.started = true; c.sectionStarted = true
                    sink.arguments(nextIndex, s.pendingArguments)
                    s.pendingArguments = []
                case .id:
                    switch try? JSONParser.parse(s.capture) {
                    case .string(let v)?: c.id = v
                    case .number(let n)?: c.id = n.text
                    default: break
                    }
                case .arguments:
                    s.argumentsDone = true
                case .argumentsString:
                    // Lenient: `"arguments": "{\"a\": 1}"` (arguments as a JSON string).
                    guard let text = (try? JSONParser.parse(s.capture))?.stringValue,
                          let value = try? JSONParser.parse(text), value.objectValue != nil else {
                        return "arguments are not a JSON object"
                    }
                    s.pendingArguments = Array(value.serialized().utf8)
                    if c.started { sink.arguments(nextIndex, s.pendingArguments); s.pendingArguments = [] }
                    s.argumentsDone = true
                case .none, .other: break
                }
            } else if s.inCall, d == s.callDepth {
                s.inCall = false
                guard c.started else { return "a tool call without a name" }
                if !s.argumentsDone { sink.arguments(nextIndex, "{}") }
                sink.event(.toolCallFinished(index: nextIndex))
                nextIndex += 1
                c.started = false
            }
        }
        return nil
    }

    // MARK: - XML-style parameters

    struct XMLState {
        enum Phase { case between, key, valueOpen, value }
        var phase = Phase.between
        var count = 0
        var streaming = false
        var valueStarted = false
        var types: [String] = []
        var buffered: [UInt8] = []
        /// The value is wrapped in `<![CDATA[…]]>`, whose end comes before the closing marker.
        var inCDATA = false
    }

    private static let cdataOpen = Array("<![CDATA[".utf8)
    private static let cdataClose = Array("]]>".utf8)

    private mutating func readXMLArguments(_ style: ParsePlan.XMLArgumentStyle, _ c: inout CallState) -> StepResult {
        var x: XMLState
        if case .xml(let existing) = c.takeSub() { x = existing } else { x = XMLState() }
        var out: [UInt8] = []
        defer { sink.arguments(nextIndex, out) }
        while true {
            switch x.phase {
            case .between:
                let j = skipSpace(from: pos)
                if j == buffer.count { c.sub = .xml(x); return .needMore }
                let key = match(style.keyOpen, at: j), end = match(style.end, at: j)
                if key == .full {
                    take(j - pos + style.keyOpen.count, &c); x.phase = .key
                } else if end == .full {
                    take(j - pos + style.end.count, &c)
                    out += Array((x.count == 0 ? "{}" : "}").utf8)
                    return .done
                } else if key == .partial || end == .partial {
                    c.sub = .xml(x); return .needMore
                } else {
                    return .fail("expected a parameter or \"\(String(decoding: style.end, as: UTF8.self))\"")
                }
            case .key:
                guard let (at, full) = find(style.keyClose, from: pos), full else {
                    if buffer.count - pos > 256 { return .fail("parameter name too long") }
                    c.sub = .xml(x); return .needMore
                }
                var keyBytes = buffer[pos..<at]
                var markedString = false
                if let attribute = style.stringAttribute, let (cut, full) = find(attribute, from: pos), full, cut < at {
                    markedString = String(decoding: buffer[(cut + attribute.count)..<at], as: UTF8.self) == "true"
                    keyBytes = buffer[pos..<cut]
                }
                let key = String(decoding: keyBytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                take(at + style.keyClose.count - pos, &c)
                out += Array((x.count == 0 ? "{" : ",").utf8)
                appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
                x.count += 1
                x.types = c.name.flatMap { tools[$0] }?.declaredTypes(of: key) ?? []
                if x.types.isEmpty, markedString { x.types = ["string"] }
                x.streaming = x.types == ["string"]
                x.valueStarted = false
                x.buffered = []
                x.phase = style.valueOpen == nil ? .value : .valueOpen
            case .valueOpen:
                switch readLiteral(style.valueOpen!, optional: false, &c) {
                case .done: x.phase = .value
                case .needMore: c.sub = .xml(x); return .needMore
                case let other: return other
                }
            case .value:
                if !x.valueStarted {
                    if style.trimNewlines {
                        if pos == buffer.count { c.sub = .xml(x); return .needMore }
                        if buffer[pos] == 0x0A { take(1, &c) }
                    }
                    if style.unwrapsCDATA {
                        switch match(Self.cdataOpen, at: pos) {
                        case .partial: c.sub = .xml(x); return .needMore
                        case .full: take(Self.cdataOpen.count, &c); x.inCDATA = true
                        case .none: break
                        }
                    }
                    x.valueStarted = true
                    if x.streaming { out.append(UInt8(ascii: "\"")) }
                }
                let found = find(x.inCDATA ? Self.cdataClose + style.valueClose : style.valueClose, from: pos)
                var end = found?.index ?? buffer.count
                let complete = found?.full == true
                if style.trimNewlines, end > pos, buffer[end - 1] == 0x0A { end -= 1 }
                if x.streaming { appendJSONEscaped(buffer[pos..<end], to: &out) } else { x.buffered += buffer[pos..<end] }
                take(end - pos, &c)
                guard complete else { c.sub = .xml(x); return .needMore }
                take(found!.index + (x.inCDATA ? Self.cdataClose.count : 0) + style.valueClose.count - pos, &c)
                x.inCDATA = false
                if x.streaming {
                    out.append(UInt8(ascii: "\""))
                } else {
                    out += Array(convertTextValue(String(decoding: x.buffered, as: UTF8.self), types: x.types).serialized().utf8)
                }
                x.phase = .between
            }
        }
    }

    // MARK: - Gemma arguments

    struct GemmaState {
        enum Phase { case start, keyOrClose, key, quotedKey, colon, value, valueOrClose, string, bare, afterValue }
        var phase = Phase.start
        var stack: [Bool] = []  // true = object
        var bare: [UInt8] = []
    }

    private static let gemmaQuote = Array("<|\"|>".utf8)

    private mutating func readGemmaArguments(_ c: inout CallState) -> StepResult {
        var g: GemmaState
        if case .gemma(let existing) = c.takeSub() { g = existing } else { g = GemmaState() }
        var out: [UInt8] = []
        defer { sink.arguments(nextIndex, out) }
        let q = Self.gemmaQuote
        func wait() -> StepResult { c.sub = .gemma(g); return .needMore }
        while true {
            // Phases that skip leading whitespace and need one byte.
            switch g.phase {
            case .start, .keyOrClose, .colon, .value, .valueOrClose, .afterValue:
                while pos < buffer.count, isSpace(buffer[pos]) { take(1, &c) }
                if pos == buffer.count { return wait() }
            default: break
            }
            switch g.phase {
            case .start:
                guard buffer[pos] == UInt8(ascii: "{") else { return .fail("expected '{'") }
                take(1, &c); out.append(UInt8(ascii: "{")); g.stack.append(true); g.phase = .keyOrClose
            case .keyOrClose:
                if buffer[pos] == UInt8(ascii: "}") { g.phase = .afterValue; continue }
                switch match(q, at: pos) {
                case .full: take(q.count, &c); g.phase = .quotedKey
                case .partial: return wait()
                case .none: g.phase = .key
                }
            case .key, .quotedKey:
                let terminator = g.phase == .key ? [UInt8(ascii: ":")] : q
                guard let (at, full) = find(terminator, from: pos), full else {
                    if buffer.count - pos > 256 { return .fail("argument name too long") }
                    return wait()
                }
                let key = String(decoding: buffer[pos..<at], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if key.isEmpty || key.contains(where: { "{}[],".contains($0) }) { return .fail("invalid argument name") }
                take(at + terminator.count - pos, &c)
                appendQuoted(key, to: &out)
                if g.phase == .key { out.append(UInt8(ascii: ":")); g.phase = .value } else { g.phase = .colon }
            case .colon:
                guard buffer[pos] == UInt8(ascii: ":") else { return .fail("expected ':'") }
                take(1, &c); out.append(UInt8(ascii: ":")); g.phase = .value
            case .value, .valueOrClose:
                let b = buffer[pos]
                if g.phase == .valueOrClose, b == UInt8(ascii: "]") { g.phase = .afterValue; continue }
                switch match(q, at: pos) {
                case .full: take(q.count, &c); out.append(UInt8(ascii: "\"")); g.phase = .string; continue
                case .partial: return wait()
                case .none: break
                }
                if b == UInt8(ascii: "{") {
                    take(1, &c); out.append(b); g.stack.append(true); g.phase = .keyOrClose
                } else if b == UInt8(ascii: "[") {
                    take(1, &c); out.append(b); g.stack.append(false); g.phase = .valueOrClose
                } else {
                    g.bare = []; g.phase = .bare
                }
            case .string:
                let found = find(q, from: pos)
                let end = found?.index ?? buffer.count
                appendJSONEscaped(buffer[pos..<end], to: &out)
                take(end - pos, &c)
                guard let found, found.full else { return wait() }
                take(q.count, &c); out.append(UInt8(ascii: "\"")); g.phase = .afterValue
            case .bare:
                var end = pos
                while end < buffer.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(buffer[end]) { end += 1 }
                g.bare += buffer[pos..<end]
                take(end - pos, &c)
                if g.bare.count > 256 { return .fail("invalid argument value") }
                if end == buffer.count { return wait() }
                let text = String(decoding: g.bare, as: UTF8.self)
                out += Array(convertTextValue(text, types: []).serialized().utf8)
                g.phase = .afterValue
            case .afterValue:
                let b = buffer[pos]
                if b == UInt8(ascii: ",") {
                    take(1, &c); out.append(b)
                    g.phase = g.stack.last == true ? .keyOrClose : .value
                } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    guard g.stack.last == (b == UInt8(ascii: "}")) else { return .fail("mismatched bracket") }
                    take(1, &c); out.append(b); g.stack.removeLast()
                    if g.stack.isEmpty { return .done }
                } else {
                    return .fail("expected ',' or a closing bracket")
                }
            }
        }
    }

    // MARK: - Matching

    enum Match { case full, partial, none }

    /// Whether `marker` occurs at `i`; `.partial` when the buffer ends inside a possible match.
    func match(_ marker: [UInt8], at i: Int) -> Match {
        var k = 0
        while k < marker.count {
            if i + k >= buffer.count { return .partial }
            if buffer[i + k] != marker[k] { return .none }
            k += 1
        }
        return .full
    }

    /// The first full occurrence of `marker` at or after `start`, or a partial one at the end.
    func find(_ marker: [UInt8], from start: Int) -> (index: Int, full: Bool)? {
        guard let first = marker.first else { return (start, true) }
        var i = start
        while i < buffer.count {
            if buffer[i] == first {
                switch match(marker, at: i) {
                case .full: return (i, true)
                case .partial: return (i, false)
                case .none: break
                }
            }
            i += 1
        }
        return nil
    }
}

private extension ParsePlan.Step {
    var isLiteral: Bool {
        switch self {
        case .literal, .optionalLiteral: return true
        default: return false
        }
    }
}


private func appendQuoted(_ s: String, to out: inout [UInt8]) {
    var text = ""
    JSONValue.writeString(s, to: &text)
    out += Array(text.utf8)
}

/// The length of the longest prefix of `bytes` that ends on a complete UTF-8 sequence.
func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
    var i = bytes.count
    var back = 0
    while i > 0, back < 4 {
        let b = bytes[i - 1]
        if b & 0xC0 == 0x80 { i -= 1; back += 1; continue }
        let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return need == back + 1 ? bytes.count : i - 1
    }
    return bytes.count
}

/// Reads a parameter value written as text (XML-style formats, Gemma bare values) as JSON:
/// JSON text when it parses to an allowed type (Python's `True`/`False`/`None` included),
/// otherwise the text as a string.
func convertTextValue(_ text: String, types: [String]) -> JSONValue {
    if types == ["string"] { return .string(text) }
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    var candidate: JSONValue?
    switch trimmed {
    case "True": candidate = .bool(true)
    case "False": candidate = .bool(false)
    case "None": candidate = .null
    // Templates that write values with `| string` spell them as Python literals.
    default: candidate = (try? JSONParser.parse(trimmed)) ?? PythonLiteral.parse(trimmed)
    }
    if let value = candidate {
        let name = value.typeName
        if types.isEmpty || types.contains(name) || (name == "integer" && types.contains("number")) {
            return value
        }
    }
    return .string(text)
}
