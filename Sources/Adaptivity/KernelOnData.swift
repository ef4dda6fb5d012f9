import Foundation
import Linalg
import RealModule

// The diagonal adaptive kernel on a user's regression data (issue #23, item 3). There is no known
// target here, so the errors are mean squared errors on held-out points, and the stopping time
// is read off a validation split in place of the oracle. Each split of the data is one unit of
// work (and of the result store).

public struct KernelDataSettings: Sendable, Equatable {
    /// Frequencies |m_k| ≤ cutoff: (2·cutoff + 1)^d basis functions.
    public var cutoff = 8
    /// At most this many nonzero coordinates per frequency (nil: all d): 1 fits a sum of functions
    /// of one input each, 2 adds their pairwise interactions.
    public var maxOrder: Int? = nil
    /// λ_m = (1 + ‖m‖²)^(−r).
    public var r = 1.0
    public var methods: [KernelMethod] = [.fixed, .adaptive(depth: 0), .adaptive(depth: 1), .adaptive(depth: 2)]
    /// b0 = c·ε^(1/(D+2)) with ε = 1/√n_train: the sequence model's tuning on targets scaled to
    /// unit variance (the noise level, unknown here, is taken as at most that variance).
    public var b0Constant = 1.0
    /// The step: this fraction of the fixed kernel's stability limit 2/λ_max(H) on the training
    /// split (halved for a method whose loss rises at it).
    public var stepFraction = 0.5
    public var times = TimeGrid(from: 1, to: 2000, perDecade: 8)
    /// Shares of the data held out for choosing the stopping time and for the reported error.
    public var validationFraction = 0.2
    public var testFraction = 0.2
    /// Random splits, each trained from scratch: the spread over them is the interval.
    public var splits = 5
    public var seed: UInt64 = 0
    /// Map each input coordinate's training range onto [−0.9, 0.9] (else use the inputs as given:
    /// the basis has period 2 in every coordinate).
    public var scaleInputs = true

    public init() {}

    public func b0(_ m: KernelMethod, trainCount n: Int) -> Double {
        guard case let .adaptive(d) = m else { return 1 }
        return b0Constant * Double.pow(1 / Double(n).squareRoot(), 1 / Double(d + 2))
    }

    /// How many points go to training, validation and test for n samples.
    public func splitSizes(_ n: Int) -> (train: Int, validation: Int, test: Int) {
        let v = Int((validationFraction * Double(n)).rounded()), t = Int((testFraction * Double(n)).rounded())
        return (n - v - t, v, t)
    }

    /// Throws, before any work, on settings these data cannot run with.
    public func validate(count n: Int, dimension d: Int) throws {
        guard r > 0, !methods.isEmpty, stepFraction > 0, stepFraction < 1, splits >= 1, b0Constant > 0,
              !times.times.isEmpty, times.times.allSatisfy({ $0 > 0 }) else {
            throw AdaptivityError("the adaptive kernel needs r > 0, a method, a step fraction in (0, 1), a split, b0 > 0 and positive times")
        }
        guard validationFraction > 0, testFraction > 0, validationFraction + testFraction < 1 else {
            throw AdaptivityError("the validation and test shares must be positive and leave data for training (got \(validationFraction) and \(testFraction))")
        }
        let (tr, v, t) = splitSizes(n)
        guard tr >= 2, v >= 1, t >= 1 else {
            throw AdaptivityError("\(n) samples give \(tr) for training, \(v) for validation and \(t) for testing: each needs at least one (training two)")
        }
        if let o = maxOrder, o < 1 || o > d {
            throw AdaptivityError("the order must be from 1 to the data's \(d) input(s), got \(o)")
        }
        let J = TorusBasis.count(dimension: d, cutoff: cutoff, maxOrder: maxOrder)
        guard J * Double(n) <= 2.5e7 else {
            throw AdaptivityError("\(Int(J)) basis functions (cutoff \(cutoff) in \(d) dimensions\(maxOrder.map { " up to order \($0)" } ?? "")) on \(n) samples need \(Int(J * Double(n) * 8 / 1e6)) MB of features: lower --cutoff\(d > 1 ? " or --order" : "")")
        }
    }
}

/// The affine map of each input coordinate that puts the training range [lo, hi] onto
/// [−0.9, 0.9]. The 10% margins keep the ends of the range from meeting where the torus closes,
/// so the periodic basis does not tie the smallest inputs to the largest.
public struct TorusScaling: Sendable, Equatable {
    public var low: [Double], high: [Double]

    public init(fitting x: [Double], dimension d: Int) {
        low = (0..<d).map { k in stride(from: k, to: x.count, by: d).map { x[$0] }.min() ?? 0 }
        high = (0..<d).map { k in stride(from: k, to: x.count, by: d).map { x[$0] }.max() ?? 0 }
    }

    public func apply(_ x: [Double]) -> [Double] {
        let d = low.count
        return x.indices.map { i in
            let k = i % d, span = high[k] - low[k]
            return span > 0 ? -0.9 + 1.8 * (x[i] - low[k]) / span : 0
        }
    }
}

/// One method on one split: errors at every grid time, the stop chosen on validation, and the
/// learned model there.
public struct KernelSplitRun: Sendable, Equatable {
    /// Mean squared errors in the data's units at each grid time.
    public var train: [Double], validation: [Double], test: [Double]
    /// The grid index of the stop: the first minimum of the validation error.
    public var stop: Int
    /// a_j b_j^D (the learned kernel's square-root eigenvalues, times b^D) and the coefficients
    /// w_j = a_j b_j^D β_j at the stop, per basis function.
    public var featureWeights: [Double], coefficients: [Double]
    public var halvings: Int
    public var step: Double

    /// The run as the store keeps it: five arrays and [stop, halvings, step].
    public var encoded: [[Double]] { [train, validation, test, featureWeights, coefficients, [Double(stop), Double(halvings), step]] }

    public init?(encoded c: ArraySlice<[Double]>) {
        let c = Array(c)
        guard c.count == 6, c[5].count == 3, let stop = Int(exactly: c[5][0]), let halvings = Int(exactly: c[5][1]),
              stop >= 0, stop < c[0].count else { return nil }
        self.init(train: c[0], validation: c[1], test: c[2], stop: stop, featureWeights: c[3], coefficients: c[4], halvings: halvings, step: c[5][2])
    }

    public init(train: [Double], validation: [Double], test: [Double], stop: Int, featureWeights: [Double], coefficients: [Double],
                halvings: Int, step: Double) {
        self.train = train; self.validation = validation; self.test = test; self.stop = stop
        self.featureWeights = featureWeights; self.coefficients = coefficients; self.halvings = halvings; self.step = step
    }
}

/// The split `index` of n samples: test, validation and training indices, disjoint, by a
/// permutation drawn from the seed (the same for every method).
public func kernelDataSplit(count n: Int, settings s: KernelDataSettings, index: Int) -> (train: [Int], validation: [Int], test: [Int]) {
    var g = RNG(seed: s.seed).split(UInt64(index))
    let p = g.permutation(n), (_, v, t) = s.splitSizes(n)
    return (Array(p[(t + v)...]), Array(p[t..<(t + v)]), Array(p[..<t]))
}

/// Every method on split `index` of the data (x row-major, n × d).
public func runKernelSplit(x: [Double], y: [Double], dimension d: Int, settings s: KernelDataSettings, basis: TorusBasis,
                           index: Int) throws -> [KernelSplitRun] {
    let n = y.count
    let (tr, va, te) = kernelDataSplit(count: n, settings: s, index: index)
    func rows(_ idx: [Int]) -> [Double] { idx.flatMap { x[($0 * d)..<($0 * d + d)] } }
    var (xt, xv, xe) = (rows(tr), rows(va), rows(te))
    if s.scaleInputs {
        let map = TorusScaling(fitting: xt, dimension: d)
        (xt, xv, xe) = (map.apply(xt), map.apply(xv), map.apply(xe))
    }
    // Targets standardized on the training split, so one b0 and one time grid suit any units;
    // errors are reported back in the data's units.
    let yt0 = tr.map { y[$0] }
    let mean = yt0.reduce(0, +) / Double(yt0.count)
    let variance = yt0.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(yt0.count)
    let scale = variance > 0 ? variance.squareRoot() : 1
    let yt = yt0.map { ($0 - mean) / scale }, yv = va.map { (y[$0] - mean) / scale }, ye = te.map { (y[$0] - mean) / scale }
    let lambda = basis.eigenvalues(r: s.r), J = basis.count
    let et = basis.features(xt, count: tr.count), ev = basis.features(xv, count: va.count), ee = basis.features(xe, count: te.count)
    let bound = fixedKernelStepBound(features: et, count: tr.count, eigenvalues: lambda)
    return try s.methods.map { m in
        let (run, halvings) = try withStableStep(s.stepFraction * bound) { h -> KernelSplitRun in
            var train = [Double](), validation = [Double](), test = [Double]()
            // The model at the first minimum of the validation error, kept as it is reached.
            var stop = 0, weights = [Double](), coefficients = [Double]()
            var w = [Double](repeating: 0, count: J)
            try trainKernel(method: m, features: et, targets: yt, eigenvalues: lambda, b0: s.b0(m, trainCount: tr.count), step: h,
                            times: s.times.times) { model in
                model.weights(into: &w)
                train.append(scale * scale * meanSquaredError(features: et, weights: w, targets: yt))
                validation.append(scale * scale * meanSquaredError(features: ev, weights: w, targets: yv))
                test.append(scale * scale * meanSquaredError(features: ee, weights: w, targets: ye))
                if validation.count == 1 || validation[validation.count - 1] < validation[stop] {
                    stop = validation.count - 1
                    weights = model.a.indices.map { model.a[$0] * power(model.b[$0], model.depth) }
                    coefficients = w
                }
            }
            // f in the data's units: mean + scale·Σ w_j e_j, the mean on the constant function.
            var c = coefficients.map { scale * $0 }
            if let constant = basis.frequencies.firstIndex(where: { $0.allSatisfy { $0 == 0 } }) { c[constant] += mean }
            return KernelSplitRun(train: train, validation: validation, test: test, stop: stop, featureWeights: weights,
                                  coefficients: c, halvings: 0, step: h)
        }
        var r = run
        r.halvings = halvings
        return r
    }
}

/// mean_i (Σ_j E_ij w_j − y_i)² for features E (n × J, row-major).
func meanSquaredError(features e: [Double], weights w: [Double], targets y: [Double]) -> Double {
    let n = y.count, J = w.count
    var f = [Double](repeating: 0, count: n)
    e.withUnsafeBufferPointer { ep in
        Double.blasGemm(transA: false, transB: false, m: n, n: 1, k: J, alpha: 1, a: ep.baseAddress!, lda: J, b: w, ldb: 1, beta: 0, c: &f, ldc: 1)
    }
    var s = 0.0
    for i in 0..<n { s += (f[i] - y[i]) * (f[i] - y[i]) }
    return s / Double(n)
}

/// One method over every split.
public struct KernelDataMethod: Sendable {
    public var method: KernelMethod
    public var runs: [KernelSplitRun]
    /// Test error at the validation stop per split, with its mean and 95% interval over splits.
    public var testErrors: [Double] { runs.map { $0.test[$0.stop] } }
    /// Mean over splits of each error curve.
    public var meanTrain: [Double] { meanOf(runs.map(\.train)) }
    public var meanValidation: [Double] { meanOf(runs.map(\.validation)) }
    public var meanTest: [Double] { meanOf(runs.map(\.test)) }
    /// Mean over splits of a_j b_j^D at the stop.
    public var meanFeatureWeights: [Double] { meanOf(runs.map(\.featureWeights)) }
    public var meanCoefficients: [Double] { meanOf(runs.map(\.coefficients)) }
}

func meanOf(_ rows: [[Double]]) -> [Double] {
    guard let first = rows.first else { return [] }
    return first.indices.map { j in rows.reduce(0) { $0 + $1[j] } / Double(rows.count) }
}

public struct KernelDataReport: Sendable {
    public var settings: KernelDataSettings
    public var count: Int, dimension: Int
    public var basis: TorusBasis
    public var eigenvalues: [Double]
    public var methods: [KernelDataMethod]
    /// Test MSE of predicting the training mean, per split: the scale the errors are read on.
    public var baselineErrors: [Double]
    public var computedSplits: Int
    public var seconds: Double

    /// a_j b_j^D at the start, λ_j^(1/2) b0^D, for method k.
    public func initialFeatureWeights(_ k: Int) -> [Double] {
        let m = methods[k].method, b0 = settings.b0(m, trainCount: settings.splitSizes(count).train)
        let d: Int
        if case let .adaptive(depth) = m { d = depth } else { d = 0 }
        return eigenvalues.map { $0.squareRoot() * power(b0, d) }
    }

    /// How far method k moved a_j b_j^D from its start by the stop: the mean over splits of
    /// a_j b_j^D divided by λ_j^(1/2) b0^D (1 for the fixed kernel).
    public func growth(_ k: Int) -> [Double] {
        zip(methods[k].meanFeatureWeights, initialFeatureWeights(k)).map { $0 / $1 }
    }

    /// Paired 95% interval over splits of (this method's test error − the first method's).
    public func differenceFromFirst(_ k: Int) -> (mean: Double, interval: ClosedRange<Double>?) {
        meanInterval(zip(methods[k].testErrors, methods[0].testErrors).map { $0 - $1 })
    }
}

/// Where finished splits are kept, as `RateCache` keeps units: the unit (n, repetition) is
/// (sample count, split).
public func measureKernelOnData(x: [Double], y: [Double], dimension d: Int, settings s: KernelDataSettings,
                                workers: Int = ProcessInfo.processInfo.activeProcessorCount, cache: RateCache? = nil,
                                progress: ((Int, Int) -> Void)? = nil) throws -> KernelDataReport {
    let n = y.count
    guard d >= 1, x.count == n * d else { throw AdaptivityError("inputs and targets disagree: \(x.count) input values for \(n) targets in \(d) dimensions") }
    try s.validate(count: n, dimension: d)
    let started = Date()
    let basis = try TorusBasis(dimension: d, cutoff: s.cutoff, maxOrder: s.maxOrder)
    var results = [[KernelSplitRun]?](repeating: nil, count: s.splits)
    for k in 0..<s.splits {
        if let c = try cache?.cachedCurves(n: n, repetition: k), c.count == 6 * s.methods.count {
            let runs = s.methods.indices.compactMap { KernelSplitRun(encoded: c[(6 * $0)..<(6 * $0 + 6)]) }
            if runs.count == s.methods.count { results[k] = runs }
        }
    }
    let todo = results.indices.filter { results[$0] == nil }
    var done = s.splits - todo.count
    progress?(done, s.splits)
    try forEachUnit(todo, workers: workers) { u, lock in
        let t0 = Date()
        let runs = try runKernelSplit(x: x, y: y, dimension: d, settings: s, basis: basis, index: u)
        try cache?.saveCurves(runs.flatMap(\.encoded), n: n, repetition: u, seconds: Date().timeIntervalSince(t0))
        lock.withLock { results[u] = runs; done += 1; progress?(done, s.splits) }
    }
    let baseline = (0..<s.splits).map { k -> Double in
        let (tr, _, te) = kernelDataSplit(count: n, settings: s, index: k)
        let mean = tr.reduce(0) { $0 + y[$1] } / Double(tr.count)
        return te.reduce(0) { $0 + (y[$1] - mean) * (y[$1] - mean) } / Double(te.count)
    }
    return KernelDataReport(settings: s, count: n, dimension: d, basis: basis, eigenvalues: basis.eigenvalues(r: s.r),
                            methods: s.methods.indices.map { m in KernelDataMethod(method: s.methods[m], runs: results.map { $0![m] }) },
                            baselineErrors: baseline, computedSplits: todo.count, seconds: Date().timeIntervalSince(started))
}
