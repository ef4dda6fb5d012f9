import Linalg

// Batch normalization over x[R, F]: each of the F features (a channel, channels last) normalized
// over the R rows (batch × positions). Statistics are summed in Double: R reaches 10⁵ (128 images
// of 32×32), where Float sums lose digits. Defaults as PyTorch's BatchNorm2d.

let batchNormEpsilon = 1e-5
let batchNormMomentum = 0.1

/// The running estimates a batch norm keeps: mean[F] then variance[F], in the network's `state`.
struct RunningStats<T: Scalar> {
    let mean: UnsafeMutablePointer<T>, variance: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>, features f: Int) { mean = base; variance = base + f }
}

/// Σ over the R rows of `term(row, feature)` for every feature, into `out[F]` (Double): blocks
/// of 64 rows summed in T, the blocks in Double — the inner loop runs along the features,
/// contiguous, so it vectorizes; no row's value is ever summed into more than 64 others in T.
@inline(__always)
private func columnSums<T: Scalar>(rows r: Int, features f: Int, into out: UnsafeMutablePointer<Double>,
                                   _ term: (Int, Int) -> T) {
    out.update(repeating: 0, count: f)
    withUnsafeTemporaryAllocation(of: T.self, capacity: f) { buffer in
        let part = buffer.baseAddress!
        var start = 0
        while start < r {
            let end = min(r, start + 64)
            part.update(repeating: 0, count: f)
            for i in start..<end { for j in 0..<f { part[j] += term(i, j) } }
            for j in 0..<f { out[j] += Double(part[j]) }
            start = end
        }
    }
}

// y[R,F] = (x − μ_f) · rstd_f · γ_f + β_f;  stats[2F] keeps (μ_f, rstd_f) for the backward pass.
// Training: the batch's mean and biased variance (two passes), and the running estimates moved
// toward them by `momentum` (the variance unbiased, R/(R−1), as PyTorch does). Evaluation: the
// running estimates.
func batchNormForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ beta: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
    _ stats: UnsafeMutablePointer<T>, running: RunningStats<T>, rows r: Int, features f: Int, training: Bool
) {
    let mean = stats, rstd = stats + f
    if training {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * f) { acc in
            let s = acc.baseAddress!, v = s + f
            columnSums(rows: r, features: f, into: s) { i, j in x[i * f + j] }
            for j in 0..<f { s[j] /= Double(max(r, 1)); mean[j] = T(s[j]) }
            columnSums(rows: r, features: f, into: v) { i, j in let d = x[i * f + j] - mean[j]; return d * d }
            let m = batchNormMomentum
            for j in 0..<f {
                let biased = v[j] / Double(max(r, 1))
                rstd[j] = T(1 / (biased + batchNormEpsilon).squareRoot())
                let unbiased = r > 1 ? v[j] / Double(r - 1) : biased
                running.mean[j] = T((1 - m) * Double(running.mean[j]) + m * s[j])
                running.variance[j] = T((1 - m) * Double(running.variance[j]) + m * unbiased)
            }
        }
    } else {
        for j in 0..<f {
            mean[j] = running.mean[j]
            rstd[j] = T(1 / (Double(running.variance[j]) + batchNormEpsilon).squareRoot())
        }
    }
    // y = x · a + b with a = rstd·γ, b = β − μ·a: one multiply-add per entry.
    withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * f) { ab in
        let a = ab.baseAddress!, b = a + f
        for j in 0..<f { a[j] = rstd[j] * gamma[j]; b[j] = beta[j] - mean[j] * a[j] }
        for i in 0..<r {
            let xr = x + i * f, yr = y + i * f
            for j in 0..<f { yr[j] = xr[j] * a[j] + b[j] }
        }
    }
}

// dγ += Σ_r dy·x̂;  dβ += Σ_r dy;  with x̂ = (x − μ)·rstd and g = dy·γ:
// training  dx = rstd · (g − mean_r(g) − x̂ · mean_r(g·x̂))   (μ and rstd depend on every row)
// evaluation dx = rstd · g                                      (an affine map)
// dx is added to, or written with `overwrite`.
func batchNormBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ stats: UnsafePointer<T>, _ dy: UnsafePointer<T>,
    _ dx: UnsafeMutablePointer<T>?, _ dgamma: UnsafeMutablePointer<T>, _ dbeta: UnsafeMutablePointer<T>,
    rows r: Int, features f: Int, training: Bool, overwrite: Bool
) {
    let mean = stats, rstd = stats + f
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * f) { acc in
        let sdy = acc.baseAddress!, sdyx = sdy + f
        columnSums(rows: r, features: f, into: sdy) { i, j in dy[i * f + j] }
        columnSums(rows: r, features: f, into: sdyx) { i, j in dy[i * f + j] * ((x[i * f + j] - mean[j]) * rstd[j]) }
        for j in 0..<f { dgamma[j] += T(sdyx[j]); dbeta[j] += T(sdy[j]) }
        guard let dx else { return }
        // dx = a·dy + c·x + k per feature: a = γ·rstd; in training c = −a·rstd·mean(dy·x̂) and
        // k = −a·mean(dy) − c·μ; in evaluation c = k = 0.
        withUnsafeTemporaryAllocation(of: T.self, capacity: 3 * f) { coef in
            let a = coef.baseAddress!, c = a + f, k = c + f
            let invR = 1 / Double(max(r, 1))
            for j in 0..<f {
                a[j] = gamma[j] * rstd[j]
                c[j] = training ? T(-Double(a[j]) * Double(rstd[j]) * sdyx[j] * invR) : 0
                k[j] = training ? T(-Double(a[j]) * sdy[j] * invR) - c[j] * mean[j] : 0
            }
            for i in 0..<r {
                let xr = x + i * f, dyr = dy + i * f, dxr = dx + i * f
                if overwrite { for j in 0..<f { dxr[j] = a[j] * dyr[j] + c[j] * xr[j] + k[j] } }
                else { for j in 0..<f { dxr[j] += a[j] * dyr[j] + c[j] * xr[j] + k[j] } }
            }
        }
    }
}
