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

// y[R,F] = (x − μ_f) · rstd_f · γ_f + β_f;  stats[2F] keeps (μ_f, rstd_f) for the backward pass.
// Training: the batch's mean and biased variance, and the running estimates moved toward them by
// `momentum` (the variance unbiased, R/(R−1), as PyTorch does). Evaluation: the running estimates.
func batchNormForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ beta: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
    _ stats: UnsafeMutablePointer<T>, running: RunningStats<T>, rows r: Int, features f: Int, training: Bool
) {
    let mean = stats, rstd = stats + f
    if training {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * f) { acc in
            let s = acc.baseAddress!, v = s + f
            s.update(repeating: 0, count: 2 * f)
            for i in 0..<r { let xr = x + i * f; for j in 0..<f { s[j] += Double(xr[j]) } }
            for j in 0..<f { s[j] /= Double(max(r, 1)) }
            for i in 0..<r { let xr = x + i * f; for j in 0..<f { let d = Double(xr[j]) - s[j]; v[j] += d * d } }
            let m = batchNormMomentum
            for j in 0..<f {
                let biased = v[j] / Double(max(r, 1))
                mean[j] = T(s[j])
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
    for i in 0..<r {
        let xr = x + i * f, yr = y + i * f
        for j in 0..<f { yr[j] = (xr[j] - mean[j]) * rstd[j] * gamma[j] + beta[j] }
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
        sdy.update(repeating: 0, count: 2 * f)
        for i in 0..<r {
            let xr = x + i * f, dyr = dy + i * f
            for j in 0..<f {
                let d = Double(dyr[j])
                sdy[j] += d
                sdyx[j] += d * Double((xr[j] - mean[j]) * rstd[j])
            }
        }
        for j in 0..<f { dgamma[j] += T(sdyx[j]); dbeta[j] += T(sdy[j]) }
        guard let dx else { return }
        let invR = 1 / Double(max(r, 1))
        for i in 0..<r {
            let xr = x + i * f, dyr = dy + i * f, dxr = dx + i * f
            for j in 0..<f {
                let g = gamma[j] * rstd[j]
                var t = g * dyr[j]
                if training {
                    let xh = (xr[j] - mean[j]) * rstd[j]
                    t = g * (dyr[j] - T(sdy[j] * invR) - xh * T(sdyx[j] * invR))
                }
                // A select, not 0·dx: the buffer being written may hold anything, NaN included.
                if overwrite { dxr[j] = t } else { dxr[j] += t }
            }
        }
    }
}
