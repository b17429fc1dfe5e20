/// Restricts a search to the vectors whose ids pass a test.
///
/// A filter is either an explicit set of allowed ids (its size tells the index how selective it
/// is, and membership is a hash lookup) or an arbitrary predicate on ids, for example one that
/// looks up metadata kept next to the index. Predicates are called concurrently from search
/// threads, so they must be thread-safe (`@Sendable`) and cheap.
public struct SearchFilter: Sendable {
    enum Kind: Sendable {
        case ids(Set<UInt64>)
        case predicate(@Sendable (UInt64) -> Bool)
    }

    let kind: Kind

    /// Only the vectors with these ids.
    public static func ids(_ allowed: Set<UInt64>) -> SearchFilter { SearchFilter(kind: .ids(allowed)) }

    /// Only the vectors whose id satisfies `isAllowed`.
    public static func predicate(_ isAllowed: @escaping @Sendable (UInt64) -> Bool) -> SearchFilter {
        SearchFilter(kind: .predicate(isAllowed))
    }

    /// True when the vector with this id may be returned.
    @inline(__always)
    public func allows(_ id: UInt64) -> Bool {
        switch kind {
        case .ids(let set): set.contains(id)
        case .predicate(let p): p(id)
        }
    }

    /// The number of allowed ids when the filter is an explicit set.
    var explicitCount: Int? {
        if case .ids(let set) = kind { return set.count }
        return nil
    }
}
