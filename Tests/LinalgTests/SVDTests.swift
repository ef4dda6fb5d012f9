import Foundation
import Linalg
import Testing

@Suite struct SVDTests {
    @Test func diagonalAndKnownMatrix() throws {
        let a = Tensor<Double>(rows: [[0, 3, 0], [2, 0, 0], [0, 0, -5], [0, 0, 0]])
        let s = try singularValues(a)
        #expect(s.count == 3)
        for (x, y) in zip(s, [5.0, 3, 2]) { #expect(abs(x - y) < 1e-13) }
        // [[1, 1], [1, 1]] has singular values 2 and 0.
        let b = try singularValues(Tensor<Double>(rows: [[1, 1], [1, 1]]))
        #expect(abs(b[0] - 2) < 1e-14 && abs(b[1]) < 1e-14)
    }

    @Test func reconstructsAndOrthogonal() throws {
        var r = RNG(seed: 2)
        for (m, n) in [(7, 4), (4, 7), (5, 5)] {
            let a = Tensor<Double>(shape: [m, n], scalars: r.normals(m * n))
            let (u, s, vt) = try svd(a)
            let k = min(m, n)
            var us = u
            for i in 0..<m { for j in 0..<k { us[i, j] *= s[j] } }
            let back = matmul(us, vt)
            for i in 0..<(m * n) { #expect(abs(back.scalars[i] - a.scalars[i]) < 1e-12) }
            let utu = matmul(u, u, transA: true)
            for i in 0..<k { for j in 0..<k { #expect(abs(utu[i, j] - (i == j ? 1 : 0)) < 1e-12) } }
            #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 })
        }
    }

    @Test(arguments: [(30, 20, 1), (30, 20, 7), (15, 40, 15), (50, 50, 0)])
    func rankOfLowRankProducts(m: Int, n: Int, r: Int) throws {
        var g = RNG(seed: UInt64(m * 100 + r))
        let a = Tensor<Double>(shape: [m, r], scalars: g.normals(m * r))
        let b = Tensor<Double>(shape: [r, n], scalars: g.normals(r * n))
        let c = r == 0 ? Tensor<Double>(shape: [m, n]) : matmul(a, b)
        #expect(try numericalRank(c) == r)
        // Float agrees on the rank with its own (larger) default tolerance.
        #expect(try numericalRank(c.converted(to: Float.self)) == r)
    }

    @Test func toleranceIsOverridable() throws {
        let a = Tensor<Double>(rows: [[1, 0, 0], [0, 1e-3, 0], [0, 0, 1e-9]])
        #expect(try numericalRank(a) == 3)
        #expect(try numericalRank(a, tolerance: 1e-6) == 2)
        #expect(try numericalRank(a, tolerance: 1e-2) == 1)
        let s = try singularValues(a)
        #expect(defaultRankTolerance(singularValues: s, rows: 3, cols: 3) == 3 * Double.ulpOfOne)
    }

    @Test func rejectsNonFinite() {
        let a = Tensor<Double>(rows: [[1, .nan], [0, 1]])
        #expect(throws: LinalgError.self) { try singularValues(a) }
    }
}

/// The Linalg catalogue's example (Linalg.docc), as written there: a 200 × 50 Gaussian matrix
/// times its transpose has rank 50, and the four points' line has slope 1.94.
@Test func catalogueExample() throws {
    var rng = RNG(seed: 0)
    let a = Tensor<Double>(shape: [200, 50], scalars: rng.normals(200 * 50))
    let product = matmul(a, a, transB: true)
    #expect(product.shape == [200, 200])
    #expect(try numericalRank(product) == 50)
    let fit = try #require(fitLine([1, 2, 3, 4], [2.1, 3.9, 6.2, 7.8]))
    // Least squares by hand: x̄ = 2.5, ȳ = 5, Σ(x−x̄)(y−ȳ) = 9.7, Σ(x−x̄)² = 5.
    #expect(abs(fit.slope - 1.94) < 1e-12)
    #expect(abs(fit.intercept - 0.15) < 1e-12)
    #expect(fit.slopeInterval.contains(1.94))
}

/// A matrix on which LAPACK's gesdd does not converge (info 1, with this machine's OpenBLAS and
/// with SciPy's): the kernel JJᵀ of a Gauss–Newton finish (locally connected ×100 student,
/// n = 62, seed 0 of `recover --preset fig3-full`), symmetric positive semidefinite with
/// eigenvalues from 1.3e-10 to 215. Rounding its entries to 1e-14 makes gesdd converge, so it
/// is stored bit for bit (62 × 62 little-endian Float64). The grid stopped on it with "gesdd did
/// not converge" before `svd` fell back to gesvd.
@Suite struct SVDFallbackTests {
    func fixture() throws -> Tensor<Double> {
        let url = try #require(Bundle.module.url(forResource: "gesdd-no-convergence-62x62", withExtension: "f64",
                                                 subdirectory: "Fixtures"))
        let data = try Data(contentsOf: url)
        #expect(data.count == 62 * 62 * 8)
        let values = (0..<(62 * 62)).map { i in
            Double(bitPattern: UInt64(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self) }))
        }
        return Tensor(shape: [62, 62], scalars: values)
    }

    @Test func svdOfAMatrixGesddCannotFactor() throws {
        let a = try fixture()
        let (u, s, vt) = try svd(a)
        // A · reconstructed, U orthonormal, values descending.
        var us = u
        for i in 0..<62 { for j in 0..<62 { us[i, j] *= s[j] } }
        let back = matmul(us, vt)
        for i in 0..<(62 * 62) { #expect(abs(back.scalars[i] - a.scalars[i]) < 1e-12 * s[0]) }
        let utu = matmul(u, u, transA: true)
        for i in 0..<62 { for j in 0..<62 { #expect(abs(utu[i, j] - (i == j ? 1 : 0)) < 1e-12) } }
        #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 })
        // Symmetric PSD: the singular values are the eigenvalues, so they sum to the trace
        // (517.0232911111862) and the largest is NumPy's eigvalsh's 215.46486089….
        let trace = (0..<62).reduce(0.0) { $0 + a[$1, $1] }
        #expect(abs(s.reduce(0, +) - trace) < 1e-11 * trace)
        #expect(abs(s[0] - 215.46486089) < 1e-7)
        #expect(s[61] > 0 && s[61] < 1e-9)
        // The values-only path falls back too, to the same values.
        let values = try singularValues(a)
        for (x, y) in zip(values, s) { #expect(abs(x - y) < 1e-12 * s[0]) }
    }
}
