import Linalg

// Locally connected 2-D layer: a convolution whose k×k×C kernels differ at every output
// position (no weight sharing), stride 1, no padding. [H, W, C] → [Ho, Wo, K] with
// Ho = H − k + 1; weights [Ho, Wo, K, k, k, C], biases [Ho, Wo, K]. The recovery papers'
// middle case between a CNN and a dense net; sizes there are small, so plain loops.

struct Local2d {
    var h, w, c, kernel, channels: Int
    var ho: Int { h - kernel + 1 }
    var wo: Int { w - kernel + 1 }
    var patch: Int { kernel * kernel * c }
    var weightCount: Int { ho * wo * channels * patch }
    var outputs: Int { ho * wo * channels }
}

// y[B, i, j, o] = Σ_{a,b,ch} W[i, j, o, a, b, ch] · x[B, i+a, j+b, ch] + bias[i, j, o]
func local2dForward<T: Scalar>(_ x: UnsafePointer<T>, _ wt: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                               _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Local2d) {
    for n in 0..<batch {
        let xn = x + n * g.h * g.w * g.c, yn = y + n * g.outputs
        for i in 0..<g.ho {
            for j in 0..<g.wo {
                for o in 0..<g.channels {
                    let unit = (i * g.wo + j) * g.channels + o
                    var s: T = bias.map { $0[unit] } ?? 0
                    var wp = wt + unit * g.patch
                    for a in 0..<g.kernel {
                        let row = xn + ((i + a) * g.w + j) * g.c
                        for t in 0..<g.kernel * g.c { s += wp[t] * row[t] }
                        wp += g.kernel * g.c
                    }
                    yn[unit] = s
                }
            }
        }
    }
}

// dW[i, j, o, …] += Σ_B dy[B, i, j, o] · patch;  dbias[i, j, o] += Σ_B dy;  dx[patch] += W · dy
func local2dBackward<T: Scalar>(_ x: UnsafePointer<T>, _ wt: UnsafePointer<T>, _ dy: UnsafePointer<T>,
                                _ dx: UnsafeMutablePointer<T>?, _ dw: UnsafeMutablePointer<T>, _ dbias: UnsafeMutablePointer<T>?,
                                batch: Int, _ g: Local2d) {
    for n in 0..<batch {
        let xn = x + n * g.h * g.w * g.c, dyn = dy + n * g.outputs
        for i in 0..<g.ho {
            for j in 0..<g.wo {
                for o in 0..<g.channels {
                    let unit = (i * g.wo + j) * g.channels + o
                    let d = dyn[unit]
                    dbias?[unit] += d
                    let off = unit * g.patch
                    for a in 0..<g.kernel {
                        let start = ((i + a) * g.w + j) * g.c, wo = off + a * g.kernel * g.c
                        for t in 0..<g.kernel * g.c {
                            dw[wo + t] += d * xn[start + t]
                            if let dx { dx[n * g.h * g.w * g.c + start + t] += wt[wo + t] * d }
                        }
                    }
                }
            }
        }
    }
}
