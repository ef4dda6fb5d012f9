import Foundation
import Linalg
import RealModule

/// An estimator of the sequence model.
public enum Estimator: Hashable, Sendable, CustomStringConvertible {
    /// Fixed-kernel gradient flow.
    case vanilla
    /// Over-parameterized gradient flow θ = a·b^D·β.
    case opgd(depth: Int)
    /// The same model trained by gradient descent with a fixed step η (a reference: it costs
    /// t/η steps per coordinate, against ~100 for the flow solver).
    case opgdDescent(depth: Int, step: Double)

    public var description: String {
        switch self {
        case .vanilla: return "vanilla"
        case let .opgd(d): return "OpGD D=\(d)"
        case let .opgdDescent(d, eta): return "OpGD D=\(d) GD η=\(eta)"
        }
    }

    /// D for either form of OpGD.
    public var depth: Int? {
        switch self {
        case .vanilla: return nil
        case let .opgd(d), let .opgdDescent(d, _): return d
        }
    }
}

/// A rate experiment: the problem, the estimators, the sample sizes n (ε² = 1/n), the
/// repetitions and the time grid for the oracle stopping time.
public struct RateSettings: Sendable {
    public var problem: SequenceProblem
    public var estimators: [Estimator]
    public var sizes: [Int]
    public var repetitions: Int
    public var seed: UInt64 = 0
    public var grid = TimeGrid()
    /// b0 = c·ε^(1/(D+2)).
    public var b0Constant = 1.0
    /// Relative tolerance of the flow solver (D ≥ 1; D = 0 is in closed form): 1e-8 moves the
    /// risk by less than 1e-6 relative (tested), far inside the Monte Carlo error.
    public var tolerance = 1e-8
    /// For the theory columns (nil when the signal is not the misaligned power law).
    public var p: Double?
    public var q: Double?
    public var gamma: Double?

    public init(problem: SequenceProblem, estimators: [Estimator], sizes: [Int], repetitions: Int) {
        self.problem = problem; self.estimators = estimators; self.sizes = sizes; self.repetitions = repetitions
    }

    /// The theory's exponent of the error, as a slope of log error on log n.
    public func theorySlope(_ e: Estimator) -> Double? {
        guard let p, let q, let gamma else { return nil }
        switch e {
        case .vanilla: return -p / (p + q)
        case .opgd, .opgdDescent: return -min(p / (p + 1), 1 - 1 / (Double(e.depth! + 2) * gamma))
        }
    }

    /// The theory's growth of the oracle stopping time with n.
    public func theoryTimeSlope(_ e: Estimator) -> Double? {
        switch e {
        case .vanilla:
            guard let p, let q, let gamma else { return nil }
            return q * gamma / (p + q)
        case .opgd, .opgdDescent: return Double(e.depth! + 1) / Double(e.depth! + 2)
        }
    }

    /// The theory's stopping time for OpGD (nil for vanilla).
    public func theoryTime(_ e: Estimator, n: Int) -> Double? { e.depth.map { opgdStoppingTime(depth: $0, n: n) } }

    public func b0(_ e: Estimator, n: Int) -> Double { e.depth.map { opgdInitialB(depth: $0, n: n, constant: b0Constant) } ?? 0 }

    func validate() throws {
        guard !estimators.isEmpty else { throw AdaptivityError("no estimators to run") }
        guard sizes.count >= 1, sizes.allSatisfy({ $0 >= 1 }) else { throw AdaptivityError("sample sizes n must be ≥ 1, got \(sizes)") }
        guard repetitions >= 1 else { throw AdaptivityError("need at least one repetition") }
        guard grid.times.count >= 2, zip(grid.times, grid.times.dropFirst()).allSatisfy({ $0 < $1 }), grid.times[0] > 0 else {
            throw AdaptivityError("the time grid must be increasing and positive")
        }
        for d in estimators.compactMap(\.depth) where d < 0 || d > 16 { throw AdaptivityError("depth D must be in 0…16, got \(d)") }
        for case let .opgdDescent(_, eta) in estimators {
            guard eta > 0, eta.isFinite else { throw AdaptivityError("the gradient-descent step must be positive, got \(eta)") }
            let steps = grid.times.last! / eta
            guard steps <= 1e7 else {
                throw AdaptivityError(String(format: "gradient descent to t = %.3g with step %.3g is %.2g steps per coordinate (limit 1e7): shorten the time grid (--t-max) or raise the step", grid.times.last!, eta, steps))
            }
        }
        guard b0Constant > 0, tolerance > 0 else { throw AdaptivityError("b0 constant and tolerance must be positive") }
    }
}

/// The theory's stopping time for OpGD at ε² = 1/n: ε^(−1) for D = 0, ε^(−(2D+2)/(D+2)) for D ≥ 1.
public func opgdStoppingTime(depth d: Int, n: Int) -> Double {
    let eps = 1 / Double(n).squareRoot()
    return d == 0 ? 1 / eps : Double.pow(eps, -Double(2 * d + 2) / Double(d + 2))
}

/// The theory's initialization b0 = c·ε^(1/(D+2)) at ε² = 1/n.
public func opgdInitialB(depth d: Int, n: Int, constant c: Double) -> Double {
    c * Double.pow(1 / Double(n).squareRoot(), 1 / Double(d + 2))
}

/// One estimator's measured errors across n.
public struct EstimatorRates: Sendable {
    public var estimator: Estimator
    /// Per n: the oracle time (argmin over the grid of the mean error), the mean error there
    /// and its standard deviation over repetitions.
    public var oracleTimes: [Double]
    public var meanErrors: [Double]
    public var errorStds: [Double]
    /// Mean error at the theory's stopping time (OpGD), per n.
    public var theoryTimeErrors: [Double]?
    public var slope: LineFit?
    public var timeSlope: LineFit?
    public var theorySlope: Double?
    public var theoryTimeSlope: Double?
    /// True where the oracle time sits at an end of the grid (the grid should be widened).
    public var oracleAtGridEdge: [Bool]
    /// Mean error over repetitions at every grid time, per n.
    public var meanCurves: [[Double]]
}

public struct RateReport: Sendable {
    public var settings: RateSettings
    public var estimators: [EstimatorRates]
    public var seconds: Double
    /// Units computed by this run (the rest came from the cache).
    public var computedUnits: Int
}

/// Vanilla gradient flow's growth 1 − e^(−λ_j t_k) for every coordinate j and time k (row j at
/// j·T), which no draw changes: computed once per problem, it spares every repetition N·T
/// exponentials. The same expression as `errorCurve` evaluates without it, so the same bits.
public func vanillaGrowth(eigenvalues lambda: [Double], times: [Double]) -> [Double] {
    let T = times.count
    var g = [Double](repeating: 0, count: lambda.count * T)
    for j in lambda.indices { for k in times.indices { g[j * T + k] = vanillaGrowth(lambda[j] * times[k]) } }
    return g
}

/// 1 − e^(−x) is x − x²/2 to rounding below x = λt = 1e-9 and 1 above x = 40: only the times
/// between need an exponential.
@inline(__always) func vanillaGrowth(_ x: Double) -> Double {
    x < 1e-9 ? x - 0.5 * x * x : (x > 40 ? 1 : -Double.expMinusOne(-x))
}

/// Squared errors Σ_j (θ̂_j(t) − θ*_j)² at every time of `times`, for one estimator and one draw z.
/// `growth`, where given, is `vanillaGrowth(eigenvalues:times:)` of the problem at these times.
public func errorCurve(_ e: Estimator, z: [Double], problem: SequenceProblem, times: [Double], b0: Double, tolerance: Double,
                       growth: [Double]? = nil) -> [Double] {
    var curve = [Double](repeating: 0, count: times.count)
    let truth = problem.truth, lambda = problem.eigenvalues
    switch e {
    case .vanilla:
        if let growth {
            precondition(growth.count == truth.count * times.count)
            let T = times.count
            growth.withUnsafeBufferPointer { g in
                for j in truth.indices {
                    let zj = z[j], tj = truth[j], row = j * T
                    for k in 0..<T {
                        let d = g[row + k] * zj - tj
                        curve[k] += d * d
                    }
                }
            }
            break
        }
        for j in truth.indices {
            let l = lambda[j], zj = z[j], tj = truth[j]
            for k in times.indices {
                let d = vanillaGrowth(l * times[k]) * zj - tj
                curve[k] += d * d
            }
        }
    case let .opgd(depth) where depth >= 1:
        return opgdErrorCurve(z: z, truth: truth, eigenvalues: lambda, b0: b0, depth: depth, times: times, tolerance: tolerance)
    case let .opgdDescent(depth, eta):
        for j in truth.indices {
            let theta = OpGDCoordinate(lambda: lambda[j], b0: b0, depth: depth).gradientDescent(z: z[j], at: times, step: eta)
            for k in times.indices { curve[k] += (theta[k] - truth[j]) * (theta[k] - truth[j]) }
        }
    case .opgd:
        for j in truth.indices {
            let c = OpGDCoordinate(lambda: lambda[j], b0: b0, depth: 0), settled = c.depthZeroSettleTime(z: z[j])
            for k in times.indices {
                let d = (times[k] >= settled ? z[j] : c.depthZeroTheta(z: z[j], t: times[k])) - truth[j]
                curve[k] += d * d
            }
        }
    }
    return curve
}

/// The noise ξ of repetition `rep`: one standard Gaussian vector shared by every estimator and
/// every n (common random numbers keep the comparison and the slopes tight).
public func noise(seed: UInt64, repetition rep: Int, count: Int) -> [Double] {
    var r = RNG(seed: seed).split(UInt64(rep))
    return r.normals(count)
}

/// Where finished (n, repetition) units are kept — every estimator's error curve — so that a
/// re-run, or a run with more repetitions, computes only what is missing (the Lab's store).
public protocol RateCache: Sendable {
    func cachedCurves(n: Int, repetition: Int) throws -> [[Double]]?
    func saveCurves(_ curves: [[Double]], n: Int, repetition: Int, seconds: Double) throws
}

extension RateSettings {
    /// Everything that changes a unit's curves, for keying a cache: not the sizes or the number of
    /// repetitions, which only say which units there are.
    public var cacheKey: [String: String] {
        var h = Hasher64()
        for v in problem.truth { h.add(v) }
        for v in problem.eigenvalues { h.add(v) }
        for v in grid.times { h.add(v) }
        // Version 2: OpGD's D ≥ 1 curves sum the even and the odd coordinates apart (opgdErrorCurve),
        // which moves their last bits; a unit stored by version 1 is not served for them.
        return ["instrument": "adaptivity/2", "problem": problem.name, "N": "\(problem.count)",
                "problem-hash": String(h.value, radix: 16), "estimators": estimators.map(\.description).joined(separator: ","),
                "grid": "\(grid.times.first!)…\(grid.times.last!) (\(grid.times.count))", "b0": "\(b0Constant)",
                "tolerance": "\(tolerance)", "seed": "\(seed)"]
    }
}

/// FNV-1a over the bit patterns of doubles: a stable fingerprint (Swift's Hasher is seeded per process).
struct Hasher64 {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ v: Double) {
        var bits = v.bitPattern
        for _ in 0..<8 { value = (value ^ (bits & 0xff)) &* 0x0000_0100_0000_01b3; bits >>= 8 }
    }
}

/// Monte Carlo over repetitions, all estimators on the same draws, (n, repetition) units side by
/// side on `workers` threads; deterministic for the seed whatever the number of workers. With a
/// cache, finished units are read back and each new one is saved as soon as it is done.
public func measureRates(_ s: RateSettings, workers: Int = ProcessInfo.processInfo.activeProcessorCount, cache: RateCache? = nil,
                         progress: ((Int, Int) -> Void)? = nil) throws -> RateReport {
    try s.validate()
    let started = DispatchTime.now().uptimeNanoseconds
    let N = s.problem.count
    // Each estimator's times: the grid plus, for OpGD, the theory's stopping time for each n.
    func times(_ e: Estimator, _ n: Int) -> (times: [Double], theoryIndex: Int?) {
        guard let tt = s.theoryTime(e, n: n) else { return (s.grid.times, nil) }
        var t = s.grid.times
        let i = t.firstIndex { $0 >= tt } ?? t.count
        if i < t.count && t[i] == tt { return (t, i) }
        t.insert(tt, at: i)
        return (t, i)
    }
    let units = s.sizes.indices.flatMap { i in (0..<s.repetitions).map { (i, $0) } }
    // curves[unit][estimator] = error curve over that estimator's times
    var curves = [[[Double]]](repeating: [], count: units.count)
    var pending = [Int]()
    for (u, (i, rep)) in units.enumerated() {
        let shapes = s.estimators.map { times($0, s.sizes[i]).times.count }
        if let c = try cache?.cachedCurves(n: s.sizes[i], repetition: rep), c.map(\.count) == shapes { curves[u] = c } else { pending.append(u) }
    }
    // Vanilla's times are the grid's for every n; its growth table is kept where it fits in 64 MB.
    let growth = !pending.isEmpty && s.estimators.contains(.vanilla) && s.theoryTime(.vanilla, n: s.sizes[0]) == nil && N * s.grid.times.count <= 1 << 23
        ? vanillaGrowth(eigenvalues: s.problem.eigenvalues, times: s.grid.times) : nil
    var done = units.count - pending.count
    if done > 0 { progress?(done, units.count) }
    try forEachUnit(pending, workers: workers) { u, lock in
        let (i, rep) = units[u]
        let n = s.sizes[i]
        let started = DispatchTime.now().uptimeNanoseconds
        let eps = 1 / Double(n).squareRoot()
        let xi = noise(seed: s.seed, repetition: rep, count: N)
        let z = (0..<N).map { s.problem.truth[$0] + eps * xi[$0] }
        let result = s.estimators.map { e in
            errorCurve(e, z: z, problem: s.problem, times: times(e, n).times, b0: s.b0(e, n: n), tolerance: s.tolerance,
                       growth: e == .vanilla ? growth : nil)
        }
        try cache?.saveCurves(result, n: n, repetition: rep, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        lock.withLock {
            curves[u] = result
            done += 1
            progress?(done, units.count)
        }
    }

    var rates = [EstimatorRates]()
    for (ei, e) in s.estimators.enumerated() {
        var oracle = [Double](), means = [Double](), stds = [Double](), edges = [Bool](), meanCurves = [[Double]]()
        var atTheory = [Double]()
        for (i, n) in s.sizes.enumerated() {
            let (t, theoryIndex) = times(e, n)
            let reps = (0..<s.repetitions).map { curves[i * s.repetitions + $0][ei] }
            var mean = [Double](repeating: 0, count: t.count)
            for c in reps { for k in t.indices { mean[k] += c[k] / Double(s.repetitions) } }
            // The oracle time is chosen on the grid only (the inserted theory time is not a grid point).
            let gridIndices = t.indices.filter { $0 != theoryIndex }
            let best = gridIndices.min { mean[$0] < mean[$1] }!
            oracle.append(t[best])
            means.append(mean[best])
            let sd = reps.count > 1
                ? (reps.map { ($0[best] - mean[best]) * ($0[best] - mean[best]) }.reduce(0, +) / Double(reps.count - 1)).squareRoot() : 0
            stds.append(sd)
            edges.append(best == gridIndices.first || best == gridIndices.last)
            if let ti = theoryIndex { atTheory.append(mean[ti]) }
            meanCurves.append(gridIndices.map { mean[$0] })
        }
        let logN = s.sizes.map { Double.log(Double($0)) }
        rates.append(EstimatorRates(
            estimator: e, oracleTimes: oracle, meanErrors: means, errorStds: stds,
            theoryTimeErrors: atTheory.isEmpty ? nil : atTheory,
            slope: s.sizes.count >= 2 ? fitLine(logN, means.map { Double.log($0) }) : nil,
            timeSlope: s.sizes.count >= 2 ? fitLine(logN, oracle.map { Double.log($0) }) : nil,
            theorySlope: s.theorySlope(e), theoryTimeSlope: s.theoryTimeSlope(e), oracleAtGridEdge: edges, meanCurves: meanCurves))
    }
    return RateReport(settings: s, estimators: rates, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                      computedUnits: pending.count)
}
