import Linalg

/// A search whose stored attempts another arithmetic computed, at the point where this process
/// would add its own: the last bits of rounding decide attempts at the edge of fitting (a depth
/// MLP's EMC moves by up to a third between an AVX2 and an AVX-512 machine, RESULTS.md), so a
/// bisection continued here would end at an EMC neither machine computes. A finished search is
/// read back wherever it was computed; only new attempts are refused.
public struct SearchBegunElsewhere: Error, CustomStringConvertible {
    public var seed: UInt64
    /// The arithmetic of its stored attempts, and this process's.
    public var arithmetic: String, here: String

    public init(seed: UInt64, arithmetic: String, here: String) {
        self.seed = seed; self.arithmetic = arithmetic; self.here = here
    }

    public var description: String {
        let how = Arithmetic(arithmetic)?.settings.map { "here with \($0), " } ?? ""
        return "seed \(seed)'s search was begun by another arithmetic (\(arithmetic)) than this machine's (\(here)), "
            + "and an attempt of this one would round differently: continue it where it began, \(how)or with another --store"
    }
}

/// The first arithmetic of `attempts` other than `here` (attempts that do not say are taken to
/// agree: stores written before it was recorded).
public func foreignArithmetic(_ attempts: [FitResult], here: String) -> String? {
    attempts.lazy.compactMap(\.arithmetic).first { $0 != here }
}
