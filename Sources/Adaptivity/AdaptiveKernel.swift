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
        for j in a.indices { w[j] = a[j] * power(b[j], depth) * beta[j] }
    }

    /// ½·mean (f(x_i) − y_i)² on the features E (n × J, row-major) and its gradient, in closed
    /// form: with g = Eᵀ(y − f)/n, ∂L/∂β_j = −a_j b_j^D g_j, ∂L/∂a_j = −b_j^D β_j g_j and
    /// ∂L/∂b_j = −D a_j b_j^(D−1) β_j g_j. `scratch` holds n + 2J values.
    public func lossAndGradient(features e: [Double], targets y: [Double], scratch: inout [Double],
                                da: inout [Double], db: inout [Double], dbeta: inout [Double]) -> Double {
        let n = y.count, J = a.count
        return scratch.withUnsafeMutableBufferPointer { s in
            let f = s.baseAddress!, w = f + n, g = w + J
            for j in 0..<J { w[j] = a[j] * power(b[j], depth) * beta[j] }
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
                let bd1 = depth > 0 ? power(b[j], depth - 1) : 0, bd = depth > 0 ? bd1 * b[j] : 1
                dbeta[j] = -a[j] * bd * g[j]
                da[j] = -bd * beta[j] * g[j]
                db[j] = -D * a[j] * bd1 * beta[j] * g[j]
            }
            return loss / (2 * Double(n))
        }
    }
}

/// Gradient descent from the initialization with step `step`, handing the model to `observe` at
/// each of the sorted times t (t = step · steps taken; the nearest step at or before). The fixed
/// kernel trains β alone from a_j = λ_j^(1/2), D = 0. Throws on divergence.
public func trainKernel(method: KernelMethod, features e: [Double], targets y: [Double], eigenvalues: [Double], b0: Double,
                        step: Double, times: [Double], observe: (KernelModel) throws -> Void) throws {
    let depth: Int
    switch method {
    case .fixed: depth = 0
    case let .adaptive(d): depth = d
    }
    guard step > 0, step.isFinite else { throw AdaptivityError("the step size must be positive, got \(step)") }
    let J = eigenvalues.count, n = y.count
    guard e.count == n * J else { throw AdaptivityError("features, targets and basis disagree in size") }
    var model = KernelModel(eigenvalues: eigenvalues, b0: b0, depth: depth)
    var scratch = [Double](repeating: 0, count: n + 2 * J)
    var da = [Double](repeating: 0, count: J), db = da, dbeta = da
    var steps = 0, previous = Double.infinity, first = Double.nan
    for t in times {
        let until = Int((t / step).rounded(.down))
        while steps < until {
            let loss = model.lossAndGradient(features: e, targets: y, scratch: &scratch, da: &da, db: &db, dbeta: &dbeta)
            // Below the stability limit every step lowers the loss; a rise (beyond rounding) means
            // the step is too long for the curvature the adaptive features have grown into.
            if first.isNaN { first = loss }
            guard loss.isFinite, loss <= previous + 1e-9 * previous + 1e-13 * first else {
                throw AdaptivityError("\(method) diverged after \(steps) steps at step size \(step) (the loss rose): lower it")
            }
            previous = loss
            for j in 0..<J {
                model.beta[j] -= step * dbeta[j]
                if method != .fixed {
                    model.a[j] -= step * da[j]
                    if depth > 0 { model.b[j] -= step * db[j] }
                }
            }
            steps += 1
        }
        try observe(model)
    }
}

/// The exact error ‖f − f*‖² along `trainKernel` at each of the sorted times.
public func kernelErrorCurve(method: KernelMethod, features e: [Double], targets y: [Double], eigenvalues: [Double],
                             target: TorusTarget, b0: Double, step: Double, times: [Double]) throws -> [Double] {
    guard target.coefficients.count == eigenvalues.count else { throw AdaptivityError("features, targets and basis disagree in size") }
    var curve = [Double](), w = [Double](repeating: 0, count: eigenvalues.count)
    try trainKernel(method: method, features: e, targets: y, eigenvalues: eigenvalues, b0: b0, step: step, times: times) { model in
        model.weights(into: &w)
        curve.append(target.error(of: w))
    }
    return curve
}

/// `body(step)`, else `body(step / 2)`, and so on (at most `halvings` times) while training
/// diverges: its result and how many halvings it took. The adaptive features grow, and with them
/// the curvature, so a step stable for the fixed kernel need not be for them.
public func withStableStep<R>(_ step: Double, halvings: Int = 8, _ body: (Double) throws -> R) throws -> (result: R, halvings: Int) {
    var h = step
    for k in 0...halvings {
        do {
            return (try body(h), k)
        } catch let error as AdaptivityError where error.description.contains("diverged") && k < halvings {
            h /= 2
        }
    }
    throw AdaptivityError("training diverged at every step size down to \(h)")
}

/// `kernelErrorCurve` at the largest stable step of `step`, `step`/2, … (see `withStableStep`).
public func stableKernelErrorCurve(method: KernelMethod, features e: [Double], targets y: [Double], eigenvalues: [Double],
                                   target: TorusTarget, b0: Double, step: Double, times: [Double],
                                   halvings: Int = 8) throws -> (curve: [Double], halvings: Int) {
    let r = try withStableStep(step, halvings: halvings) { h in
        try kernelErrorCurve(method: method, features: e, targets: y, eigenvalues: eigenvalues, target: target, b0: b0, step: h, times: times)
    }
    return (r.result, r.halvings)
}

/// x^d for a small whole d, by multiplication (libm's pow was 7% of a step).
@inline(__always)
func power(_ x: Double, _ d: Int) -> Double {
    var p = 1.0
    for _ in 0..<d { p *= x }
    return p
}

/// 2 / λ_max(H) for the fixed kernel's Hessian H = (1/n) A EᵀE A, A = diag(λ^(1/2)): the step
/// beyond which gradient descent with it diverges. λ_max by 60 power iterations (two products
/// with E each, from a fixed start), raised 5% because power iteration approaches it from
/// below. The trace, an upper bound, is 5–10× larger on the torus problem and would take that
/// many more steps.
public func fixedKernelStepBound(features e: [Double], count n: Int, eigenvalues: [Double]) -> Double {
    let J = eigenvalues.count
    let s = eigenvalues.map { $0.squareRoot() }
    var v = (0..<J).map { 1 / Double(J).squareRoot() + 1e-3 * Double($0 % 7) }, u = [Double](repeating: 0, count: J), f = [Double](repeating: 0, count: n)
    var lambda = 0.0
    for _ in 0..<60 {
        for j in 0..<J { u[j] = s[j] * v[j] }
        e.withUnsafeBufferPointer { ep in
            Double.blasGemm(transA: false, transB: false, m: n, n: 1, k: J, alpha: 1, a: ep.baseAddress!, lda: J, b: u, ldb: 1, beta: 0, c: &f, ldc: 1)
            Double.blasGemm(transA: true, transB: false, m: J, n: 1, k: n, alpha: 1 / Double(n), a: ep.baseAddress!, lda: J, b: f, ldb: 1, beta: 0, c: &u, ldc: 1)
        }
        var norm = 0.0, dot = 0.0
        for j in 0..<J { u[j] *= s[j]; norm += u[j] * u[j]; dot += u[j] * v[j] }
        norm = norm.squareRoot()
        guard norm > 0 else { return .infinity }
        lambda = dot   // the Rayleigh quotient of the unit vector v
        for j in 0..<J { v[j] = u[j] / norm }
    }
    return 2 / (1.05 * lambda)
}
