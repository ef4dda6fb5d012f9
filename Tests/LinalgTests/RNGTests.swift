import CKernels
import Foundation
import Linalg
import Testing

@Suite struct RNGTests {
    @Test func xoshiroReferenceVector() {
        // Published xoshiro256** outputs for the state (1, 2, 3, 4).
        var r = RNG(state: (1, 2, 3, 4))
        let expected: [UInt64] = [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600]
        #expect((0..<6).map { _ in r.next() } == expected)
    }

    @Test func sameSeedSameStream() {
        var a = RNG(seed: 123), b = RNG(seed: 123), c = RNG(seed: 124)
        let xa = (0..<100).map { _ in a.normal() }
        #expect(xa == (0..<100).map { _ in b.normal() })
        #expect(xa != (0..<100).map { _ in c.normal() })
    }

    @Test func splitIsStableAndIndependent() {
        var parent = RNG(seed: 7)
        let before = parent.split(3)
        _ = (0..<50).map { _ in parent.next() }
        var s1 = before, s2 = parent.split(3), s3 = parent.split(4)
        let a = (0..<20).map { _ in s1.next() }
        #expect(a == (0..<20).map { _ in s2.next() })
        #expect(a != (0..<20).map { _ in s3.next() })
    }

    @Test func normalMomentsAndUniformRange() {
        var r = RNG(seed: 1)
        let n = 200_000
        var s = 0.0, s2 = 0.0, s4 = 0.0
        for _ in 0..<n { let z = r.normal(); s += z; s2 += z * z; s4 += z * z * z * z }
        let mean = s / Double(n), variance = s2 / Double(n) - mean * mean
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.015)
        #expect(abs(s4 / Double(n) - 3) < 0.1)  // Gaussian kurtosis
        for _ in 0..<10_000 { let u = r.uniform(); #expect(u >= 0 && u < 1) }
    }

    @Test func permutationsAndBoundedInts() {
        var r = RNG(seed: 5)
        for n in [0, 1, 2, 17, 1000] {
            #expect(r.permutation(n).sorted() == Array(0..<n))
        }
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[r.int(below: 6)] += 1 }
        // Each face ≈ 10,000; 5 standard deviations ≈ 456.
        #expect(counts.allSatisfy { abs($0 - 10_000) < 460 })
    }

    @Test func portableLogMatchesLibm() {
        var r = RNG(seed: 3)
        var worst = 0.0
        for _ in 0..<20_000 {
            let x = Foundation.exp(40 * (r.uniform() - 0.5))
            worst = max(worst, abs(portableLog(x) - Foundation.log(x)) / max(abs(Foundation.log(x)), 1))
        }
        for x in [1.0, 0.5, 2, 1e-300, 1e300, 1.4142135623730951, 0.7071067811865476] {
            worst = max(worst, abs(portableLog(x) - Foundation.log(x)) / max(abs(Foundation.log(x)), 1))
        }
        #expect(worst < 4e-16)
    }
}

@Suite struct TranscendentalTests {
    @Test func fastExpWithinTwoUlps() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let ref = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(fastExp(x) - ref) / ref.ulp)
            x += 0.0137
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
        #expect(fastExp(-100) == 0 && fastExp(0) == 1 && fastExp(.nan).isNaN)
        var buf: [Float] = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8.5]
        buf.withUnsafeMutableBufferPointer { Float.expBuffer($0.baseAddress!, $0.baseAddress!, $0.count) }
        #expect(abs(buf[9] - Float(Foundation.exp(8.5))) <= Float(Foundation.exp(8.5)).ulp * 2)
    }

    @Test func fastErfAbsoluteError() {
        var worst: Double = 0
        var x: Float = -6
        while x < 6 {
            worst = max(worst, abs(Double(fastErf(x)) - Foundation.erf(Double(x))))
            x += 0.001
        }
        #expect(worst < 5e-7, "worst absolute error \(worst)")
        #expect(fastErf(0) == 0 && fastErf(10) == 1 && fastErf(-10) == -1)
    }

    /// Double tanh against libm's in ulps of the reference: a fine grid over [−25, 25] (both
    /// branches of the reduction, k = 0 … 57, saturation), a logarithmic sweep down to 1e-300
    /// (relative precision kept where e^2x − 1 would cancel), and the special values.
    @Test func fastTanhWithinThreeUlpsOfLibm() {
        var worst = 0.0, worstAt = 0.0
        func check(_ x: Double) {
            let ref = Foundation.tanh(x)
            let e = abs(fastTanh(x) - ref) / ref.ulp
            if e > worst { worst = e; worstAt = x }
        }
        var x = -25.0
        while x < 25 { check(x); x += 0.000913 }
        var m = 1e-300
        while m < 30 { check(m); check(-m); m *= 1.0137 }
        #expect(worst <= 3, "worst error \(worst) ulp at \(worstAt)")
        #expect(fastTanh(1e-10) == Foundation.tanh(1e-10), "tanh(1e-10) = \(fastTanh(1e-10))")
        #expect(fastTanh(.infinity) == 1 && fastTanh(-.infinity) == -1 && fastTanh(.nan).isNaN)
        #expect(fastTanh(0) == 0 && fastTanh(-0.0).sign == .minus && fastTanh(19.1) == 1 && fastTanh(-40) == -1)
        var buf: [Double] = [-3, -1e-12, 0, 0.3, 0.7, 2, 9]
        let ref = buf.map { Foundation.tanh($0) }
        buf.withUnsafeMutableBufferPointer { Double.tanhBuffer($0.baseAddress!, $0.baseAddress!, $0.count) }
        for (a, b) in zip(buf, ref) { #expect(abs(a - b) <= 3 * b.ulp, "\(a) vs \(b)") }
    }

    /// The C kernels (AVX-512 eight at a time, AVX2 four at a time, each with a partial last
    /// vector) give the Swift function's bits, special values included, and in place.
    @Test func tanhBufferInCMatchesTheSwiftFunctionBitForBit() {
        var r = RNG(seed: 9)
        var xs: [Double] = (0..<1001).map { _ in 12 * r.normal() }
        xs += (0..<300).map { _ in 1e-6 * r.normal() } + [0, -0.0, .infinity, -.infinity, .nan, 0.55, -0.55, 20, 19.06, 1e-300]
        var viaC = [Double](repeating: 0, count: xs.count), viaSwift = viaC
        tanhDoubles(xs, &viaC, xs.count)
        tanhDoubles(xs, &viaSwift, xs.count, native: false)
        var viaAVX2 = xs
        let ran = viaAVX2.withUnsafeMutableBufferPointer { ck_tanh_f64_avx2($0.baseAddress!, $0.baseAddress!, $0.count) }
        for i in xs.indices {
            #expect(viaC[i].bitPattern == viaSwift[i].bitPattern || (viaC[i].isNaN && viaSwift[i].isNaN),
                    "x = \(xs[i]): \(viaC[i]) vs \(viaSwift[i])")
            if ran != 0 {
                #expect(viaAVX2[i].bitPattern == viaSwift[i].bitPattern || (viaAVX2[i].isNaN && viaSwift[i].isNaN),
                        "AVX2, x = \(xs[i]): \(viaAVX2[i]) vs \(viaSwift[i])")
            }
        }
    }
}
