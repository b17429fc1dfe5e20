import NN
import Tensors

/// What a self-supervised run trains: the encoder (a ``SiameseNetwork``, the part that is saved),
/// the method's heads, and for BYOL and DINO an EMA teacher (encoder and heads) with DINO's centre.
///
/// Only the student is trainable (``namedParameters``); the teacher's weights and the centre are
/// buffers (`teacher.…`, `dino_centre`), so checkpoints carry them and a resumed run continues the
/// moving average exactly.
public final class SelfSupervisedNetwork: Module {
    /// The settings the heads were built from.
    public let settings: SelfSupervisedSettings
    /// The encoder being pre-trained, as a twin network (what `siamese pretrain` saves).
    public let network: SiameseNetwork
    /// Projector (DINO: the head up to its bottleneck).
    public let projector: ProjectionHead
    /// Predictor (BYOL, SimSiam).
    public let predictor: ProjectionHead?
    /// DINO's last layer, from the normalised bottleneck to the logits.
    public let lastLayer: ProjectionHead?
    /// The EMA teacher (BYOL, DINO): encoder, projector and (DINO) last layer.
    public let teacher: (encoder: any EmbeddingEncoder, projector: ProjectionHead, lastLayer: ProjectionHead?)?
    /// DINO's loss, holding the centre.
    public var dino: DINOLoss?

    /// Builds the heads for `settings` on top of `encoder`; the teacher starts as a copy of the student.
    /// - Parameters:
    ///   - encoder: the encoder to pre-train.
    ///   - settings: method and head sizes.
    ///   - seed: seed of the heads' initial weights.
    public init(encoder: any EmbeddingEncoder, settings: SelfSupervisedSettings, seed: UInt64) {
        self.settings = settings
        network = SiameseNetwork(encoder: encoder, distance: .cosine)
        var g = SeededGenerator(seed: seed &+ 0x5eed)
        let (d, h, p) = (encoder.embeddingDimension, settings.hiddenDimension, settings.projectionDimension)
        func heads(_ g: inout SeededGenerator) -> (ProjectionHead, ProjectionHead?, ProjectionHead?) {
            switch settings.method {
            case .simclr: (.simCLR(input: d, hidden: h, output: p, generator: &g), nil, nil)
            case .byol: (.byol(input: d, hidden: h, output: p, generator: &g), .byol(input: p, hidden: h, output: p, generator: &g), nil)
            case .simsiam: (.simSiamProjection(input: d, hidden: h, output: p, generator: &g),
                            .simSiamPrediction(input: p, hidden: max(1, h / 4), output: p, generator: &g), nil)
            case .barlow, .vicreg: (.barlowTwins(input: d, hidden: h, output: p, generator: &g), nil, nil)
            case .dino: (.dino(input: d, hidden: h, bottleneck: p, generator: &g), nil,
                         .dinoLastLayer(bottleneck: p, output: settings.dinoOutputDimension, generator: &g))
            }
        }
        let (projector, predictor, lastLayer) = heads(&g)
        self.projector = projector
        self.predictor = predictor
        self.lastLayer = lastLayer
        if settings.method.hasTeacher {
            var tg = SeededGenerator(seed: seed &+ 0x7eac)
            let teacherEncoder = encoder.configuration.makeEncoder(seed: seed)
            let (tp, _, tl) = heads(&tg)
            teacher = (teacherEncoder, tp, tl)
            copyWeights(from: encoder, to: teacherEncoder)
            copyWeights(from: projector, to: tp)
            if let lastLayer, let tl { copyWeights(from: lastLayer, to: tl) }
        } else {
            teacher = nil
        }
        if settings.method == .dino {
            dino = DINOLoss(outputDimension: settings.dinoOutputDimension, teacherTemperature: settings.dinoTemperatures[0],
                            studentTemperature: settings.dinoTemperatures[1])
        }
    }

    /// The student's modules by name prefix.
    private var studentParts: [(String, any Module)] {
        [("encoder", network.encoder as any Module), ("projector", projector)]
            + (predictor.map { [("predictor", $0 as any Module)] } ?? []) + (lastLayer.map { [("last_layer", $0 as any Module)] } ?? [])
    }

    /// The teacher's modules by name prefix (under `teacher.`).
    private var teacherParts: [(String, any Module)] {
        guard let teacher else { return [] }
        return [("teacher.encoder", teacher.encoder as any Module), ("teacher.projector", teacher.projector)]
            + (teacher.lastLayer.map { [("teacher.last_layer", $0 as any Module)] } ?? [])
    }

    /// Training mode of every part.
    public var isTraining: Bool {
        get { network.isTraining }
        set { for (_, m) in studentParts + teacherParts { m.isTraining = newValue } }
    }

    /// The student's parameters: `encoder.…`, `projector.…`, `predictor.…`, `last_layer.…`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        studentParts.flatMap { scoped($0.0, $0.1.namedParameters) }
    }

    /// Running statistics of every part, the teacher's parameters, and DINO's centre.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        var all = (studentParts + teacherParts).flatMap { scoped($0.0, $0.1.namedBuffers) }
        for (prefix, m) in teacherParts {
            all += m.namedParameters.map { (name: "\(prefix).\($0.name)", tensor: $0.parameter.value.detached()) }
        }
        if let dino { all.append((name: "dino_centre", tensor: dino.centre)) }
        return all
    }

    /// Sets a buffer (running statistics, a teacher weight, the centre) by name.
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        if name == "dino_centre", dino != nil, value.shape == dino!.centre.shape { dino!.centre = value.detached(); return true }
        for (prefix, m) in studentParts + teacherParts where name.hasPrefix(prefix + ".") {
            let rest = String(name.dropFirst(prefix.count + 1))
            if m.setBuffer(rest, value) { return true }
            if prefix.hasPrefix("teacher"), let p = m.namedParameters.first(where: { $0.name == rest })?.parameter, p.shape == value.shape {
                p.value = value.detached()
                return true
            }
        }
        return false
    }

    /// Moves the teacher towards the student: θ_t ← m·θ_t + (1 − m)·θ_s.
    public func updateTeacher(momentum: Float) {
        guard let teacher else { return }
        updateMomentum(teacher: teacher.encoder, student: network.encoder, momentum: momentum)
        updateMomentum(teacher: teacher.projector, student: projector, momentum: momentum)
        if let l = teacher.lastLayer, let s = lastLayer { updateMomentum(teacher: l, student: s, momentum: momentum) }
    }

    /// Student projections of a batch (DINO: the logits after the normalised bottleneck).
    func project(_ x: Tensor) -> Tensor {
        let z = projector(network.encoder(x))
        if let lastLayer { return lastLayer(z.l2Normalized()) }
        return z
    }

    /// Teacher projections of a batch, without gradients.
    func teacherProject(_ x: Tensor) -> Tensor {
        guard let teacher else { return withoutGradients { project(x) } }
        return withoutGradients {
            let z = teacher.projector(teacher.encoder(x))
            if let l = teacher.lastLayer { return l(z.l2Normalized()) }
            return z
        }
    }
}
