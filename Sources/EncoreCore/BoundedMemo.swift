import Synchronization

/// A thread-safe memo with a bounded number of entries: when full, it starts over. Meant for values that
/// are cheap to recompute once but costly on every request (verified tokens, encoded responses), where
/// an occasional miss after a reset costs one recomputation per live key.
public final class BoundedMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let capacity: Int
    private let entries = Mutex<[Key: Value]>([:])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value remembered for `key`, if any.
    public subscript(key: Key) -> Value? {
        entries.withLock { $0[key] }
    }

    /// Remembers `value` for `key`, starting over first when the memo is full.
    public func remember(_ value: Value, for key: Key) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
    }
}
