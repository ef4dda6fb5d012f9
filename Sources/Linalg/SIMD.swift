// Explicit 8-lane vectors for the element-wise hot paths. LLVM leaves many of our loops scalar
// (possible aliasing between buffers, selects with loads behind them); loading and storing
// whole SIMD8 values states the vector form directly. Each kernel: vector body, scalar tail.

package typealias Vec<T: Scalar> = SIMD8<T>

@inlinable @inline(__always)
package func vload<T: Scalar>(_ p: UnsafePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
}

@inlinable @inline(__always)
package func vload<T: Scalar>(_ p: UnsafeMutablePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
}

@inlinable @inline(__always)
package func vstore<T: Scalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<T>.self)
}

/// The largest multiple of 8 not above n: the vector body's extent.
@inlinable @inline(__always)
package func vectorEnd(_ n: Int) -> Int { n & ~7 }
