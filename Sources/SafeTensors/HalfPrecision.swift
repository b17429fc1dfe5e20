/// Bit-exact conversions between Float32 and the two 16-bit float formats of checkpoints.
///
/// Implemented on the bit patterns rather than through `Float16`, so the results are the same on
/// every platform: widening is exact (subnormals, infinities and NaN payloads included); narrowing
/// rounds to nearest, ties to even, overflows to infinity, and keeps NaN a (quiet) NaN with the sign
/// and the top payload bits.
public enum HalfPrecision {
    // MARK: binary16

    /// The Float32 value of an IEEE 754 binary16 bit pattern (exact).
    @inlinable
    public static func float(fromFloat16Bits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h) & 0x3FF
        if exponent == 0x1F {
            // Infinity (mantissa 0) or NaN (payload kept in the top mantissa bits).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in Float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// The binary16 bit pattern nearest to `value` (round to nearest, ties to even).
    @inlinable
    public static func float16Bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: x >> 16) & 0x8000
        let magnitude = x & 0x7FFF_FFFF
        if magnitude >= 0x7F80_0000 {
            if magnitude == 0x7F80_0000 { return sign | 0x7C00 }
            // NaN: quiet bit set so the payload can never collapse to infinity.
            return sign | 0x7E00 | UInt16(truncatingIfNeeded: (magnitude >> 13) & 0x3FF)
        }
        // 65520 is halfway between 65504 (the largest binary16) and 65536; the tie goes to the
        // even neighbour, which is infinity.
        if magnitude >= 0x477F_F000 { return sign | 0x7C00 }
        if magnitude < 0x3880_0000 {
            // Below 2⁻¹⁴: a binary16 subnormal, mantissa = round(|value| × 2²⁴).
            let exponent = magnitude >> 23
            // |value| < 2⁻²⁵ (including Float32 subnormals) rounds to zero.
            if exponent < 102 { return sign }
            let significand = (magnitude & 0x7F_FFFF) | 0x80_0000
            let shift = 126 - exponent  // 14 ... 24
            var result = significand >> shift
            let remainder = significand & ((1 << shift) - 1)
            let half: UInt32 = 1 << (shift - 1)
            if remainder > half || (remainder == half && result & 1 == 1) { result += 1 }
            return sign | UInt16(truncatingIfNeeded: result)
        }
        // Normal: rebias the exponent, keep 10 mantissa bits, round on the 13 dropped ones.
        // A carry out of the mantissa correctly bumps the exponent.
        var result = ((magnitude >> 23) - 112) << 10 | ((magnitude >> 13) & 0x3FF)
        let remainder = magnitude & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && result & 1 == 1) { result += 1 }
        return sign | UInt16(truncatingIfNeeded: result)
    }

    // MARK: bfloat16

    /// The Float32 value of a bfloat16 bit pattern (exact: the pattern is the upper half of a Float32).
    @inlinable
    public static func float(fromBFloat16Bits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// The bfloat16 bit pattern nearest to `value` (round to nearest, ties to even).
    @inlinable
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        if x & 0x7FFF_FFFF > 0x7F80_0000 {
            // NaN: keep sign and top payload, force the quiet bit so it stays a NaN.
            return UInt16(truncatingIfNeeded: x >> 16) | 0x0040
        }
        let lsb = (x >> 16) & 1
        return UInt16(truncatingIfNeeded: (x &+ 0x7FFF &+ lsb) >> 16)
    }

    // MARK: Buffers

    /// Widens `count` little-endian binary16 values read from `source` (any alignment) into `destination`.
    public static func convertFloat16ToFloat(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            destination[i] = float(fromFloat16Bits: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    /// Widens `count` little-endian bfloat16 values read from `source` (any alignment) into `destination`.
    public static func convertBFloat16ToFloat(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            destination[i] = float(fromBFloat16Bits: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    /// Narrows `count` floats to little-endian binary16 values at `destination` (any alignment).
    public static func convertFloatToFloat16(_ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, count: Int) {
        for i in 0..<count {
            destination.storeBytes(of: float16Bits(from: source[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    }

    /// Narrows `count` floats to little-endian bfloat16 values at `destination` (any alignment).
    public static func convertFloatToBFloat16(_ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, count: Int) {
        for i in 0..<count {
            destination.storeBytes(of: bfloat16Bits(from: source[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    }
}
