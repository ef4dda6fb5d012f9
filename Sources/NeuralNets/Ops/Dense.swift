import CKernels
import Linalg

// y[R,O] = x[R,I] · W[O,I]ᵀ + b[O]
func denseForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ b: UnsafePointer<T>?,
    _ y: UnsafeMutablePointer<T>, rows: Int, inputs: Int, outputs: Int
) {
    gemm(transB: true, m: rows, n: outputs, k: inputs, x, w, y, bias: b)
}

// dW[O,I] += dyᵀ · x;  db[O] += Σ_r dy[r];  dx[R,I] += dy · W   (dx skipped when nil; written
// rather than added when `overwriteDx`, which spares the caller zeroing a scratch buffer; dW and
// db likewise when `overwriteGrad`, which spares zeroing the gradient buffer). db through the C
// column sums on a Float kernel path (the Swift loop below ran on SSE, one chain per column).
// With `reluMask` (R×I: the ReLU output that is this layer's input, and scratch; needs
// `overwriteDx`): dx = output > 0 ? dy · W : 0, the gradient below that ReLU, from one product
// where `gemmReLU` runs it, else the product into the scratch and the ReLU's backward pass.
func denseBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>,
    _ dx: UnsafeMutablePointer<T>?, _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
    rows: Int, inputs: Int, outputs: Int, overwriteDx: Bool = false, overwriteGrad: Bool = false,
    reluMask: (output: UnsafePointer<T>, scratch: UnsafeMutablePointer<T>)? = nil, path: KernelPath = .reference
) {
    gemm(transA: true, m: outputs, n: inputs, k: rows, dy, x, beta: overwriteGrad ? 0 : 1, dw)
    if let db, let flag = path.flag(T.self), let f = floats(dy), let s = floats(db) {
        ck_column_sums(f, rows, Int32(outputs), s, overwriteGrad ? 0 : 1, flag)
    } else if let db {
        if overwriteGrad { db.update(repeating: 0, count: outputs) }
        for r in 0..<rows { addInPlace(dy + r * outputs, db, outputs) }
    }
    if let dx, let (y, scratch) = reluMask {
        precondition(overwriteDx, "denseBackward: a ReLU mask needs overwriteDx")
        if !gemmReLU(m: rows, n: inputs, k: outputs, dy, w, dx, mask: y) {
            gemm(m: rows, n: inputs, k: outputs, dy, w, scratch)
            activationBackward(.relu, y, y, UnsafePointer(scratch), dx, rows * inputs, aux: nil, tmp: nil, overwrite: true)
        }
    } else if let dx {
        gemm(m: rows, n: inputs, k: outputs, dy, w, beta: overwriteDx ? 0 : 1, dx)
    }
}
