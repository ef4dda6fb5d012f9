import Linalg
import RealModule

// y[n] = f(x[n]); GELU keeps erf(x/√2) in aux[n] for its backward pass (the C kernels keep
// GELU′(x) itself, so that their backward pass only multiplies).
func activationForward<T: Scalar>(_ a: Activation, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, aux: UnsafeMutablePointer<T>?,
                                  path: KernelPath = .reference) {
    switch a {
    case .relu:
        for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : 0 }
    case let .leakyReLU(s):
        let slope = T(s)
        for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : slope * v }
    case .tanh:
        T.tanhBuffer(x, y, n)
    case .sigmoid:
        // 1/(1 + e^−x): e^−x overflowing to ∞ (or saturating) still gives the right limit 0.
        for i in 0..<n { y[i] = -x[i] }
        T.expBuffer(y, y, n)
        for i in 0..<n { y[i] = 1 / (1 + y[i]) }
    case .gelu:
        let u = aux!
        if let flag = path.flag(T.self) { return nativeGeluForward(x, y, u, n, flag: flag) }
        let r = 1 / T.sqrt(2)
        for i in 0..<n { u[i] = x[i] * r }
        T.erfBuffer(u, u, n)
        for i in 0..<n { y[i] = x[i] * (1 + u[i]) / 2 }
    case .identity:
        y.update(from: x, count: n)
    }
}

// dx[n] += dy[n] · f′(x[n]) (with `overwrite`, dx[n] = …); tanh and sigmoid read f′ from the
// output y, GELU from aux (erf(x/√2) from the forward pass, or GELU′ on a C kernel path) and
// tmp (scratch for the Gaussian density).
func activationBackward<T: Scalar>(
    _ a: Activation, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>,
    _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ n: Int,
    aux: UnsafePointer<T>?, tmp: UnsafeMutablePointer<T>?, path: KernelPath = .reference, overwrite: Bool = false
) {
    if overwrite {
        switch a {
        case .relu:
            for i in 0..<n { let d = dy[i], v = x[i]; dx[i] = v > 0 ? d : 0 }
            return
        case .identity:
            dx.update(from: dy, count: n)
            return
        case .gelu:
            if let flag = path.flag(T.self) { return nativeGeluBackward(aux!, dy, dx, n, add: false, flag: flag) }
        default:
            break
        }
        // The rest: zero, then the adding form below.
        dx.update(repeating: 0, count: n)
    }
    switch a {
    case .relu:
        // Every load unconditional, so the select vectorizes (SIMD `replacing` goes lane by lane).
        for i in 0..<n { let d = dy[i], v = x[i], o = dx[i]; dx[i] = o + (v > 0 ? d : 0) }
    case let .leakyReLU(s):
        let slope = T(s)
        for i in 0..<n { let d = dy[i], v = x[i]; dx[i] += v > 0 ? d : slope * d }
    case .tanh:
        for i in 0..<n { let t = y[i]; dx[i] += dy[i] * (1 - t * t) }
    case .sigmoid:
        for i in 0..<n { let s = y[i]; dx[i] += dy[i] * s * (1 - s) }
    case .gelu:
        if let flag = path.flag(T.self) { return nativeGeluBackward(aux!, dy, dx, n, add: true, flag: flag) }
        let u = aux!, phi = tmp!
        let c = 1 / T.sqrt(2 * T.pi)
        for i in 0..<n { phi[i] = -x[i] * x[i] / 2 }
        T.expBuffer(phi, phi, n)
        for i in 0..<n { dx[i] += dy[i] * ((1 + u[i]) / 2 + x[i] * c * phi[i]) }
    case .identity:
        addInPlace(dy, dx, n)
    }
}

