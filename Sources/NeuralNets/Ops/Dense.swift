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
// With `below` (an activation under this layer, and R×I scratch; needs `overwriteDx`): dx is the
// gradient below that activation, from one product where `gemm(then:…)` runs it (a ReLU's mask,
// GELU′ multiplied in), else the product into the scratch and the activation's backward pass.
func denseBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>,
    _ dx: UnsafeMutablePointer<T>?, _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
    rows: Int, inputs: Int, outputs: Int, overwriteDx: Bool = false, overwriteGrad: Bool = false,
    below: (ActivationBelow<T>, scratch: UnsafeMutablePointer<T>)? = nil, path: KernelPath = .reference
) {
    gemm(transA: true, m: outputs, n: inputs, k: rows, dy, x, beta: overwriteGrad ? 0 : 1, dw)
    if let db, let flag = path.flag(T.self), let f = floats(dy), let s = floats(db) {
        ck_column_sums(f, rows, Int32(outputs), s, overwriteGrad ? 0 : 1, flag)
    } else if let db {
        if overwriteGrad { db.update(repeating: 0, count: outputs) }
        for r in 0..<rows { addInPlace(dy + r * outputs, db, outputs) }
    }
    if let dx, let (act, scratch) = below {
        precondition(overwriteDx, "denseBackward: an activation below needs overwriteDx")
        let epilogue: GemmEpilogue<T>
        switch act {
        case let .relu(y): epilogue = .mask(y)
        case let .gelu(d): epilogue = .multiply(d)
        }
        if !gemm(then: epilogue, m: rows, n: inputs, k: outputs, dy, w, dx) {
            gemm(m: rows, n: inputs, k: outputs, dy, w, scratch)
            let count = rows * inputs
            switch act {
            case let .relu(y):
                activationBackward(.relu, y, y, UnsafePointer(scratch), dx, count, aux: nil, tmp: nil, overwrite: true)
            case let .gelu(d):
                nativeGeluBackward(d, UnsafePointer(scratch), dx, count, add: false, flag: path.flag(T.self)!)
            }
        }
    } else if let dx {
        gemm(m: rows, n: inputs, k: outputs, dy, w, beta: overwriteDx ? 0 : 1, dx)
    }
}

/// An activation under a dense layer whose backward pass the layer's input-gradient product makes
/// in its epilogue (`Pass`), so that the gradient below the activation is written directly.
enum ActivationBelow<T: Scalar> {
    /// A ReLU, by its output (the dense layer's input): the gradient kept where that is > 0.
    case relu(output: UnsafePointer<T>)
    /// A GELU on a C kernel path, by the derivative GELU′ its forward pass stored: multiplied in
    /// (`ck_gelu_backward`'s dy · GELU′, bit for bit).
    case gelu(derivative: UnsafePointer<T>)
}
