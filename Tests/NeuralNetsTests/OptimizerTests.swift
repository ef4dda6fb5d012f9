import Linalg
import NeuralNets
import Testing

@Suite struct OptimizerTests {
    @Test func sgdMomentumAndNesterovByHand() {
        // Constant gradient g = 1 from θ = 0, lr 0.1, μ = 0.9 (PyTorch's recurrences):
        // plain:    b = 1, 1.9, 2.71;           θ = −0.1, −0.29, −0.561
        // Nesterov: step = g + μb = 1.9, 2.71, 3.439;  θ = −0.19, −0.461, −0.8049
        var p: [Double] = [0, 0, 0, 0, 0, 0, 0, 0, 0]
        let g = [Double](repeating: 1, count: 9)
        var o = Optimizer<Double>(.sgd(momentum: 0.9), learningRate: 0.1)
        var q = p
        var on = Optimizer<Double>(.sgd(momentum: 0.9, nesterov: true), learningRate: 0.1)
        let plain = [-0.1, -0.29, -0.561], nest = [-0.19, -0.461, -0.8049]
        for k in 0..<3 {
            o.update(&p, g); on.update(&q, g)
            #expect(p.allSatisfy { abs($0 - plain[k]) < 1e-12 })
            #expect(q.allSatisfy { abs($0 - nest[k]) < 1e-12 })
        }
    }

    @Test func weightDecayAndPlainSGD() {
        var p: [Double] = [2, -4, 1]
        var o = Optimizer<Double>(.sgd(weightDecay: 0.5), learningRate: 0.1)
        o.update(&p, [1, 1, 0])
        // θ − 0.1·(g + 0.5θ)
        let expected: [Double] = [1.8, -3.9, 0.95]
        for i in 0..<3 { #expect(abs(p[i] - expected[i]) < 1e-12) }
    }

    @Test func adamFirstStepIsSignTimesRate() {
        var p: [Double] = [0, 0, 0]
        var o = Optimizer<Double>(.adam(), learningRate: 0.01)
        o.update(&p, [3, -0.002, 0])
        // m̂ = g, v̂ = g²: step = lr·g/(|g| + ε)
        #expect(abs(p[0] + 0.01) < 1e-9 && abs(p[1] - 0.01) < 1e-5 && p[2] == 0)
    }

    @Test func adamWDecouplesDecay() {
        var p: [Double] = [1]
        var o = Optimizer<Double>(.adamW(weightDecay: 0.1), learningRate: 0.01)
        o.update(&p, [0])
        #expect(abs(p[0] - (1 - 0.01 * 0.1)) < 1e-15)
        var q: [Double] = [1]
        var a = Optimizer<Double>(.adam(weightDecay: 0.1), learningRate: 0.01)
        a.update(&q, [0])
        // L2 in Adam: the decay becomes the gradient and is normalized to a full step.
        #expect(abs(q[0] - (1 - 0.01)) < 1e-6)
    }

    @Test func schedules() {
        let cos = Schedule.cosine(steps: 100, floor: 0.1)
        #expect(cos.factor(at: 0) == 1 && abs(cos.factor(at: 50) - 0.55) < 1e-12 && cos.factor(at: 100) == 0.1 && cos.factor(at: 500) == 0.1)
        let w = Schedule.warmup(steps: 4, then: .constant)
        #expect([0, 1, 2, 3, 4, 10].map { w.factor(at: $0) } == [0.2, 0.4, 0.6, 0.8, 1, 1])
        var o = Optimizer<Double>(.sgd(), learningRate: 1, schedule: .warmup(steps: 1, then: .constant))
        var p: [Double] = [0]
        o.update(&p, [1]); o.update(&p, [1])
        #expect(p == [-1.5])
    }

    @Test func initializationScales() throws {
        var net = try Network<Double>(spec: "mlp:400-300-1")
        for (scheme, std) in [(Initialization.he, (2.0 / 400).squareRoot()), (.xavier, (2.0 / 700).squareRoot()),
                              (.torch, 1 / (3.0 * 400).squareRoot()), (.gaussian(std: 1e-10), 1e-10)] {
            net.initialize(scheme, rng: RNG(seed: 1))
            let w = net.parameters[0..<120_000]
            let s = (w.map { $0 * $0 }.reduce(0, +) / Double(w.count)).squareRoot()
            #expect(abs(s / std - 1) < 0.02, "\(scheme): std \(s), expected \(std)")
        }
        net.initialize(.torch, rng: RNG(seed: 1))
        #expect(net.parameters[0..<120_000].allSatisfy { abs($0) <= 1 / 20.0 })
    }
}

/// Float optimizer steps run in C (`ck_sgd`, `ck_adam`): every variant must give the Swift loops'
/// bits, for every flavour (SGD plain with and without weight decay, with momentum with and
/// without Nesterov and decay; Adam with and without coupled decay, AdamW), over three steps (the
/// first sets the momentum buffer; Adam's bias corrections change each step), on 1,003
/// parameters (a partial vector).
@Suite struct FloatOptimizerTests {
    static let kinds: [OptimizerKind] = [.sgd(), .sgd(weightDecay: 0.01), .sgd(momentum: 0.9),
                                         .sgd(momentum: 0.9, nesterov: true, weightDecay: 5e-4), .sgd(momentum: 0.5, weightDecay: 0.1),
                                         .adam(), .adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.01), .adamW(weightDecay: 0.1)]

    @Test(arguments: kinds)
    func everyPathGivesTheSwiftLoopsBits(_ kind: OptimizerKind) {
        var r = RNG(seed: 11)
        let p0: [Float] = r.normals(1003)
        let grads: [[Float]] = (0..<3).map { _ in r.normals(1003) }
        func run(_ path: KernelPath) -> [Float] {
            var o = Optimizer<Float>(kind, learningRate: 0.05, schedule: .cosine(steps: 10))
            o.kernels = path
            var p = p0
            for g in grads { o.update(&p, g) }
            return p
        }
        let reference = run(.reference)
        #expect(reference != p0)
        for path in [KernelPath.best, .avx2, .portable] {
            let got = run(path)
            let same = zip(got, reference).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(same, "\(kind) \(path): \(zip(got, reference).filter { $0.bitPattern != $1.bitPattern }.count) of 1003 differ")
        }
    }
}
