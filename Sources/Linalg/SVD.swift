/// Errors from the dense decompositions.
public enum LinalgError: Error, CustomStringConvertible, Equatable {
    case notConverged(routine: String, info: Int32)
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .notConverged(r, info): return "\(r) did not converge (LAPACK info \(info))"
        case let .invalidInput(m): return m
        }
    }
}

/// Singular values of a matrix, largest first (LAPACK `gesdd`, values only; `gesvd` where gesdd
/// does not converge).
// Specialized for callers in other modules (Recovery's Gauss–Newton finish takes an SVD per
// iteration): generic, the finite-entries check alone cost more than the factorization.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func singularValues<T: Scalar>(_ a: Tensor<T>) throws -> [T] {
    guard a.rank == 2 else { throw LinalgError.invalidInput("singularValues: needs a matrix, got shape \(a.shape)") }
    let (m, n) = (a.shape[0], a.shape[1])
    if m == 0 || n == 0 { return [] }
    guard a.scalars.allSatisfy({ $0.isFinite }) else {
        throw LinalgError.invalidInput("singularValues: the matrix has NaN or infinite entries")
    }
    var s = [T](repeating: 0, count: min(m, n))
    try s.withUnsafeMutableBufferPointer { ps in
        try factorize(a, s: ps.baseAddress!, u: nil, vt: nil)
    }
    return s
}

/// The SVD of `a` into s (and u, vt where given) by LAPACK's gesdd, on a copy of its entries; where
/// gesdd's divide and conquer does not converge (info > 0: it happens, deterministically, on some
/// matrices of widely spread singular values, such as a Gauss–Newton finish's kernel JJᵀ with
/// eigenvalues from 1e-10 to 200), by gesvd's QR iteration on a fresh copy. Throws when both fail.
private func factorize<T: Scalar>(_ a: Tensor<T>, s: UnsafeMutablePointer<T>, u: UnsafeMutablePointer<T>?,
                                  vt: UnsafeMutablePointer<T>?) throws {
    let (m, n) = (a.shape[0], a.shape[1])
    for qrIteration in [false, true] {
        var work = a.scalars
        let info = work.withUnsafeMutableBufferPointer { pa in
            qrIteration ? T.lapackGesvd(m: m, n: n, a: pa.baseAddress!, s: s, u: u, vt: vt)
                        : T.lapackGesdd(m: m, n: n, a: pa.baseAddress!, s: s, u: u, vt: vt)
        }
        if info == 0 { return }
        if info < 0 || qrIteration {
            throw LinalgError.notConverged(routine: (T.typeName == "Float" ? "s" : "d") + (qrIteration ? "gesvd" : "gesdd"), info: info)
        }
    }
}

/// Thin SVD a = U · diag(S) · Vᵀ: U is m × k, Vᵀ is k × n, k = min(m, n) (gesdd, or gesvd where
/// gesdd does not converge).
// Specialized for callers in other modules (Recovery's Gauss–Newton finish takes an SVD per
// iteration): generic, the finite-entries check alone cost more than the factorization.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func svd<T: Scalar>(_ a: Tensor<T>) throws -> (u: Tensor<T>, s: [T], vt: Tensor<T>) {
    guard a.rank == 2 else { throw LinalgError.invalidInput("svd: needs a matrix, got shape \(a.shape)") }
    let (m, n) = (a.shape[0], a.shape[1])
    let k = min(m, n)
    if k == 0 { return (Tensor(shape: [m, 0]), [], Tensor(shape: [0, n])) }
    guard a.scalars.allSatisfy({ $0.isFinite }) else {
        throw LinalgError.invalidInput("svd: the matrix has NaN or infinite entries")
    }
    var s = [T](repeating: 0, count: k)
    var u = [T](repeating: 0, count: m * k)
    var vt = [T](repeating: 0, count: k * n)
    try s.withUnsafeMutableBufferPointer { ps in
        try u.withUnsafeMutableBufferPointer { pu in
            try vt.withUnsafeMutableBufferPointer { pv in
                try factorize(a, s: ps.baseAddress!, u: pu.baseAddress!, vt: pv.baseAddress!)
            }
        }
    }
    return (Tensor(shape: [m, k], scalars: u), s, Tensor(shape: [k, n], scalars: vt))
}

/// The default numerical-rank tolerance: max(rows, cols) · ε · σ_max (as NumPy's matrix_rank).
public func defaultRankTolerance<T: Scalar>(singularValues s: [T], rows: Int, cols: Int) -> T {
    T(max(rows, cols)) * T.ulpOfOne * (s.first ?? 0)
}

/// Number of singular values strictly above the tolerance (default: `defaultRankTolerance`).
public func numericalRank<T: Scalar>(singularValues s: [T], rows: Int, cols: Int, tolerance: T? = nil) -> Int {
    let tol = tolerance ?? defaultRankTolerance(singularValues: s, rows: rows, cols: cols)
    return s.filter { $0 > tol }.count
}

/// Numerical rank of a matrix.
public func numericalRank<T: Scalar>(_ a: Tensor<T>, tolerance: T? = nil) throws -> Int {
    let s = try singularValues(a)
    return numericalRank(singularValues: s, rows: a.shape[0], cols: a.shape[1], tolerance: tolerance)
}
