import NN
import Tensors

/// How an item becomes a view: image or sequence augmentations with the input's shape.
public enum ViewAugmentation: Sendable, Codable, Equatable {
    /// `[C, H, W]` images: the first view's and the second view's augmentations (BYOL's views
    /// differ), and the local crops' (DINO).
    case image(channels: Int, height: Int, width: Int, views: [ImageAugmentation], local: ImageAugmentation)
    /// `[C, L]` sequences.
    case sequence(channels: Int, length: Int, SequenceAugmentation)

    /// The SimCLR / BYOL image recipe: view 1 blurred often, view 2 rarely and solarised sometimes
    /// (BYOL's asymmetric views); DINO's local crops take 5–40 % of the image (resized to the full
    /// input size, since the encoders read one size).
    public static func imageRecipe(channels: Int, height: Int, width: Int) -> ViewAugmentation {
        let first = ImageAugmentation(blurProbability: 1.0 / 2)
        let second = ImageAugmentation(blurProbability: 0.1, solarizeProbability: 0.2)
        let local = ImageAugmentation(cropScale: 0.05...0.4, blurProbability: 0.5)
        return .image(channels: channels, height: height, width: width, views: [first, second], local: local)
    }

    /// Features per item.
    var featureCount: Int {
        switch self {
        case .image(let c, let h, let w, _, _): c * h * w
        case .sequence(let c, let l, _): c * l
        }
    }

    /// View `view` of one item's features, from its own generator.
    func apply(_ x: [Float], view: Int, generator g: inout SeededGenerator) -> [Float] {
        switch self {
        case .image(let c, let h, let w, let views, let local):
            let augmentation = view < 2 ? views[min(view, views.count - 1)] : local
            return augmentation(x, channels: c, height: h, width: w, generator: &g)
        case .sequence(let c, let l, let a):
            return a(x, channels: c, length: l, generator: &g)
        }
    }
}

/// One step's plan: the items, and the step's index in the run (it seeds the views and sets the
/// EMA momentum), so that a resumed run replays the very same views.
public struct SelfSupervisedBatch: Codable, Sendable, Equatable {
    /// Row indices of the batch's items.
    public var items: [Int]
    /// 0-based step of the whole run.
    public var step: Int
}

/// Self-supervised pre-training as a ``TrainingTask``: every epoch shuffles the unlabelled rows
/// into batches; a batch's loss augments each item into two views (DINO: two global views plus
/// local crops) and applies the method's loss. The ``Trainer`` brings the optimiser, schedule,
/// progress, checkpoints and exact resume.
public struct SelfSupervisedTask: TrainingTask {
    /// The unlabelled rows, `[n, features]`.
    public let features: Tensor
    /// How rows become views.
    public let augmentation: ViewAugmentation
    /// The batch size (the last, incomplete batch of an epoch is dropped: the losses need full batches).
    public let batchSize: Int
    /// Epochs of the run (the EMA momentum's schedule spans them).
    public let epochs: Int
    /// Seed of the views (mixed with the step and the item's place).
    public let seed: UInt64

    /// - Parameters:
    ///   - features: `[n, F]` unlabelled rows (F the augmentation's feature count), n ≥ batch size.
    ///   - augmentation: how rows become views.
    ///   - batchSize: items per step (≥ 2).
    ///   - epochs: epochs of the run.
    ///   - seed: the run's seed.
    /// - Throws: ``TrainingError`` when the rows do not fit the augmentation or are fewer than a batch.
    public init(features: Tensor, augmentation: ViewAugmentation, batchSize: Int, epochs: Int, seed: UInt64) throws {
        guard features.rank == 2, features.shape[1] == augmentation.featureCount else {
            throw TrainingError("the data have \(features.shape.last ?? 0) features per item, the augmentation expects \(augmentation.featureCount)")
        }
        guard batchSize >= 2, features.shape[0] >= batchSize else {
            throw TrainingError("\(features.shape[0]) items are too few for batches of \(batchSize) (at least 2 per batch)")
        }
        self.features = features
        self.augmentation = augmentation
        self.batchSize = batchSize
        self.epochs = epochs
        self.seed = seed
    }

    /// Rows in the data.
    public var itemCount: Int { features.shape[0] }

    /// Full batches per epoch.
    public var stepsPerEpoch: Int { itemCount / batchSize }

    /// A seeded shuffle of the rows cut into full batches.
    public func batches(epoch: Int, seed: UInt64, model: SelfSupervisedNetwork) throws -> [SelfSupervisedBatch] {
        var g = SeededGenerator(seed: seed &+ 0x55_1000 &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var order = Array(0..<itemCount)
        order.shuffle(using: &g)
        return (0..<stepsPerEpoch).map { k in
            SelfSupervisedBatch(items: Array(order[(k * batchSize)..<((k + 1) * batchSize)]), step: epoch * stepsPerEpoch + k)
        }
    }

    /// View `view` of every item of the batch, `[n, F]`.
    func views(_ batch: SelfSupervisedBatch, view: Int) -> Tensor {
        let f = augmentation.featureCount
        var out = [Float](); out.reserveCapacity(batch.items.count * f)
        features.withUnsafeBufferPointer { all in
            for (k, item) in batch.items.enumerated() {
                let row = Array(all[(item * f)..<((item + 1) * f)])
                var g = SeededGenerator(seed: seed ^ (UInt64(batch.step) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(k) &* 0xBF58_476D_1CE4_E5B9) ^ (UInt64(view) &* 0x94D0_49BB_1331_11EB))
                out += augmentation.apply(row, view: view, generator: &g)
            }
        }
        return Tensor(shape: [batch.items.count, f], out)
    }

    /// The method's loss on two (DINO: more) augmented views of the batch. BYOL and DINO move the
    /// teacher first, with the momentum of this step (lightly's order).
    public func loss(_ model: SelfSupervisedNetwork, _ batch: SelfSupervisedBatch) -> BatchLoss {
        let s = model.settings
        if s.method.hasTeacher {
            let total = max(1, epochs * stepsPerEpoch)
            model.updateTeacher(momentum: cosineSchedule(step: batch.step, totalSteps: total, start: s.momentum.lowerBound, end: s.momentum.upperBound))
        }
        let x0 = views(batch, view: 0), x1 = views(batch, view: 1)
        switch s.method {
        case .simclr:
            return BatchLoss(NTXentLoss(temperature: s.temperature)(model.project(x0), model.project(x1)))
        case .barlow:
            return BatchLoss(BarlowTwinsLoss(lambda: s.barlowLambda)(model.project(x0), model.project(x1)))
        case .vicreg:
            let w = s.vicregWeights
            return BatchLoss(VICRegLoss(lambda: w[0], mu: w[1], nu: w[2])(model.project(x0), model.project(x1)))
        case .simsiam:
            let z0 = model.project(x0), z1 = model.project(x1)
            let p0 = model.predictor!(z0), p1 = model.predictor!(z1)
            return BatchLoss(NegativeCosineSimilarity().symmetric(predictions: (p0, p1), targets: (z0, z1)))
        case .byol:
            let p0 = model.predictor!(model.project(x0)), p1 = model.predictor!(model.project(x1))
            let t0 = model.teacherProject(x0), t1 = model.teacherProject(x1)
            return BatchLoss(NegativeCosineSimilarity().symmetric(predictions: (p0, p1), targets: (t0, t1)))
        case .dino:
            let local = (0..<s.localCrops).map { views(batch, view: 2 + $0) }
            let teacher = [model.teacherProject(x0), model.teacherProject(x1)]
            let student = ([x0, x1] + local).map { model.project($0) }
            let value = model.dino!(teacher: teacher, student: student)
            model.dino!.updateCentre(teacher: teacher)
            return BatchLoss(value)
        }
    }

    /// Encoder embeddings of up to 256 rows, for the Trainer's collapse warning.
    public func probeEmbeddings(_ model: SelfSupervisedNetwork) -> Tensor? {
        let n = min(256, itemCount)
        return model.network.embedAll(features.slice(axis: 0, 0..<n))
    }
}
