import Core
import Evaluation
import Foundation
import PostgresStore

/// `siamese dedupe --store postgres://…`: pairs mined inside the database through its HNSW index
/// (``PostgresStore/minePairs(into:k:threshold:score:batchSize:progress:)``), so that memory
/// stays bounded however large the store; the pairs land in a table (kept with `--table`) and are
/// streamed from it to `--output` or stdout, best first.
extension DedupeCommand {
    /// Neighbours per item when only `--threshold` is given.
    static let defaultPostgresK = 10

    func runPostgres(_ location: String) throws {
        let pg = try postgres.open(location, metric: nil)
        let k = topK ?? Self.defaultPostgresK
        let keep = table
        // Without --table, a table of this run's own, dropped at the end.
        let name = keep ?? "siamese_pairs_run_\(UInt64.random(in: 1...UInt64.max) % 1_000_000_000_000)"
        let limit = topK != nil ? maxPairs : Int.max
        let score: PostgresStore.PairScore = noNormalize ? .dot : .cosine
        let threshold = self.threshold.map(Double.init)
        let writer = try output.map { path -> OwnedWriter in
            do throws(DurableWriteError) { return OwnedWriter(try DurableFileWriter(path: path)) } catch {
                throw IndexCLIError(file: path, message: "cannot write: \(error.reason)")
            }
        }
        let format = formatting.format
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (pairs, items): (Int, Int) = try blocking {
            let progress = ProgressBar(label: "dedupe")
            do {
                let found = try await pg.minePairs(into: name, k: k, threshold: threshold, score: score) { done, total in
                    progress.update(fraction: Double(done) / Double(max(1, total)), detail: "of \(total) items searched")
                }
                progress.finish()
                var written = 0
                // stdout as --format asks (json: one array, streamed); the file always JSON lines.
                let array = writer == nil && format == .json
                if array { print("[") }
                try await pg.readPairs(from: name) { page in
                    var text = ""
                    for p in page where written < limit {
                        let line = JSONValue.object([("a", .string(p.a)), ("b", .string(p.b)), ("score", .number(p.score))]).serialized(pretty: false)
                        if writer != nil || format == .jsonl { text += line + "\n" }
                        else if array { text += (written > 0 ? ",\n" : "") + "  " + line }
                        else { text += "\(p.score)  \(p.a)  \(p.b)\n" }
                        written += 1
                    }
                    if let writer {
                        do throws(DurableWriteError) { try writer.file.write(Array(text.utf8)) } catch {
                            throw IndexCLIError(file: writer.file.path, message: "cannot write: \(error.reason)")
                        }
                    } else if !text.isEmpty {
                        print(text, terminator: "")
                    }
                }
                if array { print(written > 0 ? "\n]" : "]") }
                if keep == nil { try await pg.dropPairs(name) }
                let count = try await pg.count()
                await pg.close()
                return (min(found, limit), count)
            } catch {
                if keep == nil { try? await pg.dropPairs(name) }
                await pg.close()
                throw error
            }
        }
        if let writer {
            do throws(DurableWriteError) { try writer.file.commit() } catch {
                throw IndexCLIError(file: writer.file.path, message: "cannot write: \(error.reason)")
            }
        }
        let elapsed = seconds(since: t0)
        let kept = keep.map { "; the pairs are in table \($0)" } ?? ""
        if let output {
            formatting.emit(.object([("pairs", .int(pairs)), ("items", .int(items)), ("mining_seconds", .number(elapsed)),
                                     ("output", .string(output))] + (keep.map { [("table", JSONValue.string($0))] } ?? []))) {
                String(format: "%d pairs among %d items in %.3f s (each item's %d nearest by the database's index); wrote %@", pairs, items, elapsed, k, output) + kept
            }
        } else {
            note(String(format: "%d pairs among %d items in %.3f s (each item's %d nearest by the database's index)", pairs, items, elapsed, k) + kept)
        }
    }
}

/// The output file's writer, handed to the one task that streams the pairs: `blocking` runs that
/// task to its end before the command goes on, so one thread at a time touches it.
private final class OwnedWriter: @unchecked Sendable {
    let file: DurableFileWriter
    init(_ file: DurableFileWriter) { self.file = file }
}
