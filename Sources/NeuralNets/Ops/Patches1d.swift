import Linalg

// Two-layer models of the recovery papers over 1-D inputs: every window x[p ..< p+s] of a
// length-d input (P = d − s + 1 positions) feeds K channels. With `shared` the K kernels are
// the same at every position (a 1-D convolution, weights [K, s], bias [K]); without, each
// position has its own (locally connected, weights [P, K, s], bias [P, K]).
// Sizes here are small (d ≲ 100), so plain loops: clarity over GEMM packing.

struct Windows1d {
    var inputs, kernel, channels: Int
    var shared: Bool
    var positions: Int { inputs - kernel + 1 }
    /// Offset of the weights of (position, channel) in the weight block.
    func weight(_ p: Int, _ c: Int) -> Int { ((shared ? 0 : p * channels) + c) * kernel }
    func bias(_ p: Int, _ c: Int) -> Int { (shared ? 0 : p * channels) + c }
    var weightCount: Int { (shared ? 1 : positions) * channels * kernel }
}

extension Windows1d {
    /// Weight blocks: one shared, or one per position.
    var blocks: Int { shared ? 1 : positions }
    func block(_ p: Int) -> Int { shared ? 0 : p }
}

/// wt[block, j, c] = w[block, c, j]: the kernels transposed so that the loops over the K
/// channels run over contiguous memory (and vectorize), each sum still taken in its old order.
private func transposeKernels<T: Scalar>(_ w: UnsafePointer<T>, _ wt: UnsafeMutablePointer<T>, _ g: Windows1d) {
    let K = g.channels, s = g.kernel
    for b in 0..<g.blocks { for c in 0..<K { for j in 0..<s { wt[(b * s + j) * K + c] = w[(b * K + c) * s + j] } } }
}

// y[B, P, K] = Σ_j W[(p,) c, j] · x[B, p + j] + b[(p,) c], summed over j in order from the bias.
func patches1dForward<T: Scalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ b: UnsafePointer<T>?,
                                 _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Windows1d, scratch: (Int) -> UnsafeMutablePointer<T>) {
    let P = g.positions, K = g.channels, s = g.kernel
    let wt = scratch(g.weightCount)
    transposeKernels(w, wt, g)
    for n in 0..<batch {
        let xn = x + n * g.inputs
        for p in 0..<P {
            let yr = y + (n * P + p) * K, blk = g.block(p)
            if let b { let bb = b + blk * K; for c in 0..<K { yr[c] = bb[c] } } else { yr.update(repeating: 0, count: K) }
            for j in 0..<s {
                let xv = xn[p + j], wr = wt + (blk * s + j) * K
                for c in 0..<K { yr[c] += wr[c] * xv }
            }
        }
    }
}

// dW[(p,) c, j] += Σ_B dy[B, p, c] · x[B, p + j];  db[(p,) c] += Σ_B dy[B, p, c];
// dx[B, p + j] += Σ_c W[(p,) c, j] · dy[B, p, c]. Every entry gets its terms in the order of the
// plain (B, p, c, j) loops: dW through a transposed accumulator added back at the end.
func patches1dBackward<T: Scalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>,
                                  _ dx: UnsafeMutablePointer<T>?, _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
                                  batch: Int, _ g: Windows1d, scratch: (Int) -> UnsafeMutablePointer<T>) {
    let P = g.positions, K = g.channels, s = g.kernel, count = g.weightCount
    let wt = scratch(2 * count), dwt = wt + count
    transposeKernels(w, wt, g)
    transposeKernels(dw, dwt, g)
    for n in 0..<batch {
        let xn = x + n * g.inputs
        for p in 0..<P {
            let d = dy + (n * P + p) * K, blk = g.block(p)
            if let db { let bb = db + blk * K; for c in 0..<K { bb[c] += d[c] } }
            for j in 0..<s {
                let xv = xn[p + j], dr = dwt + (blk * s + j) * K
                for c in 0..<K { dr[c] += d[c] * xv }
            }
            if let dx {
                let dxn = dx + n * g.inputs
                for j in 0..<s {
                    let wr = wt + (blk * s + j) * K
                    var acc = dxn[p + j]
                    for c in 0..<K { acc += wr[c] * d[c] }
                    dxn[p + j] = acc
                }
            }
        }
    }
    for b in 0..<g.blocks { for c in 0..<K { for j in 0..<s { dw[(b * K + c) * s + j] = dwt[(b * s + j) * K + c] } } }
}
