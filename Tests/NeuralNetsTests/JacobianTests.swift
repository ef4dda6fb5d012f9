import Linalg
import NeuralNets
import Testing

@Suite struct JacobianTests {
    @Test(arguments: ["mlp:3-7-5-1:tanh", "mlp:4-6-1:gelu:nobias", "cnn:5x5x1-c2-a2-1:sigmoid", "vit:4x4x1-p2-d4-b1-h2-m3-1"])
    func matchesFiniteDifferences(spec: String) throws {
        var net = try Network<Double>(spec: spec)
        net.initialize(.gaussian(std: 0.5), rng: RNG(seed: 1))
        var g = RNG(seed: 2)
        let n = 6
        let x = Tensor<Double>(shape: [n] + net.inputShape, scalars: g.normals(n * net.inputSize))
        let J = try net.jacobian(x)
        #expect(J.shape == [n, net.parameterCount])
        let h = 1e-6
        var worst = 0.0, scale = 0.0
        for j in 0..<net.parameterCount {
            var p = net
            p.parameters[j] += h
            let fp = try p.predict(x)
            p.parameters[j] -= 2 * h
            let fm = try p.predict(x)
            for i in 0..<n {
                worst = max(worst, abs((fp.scalars[i] - fm.scalars[i]) / (2 * h) - J[i, j]))
                scale = max(scale, abs(J[i, j]))
            }
        }
        #expect(worst < 1e-7 * max(scale, 1), "\(spec): max error \(worst)")
    }

    @Test func linearModelJacobianIsTheInputs() throws {
        // f(x) = w·x + b: ∂f/∂w = x, ∂f/∂b = 1.
        let net = try Network<Double>(spec: "mlp:3-1")
        let x = Tensor<Double>(rows: [[1, 2, 3], [-1, 0.5, 4]])
        let J = try net.jacobian(x)
        #expect(J.scalars == [1, 2, 3, 1, -1, 0.5, 4, 1])
    }

    @Test func needsOneOutput() throws {
        let net = try Network<Double>(spec: "mlp:3-2")
        #expect(throws: NetworkError.self) { try net.jacobian(Tensor<Double>(shape: [1, 3])) }
    }
}
