import Foundation
import Testing
@testable import SafeTensors

/// The bit-level conversions, checked against independent implementations: Swift's `Float16`
/// (hardware or compiler-rt conversion) for binary16, and an exact search in Double for bfloat16.
@Suite struct HalfPrecisionTests {
    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    @Test func float16WideningMatchesSwiftFloat16ForAllPatterns() {
        for bits in 0...UInt32(UInt16.max) {
            let h = UInt16(bits)
            let ours = HalfPrecision.float(fromFloat16Bits: h)
            let swift = Float(Float16(bitPattern: h))
            if swift.isNaN {
                #expect(ours.isNaN, "pattern 0x\(String(h, radix: 16))")
                #expect(ours.sign == swift.sign)
            } else {
                #expect(ours.bitPattern == swift.bitPattern, "pattern 0x\(String(h, radix: 16)): \(ours) vs \(swift)")
            }
        }
    }

    @Test func float16NarrowingMatchesSwiftFloat16() {
        var rng = TestRNG(seed: 1)
        var checked = 0
        func check(_ x: Float) {
            let ours = HalfPrecision.float16Bits(from: x)
            let swift = Float16(x)
            if x.isNaN {
                #expect(Float16(bitPattern: ours).isNaN)
            } else {
                #expect(ours == swift.bitPattern, "\(x) (0x\(String(x.bitPattern, radix: 16))): 0x\(String(ours, radix: 16)) vs 0x\(String(swift.bitPattern, radix: 16))")
            }
            checked += 1
        }
        // Every float32 pattern in the binary16 range band, sampled densely near rounding edges.
        for _ in 0..<200_000 { check(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        // Exponents −30…17 cover zero, subnormals, normals and overflow; low mantissa bits near the
        // 13-bit rounding boundary are where ties and carries happen.
        for e in -30...17 {
            for low: UInt32 in [0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000, 0x7FFFFF, 0x7FF000, 0x7FE000] {
                for sign: UInt32 in [0, 0x8000_0000] {
                    let bits = sign | (UInt32(e + 127) << 23) | low
                    check(Float(bitPattern: bits))
                }
            }
        }
        #expect(checked > 200_000)
    }
    #endif

    @Test func float16SpecialValues() {
        #expect(HalfPrecision.float16Bits(from: 0) == 0x0000)
        #expect(HalfPrecision.float16Bits(from: -0.0) == 0x8000)
        #expect(HalfPrecision.float16Bits(from: 1) == 0x3C00)
        #expect(HalfPrecision.float16Bits(from: 65504) == 0x7BFF)
        #expect(HalfPrecision.float16Bits(from: 65519.99) == 0x7BFF)
        #expect(HalfPrecision.float16Bits(from: 65520) == 0x7C00)       // tie → even → infinity
        #expect(HalfPrecision.float16Bits(from: -1e10) == 0xFC00)
        #expect(HalfPrecision.float16Bits(from: .infinity) == 0x7C00)
        #expect(HalfPrecision.float16Bits(from: -.infinity) == 0xFC00)
        #expect(HalfPrecision.float16Bits(from: 0x1p-24) == 0x0001)     // smallest subnormal
        #expect(HalfPrecision.float16Bits(from: 0x1p-25) == 0x0000)     // tie → even → zero
        #expect(HalfPrecision.float16Bits(from: 0x1.000002p-25) == 0x0001)
        #expect(HalfPrecision.float16Bits(from: 0x3p-26) == 0x0001)     // 0.75 ulp → 1
        #expect(HalfPrecision.float16Bits(from: 0x3p-25) == 0x0002)     // 1.5 ulp tie → even (2)
        #expect(HalfPrecision.float16Bits(from: 0x5p-25) == 0x0002)     // 2.5 ulp tie → even (2)
        #expect(HalfPrecision.float16Bits(from: 0x1p-14) == 0x0400)     // smallest normal
        #expect(HalfPrecision.float16Bits(from: 0x1.ffcp-15) == 0x0400) // rounds up into the normals
        #expect(HalfPrecision.float16Bits(from: 1 + 0x1p-11) == 0x3C00) // tie → even (down)
        #expect(HalfPrecision.float16Bits(from: 1 + 0x3p-11) == 0x3C02) // tie → even (up)
        #expect(HalfPrecision.float16Bits(from: .leastNonzeroMagnitude) == 0)
        let nan = HalfPrecision.float16Bits(from: .nan)
        #expect(nan & 0x7C00 == 0x7C00 && nan & 0x03FF != 0)
        // A signalling NaN whose payload lives only in the low bits must stay a NaN.
        let quiet = HalfPrecision.float16Bits(from: Float(bitPattern: 0x7F80_0001))
        #expect(quiet & 0x03FF != 0)

        #expect(HalfPrecision.float(fromFloat16Bits: 0x0001) == 0x1p-24)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x03FF) == 0x1.ff8p-15)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x8001) == -0x1p-24)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x8000).bitPattern == (-0.0 as Float).bitPattern)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x7C00) == .infinity)
        #expect(HalfPrecision.float(fromFloat16Bits: 0xFC00) == -.infinity)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x7E00).isNaN)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x7C01).isNaN)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x7BFF) == 65504)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x3555) == 0x1.554p-2)
    }

    /// The bfloat16 nearest to `x`, found in Double without bit tricks: the two candidates that
    /// bracket x, the nearer one, ties to the even pattern.
    static func referenceBFloat16(_ x: Float) -> UInt16 {
        let truncated = UInt16(x.bitPattern >> 16)
        let down = HalfPrecision.float(fromBFloat16Bits: truncated)
        guard x != down else { return truncated }
        let up = truncated &+ 1  // the next pattern away from zero (same sign)
        let upValue: Double
        if up & 0x7FFF == 0x7F80 {
            // Beyond the largest finite bfloat16: the rounding boundary is where 2^128 would be.
            upValue = (x < 0 ? -1 : 1) * 0x1p128
        } else {
            upValue = Double(HalfPrecision.float(fromBFloat16Bits: up))
        }
        let dDown = abs(Double(x) - Double(down)), dUp = abs(Double(x) - upValue)
        if dDown < dUp { return truncated }
        if dUp < dDown { return up }
        return truncated & 1 == 0 ? truncated : up
    }

    @Test func bfloat16NarrowingMatchesExactReference() {
        var rng = TestRNG(seed: 2)
        for k in 0..<300_000 {
            var x = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if k % 3 == 0 {
                // Force low halves at and around the tie.
                let low: [UInt32] = [0x8000, 0x7FFF, 0x8001, 0x0000, 0xFFFF]
                x = Float(bitPattern: (x.bitPattern & 0xFFFF_0000) | low[k % 5])
            }
            if x.isNaN {
                #expect(HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: x)).isNaN)
                continue
            }
            #expect(HalfPrecision.bfloat16Bits(from: x) == Self.referenceBFloat16(x), "\(x) 0x\(String(x.bitPattern, radix: 16))")
        }
    }

    @Test func bfloat16SpecialValues() {
        #expect(HalfPrecision.bfloat16Bits(from: 1) == 0x3F80)
        #expect(HalfPrecision.bfloat16Bits(from: 1 + 0x1p-8) == 0x3F80)    // tie → even (down)
        #expect(HalfPrecision.bfloat16Bits(from: 1 + 0x3p-8) == 0x3F82)    // tie → even (up)
        #expect(HalfPrecision.bfloat16Bits(from: .greatestFiniteMagnitude) == 0x7F80)  // rounds to infinity
        #expect(HalfPrecision.bfloat16Bits(from: .infinity) == 0x7F80)
        #expect(HalfPrecision.bfloat16Bits(from: -.infinity) == 0xFF80)
        #expect(HalfPrecision.bfloat16Bits(from: -0.0) == 0x8000)
        // A NaN whose payload is only in the low 16 bits must not become infinity.
        let nan = HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x7F80_0001))
        #expect(HalfPrecision.float(fromBFloat16Bits: nan).isNaN)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x0001) == Float(bitPattern: 0x0001_0000))  // subnormal
        #expect(HalfPrecision.float(fromBFloat16Bits: 0xFF80) == -.infinity)
    }

    @Test func bufferConversionsHandleUnalignedBytes() {
        let values: [Float] = [1, -2, 0.5, 65504, 0x1p-24, -0.0]
        var raw = [UInt8](repeating: 0, count: 2 * values.count + 1)
        raw.withUnsafeMutableBytes { p in
            values.withUnsafeBufferPointer { v in
                HalfPrecision.convertFloatToFloat16(v.baseAddress!, p.baseAddress! + 1, count: values.count)
            }
        }
        var back = [Float](repeating: .nan, count: values.count)
        raw.withUnsafeBytes { p in
            back.withUnsafeMutableBufferPointer { b in
                HalfPrecision.convertFloat16ToFloat(p.baseAddress! + 1, b.baseAddress!, count: values.count)
            }
        }
        #expect(back.map(\.bitPattern) == values.map(\.bitPattern))
    }
}
