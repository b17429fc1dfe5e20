import VectorIndex

/// The index metric that ranks a served model's embeddings as its own comparison does, shared by
/// the service and the command line so that a store indexed by one is reused by the other.
public enum IndexMetric {
    /// `dot` and Euclidean comparisons keep their metric; cosine and learned heads are indexed by cosine.
    public static func metric(for model: any ServedModel) -> Metric {
        switch model.scoreName {
        case "dot": .dot
        case "euclidean", "squared_euclidean": .l2
        default: .cosine
        }
    }
}
