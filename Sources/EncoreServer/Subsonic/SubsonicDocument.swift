import Foundation

/// A Subsonic response body as one tree, written as XML or JSON from the same values so that the two
/// formats can never disagree.
///
/// The mapping is the one Subsonic servers and apps share: scalar fields are XML attributes and JSON
/// members; an object field is a child element and a JSON object; a list field is repeated child elements
/// and a JSON array (written as an array even with one element); `text` is an element's content and the
/// JSON member `value`.
struct SubsonicObject: Sendable, Equatable {
    private(set) var fields: [(name: String, value: SubsonicValue)] = []
    var text: String?

    init(text: String? = nil) { self.text = text }

    init(_ fields: KeyValuePairs<String, SubsonicValue?>) {
        for (name, value) in fields { self[name] = value }
    }

    /// Sets, replaces or (with nil) removes a field, keeping the order fields were first set in.
    subscript(name: String) -> SubsonicValue? {
        get { fields.first { $0.name == name }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.name == name }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append((name, newValue))
            }
        }
    }

    static func == (lhs: SubsonicObject, rhs: SubsonicObject) -> Bool {
        lhs.text == rhs.text && lhs.fields.map(\.name) == rhs.fields.map(\.name) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }
}

indirect enum SubsonicValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case object(SubsonicObject)
    case list([SubsonicObject])
    /// Numbers listed under one name: repeated elements with the number as content in XML, an array in JSON.
    case numbers([Int])

    static func date(_ date: Date) -> SubsonicValue { .string(SubsonicDate.format(date)) }
}

extension SubsonicValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// Subsonic's timestamps: ISO 8601 in UTC with milliseconds, as the reference server writes them.
enum SubsonicDate {
    static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}

/// Writes a document as the `subsonic-response` envelope.
enum SubsonicWriter {
    static let namespace = "http://subsonic.org/restapi"

    static func xml(_ root: SubsonicObject) -> String {
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"#
        element("subsonic-response", root, into: &out, namespace: namespace)
        return out
    }

    private static func element(_ name: String, _ object: SubsonicObject, into out: inout String, namespace: String? = nil) {
        out += "<" + name
        if let namespace { out += #" xmlns=""# + escapeXML(namespace) + #"""# }
        var children: [(String, SubsonicObject)] = []
        for (field, value) in object.fields {
            switch value {
            case .object(let child): children.append((field, child))
            case .list(let items): children += items.map { (field, $0) }
            case .numbers(let numbers): children += numbers.map { (field, SubsonicObject(text: String($0))) }
            default: out += " " + field + #"=""# + escapeXML(scalarText(value)) + #"""#
            }
        }
        guard !children.isEmpty || object.text != nil else {
            out += "/>"
            return
        }
        out += ">"
        if let text = object.text { out += escapeXML(text) }
        for (field, child) in children { element(field, child, into: &out) }
        out += "</" + name + ">"
    }

    static func json(_ root: SubsonicObject) -> String {
        var out = #"{"subsonic-response":"#
        writeJSON(root, into: &out)
        out += "}"
        return out
    }

    private static func writeJSON(_ object: SubsonicObject, into out: inout String) {
        out += "{"
        var first = true
        func key(_ name: String) {
            if !first { out += "," }
            first = false
            out += quoteJSON(name) + ":"
        }
        if let text = object.text {
            key("value")
            out += quoteJSON(text)
        }
        for (name, value) in object.fields {
            key(name)
            switch value {
            case .object(let child): writeJSON(child, into: &out)
            case .list(let items):
                out += "["
                for (index, item) in items.enumerated() {
                    if index > 0 { out += "," }
                    writeJSON(item, into: &out)
                }
                out += "]"
            case .numbers(let numbers): out += "[" + numbers.map(String.init).joined(separator: ",") + "]"
            case .string(let text): out += quoteJSON(text)
            default: out += scalarText(value)
            }
        }
        out += "}"
    }

    private static func scalarText(_ value: SubsonicValue) -> String {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .double(let number): number.isFinite ? String((number * 10_000).rounded() / 10_000) : "0"
        case .bool(let flag): flag ? "true" : "false"
        case .object, .list, .numbers: ""
        }
    }

    static func escapeXML(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // XML 1.0 cannot carry most control characters at all, even escaped.
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func quoteJSON(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
