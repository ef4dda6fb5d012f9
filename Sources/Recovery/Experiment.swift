import Foundation
import Linalg
import NeuralNets

/// A target function f* = f(·; θ_T) of a fixed narrow network (the teacher).
public struct TargetFunction: Sendable {
    public var name: String
    public var spec: String
    public var theta: [Double]
    /// Where inputs are drawn: nil for standard Gaussian entries, else uniform on this interval.
    public var inputRange: ClosedRange<Double>? = nil
    /// Training inputs evenly spaced over `inputRange` instead of drawn (one input only; the
    /// ends included, so n inputs are lo + (hi − lo)·i/(n − 1)); the test inputs stay uniform.
    /// The same for every seed, which then varies the initialization (and dropout) alone.
    public var gridTraining = false

    public init(name: String, spec: String, theta: [Double], inputRange: ClosedRange<Double>? = nil) throws {
        self.inputRange = inputRange
        let net = try RecoveryModel(spec: spec)
        guard theta.count == net.parameterCount else {
            throw RecoveryError("target \(name): θ has \(theta.count) entries, \(spec) has \(net.parameterCount) parameters")
        }
        self.name = name; self.spec = spec; self.theta = theta
    }

    /// f*(x) = Σ_{i≤k} tanh(wᵢ·x) on d inputs, ‖wᵢ‖ = norm along random directions, output weights 1
    /// (the quick default of llr.md: d = 2, k = 2, ‖w‖ = 2).
    public static func tanhTeacher(inputs d: Int, width k: Int, norm: Double = 2, seed: UInt64 = 0) throws -> TargetFunction {
        var r = RNG(seed: seed).split(0x7EAC)
        var theta = [Double]()
        for _ in 0..<k {
            let w: [Double] = r.normals(d)
            let len = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            theta += w.map { $0 / len * norm }
        }
        theta += [Double](repeating: 1, count: k)
        return try TargetFunction(name: "Σ_{i≤\(k)} tanh(wᵢ·x), d = \(d), ‖wᵢ‖ = \(norm)", spec: "mlp:\(d)-\(k)-1:tanh:nobias", theta: theta)
    }

    public var model: RecoveryModel { try! RecoveryModel(spec: spec) }
    public var inputWidth: Int { model.inputWidth }

    public func evaluate(_ x: Tensor<Double>) throws -> [Double] { try model.evaluate(theta, x) }

    /// The teacher's own model rank at θ_T. For activations with σ(0) = 0 (tanh, and odd ones) it
    /// equals the rank of any wider student of the same family at the null-embedded point: null
    /// neurons contribute only zero functions to the tangent space. This is the dashed line.
    public func rank(seed: UInt64 = 0) throws -> RankReport {
        try modelRank(model, spec: spec, target: .random, targetName: name, theta: theta, seed: seed)
    }
}

/// How a student is trained on n samples of the target.
public struct RecoveryProcedure: Sendable, Equatable {
    /// gd: full-batch GD at a fixed step; sgd: mini-batches of `batchSize`; adam (full batch);
    /// gd-adaptive: full-batch GD that sets its own step and stops on a plateau (Convergence.swift).
    public enum Method: String, Sendable, CaseIterable { case gd, sgd, adam, gdAdaptive = "gd-adaptive" }
    public var method: Method = .gd
    public var learningRate = 0.3
    public var steps = 30_000
    /// Standard deviation of the Gaussian initialization (small: the regime where recovery happens).
    public var initStd = 1e-8
    /// Dropout rate after each hidden activation (0: none).
    public var dropout = 0.0
    /// Stop once the train MSE is this small.
    public var targetTrainMSE = 1e-20
    public var testSize = 1000
    /// gd-adaptive stops when the loss fell by less than this fraction over this many gradient
    /// evaluations.
    public var plateauWindow = 20_000
    public var plateauDecrease = 1e-3
    /// gd, sgd and adam stop on the same plateau rule too (read on the train MSE without
    /// dropout, every 1% of the budget) when this is on; gd-adaptive always does.
    public var stopOnPlateau = false
    /// Samples per step of sgd (the others use all n).
    public var batchSize = 4
    /// gd-adaptive only: once the train MSE is at or below this, GD hands over to Gauss–Newton
    /// steps toward the point GD converges to (GaussNewtonFinish.swift); nil: GD to the end.
    public var finishBelow: Double? = nil
    /// Draw every seed's training inputs from this seed instead of the run's own, so that the
    /// seed varies the initialization (and dropout or batches) alone: separates a failure that
    /// follows the data from one that follows the initialization. nil: each seed its own draw.
    public var dataSeed: UInt64? = nil

    public init() {}

    /// Settings that change a run's outcome, as strings (the store keys a run by them; the
    /// plateau's only for the method that reads it, so the others' keys stay as they were).
    public var key: [String: String] {
        var k = ["method": method.rawValue, "lr": "\(learningRate)", "steps": "\(steps)", "init-std": "\(initStd)",
                 "dropout": "\(dropout)", "target-mse": "\(targetTrainMSE)", "test-size": "\(testSize)"]
        if method == .gdAdaptive || stopOnPlateau { k["plateau"] = "\(plateauDecrease)/\(plateauWindow)" }
        if method == .sgd { k["batch"] = "\(batchSize)" }
        if method == .gdAdaptive, let f = finishBelow { k["finish"] = "gauss-newton below \(f)" }
        if let d = dataSeed { k["data-seed"] = "\(d)" }
        return k
    }
}

/// One student trained on the first n samples of one seed's draw.
public struct RecoveryRun: Sendable, Codable, Equatable {
    public var n: Int
    public var seed: UInt64
    /// Mean squared errors at the end of training (+∞ when the run diverged).
    public var trainMSE: Double
    public var testMSE: Double
    public var steps: Int
    public var seconds: Double
    public var diverged: Bool
    /// The student as trained: tangent spectrum and condensation (nil for a diverged run, and
    /// for runs stored before these were measured).
    public var measures: RunMeasures?

    public init(n: Int, seed: UInt64, trainMSE: Double, testMSE: Double, steps: Int, seconds: Double, diverged: Bool,
                measures: RunMeasures? = nil) {
        self.n = n; self.seed = seed; self.trainMSE = trainMSE; self.testMSE = testMSE; self.steps = steps
        self.seconds = seconds; self.diverged = diverged; self.measures = measures
    }
}

/// Where finished runs are kept, so that a re-run skips them (the Lab's store implements it).
public protocol RecoveryCache {
    func cachedRun(n: Int, seed: UInt64) throws -> RecoveryRun?
    func saveRun(_ run: RecoveryRun) throws
}

/// The n training inputs of a seed: rows of standard Gaussian (or uniform, with a range)
/// entries, the first n of one stream, so the sets of one seed are nested. The test inputs are
/// one fixed draw, shared by every seed.
func recoveryInputs(_ count: Int, width: Int, shape: [Int], seed: UInt64?, range: ClosedRange<Double>?) -> Tensor<Double> {
    var r = seed.map { RNG(seed: $0).split(0xDA7A) } ?? RNG(seed: 0x7E57_5E7)
    guard let range else { return Tensor(shape: [count] + shape, scalars: r.normals(count * width)) }
    let values = (0..<count * width).map { _ in range.lowerBound + (range.upperBound - range.lowerBound) * r.uniform() }
    return Tensor(shape: [count] + shape, scalars: values)
}

/// The n training inputs of a seed for `target`, shaped [n] + `shape` (the student's input
/// shape): drawn as `recoveryInputs` does, or on the target's grid.
public func trainingInputs(_ target: TargetFunction, n: Int, seed: UInt64, shape: [Int]) throws -> Tensor<Double> {
    let width = shape.reduce(1, *)
    guard target.gridTraining else { return recoveryInputs(n, width: width, shape: shape, seed: seed, range: target.inputRange) }
    guard let r = target.inputRange, width == 1 else { throw RecoveryError("grid training inputs need a target of one input on an interval") }
    let step = n > 1 ? (r.upperBound - r.lowerBound) / Double(n - 1) : 0
    return Tensor(shape: [n] + shape, scalars: (0..<n).map { n > 1 ? r.lowerBound + step * Double($0) : (r.lowerBound + r.upperBound) / 2 })
}

/// The untrained student of `spec` for `target`: one that maps the target's inputs to one output,
/// or an error that says what it maps instead.
public func studentNetwork(_ spec: String, for target: TargetFunction) throws -> Network<Double> {
    let net = try Network<Double>(spec: spec)
    guard net.outputSize == 1, net.inputSize == target.inputWidth else {
        throw RecoveryError("student \(spec) must map the target's \(target.inputWidth) input(s) to one output; this one maps \(net.inputSize) to \(net.outputSize)")
    }
    // Targets take vectors; an image-shaped student of the same size would fail later, in the
    // target's evaluation, with a message about the target.
    guard net.inputShape.count == 1 else {
        throw RecoveryError("student \(spec) takes inputs of shape \(Array(net.inputShape)); a target takes vectors of \(target.inputWidth) (use mlp, conv1d or local1d)")
    }
    return net
}

/// Trains a fresh student (`spec`, initialized from `seed`) on n samples of the target, in Double.
public func recoveryRun(student spec: String, target: TargetFunction, n: Int, seed: UInt64,
                        procedure p: RecoveryProcedure) throws -> RecoveryRun {
    let started = DispatchTime.now().uptimeNanoseconds
    var studentSpec = spec
    if p.dropout > 0 { studentSpec += ":dropout\(p.dropout)" }
    var net = try studentNetwork(studentSpec, for: target)
    net.initialize(.gaussian(std: p.initStd), rng: RNG(seed: seed))
    let shape = Array(net.inputShape)
    let x = try trainingInputs(target, n: n, seed: p.dataSeed ?? seed, shape: shape)
    let y = Tensor(shape: [n, 1], scalars: try target.evaluate(x))
    let xt = recoveryInputs(p.testSize, width: net.inputSize, shape: shape, seed: nil, range: target.inputRange)
    let yt = try target.evaluate(xt)
    var config = TrainConfig()
    config.loss = .meanSquaredError
    config.optimizer = p.method == .adam ? .adam() : .sgd()
    config.learningRate = p.learningRate
    config.batchSize = p.method == .sgd ? p.batchSize : nil
    config.maxSteps = p.steps
    config.targetLoss = p.targetTrainMSE
    config.seed = seed
    config.evaluateEvery = max(1, p.steps / 100)
    if p.stopOnPlateau { config.plateau = Plateau(window: p.plateauWindow, decrease: p.plateauDecrease) }
    let seconds = { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
    do {
        var steps = 0
        if p.method == .gdAdaptive {
            guard p.dropout == 0 else { throw RecoveryError("gd-adaptive needs a deterministic loss: train with dropout by gd or adam") }
            let (s, diverged) = try trainAdaptiveGD(&net, x: x, y: y, procedure: p)
            if diverged { throw NetworkError.diverged(step: s, loss: .infinity) }
            steps = s
        } else {
            steps = try train(&net, x: x, y: .values(y), config: config).steps
        }
        // Dropout is off when measuring: the function the student computes.
        let train = try net.evaluate(x, .values(y), loss: .meanSquaredError).loss
        let pred = try net.predict(xt).scalars
        let test = zip(pred, yt).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(max(yt.count, 1))
        guard train.isFinite, test.isFinite else { throw NetworkError.diverged(step: steps, loss: train) }
        // On the test inputs: one fixed draw for every seed and n, so spectra compare across runs.
        let measures = try endOfTraining(net, inputs: xt)
        return RecoveryRun(n: n, seed: seed, trainMSE: train, testMSE: test, steps: steps, seconds: seconds(), diverged: false,
                           measures: measures)
    } catch NetworkError.diverged(let step, _) {
        return RecoveryRun(n: n, seed: seed, trainMSE: .infinity, testMSE: .infinity, steps: step, seconds: seconds(), diverged: true)
    }
}

/// One row of a recovery grid: a student and how it is trained.
public struct RecoveryRow: Sendable {
    public var label: String
    public var student: String
    public var procedure: RecoveryProcedure
    /// The target written as the narrowest net of this student's family, when that family
    /// differs from the target's own (a CNN target learned by a locally connected student): its
    /// model rank is this row's optimistic sample size.
    public var familyTarget: TargetFunction?
    public init(label: String, student: String, procedure: RecoveryProcedure, familyTarget: TargetFunction? = nil) {
        self.label = label; self.student = student; self.procedure = procedure; self.familyTarget = familyTarget
    }
}

/// Median train and test error of one (row, n) cell over the seeds.
public struct RecoveryCell: Sendable, Codable {
    public var row: String
    public var n: Int
    public var medianTrainMSE: Double
    public var medianTestMSE: Double
    public var runs: [RecoveryRun]
}

public struct RecoveryResult: Sendable {
    public var target: String
    /// The optimistic sample size O per row: the model rank of the target in the row's family.
    public var optimisticSizes: [Int]
    /// O when every row shares it (else nil).
    public var optimisticSize: Int? { Set(optimisticSizes).count == 1 ? optimisticSizes.first : nil }
    public var rows: [RecoveryRow]
    public var parameters: [Int]   // per row
    public var sizes: [Int]
    public var cells: [[RecoveryCell]]   // [row][size]

    /// The smallest n from which the median test error stays at or below `threshold` for every larger n.
    public func recoveredFrom(row: Int, threshold: Double) -> Int? {
        var from: Int? = nil
        for c in cells[row] {
            if c.medianTestMSE <= threshold { from = from ?? c.n } else { from = nil }
        }
        return from
    }
}

/// Every (row, n, seed) run of a grid, side by side on `workers` threads; each finished run is
/// saved to its row's cache at once, and runs already there are read back instead of repeated.
public func runRecoveryGrid(target: TargetFunction, rows: [RecoveryRow], sizes: [Int], seeds: Int,
                            caches: [RecoveryCache?]? = nil,
                            workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                            progress: ((RecoveryRow, RecoveryRun, Int, Int) -> Void)? = nil) throws -> RecoveryResult {
    guard !rows.isEmpty, !sizes.isEmpty, seeds >= 1 else { throw RecoveryError("a recovery grid needs rows, sizes and at least one seed") }
    guard sizes.allSatisfy({ $0 >= 1 }) else { throw RecoveryError("sample sizes must be ≥ 1, got \(sizes)") }
    let parameters = try rows.map { try Network<Double>(spec: $0.student).parameterCount }
    let targetRank = try target.rank().modelRank
    let O = try rows.map { try $0.familyTarget?.rank().modelRank ?? targetRank }
    let jobs = rows.indices.flatMap { r in sizes.indices.flatMap { s in (0..<seeds).map { (r, s, UInt64($0)) } } }
    var runs = [RecoveryRun?](repeating: nil, count: jobs.count)
    var next = 0, done = 0
    var firstError: Error? = nil
    let lock = NSLock()
    func work() {
        while true {
            let j: Int? = lock.withLock {
                guard firstError == nil, next < jobs.count else { return nil }
                defer { next += 1 }
                return next
            }
            guard let j else { return }
            let (r, s, seed) = jobs[j]
            do {
                let cache = caches?[r]
                let run: RecoveryRun
                if let hit = try lock.withLock({ try cache?.cachedRun(n: sizes[s], seed: seed) }) {
                    run = hit
                } else {
                    run = try recoveryRun(student: rows[r].student, target: target, n: sizes[s], seed: seed, procedure: rows[r].procedure)
                    try lock.withLock { try cache?.saveRun(run) }
                }
                lock.withLock {
                    runs[j] = run
                    done += 1
                    progress?(rows[r], run, done, jobs.count)
                }
            } catch {
                lock.withLock { if firstError == nil { firstError = error } }
            }
        }
    }
    let threads = max(1, min(workers, jobs.count))
    if threads == 1 { work() } else { DispatchQueue.concurrentPerform(iterations: threads) { _ in work() } }
    if let firstError { throw firstError }
    var cells = [[RecoveryCell]]()
    for r in rows.indices {
        cells.append(sizes.indices.map { s in
            let rs = (0..<seeds).map { runs[(r * sizes.count + s) * seeds + $0]! }
            return RecoveryCell(row: rows[r].label, n: sizes[s], medianTrainMSE: median(rs.map(\.trainMSE)),
                                medianTestMSE: median(rs.map(\.testMSE)), runs: rs)
        })
    }
    return RecoveryResult(target: target.name, optimisticSizes: O, rows: rows, parameters: parameters, sizes: sizes, cells: cells)
}
