import Linalg
import RealModule

let layerNormEpsilon = 1e-5

// y[R,F] = (x − μ_r) · rstd_r · γ + β;  stats[2R] keeps (μ_r, rstd_r) for the backward pass.
func layerNormForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ beta: UnsafePointer<T>,
    _ y: UnsafeMutablePointer<T>, _ stats: UnsafeMutablePointer<T>, rows: Int, features f: Int,
    path: KernelPath = .reference
) {
    if let flag = path.flag(T.self), nativeLayerNormForward(x, gamma, beta, y, stats, rows: rows, features: f, flag: flag) { return }
    let invF = 1 / T(f)
    for r in 0..<rows {
        let xr = x + r * f, yr = y + r * f
        let mean = sum(xr, f) * invF
        var v: T = 0
        for i in 0..<f { let d = xr[i] - mean; v += d * d }
        let rstd = 1 / T.sqrt(v * invF + T(layerNormEpsilon))
        for i in 0..<f { yr[i] = (xr[i] - mean) * rstd * gamma[i] + beta[i] }
        stats[2 * r] = mean; stats[2 * r + 1] = rstd
    }
}

// dγ += Σ dy·x̂;  dβ += Σ dy;  dx += rstd · (g − mean(g) − x̂ · mean(g·x̂)) with g = dy·γ
// (dx = … with `overwrite`; dx = base + … with `base`, dx's shape: a residual connection's
// gradient, added as it is written instead of copied into dx first)
func layerNormBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ stats: UnsafePointer<T>, _ dy: UnsafePointer<T>,
    _ dx: UnsafeMutablePointer<T>?, _ dgamma: UnsafeMutablePointer<T>, _ dbeta: UnsafeMutablePointer<T>,
    rows: Int, features f: Int, overwrite: Bool = false, base: UnsafePointer<T>? = nil,
    path: KernelPath = .reference, scratch: (Int) -> UnsafeMutablePointer<T> = { _ in fatalError() }
) {
    if let flag = path.flag(T.self), f % 8 == 0,
       nativeLayerNormBackward(x, gamma, stats, dy, dx, dgamma, dbeta, rows: rows, features: f, overwrite: overwrite,
                               base: base, scratch: scratch(2 * f), flag: flag) { return }
    let invF = 1 / T(f)
    for r in 0..<rows {
        let xr = x + r * f, dyr = dy + r * f
        let mean = stats[2 * r], rstd = stats[2 * r + 1]
        var sg: T = 0, sgx: T = 0
        for i in 0..<f {
            let xh = (xr[i] - mean) * rstd
            dgamma[i] += dyr[i] * xh
            dbeta[i] += dyr[i]
            let g = dyr[i] * gamma[i]
            sg += g; sgx += g * xh
        }
        guard let dx else { continue }
        let dxr = dx + r * f
        let mg = sg * invF, mgx = sgx * invF
        for i in 0..<f {
            let xh = (xr[i] - mean) * rstd
            // A select, not 0·dx: the buffer being written may hold anything, NaN included.
            let t = rstd * (dyr[i] * gamma[i] - mg - xh * mgx)
            if let base { dxr[i] = base[r * f + i] + t } else { let old = dxr[i]; dxr[i] = overwrite ? t : old + t }
        }
    }
}

// y = x · mask, mask ∈ {0, 1/(1−p)} drawn per entry.
func dropoutForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ mask: UnsafeMutablePointer<T>,
    rate: Double, count: Int, rng: inout RNG
) {
    let keep = T(1 / (1 - rate))
    for i in 0..<count { mask[i] = rng.uniform() < rate ? 0 : keep }
    for i in 0..<count { y[i] = x[i] * mask[i] }
}
