import Linalg

// patches[B·N, p·p·C] ← x[B,H,W,C], patches in row-major order of the patch grid, each
// flattened as (row, column, channel) of the patch.
func extractPatches<T: Scalar>(_ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, batch: Int, h: Int, w: Int, c: Int, patch p: Int) {
    var dst = out
    for b in 0..<batch {
        let xb = x + b * h * w * c
        for i in 0..<(h / p) {
            for j in 0..<(w / p) {
                for r in 0..<p {
                    dst.update(from: xb + ((i * p + r) * w + j * p) * c, count: p * c)
                    dst += p * c
                }
            }
        }
    }
}

// dx[B,H,W,C] += the patches' gradients put back in place (the adjoint of extractPatches).
func scatterPatchesAdd<T: Scalar>(_ dp: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, batch: Int, h: Int, w: Int, c: Int, patch p: Int) {
    var src = dp
    for b in 0..<batch {
        let xb = dx + b * h * w * c
        for i in 0..<(h / p) {
            for j in 0..<(w / p) {
                for r in 0..<p {
                    addInPlace(src, xb + ((i * p + r) * w + j * p) * c, p * c)
                    src += p * c
                }
            }
        }
    }
}

// y[B,N,D] = x + pos[N,D]
func addPositionForward<T: Scalar>(_ x: UnsafePointer<T>, _ pos: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, batch: Int, size: Int) {
    for b in 0..<batch {
        let xb = x + b * size, yb = y + b * size
        for i in 0..<size { yb[i] = xb[i] + pos[i] }
    }
}

// y[B,D] = mean over N of x[B,N,D]
func meanTokensForward<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, batch: Int, tokens n: Int, dim d: Int) {
    let inv = 1 / T(n)
    for b in 0..<batch {
        let yb = y + b * d
        yb.update(repeating: 0, count: d)
        for t in 0..<n { addInPlace(x + (b * n + t) * d, yb, d) }
        for i in 0..<d { yb[i] *= inv }
    }
}

// dx[B,N,D] += dy[B,D] / N  (= with `overwrite`)
func meanTokensBackward<T: Scalar>(_ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, batch: Int, tokens n: Int, dim d: Int, overwrite: Bool = false) {
    guard n > 0 else { return }
    let inv = 1 / T(n)
    for b in 0..<batch {
        let first = dx + b * n * d
        if overwrite {
            // One scaled row, copied to the image's other tokens (an element-wise loop per token
            // ran at ~1 ns per entry).
            for i in 0..<d { first[i] = inv * dy[b * d + i] }
            for t in 1..<n { (first + t * d).update(from: first, count: d) }
        } else {
            for t in 0..<n { axpy(inv, dy + b * d, first + t * d, d) }
        }
    }
}
