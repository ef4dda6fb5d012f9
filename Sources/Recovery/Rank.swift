import Foundation
import Linalg
import NeuralNets

/// The numerical model rank at one point, with everything needed to judge it.
public struct RankReport: Sendable, Codable {
    public var model: String
    public var target: String
    public var seed: UInt64
    public var parameters: Int
    public var inputs: Int
    /// Singular values of the n × M tangent matrix, largest first.
    public var singularValues: [Double]
    /// Singular values above this count toward the rank.
    public var tolerance: Double
    public var modelRank: Int
    /// σ_r / σ_{r+1}: how clearly the rank stands out (nil when every singular value counts).
    public var gap: Double?
    /// rank(J[:n]) for n = 1…inputs (the empirical rank curve).
    public var rankCurve: [Int]
    public var theory: TheoryValue?
    public var seconds: Double

    /// True when the rank may be limited by the number of inputs rather than by the model.
    public var inputLimited: Bool { modelRank == min(inputs, parameters) && inputs < parameters }
    /// Gaps below this are shown to the user as a warning: the rank is then a judgement call.
    public static let smallGap = 1e3
}

/// How many inputs a rank computation uses by default: enough rows to exceed the theory's
/// value (exact or bound) with a margin, else the parameter count plus a margin, within the
/// model's input limit and a memory cap.
public func defaultInputCount(_ model: RecoveryModel, theory: TheoryValue?) -> Int {
    let need = theory.map { $0.value + max(10, $0.value / 5) } ?? model.parameterCount + 10
    let cap = 4000
    return min(model.inputLimit ?? .max, min(need, max(cap, 0)))
}

/// Builds the tangent matrix of `model` at θ on `inputs` random inputs (Gaussian rows; for
/// matrix factorization, distinct entries) and computes its singular values and rank, in Double.
///
/// The singular values come from a Householder QR of Jᵀ followed by an SVD of its small R factor
/// (see `rowQR`): no Gram matrix, so singular values down to ~ε·σ_max stay resolvable, and the
/// diagonal of R gives the rank curve of every leading block of rows.
///
/// With `largeProblemThreads`, a tangent matrix of 20 million entries or more is factorized on
/// that many BLAS threads (one large factorization gains from them, 1.7× on two cores); smaller
/// ones stay on one, where threads only add synchronization (and stall when a core is busy).
public func modelRank(_ model: RecoveryModel, spec: String, target: TargetKind, targetName: String, theta: [Double],
                      inputs: Int? = nil, seed: UInt64 = 0, tolerance: Double? = nil,
                      largeProblemThreads: Int? = nil) throws -> RankReport {
    let started = DispatchTime.now().uptimeNanoseconds
    let theory = theoreticalRank(model, target, theta: theta)
    let n = inputs ?? defaultInputCount(model, theory: theory)
    guard n >= 1 else { throw RecoveryError("need at least one input, got \(n)") }
    if let limit = model.inputLimit, n > limit {
        throw RecoveryError("this model has only \(limit) distinct inputs (matrix entries); asked for \(n)")
    }
    if let tolerance, !(tolerance >= 0) { throw RecoveryError("the tolerance must be ≥ 0, got \(tolerance)") }
    let M = model.parameterCount
    let x = model.sampleInputs(n, rng: RNG(seed: seed).split(0x1A9))
    var J = try model.tangent(theta, x).scalars
    let before = BLAS.threads
    if let t = largeProblemThreads, n * M >= 20_000_000 { BLAS.threads = t }
    defer { BLAS.threads = before }
    let r = try rowQR(&J, rows: n, cols: M)
    J = []
    let s = try singularValues(r)
    let tol = tolerance ?? defaultRankTolerance(singularValues: s, rows: n, cols: M)
    let rank = s.filter { $0 > tol }.count
    var gap: Double? = nil
    if rank < s.count { gap = s[rank] > 0 ? (rank > 0 ? s[rank - 1] / s[rank] : 0) : .infinity }
    // |R_ii| is the part of row i outside the span of the rows before it.
    let k = r.shape[0]
    var curve = [Int](), count = 0
    for i in 0..<n {
        if i < k, abs(r.scalars[i * n + i]) > tol { count += 1 }
        curve.append(i < k ? count : rank)
    }
    return RankReport(model: spec, target: targetName, seed: seed, parameters: M, inputs: n, singularValues: s,
                      tolerance: tol, modelRank: rank, gap: gap, rankCurve: curve, theory: theory,
                      seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
}

/// Parses model and target, builds θ* and computes its rank: what `overparam rank` runs.
public func modelRank(spec: String, target: String, inputs: Int? = nil, seed: UInt64 = 0, tolerance: Double? = nil,
                      largeProblemThreads: Int? = nil) throws -> RankReport {
    let model = try RecoveryModel(spec: spec)
    let kind = try TargetKind(target)
    let theta = try targetPoint(model, kind, seed: seed)
    return try modelRank(model, spec: spec, target: kind, targetName: target, theta: theta, inputs: inputs, seed: seed,
                         tolerance: tolerance, largeProblemThreads: largeProblemThreads)
}

/// The model rank of a network built in code (`Network(input:) { … }`) at `target` (as
/// `overparam rank --target` takes it): the same computation as for a spec, named by the
/// network's name.
public func modelRank(network: Network<Double>, target: String, inputs: Int? = nil, seed: UInt64 = 0, tolerance: Double? = nil) throws -> RankReport {
    let model = RecoveryModel.network(network)
    let kind = try TargetKind(target)
    let theta = try targetPoint(model, kind, seed: seed)
    return try modelRank(model, spec: network.name, target: kind, targetName: target, theta: theta, inputs: inputs, seed: seed,
                         tolerance: tolerance)
}
