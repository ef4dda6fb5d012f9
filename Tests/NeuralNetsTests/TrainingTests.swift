import Datasets
import Linalg
import NeuralNets
import Testing

@Suite struct TrainingTests {
    @Test func learnsXOR() throws {
        var net = try Network<Double>(spec: "mlp:2-8-2:tanh")
        net.initialize(.xavier, rng: RNG(seed: 1))
        let x = Tensor<Double>(rows: [[0, 0], [0, 1], [1, 0], [1, 1]])
        var c = TrainConfig()
        c.optimizer = .adam(); c.learningRate = 0.05; c.batchSize = nil; c.maxSteps = 2000
        c.targetLoss = 0.01
        let r = try train(&net, x: x, y: .classes([0, 1, 1, 0]), config: c)
        #expect(r.finalAccuracy == 1)
        #expect(r.finalLoss <= 0.01 && r.stopReason == .targetLoss)
    }

    /// Two copies of each input with conflicting targets: no function does better than their
    /// mean, so the loss floor is known exactly — MSE 1/4 for targets 0 and 1, cross-entropy
    /// ln 2 for labels 0 and 1. Training reaches the floor and the plateau rule stops it there,
    /// long before the budget, on the general path (values) and the full-batch one (classes).
    @Test func plateauStopsAtAKnownLossFloor() throws {
        let x = Tensor<Double>(rows: [[1], [1], [-1], [-1]])
        var c = TrainConfig()
        c.loss = .meanSquaredError; c.optimizer = .sgd(); c.learningRate = 0.2; c.batchSize = nil
        c.maxSteps = 200_000; c.evaluateEvery = 50
        c.plateau = Plateau(window: 500, decrease: 1e-6)
        var net = try Network<Double>(spec: "mlp:1-8-1:tanh")
        net.initialize(.xavier, rng: RNG(seed: 2))
        let mse = try train(&net, x: x, y: .values(Tensor(shape: [4, 1], scalars: [0, 1, 0, 1])), config: c)
        #expect(mse.stopReason == .plateau && mse.steps < 50_000, "\(mse.stopReason) after \(mse.steps) steps")
        #expect(abs(mse.finalLoss - 0.25) < 1e-6, "MSE \(mse.finalLoss)")
        #expect(mse.steps % 50 == 0, "the rule reads evaluations only")

        c.loss = .crossEntropy; c.learningRate = 0.5
        var clf = try Network<Double>(spec: "mlp:1-8-2:tanh")
        clf.initialize(.xavier, rng: RNG(seed: 2))
        let ce = try train(&clf, x: x, y: .classes([0, 1, 0, 1]), config: c)
        #expect(ce.stopReason == .plateau && ce.steps < 50_000, "\(ce.stopReason) after \(ce.steps) steps")
        #expect(abs(ce.finalLoss - 0.693_147_180_559_945_3) < 1e-6, "cross-entropy \(ce.finalLoss)")
        #expect(ce.steps % 50 == 0)

        // A loss that keeps falling is not a plateau: the same rule on XOR ends at its target.
        var xor = try Network<Double>(spec: "mlp:2-8-2:tanh")
        xor.initialize(.xavier, rng: RNG(seed: 1))
        var d = TrainConfig()
        d.optimizer = .adam(); d.learningRate = 0.05; d.batchSize = nil; d.maxSteps = 2000; d.targetLoss = 0.01
        d.evaluateEvery = 10; d.plateau = Plateau(window: 100, decrease: 1e-3)
        let r = try train(&xor, x: Tensor<Double>(rows: [[0, 0], [0, 1], [1, 0], [1, 1]]), y: .classes([0, 1, 1, 0]), config: d)
        #expect(r.stopReason == .targetLoss)

        d.plateau = Plateau(window: 0, decrease: 1e-3)
        #expect(throws: NetworkError.self) { try train(&xor, x: Tensor<Double>(rows: [[0, 0]]), y: .classes([0]), config: d) }
    }

    @Test func fashionMNISTSubsetFitsAbove97Percent() throws {
        let data = try FashionMNIST.load(train: true, as: Float.self).prefix(1000)
        var net = try Network<Float>(spec: "mlp:784-256-10:relu", inputShape: [28, 28, 1])
        net.initialize(.torch, rng: RNG(seed: 0))
        var c = TrainConfig()
        c.optimizer = .adam(); c.learningRate = 2e-3; c.batchSize = 100; c.maxSteps = 600
        c.targetAccuracy = 0.98
        let r = try train(&net, x: data.x, y: .classes(data.labels.map { Int32($0) }), config: c)
        #expect((r.finalAccuracy ?? 0) > 0.97, "train accuracy \(r.finalAccuracy ?? 0) after \(r.steps) steps")
    }

    /// lossAndGradient does not zero the gradient buffer first: each layer sets its own slice
    /// (dense layers by a beta-0 product). Whatever the buffer held before — here NaN — the
    /// gradient is the one a clean buffer gives, for every layer type with parameters.
    @Test(arguments: ["vit:8x8x1-p4-d16-b1-h2-m32-3", "cnn:8x8x1-c4-m2-c8-f5-3:relu", "cnn:8x8x1-l4k3-3:tanh",
                      "mlp:6-7-5-3:tanh:nobias", "mlp:6-64-3:relu:dropout0.2", "conv1d:6-k3-c4-3:tanh", "local1d:6-k3-c4-3:tanh"])
    func gradientIgnoresStaleBuffer(spec: String) throws {
        var net = try Network<Float>(spec: spec)
        net.initialize(.he, rng: RNG(seed: 3))
        var g = RNG(seed: 4)
        let x = Tensor<Float>(shape: [9] + net.inputShape, scalars: g.normals(9 * net.inputSize))
        let y = Supervision<Float>.classes((0..<9).map { Int32($0 % 3) })
        let clean = try net.lossAndGradient(x, y, loss: .crossEntropy).gradient
        net.gradients = [Float](repeating: .nan, count: net.gradients.count)
        let again = try net.lossAndGradient(x, y, loss: .crossEntropy).gradient
        #expect(clean.allSatisfy { $0.isFinite })
        #expect(again == clean)
    }

    @Test func sameSeedIsBitIdentical() throws {
        func run(_ seed: UInt64) throws -> [Float] {
            var net = try Network<Float>(spec: "cnn:8x8x1-c4-m2-f6-3:relu:dropout0.2")
            net.initialize(.he, rng: RNG(seed: 11))
            var g = RNG(seed: 12)
            let x = Tensor<Float>(shape: [40, 8, 8, 1], scalars: g.normals(40 * 64))
            var c = TrainConfig()
            c.batchSize = 16; c.maxSteps = 30; c.seed = seed; c.learningRate = 0.05
            _ = try train(&net, x: x, y: .classes((0..<40).map { Int32($0 % 3) }), config: c)
            return net.parameters
        }
        let a = try run(5)
        #expect(a == (try run(5)))
        #expect(a != (try run(6)))
    }

    @Test func floatAndDoubleAgree() throws {
        for spec in ["mlp:6-9-4:gelu", "cnn:6x6x2-c3-m2-4:tanh", "vit:4x4x1-p2-d6-b1-h2-m5-3"] {
            var d = try Network<Double>(spec: spec)
            d.initialize(.torch, rng: RNG(seed: 3))
            var f = try Network<Float>(spec: spec)
            f.parameters = d.parameters.map(Float.init)
            var g = RNG(seed: 4)
            let xd = Tensor<Double>(shape: [5] + d.inputShape, scalars: g.normals(5 * d.inputSize))
            let y: [Int32] = [0, 1, 2, 0, 1]
            let (ld, gd) = try d.lossAndGradient(xd, .classes(y), loss: .crossEntropy)
            let (lf, gf) = try f.lossAndGradient(xd.converted(to: Float.self), .classes(y), loss: .crossEntropy)
            #expect(abs(ld - lf) < 1e-5 * max(1, abs(ld)), "\(spec) loss")
            let scale = gd.map(abs).max() ?? 1
            for i in 0..<gd.count { #expect(abs(gd[i] - Double(gf[i])) < 1e-4 * scale, "\(spec) grad \(i)") }
        }
    }

    @Test func divergenceIsATypedError() throws {
        var net = try Network<Float>(spec: "mlp:4-16-1:relu")
        net.initialize(.he, rng: RNG(seed: 0))
        var g = RNG(seed: 1)
        let x = Tensor<Float>(shape: [32, 4], scalars: g.normals(128))
        let y = Tensor<Float>(shape: [32, 1], scalars: g.normals(32))
        var c = TrainConfig()
        c.loss = .meanSquaredError; c.learningRate = 1e4; c.maxSteps = 200; c.optimizer = .sgd()
        do {
            _ = try train(&net, x: x, y: .values(y), config: c)
            Issue.record("a learning rate of 1e4 did not diverge")
        } catch let NetworkError.diverged(step, loss) {
            #expect(step > 0 && !loss.isFinite)
        }
    }

    @Test func badInputsAreTypedErrors() throws {
        let net = try Network<Float>(spec: "mlp:4-3:relu")
        #expect(throws: NetworkError.self) { try net.predict(Tensor<Float>(shape: [2, 5])) }
        #expect(throws: NetworkError.self) { try net.evaluate(Tensor<Float>(shape: [2, 4]), .classes([0, 3]), loss: .crossEntropy) }
        #expect(throws: NetworkError.self) { try net.evaluate(Tensor<Float>(shape: [2, 4]), .classes([0]), loss: .crossEntropy) }
        #expect(throws: NetworkError.self) { try net.evaluate(Tensor<Float>(shape: [2, 4]), .classes([0, 1]), loss: .meanSquaredError) }
        var m = net
        var c = TrainConfig()
        c.learningRate = -1
        #expect(throws: NetworkError.self) { try train(&m, x: Tensor<Float>(shape: [2, 4]), y: .classes([0, 1]), config: c) }
    }

    @Test func dropoutGradientInTrainingMode() throws {
        // With the mask fixed by the RNG, the training-mode loss is a smooth function of θ.
        var net = try Network<Double>(layers: [.dense(inputs: 5, outputs: 12, bias: true), .activation(.tanh), .dropout(rate: 0.4),
                                               .dense(inputs: 12, outputs: 2, bias: true)], inputShape: [5])
        net.initialize(.gaussian(std: 0.6), rng: RNG(seed: 2))
        var g = RNG(seed: 3)
        let x: [Double] = g.normals(4 * 5), t: [Double] = g.normals(4 * 2)
        let ws = Workspace<Double>()
        let mask = RNG(seed: 99)
        func loss(_ n: inout Network<Double>) -> Double {
            x.withUnsafeBufferPointer { xs in t.withUnsafeBufferPointer { ts in
                n.lossAndGradient(xs.baseAddress!, batch: 4, targets: .values(ts.baseAddress!), loss: .meanSquaredError, ws: ws, rng: mask)
            } }
        }
        _ = loss(&net)
        let grad = net.gradients
        var worst = 0.0
        for j in 0..<net.parameterCount {
            var p = net
            p.parameters[j] += 1e-5
            let lp = loss(&p)
            p.parameters[j] -= 2e-5
            let lm = loss(&p)
            worst = max(worst, abs((lp - lm) / 2e-5 - grad[j]))
        }
        #expect(worst < 1e-8)
        #expect(grad.contains(0), "some hidden units must be dropped")
    }
}

@Suite struct FullBatchTests {
    @Test func oneForwardPerStepMatchesTheGeneralLoop() throws {
        // A rate-0 dropout layer changes nothing numerically but sends training down the general
        // path (separate evaluation passes); both must give the same trajectory and stop. (With
        // evaluations every step: the full-batch path checks the stopping rule at every step,
        // the general one only where it evaluates.)
        var g = RNG(seed: 3)
        let x = Tensor<Double>(shape: [60, 5], scalars: g.normals(300))
        let y = Supervision<Double>.classes((0..<60).map { Int32(($0 * 7) % 3) })
        var start = try Network<Double>(spec: "mlp:5-16-3:tanh")
        start.initialize(.he, rng: RNG(seed: 1))
        func run(_ layers: [Layer]) throws -> (TrainResult, [Double]) {
            var net = try Network<Double>(layers: layers, inputShape: [5])
            net.parameters = start.parameters  // the dropout layer has no parameters: same layout
            var c = TrainConfig()
            c.batchSize = nil; c.optimizer = .adam(); c.learningRate = 0.02; c.maxSteps = 3000; c.targetAccuracy = 1
            c.evaluateEvery = 1
            let r = try train(&net, x: x, y: y, config: c)
            return (r, net.parameters)
        }
        let plain: [Layer] = [.dense(inputs: 5, outputs: 16, bias: true), .activation(.tanh), .dense(inputs: 16, outputs: 3, bias: true)]
        let dropped: [Layer] = [.dense(inputs: 5, outputs: 16, bias: true), .activation(.tanh), .dropout(rate: 0), .dense(inputs: 16, outputs: 3, bias: true)]
        let (a, pa) = try run(plain)
        let (b, pb) = try run(dropped)
        #expect(a.stopReason == .targetAccuracy && b.stopReason == .targetAccuracy)
        #expect(a.steps == b.steps && a.finalAccuracy == 1)
        #expect(zip(pa, pb).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($0)) })
        #expect(a.history.map(\.step) == b.history.map(\.step))
        #expect(zip(a.history, b.history).allSatisfy { abs($0.loss - $1.loss) < 1e-12 && $0.accuracy == $1.accuracy })
    }

    /// A batch run in chunks of samples (each adding its share of the gradient) gives the whole
    /// batch's loss, gradient and correct count, up to rounding: the first chunk sets the
    /// gradient (a NaN left in the buffer does not survive), the rest add, each weighted by its
    /// size; the uneven last chunk included.
    @Test(arguments: ["vit:8x8x1-p4-d16-b1-h2-m32-3", "cnn:8x8x1-c4-m2-c8-f5-3:relu", "mlp:6-7-5-3:tanh:nobias",
                      "conv1d:6-k3-c4-3:tanh"])
    func chunkedBatchMatchesWholeBatch(spec: String) throws {
        var net = try Network<Double>(spec: spec)
        net.initialize(.he, rng: RNG(seed: 5))
        var g = RNG(seed: 6)
        let n = 11
        let x: [Double] = g.normals(n * net.inputSize)
        let labels = (0..<n).map { Int32($0 % 3) }
        func run(chunk: Int) -> (Double, [Double], Int) {
            let ws = Workspace<Double>()
            ws.chunkSamples = chunk
            net.gradients = [Double](repeating: .nan, count: net.gradients.count)
            var correct = 0
            let l = x.withUnsafeBufferPointer { xs in
                labels.withUnsafeBufferPointer { c in
                    net.lossAndGradient(xs.baseAddress!, batch: n, targets: .classes(c), loss: .crossEntropy, ws: ws, correct: &correct)
                }
            }
            return (l, net.gradients, correct)
        }
        let whole = run(chunk: n)
        for chunk in [1, 4, 10, 0] {  // 0: taken as 1
            let (l, grad, correct) = run(chunk: chunk)
            #expect(abs(l - whole.0) <= 1e-13 * abs(whole.0), "chunk \(chunk): loss \(l) vs \(whole.0)")
            let worst = zip(grad, whole.1).map { abs($0 - $1) / max(1e-3, abs($1)) }.max()!
            #expect(worst <= 1e-11, "chunk \(chunk): gradient differs by \(worst) (relative)")
            #expect(correct == whole.2)
        }
    }

    /// Large activations run in chunks by default, small ones whole.
    @Test func automaticChunksFollowActivationSize() throws {
        let vit = try Network<Float>(spec: "vit:28x28x1-p4-d64-b2-h4-m128-10")
        let chunk = vit.chunkSamples(batch: 128)
        #expect(chunk >= 8 && chunk < 32, "ViT chunk \(chunk)")
        #expect(vit.chunkSamples(batch: 4) == 4)
        let mlp = try Network<Float>(spec: "mlp:784-512-512-10:relu")
        #expect(mlp.chunkSamples(batch: 128) == 128)
    }
}
