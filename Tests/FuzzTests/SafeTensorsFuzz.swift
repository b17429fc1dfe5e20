import Foundation
import SafeTensors
import Testing

/// The safetensors reader (model weights, sentence-transformers folders, checkpoints). The
/// SafeTensorsTests suite has a deeper deterministic fuzz of this reader, and
/// `Fuzz/run-safetensors-fuzz.sh` a libFuzzer + AddressSanitizer build; this target keeps it in
/// the common corpus and regression flow.
struct SafeTensorsTarget: FuzzTarget {
    let name = "safetensors"
    let quickIterations = 4000

    static let dictionary = ["\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"", "\"BF16\"",
                             "\"I64\"", "\"U64\"", "\"BOOL\"", "\"F4\"", "\"F8_E4M3\"", "[0,0]", "[]", "{}"]

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        guard seed.count >= 8, m.rng.chance(0.7) else { return m.bytes(seed, pool: pool, dictionary: Self.dictionary) }
        // Edit the JSON header and rewrite the 8-byte length so the header parser sees it.
        let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(seed[$1]) << (8 * UInt64($1)) }
        guard n <= UInt64(seed.count - 8) else { return m.bytes(seed, pool: pool) }
        let header = m.json(Array(seed[8..<(8 + Int(n))]), dictionary: Self.dictionary)
        var out = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64($0))) }
        out += header
        out += seed[(8 + Int(n))...]
        return out
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(bytes: input, label: "fuzz.safetensors") } catch {
            return error.description.hasPrefix("fuzz.safetensors") ? .rejected(kind: "SafeTensorsError.\(Fuzz.kind(error))")
                : .violation("error does not name the file: \(error)")
        }
        let dataBytes = input.count - 8 - file.headerLength
        var position = 0
        for info in file.tensorInfos {
            guard info.dataOffsets.lowerBound == position, info.dataOffsets.upperBound <= dataBytes else {
                return .violation("\(info.name): bytes \(info.dataOffsets) do not tile the \(dataBytes)-byte buffer")
            }
            position = info.dataOffsets.upperBound
            do {
                guard try file.rawBytes(named: info.name).count == info.dataOffsets.count else { return .violation("\(info.name): raw size") }
                if info.dtype.convertsToFloat32 {
                    let t = try file.tensor(named: info.name)
                    guard t.shape == info.shape, t.count == info.elementCount else { return .violation("\(info.name): shape \(t.shape) vs \(info.shape)") }
                }
            } catch { return .violation("accepted, but reading \(info.name) failed: \(error)") }
        }
        guard position == dataBytes else { return .violation("tensors cover \(position) of \(dataBytes) data bytes") }
        return .accepted
    }
}

@Suite("fuzz: safetensors") struct SafeTensorsFuzz {
    @Test("corpus replay, then mutated safetensors files: tensors that tile the data, or a SafeTensorsError")
    func fuzz() async throws { try await Fuzz.run(SafeTensorsTarget()) }
}
