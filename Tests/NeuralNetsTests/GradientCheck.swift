import Linalg
import NeuralNets
import Testing

/// Central finite differences of the mean-squared-error loss against the hand-written
/// backward pass, in Double. Returns the relative error ‖g − g_fd‖ / max(‖g‖, ‖g_fd‖).
func gradientCheckError(layers: [Layer], inputShape: [Int], batch: Int, seed: UInt64, init scheme: Initialization = .gaussian(std: 0.5), h: Double = 1e-5) throws -> Double {
    var net = try Network<Double>(layers: layers, inputShape: inputShape)
    net.initialize(scheme, rng: RNG(seed: seed))
    var r = RNG(seed: seed &+ 1)
    let x = Tensor<Double>(shape: [batch] + inputShape, scalars: r.normals(batch * net.inputSize))
    let t = Tensor<Double>(shape: [batch] + net.outputShape, scalars: r.normals(batch * net.outputSize))
    let (_, g) = try net.lossAndGradient(x, .values(t), loss: .meanSquaredError)
    var fd = [Double](repeating: 0, count: net.parameterCount)
    var probe = net
    for j in 0..<net.parameterCount {
        let p = probe.parameters[j]
        probe.parameters[j] = p + h
        let lp = try probe.evaluate(x, .values(t), loss: .meanSquaredError).loss
        probe.parameters[j] = p - h
        let lm = try probe.evaluate(x, .values(t), loss: .meanSquaredError).loss
        probe.parameters[j] = p
        fd[j] = (lp - lm) / (2 * h)
    }
    var num = 0.0, ng = 0.0, nf = 0.0
    for j in 0..<g.count { num += (g[j] - fd[j]) * (g[j] - fd[j]); ng += g[j] * g[j]; nf += fd[j] * fd[j] }
    return num.squareRoot() / max(ng.squareRoot(), nf.squareRoot(), 1e-300)
}

@Suite struct GradientChecks {
    @Test(arguments: [Activation.relu, .leakyReLU(slope: 0.1), .tanh, .sigmoid, .gelu, .identity])
    func activations(a: Activation) throws {
        let layers: [Layer] = [.dense(inputs: 7, outputs: 9, bias: true), .activation(a), .dense(inputs: 9, outputs: 3, bias: true)]
        let e = try gradientCheckError(layers: layers, inputShape: [7], batch: 5, seed: 11)
        #expect(e < 1e-6, "\(a): relative error \(e)")
    }

    @Test func denseWithoutBiasDeep() throws {
        let layers: [Layer] = [.dense(inputs: 5, outputs: 13, bias: false), .activation(.tanh),
                               .dense(inputs: 13, outputs: 6, bias: false), .activation(.tanh),
                               .dense(inputs: 6, outputs: 1, bias: false)]
        let e = try gradientCheckError(layers: layers, inputShape: [5], batch: 3, seed: 2)
        #expect(e < 1e-6, "relative error \(e)")
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 0), (5, 2, 2), (2, 1, 0), (1, 1, 0)])
    func conv2d(k: Int, stride: Int, pad: Int) throws {
        let c1 = Layer.conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, bias: true)
        let c2 = Layer.conv2d(inChannels: 3, outChannels: 4, kernel: k, stride: stride, padding: pad, bias: k != 2)
        let net = try Network<Double>(layers: [c1, .activation(.tanh), c2], inputShape: [7, 6, 2])
        let layers: [Layer] = [c1, .activation(.tanh), c2, .flatten, .dense(inputs: net.outputSize, outputs: 2, bias: true)]
        let e = try gradientCheckError(layers: layers, inputShape: [7, 6, 2], batch: 2, seed: UInt64(k * 10 + stride))
        #expect(e < 1e-6, "conv k\(k) s\(stride) p\(pad): relative error \(e)")
    }

    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func windows1d(shared: Bool, bias: Bool) throws {
        // A dense layer first, so the input gradient of the windows layer is checked too.
        let layers: [Layer] = [.dense(inputs: 4, outputs: 7, bias: true), .activation(.tanh),
                               .patches1d(inputs: 7, kernel: 3, channels: 2, shared: shared, bias: bias), .activation(.tanh),
                               .flatten, .dense(inputs: 5 * 2, outputs: 2, bias: false)]
        let e = try gradientCheckError(layers: layers, inputShape: [4], batch: 3, seed: shared ? 5 : 6)
        #expect(e < 1e-6, "shared \(shared) bias \(bias): relative error \(e)")
    }

    @Test(arguments: [true, false])
    func locallyConnected2d(bias: Bool) throws {
        let c = Layer.conv2d(inChannels: 2, outChannels: 2, kernel: 3, stride: 1, padding: 1, bias: true)
        let l = Layer.locallyConnected2d(inChannels: 2, outChannels: 3, kernel: 2, bias: bias)
        let layers: [Layer] = [c, .activation(.tanh), l, .activation(.tanh), .flatten, .dense(inputs: 4 * 3 * 3, outputs: 2, bias: true)]
        let e = try gradientCheckError(layers: layers, inputShape: [5, 4, 2], batch: 2, seed: bias ? 8 : 9)
        #expect(e < 1e-6, "bias \(bias): relative error \(e)")
    }

    @Test func pools() throws {
        for pool in [Layer.maxPool2d(kernel: 2, stride: 2), .avgPool2d(kernel: 2, stride: 2), .maxPool2d(kernel: 3, stride: 2), .avgPool2d(kernel: 3, stride: 1)] {
            let c = Layer.conv2d(inChannels: 1, outChannels: 3, kernel: 3, stride: 1, padding: 1, bias: true)
            let net = try Network<Double>(layers: [c, pool, .flatten], inputShape: [7, 7, 1])
            let layers: [Layer] = [c, pool, .flatten, .dense(inputs: net.outputSize, outputs: 2, bias: true)]
            let e = try gradientCheckError(layers: layers, inputShape: [7, 7, 1], batch: 3, seed: 5)
            #expect(e < 1e-6, "\(pool): relative error \(e)")
        }
    }

    // Windows that tile the input: the backward pass writes its input gradient (no zeroing).
    @Test func tilingMaxPool() throws {
        let c = Layer.conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, bias: true)
        // After a ReLU the pair runs fused (reluMaxPoolForward/Backward); after tanh, alone.
        for pool in [Layer.maxPool2d(kernel: 2, stride: 2), .maxPool2d(kernel: 3, stride: 3)] { for act in [Activation.relu, .tanh] {
            let net = try Network<Double>(layers: [c, .activation(act), pool, .flatten], inputShape: [6, 6, 2])
            let layers: [Layer] = [c, .activation(act), pool, .flatten, .dense(inputs: net.outputSize, outputs: 2, bias: true)]
            let e = try gradientCheckError(layers: layers, inputShape: [6, 6, 2], batch: 3, seed: 6)
            #expect(e < 1e-6, "\(act) \(pool): relative error \(e)")
        } }
    }

    @Test func layerNormAndDropoutInEval() throws {
        let layers: [Layer] = [.dense(inputs: 6, outputs: 11, bias: true), .layerNorm(features: 11), .dropout(rate: 0.3),
                               .activation(.gelu), .dense(inputs: 11, outputs: 2, bias: true)]
        let e = try gradientCheckError(layers: layers, inputShape: [6], batch: 4, seed: 8)
        #expect(e < 1e-6, "relative error \(e)")
    }

    @Test(arguments: [1, 2, 3])
    func attentionBlock(heads: Int) throws {
        let d = 6
        let layers: [Layer] = [
            .patchEmbedding(patch: 2, channels: 1, dim: d), .positionEmbedding(tokens: 6, dim: d),
            .residual([.layerNorm(features: d), .selfAttention(dim: d, heads: heads)]),
            .residual([.layerNorm(features: d), .dense(inputs: d, outputs: 5, bias: true), .activation(.gelu), .dense(inputs: 5, outputs: d, bias: true)]),
            .layerNorm(features: d), .meanPoolTokens, .dense(inputs: d, outputs: 3, bias: true),
        ]
        let e = try gradientCheckError(layers: layers, inputShape: [4, 6, 1], batch: 2, seed: UInt64(heads))
        #expect(e < 1e-6, "heads \(heads): relative error \(e)")
    }

    @Test func crossEntropyGradient() throws {
        var net = try Network<Double>(spec: "mlp:5-7-4:tanh")
        net.initialize(.gaussian(std: 0.7), rng: RNG(seed: 3))
        var r = RNG(seed: 4)
        let x = Tensor<Double>(shape: [6, 5], scalars: r.normals(30))
        let y = Supervision<Double>.classes((0..<6).map { Int32($0 % 4) })
        let (_, g) = try net.lossAndGradient(x, y, loss: .crossEntropy)
        let h = 1e-5
        var worst = 0.0
        for j in 0..<net.parameterCount {
            var p = net
            p.parameters[j] += h
            let lp = try p.evaluate(x, y, loss: .crossEntropy).loss
            p.parameters[j] -= 2 * h
            let lm = try p.evaluate(x, y, loss: .crossEntropy).loss
            worst = max(worst, abs((lp - lm) / (2 * h) - g[j]))
        }
        #expect(worst < 1e-8, "max abs error \(worst)")
    }
}
