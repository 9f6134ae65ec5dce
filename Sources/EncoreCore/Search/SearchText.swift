import Foundation

/// How catalog text and queries become search terms: case- and diacritic-free, NFC/NFD alike,
/// punctuation-tolerant.
///
/// - Letters are decomposed and stripped of combining marks (`Beyoncé` → `beyonce`), with the few
///   letters that do not decompose spelled out (`ß` → `ss`, `ø` → `o`, `æ` → `ae` …).
/// - Apostrophes vanish inside and around words (`Guns N' Roses` → `guns n roses`, `Don't` → `dont`).
/// - `&` and `+` read as `and`.
/// - Words glued by `/`, `-`, `.` or `'` are indexed both apart and joined (`AC/DC` → `ac`, `dc`, `acdc`),
///   so `acdc`, `ac dc` and `ac/dc` all find it. In a query, a glued word is searched joined.
public enum SearchText {
    /// Terms to index for `text`, in order, joined forms after their parts.
    public static func indexTerms(_ text: String) -> [String] {
        var terms: [String] = []
        for word in words(text) {
            terms += word.parts
            if word.parts.count > 1 { terms.append(word.parts.joined()) }
        }
        return terms
    }

    /// The words of a query: each glued word as one joined term.
    public static func queryTerms(_ text: String) -> [String] {
        words(text).map { $0.parts.joined() }
    }

    /// One space-separated word and its punctuation-separated parts.
    struct Word {
        var parts: [String]
    }

    static func words(_ text: String) -> [Word] {
        var words: [Word] = []
        var parts: [String] = []
        var current = ""
        func endPart() {
            if !current.isEmpty { parts.append(current) }
            current = ""
        }
        func endWord() {
            endPart()
            if !parts.isEmpty { words.append(Word(parts: parts)) }
            parts = []
        }
        for scalar in fold(text).unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9":
                current.unicodeScalars.append(scalar)
            case "'", "\u{2019}", "\u{2018}", "`", "\u{B4}":
                continue  // apostrophes join: don't → dont, n' → n
            case "/", "-", ".", "\u{2010}", "\u{2013}", "\u{2014}", ":", "_":
                endPart()  // glue: the parts are also indexed joined
            case "&", "+":
                endWord()
                words.append(Word(parts: ["and"]))
            default:
                endWord()
            }
        }
        endWord()
        return words
    }

    /// Lower-cased ASCII-ish folding: decomposes, drops combining marks, spells out special letters.
    public static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }  // the common case, and cheap
        var folded = ""
        folded.reserveCapacity(text.utf8.count)
        for scalar in text.decomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            if scalar.isASCII {
                folded.unicodeScalars.append(scalar)
                continue
            }
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            if let spelled = special[scalar] {
                folded += spelled
            } else {
                folded.unicodeScalars.append(scalar)
            }
        }
        return folded
    }

    private static let special: [Unicode.Scalar: String] = [
        "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t",
    ]

    /// How many edits a query word may be away from a term: one from 4 letters, two from 8.
    public static func editBudget(for word: String) -> Int {
        word.count >= 8 ? 2 : word.count >= 4 ? 1 : 0
    }

    /// Every string made by deleting up to `count` characters of `word` (the SymSpell neighbourhood),
    /// `word` itself included.
    public static func deletions(_ word: String, upTo count: Int) -> Set<String> {
        var result: Set<String> = [word]
        var frontier: Set<String> = [word]
        for _ in 0..<count {
            var next: Set<String> = []
            for item in frontier where item.count > 1 {
                let characters = Array(item)
                for index in characters.indices {
                    var copy = characters
                    copy.remove(at: index)
                    next.insert(String(copy))
                }
            }
            result.formUnion(next)
            frontier = next
        }
        return result
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions), or nil once it
    /// exceeds `limit`.
    public static func distance(_ a: String, _ b: String, limit: Int) -> Int? {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if abs(a.count - b.count) > limit { return nil }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) <= limit ? max(a.count, b.count) : nil }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { value = min(value, previous2[j - 2] + 1) }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return nil }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }
}

/// A name as the search index stores it: its words in order (for whole-name and as-you-type look-ups)
/// and its index terms.
public struct IndexedName: Sendable, Equatable {
    public var words: String
    public var terms: [String]

    public init(_ text: String) {
        words = SearchText.queryTerms(text).joined(separator: " ")
        terms = SearchText.indexTerms(text)
    }
}
