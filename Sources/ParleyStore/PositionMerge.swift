extension Array {
    /// The elements merged into one per log position, in log order: elements of no position
    /// come last, each on its own, in the order found; `join` folds a later element of a
    /// position into the first. At most `limit` are kept; `leftOff` counts the rest.
    /// Audit reports use it so one damaged position is one finding, however many checks saw it.
    func mergedByPosition(
        _ position: (Element) -> UInt64?, limit: Int, join: (inout Element, Element) -> Void
    ) -> (merged: [Element], leftOff: Int) {
        let ordered = enumerated().sorted { a, b in
            (position(a.element) ?? .max, a.offset) < (position(b.element) ?? .max, b.offset)
        }.map(\.element)
        var merged: [Element] = []
        for element in ordered {
            if let at = position(element), let last = merged.last, position(last) == at {
                join(&merged[merged.count - 1], element)
            } else {
                merged.append(element)
            }
        }
        return (Array(merged.prefix(limit)), Swift.max(0, merged.count - limit))
    }
}

extension String {
    /// Adds `problem` to this list of problems (joined by "; ") unless it already says it.
    mutating func addProblem(_ problem: String) {
        if !contains(problem) { self += "; " + problem }
    }
}
