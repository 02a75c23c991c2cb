import LMDB
import ParleyCore

extension ProjectionDatabase {
    /// Where two projection stores first differ, table by table in key order, ignoring the
    /// format marker; `nil` when they hold the same entries. Streams both through cursors,
    /// so it costs no memory however large they are.
    static func firstDifference(rebuilt: LMDBProjections, stored: LMDBProjections) throws -> String? {
        let formatKey = Key.of("format")
        func skippingFormat(
            _ table: Table, _ cursor: Cursor, _ entry: (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
        ) throws -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
            guard table == .meta, let current = entry, current.key.elementsEqual(formatKey) else { return entry }
            return try cursor.next()
        }
        for table in Table.allCases {
            let a = try rebuilt.reader.cursor(rebuilt.database.database(table))
            let b = try stored.reader.cursor(stored.database.database(table))
            var left = try skippingFormat(table, a, try a.first())
            var right = try skippingFormat(table, b, try b.first())
            while true {
                switch (left, right) {
                case (nil, nil):
                    break
                case (let l?, nil):
                    return "\(table.name) lacks \(printable(l.key)), which a rebuild has"
                case (nil, let r?):
                    return "\(table.name) has \(printable(r.key)), which a rebuild lacks"
                case (let l?, let r?):
                    if !l.key.elementsEqual(r.key) {
                        return "key \(printable(r.key)) in \(table.name) (rebuild has \(printable(l.key)))"
                    }
                    if !l.value.elementsEqual(r.value) { return "\(table.name) \(printable(l.key)) has another value" }
                    left = try skippingFormat(table, a, try a.next())
                    right = try skippingFormat(table, b, try b.next())
                    continue
                }
                break
            }
        }
        return nil
    }

    /// A key for a person: 0 separators shown as `/`.
    static func printable(_ key: UnsafeRawBufferPointer) -> String {
        String(decoding: key.map { $0 == 0 ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
    }
}
