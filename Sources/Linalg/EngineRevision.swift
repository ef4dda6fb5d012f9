import CKernels

/// Which arithmetic produced a stored result.
///
/// The result store keys an experiment by its configuration, and a re-run reads finished
/// attempts back instead of training again. That is only right while the same configuration
/// gives the same bits: a kernel that sums in another order, a new initializer draw or a changed
/// data transform makes different (equally valid) numbers, and an old store would then hand back
/// results the current build would not produce. So every change that alters any instrument's
/// output bits raises `revision`, and the store keys experiments by it too (from 2 on: a key of
/// revision 1 is the configuration alone, as stores had it before). Speed-ups that keep the bits — the tests
/// check bit-identity where a fast path replaces a slow one — leave it as it is.
///
/// Revisions: 1, the first keyed; 2, products and the softmax cross-entropy on CPUs with AVX2 but
/// no AVX-512 run Overparam's own AVX2 kernels instead of OpenBLAS's and the Swift loss (the bits
/// on AVX-512 CPUs are unchanged, but a key cannot tell the two apart). Keys do not carry the machine's
/// kernels (`arithmetic`); the work queue keeps each search on workers of one.
public enum Engine {
    public static let revision = 2
}

extension Engine {
    /// The kernel paths this process computes with, which decide the last bits beside the
    /// revision: the CPU's kernel level (AVX-512, AVX2 with FMA, or portable), the sgemm in use
    /// (Overparam's own or OpenBLAS's, `OVERPARAM_SGEMM`) and OpenBLAS's kernel set. One build
    /// rounds differently on machines that differ in any of them; the store's keys do not carry
    /// it, so the work queue keeps each search on workers of one arithmetic.
    public static var arithmetic: String {
        let level = ["portable", "avx2", "avx512"][Int(max(0, min(2, ck_isa_level())))]
        return "\(level) kernels, \(BLAS.sgemmName) sgemm, OpenBLAS \(BLAS.core)"
    }
}
