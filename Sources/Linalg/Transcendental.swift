import RealModule

// Exponential and error function over buffers. Float gets branch-free polynomial versions
// that LLVM vectorizes (libm's expf/erff are scalar calls and dominated softmax and GELU);
// Double, used for rank computations and gradient checks, keeps libm's correctly rounded-ish
// scalar functions.

extension Scalar {
    /// y[i] = exp(x[i]); y may be x.
    @inlinable
    public static func expBuffer(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        if Self.self == Float.self {
            expFloats(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                      UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), n)
        } else {
            for i in 0..<n { y[i] = .exp(x[i]) }
        }
    }

    /// y[i] = erf(x[i]); y may be x.
    @inlinable
    public static func erfBuffer(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        if Self.self == Float.self {
            erfFloats(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                      UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), n)
        } else {
            for i in 0..<n { y[i] = .erf(x[i]) }
        }
    }
}

// Plain non-generic loops: the form in which LLVM vectorizes the polynomial bodies. In place
// gets its own one-pointer loop: with two pointers LLVM guards the vector loop by a runtime
// overlap test, which x == y fails, and the scalar fallback runs instead.
public func expFloats(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    if UnsafePointer(y) == x {
        for i in 0..<n { y[i] = fastExp(y[i]) }
    } else {
        for i in 0..<n { y[i] = fastExp(x[i]) }
    }
}

public func erfFloats(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    if UnsafePointer(y) == x {
        for i in 0..<n { y[i] = fastErf(y[i]) }
    } else {
        for i in 0..<n { y[i] = fastErf(x[i]) }
    }
}

/// e^x in Float, relative error ≤ 2 ulp on [−87.3, 88]; 0 below, e^88 above; NaN stays NaN.
/// Cephes' reduction x = n·ln2 + r with a two-part ln2 and a degree-6 polynomial for e^r; 2^n
/// is assembled in the exponent bits (the rounding constant 1.5·2²³ leaves n in the low bits),
/// so nothing traps or branches.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    let lo: Float = -87.33654, hi: Float = 88
    let under = x < lo
    let c = under ? lo : (x > hi ? hi : x)
    let t = c * 1.44269504088896341 + 12582912.0
    let n = t - 12582912.0
    let r = (c - n * 0.693359375) - n * -2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = (r * r) * p + r + 1
    let k = t.bitPattern &- 0x4B40_0000
    let scale = Float(bitPattern: (k &+ 127) &<< 23)
    return under ? 0 : er * scale
}

/// erf(x) in Float with absolute error below 5e-7 (Abramowitz & Stegun 7.1.26 is good to 1.5e-7;
/// Float rounding adds the rest, measured 4.7e-7): enough for GELU, where it enters as 1 + erf.
@inlinable @inline(__always)
public func fastErf(_ x: Float) -> Float {
    let a = abs(x)
    let t = 1 / (1 + 0.3275911 * a)
    let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    let y = 1 - poly * fastExp(-a * a)
    return x < 0 ? -y : y
}
