import Linalg
import NeuralNets
import Testing

@Suite struct SpecTests {
    @Test func parameterCountsByHand() throws {
        // 784·512+512 + 512·512+512 + 512·10+10
        #expect(try Network<Float>(spec: "mlp:784-512-512-10:relu").parameterCount == 669_706)
        #expect(try Network<Float>(spec: "mlp:64-32-10:relu").parameterCount == 2410)
        #expect(try Network<Float>(spec: "mlp:5-20-1:tanh:nobias").parameterCount == 5 * 20 + 20)
        // conv 16·9+16, conv 32·144+32, dense 1568·10+10
        #expect(try Network<Float>(spec: "cnn:28x28x1-c16-m2-c32-m2-10:relu").parameterCount == 160 + 4640 + 15_690)
        // patch 64·16+64, positions 49·64, two blocks of (LN 128 + attention 16,640 + LN 128 + MLP 16,576),
        // final LN 128, head 64·10+10
        #expect(try Network<Float>(spec: "vit:28x28x1-p4-d64-b2-h4-m128-10").parameterCount == 1088 + 3136 + 2 * 33_472 + 128 + 650)
        // The recovery papers' Fig. 3 students on 5 inputs, kernel 3 (3 windows), one channel, no
        // output bias: shared 3 + 1 + 3 = 7; local 3·(3 + 1 + 1) = 15; dense 3·(5 + 1 + 1) = 21.
        #expect(try Network<Float>(spec: "conv1d:5-k3-c1-1:tanh:nooutbias").parameterCount == 7)
        #expect(try Network<Float>(spec: "local1d:5-k3-c1-1:tanh:nooutbias").parameterCount == 15)
        #expect(try Network<Float>(spec: "mlp:5-3-1:tanh:nooutbias").parameterCount == 21)
        #expect(try Network<Float>(spec: "local1d:6-k2-c3-2:relu:nobias").parameterCount == 5 * 3 * 2 + 15 * 2)
        // Locally connected 2-D, k = 2 kernels 3×3 on 5×5: k(s² + 1)(d + 1 − s)² = 2·10·9.
        #expect(try Network<Float>(spec: "cnn:5x5x1-l2k3-1:tanh:nobias").parameterCount == 180)
    }

    @Test func shapesAndOptions() throws {
        let cnn = try Network<Float>(spec: "cnn:12x10x3-c8k5s1p0-a2-c4k3s2-f7-3:tanh:nobias")
        #expect(cnn.inputShape == [12, 10, 3] && cnn.outputShape == [3])
        #expect(cnn.layers.contains(.conv2d(inChannels: 3, outChannels: 8, kernel: 5, stride: 1, padding: 0, bias: false)))
        #expect(cnn.layers.contains(.avgPool2d(kernel: 2, stride: 2)))
        let mlp = try Network<Float>(spec: "mlp:784-10-10:leakyrelu0.2:dropout0.25", inputShape: [28, 28, 1])
        #expect(mlp.layers.first == .flatten)
        #expect(mlp.layers.contains(.activation(.leakyReLU(slope: 0.2))) && mlp.layers.contains(.dropout(rate: 0.25)))
        #expect(try Network<Double>(spec: "vit:8x8x2-p2-d12-b1-h3-m16-4:relu").outputShape == [4])
    }

    @Test(arguments: [
        "", "mlp", "mlp:", "mlp:784", "mlp:784-x-10", "mlp:784--10", "mlp:784-0-10", "mlp:784-10:swish",
        "mlp:784-10:relu:tanh", "mlp:784-10:dropout1.5", "resnet:18", "cnn:28x28-c16-10", "cnn:28x28x1-c16-m2",
        "cnn:28x28x1-q16-10", "cnn:4x4x1-c8k9p0-10", "cnn:28x28x1-f10-c4-10", "cnn:28x28x1-ck3-10",
        "vit:28x28x1-p4-d64-b2-h4-10", "vit:28x28x1-p5-d64-b2-h4-m128-10", "vit:28x28x1-p4-d64-b2-h5-m128-10",
        "conv1d:5-k3-1", "conv1d:5-k6-c2-1", "cnn:5x5x1-l2k3s2-1", "cnn:4x4x1-l2k5-1", "local1d:5-k3-cx-1", "conv1d:5-3-c2-1",
    ])
    func badSpecsSayWhatIsWrong(spec: String) {
        do {
            _ = try Network<Float>(spec: spec)
            Issue.record("'\(spec)' was accepted")
        } catch let e as NetworkError {
            guard case let .invalidSpec(s, problem, example) = e else { Issue.record("\(e)"); return }
            #expect(s == spec && !problem.isEmpty)
            #expect((try? Network<Float>(spec: example)) != nil, "the example in the message must itself be valid")
            #expect(e.description.contains("Example of a valid spec"))
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func mismatchedDataShapeIsAnError() {
        #expect(throws: NetworkError.self) { try Network<Float>(spec: "mlp:100-10", inputShape: [28, 28, 1]) }
        #expect(throws: NetworkError.self) { try Network<Float>(spec: "cnn:28x28x1-c4-10", inputShape: [28, 28, 3]) }
    }

    @Test func flopsPerStepMatchHandCounts() throws {
        // 2·MAC forward + 2·MAC weight gradient + 2·MAC input gradient (none for the first layer),
        // for batch 128; the figures the peers in bench/peers/ use.
        let expected: [String: Int] = [
            "mlp64": 1_294_336, "mlp784s": 26_181_632, "mlp784l": 410_779_648,
            "cnn": 763_478_016, "vit": 2_964_488_192,
            // ResNet-8: 12,501,632 MACs per sample (stem 442,368; stage 1 2 × 2,359,296; stage 2
            // 1,179,648 + 2,359,296 + 131,072 shortcut; stage 3 the same; dense 640), 6 FLOPs each
            // but the stem's input gradient: 128 × (6 · 12,501,632 − 2 · 442,368).
            "resnet8": 9_488_007_168,
        ]
        for s in BenchmarkShape.all {
            #expect(try Network<Float>(spec: s.spec).flopsPerStep(batch: s.batch) == expected[s.name], "\(s.name)")
        }
    }

    @Test func benchmarkWindowsReportConsistentFigures() throws {
        // What `overparam bench --serve` prints per window: rate, time and GFLOP/s of one window
        // agree with each other and with the shape's FLOP count.
        let shape = BenchmarkShape.named("a")!
        let session = try BenchmarkSession(shape)
        for _ in 0..<2 {
            let t = session.secondsPerStep(window: 0.01)
            let r = session.result(secondsPerStep: t)
            #expect(t > 0 && t.isFinite)
            #expect(r.name == "mlp64" && r.framework == "overparam" && r.parameters == 2410)
            #expect(r.flops_per_step == 1_294_336 && r.seconds_per_step == t)
            #expect(abs(r.steps_per_second * t - 1) < 1e-12)
            #expect(abs(r.gflops - Double(r.flops_per_step) / t / 1e9) < 1e-9 * r.gflops)
        }
    }

    @Test func parameterViewsTileTheBuffer() throws {
        let net = try Network<Float>(spec: "vit:8x8x1-p4-d8-b1-h2-m8-3")
        var next = 0
        for v in net.parameterViews {
            #expect(v.range.lowerBound == next && v.range.count == v.shape.reduce(1, *))
            next = v.range.upperBound
        }
        #expect(next == net.parameterCount)
    }
}
