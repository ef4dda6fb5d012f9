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

/// The kernel paths a process computes with, which decide the last bits beside `Engine.revision`:
/// the kernel level (AVX-512, AVX2 with FMA, or portable), the sgemm in use (Overparam's own or
/// OpenBLAS's, `OVERPARAM_SGEMM`) and OpenBLAS's kernel set. One build rounds differently on
/// machines that differ in any of them; the store's keys do not carry it, so each stored result
/// keeps its arithmetic and the work queue keeps each search on workers of one.
/// `OVERPARAM_KERNELS` (`avx2`, `portable`) caps the level below the CPU's, to compute as a
/// machine of that level. Printed as "avx512 kernels, avx512 sgemm, OpenBLAS Cooperlake".
public struct Arithmetic: Hashable, Sendable, CustomStringConvertible {
    /// The kernel levels, lowest first; a level's index is its number in CKernels
    /// (`ck_isa_level`, `ck_cpu_level`, `ck_kernels_setting`).
    public static let levels = ["portable", "avx2", "avx512"]
    /// One of `levels`.
    public var level: String
    /// "openblas", or the level whose own sgemm runs the products.
    public var sgemm: String
    /// OpenBLAS's kernel set ("unknown" where it does not say).
    public var openblasCore: String

    public init(level: String, sgemm: String, openblasCore: String) {
        self.level = level; self.sgemm = sgemm; self.openblasCore = openblasCore
    }

    /// Reads a printed arithmetic back; nil for any other text.
    public init?(_ text: String) {
        let parts = text.components(separatedBy: ", ")
        guard parts.count == 3, parts[0].hasSuffix(" kernels"), parts[1].hasSuffix(" sgemm"), parts[2].hasPrefix("OpenBLAS ") else { return nil }
        self.init(level: String(parts[0].dropLast(" kernels".count)), sgemm: String(parts[1].dropLast(" sgemm".count)),
                  openblasCore: String(parts[2].dropFirst("OpenBLAS ".count)))
    }

    public var description: String { "\(level) kernels, \(sgemm) sgemm, OpenBLAS \(openblasCore)" }

    /// This process's.
    public static var here: Arithmetic {
        Arithmetic(level: levels[Int(max(0, min(2, ck_isa_level())))], sgemm: BLAS.sgemmName, openblasCore: BLAS.core)
    }

    /// The settings under which this machine computes it, as shell assignments
    /// (`OVERPARAM_KERNELS`, `OVERPARAM_SGEMM`, `OPENBLAS_CORETYPE`); nil where it names kernels this
    /// CPU lacks or a combination no machine computes (an sgemm of another level than the kernels').
    public var settings: String? {
        guard let rank = Self.levels.firstIndex(of: level), rank <= Int(ck_cpu_level()),
              sgemm == "openblas" || sgemm == level else { return nil }
        var out = ["OVERPARAM_KERNELS=\(level)"]
        if sgemm == "openblas" && level != "portable" { out.append("OVERPARAM_SGEMM=openblas") }
        if openblasCore != "unknown" { out.append("OPENBLAS_CORETYPE=\(openblasCore)") }
        return out.joined(separator: " ")
    }
}

extension Engine {
    /// This process's arithmetic, printed (`Arithmetic.here`): what stored results record.
    public static var arithmetic: String { Arithmetic.here.description }

    /// Why `OVERPARAM_KERNELS` cannot be honoured, or nil: a value other than `avx512`, `avx2` and
    /// `portable`, or a level this CPU lacks — computing at another level than asked would store
    /// results under an arithmetic that never ran.
    public static var kernelsSettingProblem: String? {
        let setting = Int(ck_kernels_setting()), names = Arithmetic.levels
        if setting == -1 {
            let value = getenv("OVERPARAM_KERNELS").map { String(cString: $0) } ?? ""
            return "OVERPARAM_KERNELS='\(value)': expected \(names.reversed().dropLast().joined(separator: ", ")) or \(names[0])"
        }
        let cpu = Int(ck_cpu_level())
        if setting <= 2 && setting > cpu {
            return "OVERPARAM_KERNELS=\(names[setting]): this CPU has \(cpu == 0 ? "neither AVX-512 nor AVX2 with FMA" : "AVX2 with FMA but no AVX-512")"
        }
        return nil
    }
}
