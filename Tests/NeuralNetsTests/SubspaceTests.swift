import Foundation
import Linalg
import NeuralNets
import Testing

/// Training in a random subspace θ = θ₀ + P z: the map and its transpose against hand-made and
/// finite-difference values, and training that never leaves the subspace.
@Suite struct SubspaceTests {
    @Test(arguments: [Subspace<Double>.Kind.dense, .sparse])
    func projectionHasUnitColumnsAndMapsBothWays(kind: Subspace<Double>.Kind) throws {
        let origin: [Double] = [1, 2, 3, 4, 5]
        let s = Subspace(origin: origin, dimension: 2, rng: RNG(seed: 3), kind: kind)
        #expect(s.kind == kind)
        let p = s.matrix()
        #expect(p.count == 10)
        for j in 0..<2 {
            let norm = (0..<5).reduce(0.0) { $0 + p[$1 * 2 + j] * p[$1 * 2 + j] }
            #expect(abs(norm - 1) < 1e-12)
        }
        var theta = [Double](repeating: .nan, count: 5)
        s.parameters([0.5, -2], into: &theta)
        for i in 0..<5 { #expect(abs(theta[i] - (origin[i] + 0.5 * p[i * 2] - 2 * p[i * 2 + 1])) < 1e-12) }
        var gz = [Double](repeating: .nan, count: 2)
        let g: [Double] = [1, -1, 0.5, 2, 0]
        s.gradient(g, into: &gz)
        for j in 0..<2 { #expect(abs(gz[j] - (0..<5).reduce(0.0) { $0 + p[$1 * 2 + j] * g[$1] }) < 1e-12) }
        // The same seed gives the same projection; another, another.
        #expect(Subspace(origin: origin, dimension: 2, rng: RNG(seed: 3), kind: kind).matrix() == p)
        #expect(Subspace(origin: origin, dimension: 2, rng: RNG(seed: 4), kind: kind).matrix() != p)
    }

    /// Dense up to `denseLimit` entries, sparse beyond; a sparse P has at most
    /// `entriesPerParameter` entries in a row, at least one in every column, unit columns, and
    /// maps both ways as its dense matrix does.
    @Test func largeSubspacesAreSparse() throws {
        #expect(Subspace<Float>(origin: [Float](repeating: 0, count: 2000), dimension: 2000, rng: RNG(seed: 1)).kind == .dense)
        let count = 3000, d = 1500
        #expect(count * d > Subspace<Double>.denseLimit)
        var r = RNG(seed: 9)
        let origin: [Double] = r.normals(count)
        let s = Subspace(origin: origin, dimension: d, rng: RNG(seed: 5))
        #expect(s.kind == .sparse && s.projection.isEmpty && s.columns.count == count * Subspace<Double>.entriesPerParameter)
        let p = s.matrix()
        for i in 0..<count { #expect((0..<d).filter { p[i * d + $0] != 0 }.count <= Subspace<Double>.entriesPerParameter) }
        var norms = [Double](repeating: 0, count: d)
        for i in 0..<count { for j in 0..<d { norms[j] += p[i * d + j] * p[i * d + j] } }
        #expect(norms.allSatisfy { abs($0 - 1) < 1e-12 }, "\(norms.filter { abs($0 - 1) >= 1e-12 }.prefix(3))")
        let z: [Double] = r.normals(d), g: [Double] = r.normals(count)
        var theta = [Double](repeating: 0, count: count), gz = [Double](repeating: .nan, count: d)
        s.parameters(z, into: &theta)
        s.gradient(g, into: &gz)
        for i in stride(from: 0, to: count, by: 37) {
            let want = origin[i] + (0..<d).reduce(0.0) { $0 + p[i * d + $1] * z[$1] }
            #expect(abs(theta[i] - want) < 1e-12)
        }
        for j in stride(from: 0, to: d, by: 11) {
            let want = (0..<count).reduce(0.0) { $0 + p[$1 * d + j] * g[$1] }
            #expect(abs(gz[j] - want) < 1e-12)
        }
    }

    /// A small tanh net, a subspace of `dimension` through its initialization, and n samples.
    func fixture(dimension: Int, n: Int, seed: UInt64, kind: Subspace<Double>.Kind) throws -> (Network<Double>, Subspace<Double>, Tensor<Double>, Supervision<Double>, RNG) {
        var net = try Network<Double>(spec: "mlp:4-6-3:tanh")
        net.initialize(.torch, rng: RNG(seed: 1))
        let s = Subspace(origin: net.parameters, dimension: dimension, rng: RNG(seed: 2), kind: kind)
        var r = RNG(seed: seed)
        let x = Tensor<Double>(shape: [n, 4], scalars: r.normals(n * 4))
        return (net, s, x, .classes((0..<n).map { Int32($0 % 3) }), r)
    }

    /// Pᵀ∇θ is the gradient of z ↦ L(θ₀ + P z): central differences in Double.
    @Test(arguments: [Subspace<Double>.Kind.dense, .sparse])
    func theGradientInTheSubspaceIsTheLossGradientInZ(kind: Subspace<Double>.Kind) throws {
        var (net, s, x, y, r) = try fixture(dimension: 7, n: 9, seed: 5, kind: kind)
        let z0: [Double] = r.normals(7, std: 0.3)
        func loss(_ z: [Double]) throws -> Double {
            var n = net
            s.parameters(z, into: &n.parameters)
            return try n.evaluate(x, y, loss: .crossEntropy).loss
        }
        var at = net
        s.parameters(z0, into: &at.parameters)
        let (_, g) = try at.lossAndGradient(x, y, loss: .crossEntropy)
        var gz = [Double](repeating: 0, count: 7)
        s.gradient(g, into: &gz)
        let h = 1e-6
        for j in 0..<7 {
            var plus = z0, minus = z0
            plus[j] += h; minus[j] -= h
            let fd = (try loss(plus) - loss(minus)) / (2 * h)
            #expect(abs(fd - gz[j]) < 1e-7 * max(1, abs(fd)), "coordinate \(j): \(fd) vs \(gz[j])")
        }
    }

    /// Training moves only z: the trained parameters minus θ₀ lie in the span of P's columns
    /// (least-squares residual at rounding level), and the loss falls.
    @Test(arguments: [Subspace<Double>.Kind.dense, .sparse])
    func trainingStaysInTheSubspace(kind: Subspace<Double>.Kind) throws {
        var (net, s, x, y, _) = try fixture(dimension: 5, n: 12, seed: 6, kind: kind)
        let m = s.matrix()
        let before = try net.evaluate(x, y, loss: .crossEntropy).loss
        var c = TrainConfig()
        c.batchSize = nil
        c.learningRate = 0.5
        c.maxSteps = 200
        _ = try train(&net, x: x, y: y, config: c, subspace: s)
        let after = try net.evaluate(x, y, loss: .crossEntropy).loss
        #expect(after < before - 0.05, "\(before) → \(after)")
        // Least squares for z in P z = θ − θ₀ via the normal equations (5 × 5).
        let p = net.parameterCount, d = 5
        let delta = zip(net.parameters, s.origin).map { $0 - $1 }
        var a = [Double](repeating: 0, count: d * d), b = [Double](repeating: 0, count: d)
        for i in 0..<p { for j in 0..<d {
            b[j] += m[i * d + j] * delta[i]
            for k in 0..<d { a[j * d + k] += m[i * d + j] * m[i * d + k] }
        } }
        // Gaussian elimination (the Gram matrix is well conditioned: near-orthogonal unit columns).
        for col in 0..<d {
            for row in (col + 1)..<d {
                let f = a[row * d + col] / a[col * d + col]
                for k in col..<d { a[row * d + k] -= f * a[col * d + k] }
                b[row] -= f * b[col]
            }
        }
        var z = [Double](repeating: 0, count: d)
        for row in stride(from: d - 1, through: 0, by: -1) {
            z[row] = (b[row] - ((row + 1)..<d).reduce(0.0) { $0 + a[row * d + $1] * z[$1] }) / a[row * d + row]
        }
        var residual = 0.0, size = 0.0
        for i in 0..<p {
            let fit = (0..<d).reduce(0.0) { $0 + m[i * d + $1] * z[$1] }
            residual += (delta[i] - fit) * (delta[i] - fit); size += delta[i] * delta[i]
        }
        #expect(size > 1e-4 && residual.squareRoot() < 1e-10 * size.squareRoot(), "residual \(residual.squareRoot()) of \(size.squareRoot())")
    }
}
