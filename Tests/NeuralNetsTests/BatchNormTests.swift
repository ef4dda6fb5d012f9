import Foundation
import Linalg
import NeuralNets
import Testing

/// Batch norm, global average pooling, projected residual blocks and the `resnet:` family:
/// gradients against central finite differences in Double (in training mode, where the batch
/// statistics depend on every sample), running estimates and the normalized output against
/// hand-computed values, and the training pass never chunked.
@Suite struct BatchNormTests {
    /// The relative error of the training-mode gradient (batch statistics) of the mean squared
    /// error against central differences of the same training-mode loss.
    func trainingGradientError(_ layers: [Layer], inputShape: [Int], batch: Int, seed: UInt64, h: Double = 1e-5) throws -> Double {
        var net = try Network<Double>(layers: layers, inputShape: inputShape)
        net.initialize(.gaussian(std: 0.5), rng: RNG(seed: seed))
        var r = RNG(seed: seed &+ 1)
        let x: [Double] = r.normals(batch * net.inputSize), t: [Double] = r.normals(batch * net.outputSize)
        let ws = Workspace<Double>()
        func loss(_ n: inout Network<Double>) -> Double {
            x.withUnsafeBufferPointer { xs in t.withUnsafeBufferPointer { ts in
                n.lossAndGradient(xs.baseAddress!, batch: batch, targets: .values(ts.baseAddress!), loss: .meanSquaredError, ws: ws, training: true)
            } }
        }
        var probe = net
        _ = loss(&net)
        let g = net.gradients
        var num = 0.0, ng = 0.0, nf = 0.0
        for j in 0..<net.parameterCount {
            let p = probe.parameters[j]
            probe.parameters[j] = p + h
            let lp = loss(&probe)
            probe.parameters[j] = p - h
            let lm = loss(&probe)
            probe.parameters[j] = p
            let fd = (lp - lm) / (2 * h)
            num += (g[j] - fd) * (g[j] - fd); ng += g[j] * g[j]; nf += fd * fd
        }
        return num.squareRoot() / max(ng.squareRoot(), nf.squareRoot(), 1e-300)
    }

    @Test func batchNormAfterConvolutionsAndDenseLayers() throws {
        // A strided convolution, batch norm over its channels, a dense layer with batch norm
        // over its features: every gradient, the layers' below batch norm included.
        let layers: [Layer] = [
            .conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1, bias: false), .batchNorm(features: 3), .activation(.tanh),
            .flatten, .dense(inputs: 3 * 3 * 3, outputs: 5, bias: false), .batchNorm(features: 5), .activation(.relu),
            .dense(inputs: 5, outputs: 2, bias: true),
        ]
        let e = try trainingGradientError(layers, inputShape: [5, 6, 2], batch: 4, seed: 21)
        #expect(e < 1e-6, "relative error \(e)")
        // In evaluation the running estimates make it an affine map: the same check as every layer's.
        let eval = try gradientCheckError(layers: layers, inputShape: [5, 6, 2], batch: 3, seed: 22)
        #expect(eval < 1e-6, "evaluation mode: relative error \(eval)")
    }

    @Test func projectedResidualAndGlobalAveragePooling() throws {
        let c = { (ci: Int, co: Int, k: Int, s: Int) in Layer.conv2d(inChannels: ci, outChannels: co, kernel: k, stride: s, padding: k / 2, bias: false) }
        let layers: [Layer] = [
            c(1, 2, 3, 1), .batchNorm(features: 2), .activation(.relu),
            .residual([c(2, 2, 3, 1), .batchNorm(features: 2), .activation(.relu), c(2, 2, 3, 1), .batchNorm(features: 2)]),
            .activation(.relu),
            .projectedResidual(branch: [c(2, 3, 3, 2), .batchNorm(features: 3), .activation(.tanh), c(3, 3, 3, 1), .batchNorm(features: 3)],
                               shortcut: [c(2, 3, 1, 2), .batchNorm(features: 3)]),
            .activation(.tanh), .globalAvgPool, .dense(inputs: 3, outputs: 2, bias: true),
        ]
        let e = try trainingGradientError(layers, inputShape: [6, 5, 1], batch: 3, seed: 31)
        #expect(e < 1e-6, "relative error \(e)")
    }

    @Test func aSmallResNetSpec() throws {
        let spec = try ModelSpec.parse("resnet:8x8x2-w2-b2-s2-3:tanh")
        let e = try trainingGradientError(spec.layers, inputShape: spec.inputShape, batch: 3, seed: 41)
        #expect(e < 1e-6, "relative error \(e)")
    }

    /// The statistics run over lane rows of lcm(F, 16) entries in blocks of 64: feature counts
    /// that do and do not divide 16, and batches that end mid-row and span many blocks. The
    /// running estimates after one pass against a two-pass Double computation, and the
    /// gradients against finite differences over such a batch.
    @Test(arguments: [(3, 1500), (6, 701), (16, 300), (4, 1037)])
    func statisticsOverManyRows(features f: Int, rows: Int) throws {
        var net = try Network<Float>(layers: [.batchNorm(features: f)], inputShape: [f])
        net.initialize(.torch, rng: RNG(seed: 1))
        var r = RNG(seed: UInt64(f * rows))
        let x: [Float] = r.normals(rows * f).enumerated().map { Float($0.offset % f) + 3 * $0.element }
        let t = [Float](repeating: 0, count: rows * f)
        _ = x.withUnsafeBufferPointer { xs in t.withUnsafeBufferPointer { ts in
            net.lossAndGradient(xs.baseAddress!, batch: rows, targets: .values(ts.baseAddress!), loss: .meanSquaredError, ws: Workspace(), training: true)
        } }
        for j in 0..<f {
            let column = stride(from: j, to: rows * f, by: f).map { Double(x[$0]) }
            let mean = column.reduce(0, +) / Double(rows)
            let unbiased = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(rows - 1)
            #expect(abs(Double(net.state[j]) - 0.1 * mean) < 1e-6 * max(1, abs(mean)), "feature \(j) of \(f): running mean")
            #expect(abs(Double(net.state[f + j]) - (0.9 + 0.1 * unbiased)) < 1e-5, "feature \(j) of \(f): running variance")
        }
        let layers: [Layer] = [.dense(inputs: 2, outputs: f, bias: true), .batchNorm(features: f), .activation(.tanh),
                               .dense(inputs: f, outputs: 1, bias: true)]
        let e = try trainingGradientError(layers, inputShape: [2], batch: rows, seed: UInt64(f))
        #expect(e < 1e-6, "\(f) features over \(rows) rows: relative error \(e)")
    }

    /// The passes in C (Float on a kernel path, AVX-512) give the Swift loops' bits: loss,
    /// every gradient and the running estimates, in training and evaluation, with the input
    /// gradient both written (a batch norm above a ReLU) and added into (first in a residual
    /// branch). Feature counts whose lane rows are 16, 48 and 80 wide, batches that end mid-row
    /// and span many 64-row blocks.
    @Test(arguments: [(16, 300), (3, 1037), (6, 701), (20, 413), (1, 2000), (64, 900)])
    func passesInCMatchTheSwiftLoopsBitForBit(features f: Int, rows: Int) throws {
        let layers: [Layer] = [.batchNorm(features: f), .activation(.relu),
                               .residual([.batchNorm(features: f), .activation(.relu)]), .batchNorm(features: f)]
        var base = try Network<Float>(layers: layers, inputShape: [f])
        base.initialize(.torch, rng: RNG(seed: 2))
        var r = RNG(seed: UInt64(f * rows))
        base.parameters = r.normals(base.parameters.count).map { 1 + 0.3 * $0 }
        let x: [Float] = r.normals(rows * f).enumerated().map { Float($0.offset % f) + 3 * $0.element }
        let t: [Float] = r.normals(rows * f)
        for training in [true, false] {
            var results: [(Float, [Float], [Float])] = []
            for path in [KernelPath.reference, .best] {
                var net = base
                net.state = net.state.enumerated().map { $0.offset % (2 * f) < f ? 0.2 : 1.5 }
                let ws = Workspace<Float>()
                ws.kernels = path
                let loss = x.withUnsafeBufferPointer { xs in t.withUnsafeBufferPointer { ts in
                    net.lossAndGradient(xs.baseAddress!, batch: rows, targets: .values(ts.baseAddress!), loss: .meanSquaredError,
                                        ws: ws, training: training)
                } }
                results.append((loss, Array(net.gradients), net.state))
            }
            #expect(results[0].0 == results[1].0, "\(f)×\(rows) training \(training): loss")
            #expect(results[0].1 == results[1].1, "\(f)×\(rows) training \(training): gradients")
            #expect(results[0].2 == results[1].2, "\(f)×\(rows) training \(training): running estimates")
        }
    }

    /// A batch norm and the ReLU after it run fused (the batch norm writes the ReLU's output)
    /// with the same bits as apart: loss, gradients and running estimates, on the C passes and the
    /// Swift loops, in training and in evaluation (`predict`); inputs spread so that many
    /// normalized values are negative or exactly at the clamp. A conv net whose ReLUs feed 2×2
    /// pools keeps the ReLU + pool fusion instead.
    @Test(arguments: ["mlp", "resnet:8x8x3-w4-b1-s2-3", "cnn:8x8x1-c4-m2-f6-3:relu:bn"])
    func fusedBatchNormReluIsBitIdentical(model: String) throws {
        var base = model == "mlp"
            ? try Network<Float>(layers: [.dense(inputs: 6, outputs: 20, bias: true), .batchNorm(features: 20), .activation(.relu),
                                          .dense(inputs: 20, outputs: 3, bias: true)], inputShape: [6])
            : try Network<Float>(spec: model)
        base.initialize(.torch, rng: RNG(seed: 3))
        var r = RNG(seed: 4)
        let batch = 24
        let x = Tensor<Float>(shape: [batch] + base.inputShape, scalars: r.normals(batch * base.inputSize).map { 2 * $0 - 0.5 })
        let y = Supervision<Float>.classes((0..<batch).map { Int32($0 % base.outputSize) })
        for path in [KernelPath.best, .reference] {
            var results: [(Float, [Float], [Float], [Float])] = []
            for fused in [true, false] {
                var net = base
                let ws = Workspace<Float>()
                ws.kernels = path
                ws.fusesReLU = fused
                let (loss, g) = try net.lossAndGradient(x, y, loss: .crossEntropy, ws: ws)
                let out = try net.predict(x, ws: ws).scalars
                results.append((Float(loss), g, net.state, out))
            }
            #expect(results[0].0 == results[1].0 && results[0].1 == results[1].1, "\(model) \(path): loss or gradients")
            #expect(results[0].2 == results[1].2 && results[0].3 == results[1].3, "\(model) \(path): running estimates or evaluation")
        }
    }

    /// One feature, rows 1, 2, 3, 6 (mean 3, biased variance 3.5, unbiased 14/3), scale 2, shift 1.
    @Test func normalizesWithBatchStatisticsAndKeepsRunningOnes() throws {
        var net = try Network<Double>(layers: [.batchNorm(features: 1)], inputShape: [1])
        net.initialize(.torch, rng: RNG(seed: 0))
        #expect(net.state == [0, 1])
        net.parameters = [2, 1]
        let x: [Double] = [1, 2, 3, 6], t = [Double](repeating: 0, count: 4)
        let ws = Workspace<Double>()
        _ = x.withUnsafeBufferPointer { xs in t.withUnsafeBufferPointer { ts in
            net.lossAndGradient(xs.baseAddress!, batch: 4, targets: .values(ts.baseAddress!), loss: .meanSquaredError, ws: ws, training: true)
        } }
        #expect(abs(net.state[0] - 0.3) < 1e-12 && abs(net.state[1] - (0.9 + 0.1 * 14 / 3)) < 1e-12, "\(net.state)")
        // The training output (from the same pass): the loss is the mean of y² with y = 2·x̂ + 1,
        // and mean(x̂) = 0, mean(x̂²) = 3.5 / (3.5 + ε), so the loss is 4·mean(x̂²) + 1.
        var copy = net
        copy.state = [0, 1]
        let l = x.withUnsafeBufferPointer { xs in t.withUnsafeBufferPointer { ts in
            copy.lossAndGradient(xs.baseAddress!, batch: 4, targets: .values(ts.baseAddress!), loss: .meanSquaredError, ws: ws, training: true)
        } }
        #expect(abs(l - (4 * 3.5 / (3.5 + 1e-5) + 1)) < 1e-12, "\(l)")
        // Evaluation reads the running estimates: y = 2 (x − 0.3) / √(v + ε) + 1.
        let y = try net.predict(Tensor(shape: [4, 1], scalars: x)).scalars
        let v = 0.9 + 0.1 * 14 / 3
        for (yi, xi) in zip(y, x) { #expect(abs(yi - (2 * (xi - 0.3) / (v + 1e-5).squareRoot() + 1)) < 1e-12) }
        // Initializing again resets them.
        net.initialize(.torch, rng: RNG(seed: 0))
        #expect(net.state == [0, 1])
    }

    /// Chunking a training pass would normalize each chunk by its own statistics: a network
    /// with batch norm runs the batch whole whatever the workspace asks, the same gradient.
    @Test func aTrainingPassIsNeverChunked() throws {
        var net = try Network<Float>(spec: "cnn:6x6x1-c4-m2-f6-3:relu:bn")
        net.initialize(.torch, rng: RNG(seed: 5))
        var r = RNG(seed: 6)
        let x: [Float] = r.normals(16 * 36), labels = (0..<16).map { Int32($0 % 3) }
        func gradient(chunk: Int?) -> ([Float], [Float]) {
            var n = net
            let ws = Workspace<Float>()
            ws.chunkSamples = chunk
            _ = x.withUnsafeBufferPointer { xs in labels.withUnsafeBufferPointer { l in
                n.lossAndGradient(xs.baseAddress!, batch: 16, targets: .classes(l), loss: .crossEntropy, ws: ws, training: true)
            } }
            return (n.gradients, n.state)
        }
        let whole = gradient(chunk: nil), chunked = gradient(chunk: 4)
        #expect(whole.0 == chunked.0 && whole.1 == chunked.1)
        #expect(whole.0.contains { $0 != 0 } && whole.1 != net.state)
    }

    /// The full-data gradient the no-fit verdict reads: with `batchStatistics`, that of the
    /// training pass over all samples (as full-batch training descends), the running estimates
    /// untouched; without, that of the evaluation's affine map — a different gradient.
    @Test func theFullDataGradientOfTheTrainingObjective() throws {
        var net = try Network<Double>(spec: "cnn:6x6x1-c8-m2-f6-3:relu:bn")
        net.initialize(.torch, rng: RNG(seed: 5))
        var r = RNG(seed: 7)
        let x: [Double] = r.normals(10 * 36), labels = (0..<10).map { Int32($0 % 3) }
        var trained = net
        _ = x.withUnsafeBufferPointer { xs in labels.withUnsafeBufferPointer { l in
            trained.lossAndGradient(xs.baseAddress!, batch: 10, targets: .classes(l), loss: .crossEntropy, ws: Workspace(), training: true)
        } }
        let tensor = Tensor<Double>(shape: [10, 6, 6, 1], scalars: x)
        let before = net.state
        let full = try net.lossAndGradient(tensor, .classes(labels), loss: .crossEntropy, batchStatistics: true)
        #expect(full.gradient == trained.gradients)
        #expect(net.state == before && trained.state != before)
        let eval = try net.lossAndGradient(tensor, .classes(labels), loss: .crossEntropy)
        #expect(eval.gradient != full.gradient)
        // In groups of 4 (as training with batches of 4 would normalize): the groups' gradients
        // weighted by their sizes (4, 4, 2 of 10), each group normalized alone.
        let grouped = try net.lossAndGradient(tensor, .classes(labels), loss: .crossEntropy, batchStatistics: true, normalizationGroup: 4)
        var expected = [Double](repeating: 0, count: net.parameterCount)
        for (start, size) in [(0, 4), (4, 4), (8, 2)] {
            var part = net
            let g = try part.lossAndGradient(Tensor(shape: [size, 6, 6, 1], scalars: Array(x[start * 36 ..< (start + size) * 36])),
                                             .classes(Array(labels[start ..< start + size])), loss: .crossEntropy, batchStatistics: true).gradient
            for j in 0..<g.count { expected[j] += Double(size) / 10 * g[j] }
        }
        #expect(zip(grouped.gradient, expected).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
        #expect(net.state == before)
    }

    /// A ResNet and a CNN with batch norm train: full batch takes the general path (a training
    /// pass, then an evaluation with the running estimates) and reaches 100% train accuracy.
    @Test func networksWithBatchNormFitASmallSet() throws {
        var r = RNG(seed: 9)
        let n = 24
        let labels = (0..<n).map { Int32($0 % 3) }
        let x = Tensor<Float>(shape: [n, 8, 8, 1], scalars: r.normals(n * 64))
        for spec in ["resnet:8x8x1-w4-b1-s2-3", "cnn:8x8x1-c4-m2-f8-3:relu:bn"] {
            var net = try Network<Float>(spec: spec)
            net.initialize(.torch, rng: RNG(seed: 1))
            var c = TrainConfig()
            c.batchSize = nil
            c.learningRate = 0.05
            c.maxSteps = 600
            c.targetAccuracy = 1
            let result = try train(&net, x: x, y: .classes(labels), config: c)
            #expect(result.stopReason == .targetAccuracy, "\(spec): \(result.finalAccuracy ?? 0) after \(result.steps) steps")
            // The accuracy that stopped it is the evaluation's (running estimates), not the batch's.
            let eval = try net.evaluate(x, .classes(labels), loss: .crossEntropy)
            #expect(eval.accuracy == 1, "\(spec)")
        }
    }

    /// ResNet-8 for 32×32×3 as issue #21 sizes it: stem 3→16, one basic block per stage at 16,
    /// 32, 64, 1×1 projections where the shape changes; every parameter counted by hand.
    @Test func resNet8ParameterCount() throws {
        let net = try Network<Float>(spec: "resnet:32x32x3-w16-b1-s3-10")
        let convs = 3 * 9 * 16 + 2 * (16 * 9 * 16) + (16 * 9 * 32 + 32 * 9 * 32 + 16 * 32) + (32 * 9 * 64 + 64 * 9 * 64 + 32 * 64)
        let norms = 2 * (16 + 2 * 16 + 3 * 32 + 3 * 64)
        #expect(net.parameterCount == convs + norms + 64 * 10 + 10)
        #expect(net.parameterCount == 78_042)
        #expect(net.state.count == norms)
        for bad in ["resnet:32x32x3-w16-b1-10", "resnet:32x32x3-w16-b1-s3", "resnet:32x32x3-w16-b0-s3-10", "resnet:32x32-w16-b1-s3-10", "resnet:32x32x3-w16-b1-s9-10", "resnet:32x32x3-w16-w8-b1-s3-10",
                    "resnet:32x32x3-w16-b1-s3-10:dropout0.1", "mlp:4-8-2:bn"] {
            #expect(throws: NetworkError.self, "\(bad)") { try ModelSpec.parse(bad) }
        }
    }
}
