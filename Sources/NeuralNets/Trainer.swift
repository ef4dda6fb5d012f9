import Linalg

/// How to train: objective, optimizer, batches, budget and stopping rule.
public struct TrainConfig: Sendable {
    public var loss: Loss = .crossEntropy
    public var optimizer: OptimizerKind = .sgd(momentum: 0.9)
    public var learningRate: Double = 0.01
    public var schedule: Schedule = .constant
    /// nil: full batch (gradient descent on all n samples each step).
    public var batchSize: Int? = 128
    /// The step budget.
    public var maxSteps: Int = 1000
    /// Seeds the shuffling and dropout (initialization is the caller's).
    public var seed: UInt64 = 0
    /// Stop when train accuracy (a fraction in [0, 1]) reaches this.
    public var targetAccuracy: Double? = nil
    /// Stop when the mean train loss falls to this.
    public var targetLoss: Double? = nil
    /// Evaluate the whole training set every this many steps (default: once per epoch).
    public var evaluateEvery: Int? = nil
    /// Stop when the best evaluated train loss fell by less than this fraction over the last
    /// window of steps (read at evaluations, so a window spans whole `evaluateEvery` periods).
    public var plateau: Plateau? = nil

    public init() {}
}

/// A plateau rule: the best train loss seen must fall by at least `decrease` (a fraction) every
/// `window` steps. The best, not the last: with dropout the evaluated loss wanders, and a
/// wandering loss that no longer improves has converged as far as this training goes.
public struct Plateau: Sendable, Equatable {
    public var window: Int
    public var decrease: Double
    public init(window: Int, decrease: Double) { self.window = window; self.decrease = decrease }
}

public enum StopReason: String, Sendable, Codable {
    case targetAccuracy = "target-accuracy"
    case targetLoss = "target-loss"
    /// The loss stopped falling (`TrainConfig.plateau`).
    case plateau
    case budget
}

public struct TrainRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var loss: Double
    public var accuracy: Double?
}

public struct TrainResult: Sendable {
    public var steps: Int
    public var stopReason: StopReason
    /// Loss and accuracy on the whole training set at the last evaluation.
    public var finalLoss: Double
    public var finalAccuracy: Double?
    public var history: [TrainRecord]
}

// `train` and Network's predict, evaluate, lossAndGradient (tensors) and jacobian are exported
// specialized for Float and Double: without cross-module optimization a caller in another module
// (Capacity, Recovery, an outside package) would run the generic loop unspecialized, 5–7× slower.

/// Mini-batch training from a given initialization. Deterministic for a seed: the batch order
/// comes from `config.seed`, BLAS runs single-threaded and every kernel is sequential.
///
/// Throws `NetworkError.diverged` as soon as a batch loss is NaN or infinite.
///
/// With `subspace`, only its coordinates z are trained (from 0): the parameters are set to
/// θ₀ + P z before the first step and after every update, and the optimizer sees Pᵀ ∇θ.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func train<T: Scalar>(
    _ net: inout Network<T>, x: Tensor<T>, y: Supervision<T>, config c: TrainConfig,
    ws: Workspace<T> = Workspace(), subspace: Subspace<T>? = nil, progress: ((TrainRecord) -> Void)? = nil
) throws -> TrainResult {
    try train(&net, x: x, y: y, config: c, ws: ws, subspace: subspace, from: nil, progress: progress).result
}

/// `train`, going on from where an earlier run on the same network and data stopped (`from`, as
/// it returned it; nil: from the start), and returning where this one stopped. Going on to a
/// larger budget gives the bits of one run under that budget from the start, where no step
/// depends on the budget; it throws where the training differs in anything but its budget.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func train<T: Scalar>(
    _ net: inout Network<T>, x: Tensor<T>, y: Supervision<T>, config c: TrainConfig,
    ws: Workspace<T> = Workspace(), subspace: Subspace<T>? = nil, from start: TrainProgress<T>?,
    progress: ((TrainRecord) -> Void)? = nil
) throws -> (result: TrainResult, stopped: TrainProgress<T>) {
    let n = try net.checkInput(x)
    try net.checkTargets(y, n: n, loss: c.loss)
    guard n > 0 else { throw NetworkError.invalidArgument("cannot train on an empty dataset") }
    guard c.maxSteps >= 0 else { throw NetworkError.invalidArgument("the step budget must be ≥ 0") }
    guard c.learningRate.isFinite, c.learningRate > 0 else { throw NetworkError.invalidArgument("the learning rate must be positive, got \(c.learningRate)") }
    if let p = c.plateau, !(p.window >= 1 && p.decrease >= 0 && p.decrease < 1) {
        throw NetworkError.invalidArgument("a plateau rule needs a window ≥ 1 step and a decrease in [0, 1), got \(p.window) and \(p.decrease)")
    }
    let batch = min(c.batchSize ?? n, n)
    guard batch > 0 else { throw NetworkError.invalidArgument("the batch size must be positive") }
    let stepsPerEpoch = (n + batch - 1) / batch
    let evalEvery = c.evaluateEvery ?? stepsPerEpoch
    if let start {
        guard start.continues(under: c), start.z.count == (subspace?.dimension ?? 0) else {
            throw NetworkError.invalidArgument("cannot go on from step \(start.step) of that run: only a run its budget stopped goes on, under a larger budget of the same training without a plateau rule")
        }
        guard start.history.last.map({ $0.step == start.step }) == true else {
            throw NetworkError.invalidArgument("cannot go on from a run without a record of the step it stopped at")
        }
    }
    var opt = start?.optimizer ?? Optimizer<T>(c.optimizer, learningRate: c.learningRate, schedule: c.schedule)
    let rng = RNG(seed: c.seed)
    let inSize = net.inputSize, outSize = net.outputSize
    let xb = ws.scratch(2, batch < n ? batch * inSize : 1)
    let tb = ws.scratch(3, batch < n ? batch * outSize : 1)
    var lb = [Int32](repeating: 0, count: batch)
    var order = Array(0..<n)
    // A resumed run drops the record of the step it stopped at: the run from the start has it
    // only at an evaluation step, and the loop below makes it again if so (the same bits).
    var history = start.map { Array($0.history.dropLast()) } ?? []
    if let subspace { precondition(subspace.origin.count == net.parameterCount, "train: the subspace is another network's") }
    var z = start?.z ?? [T](repeating: 0, count: subspace?.dimension ?? 0), gz = z
    subspace?.parameters(z, into: &net.parameters)
    func update() {
        guard let subspace else { return opt.update(&net.parameters, net.gradients) }
        subspace.gradient(net.gradients, into: &gz)
        opt.update(&z, gz)
        subspace.parameters(z, into: &net.parameters)
    }

    func evaluate(_ step: Int) throws -> TrainRecord {
        let (l, a) = try net.evaluate(x, y, loss: c.loss, ws: ws)
        guard l.isFinite else { throw NetworkError.diverged(step: step, loss: l) }
        let r = TrainRecord(step: step, loss: l, accuracy: a)
        history.append(r)
        progress?(r)
        return r
    }
    func reached(_ r: TrainRecord) -> StopReason? {
        if let t = c.targetAccuracy, let a = r.accuracy, a >= t { return .targetAccuracy }
        if let t = c.targetLoss, r.loss <= t { return .targetLoss }
        return nil
    }
    // The plateau rule's state: the best loss so far, and the best when the window began.
    var best = Double.infinity, windowBest = Double.infinity, windowStart = 0
    func plateaued(_ r: TrainRecord) -> Bool {
        guard let p = c.plateau else { return false }
        best = min(best, r.loss)
        if windowBest == .infinity { windowBest = best; windowStart = r.step; return false }
        guard r.step - windowStart >= p.window else { return false }
        if best > windowBest * (1 - p.decrease) { return true }
        windowBest = best; windowStart = r.step
        return false
    }
    func done(_ r: TrainRecord) -> StopReason? { reached(r) ?? (plateaued(r) ? .plateau : nil) }

    // Full-batch gradient descent without dropout or batch norm: the forward pass of each step
    // is the evaluation of the parameters it starts from, so one pass per step serves both (the
    // general path would run a second, evaluation-only pass over the same data). Being free,
    // the stopping rule is checked at every step; records are kept every `evaluateEvery`.
    var hasDropout = false
    net.forEachNode { if case .dropout = $0.layer { hasDropout = true } }
    if batch == n && !hasDropout && !net.hasBatchNorm, case let .classes(labels) = y {
        var correct = 0
        var step = start?.step ?? 0
        // The data copied once onto cache lines, as a gathered mini-batch is: the AVX-512
        // products read the input's rows with vector loads, which a Swift array's 16-byte
        // alignment splits across two lines ((a) and (b): 1–4% per step).
        let xa = ws.scratch(5, n * inSize)
        x.scalars.withUnsafeBufferPointer { xa.update(from: $0.baseAddress!, count: n * inSize) }
        return try labels.withUnsafeBufferPointer { l in
            while true {
                let loss = net.lossAndGradient(xa, batch: n, targets: .classes(l), loss: c.loss, ws: ws,
                                               training: false, correct: &correct)
                guard loss.isFinite else { throw NetworkError.diverged(step: step, loss: Double(loss)) }
                let r = TrainRecord(step: step, loss: Double(loss), accuracy: Double(correct) / Double(n))
                // The plateau rule reads the loss at evaluations only, as the general path does.
                let why = (step % evalEvery == 0 ? done(r) : reached(r)) ?? (step == c.maxSteps ? .budget : nil)
                if step % evalEvery == 0 || why != nil { history.append(r); progress?(r) }
                if let why {
                    return (TrainResult(steps: step, stopReason: why, finalLoss: r.loss, finalAccuracy: r.accuracy, history: history),
                            TrainProgress(step: step, optimizer: opt, history: history, z: z, config: c, stoppedBy: why,
                                          stepsRun: step - (start?.step ?? 0)))
                }
                update()
                step += 1
            }
        }
    }

    var step = start?.step ?? 0
    func stopped(_ why: StopReason, _ r: TrainRecord) -> (TrainResult, TrainProgress<T>) {
        (TrainResult(steps: step, stopReason: why, finalLoss: r.loss, finalAccuracy: r.accuracy, history: history),
         TrainProgress(step: step, optimizer: opt, history: history, z: z, config: c, stoppedBy: why, stepsRun: step - (start?.step ?? 0)))
    }
    var last: TrainRecord
    if let start, let r = start.history.last {
        // Mid-run: the record at this step stays only where the run from the start evaluates
        // (at an evaluation step, or at the end of an unchanged budget).
        last = r
        if step % evalEvery == 0 || step == c.maxSteps { history.append(r) }
        if batch < n { var epoch = rng.split(UInt64(step / stepsPerEpoch)); order = epoch.permutation(n) }
    } else {
        last = try evaluate(0)
        if let why = done(last) { return stopped(why, last) }
    }
    while step < c.maxSteps {
        let pos = step % stepsPerEpoch
        if pos == 0 && batch < n {
            var r = rng.split(UInt64(step / stepsPerEpoch))
            order = r.permutation(n)
        }
        let lo = pos * batch, hi = min(lo + batch, n)
        let b = hi - lo
        // Gather the batch into contiguous scratch so every layer sees one dense block; a full
        // batch is the dataset itself, in order, and needs no copy.
        let full = b == n
        let dropRNG = rng.split(0x8000_0000 | UInt64(step))
        let loss: T = x.scalars.withUnsafeBufferPointer { xs in
            if !full {
                for (k, i) in order[lo..<hi].enumerated() {
                    (xb + k * inSize).update(from: xs.baseAddress! + i * inSize, count: inSize)
                }
            }
            let input = full ? xs.baseAddress! : UnsafePointer(xb)
            switch y {
            case let .classes(labels):
                if full {
                    return labels.withUnsafeBufferPointer { l in
                        net.lossAndGradient(input, batch: b, targets: .classes(l), loss: c.loss, ws: ws, rng: dropRNG)
                    }
                }
                for (k, i) in order[lo..<hi].enumerated() { lb[k] = labels[i] }
                return lb.withUnsafeBufferPointer { l in
                    net.lossAndGradient(input, batch: b, targets: .classes(UnsafeBufferPointer(rebasing: l[0..<b])), loss: c.loss, ws: ws, rng: dropRNG)
                }
            case let .values(v):
                return v.scalars.withUnsafeBufferPointer { vs in
                    if full {
                        return net.lossAndGradient(input, batch: b, targets: .values(vs.baseAddress!), loss: c.loss, ws: ws, rng: dropRNG)
                    }
                    for (k, i) in order[lo..<hi].enumerated() {
                        (tb + k * outSize).update(from: vs.baseAddress! + i * outSize, count: outSize)
                    }
                    return net.lossAndGradient(input, batch: b, targets: .values(tb), loss: c.loss, ws: ws, rng: dropRNG)
                }
            }
        }
        guard loss.isFinite else { throw NetworkError.diverged(step: step + 1, loss: Double(loss)) }
        update()
        step += 1
        if step % evalEvery == 0 || step == c.maxSteps {
            last = try evaluate(step)
            if let why = done(last) { return stopped(why, last) }
        }
    }
    return stopped(.budget, last)
}
