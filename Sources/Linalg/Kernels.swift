import RealModule

// Element-wise and reduction kernels over raw buffers. Loops are written so that LLVM
// vectorizes them: no bounds checks (raw pointers), no aliasing surprises, and reductions
// accumulate through `Relaxed` so the compiler may reorder the additions into SIMD lanes.

@inlinable
package func fill<T: Scalar>(_ x: UnsafeMutablePointer<T>, _ n: Int, _ value: T) {
    x.update(repeating: value, count: n)
}

/// x ← a·x. With a = 0 the buffer is zeroed, so NaNs already in it do not survive (BLAS semantics).
@inlinable
package func scale<T: Scalar>(_ x: UnsafeMutablePointer<T>, _ n: Int, by a: T) {
    if a == 0 { x.update(repeating: 0, count: n); return }
    if a == 1 { return }
    let e = vectorEnd(n)
    var i = 0
    while i < e { vstore(vload(x + i) * a, x + i); i += 8 }
    while i < n { x[i] *= a; i += 1 }
}

/// y ← y + a·x
@inlinable
package func axpy<T: Scalar>(_ a: T, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
    let e = vectorEnd(n)
    var i = 0
    while i < e { vstore(vload(y + i) + a * vload(x + i), y + i); i += 8 }
    while i < n { y[i] += a * x[i]; i += 1 }
}

/// y ← y + x
@inlinable
package func addInPlace<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
    let e = vectorEnd(n)
    var i = 0
    while i < e { vstore(vload(y + i) + vload(x + i), y + i); i += 8 }
    while i < n { y[i] += x[i]; i += 1 }
}

/// Σ x
@inlinable
package func sum<T: Scalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
    var v = SIMD8<T>()
    let e = vectorEnd(n)
    var i = 0
    while i < e { v += vload(x + i); i += 8 }
    var s = v.sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

/// Σ x·y
@inlinable
package func dot<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int) -> T {
    var v = SIMD8<T>()
    let e = vectorEnd(n)
    var i = 0
    while i < e { v += vload(x + i) * vload(y + i); i += 8 }
    var s = v.sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
}

/// Σ x²
@inlinable
package func sumOfSquares<T: Scalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
    dot(x, x, n)
}

/// max |x|, NaN-propagating: a NaN anywhere gives NaN, so divergence is never hidden.
@inlinable
package func maxAbs<T: Scalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
    var m: T = 0
    var bad = false
    for i in 0..<n {
        let a = abs(x[i])
        bad = bad || a.isNaN
        m = a > m ? a : m
    }
    return bad ? .nan : m
}

/// True when every entry is finite; a vectorizable test (x − x is 0 for finite x, NaN otherwise).
@inlinable
package func allFinite<T: Scalar>(_ x: UnsafePointer<T>, _ n: Int) -> Bool {
    var acc: T = 0
    for i in 0..<n { acc = Relaxed.sum(acc, x[i] - x[i]) }
    return acc == 0
}

/// Row-wise argmax of a rows × cols matrix.
@inlinable
package func argmaxRows<T: Scalar>(_ x: UnsafePointer<T>, rows: Int, cols: Int) -> [Int] {
    var out = [Int](repeating: 0, count: rows)
    for r in 0..<rows {
        let row = x + r * cols
        var best = 0
        for c in 1..<max(cols, 1) where row[c] > row[best] { best = c }
        out[r] = best
    }
    return out
}
