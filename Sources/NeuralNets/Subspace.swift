import Linalg

/// Training in a random subspace (Li et al. 2018, "intrinsic dimension"; the EMC paper's
/// parameter-efficiency experiment): only z ∈ R^d is trained, and the network's parameters are
/// θ = θ₀ + P z, with θ₀ the initialization and P a fixed random P × d matrix whose columns are
/// unit vectors (Gaussian, normalized), so a step of z moves θ as far as the same step would
/// within the subspace. The gradient reaching z is Pᵀ ∇θ.
///
/// Small P·d (up to `denseLimit` entries: 10⁴ parameters × d = 400, 16 MB in Float) draws P
/// dense, Gaussian; each step then costs two products of P·d. Beyond, P is sparse: each
/// parameter has `entriesPerParameter` Gaussian entries, in columns drawn through random
/// permutations of the parameters (so every column gets ⌊P/d⌋ or more of them), and a step
/// costs O(P) — a ResNet-8's 78,042 parameters in a subspace of 10⁴ would be 3 GB dense. Either
/// way the columns are unit vectors, and the same seed gives the same P.
public struct Subspace<T: Scalar>: Sendable {
    public enum Kind: String, Sendable { case dense, sparse }
    /// The largest P·d drawn dense (unless asked otherwise).
    public static var denseLimit: Int { 1 << 22 }
    /// Non-zero entries per parameter (row) of a sparse P (fewer where d is smaller).
    public static var entriesPerParameter: Int { 4 }

    public let dimension: Int
    public let kind: Kind
    /// θ₀, the parameters at z = 0.
    public let origin: [T]
    /// Dense: P, row-major [parameters, dimension]; sparse: empty.
    public let projection: [T]
    /// Sparse: parameter i's entries are `values[i·s ..< (i+1)·s]` in `columns[i·s ..< (i+1)·s]`
    /// (s = `perParameter`); dense: empty.
    public let columns: [Int32], values: [T]
    public let perParameter: Int

    /// A subspace of `dimension` through `origin`, its projection drawn from `rng`: dense up to
    /// `denseLimit` entries, sparse beyond, unless `kind` says which.
    public init(origin: [T], dimension d: Int, rng: RNG, kind: Kind? = nil) {
        precondition(d >= 1 && d <= origin.count, "Subspace: the dimension must be in 1…\(origin.count)")
        let count = origin.count
        let kind = kind ?? (count * d <= Self.denseLimit ? .dense : .sparse)
        var r = rng
        var norms = [Double](repeating: 0, count: d)
        self.dimension = d; self.origin = origin; self.kind = kind
        if kind == .dense {
            var p: [T] = r.normals(count * d)
            for i in 0..<count { for j in 0..<d { norms[j] += Double(p[i * d + j] * p[i * d + j]) } }
            let inverse = norms.map { T(1 / max($0.squareRoot(), 1e-30)) }
            for i in 0..<count { for j in 0..<d { p[i * d + j] *= inverse[j] } }
            projection = p; columns = []; values = []; perParameter = 0
            return
        }
        let s = min(Self.entriesPerParameter, d)
        var cols = [Int32](repeating: 0, count: count * s)
        var vals: [T] = r.normals(count * s)
        var order = Array(0..<count)
        for k in 0..<s {
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, r.int(below: i + 1)) }
            for i in 0..<count { cols[i * s + k] = Int32(order[i] % d) }
        }
        // Two of a row's entries in one column are one entry: merged, so that the norms below
        // are the columns' own.
        for i in 0..<count { for k in 1..<s { for k0 in 0..<k where cols[i * s + k0] == cols[i * s + k] {
            vals[i * s + k0] += vals[i * s + k]; vals[i * s + k] = 0
            break
        } } }
        for e in 0..<count * s { norms[Int(cols[e])] += Double(vals[e] * vals[e]) }
        for e in 0..<count * s { vals[e] *= T(1 / max(norms[Int(cols[e])].squareRoot(), 1e-30)) }
        projection = []; columns = cols; values = vals; perParameter = s
    }

    /// P as a dense row-major [parameters, dimension] matrix, whichever way it is kept (for
    /// checks; a sparse P of a large model is large dense).
    public func matrix() -> [T] {
        if kind == .dense { return projection }
        var m = [T](repeating: 0, count: origin.count * dimension)
        for i in 0..<origin.count { for k in 0..<perParameter { m[i * dimension + Int(columns[i * perParameter + k])] += values[i * perParameter + k] } }
        return m
    }

    /// θ = θ₀ + P z.
    public func parameters(_ z: [T], into theta: inout [T]) {
        let count = origin.count
        theta.withUnsafeMutableBufferPointer { t in
            origin.withUnsafeBufferPointer { t.baseAddress!.update(from: $0.baseAddress!, count: count) }
            if kind == .sparse {
                let s = perParameter
                for i in 0..<count {
                    var acc = t[i]
                    for k in 0..<s { acc += values[i * s + k] * z[Int(columns[i * s + k])] }
                    t[i] = acc
                }
                return
            }
            projection.withUnsafeBufferPointer { p in z.withUnsafeBufferPointer { zs in
                gemm(m: count, n: 1, k: dimension, p.baseAddress!, zs.baseAddress!, beta: 1, t.baseAddress!)
            } }
        }
    }

    /// g_z = Pᵀ g_θ.
    public func gradient(_ g: [T], into gz: inout [T]) {
        let count = origin.count
        if kind == .sparse {
            let s = perParameter
            for j in 0..<dimension { gz[j] = 0 }
            for i in 0..<count { for k in 0..<s { gz[Int(columns[i * s + k])] += values[i * s + k] * g[i] } }
            return
        }
        gz.withUnsafeMutableBufferPointer { out in
            projection.withUnsafeBufferPointer { p in g.withUnsafeBufferPointer { gs in
                gemm(transA: true, m: dimension, n: 1, k: count, p.baseAddress!, gs.baseAddress!, out.baseAddress!)
            } }
        }
    }
}
