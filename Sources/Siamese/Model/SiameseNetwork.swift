import NN
import Tensors

/// A Siamese network: one shared ``EmbeddingEncoder`` applied to every input, and a way to compare embeddings
/// (a ``Distance``, or a learned head trained with binary cross-entropy).
public final class SiameseNetwork: Module {
    public let encoder: any EmbeddingEncoder
    /// How embeddings are compared when scoring pairs.
    public var distance: Distance
    /// Optional learned comparison head (Koch et al. 2015): replaces `distance` for scoring.
    public let head: LearnedHead?

    public init(encoder: any EmbeddingEncoder, distance: Distance = .cosine, head: LearnedHead? = nil) {
        self.encoder = encoder
        self.distance = distance
        self.head = head
    }

    public var isTraining: Bool {
        get { encoder.isTraining }
        set { encoder.isTraining = newValue; head?.isTraining = newValue }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        scoped("encoder", encoder.namedParameters) + (head.map { scoped("head", $0.namedParameters) } ?? [])
    }
    public var namedBuffers: [(name: String, tensor: Tensor)] { scoped("encoder", encoder.namedBuffers) }
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        name.hasPrefix("encoder.") && encoder.setBuffer(String(name.dropFirst("encoder.".count)), value)
    }

    /// Embeddings of a batch.
    public func embed(_ inputs: Tensor) -> Tensor { encoder(inputs) }

    /// Embeddings of several batches of the same size through the one encoder, in a single forward
    /// pass (the batches are stacked, then split): branch i of a pair, triplet or N-tuple is `result[i]`.
    public func embedBranches(_ branches: [Tensor]) -> [Tensor] {
        ensure(!branches.isEmpty, "SiameseNetwork.embedBranches: no inputs")
        if branches.count == 1 { return [encoder(branches[0])] }
        let sizes = branches.map { $0.shape[0] }
        let all = encoder(Tensor.concatenate(branches, axis: 0))
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return all.slice(axis: 0, start..<(start + n))
        }
    }

    /// Scores of pairs (a[i], b[i]): the head's P(same) logit when there is a head, else the distance
    /// (a similarity for cosine/dot, a distance for the Euclidean kinds).
    public func score(_ a: Tensor, _ b: Tensor) -> Tensor {
        let e = embedBranches([a, b])
        return score(embeddings: e[0], e[1])
    }

    /// Scores of embedded pairs, as ``score(_:_:)``. A cosine is clamped to [−1, 1]: float rounding
    /// can carry the cosine of identical inputs a hair past 1, which no reader of a score expects.
    public func score(embeddings a: Tensor, _ b: Tensor) -> Tensor {
        if let head { return head(a, b) }
        let s = distance.rowwise(a, b)
        return distance == .cosine ? s.clamped(min: -1, max: 1) : s
    }

    /// True when larger scores mean "same".
    public var higherScoreMeansSame: Bool { head != nil || distance.isSimilarity }
}
