import Linalg
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
