import Linalg

// y[B,Ho,Wo,C] = max over each k×k window; arg[B·Ho·Wo·C] keeps the winning input index.
// The inner loop runs over contiguous channels with unconditional loads and wrapping index
// arithmetic (no overflow traps), so it vectorizes.
func maxPoolForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ arg: UnsafeMutablePointer<Int32>, batch: Int, _ g: Window
) {
    let c = g.c
    for b in 0..<batch {
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let o = ((b * g.ho + oh) * g.wo + ow) * c
                let yo = y + o, ao = arg + o
                let first = ((b * g.h + oh * g.stride) * g.w + ow * g.stride) * c
                yo.update(from: x + first, count: c)
                for ch in 0..<c { ao[ch] = Int32(truncatingIfNeeded: first &+ ch) }
                for kh in 0..<g.k {
                    for kw in 0..<g.k {
                        let i = ((b * g.h + oh * g.stride + kh) * g.w + ow * g.stride + kw) * c
                        let xi = x + i
                        let base = Int32(truncatingIfNeeded: i)
                        for ch in 0..<c {
                            let v = xi[ch], m = yo[ch], a = ao[ch]
                            let better = v > m
                            yo[ch] = better ? v : m
                            ao[ch] = better ? base &+ Int32(truncatingIfNeeded: ch) : a
                        }
                    }
                }
            }
        }
    }
}

// dx[arg] += dy
func maxPoolBackward<T: Scalar>(_ dy: UnsafePointer<T>, _ arg: UnsafePointer<Int32>, _ dx: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count { dx[Int(arg[i])] += dy[i] }
}

// y[B,Ho,Wo,C] = mean over each k×k window
func avgPoolForward<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Window) {
    let c = g.c
    let inv = 1 / T(g.k * g.k)
    for b in 0..<batch {
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let out = y + ((b * g.ho + oh) * g.wo + ow) * c
                out.update(repeating: 0, count: c)
                for kh in 0..<g.k {
                    for kw in 0..<g.k {
                        addInPlace(x + ((b * g.h + oh * g.stride + kh) * g.w + ow * g.stride + kw) * c, out, c)
                    }
                }
                for ch in 0..<c { out[ch] *= inv }
            }
        }
    }
}

// dx[window] += dy / k²
func avgPoolBackward<T: Scalar>(_ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, batch: Int, _ g: Window) {
    let c = g.c
    let inv = 1 / T(g.k * g.k)
    for b in 0..<batch {
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let d = dy + ((b * g.ho + oh) * g.wo + ow) * c
                for kh in 0..<g.k {
                    for kw in 0..<g.k {
                        axpy(inv, d, dx + ((b * g.h + oh * g.stride + kh) * g.w + ow * g.stride + kw) * c, c)
                    }
                }
            }
        }
    }
}
