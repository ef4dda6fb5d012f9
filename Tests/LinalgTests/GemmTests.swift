import Linalg
import CKernels
import Testing

/// Naive reference product for checking BLAS calls.
func naiveMatmul(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var s = 0.0
        for p in 0..<k { s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]) }
        c[i * n + j] = s
    } }
    return c
}

@Suite struct GemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesNaive(transA: Bool, transB: Bool) {
        var r = RNG(seed: 9)
        let (m, n, k) = (7, 5, 3)
        let a: [Double] = r.normals(m * k), b: [Double] = r.normals(k * n)
        let ta = Tensor(shape: transA ? [k, m] : [m, k], scalars: a)
        let tb = Tensor(shape: transB ? [n, k] : [k, n], scalars: b)
        let c = matmul(ta, tb, transA: transA, transB: transB)
        let ref = naiveMatmul(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
        #expect(c.shape == [m, n])
        for i in 0..<ref.count { #expect(abs(c.scalars[i] - ref[i]) < 1e-12) }
        let cf = matmul(ta.converted(to: Float.self), tb.converted(to: Float.self), transA: transA, transB: transB)
        for i in 0..<ref.count { #expect(abs(Double(cf.scalars[i]) - ref[i]) < 1e-4) }
    }
}

/// Overparam's own single-precision kernel (CKernels/sgemm.c) against a float64 reference, on
/// shapes that exercise every edge: rows and columns that are not multiples of the register
/// tile, k across several slices, transposes, padded leading dimensions (n = 125 pads B's rows to
/// 512 bytes, which the kernel packs rather than reads in place), alpha, beta and a bias row;
/// and unpadded B under a transposed A: one panel wide (16, 32, 64 columns), or wider with few
/// rows of C (64 × 784: read in place but for its last 16 columns), both read in place, and
/// wider with many rows (300: packed).
@Suite struct OwnSgemmTests {
    struct Case: CustomStringConvertible, Sendable {
        var m, n, k: Int, ta, tb: Bool, alpha, beta: Float, bias: Bool
        var pad = 3
        var description: String { "\(m)×\(n)×\(k) \(ta ? "T" : "N")\(tb ? "T" : "N") α\(alpha) β\(beta)\(bias ? " bias" : "") pad \(pad)" }

        /// Random A, B, bias and C (in that order from `r`), with the leading dimensions padded
        /// as a sub-matrix of a wider buffer's would be.
        func operands(_ r: inout RNG) -> (lda: Int, ldb: Int, ldc: Int, a: [Float], b: [Float], bias: [Float], c0: [Float]) {
            let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
            let lda = ac + pad, ldb = bc + pad, ldc = n + pad
            let a: [Float] = r.normals(ar * lda), b: [Float] = r.normals(br * ldb), bias: [Float] = r.normals(n)
            return (lda, ldb, ldc, a, b, bias, r.normals(m * ldc))
        }
    }

    static let cases: [Case] = {
        var out: [Case] = []
        let shapes = [(1, 1, 1), (5, 3, 7), (64, 64, 16), (67, 17, 33), (130, 65, 129), (250, 10, 300), (13, 48, 600),
                      (241, 100, 9), (96, 1030, 20), (7, 130, 513), (70, 125, 40)]
        for (i, (m, n, k)) in shapes.enumerated() {
            for t in 0..<4 {
                let alpha: Float = i % 3 == 0 ? 0.5 : 1, beta: Float = [0, 1, -0.5][(i + t) % 3]
                out.append(Case(m: m, n: n, k: k, ta: t & 1 == 1, tb: t & 2 == 2, alpha: alpha, beta: beta, bias: (i + t) % 2 == 0))
            }
        }
        for (i, (m, n, k)) in [(40, 64, 300), (13, 32, 140), (100, 16, 129), (7, 64, 5), (64, 784, 130), (300, 90, 50)].enumerated() {
            out.append(Case(m: m, n: n, k: k, ta: true, tb: false, alpha: 1, beta: i % 2 == 0 ? 0 : 1, bias: i == 1, pad: 0))
        }
        return out
    }()

    /// On the CPU's best kernel (`always` 1) and on the AVX2 kernel (`always` 2: on an AVX-512
    /// CPU the other kernel), which give the same bits: each entry is the same FMA chain over the
    /// same K slices, only in other lanes.
    @Test(arguments: cases)
    func matchesFloat64Reference(_ c: Case) throws {
        var r = RNG(seed: UInt64(c.m * 7919 + c.n * 31 + c.k))
        let (lda, ldb, ldc, a, b, bias, c0) = c.operands(&r)
        func product(_ always: Int32) -> ([Float], Int32) {
            var out = c.beta == 0 ? [Float](repeating: .nan, count: c.m * ldc) : c0  // beta 0: C never read
            let done = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in bias.withUnsafeBufferPointer { pbias in
                out.withUnsafeMutableBufferPointer { pc in
                    ck_sgemm(c.ta ? 1 : 0, c.tb ? 1 : 0, Int32(c.m), Int32(c.n), Int32(c.k), c.alpha, pa.baseAddress, Int32(lda),
                             pb.baseAddress, Int32(ldb), c.beta, pc.baseAddress, Int32(ldc), c.bias ? pbias.baseAddress : nil, always)
                }
            } } }
            return (out, done)
        }
        let (out, done) = product(1), (avx2, doneAVX2) = product(2)
        guard ck_sgemm_available() != 0 else {
            #expect(done == 0 && doneAVX2 == 0)  // neither AVX-512 nor AVX2: declines, touching nothing
            return
        }
        try #require(done == 1)
        if doneAVX2 == 1 {
            let differ = zip(out, avx2).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differ == 0, "\(c): \(differ) entries differ between the AVX-512 and AVX2 kernels")
        }
        for i in 0..<c.m {
            for j in 0..<c.n {
                var s = 0.0, mag = 0.0
                for p in 0..<c.k {
                    let x = Double(c.ta ? a[p * lda + i] : a[i * lda + p]), y = Double(c.tb ? b[j * ldb + p] : b[p * ldb + j])
                    s += x * y; mag += abs(x * y)
                }
                var want = Double(c.alpha) * s + (c.bias ? Double(bias[j]) : 0)
                if c.beta != 0 { want += Double(c.beta) * Double(c0[i * ldc + j]) }
                let got = Double(out[i * ldc + j])
                #expect(abs(got - want) <= 1e-6 * (mag + 1) * 4, "C[\(i),\(j)] = \(got), want \(want)")
            }
            // The padding between rows is left alone.
            for j in c.n..<ldc { #expect(out[i * ldc + j].bitPattern == (c.beta == 0 ? Float.nan : c0[i * ldc + j]).bitPattern) }
        }
    }

    /// The epilogues (`ck_sgemm_epilogue`) give the bits of the product followed by the separate
    /// pass: the ReLU, `v > 0 ? v : 0`, the masked backward pass, `mask > 0 ? v : 0`, the residual
    /// sum, `e + v`, and the product with a derivative, `e · v`, on every case above (several K
    /// slices included: the epilogue only on the last), with a NaN in C's old values (beta ≠ 0),
    /// zeros, −0 and a NaN in the mask, and a NaN, an infinity and −0 in the other operand.
    @Test(arguments: cases)
    func epiloguesGiveTheSeparatePassBits(_ c: Case) throws {
        var r = RNG(seed: UInt64(c.m * 31 + c.n * 7 + c.k))
        let (lda, ldb, ldc, a, b, bias, drawn) = c.operands(&r)
        var c0 = drawn
        c0[0] = .nan
        var mask: [Float] = r.normals(c.m * ldc)
        for (i, v) in [Float(0), -0.0, .nan, 0].enumerated() where i < mask.count { mask[(i * 7) % mask.count] = v }
        var addend: [Float] = r.normals(c.m * ldc)
        for (i, v) in [Float.nan, .infinity, -0.0].enumerated() where i < addend.count { addend[(i * 5 + 1) % addend.count] = v }
        func product(_ mode: Int) -> ([Float], Int32) {
            var out = c.beta == 0 ? [Float](repeating: .nan, count: c.m * ldc) : c0
            let done = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in bias.withUnsafeBufferPointer { pbias in
                mask.withUnsafeBufferPointer { pm in addend.withUnsafeBufferPointer { pe in out.withUnsafeMutableBufferPointer { pc in
                    let args = (c.ta ? Int32(1) : 0, c.tb ? Int32(1) : 0, Int32(c.m), Int32(c.n), Int32(c.k))
                    let pbs = c.bias ? pbias.baseAddress : nil
                    if mode == 0 {
                        return ck_sgemm(args.0, args.1, args.2, args.3, args.4, c.alpha, pa.baseAddress, Int32(lda), pb.baseAddress,
                                        Int32(ldb), c.beta, pc.baseAddress, Int32(ldc), pbs, 1)
                    }
                    return ck_sgemm_epilogue(args.0, args.1, args.2, args.3, args.4, c.alpha, pa.baseAddress, Int32(lda), pb.baseAddress,
                                             Int32(ldb), c.beta, pc.baseAddress, Int32(ldc), pbs, Int32(mode),
                                             mode == 2 ? pm.baseAddress : pe.baseAddress, 1)
                } } }
            } } }
            return (out, done)
        }
        let (plain, done) = product(0)
        let (relu, doneRelu) = product(Int(CK_EPILOGUE_RELU)), (masked, doneMask) = product(Int(CK_EPILOGUE_MASK))
        let (summed, doneSum) = product(Int(CK_EPILOGUE_ADD)), (scaled, doneScaled) = product(Int(CK_EPILOGUE_MULTIPLY))
        #expect(doneRelu == done && doneMask == done && doneSum == done && doneScaled == done)
        guard done == 1 else { return }
        var differ = (0, 0, 0, 0)
        for i in 0..<c.m {
            for j in 0..<ldc {
                let o = i * ldc + j, v = plain[o]
                // Padding: left alone, as by the plain product.
                let wantRelu = j < c.n ? (v > 0 ? v : 0) : v, wantMask = j < c.n ? (mask[o] > 0 ? v : 0) : v
                let wantSum = j < c.n ? addend[o] + v : v, wantScaled = j < c.n ? addend[o] * v : v
                if relu[o].bitPattern != wantRelu.bitPattern { differ.0 += 1 }
                if masked[o].bitPattern != wantMask.bitPattern { differ.1 += 1 }
                if summed[o].bitPattern != wantSum.bitPattern { differ.2 += 1 }
                if scaled[o].bitPattern != wantScaled.bitPattern { differ.3 += 1 }
            }
        }
        #expect(differ == (0, 0, 0, 0),
                "\(c): \(differ.0) ReLU, \(differ.1) masked, \(differ.2) summed and \(differ.3) scaled entries differ")
    }

    /// `gemm(then:…)` gives the product followed by its epilogue's pass where Overparam's kernel
    /// runs it, and declines, leaving C alone, where it does not (a shape OpenBLAS takes, an empty
    /// product, Double).
    @Test(arguments: [(200, 70, 40, true), (3, 5, 2, false), (130, 20, 0, false)])
    func gemmEpiloguesMatchTheProductThenTheirPass(m: Int, n: Int, k: Int, ownKernel: Bool) {
        func same<T: Scalar>(_ a: T, _ b: T) -> Bool {  // bit for bit
            a.sign == b.sign && a.exponentBitPattern == b.exponentBitPattern && a.significandBitPattern == b.significandBitPattern
        }
        func check<T: Scalar>(_: T.Type, runs: Bool) {
            var r = RNG(seed: 9)
            let a: [T] = r.normals(m * k), b: [T] = r.normals(n * k), bias: [T] = r.normals(n), mask: [T] = r.normals(m * n)
            var ref = [T](repeating: .nan, count: m * n)
            gemm(transB: true, m: m, n: n, k: k, a, b, &ref, bias: bias)
            var relu = [T](repeating: .nan, count: m * n), masked = relu, summed = relu, scaled = relu
            let done = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in bias.withUnsafeBufferPointer { pbias in
                mask.withUnsafeBufferPointer { pm in
                    (relu.withUnsafeMutableBufferPointer {
                        gemm(then: .relu, transB: true, m: m, n: n, k: k, pa.baseAddress!, pb.baseAddress!, $0.baseAddress!, bias: pbias.baseAddress!)
                    },
                    masked.withUnsafeMutableBufferPointer {
                        gemm(then: .mask(pm.baseAddress!), transB: true, m: m, n: n, k: k, pa.baseAddress!, pb.baseAddress!, $0.baseAddress!,
                             bias: pbias.baseAddress!)
                    },
                    summed.withUnsafeMutableBufferPointer {  // the mask as the other operands too
                        gemm(then: .add(pm.baseAddress!), transB: true, m: m, n: n, k: k, pa.baseAddress!, pb.baseAddress!, $0.baseAddress!,
                             bias: pbias.baseAddress!)
                    },
                    scaled.withUnsafeMutableBufferPointer {
                        gemm(then: .multiply(pm.baseAddress!), transB: true, m: m, n: n, k: k, pa.baseAddress!, pb.baseAddress!, $0.baseAddress!,
                             bias: pbias.baseAddress!)
                    })
                }
            } } }
            #expect(done == (runs, runs, runs, runs), "\(T.self) \(m)×\(n)×\(k)")
            guard runs else {
                #expect((relu + masked + summed + scaled).allSatisfy { $0.isNaN })  // declined: C untouched
                return
            }
            var badRelu = 0, badMask = 0, badSum = 0, badScaled = 0
            for i in ref.indices {
                let v = ref[i], zero = T(0)
                if !same(relu[i], v > zero ? v : zero) { badRelu += 1 }
                if !same(masked[i], mask[i] > zero ? v : zero) { badMask += 1 }
                if !same(summed[i], mask[i] + v) { badSum += 1 }
                if !same(scaled[i], mask[i] * v) { badScaled += 1 }
            }
            #expect(badRelu == 0 && badMask == 0 && badSum == 0 && badScaled == 0,
                    "\(T.self) \(m)×\(n)×\(k): \(badRelu) ReLU, \(badMask) masked, \(badSum) summed, \(badScaled) scaled entries differ")
            #expect(relu.contains { $0 > 0 } && relu.contains { $0 == 0 })
        }
        check(Float.self, runs: ownKernel && BLAS.ownSgemm)
        check(Double.self, runs: false)
    }

    /// The public `gemm` adds the bias row on every path: Float (own kernel or OpenBLAS) and Double.
    @Test(arguments: [(200, 70, 40), (3, 5, 2), (130, 20, 0)])
    func gemmWithBiasMatchesNaive(m: Int, n: Int, k: Int) {
        var r = RNG(seed: 4)
        let a: [Double] = r.normals(m * k), b: [Double] = r.normals(n * k), bias: [Double] = r.normals(n)
        var ref = naiveMatmul(a, b, m: m, n: n, k: k, transA: false, transB: true)
        for i in 0..<m { for j in 0..<n { ref[i * n + j] += bias[j] } }
        var cd = [Double](repeating: .nan, count: m * n)
        gemm(transB: true, m: m, n: n, k: k, a, b, &cd, bias: bias)
        for i in 0..<ref.count { #expect(abs(cd[i] - ref[i]) < 1e-12) }
        let af = a.map(Float.init), bf = b.map(Float.init), biasf = bias.map(Float.init)
        var cf = [Float](repeating: .nan, count: m * n)
        gemm(transB: true, m: m, n: n, k: k, af, bf, &cf, bias: biasf)
        for i in 0..<ref.count { #expect(abs(Double(cf[i]) - ref[i]) < 1e-4) }
        // Without a bias, beta 0 sets C whatever it held, also for an empty product (k = 0).
        var plain = [Double](repeating: .nan, count: m * n)
        gemm(transB: true, m: m, n: n, k: k, a, b, &plain)
        for i in 0..<ref.count { #expect(abs(plain[i] - (ref[i] - bias[i % n])) < 1e-12) }
    }
}
