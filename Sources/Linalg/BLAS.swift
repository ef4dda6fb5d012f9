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
        if let p = getenv("OVERPARAM_SGEMM"), String(cString: p).lowercased() == "openblas" { ck_sgemm_enable(0) }
    }()

    @inline(__always) package static func ensureConfigured() { _ = configured }

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

    /// Whether Float products run Overparam's own kernel on the shapes where it beats OpenBLAS
    /// (see CKernels/sgemm.c); false sends every product to OpenBLAS. Only ever true on CPUs with
    /// AVX-512 or AVX2 (with FMA); starts false when `OVERPARAM_SGEMM=openblas`.
    public static var ownSgemm: Bool {
        get { ensureConfigured(); return ck_sgemm_enabled() != 0 }
        set { ensureConfigured(); ck_sgemm_enable(newValue ? 1 : 0) }
    }

    /// Whether this CPU can run Overparam's sgemm kernel (AVX-512, or AVX2 with FMA).
    public static var ownSgemmAvailable: Bool { ck_sgemm_available() != 0 }

    /// "avx512", "avx2" or "openblas": which kernel `ownSgemm` selects, for benchmark records.
    package static var sgemmName: String { ownSgemm ? (ck_isa_level() == 2 ? "avx512" : "avx2") : "openblas" }

    private static func getenvInt(_ name: String) -> Int? {
        guard let p = getenv(name) else { return nil }
        return Int(String(cString: p))
    }
}

/// OpenBLAS's sgemm, whatever `BLAS.ownSgemm` says: the reference rate of benchmarks.
package func openblasSgemm(
    m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>
) {
    BLAS.ensureConfigured()
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n),
                0, c, Int32(n))
}

/// C[m,n] = alpha · op(A) · op(B) + beta · C (+ bias, a row of n added to every row of C) on raw
/// row-major buffers; op(A) is m × k, op(B) k × n. Float products run Overparam's own kernel where
/// it is faster (`BLAS.ownSgemm`), OpenBLAS otherwise.
@inline(__always)
package func gemm<T: Scalar>(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: T = 1, _ a: UnsafePointer<T>, lda: Int? = nil,
    _ b: UnsafePointer<T>, ldb: Int? = nil,
    beta: T = 0, _ c: UnsafeMutablePointer<T>, ldc: Int? = nil, bias: UnsafePointer<T>? = nil
) {
    if m == 0 || n == 0 { return }
    let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
    if k > 0, T.ownGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias, op: Int32(CK_EPILOGUE_NONE), operand: nil) { return }
    var beta = beta
    if let bias {
        // The bias rows first, then the product added onto them.
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 { row.update(from: bias, count: n) }
            else {
                if beta != 1 { scale(row, n, by: beta) }
                addInPlace(bias, row, n)
            }
        }
        beta = 1
    }
    if k == 0 {
        // BLAS skips the product but still wants C scaled by beta (set to zero for beta 0: C's
        // old values, NaN included, are not to be read then).
        if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        else if beta != 1 { for i in 0..<m { scale(c + i * ldc, n, by: beta) } }
        return
    }
    T.blasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// What a product does to each entry v of C once it is computed, before it is stored (see
/// `gemm(then:…)`); operands have C's shape, at C's stride, and are not C itself.
package enum GemmEpilogue<T: Scalar> {
    /// v > 0 ? v : 0 (NaN and −0 give +0): a ReLU after the product.
    case relu
    /// mask > 0 ? v : 0: a ReLU's backward pass through its output, made by the product that
    /// computes the gradient it masks.
    case mask(UnsafePointer<T>)
    /// addend + v, last: a residual connection's sum, made by the product that computes its
    /// branch, so that the branch's own output is never written.
    case add(UnsafePointer<T>)
    /// factor · v: an activation's backward pass through its stored derivative (GELU′).
    case multiply(UnsafePointer<T>)
}

/// `gemm` followed by `epilogue` on every entry of C, applied in registers by Overparam's own
/// kernel so that C is written once, with the bits of the product followed by the separate pass.
/// Returns false, having done nothing, where that kernel does not run the product (Double, a CPU
/// without AVX-512 or AVX2, a shape OpenBLAS runs faster: see `BLAS.ownSgemm`): the caller then runs the
/// product and the pass apart.
package func gemm<T: Scalar>(
    then epilogue: GemmEpilogue<T>, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: T = 1, _ a: UnsafePointer<T>, lda: Int? = nil,
    _ b: UnsafePointer<T>, ldb: Int? = nil,
    beta: T = 0, _ c: UnsafeMutablePointer<T>, ldc: Int? = nil, bias: UnsafePointer<T>? = nil
) -> Bool {
    if m == 0 || n == 0 || k == 0 { return false }
    let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
    let (op, operand): (Int32, UnsafePointer<T>?)
    switch epilogue {
    case .relu: (op, operand) = (Int32(CK_EPILOGUE_RELU), nil)
    case let .mask(p): (op, operand) = (Int32(CK_EPILOGUE_MASK), p)
    case let .add(p): (op, operand) = (Int32(CK_EPILOGUE_ADD), p)
    case let .multiply(p): (op, operand) = (Int32(CK_EPILOGUE_MULTIPLY), p)
    }
    return T.ownGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                     b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias, op: op, operand: operand)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
