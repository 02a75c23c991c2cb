/// Packs units greedily into SMS parts of a fixed capacity.
///
/// Every item given to ``place(_:)`` is indivisible (a grapheme cluster, or
/// when a cluster is too big for any part, one scalar with its escape or
/// surrogate pair), so it never straddles two parts.
struct PartPacker {
    /// The units each part holds.
    let capacity: Int
    /// Parts started so far (at least one).
    private(set) var parts = 1
    /// Units used in the last part.
    private(set) var fill = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Whether an item of `weight` units fits into some part on its own.
    func fitsWhole(_ weight: Int) -> Bool {
        weight <= capacity
    }

    /// Places an indivisible item of `weight` units, starting a new part when
    /// it does not fit in the rest of the current one.
    /// - Returns: whether the item started a new part.
    @discardableResult
    mutating func place(_ weight: Int) -> Bool {
        if fill + weight > capacity {
            parts += 1
            fill = weight
            return true
        }
        fill += weight
        return false
    }
}
