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

// y[B, P, K] = Σ_j W[(p,) c, j] · x[B, p + j] + b[(p,) c]
func patches1dForward<T: Scalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ b: UnsafePointer<T>?,
                                 _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Windows1d) {
    let P = g.positions, K = g.channels
    for n in 0..<batch {
        let xn = x + n * g.inputs
        for p in 0..<P {
            for c in 0..<K {
                var s: T = b.map { $0[g.bias(p, c)] } ?? 0
                let wc = w + g.weight(p, c)
                for j in 0..<g.kernel { s += wc[j] * xn[p + j] }
                y[(n * P + p) * K + c] = s
            }
        }
    }
}

// dW[(p,) c, j] += Σ_B dy[B, p, c] · x[B, p + j];  db[(p,) c] += Σ_B dy[B, p, c];
// dx[B, p + j] += Σ_c W[(p,) c, j] · dy[B, p, c]
func patches1dBackward<T: Scalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>,
                                  _ dx: UnsafeMutablePointer<T>?, _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
                                  batch: Int, _ g: Windows1d) {
    let P = g.positions, K = g.channels
    for n in 0..<batch {
        let xn = x + n * g.inputs
        for p in 0..<P {
            for c in 0..<K {
                let d = dy[(n * P + p) * K + c]
                db?[g.bias(p, c)] += d
                let o = g.weight(p, c)
                for j in 0..<g.kernel { dw[o + j] += d * xn[p + j] }
                if let dx {
                    for j in 0..<g.kernel { dx[n * g.inputs + p + j] += w[o + j] * d }
                }
            }
        }
    }
}
