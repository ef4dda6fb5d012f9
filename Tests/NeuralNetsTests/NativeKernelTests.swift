import CKernels
import Linalg
import NeuralNets
import Testing

/// The C kernels (attention core, GELU, softmax cross-entropy, the direct convolution, ReLU +
/// max pool, the bias gradients' column sums) against the Swift reference path, in Float, on each of their variants: `.best` (AVX2
/// + FMA where the CPU has it; where it has AVX-512, GELU, the loss and, for head widths a
/// multiple of 16, the attention core on 16-float vectors), `.avx2` and `.portable`. The
/// reference path is the one the Double gradient checks cover.
@Suite struct NativeKernelTests {
    /// Loss and gradient of one Float network on one batch through the given kernel path. With
    /// `warm`, the workspace first serves a pass on another batch, so that a layer that should
    /// write its whole input gradient but leaves entries out shows those entries' stale values
    /// (a fresh workspace's buffers are zero, which would hide them).
    func lossAndGradient(_ layers: [Layer], inputShape: [Int], batch: Int, seed: UInt64, path: KernelPath,
                         warm: Bool = false) throws -> (Double, [Float]) {
        var net = try Network<Float>(layers: layers, inputShape: inputShape)
        net.initialize(.gaussian(std: 0.3), rng: RNG(seed: seed))
        var r = RNG(seed: seed &+ 1)
        let x = Tensor<Float>(shape: [batch] + inputShape, scalars: r.normals(batch * net.inputSize))
        let y = Supervision<Float>.classes((0..<batch).map { Int32($0 % net.outputSize) })
        let ws = Workspace<Float>()
        ws.kernels = path
        if warm {
            let other = Tensor<Float>(shape: [batch] + inputShape, scalars: r.normals(batch * net.inputSize).map { 3 * $0 + 1 })
            _ = try net.lossAndGradient(other, y, loss: .crossEntropy, ws: ws)
        }
        return try net.lossAndGradient(x, y, loss: .crossEntropy, ws: ws)
    }

    func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        var num = 0.0, den = 0.0
        for i in a.indices { let d = Double(a[i] - b[i]); num += d * d; den += Double(b[i]) * Double(b[i]) }
        return (num / max(den, 1e-300)).squareRoot()
    }

    func vit(tokensSide: Int, dim: Int, heads: Int) -> [Layer] {
        [
            .patchEmbedding(patch: 2, channels: 1, dim: dim), .positionEmbedding(tokens: tokensSide * tokensSide, dim: dim),
            .residual([.layerNorm(features: dim), .selfAttention(dim: dim, heads: heads)]),
            .residual([.layerNorm(features: dim), .dense(inputs: dim, outputs: 2 * dim + 3, bias: true), .activation(.gelu),
                       .dense(inputs: 2 * dim + 3, outputs: dim, bias: true)]),
            .layerNorm(features: dim), .meanPoolTokens, .dense(inputs: dim, outputs: 3, bias: true),
        ]
    }

    // Tokens 1, 9, 25, 49 and 81 (a partial last vector, a partial last block of 4 or 7 rows; with
    // AVX-512 more than one slab of 64 queries), head widths 8, 16, 24, 32 and 48 (every column
    // loop of both kernels), and 12 (not a multiple of 8: reference path). Narrow heads (width not
    // a multiple of 8) over 16 tokens or more, AVX-512's narrow kernel: widths 2, 3, 5, 6 and 7 (one
    // partial block of 7 head columns, one whole), 15 (two blocks and one column), at 16 tokens
    // (no padding), 25, 49 and 81 (two slabs); with 9 tokens a narrow head stays on the reference
    // path.
    @Test(arguments: [(1, 16, 2), (3, 16, 1), (7, 64, 4), (3, 48, 2), (5, 32, 4), (3, 24, 2), (9, 32, 1), (5, 96, 2),
                      (7, 8, 4), (5, 12, 2), (9, 6, 2), (4, 10, 2), (7, 14, 2), (5, 30, 2), (3, 12, 2), (7, 21, 3)])
    func attentionAndGeluMatchReference(side: Int, dim: Int, heads: Int) throws {
        let layers = vit(tokensSide: side, dim: dim, heads: heads)
        let shape = [2 * side, 2 * side, 1]
        let (lr, gr) = try lossAndGradient(layers, inputShape: shape, batch: 5, seed: UInt64(side * 100 + dim), path: .reference)
        for path in [KernelPath.best, .avx2, .portable] {
            let (l, g) = try lossAndGradient(layers, inputShape: shape, batch: 5, seed: UInt64(side * 100 + dim), path: path)
            #expect(abs(l - lr) <= 1e-5 * max(1, abs(lr)), "\(path) side \(side) dim \(dim) heads \(heads): loss \(l) vs \(lr)")
            let e = relativeDifference(g, gr)
            #expect(e < 1e-4, "\(path) side \(side) dim \(dim) heads \(heads): gradient relative difference \(e)")
        }
    }

    @Test func geluOddLengthMatchesReference() throws {
        // 77 · 13 = 1,001 activations: a partial last vector (of 8 and of 16).
        // Once writing its input gradient, once (first in a residual branch) adding into it.
        let plain: [Layer] = [.dense(inputs: 9, outputs: 13, bias: true), .activation(.gelu), .dense(inputs: 13, outputs: 4, bias: true)]
        let branch: [Layer] = [.dense(inputs: 9, outputs: 13, bias: true),
                               .residual([.activation(.gelu), .dense(inputs: 13, outputs: 13, bias: true)]),
                               .dense(inputs: 13, outputs: 4, bias: true)]
        for layers in [plain, branch] {
            let (lr, gr) = try lossAndGradient(layers, inputShape: [9], batch: 77, seed: 3, path: .reference)
            for path in [KernelPath.best, .avx2, .portable] {
                let (l, g) = try lossAndGradient(layers, inputShape: [9], batch: 77, seed: 3, path: path)
                #expect(abs(l - lr) <= 1e-5 * max(1, abs(lr)))
                #expect(relativeDifference(g, gr) < 1e-5, "\(path)")
            }
        }
    }

    // Softmax cross-entropy (on AVX-512 16 rows per vector, the last block masked; more than 64
    // classes stay on the Swift path): loss and gradient, and the loss alone as `evaluate` takes it.
    @Test(arguments: [(1, 1), (15, 2), (16, 10), (17, 10), (130, 64), (33, 65)])
    func crossEntropyMatchesReference(batch: Int, classes: Int) throws {
        let layers: [Layer] = [.dense(inputs: 7, outputs: classes, bias: true)]
        let (lr, gr) = try lossAndGradient(layers, inputShape: [7], batch: batch, seed: 5, path: .reference)
        var net = try Network<Float>(layers: layers, inputShape: [7])
        net.initialize(.gaussian(std: 2), rng: RNG(seed: 9))
        var r = RNG(seed: 10)
        let x = Tensor<Float>(shape: [batch, 7], scalars: r.normals(batch * 7))
        let y = Supervision<Float>.classes((0..<batch).map { Int32(($0 * 7) % classes) })
        func evaluated(_ path: KernelPath) throws -> Double {
            let ws = Workspace<Float>()
            ws.kernels = path
            return try net.evaluate(x, y, loss: .crossEntropy, ws: ws).loss
        }
        let er = try evaluated(.reference)
        for path in [KernelPath.best, .avx2, .portable] {
            let (l, g) = try lossAndGradient(layers, inputShape: [7], batch: batch, seed: 5, path: path)
            #expect(abs(l - lr) <= 1e-6 * max(1, abs(lr)), "\(path) \(batch)×\(classes): loss \(l) vs \(lr)")
            #expect(relativeDifference(g, gr) < 1e-6, "\(path) \(batch)×\(classes)")
            let e = try evaluated(path)
            #expect(abs(e - er) <= 1e-6 * max(1, abs(er)), "\(path) \(batch)×\(classes): evaluated loss \(e) vs \(er)")
        }
    }

    // A NaN or +∞ logit makes the loss NaN on every path (the divergence check reads it) and that
    // row's gradient NaN; the other rows' gradients stay finite.
    @Test(arguments: [Float.nan, .infinity])
    func crossEntropyPropagatesNonFiniteLogits(_ bad: Float) throws {
        var r = RNG(seed: 3)
        var z: [Float] = r.normals(20 * 10)
        z[17 * 10 + 4] = bad
        let labels = (0..<20).map { Int32($0 % 10) }
        for path in [KernelPath.best, .avx2, .reference] {
            let (l, g) = try softmaxCrossEntropy(logits: z, labels: labels, classes: 10, path: path)
            #expect(l.isNaN, "\(path) \(bad): loss \(l)")
            #expect(g[170..<180].allSatisfy { $0.isNaN }, "\(path) \(bad)")
            #expect(g[0..<170].allSatisfy { $0.isFinite } && g[180...].allSatisfy { $0.isFinite }, "\(path) \(bad)")
        }
    }

    // The count of correctly classified rows made inside the loss kernel equals a separate
    // argmax's (the first largest logit; a NaN never wins, a NaN first logit wins its row) on
    // every path, for batches that are not a multiple of the kernel's 16 rows, ties included.
    @Test(arguments: [1, 15, 16, 17, 40])
    func crossEntropyCountsCorrectRowsAsArgmaxDoes(_ batch: Int) throws {
        var r = RNG(seed: UInt64(batch))
        var z: [Float] = r.normals(batch * 10).map { ($0 * 2).rounded() / 2 }   // coarse values: many ties
        let labels = (0..<batch).map { _ in Int32(r.int(below: 10)) }
        if batch >= 17 { z[16 * 10 + 0] = .nan; z[3 * 10 + 5] = .nan }  // a NaN first logit, and a NaN elsewhere
        for i in 0..<batch where i % 3 == 0 { z[i * 10 + Int(labels[i])] = 5 }   // some rows right
        let pred = argmaxRows(z, rows: batch, cols: 10)
        let expected = (0..<batch).filter { pred[$0] == Int(labels[$0]) }.count
        #expect(expected > 0 && expected < batch || batch == 1)
        for path in [KernelPath.best, .avx2, .reference] {
            let (loss, correct) = try softmaxCrossEntropyAndCorrect(logits: z, labels: labels, classes: 10, path: path)
            #expect(correct == expected, "\(path) batch \(batch): \(correct) vs \(expected)")
            #expect(batch >= 17 ? loss.isNaN : loss.isFinite)
        }
    }

    @Test func crossEntropyRejectsBadInput() {
        #expect(throws: NetworkError.self) { try softmaxCrossEntropy(logits: [Float](repeating: 0, count: 20), labels: [0, 10], classes: 10) }
        #expect(throws: NetworkError.self) { try softmaxCrossEntropy(logits: [Float](repeating: 0, count: 19), labels: [0, 1], classes: 10) }
        #expect(throws: NetworkError.self) { try softmaxCrossEntropy(logits: [Float](), labels: [], classes: 10) }
        #expect(throws: NetworkError.self) { try softmaxCrossEntropy(logits: [Float](repeating: 0, count: 2), labels: [-1, 0], classes: 1) }
    }

    // im2col and its adjoint in C (every Float path but the reference one) against the Swift
    // loops: channel counts 2–16, strides 1 and 2, paddings 0–2, windows that hang over the
    // border on every side; a layer below so the adjoint (the input gradient) is exercised.
    @Test(arguments: [(2, 3, 1, 1), (3, 3, 2, 1), (4, 3, 1, 1), (5, 5, 2, 2), (8, 3, 2, 0), (16, 1, 2, 0), (4, 2, 1, 0)])
    func patchesInCMatchTheSwiftLoops(c: Int, k: Int, stride: Int, pad: Int) throws {
        let (h, w) = (9, 7)
        let conv = Layer.conv2d(inChannels: c, outChannels: 6, kernel: k, stride: stride, padding: pad, bias: true)
        var layers: [Layer] = [.conv2d(inChannels: 1, outChannels: c, kernel: 1, stride: 1, padding: 0, bias: true), .activation(.tanh), conv]
        let out = try Network<Float>(layers: layers, inputShape: [h, w, 1]).outputSize
        layers += [.activation(.tanh), .flatten, .dense(inputs: out, outputs: 3, bias: true)]
        let (lr, gr) = try lossAndGradient(layers, inputShape: [h, w, 1], batch: 5, seed: UInt64(c * 10 + k), path: .reference)
        for path in [KernelPath.best, .portable] {
            let (l, g) = try lossAndGradient(layers, inputShape: [h, w, 1], batch: 5, seed: UInt64(c * 10 + k), path: path)
            #expect(abs(l - lr) <= 1e-5 * max(1, abs(lr)), "\(path) c \(c) k \(k) s \(stride) p \(pad)")
            let e = relativeDifference(g, gr)
            #expect(e < 1e-5, "\(path) c \(c) k \(k) s \(stride) p \(pad): gradient relative difference \(e)")
        }
    }

    // The direct one-channel 3×3 convolution: image widths below and above the 4-pixel groups,
    // paddings 0–2, with and without bias, channel counts below, at and past groups of eight
    // (the tail channels one at a time), and once below another layer (its input gradient then
    // goes through the im2col path, which must rebuild the patches the direct forward pass did
    // not leave).
    @Test(arguments: [(9, 7, 16, 1, true), (5, 3, 8, 0, true), (6, 4, 24, 2, false), (28, 28, 16, 1, true), (4, 9, 8, 1, false),
                      (14, 14, 2, 1, true), (7, 7, 4, 1, true), (6, 5, 11, 0, false), (3, 9, 1, 2, true)])
    func directConvolutionMatchesReference(h: Int, w: Int, co: Int, pad: Int, bias: Bool) throws {
        let conv = Layer.conv2d(inChannels: 1, outChannels: co, kernel: 3, stride: 1, padding: pad, bias: bias)
        for below in [false, true] {
            var layers: [Layer] = below ? [.conv2d(inChannels: 1, outChannels: 1, kernel: 1, stride: 1, padding: 0, bias: true)] : []
            layers += [conv, .activation(.relu)]
            let out = try Network<Float>(layers: layers, inputShape: [h, w, 1]).outputSize
            layers += [.flatten, .dense(inputs: out, outputs: 3, bias: true)]
            let (lr, gr) = try lossAndGradient(layers, inputShape: [h, w, 1], batch: 6, seed: UInt64(h * w + co), path: .reference)
            for path in [KernelPath.best, .portable] {
                let (l, g) = try lossAndGradient(layers, inputShape: [h, w, 1], batch: 6, seed: UInt64(h * w + co), path: path)
                #expect(abs(l - lr) <= 1e-5 * max(1, abs(lr)), "\(path) \(h)×\(w) co \(co) pad \(pad) below \(below)")
                let e = relativeDifference(g, gr)
                #expect(e < 1e-5, "\(path) \(h)×\(w) co \(co) pad \(pad) below \(below): gradient relative difference \(e)")
            }
        }
    }

    // The direct convolutions (stride 1 or 2, 3/16/32/64 input channels, ≥ 256 output pixels;
    // ConvDirect.swift) in a network against the reference path: the forward pass, the input
    // gradient (a layer below makes it needed; at stride 2, one phase of dx's pixels at a time)
    // and the weight gradient. Windows 1, 2, 3 and 5, paddings 0–2, output channels 16–128 (one,
    // two, four vectors; 48: three one-vector blocks), odd image sides; 128 outputs, whose input
    // gradient (128 channels in) falls back to im2col, as does the forward pass of a stride-2
    // layer with an 8×8 output (its input gradient, 16×16, is direct). Three input channels (an
    // RGB stem) as the first layer — no input gradient, so the direct weight gradient runs, in
    // blocks of 9 taps (k 3), 9 + 9 + 7 (k 5) and 4 (k 2) — and below another.
    @Test(arguments: [(16, 16, 16, 16, 3, 1, 1, true), (18, 16, 32, 48, 3, 1, 1, false), (18, 20, 64, 64, 3, 1, 0, true),
                      (16, 16, 16, 32, 5, 1, 2, false), (20, 16, 32, 16, 3, 1, 2, true), (16, 16, 16, 128, 3, 1, 1, true),
                      (32, 16, 3, 16, 3, 1, 1, true), (16, 16, 3, 32, 5, 1, 2, false), (18, 16, 3, 16, 2, 1, 1, true),
                      (32, 32, 16, 32, 3, 2, 1, true), (32, 32, 16, 32, 1, 2, 0, false), (33, 31, 32, 64, 3, 2, 1, false),
                      (32, 32, 64, 16, 2, 2, 0, true), (34, 32, 16, 16, 3, 2, 2, true), (16, 16, 32, 64, 3, 2, 1, false)])
    func directConvolutionsMatchReference(h: Int, w: Int, ci: Int, co: Int, k: Int, stride: Int, pad: Int, bias: Bool) throws {
        let conv = Layer.conv2d(inChannels: ci, outChannels: co, kernel: k, stride: stride, padding: pad, bias: bias)
        for first in ci == 3 ? [true, false] : [false] {
            var layers: [Layer] = first ? [] : [.conv2d(inChannels: 2, outChannels: ci, kernel: 1, stride: 1, padding: 0, bias: true),
                                                .activation(.tanh)]
            layers += [conv, .activation(.relu)]
            let shape = [h, w, first ? ci : 2]
            let out = try Network<Float>(layers: layers, inputShape: shape).outputSize
            layers += [.flatten, .dense(inputs: out, outputs: 3, bias: true)]
            let seed = UInt64(h * w + ci + co)
            let (lr, gr) = try lossAndGradient(layers, inputShape: shape, batch: 3, seed: seed, path: .reference)
            // A warm workspace: the direct input gradient is written over the last pass's, not zeroed first.
            let (l, g) = try lossAndGradient(layers, inputShape: shape, batch: 3, seed: seed, path: .best, warm: true)
            let what = "\(h)×\(w) \(ci)→\(co) k \(k) s \(stride) pad \(pad) first \(first)"
            #expect(abs(l - lr) <= 1e-5 * max(1, abs(lr)), "\(what)")
            let e = relativeDifference(g, gr)
            #expect(e < 1e-5, "\(what): gradient relative difference \(e)")
        }
    }

    // The kernel itself, on one image, against the definition: it takes these shapes where the
    // CPU has AVX-512 (so the network test above runs it there), refuses others, and adds into
    // y when asked.
    @Test func directConvolutionKernelAgainstTheDefinition() throws {
        guard ck_isa_level() == 2 else { return }
        let (h, w, c, k, pad, co) = (7, 9, 32, 3, 1, 48)
        let (ho, wo) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1)
        var r = RNG(seed: 5)
        let x: [Float] = r.normals(2 * h * w * c), wt: [Float] = r.normals(k * k * c * co), bias: [Float] = r.normals(co)
        var want = [Double](repeating: 0, count: 2 * ho * wo * co)
        for b in 0..<2 { for oh in 0..<ho { for ow in 0..<wo { for o in 0..<co {
            var s = Double(bias[o])
            for kh in 0..<k { for kw in 0..<k {
                let ih = oh + kh - pad, iw = ow + kw - pad
                guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                for j in 0..<c { s += Double(x[((b * h + ih) * w + iw) * c + j]) * Double(wt[((kh * k + kw) * c + j) * co + o]) }
            } }
            want[((b * ho + oh) * wo + ow) * co + o] = s
        } } } }
        var scratch = [Float](repeating: .nan, count: ck_conv_direct_scratch(Int32(h), Int32(w), Int32(c), Int32(k), 1, Int32(pad), Int32(co)))
        var y = [Float](repeating: 1, count: want.count)
        for add in [Int32(0), 1] {
            #expect(ck_conv_direct(x, wt, bias, &y, 2, Int32(h), Int32(w), Int32(c), Int32(k), 1, Int32(pad), Int32(co), add, &scratch, 0) == 1)
            let worst = zip(y, want).map { abs(Double($0) - (add == 1 ? 2 * $1 : $1)) }.max()!
            #expect(worst < 1e-4, "add \(add): worst difference \(worst)")
        }
        // Shapes it is not compiled for (24 channels in, 40 out, stride 3), and the portable
        // flag: refused, y untouched.
        let before = y
        #expect(ck_conv_direct(x, wt, bias, &y, 2, Int32(h), Int32(w), 24, Int32(k), 1, Int32(pad), Int32(co), 0, &scratch, 0) == 0)
        #expect(ck_conv_direct(x, wt, bias, &y, 2, Int32(h), Int32(w), Int32(c), Int32(k), 1, Int32(pad), 40, 0, &scratch, 0) == 0)
        #expect(ck_conv_direct(x, wt, bias, &y, 2, Int32(h), Int32(w), Int32(c), Int32(k), 3, Int32(pad), Int32(co), 0, &scratch, 0) == 0)
        #expect(ck_conv_direct(x, wt, bias, &y, 2, Int32(h), Int32(w), Int32(c), Int32(k), 1, Int32(pad), Int32(co), 0, &scratch, 1) == 0)
        #expect(y == before)
    }

    // ReLU then a tiling max pool runs fused; a no-op between them (dropout outside training)
    // keeps them apart. The two must agree exactly, ties at zero included (ReLU'd inputs).
    // Channel counts a multiple of 8 (vectors), of 4 only (4 and 12: half vectors) and neither
    // (2 and 5: channel by channel).
    @Test(arguments: [8, 4, 12, 2, 5])
    func fusedReluPoolIsBitIdentical(channels: Int) throws {
        let conv = Layer.conv2d(inChannels: 3, outChannels: channels, kernel: 3, stride: 1, padding: 1, bias: true)
        for pool in [Layer.maxPool2d(kernel: 2, stride: 2), .maxPool2d(kernel: 3, stride: 3)] {
            let out = try Network<Float>(layers: [conv, pool], inputShape: [6, 12, 3]).outputSize
            // Same node count on both sides (initialization streams are split by node id).
            let head: [Layer] = [conv, .activation(.relu)], tail: [Layer] = [.flatten, .dense(inputs: out, outputs: 3, bias: true)]
            // 2×2 also takes the C kernels on .best/.portable.
            for path in [KernelPath.best, .portable, .reference] {
                let fused = try lossAndGradient(head + [pool, .dropout(rate: 0.5)] + tail, inputShape: [6, 12, 3], batch: 4, seed: 2, path: path)
                let apart = try lossAndGradient(head + [.dropout(rate: 0.5), pool] + tail, inputShape: [6, 12, 3], batch: 4, seed: 2, path: path)
                #expect(fused.0 == apart.0 && fused.1 == apart.1, "\(pool) \(path) \(channels) channels")
            }
        }
    }

    // A dense layer followed by a ReLU runs as one product with the ReLU in its epilogue, and a
    // dense layer over a ReLU's output masks its input gradient as it makes it (`gemm(then: .mask(…), …)`);
    // both must give the bits of the two passes apart. Batch 130: the own kernel runs the
    // 40→70 and 70→130 forward products and the 70→130 layer's input gradient, OpenBLAS the
    // 130→3 layer's (the two passes apart inside the fused pair); a ReLU as the last layer and
    // one followed by a dropout (no dense layer to fuse its backward pass into), and Double.
    @Test func fusedDenseReluIsBitIdentical() throws {
        let mlp: [Layer] = [.dense(inputs: 40, outputs: 70, bias: true), .activation(.relu), .dense(inputs: 70, outputs: 130, bias: false),
                            .activation(.relu), .dense(inputs: 130, outputs: 3, bias: true)]
        let cases: [[Layer]] = [mlp, mlp + [.activation(.relu)],
                                [.dense(inputs: 40, outputs: 70, bias: true), .activation(.relu), .dropout(rate: 0.3),
                                 .dense(inputs: 70, outputs: 3, bias: true), .activation(.tanh)]]
        func run<T: Scalar>(_ layers: [Layer], _: T.Type, fused: Bool, path: KernelPath) throws -> (Double, [T]) {
            var net = try Network<T>(layers: layers, inputShape: [40])
            net.initialize(.gaussian(std: 0.3), rng: RNG(seed: 6))
            var r = RNG(seed: 7)
            let x = Tensor<T>(shape: [130, 40], scalars: r.normals(130 * 40))
            let y = Supervision<T>.classes((0..<130).map { Int32($0 % 3) })
            let ws = Workspace<T>()
            ws.kernels = path
            ws.fusesReLU = fused
            return try net.lossAndGradient(x, y, loss: .crossEntropy, ws: ws)
        }
        for (c, layers) in cases.enumerated() {
            for path in [KernelPath.best, .reference] {
                let fused = try run(layers, Float.self, fused: true, path: path), apart = try run(layers, Float.self, fused: false, path: path)
                let differ = zip(fused.1, apart.1).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(fused.0 == apart.0 && differ == 0, "case \(c) \(path): loss \(fused.0) vs \(apart.0), \(differ) gradients differ")
                #expect(fused.1.contains { $0 != 0 })
            }
            let fused = try run(layers, Double.self, fused: true, path: .reference), apart = try run(layers, Double.self, fused: false, path: .reference)
            #expect(fused.0 == apart.0 && fused.1 == apart.1, "case \(c) Double")
        }
    }

    // A residual connection's sum made in its branch's last product (dense or attention:
    // `gemm(then: .add(…), …)`) and its gradient written by the branch's first layer norm (dy + its
    // own), and GELU′ multiplied into the input gradient of the dense layer above a GELU, give the
    // bits of the passes they replace, each fusion on and off: a ViT (all of them), branches ending
    // in a dense layer after a fused dense + ReLU, starting with a layer norm and ending elsewhere,
    // one first in the network (no input gradient), a GELU MLP; the batch whole and in chunks.
    @Test func fusedResidualAndGeluAreBitIdentical() throws {
        let mlp: [Layer] = [.dense(inputs: 40, outputs: 40, bias: true),
                            .residual([.dense(inputs: 40, outputs: 70, bias: true), .activation(.relu), .dense(inputs: 70, outputs: 40, bias: true)]),
                            .residual([.layerNorm(features: 40), .activation(.tanh)]),
                            .residual([.layerNorm(features: 40), .dense(inputs: 40, outputs: 40, bias: false)]),
                            .dense(inputs: 40, outputs: 3, bias: true)]
        let first: [Layer] = [.residual([.layerNorm(features: 40), .dense(inputs: 40, outputs: 40, bias: true)]),
                              .dense(inputs: 40, outputs: 3, bias: true)]
        // Batches for which Overparam's kernel runs the products (whole) and declines some (chunks of 7 rows).
        let gelu: [Layer] = [.dense(inputs: 40, outputs: 64, bias: true), .activation(.gelu), .dense(inputs: 64, outputs: 3, bias: true)]
        let cases: [([Layer], [Int], Int)] = [(vit(tokensSide: 7, dim: 64, heads: 4), [14, 14, 1], 20), (mlp, [40], 100), (first, [40], 100),
                                              (gelu, [40], 100)]
        func run<T: Scalar>(_ layers: [Layer], _ shape: [Int], _ batch: Int, _: T.Type, fused: (residual: Bool, gelu: Bool), path: KernelPath,
                            chunk: Int?) throws -> (Double, [T]) {
            var net = try Network<T>(layers: layers, inputShape: shape)
            net.initialize(.gaussian(std: 0.3), rng: RNG(seed: 8))
            var r = RNG(seed: 9)
            let x = Tensor<T>(shape: [batch] + shape, scalars: r.normals(batch * net.inputSize))
            let y = Supervision<T>.classes((0..<batch).map { Int32($0 % 3) })
            let ws = Workspace<T>()
            ws.kernels = path
            ws.fusesResidual = fused.residual
            ws.fusesGELU = fused.gelu
            ws.chunkSamples = chunk
            return try net.lossAndGradient(x, y, loss: .crossEntropy, ws: ws)
        }
        for (c, (layers, shape, batch)) in cases.enumerated() {
            for chunk in [nil, 7] {
                for path in [KernelPath.best, .reference] {
                    let fused = try run(layers, shape, batch, Float.self, fused: (true, true), path: path, chunk: chunk)
                    #expect(fused.1.contains { $0 != 0 })
                    for apartFlags in [(false, true), (true, false), (false, false)] {
                        let apart = try run(layers, shape, batch, Float.self, fused: apartFlags, path: path, chunk: chunk)
                        let differ = zip(fused.1, apart.1).filter { $0.bitPattern != $1.bitPattern }.count
                        #expect(fused.0 == apart.0 && differ == 0,
                                "case \(c) \(path) chunk \(chunk ?? 0) apart \(apartFlags): loss \(fused.0) vs \(apart.0), \(differ) gradients differ")
                    }
                }
                let fused = try run(layers, shape, batch, Double.self, fused: (true, true), path: .reference, chunk: chunk)
                let apart = try run(layers, shape, batch, Double.self, fused: (false, false), path: .reference, chunk: chunk)
                #expect(fused.0 == apart.0 && fused.1 == apart.1, "case \(c) Double chunk \(chunk ?? 0)")
            }
        }
    }

    // Gradient buffers that a layer writes (rather than adds into) are not zeroed first: a NaN
    // left in them by an earlier diverging batch must not leak into the next one.
    @Test func writtenGradientsIgnoreStaleNaNs() throws {
        let cnn: [Layer] = [.conv2d(inChannels: 1, outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: true), .activation(.relu),
                            .maxPool2d(kernel: 2, stride: 2), .conv2d(inChannels: 8, outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: true),
                            .activation(.tanh), .maxPool2d(kernel: 2, stride: 2), .flatten, .dense(inputs: 2 * 2 * 8, outputs: 3, bias: true)]
        let cases: [([Layer], [Int])] = [(cnn, [8, 8, 1]), (vit(tokensSide: 3, dim: 16, heads: 2), [6, 6, 1])]
        for (layers, shape) in cases {
            for path in [KernelPath.best, .reference] {
                var net = try Network<Float>(layers: layers, inputShape: shape)
                net.initialize(.gaussian(std: 0.3), rng: RNG(seed: 4))
                var r = RNG(seed: 5)
                let x = Tensor<Float>(shape: [3] + shape, scalars: r.normals(3 * net.inputSize))
                let bad = Tensor<Float>(shape: x.shape, scalars: x.scalars.map { _ in Float.nan })
                let y = Supervision<Float>.classes([0, 1, 2])
                let fresh = Workspace<Float>(), used = Workspace<Float>()
                fresh.kernels = path; used.kernels = path
                _ = try net.lossAndGradient(bad, y, loss: .crossEntropy, ws: used)
                let a = try net.lossAndGradient(x, y, loss: .crossEntropy, ws: used)
                let b = try net.lossAndGradient(x, y, loss: .crossEntropy, ws: fresh)
                #expect(a.loss == b.loss && a.gradient == b.gradient, "\(path) \(shape)")
            }
        }
    }

    // Bias gradients through the C column sums (four chains of rows, blocks of up to 32 columns,
    // a scalar tail) against the Swift loop: widths leaving every remainder, rows not a multiple
    // of 4 and a single row; with the batch whole (the sums written) and in chunks of 3 samples
    // (later chunks add into them).
    @Test(arguments: [(1, 1), (3, 10), (7, 13), (130, 64), (5, 100), (66, 200), (9, 8)])
    func biasGradientsMatchReference(batch: Int, width: Int) throws {
        let layers: [Layer] = [.dense(inputs: 5, outputs: width, bias: true), .activation(.tanh), .dense(inputs: width, outputs: 3, bias: true)]
        func gradient(_ path: KernelPath, chunk: Int?) throws -> [Float] {
            var net = try Network<Float>(layers: layers, inputShape: [5])
            net.initialize(.gaussian(std: 0.5), rng: RNG(seed: 4))
            var r = RNG(seed: 5)
            let x = Tensor<Float>(shape: [batch, 5], scalars: r.normals(batch * 5))
            let y = Supervision<Float>.classes((0..<batch).map { Int32($0 % 3) })
            let ws = Workspace<Float>()
            ws.kernels = path
            ws.chunkSamples = chunk
            return try net.lossAndGradient(x, y, loss: .crossEntropy, ws: ws).1
        }
        let bias = (5 * width)..<(6 * width)  // the first layer's: a sum over every row
        for chunk in [nil, 3] {
            let reference = Array(try gradient(.reference, chunk: chunk)[bias])
            #expect(reference.contains { $0 != 0 })
            for path in [KernelPath.best, .avx2, .portable] {
                let g = Array(try gradient(path, chunk: chunk)[bias])
                #expect(relativeDifference(g, reference) < 1e-5, "\(path) chunk \(chunk ?? batch)")
            }
        }
    }

    @Test func eachPathIsBitReproducible() throws {
        let layers = vit(tokensSide: 7, dim: 32, heads: 2)
        for path in [KernelPath.best, .avx2, .portable] {
            let a = try lossAndGradient(layers, inputShape: [14, 14, 1], batch: 3, seed: 9, path: path)
            let b = try lossAndGradient(layers, inputShape: [14, 14, 1], batch: 3, seed: 9, path: path)
            #expect(a.0 == b.0 && a.1 == b.1, "\(path)")
        }
    }
}
