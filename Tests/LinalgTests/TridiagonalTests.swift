import Foundation
import Linalg
import Testing

@Suite struct TridiagonalTests {
    /// The path graph's Laplacian tridiag(−1, 2, −1) of size n has eigenvalues 2 − 2cos(jπ/(n+1)).
    @Test(arguments: [1, 2, 7, 40])
    func laplacianEigenvaluesMatchTheirClosedForm(n: Int) {
        let a = [Double](repeating: 2, count: n), b = [Double](repeating: -1, count: n - 1)
        for k in 0..<n {
            let exact = 2 - 2 * cos(Double(k + 1) * .pi / Double(n + 1))
            #expect(abs(SymmetricTridiagonal.eigenvalue(k, diagonal: a, offDiagonal: b) - exact) < 1e-12, "n \(n), k \(k)")
        }
        #expect(SymmetricTridiagonal.count(below: 0, diagonal: a, offDiagonal: b) == 0)
        #expect(SymmetricTridiagonal.count(below: 4, diagonal: a, offDiagonal: b) == n)
    }

    @Test func indefiniteAndShiftedMatricesKeepTheirSigns() {
        // [[0, 3], [3, 0]]: ±3; shifted by −5: −8 and −2.
        #expect(abs(SymmetricTridiagonal.eigenvalue(0, diagonal: [0, 0], offDiagonal: [3]) + 3) < 1e-12)
        #expect(abs(SymmetricTridiagonal.eigenvalue(1, diagonal: [0, 0], offDiagonal: [3]) - 3) < 1e-12)
        #expect(abs(SymmetricTridiagonal.eigenvalue(0, diagonal: [-5, -5], offDiagonal: [3]) + 8) < 1e-12)
        #expect(abs(SymmetricTridiagonal.eigenvalue(0, diagonal: [1.5], offDiagonal: []) - 1.5) < 1e-12)
    }
}
