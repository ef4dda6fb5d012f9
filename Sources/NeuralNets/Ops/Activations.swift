import Linalg
import RealModule

// y[n] = f(x[n])
func activationForward<T: Scalar>(_ a: Activation, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
    switch a {
    case .relu:
        for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : 0 }
    case let .leakyReLU(s):
        let slope = T(s)
        for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : slope * v }
    case .tanh:
        for i in 0..<n { y[i] = T.tanh(x[i]) }
    case .sigmoid:
        for i in 0..<n { y[i] = sigmoid(x[i]) }
    case .gelu:
        let r = 1 / T.sqrt(2)
        for i in 0..<n { let v = x[i]; y[i] = v * (1 + T.erf(v * r)) / 2 }
    case .identity:
        y.update(from: x, count: n)
    }
}

// dx[n] += dy[n] · f′(x[n]); tanh and sigmoid read f′ from the output y.
func activationBackward<T: Scalar>(
    _ a: Activation, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>,
    _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ n: Int
) {
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
        let r = 1 / T.sqrt(2)
        let c = 1 / T.sqrt(2 * T.pi)
        for i in 0..<n {
            let v = x[i]
            dx[i] += dy[i] * ((1 + T.erf(v * r)) / 2 + v * c * T.exp(-v * v / 2))
        }
    case .identity:
        addInPlace(dy, dx, n)
    }
}

@inline(__always)
func sigmoid<T: Scalar>(_ v: T) -> T {
    // Two branches so that exp never overflows for large |v|.
    if v >= 0 { return 1 / (1 + T.exp(-v)) }
    let e = T.exp(v)
    return e / (1 + e)
}
