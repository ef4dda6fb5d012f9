import Linalg
import Testing

@Suite struct TensorTests {
    @Test func shapesAndIndexing() {
        var t = Tensor<Float>(shape: [2, 3, 4])
        #expect(t.count == 24 && t.strides == [12, 4, 1])
        t[1, 2, 3] = 5
        #expect(t.scalars[23] == 5)
        let r = t.reshaped([6, -1])
        #expect(r.shape == [6, 4] && r[5, 3] == 5)
        #expect(t.rows(1..<2).shape == [1, 3, 4])
        let g = Tensor<Float>(rows: [[1, 2], [3, 4], [5, 6]]).gather(rows: [2, 0])
        #expect(g.scalars == [5, 6, 1, 2])
        #expect(Tensor<Double>(rows: [[1, 2, 3], [4, 5, 6]]).transposed.scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test(arguments: [0, 1, 7, 8, 9, 31, 100])
    func kernelsMatchNaive(n: Int) {
        var r = RNG(seed: UInt64(n))
        var x: [Double] = r.normals(n), y: [Double] = r.normals(n)
        let y0 = y
        x.withUnsafeMutableBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                guard let xa = xp.baseAddress, let ya = yp.baseAddress else { return }
                #expect(abs(sum(xa, n) - xp.reduce(0, +)) < 1e-12)
                #expect(abs(dot(xa, ya, n) - zip(xp, yp).map(*).reduce(0, +)) < 1e-12)
                axpy(2, xa, ya, n)
                #expect(maxAbs(xa, n) == xp.map(abs).max() ?? 0)
                #expect(allFinite(xa, n))
                if n > 3 { xa[3] = .infinity; #expect(!allFinite(xa, n)); xa[3] = .nan; #expect(maxAbs(xa, n).isNaN) }
            }
        }
        for i in 0..<n where i != 3 { #expect(abs(y[i] - (y0[i] + 2 * x[i])) < 1e-14) }
    }
}
