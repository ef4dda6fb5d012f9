import CBLAS
import CKernels
import RealModule

/// The element types of every array and network: `Float` for training speed, `Double` for
/// rank computations and gradient checks. BLAS/LAPACK entry points are static requirements so
/// generic code reaches the right routine (`sgemm` or `dgemm`) without a runtime type test.
public protocol Scalar: Real, BinaryFloatingPoint, SIMDScalar, Codable, Sendable
where Self.RawSignificand: FixedWidthInteger {
    /// C = alpha · op(A) · op(B) + beta · C, row-major.
    static func blasGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// The same product (plus `bias`, a row added to every row of C, when not nil) by Overparam's
    /// own kernel, with epilogue `op` (a `CK_EPILOGUE_*`, `CK_EPILOGUE_NONE` for none; see
    /// `gemm(then:…)`) on C's final values; false, having done nothing, where that does not run
    /// (see `BLAS.ownSgemm`).
    static func ownGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int, bias: UnsafePointer<Self>?, op: Int32,
        operand: UnsafePointer<Self>?) -> Bool

    /// Divide-and-conquer SVD of a row-major m × n matrix (overwritten). `u`/`vt` nil → values only.
    /// Returns LAPACK's info code.
    static func lapackGesdd(
        m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
        u: UnsafeMutablePointer<Self>?, vt: UnsafeMutablePointer<Self>?) -> Int32

    /// The same SVD by QR iteration (`gesvd`): slower, and it converges on matrices where
    /// gesdd's divide and conquer does not (`svd` falls back to it).
    static func lapackGesvd(
        m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
        u: UnsafeMutablePointer<Self>?, vt: UnsafeMutablePointer<Self>?) -> Int32

    static var typeName: String { get }
}

@inline(__always) private func tr(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: Scalar {
    public static func blasGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLAS.ensureConfigured()
        cblas_sgemm(CblasRowMajor, tr(transA), tr(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func ownGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, op: Int32,
        operand: UnsafePointer<Float>?
    ) -> Bool {
        BLAS.ensureConfigured()
        return ck_sgemm_epilogue(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b,
                                 Int32(ldb), beta, c, Int32(ldc), bias, op, operand, 0) != 0
    }

    public static func lapackGesdd(
        m: Int, n: Int, a: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
        u: UnsafeMutablePointer<Float>?, vt: UnsafeMutablePointer<Float>?
    ) -> Int32 {
        BLAS.ensureConfigured()
        let k = min(m, n)
        let jobz: CChar = u == nil ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "S"))
        return LAPACKE_sgesdd(LAPACK_ROW_MAJOR, jobz, Int32(m), Int32(n), a, Int32(n), s,
                              u, Int32(max(k, 1)), vt, Int32(max(n, 1)))
    }

    public static func lapackGesvd(
        m: Int, n: Int, a: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
        u: UnsafeMutablePointer<Float>?, vt: UnsafeMutablePointer<Float>?
    ) -> Int32 {
        BLAS.ensureConfigured()
        let k = min(m, n)
        let job: CChar = u == nil ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "S"))
        var superb = [Float](repeating: 0, count: max(k - 1, 1))
        return LAPACKE_sgesvd(LAPACK_ROW_MAJOR, job, job, Int32(m), Int32(n), a, Int32(n), s,
                              u, Int32(max(k, 1)), vt, Int32(max(n, 1)), &superb)
    }

    public static var typeName: String { "Float" }
}

extension Double: Scalar {
    public static func blasGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLAS.ensureConfigured()
        cblas_dgemm(CblasRowMajor, tr(transA), tr(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func ownGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, bias: UnsafePointer<Double>?, op: Int32,
        operand: UnsafePointer<Double>?
    ) -> Bool { false }  // rank computations and gradient checks: OpenBLAS's dgemm

    public static func lapackGesdd(
        m: Int, n: Int, a: UnsafeMutablePointer<Double>, s: UnsafeMutablePointer<Double>,
        u: UnsafeMutablePointer<Double>?, vt: UnsafeMutablePointer<Double>?
    ) -> Int32 {
        BLAS.ensureConfigured()
        let k = min(m, n)
        let jobz: CChar = u == nil ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "S"))
        return LAPACKE_dgesdd(LAPACK_ROW_MAJOR, jobz, Int32(m), Int32(n), a, Int32(n), s,
                              u, Int32(max(k, 1)), vt, Int32(max(n, 1)))
    }

    public static func lapackGesvd(
        m: Int, n: Int, a: UnsafeMutablePointer<Double>, s: UnsafeMutablePointer<Double>,
        u: UnsafeMutablePointer<Double>?, vt: UnsafeMutablePointer<Double>?
    ) -> Int32 {
        BLAS.ensureConfigured()
        let k = min(m, n)
        let job: CChar = u == nil ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "S"))
        var superb = [Double](repeating: 0, count: max(k - 1, 1))
        return LAPACKE_dgesvd(LAPACK_ROW_MAJOR, job, job, Int32(m), Int32(n), a, Int32(n), s,
                              u, Int32(max(k, 1)), vt, Int32(max(n, 1)), &superb)
    }

    public static var typeName: String { "Double" }
}
