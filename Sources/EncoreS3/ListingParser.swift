import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reads the few things Encore needs from S3's XML answers: listed keys and the continuation token, an
/// upload id, an error code.
enum ListingParser {
    struct Listing {
        var keys: [String] = []
        var truncated = false
        var nextToken: String?
    }

    static func parse(_ data: Data) -> Listing {
        let reader = Reader(wanted: ["Key", "IsTruncated", "NextContinuationToken"])
        let parser = XMLParser(data: data)
        parser.delegate = reader
        parser.parse()
        var listing = Listing()
        listing.keys = reader.found["Key"] ?? []
        listing.truncated = reader.found["IsTruncated"]?.first == "true"
        listing.nextToken = reader.found["NextContinuationToken"]?.first
        return listing
    }

    /// The text of the first `element` in `data`, or nil.
    static func value(of element: String, in data: Data) -> String? {
        let reader = Reader(wanted: [element])
        let parser = XMLParser(data: data)
        parser.delegate = reader
        parser.parse()
        return reader.found[element]?.first
    }

    /// Collects the text of the wanted elements. Used by one parse on one thread, then read.
    private final class Reader: NSObject, XMLParserDelegate {
        let wanted: Set<String>
        var found: [String: [String]] = [:]
        private var current: String?
        private var text = ""

        init(wanted: Set<String>) { self.wanted = wanted }

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if wanted.contains(elementName) {
                current = elementName
                text = ""
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if current != nil { text += string }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            if elementName == current {
                found[elementName, default: []].append(text)
                current = nil
            }
        }
    }
}
