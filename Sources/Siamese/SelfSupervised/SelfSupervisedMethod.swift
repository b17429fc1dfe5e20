import Foundation

/// The self-supervised methods `siamese pretrain` trains, and their settings.
public enum SelfSupervisedMethod: String, Sendable, Codable, CaseIterable {
    /// SimCLR: projector + NT-Xent over in-batch negatives.
    case simclr
    /// BYOL: projector + predictor against an EMA target network.
    case byol
    /// SimSiam: projector + predictor against the stop-gradient of the same network.
    case simsiam
    /// Barlow Twins: projector + cross-correlation towards the identity.
    case barlow
    /// VICReg: projector + variance, invariance and covariance terms.
    case vicreg
    /// DINO: head + EMA teacher, centring and sharpening, multi-crop.
    case dino

    /// Whether the method keeps an EMA teacher (its weights are checkpointed as buffers).
    public var hasTeacher: Bool { self == .byol || self == .dino }
}

/// The sizes and loss settings of a self-supervised run (saved in checkpoints through the data
/// fingerprint, so that a resume with other settings is refused).
public struct SelfSupervisedSettings: Sendable, Codable, Equatable {
    /// The method.
    public var method: SelfSupervisedMethod
    /// Hidden width of the projector (and predictor).
    public var hiddenDimension: Int
    /// Output width of the projector (DINO: the bottleneck).
    public var projectionDimension: Int
    /// DINO's output logits (the centre's length).
    public var dinoOutputDimension: Int
    /// NT-Xent temperature (SimCLR).
    public var temperature: Float
    /// Barlow Twins' λ.
    public var barlowLambda: Float
    /// VICReg's λ, μ, ν.
    public var vicregWeights: [Float]
    /// DINO's teacher and student temperatures.
    public var dinoTemperatures: [Float]
    /// DINO: local crops beside the two global views (multi-crop).
    public var localCrops: Int
    /// The EMA momentum's start and end (cosine schedule over the run; BYOL, DINO).
    public var momentum: ClosedRange<Float>

    /// - Parameters:
    ///   - method: the method.
    ///   - hiddenDimension: hidden width of the heads (default 512).
    ///   - projectionDimension: projector output (default 128).
    ///   - dinoOutputDimension: DINO's output logits (default 1024).
    ///   - temperature: NT-Xent τ (0.5).
    ///   - barlowLambda: Barlow Twins λ (5e-3).
    ///   - vicregWeights: VICReg λ, μ, ν (25, 25, 1).
    ///   - dinoTemperatures: DINO τ_teacher, τ_student (0.04, 0.1).
    ///   - localCrops: DINO local crops (2).
    ///   - momentum: EMA momentum start…end (0.996…1 for BYOL and DINO).
    public init(method: SelfSupervisedMethod, hiddenDimension: Int = 512, projectionDimension: Int = 128,
                dinoOutputDimension: Int = 1024, temperature: Float = 0.5, barlowLambda: Float = 5e-3,
                vicregWeights: [Float] = [25, 25, 1], dinoTemperatures: [Float] = [0.04, 0.1], localCrops: Int = 2,
                momentum: ClosedRange<Float> = 0.996...1) {
        self.method = method
        self.hiddenDimension = hiddenDimension
        self.projectionDimension = projectionDimension
        self.dinoOutputDimension = dinoOutputDimension
        self.temperature = temperature
        self.barlowLambda = barlowLambda
        self.vicregWeights = vicregWeights
        self.dinoTemperatures = dinoTemperatures
        self.localCrops = localCrops
        self.momentum = momentum
    }
}
