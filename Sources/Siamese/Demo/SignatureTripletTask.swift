import Tensors

/// Triplets for signature verification, drawn afresh each epoch from a seeded stream: the anchor
/// and positive are two genuine signatures of one writer; the negative is, with probability
/// `skilledFraction`, a skilled forgery of that same writer (the hard negative that teaches the
/// encoder dynamics, not just shape), otherwise a genuine signature of another writer.
///
/// A batch is a flat list of row numbers, three per triplet, so checkpoints can store it.
struct SignatureTripletTask: TrainingTask {
    let features: Tensor
    let genuine: [[Int]]
    let forgeries: [[Int]]
    let tripletsPerWriter: Int
    let batchSize: Int
    let skilledFraction: Double
    let loss: TripletMarginLoss

    init(set: SignatureSet, tripletsPerWriter: Int, batchSize: Int, skilledFraction: Double, loss: TripletMarginLoss) throws {
        var byWriter: [Int: ([Int], [Int])] = [:]
        for i in 0..<set.count {
            if set.isForgery[i] { byWriter[set.writers[i], default: ([], [])].1.append(i) } else { byWriter[set.writers[i], default: ([], [])].0.append(i) }
        }
        let writers = byWriter.keys.sorted()
        genuine = writers.map { byWriter[$0]!.0 }
        forgeries = writers.map { byWriter[$0]!.1 }
        guard writers.count >= 2, genuine.allSatisfy({ $0.count >= 2 }) else {
            throw SamplingError("signature triplets need at least two writers with two genuine samples each")
        }
        features = set.features
        self.tripletsPerWriter = tripletsPerWriter
        self.batchSize = batchSize
        self.skilledFraction = skilledFraction
        self.loss = loss
    }

    var itemCount: Int { genuine.count * tripletsPerWriter }

    func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[Int]] {
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 11)
        var triplets: [[Int]] = []
        for w in genuine.indices {
            for _ in 0..<tripletsPerWriter {
                let own = genuine[w]
                let a = g.nextInt(below: own.count)
                var p = g.nextInt(below: own.count - 1)
                if p >= a { p += 1 }
                let negative: Int
                if !forgeries[w].isEmpty && Double(g.nextUniform()) < skilledFraction {
                    negative = forgeries[w][g.nextInt(below: forgeries[w].count)]
                } else {
                    var other = g.nextInt(below: genuine.count - 1)
                    if other >= w { other += 1 }
                    negative = genuine[other][g.nextInt(below: genuine[other].count)]
                }
                triplets.append([own[a], own[p], negative])
            }
        }
        g.shuffle(&triplets)
        return chunked(triplets, size: batchSize).map { $0.flatMap { $0 } }
    }

    func loss(_ model: SiameseNetwork, _ batch: [Int]) -> BatchLoss {
        let n = batch.count / 3
        let rows = (0..<3).map { k in (0..<n).map { batch[3 * $0 + k] } }
        let e = model.embedBranches(rows.map { features.indexSelect($0) })
        return BatchLoss(loss(anchor: e[0], positive: e[1], negative: e[2]))
    }

    var collapsedLoss: Double? { Double(loss.margin) }
}
