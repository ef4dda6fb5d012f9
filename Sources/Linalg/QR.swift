import CBLAS

/// The R factor of a Householder QR of the transpose of an n × m row-major matrix A (LAPACK
/// `dgeqrf`, run in place on A's buffer, which column-major order reads as Aᵀ): Aᵀ = Q·R with R
/// k × n upper triangular (trapezoidal when m < n), k = min(n, m).
///
/// Why this route for tall stacks of rows: A = Rᵀ·Qᵀ has exactly R's singular values, so a
/// small SVD of R replaces a large one of A, and the work is one blocked (BLAS-3) factorization
/// instead of forming the Gram matrix A·Aᵀ, which would square the condition number and lose the
/// singular values below √ε·σ_max. And |R_ii| is the distance of row i of A from the span of
/// rows 0..<i, which gives the rank of every leading block of rows in one pass.
/// `a` is overwritten.
public func rowQR(_ a: inout [Double], rows n: Int, cols m: Int) throws -> Tensor<Double> {
    precondition(a.count == n * m, "rowQR: buffer of \(a.count) for \(n) × \(m)")
    let k = min(n, m)
    if k == 0 { return Tensor(shape: [0, n]) }
    guard a.allSatisfy({ $0.isFinite }) else { throw LinalgError.invalidInput("rowQR: the matrix has NaN or infinite entries") }
    var tau = [Double](repeating: 0, count: k)
    BLAS.ensureConfigured()
    let info = a.withUnsafeMutableBufferPointer { pa in
        tau.withUnsafeMutableBufferPointer { pt in
            LAPACKE_dgeqrf(LAPACK_COL_MAJOR, Int32(m), Int32(n), pa.baseAddress!, Int32(m), pt.baseAddress!)
        }
    }
    if info != 0 { throw LinalgError.notConverged(routine: "dgeqrf", info: info) }
    var r = [Double](repeating: 0, count: k * n)
    for j in 0..<n {
        for i in 0...min(j, k - 1) { r[i * n + j] = a[j * m + i] }
    }
    return Tensor(shape: [k, n], scalars: r)
}
