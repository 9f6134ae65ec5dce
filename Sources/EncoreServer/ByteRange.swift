import Foundation

/// What to send for a `Range` request header, per RFC 9110 §14.
enum ByteRangeOutcome: Equatable {
    /// Ignore the header (absent, not `bytes`, syntactically invalid, or several ranges) and send it all.
    case full
    /// Send these bytes with 206.
    case partial(ClosedRange<Int>)
    /// Nothing requested overlaps the representation: 416 with `Content-Range: bytes */size`.
    case unsatisfiable
}

enum ByteRange {
    /// Interprets `header` for a representation of `size` bytes. Multiple ranges are answered with the whole
    /// representation (RFC 9110 lets a server ignore Range), unless none of them is satisfiable.
    static func evaluate(_ header: String?, size: Int) -> ByteRangeOutcome {
        guard let header else { return .full }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased() == "bytes" else {
            return .full
        }
        let specs = trimmed[trimmed.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !specs.isEmpty else { return .full }
        var satisfiable: [ClosedRange<Int>] = []
        for spec in specs {
            guard let dash = spec.firstIndex(of: "-") else { return .full }
            let first = spec[..<dash]
            let last = spec[spec.index(after: dash)...]
            if first.isEmpty {
                // Suffix range: the final N bytes.
                guard let suffix = number(last) else { return .full }
                if suffix > 0, size > 0 { satisfiable.append(max(0, size - suffix)...(size - 1)) }
            } else {
                guard let start = number(first) else { return .full }
                var end = Int.max
                if !last.isEmpty {
                    guard let parsed = number(last), parsed >= start else { return .full }
                    end = parsed
                }
                if start < size { satisfiable.append(start...min(end, size - 1)) }
            }
        }
        if satisfiable.isEmpty { return .unsatisfiable }
        return specs.count == 1 ? .partial(satisfiable[0]) : .full
    }

    /// A run of ASCII digits; values too large for `Int` saturate (they are past any real file anyway).
    private static func number(_ text: some StringProtocol) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int(text) ?? Int.max
    }
}
