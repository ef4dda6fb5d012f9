import Datasets
import Foundation
import Linalg
import NeuralNets

/// The outcome of one attempt to fit n samples.
public enum Verdict: String, Sendable, Codable {
    /// Reached the accuracy threshold.
    case fit
    /// Converged without fitting: the loss plateaued and the full-batch gradient is small.
    case noFit = "no-fit"
    /// The step budget ran out while the loss was still falling: no conclusion.
    case undecided
    /// The training loss became NaN or infinite: the procedure fails at this size through its
    /// instability, not by converging. Decided — a larger budget is not tried: it runs the same
    /// steps again (a constant schedule), or keeps a cosine schedule's rate high for longer — so
    /// it bounds a search as a failure does, and the EMC it ends says so (`EMCStatus.diverged`).
    case diverged
}

/// How one fit attempt trains: model, optimizer, budget and the tests for the verdict.
public struct FitProcedure: Sendable {
    public var arch: String
    public var initialization: Initialization = .torch
    public var train = TrainConfig()
    /// Train accuracy that counts as a fit (1 = perfect; the authors' code uses 0.995).
    public var threshold: Double = 1
    /// "Plateau": the loss fell by less than this fraction over the last quarter of training.
    public var plateauTolerance: Double = 0.01
    /// "Small gradient": the full-batch gradient norm at the end is at most this.
    public var gradientTolerance: Double = 0.01
    /// The largest step budget an undecided attempt is escalated to (`budgets`); nil: none.
    public var stepCap: Int? = nil
    /// Check a `no-fit` for curvature: the Hessian's extreme eigenvalues at the end
    /// (`hessianExtremes`); a clearly negative smallest one — below −`saddleTolerance` times the
    /// largest — is a saddle, and the attempt is `undecided` instead.
    public var curvatureCheck = false
    public var saddleTolerance = 0.01
    /// Train only d coordinates of a random subspace through the initialization (`Subspace`):
    /// θ = θ₀ + P z, P drawn from the attempt's seed. EMC per parameter is then per trained one.
    public var subspace: Int? = nil
    /// A model written in Swift (`ModelBuilder`), used in place of the spec; `arch` is then its
    /// name in reports.
    public var model: [any ModelPart]? = nil

    public init(arch: String) {
        self.arch = arch
        train.targetAccuracy = 1
    }

    /// A procedure for a model written in Swift, named `name` in reports:
    /// `FitProcedure(name: "res-mlp") { Dense(32); ReLU(); Residual { Dense(32); Tanh() }; Dense(10) }`.
    public init(name: String, @ModelBuilder model: () -> [any ModelPart]) {
        self.init(arch: name)
        self.model = model()
    }

    /// The untrained network for samples of `shape`: from the model where there is one, else the spec.
    public func network(for shape: [Int]) throws -> Network<Float> {
        guard let model else { return try Network<Float>(spec: arch, inputShape: shape) }
        return try Network<Float>(layers: try buildLayers(input: shape, model), inputShape: shape, name: arch)
    }
}

extension FitProcedure {
    /// Checks that the model takes `data`'s samples and has an output for each of its classes,
    /// and that every input is finite, before anything trains (a subset without the highest
    /// label would otherwise train and a larger one fail; a NaN input would make every attempt
    /// that holds it `diverged`, a verdict on the data rather than on the procedure); returns how
    /// many parameters are trained: the model's parameter count, or the subspace's dimension
    /// where there is one.
    @discardableResult
    public func check(_ data: LabeledData<Float>) throws -> Int {
        if let i = data.x.scalars.firstIndex(where: { !$0.isFinite }) {
            let sample = i / max(1, data.sampleShape.reduce(1, *))
            throw NetworkError.invalidArgument("sample \(sample) of the data has a non-finite input (\(data.x.scalars[i])): every attempt that holds it would diverge. Clean the data or drop that sample")
        }
        let net = try network(for: data.sampleShape)
        let top = data.labels.max() ?? 0
        guard top < net.outputSize else {
            throw NetworkError.shapeMismatch("the data has labels up to \(top) but \(arch) has \(net.outputSize) output(s): give the model at least \(top + 1) outputs, or merge classes")
        }
        guard let d = subspace else { return net.parameterCount }
        guard d >= 1, d < net.parameterCount else {
            throw NetworkError.invalidArgument("a subspace of dimension \(d): it must be between 1 and \(net.parameterCount - 1), below \(arch)'s \(net.parameterCount) parameters (train without one for all of them)")
        }
        guard !curvatureCheck else {
            throw NetworkError.invalidArgument("the curvature check works in the full parameter space; it cannot be combined with subspace training")
        }
        return d
    }
}

/// What one attempt measured.
public struct FitResult: Sendable, Codable, Equatable {
    public var n: Int
    public var seed: UInt64
    public var verdict: Verdict
    /// The training loss at the end (+∞ where the attempt diverged; its accuracy is then 0, its
    /// gradient norm +∞, and `steps` the step it diverged at).
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var gradientNorm: Double
    public var steps: Int
    public var seconds: Double
    /// The step budget the attempt ran under (`steps` ≤ `budget`).
    public var budget: Int
    /// The training loss's smallest and largest Hessian eigenvalues at the end, where the
    /// curvature check ran (a converged failure, or the saddle it turned out to be).
    public var hessianMin: Double? = nil
    public var hessianMax: Double? = nil
    /// The kernels that computed it (`Engine.arithmetic`), whose rounding decides an attempt at
    /// the edge of fitting; nil where a store written before it was recorded does not say.
    public var arithmetic: String? = nil

    public init(n: Int, seed: UInt64, verdict: Verdict, trainLoss: Double, trainAccuracy: Double,
                gradientNorm: Double, steps: Int, seconds: Double, budget: Int = 0, hessian: (min: Double?, max: Double?) = (nil, nil),
                arithmetic: String? = nil) {
        self.n = n; self.seed = seed; self.verdict = verdict; self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy; self.gradientNorm = gradientNorm; self.steps = steps; self.seconds = seconds
        self.budget = budget
        (hessianMin, hessianMax) = hessian
        self.arithmetic = arithmetic
    }
}

/// A fresh network (initialized from `seed`) trained by the procedure on `data` until the
/// threshold or the budget; in the procedure's subspace (returned) where it has one.
func trainFresh(_ data: LabeledData<Float>, procedure p: FitProcedure, seed: UInt64,
                ws: Workspace<Float>) throws -> (Network<Float>, TrainResult, Subspace<Float>?) {
    let (net, r, subspace, _) = try trainAttempt(data, procedure: p, seed: seed, ws: ws, from: nil)
    return (net, r, subspace)
}

/// An attempt's network where one budget stopped, to go on under the next: see
/// `attemptFit(_:procedure:seed:continuing:)`.
public struct AttemptState {
    var net: Network<Float>
    var progress: TrainProgress<Float>
    var subspace: Subspace<Float>?
    var n: Int, seed: UInt64
    /// The step the last budget stopped at.
    public var step: Int { progress.step }
    /// Steps trained for this attempt in this process, over all its budgets: the last budget's
    /// where every budget went on from the one before, more where one started again.
    public internal(set) var stepsTrained: Int
}

/// The procedure trained on `data` from `seed`'s initialization, or on from `state` where given.
func trainAttempt(_ data: LabeledData<Float>, procedure p: FitProcedure, seed: UInt64, ws: Workspace<Float>,
                  from state: AttemptState?) throws -> (Network<Float>, TrainResult, Subspace<Float>?, TrainProgress<Float>) {
    var config = p.train
    config.targetAccuracy = p.threshold
    config.seed = seed
    if let state {
        var net = state.net
        let (r, stopped) = try train(&net, x: data.x, y: .classes(data.labels32), config: config, ws: ws,
                                     subspace: state.subspace, from: state.progress)
        return (net, r, state.subspace, stopped)
    }
    var net = try p.network(for: data.sampleShape)
    net.initialize(p.initialization, rng: RNG(seed: seed))
    let subspace = p.subspace.map { Subspace(origin: net.parameters, dimension: $0, rng: RNG(seed: seed).split(0x5B5_ACE)) }
    let (r, stopped) = try train(&net, x: data.x, y: .classes(data.labels32), config: config, ws: ws, subspace: subspace, from: nil)
    return (net, r, subspace, stopped)
}

/// One fit attempt on `data`, with its verdict.
public func attemptFit(_ data: LabeledData<Float>, procedure p: FitProcedure, seed: UInt64) throws -> FitResult {
    var state: AttemptState? = nil
    return try attemptFit(data, procedure: p, seed: seed, continuing: &state)
}

/// One fit attempt on `data`, going on from `state` — the same attempt under a smaller budget —
/// where the procedure continues exactly (`FitProcedure.continuesExactly`), else from the start.
/// On return `state` is where this budget stopped if it stopped undecided and can go on, else nil.
/// The result is the one a run from the start gives, bit for bit; `seconds` counts this run only.
public func attemptFit(_ data: LabeledData<Float>, procedure p: FitProcedure, seed: UInt64,
                       continuing state: inout AttemptState?) throws -> FitResult {
    let start = DispatchTime.now().uptimeNanoseconds
    let ws = Workspace<Float>()
    let from = state.flatMap { s in
        p.continuesExactly && s.n == data.count && s.seed == seed && s.progress.step < p.train.maxSteps ? s : nil
    }
    let run: (net: Network<Float>, r: TrainResult, subspace: Subspace<Float>?, stopped: TrainProgress<Float>)
    do {
        run = try trainAttempt(data, procedure: p, seed: seed, ws: ws, from: from)
    } catch NetworkError.diverged(let step, _) {
        // Nothing to measure on a network of NaNs: the loss is +∞ (a NaN could not be stored),
        // nothing counts as fitted, and the gradient is not computed.
        state = nil
        return FitResult(n: data.count, seed: seed, verdict: .diverged, trainLoss: .infinity, trainAccuracy: 0,
                         gradientNorm: .infinity, steps: step, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                         budget: p.train.maxSteps, arithmetic: Engine.arithmetic)
    }
    var (net, r, subspace, stopped) = run
    // Kept before the verdict's passes touch the network (they restore it, but the next budget
    // must start from exactly where training stopped).
    let trained = (from?.stepsTrained ?? 0) + stopped.stepsRun
    state = p.continuesExactly && r.stopReason == .budget
        ? AttemptState(net: net, progress: stopped, subspace: subspace, n: data.count, seed: seed, stepsTrained: trained) : nil
    // The gradient of the objective training descends: with batch norm, each group of the
    // procedure's batch size normalized by its own statistics (all n samples for full batch),
    // not by the running estimates — which also bounds the pass's memory by the training's;
    // in a subspace, with respect to its coordinates (Pᵀ∇θ).
    var (_, g) = try net.lossAndGradient(data.x, .classes(data.labels32), loss: p.train.loss, ws: ws, batchStatistics: true,
                                         normalizationGroup: p.train.batchSize)
    if let subspace {
        var gz = [Float](repeating: 0, count: subspace.dimension)
        subspace.gradient(g, into: &gz)
        g = gz
    }
    let gradientNorm = Double(g.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot())
    let accuracy = r.finalAccuracy ?? 0
    var verdict: Verdict
    if accuracy >= p.threshold {
        verdict = .fit
    } else if plateaued(r.history, tolerance: p.plateauTolerance) && gradientNorm <= p.gradientTolerance {
        verdict = .noFit
    } else {
        verdict = .undecided
    }
    var curvature: (smallest: Double, largest: Double)? = nil
    if verdict == .noFit && p.curvatureCheck {
        let c = try hessianExtremes(net, x: data.x, y: .classes(data.labels32), loss: p.train.loss, seed: seed,
                                    normalizationGroup: p.train.batchSize)
        if c.smallest < -p.saddleTolerance * abs(c.largest) { verdict = .undecided }   // a saddle: not converged
        curvature = c
    }
    var result = FitResult(n: data.count, seed: seed, verdict: verdict, trainLoss: r.finalLoss, trainAccuracy: accuracy,
                           gradientNorm: gradientNorm, steps: r.steps,
                           seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, budget: p.train.maxSteps,
                           arithmetic: Engine.arithmetic)
    (result.hessianMin, result.hessianMax) = (curvature?.smallest, curvature?.largest)
    if verdict != .undecided { state = nil }
    return result
}

/// True when the loss fell by less than `tolerance` (relative) over the last quarter of the
/// recorded steps; a history too short to tell is not a plateau.
func plateaued(_ history: [TrainRecord], tolerance: Double) -> Bool {
    guard let last = history.last, last.step > 0, history.count >= 4 else { return false }
    let cut = last.step - max(1, last.step / 4)
    guard let earlier = history.last(where: { $0.step <= cut }) else { return false }
    return earlier.loss - last.loss <= tolerance * max(abs(earlier.loss), 1e-12)
}
