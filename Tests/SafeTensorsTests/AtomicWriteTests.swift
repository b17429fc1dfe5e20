import Foundation
import Testing
@testable import SafeTensors
import Tensors

/// The writer never leaves a partial file at the destination.
@Suite struct AtomicWriteTests {
    static func model(_ value: Float, rows: Int = 64) -> [String: Tensor] {
        ["w": Tensor(shape: [rows, 256], repeating: value), "b": Tensor(shape: [256], repeating: -value)]
    }

    static func checkComplete(_ url: URL, value: Float) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(try file.tensor(named: "w").scalars.allSatisfy { $0 == value })
        #expect(try file.tensor(named: "b").scalars.allSatisfy { $0 == -value })
    }

    @Test func largeWriteLeavesOnlyTheTarget() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("big.safetensors")
        // 64 MiB of F32 plus a BF16 copy, streamed in chunks (integers below 256 are exact in BF16).
        var writer = SafeTensorsWriter(metadata: ["step": "1"])
        var big = Tensor(shape: [4096, 4096])
        big.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(i % 256) } }
        try writer.add("big", big)
        try writer.add("big.bf16", big, as: .bfloat16)
        try writer.write(to: url)
        #expect(try dir.contents() == ["big.safetensors"])
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.fileSize == 8 + file.headerLength + 4096 * 4096 * 6)
        try file.withRawBytes(of: "big") { raw in
            #expect(raw.loadUnaligned(fromByteOffset: 4 * 123_456, as: Float.self) == Float(123_456 % 256))
        }
        let half = try file.tensor(named: "big.bf16")
        #expect(half[4095, 4095] == Float((4096 * 4096 - 1) % 256))
    }

    @Test func replacingKeepsReadersOfTheOldFileWorking() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("model.safetensors")
        try SafeTensorsWriter.write(Self.model(1), to: url)
        let old = try SafeTensorsFile(contentsOf: url)
        try SafeTensorsWriter.write(Self.model(2, rows: 128), to: url)
        try Self.checkComplete(url, value: 2)
        // The old mapping still reads the old, complete data.
        #expect(try old.tensor(named: "w").scalars.allSatisfy { $0 == 1 })
        #expect(try dir.contents() == ["model.safetensors"])
    }

    @Test func failureMidWriteKeepsTheOldFileAndCleansUp() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("model.safetensors")
        try SafeTensorsWriter.write(Self.model(1), to: url)
        let before = try Data(contentsOf: url)
        var writer = SafeTensorsWriter()
        for (name, t) in Self.model(5, rows: 512) { try writer.add(name, t) }
        for cut in [0, 7, 8, 100, 70_000, 500_000] {
            #expect(throws: SafeTensorsError.self) { try writer.write(to: url, interruption: .failAfter(bytes: cut)) }
            #expect(try Data(contentsOf: url) == before, "cut at \(cut)")
            #expect(try dir.contents() == ["model.safetensors"], "cut at \(cut)")
            try Self.checkComplete(url, value: 1)
        }
        try writer.write(to: url)
        try Self.checkComplete(url, value: 5)
    }

    /// A write killed mid-way (no cleanup, no rename) leaves the old file intact and readable; the
    /// only trace is a hidden temporary file.
    @Test func killedWriteLeavesTheOldFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("model.safetensors")
        try SafeTensorsWriter.write(Self.model(1), to: url)
        var writer = SafeTensorsWriter()
        for (name, t) in Self.model(7, rows: 256) { try writer.add(name, t) }
        try writer.write(to: url, interruption: .abandonAfter(bytes: 123_457))
        try Self.checkComplete(url, value: 1)
        let names = try dir.contents()
        #expect(names.count == 2)
        let stray = try #require(names.first { $0 != "model.safetensors" })
        #expect(stray.hasPrefix(".model.safetensors.tmp-"))
        // The partial temporary file itself is rejected cleanly, not misread.
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: dir.file(stray)) }
    }

    @Test func unwritableDestinationReportsTheError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("no-such-dir/model.safetensors")
        do {
            try SafeTensorsWriter.write(Self.model(1), to: url)
            Issue.record("write into a missing directory succeeded")
        } catch {
            guard case .io(let file, let operation, let message) = error else { Issue.record("\(error)"); return }
            // The file the caller asked for is named, not the hidden temporary file beside it.
            #expect(file == url.path)
            #expect(operation == "open")
            #expect(message == "No such file or directory")
        }
        // A directory in the way of the rename.
        let blocked = dir.file("blocked.safetensors")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("x"), withIntermediateDirectories: true)
        #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write(Self.model(1), to: blocked) }
        #expect(try dir.contents() == ["blocked.safetensors"])
    }
}
