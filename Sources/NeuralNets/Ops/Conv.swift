import Linalg

/// Geometry of a 2-D convolution or pooling window over an NHWC batch.
struct Window {
    var h, w, c, k, stride, pad, ho, wo: Int
    init(input s: [Int], k: Int, stride: Int, pad: Int) {
        h = s[0]; w = s[1]; c = s[2]; self.k = k; self.stride = stride; self.pad = pad
        ho = (h + 2 * pad - k) / stride + 1
        wo = (w + 2 * pad - k) / stride + 1
    }
    var patch: Int { k * k * c }
}

// col[B·Ho·Wo, k·k·C] ← x[B,H,W,C]: one row per output pixel, zeros where the window hangs
// over the padding. Channels last makes each (row of the window) a contiguous k·C run.
func im2col<T: Scalar>(_ x: UnsafePointer<T>, _ col: UnsafeMutablePointer<T>, batch: Int, _ g: Window) {
    let run = g.k * g.c
    var dst = col
    for b in 0..<batch {
        let xb = x + b * g.h * g.w * g.c
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let iw0 = ow * g.stride - g.pad
                for kh in 0..<g.k {
                    let ih = oh * g.stride - g.pad + kh
                    if ih < 0 || ih >= g.h {
                        dst.update(repeating: 0, count: run)
                    } else if iw0 >= 0 && iw0 + g.k <= g.w {
                        dst.update(from: xb + (ih * g.w + iw0) * g.c, count: run)
                    } else {
                        for kw in 0..<g.k {
                            let iw = iw0 + kw
                            let d = dst + kw * g.c
                            if iw < 0 || iw >= g.w { d.update(repeating: 0, count: g.c) }
                            else { d.update(from: xb + (ih * g.w + iw) * g.c, count: g.c) }
                        }
                    }
                    dst += run
                }
            }
        }
    }
}

// dx[B,H,W,C] += scatter of dcol[B·Ho·Wo, k·k·C] (the adjoint of im2col).
func col2imAdd<T: Scalar>(_ dcol: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, batch: Int, _ g: Window) {
    var src = dcol
    for b in 0..<batch {
        let xb = dx + b * g.h * g.w * g.c
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let iw0 = ow * g.stride - g.pad
                for kh in 0..<g.k {
                    let ih = oh * g.stride - g.pad + kh
                    if ih >= 0 && ih < g.h {
                        for kw in 0..<g.k {
                            let iw = iw0 + kw
                            if iw >= 0 && iw < g.w { addInPlace(src + kw * g.c, xb + (ih * g.w + iw) * g.c, g.c) }
                        }
                    }
                    src += g.k * g.c
                }
            }
        }
    }
}

// y[B·Ho·Wo, Cout] = col · W[Cout, k·k·Cin]ᵀ + b
func conv2dForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>,
    col: UnsafeMutablePointer<T>, batch: Int, _ g: Window, outChannels: Int
) {
    im2col(x, col, batch: batch, g)
    denseForward(col, w, bias, y, rows: batch * g.ho * g.wo, inputs: g.patch, outputs: outChannels)
}

// dW += dyᵀ·col; db += Σ dy; dx += col2im(dy · W)
func conv2dBackward<T: Scalar>(
    _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>?,
    _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
    col: UnsafePointer<T>, dcol: UnsafeMutablePointer<T>, batch: Int, _ g: Window, outChannels: Int
) {
    let rows = batch * g.ho * g.wo
    if dx != nil { dcol.update(repeating: 0, count: rows * g.patch) }
    denseBackward(col, w, dy, dx == nil ? nil : dcol, dw, db, rows: rows, inputs: g.patch, outputs: outChannels)
    if let dx { col2imAdd(dcol, dx, batch: batch, g) }
}
