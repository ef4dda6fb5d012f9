import Linalg

// y[B,Ho,Wo,C] = max over each k×k window. No argmax is stored: the backward pass finds the
// first input equal to the max, which is the one the strict `>` here kept. Inner loops run over
// contiguous channels with selects of loaded values only, so they vectorize.
func maxPoolForward<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Window) {
    maxPoolForwardBody(x, y, batch: batch, g, relu: false)
}

// A ReLU feeding a tiling max pool, in one pass: y = max(0, max over each window of x); the
// ReLU's own output is never written (max and ReLU commute).
func reluMaxPoolForward<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Window) {
    maxPoolForwardBody(x, y, batch: batch, g, relu: true)
}

// Each window's max starts from its first input, or from 0 for the fused ReLU. Called with a
// literal `relu`, so the always-inlined body is specialized on it.
@inline(__always)
private func maxPoolForwardBody<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Window,
                                           relu: Bool) {
    let c = g.c
    for b in 0..<batch {
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let yo = y + ((b * g.ho + oh) * g.wo + ow) * c
                if relu { yo.update(repeating: 0, count: c) }
                else { yo.update(from: x + ((b * g.h + oh * g.stride) * g.w + ow * g.stride) * c, count: c) }
                for kh in 0..<g.k {
                    for kw in 0..<g.k {
                        let xi = x + ((b * g.h + oh * g.stride + kh) * g.w + ow * g.stride + kw) * c
                        for ch in 0..<c { let v = xi[ch], m = yo[ch]; yo[ch] = v > m ? v : m }
                    }
                }
            }
        }
    }
}

/// Whether the windows tile the input exactly (each input in exactly one window), so that the
/// backward pass can write its input gradient instead of adding into a zeroed one.
func poolTiles(_ g: Window) -> Bool {
    g.k == g.stride && g.h == g.ho * g.k && g.w == g.wo * g.k
}

// dx[first argmax of each window] += dy. `rest[C]` carries each channel's undelivered gradient
// through the window, so exactly one input per window and channel receives it. With
// `overwrite` (only for tiling windows) every input's gradient is written instead.
func maxPoolBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
    rest: UnsafeMutablePointer<T>, batch: Int, _ g: Window, overwrite: Bool = false
) {
    // Literal flags at each call site: the always-inlined body is specialized on them, so the
    // write-or-add choice never reaches the inner loop.
    if overwrite {
        precondition(poolTiles(g), "maxPoolBackward: overwrite needs tiling windows")
        maxPoolBackwardBody(x, y, dy, dx, rest: rest, batch: batch, g, overwrite: true, relu: false)
    } else {
        maxPoolBackwardBody(x, y, dy, dx, rest: rest, batch: batch, g, overwrite: false, relu: false)
    }
}

// The fused pair's backward, from the ReLU's input x: where the window's max y is positive, the
// first x equal to it (the input the unfused max pool picks, which the ReLU passes) gets dy;
// every other input 0. Bit-identical to the two layers' backward passes in turn. Writes dx with
// `overwrite`, else adds.
func reluMaxPoolBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
    rest: UnsafeMutablePointer<T>, batch: Int, _ g: Window, overwrite: Bool
) {
    if overwrite {
        maxPoolBackwardBody(x, y, dy, dx, rest: rest, batch: batch, g, overwrite: true, relu: true)
    } else {
        maxPoolBackwardBody(x, y, dy, dx, rest: rest, batch: batch, g, overwrite: false, relu: true)
    }
}

// `relu`: the window's gradient is delivered only where its max is positive (the ReLU's gate).
@inline(__always)
private func maxPoolBackwardBody<T: Scalar>(
    _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
    rest: UnsafeMutablePointer<T>, batch: Int, _ g: Window, overwrite: Bool, relu: Bool
) {
    let c = g.c
    for b in 0..<batch {
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let o = ((b * g.ho + oh) * g.wo + ow) * c
                let yo = y + o, dyo = dy + o
                if relu { for ch in 0..<c { let v = yo[ch], d = dyo[ch]; rest[ch] = v > 0 ? d : 0 } }
                else { rest.update(from: dyo, count: c) }
                for kh in 0..<g.k {
                    for kw in 0..<g.k {
                        let i = ((b * g.h + oh * g.stride + kh) * g.w + ow * g.stride + kw) * c
                        let xi = x + i, di = dx + i
                        for ch in 0..<c {
                            // Arithmetic with a 0/1 factor rather than a select of stores:
                            // LLVM turns the latter into branches and conditional stores. A
                            // written dx never reads the old value (the buffer may hold anything).
                            let m: T = xi[ch] == yo[ch] ? 1 : 0
                            let r = rest[ch]
                            if overwrite { di[ch] = m * r } else { di[ch] += m * r }
                            rest[ch] = r - m * r
                        }
                    }
                }
            }
        }
    }
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
