import Linalg

/// Training in a random subspace (Li et al. 2018, "intrinsic dimension"; the EMC paper's
/// parameter-efficiency experiment): only z ∈ R^d is trained, and the network's parameters are
/// θ = θ₀ + P z, with θ₀ the initialization and P a fixed random P × d matrix whose columns are
/// unit vectors (Gaussian, normalized), so a step of z moves θ as far as the same step would
/// within the subspace. The gradient reaching z is Pᵀ ∇θ.
///
/// P is dense: P·d floats (10⁴ parameters × d = 2,000 is 80 MB in Float), two products of that
/// size per step. That suits the small models of the presets; a structured projection would
/// be needed for large ones.
public struct Subspace<T: Scalar>: Sendable {
    public let dimension: Int
    /// θ₀, the parameters at z = 0.
    public let origin: [T]
    /// P, row-major [parameters, dimension].
    public let projection: [T]

    /// A subspace of `dimension` through `origin`, its projection drawn from `rng`.
    public init(origin: [T], dimension d: Int, rng: RNG) {
        precondition(d >= 1 && d <= origin.count, "Subspace: the dimension must be in 1…\(origin.count)")
        var r = rng
        var p: [T] = r.normals(origin.count * d)
        var norms = [Double](repeating: 0, count: d)
        for i in 0..<origin.count { for j in 0..<d { norms[j] += Double(p[i * d + j] * p[i * d + j]) } }
        let inverse = norms.map { T(1 / max($0.squareRoot(), 1e-30)) }
        for i in 0..<origin.count { for j in 0..<d { p[i * d + j] *= inverse[j] } }
        self.dimension = d; self.origin = origin; self.projection = p
    }

    /// θ = θ₀ + P z.
    public func parameters(_ z: [T], into theta: inout [T]) {
        let count = origin.count
        theta.withUnsafeMutableBufferPointer { t in
            origin.withUnsafeBufferPointer { t.baseAddress!.update(from: $0.baseAddress!, count: count) }
            projection.withUnsafeBufferPointer { p in z.withUnsafeBufferPointer { zs in
                gemm(m: count, n: 1, k: dimension, p.baseAddress!, zs.baseAddress!, beta: 1, t.baseAddress!)
            } }
        }
    }

    /// g_z = Pᵀ g_θ.
    public func gradient(_ g: [T], into gz: inout [T]) {
        let count = origin.count
        gz.withUnsafeMutableBufferPointer { out in
            projection.withUnsafeBufferPointer { p in g.withUnsafeBufferPointer { gs in
                gemm(transA: true, m: dimension, n: 1, k: count, p.baseAddress!, gs.baseAddress!, out.baseAddress!)
            } }
        }
    }
}
