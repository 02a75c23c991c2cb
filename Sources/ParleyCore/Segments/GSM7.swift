/// The GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet and its extension table.
///
/// Lookups are table-driven: a 256-entry table for scalars below U+0100 and a
/// switch for the Greek capitals and the euro sign. No normalisation is done:
/// a decomposed `e` + U+0301 is not `é`, and U+2126 OHM SIGN is not `Ω`.
public enum GSM7 {
    /// Whether `scalar` is in the basic (default) table, costing one septet.
    ///
    /// The escape code (0x1B) is not a character and is not reported as one.
    public static func isBasic(_ scalar: Unicode.Scalar) -> Bool {
        septets(scalar) == 1
    }

    /// Whether `scalar` is in the extension table, costing two septets.
    ///
    /// These are form feed (U+000C), `^ { } \ [ ~ ] |` and `€`.
    public static func isExtension(_ scalar: Unicode.Scalar) -> Bool {
        septets(scalar) == 2
    }

    /// The septets `scalar` costs in GSM-7.
    ///
    /// - Returns: 1 for a basic-table character, 2 for an extension
    ///   character (escape plus code), `nil` when it is in neither table.
    @inlinable
    public static func septets(_ scalar: Unicode.Scalar) -> Int? {
        let cost = cost(scalar.value)
        return cost == 0 ? nil : Int(cost)
    }

    /// The septet cost of a scalar value: 0 when not GSM, else 1 or 2.
    @usableFromInline
    static func cost(_ value: UInt32) -> UInt8 {
        if value < 0x100 { return latin1Table[Int(value)] }
        switch value {
        // Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ
        case 0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E:
            return 1
        case 0x20AC:  // €
            return 2
        default:
            return 0
        }
    }

    /// Septet costs for U+0000...U+00FF (0 = not GSM).
    @usableFromInline
    static let latin1Table: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        let basic = "@£$¥èéùìòÇ\nØø\rÅå_ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        for scalar in basic.unicodeScalars where scalar.value < 0x100 {
            table[Int(scalar.value)] = 1
        }
        for scalar in "\u{0C}^{}\\[~]|".unicodeScalars {
            table[Int(scalar.value)] = 2
        }
        return table
    }()
}
