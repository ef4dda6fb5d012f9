import Linalg
import RealModule

// The diagonal adaptive kernel on samples (the paper's Section 5, issue #23): the sequence
// model's over-parameterization, f(x) = Σ_j a_j b_j^D β_j e_j(x) over a fixed eigenbasis, trained
// by gradient descent on n noisy samples instead of observed coefficients. With a and b frozen
// at a_j = λ_j^(1/2) (and D = 0) it is gradient descent with the fixed kernel Σ_j λ_j e_j e_j.

/// How the kernel is trained: the fixed kernel (β alone) or the adaptive one of depth D.
public enum KernelMethod: Sendable, Equatable, CustomStringConvertible {
    case fixed
    case adaptive(depth: Int)

    public var description: String {
        switch self {
        case .fixed: return "fixed"
        case let .adaptive(d): return "adaptive D=\(d)"
        }
    }
}

/// The model's parameters, flat per basis function: a_j, b_j, β_j.
public struct KernelModel: Sendable, Equatable {
    public var a: [Double], b: [Double], beta: [Double]
    public let depth: Int

    /// a_j(0) = λ_j^(1/2), b_j(0) = b0, β_j(0) = 0.
    public init(eigenvalues: [Double], b0: Double, depth: Int) {
        a = eigenvalues.map { $0.squareRoot() }
        b = [Double](repeating: b0, count: eigenvalues.count)
        beta = [Double](repeating: 0, count: eigenvalues.count)
        self.depth = depth
    }

    /// The coefficients w_j = a_j b_j^D β_j of f in the basis.
    public func weights(into w: inout [Double]) {
        for j in a.indices { w[j] = a[j] * Double.pow(b[j], depth) * beta[j] }
    }

    /// ½·mean (f(x_i) − y_i)² on the features E (n × J, row-major) and its gradient, in closed
    /// form: with g = Eᵀ(y − f)/n, ∂L/∂β_j = −a_j b_j^D g_j, ∂L/∂a_j = −b_j^D β_j g_j and
    /// ∂L/∂b_j = −D a_j b_j^(D−1) β_j g_j. `scratch` holds n + 2J values.
    public func lossAndGradient(features e: [Double], targets y: [Double], scratch: inout [Double],
                                da: inout [Double], db: inout [Double], dbeta: inout [Double]) -> Double {
        let n = y.count, J = a.count
        return scratch.withUnsafeMutableBufferPointer { s in
            let f = s.baseAddress!, w = f + n, g = w + J
            for j in 0..<J { w[j] = a[j] * Double.pow(b[j], depth) * beta[j] }
            e.withUnsafeBufferPointer { ep in
                Double.blasGemm(transA: false, transB: false, m: n, n: 1, k: J, alpha: 1, a: ep.baseAddress!, lda: J,
                                b: w, ldb: 1, beta: 0, c: f, ldc: 1)
            }
            var loss = 0.0
            for i in 0..<n { f[i] = y[i] - f[i]; loss += f[i] * f[i] }
            e.withUnsafeBufferPointer { ep in
                Double.blasGemm(transA: true, transB: false, m: J, n: 1, k: n, alpha: 1 / Double(n), a: ep.baseAddress!, lda: J,
                                b: f, ldb: 1, beta: 0, c: g, ldc: 1)
            }
            let D = Double(depth)
            for j in 0..<J {
                let bd1 = depth > 0 ? Double.pow(b[j], depth - 1) : 0, bd = depth > 0 ? bd1 * b[j] : 1
                dbeta[j] = -a[j] * bd * g[j]
                da[j] = -bd * beta[j] * g[j]
                db[j] = -D * a[j] * bd1 * beta[j] * g[j]
            }
            return loss / (2 * Double(n))
        }
    }
}

/// Gradient descent from the initialization with step `step`, recording the exact error
/// ‖f − f*‖² at each of the sorted times t (t = step · steps taken; the nearest step at or
/// before). The fixed kernel trains β alone from a_j = λ_j^(1/2), D = 0. Throws on divergence.
public func kernelErrorCurve(method: KernelMethod, features e: [Double], targets y: [Double], eigenvalues: [Double],
                             target: TorusTarget, b0: Double, step: Double, times: [Double]) throws -> [Double] {
    let depth: Int
    switch method {
    case .fixed: depth = 0
    case let .adaptive(d): depth = d
    }
    guard step > 0, step.isFinite else { throw AdaptivityError("the step size must be positive, got \(step)") }
    let J = eigenvalues.count, n = y.count
    guard e.count == n * J, target.coefficients.count == J else { throw AdaptivityError("features, targets and basis disagree in size") }
    var model = KernelModel(eigenvalues: eigenvalues, b0: b0, depth: depth)
    var scratch = [Double](repeating: 0, count: n + 2 * J)
    var da = [Double](repeating: 0, count: J), db = da, dbeta = da, w = da
    var curve = [Double](), steps = 0
    for t in times {
        let until = Int((t / step).rounded(.down))
        while steps < until {
            let loss = model.lossAndGradient(features: e, targets: y, scratch: &scratch, da: &da, db: &db, dbeta: &dbeta)
            guard loss.isFinite else { throw AdaptivityError("\(method) diverged after \(steps) steps at step size \(step): lower it") }
            for j in 0..<J {
                model.beta[j] -= step * dbeta[j]
                if method != .fixed {
                    model.a[j] -= step * da[j]
                    if depth > 0 { model.b[j] -= step * db[j] }
                }
            }
            steps += 1
        }
        model.weights(into: &w)
        curve.append(target.error(of: w))
    }
    return curve
}

/// The largest step at which gradient descent with the fixed kernel is stable, from above:
/// 2 / tr(H) ≤ 2 / λ_max(H) for H = (1/n) A EᵀE A, A = diag(λ^(1/2)) — tr(H) =
/// (1/n) Σ_i Σ_j λ_j e_j(x_i)².
public func fixedKernelStepBound(features e: [Double], count n: Int, eigenvalues: [Double]) -> Double {
    let J = eigenvalues.count
    var trace = 0.0
    for i in 0..<n { for j in 0..<J { trace += eigenvalues[j] * e[i * J + j] * e[i * J + j] } }
    return 2 / (trace / Double(n))
}
