import CKernels
import RealModule

// Exponential and error function over buffers. Float gets branch-free polynomial versions
// that LLVM vectorizes (libm's expf/erff are scalar calls and dominated softmax and GELU);
// Double, used for rank computations and gradient checks, keeps libm's correctly rounded-ish
// scalar functions.

extension Scalar {
    /// y[i] = exp(x[i]); y may be x.
    @inlinable
    package static func expBuffer(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        if Self.self == Float.self {
            expFloats(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                      UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), n)
        } else {
            for i in 0..<n { y[i] = .exp(x[i]) }
        }
    }

    /// y[i] = erf(x[i]); y may be x.
    @inlinable
    package static func erfBuffer(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
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
@usableFromInline package func expFloats(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    if UnsafePointer(y) == x {
        for i in 0..<n { y[i] = fastExp(y[i]) }
    } else {
        for i in 0..<n { y[i] = fastExp(x[i]) }
    }
}

@usableFromInline package func erfFloats(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
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
package func fastExp(_ x: Float) -> Float {
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
package func fastErf(_ x: Float) -> Float {
    let a = abs(x)
    let t = 1 / (1 + 0.3275911 * a)
    let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    let y = 1 - poly * fastExp(-a * a)
    return x < 0 ? -y : y
}

// tanh over buffers. Double gets a branch-free polynomial version (in C on AVX-512 or AVX2): libm's
// scalar tanh (tanh + expm1) was three quarters of a wide tanh student's full-batch GD step in
// the recovery experiments. Float keeps libm's tanhf (its results, and every stored EMC of a tanh
// network, stay as they were).
extension Scalar {
    /// y[i] = tanh(x[i]); y may be x.
    @inlinable
    package static func tanhBuffer(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        if Self.self == Double.self {
            tanhDoubles(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self),
                        UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self), n)
        } else {
            for i in 0..<n { y[i] = .tanh(x[i]) }
        }
    }
}

/// fastTanh over a buffer: eight at a time in C where the CPU has AVX-512, four with AVX2 (the
/// same bits).
@usableFromInline package func tanhDoubles(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, native: Bool = true) {
    if native, ck_tanh_f64(x, y, n) != 0 { return }
    if UnsafePointer(y) == x {
        for i in 0..<n { y[i] = fastTanh(y[i]) }
    } else {
        for i in 0..<n { y[i] = fastTanh(x[i]) }
    }
}

/// e^y − 1 in Double for 0 ≤ y ≤ 40, relative error within a few ulp, exact in its relative
/// precision near 0 (where e^y − 1 would cancel): y = k·ln2 + r with |r| ≤ ln2/2 (ln2 in two
/// parts, fdlibm's), e^r − 1 by its Taylor series to r¹⁴/14! (below 1e-17 of the sum), and
/// e^y − 1 = (2^k − 1) + 2^k·(e^r − 1), 2^k − 1 exact. k is rounded by the 1.5·2⁵² constant and
/// read from the low bits, so nothing traps (a NaN gives NaN).
@inlinable @inline(__always)
package func expm1Small(_ y: Double) -> Double {
    let t = y * 1.4426950408889634 + 6755399441055744.0
    let k = t - 6755399441055744.0
    let r = (y - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
    var p = 1.0 / 87178291200  // 1/14!
    p = p * r + 1.0 / 6227020800
    p = p * r + 1.0 / 479001600
    p = p * r + 1.0 / 39916800
    p = p * r + 1.0 / 3628800
    p = p * r + 1.0 / 362880
    p = p * r + 1.0 / 40320
    p = p * r + 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    let em = (r * r) * p + r  // e^r − 1
    let scale = Double(bitPattern: ((t.bitPattern &- 0x4338_0000_0000_0000) &+ 1023) &<< 52)
    return (scale - 1) + scale * em
}

/// tanh(x) in Double within 3 ulp of libm's (measured over [−25, 25]): t/(t + 2) (1 − 2/(t + 2) from |x| = 0.55) with
/// t = e^{2|x|} − 1 (accurate near 0, so tanh(1e-10) keeps its digits), |x| clamped at 20 (tanh
/// is 1 in Double from 19.06), the sign put back (−0 stays −0); ±∞ give ±1, NaN gives NaN.
@inlinable @inline(__always)
package func fastTanh(_ x: Double) -> Double {
    let a = x.magnitude
    let c = a > 20 ? 20 : a
    let t = expm1Small(2 * c)
    // Past tanh = 1/2 the error of t matters less in 1 − 2/(t + 2).
    let r = c < 0.55 ? t / (t + 2) : 1 - 2 / (t + 2)
    return x.sign == .minus ? -r : r  // −0 stays −0
}
