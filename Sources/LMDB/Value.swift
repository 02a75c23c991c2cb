import CLMDB

extension MDB_val {
    /// A value describing `buffer`; LMDB never writes through key pointers passed this way.
    init(_ buffer: UnsafeRawBufferPointer) {
        self.init(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
    }

    /// The bytes this value points at (inside the memory map when returned by LMDB).
    var buffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mv_data, count: mv_size)
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` with a typed error (the standard one only `rethrows`).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(LMDBError) -> R) throws(LMDBError) -> R {
        let result = withUnsafeBytes { bytes in Result { () throws(LMDBError) in try body(bytes) } }
        return try result.get()
    }
}
