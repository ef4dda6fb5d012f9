import CKernels
import Linalg

// Batch normalization over x[R, F]: each of the F features (a channel, channels last) normalized
// over the R rows (batch × positions). Statistics are summed in Double: R reaches 10⁵ (128 images
// of 32×32), where Float sums lose digits. Defaults as PyTorch's BatchNorm2d. Float on a C-kernel
// path runs the passes over the entries in C (batchnorm512.c), with the same bits.

let batchNormEpsilon = 1e-5
let batchNormMomentum = 0.1

/// The running estimates a batch norm keeps: mean[F] then variance[F], in the network's `state`.
struct RunningStats<T: Scalar> {
    let mean: UnsafeMutablePointer<T>, variance: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>, features f: Int) { mean = base; variance = base + f }
}

/// The R×F entries viewed as rows of L = lcm(F, 16) lanes (L/F original rows each), lane t
/// holding feature t mod F: with 4 or 8 channels the inner loops still run 16 lanes wide.
/// Per-feature vectors are tiled to L lanes (`tile`).
@inline(__always)
private func laneWidth(_ f: Int) -> Int {
    var (a, b) = (f, 16)
    while b != 0 { (a, b) = (b, a % b) }
    return f / a * 16
}

@inline(__always)
private func tile<T>(_ v: (Int) -> T, features f: Int, lanes l: Int, into out: UnsafeMutablePointer<T>) {
    for t in 0..<l { out[t] = v(t % f) }
}

/// Visits the n = R·F entries as rows of `l` lanes: `body(start, count)` for each row (the last
/// may be short); entry start + t has lane t.
@inline(__always)
private func forEachLaneRow(count n: Int, lanes l: Int, _ body: (Int, Int) -> Void) {
    var e = 0
    while e < n { body(e, min(l, n - e)); e += l }
}

/// Σ over the rows of `term(entry, lane)` for every feature, into `out[F]` (Double): blocks of
/// 64 lane rows summed in T, the blocks in Double — no entry is ever summed into more than 64
/// others in T.
@inline(__always)
private func columnSums<T: Scalar>(count n: Int, features f: Int, lanes l: Int, into out: UnsafeMutablePointer<Double>,
                                   _ term: (Int, Int) -> T) {
    out.update(repeating: 0, count: f)
    withUnsafeTemporaryAllocation(of: T.self, capacity: l) { buffer in
        let part = buffer.baseAddress!
        var start = 0
        while start < n {
            let end = min(n, start + 64 * l)
            part.update(repeating: 0, count: l)
            forEachLaneRow(count: end - start, lanes: l) { e, c in
                for t in 0..<c { part[t] += term(start + e + t, t) }
            }
            for t in 0..<l { out[t % f] += Double(part[t]) }
            start = end
        }
    }
}

// y[R,F] = (x − μ_f) · rstd_f · γ_f + β_f (then max(·, 0) with `relu`: a ReLU layer fused after
// it);  stats[2F] keeps (μ_f, rstd_f) for the backward pass.
// Training: the batch's mean and biased variance (two passes), and the running estimates moved
// toward them by `momentum` (the variance unbiased, R/(R−1), as PyTorch does). Evaluation: the
// running estimates.
func batchNormForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ beta: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
    _ stats: UnsafeMutablePointer<T>, running: RunningStats<T>, rows r: Int, features f: Int, training: Bool, path: KernelPath = .reference,
    relu: Bool = false
) {
    let mean = stats, rstd = stats + f, n = r * f, l = laneWidth(f)
    if training {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * f) { acc in
            let s = acc.baseAddress!, v = s + f
            if !nativeSums(0, x, nil, nil, nil, count: n, features: f, lanes: l, into: s, nil, path: path) {
                columnSums(count: n, features: f, lanes: l, into: s) { e, _ in x[e] }
            }
            for j in 0..<f { s[j] /= Double(max(r, 1)); mean[j] = T(s[j]) }
            withUnsafeTemporaryAllocation(of: T.self, capacity: l) { mt in
                let m = mt.baseAddress!
                tile({ mean[$0] }, features: f, lanes: l, into: m)
                if !nativeSums(1, x, nil, m, nil, count: n, features: f, lanes: l, into: v, nil, path: path) {
                    columnSums(count: n, features: f, lanes: l, into: v) { e, t in let d = x[e] - m[t]; return d * d }
                }
            }
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
    withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * l) { ab in
        let a = ab.baseAddress!, b = a + l
        tile({ rstd[$0] * gamma[$0] }, features: f, lanes: l, into: a)
        tile({ beta[$0] - mean[$0] * rstd[$0] * gamma[$0] }, features: f, lanes: l, into: b)
        if nativeAffine(relu ? 3 : 0, x, nil, a, b, nil, y, count: n, lanes: l, path: path) { return }
        forEachLaneRow(count: n, lanes: l) { e, c in
            let xr = x + e, yr = y + e
            if relu {
                for t in 0..<c { let v = xr[t] * a[t] + b[t]; yr[t] = v > 0 ? v : 0 }  // the ReLU layer's own test
            } else {
                for t in 0..<c { yr[t] = xr[t] * a[t] + b[t] }
            }
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
    rows r: Int, features f: Int, training: Bool, overwrite: Bool, path: KernelPath = .reference
) {
    let mean = stats, rstd = stats + f, n = r * f, l = laneWidth(f)
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * f) { acc in
        let sdy = acc.baseAddress!, sdyx = sdy + f
        withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * l) { ms in
            let m = ms.baseAddress!, s = m + l
            tile({ mean[$0] }, features: f, lanes: l, into: m)
            tile({ rstd[$0] }, features: f, lanes: l, into: s)
            if nativeSums(2, x, dy, m, s, count: n, features: f, lanes: l, into: sdy, sdyx, path: path) { return }
            columnSums(count: n, features: f, lanes: l, into: sdy) { e, _ in dy[e] }
            columnSums(count: n, features: f, lanes: l, into: sdyx) { e, t in dy[e] * ((x[e] - m[t]) * s[t]) }
        }
        for j in 0..<f { dgamma[j] += T(sdyx[j]); dbeta[j] += T(sdy[j]) }
        guard let dx else { return }
        // dx = a·dy + c·x + k per feature: a = γ·rstd; in training c = −a·rstd·mean(dy·x̂) and
        // k = −a·mean(dy) − c·μ; in evaluation c = k = 0.
        withUnsafeTemporaryAllocation(of: T.self, capacity: 3 * f + 3 * l) { coef in
            let a0 = coef.baseAddress!, c0 = a0 + f, k0 = c0 + f
            let invR = 1 / Double(max(r, 1))
            for j in 0..<f {
                a0[j] = gamma[j] * rstd[j]
                c0[j] = training ? T(-Double(a0[j]) * Double(rstd[j]) * sdyx[j] * invR) : 0
                k0[j] = training ? T(-Double(a0[j]) * sdy[j] * invR) - c0[j] * mean[j] : 0
            }
            let a = k0 + f, c = a + l, k = c + l
            tile({ a0[$0] }, features: f, lanes: l, into: a)
            tile({ c0[$0] }, features: f, lanes: l, into: c)
            tile({ k0[$0] }, features: f, lanes: l, into: k)
            if nativeAffine(overwrite ? 1 : 2, x, dy, a, c, k, dx, count: n, lanes: l, path: path) { return }
            forEachLaneRow(count: n, lanes: l) { e, w in
                let xr = x + e, dyr = dy + e, dxr = dx + e
                if overwrite { for t in 0..<w { dxr[t] = a[t] * dyr[t] + c[t] * xr[t] + k[t] } }
                else { for t in 0..<w { dxr[t] += a[t] * dyr[t] + c[t] * xr[t] + k[t] } }
            }
        }
    }
}

// The C passes (Float on a kernel path with AVX-512); false where they do not run.
private func nativeSums<T: Scalar>(_ term: Int32, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>?, _ shift: UnsafePointer<T>?,
                                   _ scale: UnsafePointer<T>?, count n: Int, features f: Int, lanes l: Int,
                                   into out: UnsafeMutablePointer<Double>, _ out2: UnsafeMutablePointer<Double>?, path: KernelPath) -> Bool {
    guard let flag = path.flag(T.self) else { return false }
    return ck_batchnorm_sums(term, floats(a)!, b.map { floats($0)! }, shift.map { floats($0)! }, scale.map { floats($0)! }, n,
                             Int32(f), Int32(l), out, out2, flag) != 0
}

private func nativeAffine<T: Scalar>(_ mode: Int32, _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>?, _ p: UnsafePointer<T>,
                                     _ q: UnsafePointer<T>, _ r: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>,
                                     count n: Int, lanes l: Int, path: KernelPath) -> Bool {
    guard let flag = path.flag(T.self) else { return false }
    return ck_batchnorm_affine(mode, floats(x)!, dy.map { floats($0)! }, floats(p)!, floats(q)!, r.map { floats($0)! },
                               floats(y)!, n, Int32(l), flag) != 0
}
