/// Names accepted by `\p{…}`: general categories (short and long names, optionally written
/// `gc=…` / `General_Category=…`) and a few binary properties Swift exposes. Scripts
/// (`\p{Script=Latin}`) are not available from the standard library, so they are rejected by name.
enum UnicodeProperties {
    static func matcher(named rawName: String) -> UnicodePropertyMatcher? {
        var name = rawName
        for prefix in ["General_Category=", "gc="] where name.hasPrefix(prefix) {
            name = String(name.dropFirst(prefix.count))
        }
        if let categories = categoryGroups[name] ?? categoryGroups[longNames[name] ?? ""] {
            return UnicodePropertyMatcher(categories: categories, predicate: nil)
        }
        switch name {
        case "Alphabetic", "Alpha": return UnicodePropertyMatcher(categories: nil, predicate: { $0.properties.isAlphabetic })
        case "White_Space", "space": return UnicodePropertyMatcher(categories: nil, predicate: { $0.properties.isWhitespace })
        case "Uppercase", "Upper": return UnicodePropertyMatcher(categories: nil, predicate: { $0.properties.isUppercase })
        case "Lowercase", "Lower": return UnicodePropertyMatcher(categories: nil, predicate: { $0.properties.isLowercase })
        case "Emoji": return UnicodePropertyMatcher(categories: nil, predicate: { $0.properties.isEmoji })
        case "Any": return UnicodePropertyMatcher(categories: nil, predicate: { _ in true })
        case "ASCII": return UnicodePropertyMatcher(categories: nil, predicate: { $0.isASCII })
        default: return nil
        }
    }

    private static let single: [String: Unicode.GeneralCategory] = [
        "Lu": .uppercaseLetter, "Ll": .lowercaseLetter, "Lt": .titlecaseLetter, "Lm": .modifierLetter,
        "Lo": .otherLetter, "Mn": .nonspacingMark, "Mc": .spacingMark, "Me": .enclosingMark,
        "Nd": .decimalNumber, "Nl": .letterNumber, "No": .otherNumber, "Pc": .connectorPunctuation,
        "Pd": .dashPunctuation, "Ps": .openPunctuation, "Pe": .closePunctuation, "Pi": .initialPunctuation,
        "Pf": .finalPunctuation, "Po": .otherPunctuation, "Sm": .mathSymbol, "Sc": .currencySymbol,
        "Sk": .modifierSymbol, "So": .otherSymbol, "Zs": .spaceSeparator, "Zl": .lineSeparator,
        "Zp": .paragraphSeparator, "Cc": .control, "Cf": .format, "Cs": .surrogate, "Co": .privateUse,
        "Cn": .unassigned,
    ]

    private static let categoryGroups: [String: Set<Unicode.GeneralCategory>] = {
        var groups: [String: Set<Unicode.GeneralCategory>] = [:]
        for (key, value) in single {
            groups[key] = [value]
            groups[String(key.prefix(1)), default: []].insert(value)
        }
        groups["LC"] = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter]
        return groups
    }()

    private static let longNames: [String: String] = [
        "Letter": "L", "Cased_Letter": "LC", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll",
        "Titlecase_Letter": "Lt", "Modifier_Letter": "Lm", "Other_Letter": "Lo", "Mark": "M",
        "Combining_Mark": "M", "Nonspacing_Mark": "Mn", "Spacing_Mark": "Mc", "Enclosing_Mark": "Me",
        "Number": "N", "Decimal_Number": "Nd", "digit": "Nd", "Letter_Number": "Nl", "Other_Number": "No",
        "Punctuation": "P", "punct": "P", "Connector_Punctuation": "Pc", "Dash_Punctuation": "Pd",
        "Open_Punctuation": "Ps", "Close_Punctuation": "Pe", "Initial_Punctuation": "Pi",
        "Final_Punctuation": "Pf", "Other_Punctuation": "Po", "Symbol": "S", "Math_Symbol": "Sm",
        "Currency_Symbol": "Sc", "Modifier_Symbol": "Sk", "Other_Symbol": "So", "Separator": "Z",
        "Space_Separator": "Zs", "Line_Separator": "Zl", "Paragraph_Separator": "Zp", "Other": "C",
        "Control": "Cc", "cntrl": "Cc", "Format": "Cf", "Surrogate": "Cs", "Private_Use": "Co",
        "Unassigned": "Cn",
    ]
}
