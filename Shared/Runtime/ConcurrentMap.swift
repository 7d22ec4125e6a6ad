extension Collection where Element: Sendable {
    /// `transform` applied to every element as child tasks that run side by side, the results
    /// in the collection's order; the first error thrown cancels the rest and is rethrown.
    ///
    /// For a few independent pieces of work worth a task each (statements on connections of
    /// their own, chunks of a large encoding), not for thousands of small ones.
    public func concurrentMap<T: Sendable>(_ transform: @escaping @Sendable (Element) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for (offset, element) in enumerated() {
                group.addTask { (offset, try await transform(element)) }
            }
            var results: [(Int, T)] = []
            results.reserveCapacity(count)
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
