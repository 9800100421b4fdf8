extension String {
    /// Decodes a NUL-terminated C buffer (e.g. an error buffer filled by a C library).
    public init(cBuffer: [CChar]) {
        let bytes = cBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
