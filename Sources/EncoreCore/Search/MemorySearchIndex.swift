import Foundation
import Synchronization

/// Catalog search answered from memory, for every engine: the database keeps the documents (one per
/// artist, album and track, written in the same transaction as the catalog), and each process holds an
/// index built from them that it brings up to date before every query (``SearchDocumentSource``: one
/// cheap look-up when nothing changed).
///
/// The index: a vocabulary of terms with their document counts, sorted for prefix ranges; the deletion
/// variants of every term (SymSpell: one deletion from 3 letters, two from 8) as a sorted array of
/// hashes, so typo candidates are binary searches; per term and kind, postings in popularity order; per
/// kind, the documents sorted by name for whole-name and as-you-type look-ups. A query word expands to
/// the terms it may match (exact, prefix for the last word, typos within its edit budget), candidates
/// come from the postings of the most selective word, and ``SearchRanker`` orders them.
public final class MemorySearchIndex: CatalogSearch {
    private let source: any SearchDocumentSource
    private let index = ReadWriteLocked(MemorySearchState())
    private let catchUpGate = AsyncGate()
    /// Catch-ups are numbered as they start; a query that arrives after one started can share its result.
    private let catchUps = Mutex(CatchUpCounter())
    private let pageSize: Int

    struct CatchUpCounter {
        var started = 0
        var finishedStart = 0
    }

    /// An index over `source`'s documents. `pageSize` is how many documents a read brings at once; a
    /// catch-up that finds at least that many changes rebuilds the index in one go instead.
    public init(source: any SearchDocumentSource, pageSize: Int = 20_000) {
        self.source = source
        self.pageSize = pageSize
    }

    public func search(_ request: SearchRequest) async throws -> SearchResults {
        let words = SearchText.queryTerms(request.query)
        guard !words.isEmpty else { return SearchResults() }
        try await catchUp()
        let now = Date().timeIntervalSince1970
        return index.read { state in state.search(request, words: words, now: now) }
    }

    public func reindex() async throws -> Int {
        let count = try await source.rebuild()
        try await catchUp()
        return count
    }

    /// Applies what the store has written since the last catch-up (the whole index, the first time).
    /// Concurrent callers share one catch-up that started after they arrived.
    public func catchUp() async throws {
        let arrival = catchUps.withLock { $0.started }
        try await catchUpGate.withGate {
            let number = catchUps.withLock { counter in
                counter.started += 1
                return counter.started
            }
            // A catch-up that started after this call arrived has finished meanwhile: nothing more to read.
            if catchUps.withLock({ $0.finishedStart }) > arrival { return }
            try await applyChanges()
            catchUps.withLock { $0.finishedStart = number }
        }
    }

    private func applyChanges() async throws {
        let (loaded, revision) = index.read { ($0.loaded, $0.revision) }
        if loaded {
            let page = try await source.documents(after: revision, limit: pageSize)
            if page.count < pageSize {
                let removals = try await source.removals(after: revision)
                guard !page.isEmpty || !removals.isEmpty else { return }
                index.write { state in
                    for document in page { state.upsert(document) }
                    for removal in removals { state.remove(removal) }
                    state.revision = max(revision, page.last?.revision ?? revision)
                }
                return
            }
        }
        // First load, or a change as large as a page (a reindex, an import): build a fresh index aside
        // (queries meanwhile wait here) and swap it in.
        var fresh = MemorySearchState()
        fresh.bulk = true
        var after: Int64 = 0
        var oldest: Int64?
        while true {
            let page = try await source.documents(after: after, limit: pageSize)
            for document in page { fresh.upsert(document) }
            if oldest == nil { oldest = page.first?.revision }
            after = page.last?.revision ?? after
            if page.count < pageSize { break }
        }
        // Removed while the pages were read: anything removed after the oldest document loaded may apply.
        for removal in try await source.removals(after: (oldest ?? 1) - 1) { fresh.remove(removal) }
        fresh.finishBulk()
        fresh.revision = after
        fresh.loaded = true
        index.write { state in state = fresh }
    }
}

/// The index's data, behind the read-write lock of ``MemorySearchIndex``.
struct MemorySearchState: Sendable {
    var revision: Int64 = 0
    var loaded = false
    /// Set while the first load appends without keeping things sorted; ``finishBulk()`` sorts once.
    var bulk = false

    // The vocabulary: term ids are positions in these arrays.
    var termIds: [String: Int32] = [:]
    var termText: [String] = []
    /// Documents (of any kind) with the term in an indexed field.
    var termDocuments: [Int32] = []
    /// Term ids in UTF-8 byte order (the order the databases' indexes use for prefix ranges).
    var sortedTerms: [Int32] = []
    /// Hashes of every term's deletion variants, sorted, with the term each belongs to.
    var variantKeys: [UInt64] = []
    var variantTerms: [Int32] = []
    /// Variants of terms added since the sorted arrays were built.
    var recentVariants: [UInt64: [Int32]] = [:]

    // The documents: a slot per live document; freed slots are reused.
    var documents: [Document] = []
    var slots: [UUID: Int32] = [:]
    var freeSlots: [Int32] = []
    /// Per term and kind (`term * 3 + kind`), document slots in posting order: rank, then docId.
    var postings: [[Int32]] = []
    /// Per kind, document slots in name order (UTF-8 bytes), then docId.
    var names: [[Int32]] = [[], [], []]

    struct Document: Sendable {
        var docId: Int64
        var entityId: UUID
        var kind: Int
        var rank: Int
        /// Name words, then the main field's terms, then the other fields' terms.
        var terms: [Int32]
        var nameCount: Int
        var primaryCount: Int
        var name: String
        var popularity: Double
        var popularityAt: Double
        var createdAt: Double
        var revision: Int64

        var nameTerms: ArraySlice<Int32> { terms[0..<nameCount] }
        var primaryTerms: ArraySlice<Int32> { terms[nameCount..<(nameCount + primaryCount)] }
        var secondaryTerms: ArraySlice<Int32> { terms[(nameCount + primaryCount)...] }
        /// Each indexed term once.
        var postedTerms: Set<Int32> { Set(terms[nameCount...]) }
    }

    // MARK: Changes

    mutating func upsert(_ stored: StoredSearchDocument) {
        if let slot = slots[stored.entityId] {
            let current = documents[Int(slot)]
            guard stored.revision > current.revision else { return }
            if current.docId == stored.docId, current.rank == stored.postingRank {
                // A play: only the popularity moved (the postings keep their rank until the next reindex).
                documents[Int(slot)].popularity = stored.popularity
                documents[Int(slot)].popularityAt = stored.popularityAt
                documents[Int(slot)].revision = stored.revision
                return
            }
            removeDocument(at: slot)
        }
        insert(stored)
    }

    mutating func remove(_ removal: SearchDocumentRemoval) {
        guard let slot = slots[removal.entityId], documents[Int(slot)].revision < removal.revision else { return }
        removeDocument(at: slot)
    }

    private mutating func insert(_ stored: StoredSearchDocument) {
        let nameWords = SearchIndexRules.terms(stored.name).map { id(for: $0) }
        let primary = SearchIndexRules.terms(stored.primaryTerms).map { id(for: $0) }
        let secondary = SearchIndexRules.terms(stored.secondaryTerms).map { id(for: $0) }
        let document = Document(
            docId: stored.docId, entityId: stored.entityId, kind: SearchIndexRules.code(stored.kind), rank: stored.postingRank,
            terms: nameWords + primary + secondary, nameCount: nameWords.count, primaryCount: primary.count, name: stored.name,
            popularity: stored.popularity, popularityAt: stored.popularityAt, createdAt: stored.createdAt, revision: stored.revision)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            documents[Int(slot)] = document
        } else {
            slot = Int32(documents.count)
            documents.append(document)
        }
        slots[stored.entityId] = slot
        for term in document.postedTerms {
            termDocuments[Int(term)] += 1
            let list = Int(term) * 3 + document.kind
            if bulk {
                postings[list].append(slot)
            } else {
                let position = postingPosition(of: slot, in: postings[list])
                postings[list].insert(slot, at: position)
            }
        }
        if bulk {
            names[document.kind].append(slot)
        } else {
            let position = namePosition(of: slot, in: names[document.kind])
            names[document.kind].insert(slot, at: position)
        }
    }

    private mutating func removeDocument(at slot: Int32) {
        let document = documents[Int(slot)]
        for term in document.postedTerms {
            termDocuments[Int(term)] -= 1
            let list = Int(term) * 3 + document.kind
            if bulk {
                postings[list].removeAll { $0 == slot }
            } else {
                let position = postingPosition(of: slot, in: postings[list])
                if position < postings[list].count, postings[list][position] == slot { postings[list].remove(at: position) }
            }
        }
        if bulk {
            names[document.kind].removeAll { $0 == slot }
        } else {
            let position = namePosition(of: slot, in: names[document.kind])
            if position < names[document.kind].count, names[document.kind][position] == slot { names[document.kind].remove(at: position) }
        }
        slots[document.entityId] = nil
        documents[Int(slot)].terms = []
        documents[Int(slot)].name = ""
        freeSlots.append(slot)
    }

    /// The id of `term`, added to the vocabulary when new.
    private mutating func id(for term: String) -> Int32 {
        if let id = termIds[term] { return id }
        let id = Int32(termText.count)
        termIds[term] = id
        termText.append(term)
        termDocuments.append(0)
        postings.append(contentsOf: [[], [], []])
        if !bulk {
            let terms = termText
            let position = lowerBound(in: sortedTerms) { Self.termPrecedes(terms[Int($0)], term) }
            sortedTerms.insert(id, at: position)
            for key in Self.variantKeys(of: term) { recentVariants[key, default: []].append(id) }
            if recentVariants.count > 50_000 { rebuildVariants() }
        }
        return id
    }

    /// Sorts what the bulk load appended, and builds the vocabulary's orders.
    mutating func finishBulk() {
        let documents = self.documents
        let terms = self.termText
        for list in postings.indices where postings[list].count > 1 {
            postings[list].sort { Self.postingPrecedes($0, $1, documents) }
        }
        for kind in names.indices { names[kind].sort { Self.namePrecedes($0, $1, documents) } }
        var sorted = Array(0..<Int32(terms.count))
        sorted.sort { Self.termPrecedes(terms[Int($0)], terms[Int($1)]) }
        sortedTerms = sorted
        rebuildVariants()
        bulk = false
    }

    private mutating func rebuildVariants() {
        var pairs: [(key: UInt64, term: Int32)] = []
        for (index, term) in termText.enumerated() {
            for key in Self.variantKeys(of: term) { pairs.append((key, Int32(index))) }
        }
        pairs.sort { $0.key != $1.key ? $0.key < $1.key : $0.term < $1.term }
        variantKeys = pairs.map(\.key)
        variantTerms = pairs.map(\.term)
        recentVariants = [:]
    }

    static func variantKeys(of term: String) -> [UInt64] {
        let budget = SearchIndexRules.variantBudget(forTerm: term)
        guard budget > 0 else { return [hash(term)] }
        return SearchText.deletions(term, upTo: budget).map(hash)
    }

    /// FNV-1a over the UTF-8 bytes: stable, cheap, and collisions only cost a distance check.
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    // MARK: Orders

    static func termPrecedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    func termPrecedes(_ a: String, _ b: String) -> Bool { Self.termPrecedes(a, b) }

    static func postingPrecedes(_ a: Int32, _ b: Int32, _ documents: [Document]) -> Bool {
        let (leftRank, rightRank) = (documents[Int(a)].rank, documents[Int(b)].rank)
        return leftRank != rightRank ? leftRank < rightRank : documents[Int(a)].docId < documents[Int(b)].docId
    }

    static func namePrecedes(_ a: Int32, _ b: Int32, _ documents: [Document]) -> Bool {
        let (left, right) = (documents[Int(a)].name, documents[Int(b)].name)
        if left == right { return documents[Int(a)].docId < documents[Int(b)].docId }
        return termPrecedes(left, right)
    }

    func postingPosition(of slot: Int32, in list: [Int32]) -> Int {
        lowerBound(in: list) { Self.postingPrecedes($0, slot, documents) }
    }

    func namePosition(of slot: Int32, in list: [Int32]) -> Int { lowerBound(in: list) { Self.namePrecedes($0, slot, documents) } }

    /// The first position whose element is not `before` (the list is partitioned by it).
    func lowerBound<Element>(in list: [Element], before: (Element) -> Bool) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if before(list[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Queries

    /// The terms one query word may match, how well, and how many documents they have between them.
    struct ExpandedWord {
        var word: String
        var qualities: [Int32: MatchQuality]
        var documents: Int
    }

    func expand(_ words: [String]) -> [ExpandedWord] {
        words.enumerated().map { index, word in
            var qualities: [Int32: MatchQuality] = [:]
            func add(_ id: Int32, _ quality: MatchQuality) {
                if quality > (qualities[id] ?? .none) { qualities[id] = quality }
            }
            if let id = termIds[word] { add(id, .exact) }
            // Search-as-you-type: the last word may be the start of a longer one; the 40 most used completions.
            if index == words.count - 1, word.count >= 2, let upper = SearchIndexRules.successor(of: word) {
                let start = lowerBound(in: sortedTerms) { !termPrecedes(word, termText[Int($0)]) }
                let end = lowerBound(in: sortedTerms) { termPrecedes(termText[Int($0)], upper) }
                if start < end {
                    let completions = sortedTerms[start..<end].filter { termDocuments[Int($0)] > 0 }
                    let used =
                        completions.count <= 40
                        ? completions : Array(completions.sorted { termDocuments[Int($0)] > termDocuments[Int($1)] }.prefix(40))
                    for id in used { add(id, .prefix) }
                }
            }
            let budget = SearchText.editBudget(for: word)
            if budget > 0 {
                var checked = Set<Int32>()
                for variant in SearchText.deletions(word, upTo: budget) {
                    let key = Self.hash(variant)
                    var position = lowerBound(in: variantKeys) { $0 < key }
                    var matches: [Int32] = recentVariants[key] ?? []
                    while position < variantKeys.count, variantKeys[position] == key {
                        matches.append(variantTerms[position])
                        position += 1
                    }
                    for id in matches where termDocuments[Int(id)] > 0 && checked.insert(id).inserted {
                        if SearchText.distance(word, termText[Int(id)], limit: budget) != nil { add(id, .fuzzy) }
                    }
                }
            }
            let documents = qualities.keys.reduce(0) { $0 + Int(termDocuments[Int($1)]) }
            return ExpandedWord(word: word, qualities: qualities, documents: documents)
        }
    }

    func search(_ request: SearchRequest, words: [String], now: Double) -> SearchResults {
        let expanded = expand(words)
        let ranked = request.wantedKinds.map { kind in (kind, rank(kind: kind, words: expanded, wanted: request.wanted, now: now)) }
        return SearchResults(page: request, of: ranked)
    }

    func rank(kind: SearchRequest.Kind, words: [ExpandedWord], wanted: Int, now: Double) -> [SearchHit] {
        // Every word must match, so candidates can come from the most selective word alone.
        guard let seedIndex = words.indices.min(by: { words[$0].documents < words[$1].documents }), !words[seedIndex].qualities.isEmpty
        else { return [] }
        let seed = words[seedIndex]
        let kindCode = SearchIndexRules.code(kind)
        var candidates = Set<Int32>()
        // The query as a whole name (up to 200), and as the beginning of one (typing in progress): the first
        // 100 such names in name order, the same cut on every engine.
        let phrase = words.map(\.word).joined(separator: " ")
        let byName = names[kindCode]
        var position = lowerBound(in: byName) { termPrecedes(documents[Int($0)].name, phrase) }
        var whole = 0
        while position < byName.count, whole < 200, documents[Int(byName[position])].name == phrase {
            candidates.insert(byName[position])
            position += 1
            whole += 1
        }
        while position < byName.count, documents[Int(byName[position])].name == phrase { position += 1 }
        if let upper = SearchIndexRules.successor(of: phrase) {
            var started = 0
            while position < byName.count, started < 100, termPrecedes(documents[Int(byName[position])].name, upper) {
                candidates.insert(byName[position])
                position += 1
                started += 1
            }
        }
        // The most popular documents of each candidate term. An exact term gets the full allowance, so typo
        // and prefix neighbours can never crowd it out; the others share one, so a short prefix with many
        // completions costs no more than a word.
        // With several words, only documents that match the other words too are taken: a common seed term
        // ("love") would otherwise fill its allowance with popular documents that lack a rarer typo'd
        // word, and the one that has it would never be seen.
        let otherWords = words.indices.filter { $0 != seedIndex }.map { words[$0] }
        var scanBudget = SearchIndexRules.maxPostingsScanned
        func take(_ list: [Int32], upTo limit: Int) {
            guard !otherWords.isEmpty else {
                candidates.formUnion(list.prefix(limit))
                return
            }
            var taken = 0
            for slot in list {
                guard taken < limit, scanBudget > 0 else { return }
                scanBudget -= 1
                let document = documents[Int(slot)]
                let posted = document.terms[document.nameCount...]
                if otherWords.allSatisfy({ word in posted.contains { word.qualities[$0] != nil } }) {
                    candidates.insert(slot)
                    taken += 1
                }
            }
        }
        let exact = seed.qualities.filter { $0.value == .exact }.keys
        let others = seed.qualities.filter { $0.value != .exact }.keys
        for term in exact { take(postings[Int(term) * 3 + kindCode], upTo: SearchIndexRules.maxPostingsPerTerm) }
        let share = max(50, SearchIndexRules.maxPostingsPerTerm * 2 / max(others.count, 1))
        for term in others { take(postings[Int(term) * 3 + kindCode], upTo: share) }
        let qualities = words.map(\.qualities)
        var hits: [SearchHit] = []
        for slot in candidates {
            let document = documents[Int(slot)]
            let fields = RankedFields(
                name: document.nameTerms, primary: document.primaryTerms, secondary: document.secondaryTerms,
                popularity: SearchIndexRules.decayed(document.popularity, from: document.popularityAt, to: now), createdAt: document.createdAt)
            if let score = SearchRanker.score(fields, words: qualities) {
                hits.append(SearchHit(kind: kind, id: document.entityId, score: score))
            }
        }
        hits.sort { $0.score != $1.score ? $0.score > $1.score : Self.uuidPrecedes($0.id, $1.id) }
        return Array(hits.prefix(wanted))
    }

    /// The order of UUID strings, without making the strings.
    static func uuidPrecedes(_ a: UUID, _ b: UUID) -> Bool {
        withUnsafeBytes(of: a.uuid) { left in
            withUnsafeBytes(of: b.uuid) { right in left.lexicographicallyPrecedes(right) }
        }
    }
}
