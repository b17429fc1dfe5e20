/// Sorting for large arrays of doubles.
///
/// The evaluation of ten million pairs is dominated by sorting; an LSD radix sort on order-preserving
/// integer keys is about 3–5× faster there than the standard library's comparison sort and its cost
/// does not depend on the data's order.
enum FastSort {
    /// Sorts finite (or infinite, but not NaN) doubles ascending. `-0.0` and `0.0` are equal and may
    /// appear in either order.
    static func sortAscending(_ a: inout [Double]) {
        if a.count < 4096 {
            a.sort()
            return
        }
        let n = a.count
        var keys = [UInt64](unsafeUninitializedCapacity: n) { buf, count in
            a.withUnsafeBufferPointer { src in
                for i in 0..<n { buf[i] = orderedKey(src[i]) }
            }
            count = n
        }
        radixSort(&keys)
        a.withUnsafeMutableBufferPointer { dst in
            keys.withUnsafeBufferPointer { src in
                for i in 0..<n { dst[i] = fromOrderedKey(src[i]) }
            }
        }
    }

    /// Flips the bits of a double so that unsigned integer order equals numeric order.
    @inline(__always) static func orderedKey(_ x: Double) -> UInt64 {
        let b = x.bitPattern
        return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
    }

    @inline(__always) static func fromOrderedKey(_ k: UInt64) -> Double {
        Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k)
    }

    /// LSD radix sort with 11-bit digits (6 passes); passes where every key has the same digit are skipped.
    static func radixSort(_ keys: inout [UInt64]) {
        let n = keys.count
        let bits = 11, radix = 1 << bits, passes = 6
        var histogram = [Int](repeating: 0, count: radix * passes)
        keys.withUnsafeBufferPointer { k in
            histogram.withUnsafeMutableBufferPointer { h in
                for i in 0..<n {
                    var v = k[i]
                    for p in 0..<passes {
                        h[p * radix + Int(v & UInt64(radix - 1))] += 1
                        v >>= UInt64(bits)
                    }
                }
            }
        }
        var scratch = [UInt64](repeating: 0, count: n)
        var inKeys = true
        for p in 0..<passes {
            let base = p * radix
            if histogram[base..<(base + radix)].contains(n) { continue }
            var offsets = [Int](repeating: 0, count: radix)
            var sum = 0
            for d in 0..<radix {
                offsets[d] = sum
                sum += histogram[base + d]
            }
            let shift = UInt64(p * bits)
            func scatter(_ src: UnsafeBufferPointer<UInt64>, _ dst: UnsafeMutableBufferPointer<UInt64>) {
                offsets.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n {
                        let v = src[i]
                        let d = Int((v >> shift) & UInt64(radix - 1))
                        dst[o[d]] = v
                        o[d] += 1
                    }
                }
            }
            if inKeys {
                keys.withUnsafeBufferPointer { s in scratch.withUnsafeMutableBufferPointer { d in scatter(s, d) } }
            } else {
                scratch.withUnsafeBufferPointer { s in keys.withUnsafeMutableBufferPointer { d in scatter(s, d) } }
            }
            inKeys.toggle()
        }
        if !inKeys { keys = scratch }
    }
}
