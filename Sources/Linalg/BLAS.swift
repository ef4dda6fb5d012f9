import CBLAS
import CKernels

/// Process-wide BLAS settings. OpenBLAS defaults to one thread per core; Overparam runs small
/// experiments side by side instead (two experiments on two cores beat one on two BLAS
/// threads), so it starts single-threaded unless `OVERPARAM_BLAS_THREADS` says otherwise.
public enum BLAS {
    private static let configured: Void = {
        _ = ck_blas_select_core()
        let env = getenvInt("OVERPARAM_BLAS_THREADS") ?? 1
        openblas_set_num_threads(Int32(max(1, env)))
    }()

    @inline(__always) public static func ensureConfigured() { _ = configured }

    public static var threads: Int {
        get { ensureConfigured(); return Int(openblas_get_num_threads()) }
        set { ensureConfigured(); openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// OpenBLAS's kernel set in use ("SkylakeX", "Haswell", ...), or "unknown" for another BLAS.
    /// On a CPU newer than the OpenBLAS release, chosen from the CPU's features (see CKernels).
    public static var core: String {
        ensureConfigured()
        guard let p = ck_blas_core_name() else { return "unknown" }
        return String(cString: p)
    }

    private static func getenvInt(_ name: String) -> Int? {
        guard let p = getenv(name) else { return nil }
        return Int(String(cString: p))
    }
}

/// C[m,n] = alpha · op(A) · op(B) + beta · C on raw row-major buffers; op(A) is m × k, op(B) k × n.
@inline(__always)
public func gemm<T: Scalar>(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: T = 1, _ a: UnsafePointer<T>, lda: Int? = nil,
    _ b: UnsafePointer<T>, ldb: Int? = nil,
    beta: T = 0, _ c: UnsafeMutablePointer<T>, ldc: Int? = nil
) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        // BLAS skips the product but still wants C scaled by beta.
        for i in 0..<m { scale(c + i * (ldc ?? n), n, by: beta) }
        return
    }
    T.blasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
               a: a, lda: lda ?? (transA ? m : k), b: b, ldb: ldb ?? (transB ? k : n),
               beta: beta, c: c, ldc: ldc ?? n)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
