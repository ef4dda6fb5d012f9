import Foundation
import Linalg
import RealModule

// The paper's Fig. 5: error against n for the fixed and the diagonal adaptive kernel on samples,
// each at its oracle stopping time. The paper states neither r, the noise, the truncation nor
// the step size: they are settings here, stated with every result.

public struct KernelSettings: Sendable {
    public var dimension = 2
    /// Frequencies |m_k| ≤ cutoff: (2·cutoff + 1)^d basis functions.
    public var cutoff = 8
    /// λ_m = (1 + ‖m‖²)^(−r).
    public var r = 1.0
    /// f*(x) = sin(ωπx₁).
    public var omega = 7.5
    /// Standard deviation of the noise on y.
    public var noise = 0.5
    public var sizes = Array(stride(from: 160, through: 400, by: 30))
    public var repetitions = 8
    public var methods: [KernelMethod] = [.fixed, .adaptive(depth: 0), .adaptive(depth: 1), .adaptive(depth: 2)]
    /// b0 = c·(σ/√n)^(1/(D+2)) (the sequence model's ε^(1/(D+2)) with ε = σ/√n).
    public var b0Constant = 1.0
    /// The step: this fraction of the fixed kernel's stability limit 2/λ_max(H) on each data set
    /// (halved for a method whose loss rises at it).
    public var stepFraction = 0.5
    public var times = TimeGrid(from: 1, to: 2000, perDecade: 8)
    public var seed: UInt64 = 0

    public init() {}

    /// Throws, before any work, on settings that cannot run.
    public func validate() throws {
        guard noise >= 0, r > 0, repetitions >= 1, !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1 }), !methods.isEmpty,
              stepFraction > 0, stepFraction < 1 else {
            throw AdaptivityError("kernel rates need noise ≥ 0, r > 0, a repetition, sizes ≥ 1, a method and a step fraction in (0, 1)")
        }
        _ = try TorusBasis(dimension: dimension, cutoff: cutoff)
    }

    public func b0(_ m: KernelMethod, n: Int) -> Double {
        guard case let .adaptive(d) = m else { return 1 }
        return b0Constant * Double.pow(noise / Double(n).squareRoot(), 1 / Double(d + 2))
    }
}

/// One method's errors across n.
public struct KernelMethodRates: Sendable {
    public var method: KernelMethod
    /// Per n: the oracle time (argmin of the mean error over the grid), the mean error there
    /// and its standard deviation over repetitions; whether the oracle sits at a grid end.
    public var oracleTimes: [Double]
    public var meanErrors: [Double]
    public var errorStds: [Double]
    public var oracleAtGridEdge: [Bool]
    /// Slope of log(mean error − truncation error) on log n: the rate of the part a method can
    /// remove (the truncation error is the same for every method and n).
    public var slope: LineFit?
    public var truncationError: Double
    /// Mean error at every grid time, per n.
    public var meanCurves: [[Double]]
    /// Data sets on which the step had to be halved to stay stable.
    public var halvings: Int
}

/// The training data of one (n, repetition): x uniform on [−1, 1)^d, y = f*(x) + σξ.
public func kernelData(_ s: KernelSettings, target: TorusTarget, n: Int, repetition: Int) -> (x: [Double], y: [Double]) {
    var g = RNG(seed: s.seed).split(UInt64(n) &* 1_000_003 &+ UInt64(repetition))
    let x = (0..<(n * s.dimension)).map { _ in 2 * g.uniform() - 1 }
    let y = (0..<n).map { i in target.evaluate(Array(x[(i * s.dimension)..<((i + 1) * s.dimension)])) + s.noise * g.normal() }
    return (x, y)
}

/// Every method on every (n, repetition), side by side on `workers` threads; deterministic.
/// With a cache, finished (n, repetition) units are read back and each new one is saved as soon
/// as it is done (per method: its curve, then [halvings]).
public func measureKernelRates(_ s: KernelSettings, workers: Int = ProcessInfo.processInfo.activeProcessorCount, cache: RateCache? = nil,
                               progress: ((Int, Int) -> Void)? = nil) throws -> [KernelMethodRates] {
    try s.validate()
    let basis = try TorusBasis(dimension: s.dimension, cutoff: s.cutoff)
    let target = TorusTarget.sine(omega: s.omega, basis: basis)
    let lambda = basis.eigenvalues(r: s.r)
    let units = s.sizes.indices.flatMap { i in (0..<s.repetitions).map { (i, $0) } }
    // Per unit, per method: the error curve and the halvings it needed.
    var results = [[([Double], Int)]?](repeating: nil, count: units.count)
    for (u, (i, rep)) in units.enumerated() {
        guard let c = try cache?.cachedCurves(n: s.sizes[i], repetition: rep), c.count == 2 * s.methods.count,
              c.indices.allSatisfy({ $0 % 2 == 1 ? c[$0].count == 1 : c[$0].count == s.times.times.count }) else { continue }
        results[u] = s.methods.indices.map { (c[2 * $0], Int(c[2 * $0 + 1][0])) }
    }
    let todo = units.indices.filter { results[$0] == nil }
    var done = units.count - todo.count
    progress?(done, units.count)
    try forEachUnit(todo, workers: workers) { u, lock in
        let t0 = Date()
        let (i, rep) = units[u], n = s.sizes[i]
        let (x, y) = kernelData(s, target: target, n: n, repetition: rep)
        let e = basis.features(x, count: n)
        let bound = fixedKernelStepBound(features: e, count: n, eigenvalues: lambda)
        let curves = try s.methods.map { m -> ([Double], Int) in
            let r = try stableKernelErrorCurve(method: m, features: e, targets: y, eigenvalues: lambda, target: target,
                                               b0: s.b0(m, n: n), step: s.stepFraction * bound, times: s.times.times)
            return (r.curve, r.halvings)
        }
        try cache?.saveCurves(curves.flatMap { [$0.0, [Double($0.1)]] }, n: n, repetition: rep, seconds: Date().timeIntervalSince(t0))
        lock.withLock { results[u] = curves; done += 1; progress?(done, units.count) }
    }
    let times = s.times.times
    return s.methods.indices.map { k in
        var oracle = [Double](), means = [Double](), stds = [Double](), edge = [Bool](), curves = [[Double]]()
        var halvings = 0
        for i in s.sizes.indices {
            let runs = (0..<s.repetitions).map { results[i * s.repetitions + $0]![k] }
            halvings += runs.filter { $0.1 > 0 }.count
            let mean = times.indices.map { t in runs.reduce(0) { $0 + $1.0[t] } / Double(runs.count) }
            let best = mean.indices.min { mean[$0] < mean[$1] }!
            let at = runs.map { $0.0[best] }
            let m = at.reduce(0, +) / Double(at.count)
            oracle.append(times[best]); means.append(m); edge.append(best == 0 || best == times.count - 1)
            stds.append((at.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(at.count - 1, 1))).squareRoot())
            curves.append(mean)
        }
        let floor = target.truncationError
        let excess = means.map { max($0 - floor, .leastNormalMagnitude) }
        let slope = s.sizes.count >= 2 ? fitLine(s.sizes.map { Double.log(Double($0)) }, excess.map { Double.log($0) }) : nil
        return KernelMethodRates(method: s.methods[k], oracleTimes: oracle, meanErrors: means, errorStds: stds, oracleAtGridEdge: edge,
                                 slope: slope, truncationError: floor, meanCurves: curves, halvings: halvings)
    }
}
