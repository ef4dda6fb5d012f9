import Foundation
import Linalg
import NeuralNets

/// The extreme eigenvalues of the training loss's Hessian at a network's parameters, for the
/// `no-fit` verdict: a point whose Hessian has a clearly negative eigenvalue is a saddle, not a
/// converged failure. Lanczos (full reorthogonalization, `iterations` steps from a seeded
/// random start) on Hessian-vector products, each a central difference of the engine's exact
/// gradients, Hv ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε for unit v; the Ritz values' extremes bound
/// the spectrum from inside and converge to its ends first. With batch norm, the loss is the
/// training objective: groups of `normalizationGroup` samples (all, by default) normalized by
/// their own statistics.
public func hessianExtremes<T: Scalar>(_ net: Network<T>, x: Tensor<T>, y: Supervision<T>, loss: Loss,
                                      iterations: Int = 20, epsilon: Double? = nil, seed: UInt64 = 0,
                                      normalizationGroup: Int? = nil) throws -> (smallest: Double, largest: Double) {
    var probe = net
    let theta = net.parameters.map { Double($0) }
    let p = theta.count
    // The step: small against the parameters, large against the type's rounding of the gradient.
    let scale = max(1, (theta.map { $0 * $0 }.reduce(0, +) / Double(max(p, 1))).squareRoot())
    let eps = epsilon ?? scale * (T.self == Double.self ? 1e-5 : 1e-2)
    let ws = Workspace<T>()
    func hvp(_ v: [Double]) throws -> [Double] {
        func gradient(_ sign: Double) throws -> [Double] {
            probe.parameters = zip(theta, v).map { T($0 + sign * eps * $1) }
            return try probe.lossAndGradient(x, y, loss: loss, ws: ws, batchStatistics: true, normalizationGroup: normalizationGroup)
                .gradient.map { Double($0) }
        }
        let (plus, minus) = (try gradient(1), try gradient(-1))
        return zip(plus, minus).map { ($0 - $1) / (2 * eps) }
    }
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    var rng = RNG(seed: seed)
    var q = (0..<p).map { _ -> Double in rng.normal() }
    let n0 = dot(q, q).squareRoot()
    q = q.map { $0 / n0 }
    var basis = [q], alphas = [Double](), betas = [Double]()
    for _ in 0..<min(iterations, p) {
        var w = try hvp(basis.last!)
        let alpha = dot(w, basis.last!)
        alphas.append(alpha)
        // Full reorthogonalization (twice, for rounding): the basis stays orthonormal, so no
        // spurious copies of converged Ritz values appear.
        for _ in 0..<2 {
            for b in basis {
                let c = dot(w, b)
                for i in w.indices { w[i] -= c * b[i] }
            }
        }
        let beta = dot(w, w).squareRoot()
        if beta <= 1e-12 * max(1, abs(alpha)) || basis.count == p { break }
        betas.append(beta)
        basis.append(w.map { $0 / beta })
    }
    let off = Array(betas.prefix(alphas.count - 1))
    return (SymmetricTridiagonal.eigenvalue(0, diagonal: alphas, offDiagonal: off),
            SymmetricTridiagonal.eigenvalue(alphas.count - 1, diagonal: alphas, offDiagonal: off))
}
