/// Eigenvalues of a symmetric tridiagonal matrix (diagonal a, off-diagonal b, b.count ==
/// a.count − 1) by Sturm-sequence bisection: how many eigenvalues lie below x is the number of
/// negative pivots of the LDLᵀ factorization of T − xI, so each eigenvalue can be bracketed
/// within Gershgorin's interval to any precision. For the small matrices Lanczos builds.
public enum SymmetricTridiagonal {
    /// The number of eigenvalues below x.
    public static func count(below x: Double, diagonal a: [Double], offDiagonal b: [Double]) -> Int {
        var negatives = 0, d = 1.0
        for i in a.indices {
            d = a[i] - x - (i > 0 ? b[i - 1] * b[i - 1] / d : 0)
            // A zero pivot: step off it by the smallest amount that keeps the count's sign rule.
            if d == 0 { d = -Double.ulpOfOne * max(1, abs(x)) }
            if d < 0 { negatives += 1 }
        }
        return negatives
    }

    /// The k-th smallest eigenvalue (k = 0 the smallest), to `tolerance` relative to the spread.
    public static func eigenvalue(_ k: Int, diagonal a: [Double], offDiagonal b: [Double], tolerance: Double = 1e-13) -> Double {
        precondition(!a.isEmpty && b.count == a.count - 1 && k >= 0 && k < a.count)
        // Gershgorin: every eigenvalue lies within some row's disc.
        var lo = Double.infinity, hi = -Double.infinity
        for i in a.indices {
            let r = (i > 0 ? abs(b[i - 1]) : 0) + (i < b.count ? abs(b[i]) : 0)
            lo = min(lo, a[i] - r); hi = max(hi, a[i] + r)
        }
        let width = max(hi - lo, Double.leastNormalMagnitude)
        while hi - lo > tolerance * width {
            let mid = (lo + hi) / 2
            if count(below: mid, diagonal: a, offDiagonal: b) > k { hi = mid } else { lo = mid }
        }
        return (lo + hi) / 2
    }
}
