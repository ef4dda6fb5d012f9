import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// it, so the work queue keeps each search on workers of one arithmetic. `OVERPARAM_KERNELS`
    /// (`avx2`, `portable`) caps the level below the CPU's, to compute as a machine of that level.
    public static var arithmetic: String {
        let level = ["portable", "avx2", "avx512"][Int(max(0, min(2, ck_isa_level())))]
        return "\(level) kernels, \(BLAS.sgemmName) sgemm, OpenBLAS \(BLAS.core)"
    }
}

extension Engine {
    /// Why `OVERPARAM_KERNELS` cannot be honoured, or nil: a value other than `avx512`, `avx2` and
    /// `portable`, or a level this CPU lacks — computing at another level than asked would store
    /// results under an arithmetic that never ran.
    public static var kernelsSettingProblem: String? {
        let setting = Int(ck_kernels_setting())
        let names = ["portable", "avx2", "avx512"]
        if setting == -1 {
            let value = getenv("OVERPARAM_KERNELS").map { String(cString: $0) } ?? ""
            return "OVERPARAM_KERNELS='\(value)': expected avx512, avx2 or portable"
        }
        let cpu = Int(ck_cpu_level())
        if setting <= 2 && setting > cpu {
            return "OVERPARAM_KERNELS=\(names[setting]): this CPU has \(cpu == 0 ? "neither AVX-512 nor AVX2 with FMA" : "AVX2 with FMA but no AVX-512")"
        }
        return nil
    }
}

extension Engine {
    /// The settings under which this machine computes `arithmetic` (one `Engine.arithmetic`
    /// printed), as shell assignments: `OVERPARAM_KERNELS`, `OVERPARAM_SGEMM` and
    /// `OPENBLAS_CORETYPE`; nil where it names kernels this CPU lacks or does not parse.
    public static func settings(toCompute arithmetic: String) -> String? {
        let parts = arithmetic.components(separatedBy: ", ")
        guard parts.count == 3, parts[0].hasSuffix(" kernels"), parts[1].hasSuffix(" sgemm"), parts[2].hasPrefix("OpenBLAS ") else { return nil }
        let level = String(parts[0].dropLast(" kernels".count)), sgemm = String(parts[1].dropLast(" sgemm".count))
        let core = String(parts[2].dropFirst("OpenBLAS ".count))
        guard let rank = ["portable", "avx2", "avx512"].firstIndex(of: level), rank <= Int(ck_cpu_level()),
              sgemm == "openblas" || sgemm == level else { return nil }
        var out = ["OVERPARAM_KERNELS=\(level)"]
        if sgemm == "openblas" && level != "portable" { out.append("OVERPARAM_SGEMM=openblas") }
        if core != "unknown" { out.append("OPENBLAS_CORETYPE=\(core)") }
        return out.joined(separator: " ")
    }
}
