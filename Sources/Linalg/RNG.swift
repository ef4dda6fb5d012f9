/// A seeded, splittable random number generator (xoshiro256** seeded through SplitMix64).
///
/// Every draw uses only integer operations and IEEE-exact floating-point operations
/// (+, −, ×, ÷, √), and the logarithm in `normal()` is our own polynomial, so a seed gives the
/// same stream on every machine and every libm.
public struct RNG: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var sm = seed
        s0 = RNG.splitMix(&sm); s1 = RNG.splitMix(&sm)
        s2 = RNG.splitMix(&sm); s3 = RNG.splitMix(&sm)
    }

    /// A generator in a given xoshiro256** state (for reference test vectors); `seed` is 0.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        seed = 0
        (s0, s1, s2, s3) = state
    }

    /// An independent stream derived from this generator's seed and `key` only, so children do
    /// not depend on how much the parent has drawn: `split(3)` is the same stream whenever it is made.
    public func split(_ key: UInt64) -> RNG {
        var k = key &+ 0x632B_E59B_D9B4_E019
        var s = seed ^ RNG.splitMix(&k)
        return RNG(seed: RNG.splitMix(&s))
    }

    @inline(__always)
    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [a, b).
    public mutating func uniform<T: Scalar>(_ a: T, _ b: T) -> T {
        a + (b - a) * T(uniform())
    }

    /// Standard normal by Marsaglia's polar method.
    public mutating func normal() -> Double {
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                return u * (-2 * portableLog(s) / s).squareRoot()
            }
        }
    }

    public mutating func normal<T: Scalar>(mean: T = 0, std: T = 1) -> T {
        mean + std * T(normal())
    }

    /// Unbiased integer in 0..<n (Lemire's multiply-and-reject).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "RNG.int(below:) needs n > 0, got \(n)")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            p.swapAt(i, int(below: i + 1))
        }
        return p
    }

    public mutating func normals<T: Scalar>(_ count: Int, std: T = 1) -> [T] {
        (0..<count).map { _ in std * T(normal()) }
    }
}

/// Natural logarithm from IEEE-exact operations only, for draws that must match everywhere.
/// ln x = e·ln2 + 2·atanh((m−1)/(m+1)) with m ∈ [√½, √2); the series is truncated where its
/// terms fall below 1e-19 relative.
package func portableLog(_ x: Double) -> Double {
    precondition(x > 0 && x.isFinite, "portableLog: needs a positive finite number, got \(x)")
    var e = Int(x.exponent)
    var m = x.significand  // [1, 2)
    if m > 1.4142135623730951 { m /= 2; e += 1 }
    let f = (m - 1) / (m + 1)
    let f2 = f * f
    var term = f
    var acc = 0.0
    var k = 1.0
    while k < 40 {
        acc += term / k
        term *= f2
        k += 2
    }
    return Double(e) * 0.6931471805599453 + 2 * acc
}
