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

/// Singular values of a matrix, largest first (LAPACK `gesdd`, values only).
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
    var work = a.scalars
    var s = [T](repeating: 0, count: min(m, n))
    let info = work.withUnsafeMutableBufferPointer { pa in
        s.withUnsafeMutableBufferPointer { ps in
            T.lapackGesdd(m: m, n: n, a: pa.baseAddress!, s: ps.baseAddress!, u: nil, vt: nil)
        }
    }
    if info != 0 { throw LinalgError.notConverged(routine: "\(T.typeName == "Float" ? "s" : "d")gesdd", info: info) }
    return s
}

/// Thin SVD a = U · diag(S) · Vᵀ: U is m × k, Vᵀ is k × n, k = min(m, n).
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
    var work = a.scalars
    var s = [T](repeating: 0, count: k)
    var u = [T](repeating: 0, count: m * k)
    var vt = [T](repeating: 0, count: k * n)
    let info = work.withUnsafeMutableBufferPointer { pa in
        s.withUnsafeMutableBufferPointer { ps in
            u.withUnsafeMutableBufferPointer { pu in
                vt.withUnsafeMutableBufferPointer { pv in
                    T.lapackGesdd(m: m, n: n, a: pa.baseAddress!, s: ps.baseAddress!,
                                  u: pu.baseAddress!, vt: pv.baseAddress!)
                }
            }
        }
    }
    if info != 0 { throw LinalgError.notConverged(routine: "gesdd", info: info) }
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
