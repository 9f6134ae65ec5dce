import CoreMetrics

extension CoreMetrics.Timer {
    /// Records the time elapsed since `start`.
    public func record(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
