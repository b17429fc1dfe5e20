import Evaluation
import Foundation
import Siamese
import Tensors

/// Data `siamese train` holds out of training (`--validation FILE` or `--validation-split F`):
/// scored after every epoch, and the pairs the final threshold is calibrated on — so that
/// `siamese verify --model OUTPUT` works right after training.
enum HeldOut {
    /// Labelled items: every pair of them (strided down to a cap) is a same or different pair.
    case items(FeatureDataset)
    /// Pre-built pairs with 0/1 labels.
    case pairs(PairDataset)
    /// Pre-built triplets: (anchor, positive) is a same pair, (anchor, negative) a different one.
    case triplets(TripletDataset)

    /// Pairs scored from items are capped (evenly strided), so a large held-out set stays cheap.
    static let maxItemPairs = 200_000

    /// The model's own scores (its distance or learned head, as `verify` computes them) of the
    /// held-out pairs, with their same/different labels. Runs in evaluation mode.
    func scoredPairs(_ network: SiameseNetwork) -> (scores: [Double], labels: [Bool]) {
        switch self {
        case .items(let data):
            let embeddings = network.embedAll(data.features)
            let n = data.count
            let total = n * (n - 1) / 2
            let stride = max(1, total / Self.maxItemPairs)
            var left: [Int] = [], right: [Int] = []
            var k = 0
            for i in 0..<n {
                for j in (i + 1)..<n {
                    if k % stride == 0 {
                        left.append(i)
                        right.append(j)
                    }
                    k += 1
                }
            }
            let scores = Self.scores(network, embeddings.indexSelect(left), embeddings.indexSelect(right))
            return (scores, zip(left, right).map { data.labels[$0] == data.labels[$1] })
        case .pairs(let data):
            let scores = Self.scores(network, network.embedAll(data.left), network.embedAll(data.right))
            return (scores, data.labels.map { $0 == 1 })
        case .triplets(let data):
            let anchors = network.embedAll(data.anchor)
            let positive = Self.scores(network, anchors, network.embedAll(data.positive))
            let negative = Self.scores(network, anchors, network.embedAll(data.negative))
            return (positive + negative, Array(repeating: true, count: positive.count) + Array(repeating: false, count: negative.count))
        }
    }

    /// Row-wise scores of two embedding matrices, as `verify` computes them (``SiameseNetwork/score(embeddings:_:)``).
    private static func scores(_ network: SiameseNetwork, _ a: Tensor, _ b: Tensor) -> [Double] {
        let wasTraining = network.isTraining
        network.isTraining = false
        defer { network.isTraining = wasTraining }
        return withoutGradients {
            network.score(embeddings: a, b).scalars.map(Double.init)
        }
    }

    /// The epoch-end validation: AUC (the score best-epoch keeping compares) and EER of the
    /// model's own scores; labelled items also get recall@1 (``FeatureValidation``).
    func validate(_ network: SiameseNetwork) throws -> ValidationResult {
        if case .items(let data) = self { return try FeatureValidation(data: data)(network) }
        let (scores, labels) = scoredPairs(network)
        let curve = try VerificationCurve(scores: scores, labels: labels, direction: Self.direction(of: network))
        let auc = curve.auc()
        return ValidationResult(score: auc, metrics: ["auc": auc, "eer": curve.equalErrorRate().rate])
    }

    /// Which way the model's scores point.
    static func direction(of network: SiameseNetwork) -> ScoreDirection {
        network.higherScoreMeansSame ? .higherIsSame : .lowerIsSame
    }

    /// Scores the held-out pairs with the trained model and saves a calibration by `rule` into
    /// `modelFolder` (stamped with the weights there). Returns the record and the pair count.
    func calibrate(_ network: SiameseNetwork, rule: ThresholdRule, modelFolder: URL) throws -> (CalibrationRecord, Int) {
        let (scores, labels) = scoredPairs(network)
        let pairs = try ScoredPairs(scores: scores, labels: labels)
        let record = try CalibrationRuleOption.calibrate(pairs, direction: Self.direction(of: network), rule: rule, modelFolder: modelFolder)
        return (record, scores.count)
    }
}
