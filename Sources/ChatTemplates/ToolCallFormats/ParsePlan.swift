/// How a format's parser reads model output: the internal, executable counterpart of
/// `ToolCallSyntax`. The parser engine (`ToolCallStreamParser`) interprets it.
struct ParsePlan {
    /// A step in reading one call (or one section of calls).
    enum Step {
        /// Optional whitespace, then this exact text; anything else makes the call malformed.
        case literal([UInt8])
        /// Optional whitespace, then this text if present.
        case optionalLiteral([UInt8])
        /// The function name, up to the first terminator (consumed unless `keepTerminator`).
        case name(terminators: [[UInt8]], keepTerminator: Bool, style: NameStyle)
        /// `open ID` when the output continues with `open`; the id ends at `close` (kept).
        case optionalID(open: [UInt8], close: [UInt8])
        /// Skips any text through `marker` (e.g. harmony's `<|constrain|>json<|message|>`).
        case skipThrough([UInt8])
        /// Announces the call (`toolCallStarted`) once its name (and id) are known.
        case begin
        /// One JSON object, streamed as the arguments.
        case jsonArguments
        /// One JSON value holding the calls themselves: a call object, an array of call objects,
        /// or (when `allowWrapper`) `{"tool_calls": [call objects]}`.
        case jsonCalls(JSONCallKeys)
        /// Per-parameter XML-ish elements (Qwen3-Coder, GLM).
        case xmlArguments(XMLArgumentStyle)
        /// Gemma's `{key:value,…}` notation.
        case gemmaArguments
        /// What follows Llama 3.1's `<|python_tag|>`: a JSON call object (`{…}`), a built-in tool
        /// call `NAME.call(key="value", …)`, or raw Python code (a call of the `python` tool).
        /// Replaced by `pythonArguments`, `pythonCode` or `jsonCalls` once the output decides.
        case pythonTag(JSONCallKeys)
        /// Raw code, through the end of the output or an end-of-message token.
        case pythonCode
        /// Python keyword arguments through the closing parenthesis (LFM2's calls, Llama's
        /// `NAME.call(…)`), streamed as they come.
        case pythonArguments
    }

    enum NameStyle {
        case plain
        /// `functions.NAME:IDX`: the whole text is the call id.
        case kimi
        /// Functionary v3.2 recipient: `all` means plain text follows.
        case recipient
    }

    struct JSONCallKeys {
        var name: [String]
        var arguments: [String]
        var id: [String]
        var allowWrapper: Bool
    }

    struct XMLArgumentStyle {
        var keyOpen: [UInt8]
        var keyClose: [UInt8]
        var valueOpen: [UInt8]?
        var valueClose: [UInt8]
        var end: [UInt8]
        /// Drop one newline right after the value opens and one right before it closes.
        var trimNewlines: Bool
        /// An attribute after the name, inside the key (DSML's `" string="true`): cut from the
        /// name; `true` marks a raw string value where the tool declares no type.
        var stringAttribute: [UInt8]? = nil
        /// A value may be wrapped in `<![CDATA[…]]>` (MiniCPM 5), which is not part of it.
        var unwrapsCDATA = false
    }

    /// Steps for one call, and how a section continues after it.
    struct Layout {
        var steps: [Step]
        /// After a call: this text (after optional whitespace) starts another call of the section.
        var nextCall: [UInt8]? = nil
        /// `nextCall` is the next call's own first text (a bare `{`), read again by its steps.
        var nextCallIsCallText = false
        /// After a call: this text (after optional whitespace) ends the section.
        var sectionEnd: [UInt8]? = nil
    }

    struct Trigger {
        var text: [UInt8]
        /// False when the trigger is the first text of the call itself (a bare `{`).
        var consumed: Bool
        var layout: Layout
    }

    var triggers: [Trigger]
    var reasoning: [(open: [UInt8], close: [UInt8])]
    /// Control markers removed from visible text (e.g. `<|START_RESPONSE|>`).
    var dropMarkers: [[UInt8]] = []
    /// Only calls naming a known tool count (bare-JSON formats); others stay text.
    var requireKnownName = false
    /// Output begins inside a call of this layout (Functionary v3.2, whose prompt ends with `>>>`).
    var initialLayout: Layout? = nil
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
