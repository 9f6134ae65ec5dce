import CoreMetrics

extension CoreMetrics.Timer {
    /// Records the time elapsed since `start`.
    public func record(since start: ContinuousClock.Instant) {
        record(ContinuousClock.now - start)
    }

    /// Records `duration`.
    public func record(_ duration: Duration) {
        recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
