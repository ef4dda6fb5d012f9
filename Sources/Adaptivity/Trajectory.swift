import Foundation
import Linalg
import RealModule

extension OpGDCoordinate {
    /// β ≥ 0 with φ(β)·β = |θ| (θ = φ(β)β is increasing in β ≥ 0), by bisection to rounding.
    public func beta(theta: Double) -> Double {
        let target = abs(theta)
        guard target > 0 else { return 0 }
        var lo = 0.0, hi = max(target / phi(0), 1)
        while self.theta(hi) < target { hi *= 2 }
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid <= lo || mid >= hi { break }
            if self.theta(mid) < target { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    /// The learned feature a·b^D = φ(β) at the state where the coordinate's output is θ.
    public func feature(theta: Double) -> Double { phi(beta(theta: theta)) }
}

/// a_j(t)·b_j^D(t) for a range of coordinates at chosen times (the paper's Figs. 2 and 4), with
/// the two references the theory compares it to.
public struct Trajectory: Sendable {
    public var depth: Int
    public var b0: Double
    public var times: [Double]
    /// 1-based coordinate indices j.
    public var indices: [Int]
    /// features[time][i] = a_j b_j^D at times[time] for j = indices[i].
    public var features: [[Double]]
    /// |θ*_j|^((D+1)/(D+2)) where θ*_j ≠ 0 (nil on noise coordinates).
    public var target: [Double?]
    /// The initial value λ_j^(1/2)·b0^D.
    public var initial: [Double]
}

/// Trajectories on one noise draw (repetition `repetition` of the seed, ε² = 1/n).
public func trajectories(problem: SequenceProblem, depths: [Int], n: Int, indices: ClosedRange<Int>, times: (Int) -> [Double],
                         seed: UInt64 = 0, repetition: Int = 0, b0Constant: Double = 1, tolerance: Double = 1e-10) throws -> [Trajectory] {
    guard indices.lowerBound >= 1, indices.upperBound <= problem.count else {
        throw AdaptivityError("coordinates \(indices.lowerBound)…\(indices.upperBound) are outside 1…\(problem.count)")
    }
    guard n >= 1 else { throw AdaptivityError("n must be ≥ 1") }
    let eps = 1 / Double(n).squareRoot()
    let xi = noise(seed: seed, repetition: repetition, count: problem.count)
    return try depths.map { d in
        guard d >= 0 && d <= 16 else { throw AdaptivityError("depth D must be in 0…16, got \(d)") }
        let b0 = opgdInitialB(depth: d, n: n, constant: b0Constant)
        let ts = times(d)
        guard !ts.isEmpty, ts.allSatisfy({ $0 > 0 && $0.isFinite }), zip(ts, ts.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw AdaptivityError("trajectory times must be positive and increasing, got \(ts)")
        }
        var features = [[Double]](repeating: [], count: ts.count)
        var theta = [Double](repeating: 0, count: ts.count)
        var target = [Double?](), initial = [Double]()
        for j in indices {
            let c = OpGDCoordinate(lambda: problem.eigenvalues[j - 1], b0: b0, depth: d)
            c.solve(z: problem.truth[j - 1] + eps * xi[j - 1], at: ts, tolerance: tolerance, into: &theta)
            for k in ts.indices { features[k].append(c.feature(theta: theta[k])) }
            let truth = abs(problem.truth[j - 1])
            target.append(truth > 0 ? Double.pow(truth, Double(d + 1) / Double(d + 2)) : nil)
            initial.append(c.initialFeature)
        }
        return Trajectory(depth: d, b0: b0, times: ts, indices: Array(indices), features: features, target: target, initial: initial)
    }
}

/// Quantiles (0, 5, 50, 95, 100 %) of a sample.
public struct Quantiles: Sendable, Equatable {
    public var min, p5, median, p95, max: Double
    public var count: Int

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        func q(_ p: Double) -> Double {
            let x = p * Double(s.count - 1), i = Int(x), f = x - Double(i)
            return i + 1 < s.count ? s[i] * (1 - f) + s[i + 1] * f : s[i]
        }
        min = s[0]; p5 = q(0.05); median = q(0.5); p95 = q(0.95); max = s[s.count - 1]; count = s.count
    }
}

/// Proposition 3.4 at the theory's stopping time, over repetitions: on signal coordinates
/// (|θ*_j| ≥ ε ln(1/ε)) the ratio a_j b_j^D / |θ*_j|^((D+1)/(D+2)) should be bounded below; on
/// noise coordinates (θ*_j = 0) with small eigenvalue (λ_j ≤ ε) the ratio a_j b_j^D / (λ_j^(1/2) b0^D)
/// should stay within a constant of 1; and a_j b_j^D should never decrease in t.
public struct PropositionCheck: Sendable {
    public var depth: Int
    public var n: Int
    public var stoppingTime: Double
    public var signal: Quantiles?
    public var noise: Quantiles?
    /// Coordinates (of those followed over the time grid) whose a_j b_j^D decreased by more than
    /// 1e-9 relative between consecutive grid times, and how many were followed.
    public var decreases: Int
    public var followed: Int
}

public func propositionCheck(problem: SequenceProblem, depth d: Int, n: Int, repetitions: Int, seed: UInt64 = 0,
                             b0Constant: Double = 1, tolerance: Double = 1e-8, followed: Int = 200,
                             workers: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> PropositionCheck {
    guard d >= 0 && d <= 16, n >= 2, repetitions >= 1 else { throw AdaptivityError("need 0 ≤ D ≤ 16, n ≥ 2 and at least one repetition") }
    let eps = 1 / Double(n).squareRoot(), b0 = opgdInitialB(depth: d, n: n, constant: b0Constant)
    let stop = opgdStoppingTime(depth: d, n: n)
    let threshold = eps * Double.log(1 / eps)
    let signalIndices = problem.truth.indices.filter { abs(problem.truth[$0]) >= threshold }
    let noiseIndices = problem.truth.indices.filter { problem.truth[$0] == 0 && problem.eigenvalues[$0] <= eps }
    // Monotonicity on a spread of coordinates (signal and noise), over a grid up to the stop.
    let step = max(1, problem.count / followed)
    let watched = Array(stride(from: 0, to: problem.count, by: step))
    let grid = TimeGrid(from: 1e-2, to: stop, perDecade: 8).times
    var results = [(signal: [Double], noise: [Double], decreases: Int)](repeating: ([], [], 0), count: repetitions)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: max(1, min(workers, repetitions))) { worker in
        var rep = worker
        while rep < repetitions {
            let xi = noise(seed: seed, repetition: rep, count: problem.count)
            var out = [0.0]
            func featureAtStop(_ j: Int) -> Double {
                let c = OpGDCoordinate(lambda: problem.eigenvalues[j], b0: b0, depth: d)
                c.solve(z: problem.truth[j] + eps * xi[j], at: [stop], tolerance: tolerance, into: &out)
                return c.feature(theta: out[0])
            }
            let s = signalIndices.map { featureAtStop($0) / Double.pow(abs(problem.truth[$0]), Double(d + 1) / Double(d + 2)) }
            let z = noiseIndices.map { featureAtStop($0) / OpGDCoordinate(lambda: problem.eigenvalues[$0], b0: b0, depth: d).initialFeature }
            var decreases = 0
            var path = [Double](repeating: 0, count: grid.count)
            for j in watched {
                let c = OpGDCoordinate(lambda: problem.eigenvalues[j], b0: b0, depth: d)
                c.solve(z: problem.truth[j] + eps * xi[j], at: grid, tolerance: tolerance, into: &path)
                let f = path.map { c.feature(theta: $0) }
                if zip(f, f.dropFirst()).contains(where: { $1 < $0 * (1 - 1e-9) }) { decreases += 1 }
            }
            lock.withLock { results[rep] = (s, z, decreases) }
            rep += max(1, min(workers, repetitions))
        }
    }
    return PropositionCheck(depth: d, n: n, stoppingTime: stop, signal: Quantiles(results.flatMap(\.signal)),
                            noise: Quantiles(results.flatMap(\.noise)), decreases: results.map(\.decreases).reduce(0, +),
                            followed: watched.count * repetitions)
}
