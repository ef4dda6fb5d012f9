import Foundation
import Linalg

/// What a forward/backward pass works on: raw views of the flat buffers, the scratch memory,
/// the batch size, and whether it is a training pass (dropout on).
struct Pass<T: Scalar> {
    let params: UnsafePointer<T>
    let grads: UnsafeMutablePointer<T>?
    let ws: Workspace<T>
    let batch: Int
    let training: Bool
    var rng: RNG
    /// The parameter gradients hold stale values: each node's slice is set on its backward pass
    /// (a dense layer writes its weight gradient with a beta-0 product; other layers zero their
    /// slice and add), instead of the caller zeroing the whole buffer first. Each node with
    /// parameters runs its backward exactly once per pass.
    let freshGrads: Bool
    /// The network's `state` (batch norms' running estimates): read in evaluation, moved in
    /// training. Nil only for a network without batch norm.
    let state: UnsafeMutablePointer<T>?
    /// Batch norms normalize by the batch's statistics (and move the running ones), as in
    /// training; otherwise by the running estimates. Training passes do; a pass that is not
    /// training may too (the full-data gradient of the training objective, without dropout).
    let batchStatistics: Bool

    init(params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>?, ws: Workspace<T>, batch: Int, training: Bool, rng: RNG,
         freshGrads: Bool = false, state: UnsafeMutablePointer<T>? = nil, batchStatistics: Bool? = nil) {
        self.params = params; self.grads = grads; self.ws = ws; self.batch = batch; self.training = training; self.rng = rng
        self.freshGrads = freshGrads; self.state = state; self.batchStatistics = batchStatistics ?? training
    }

    func runningStats(_ n: Node, features f: Int) -> RunningStats<T> {
        guard let state else { preconditionFailure("a batch norm needs the network's state") }
        return RunningStats(state + n.stateOffset, features: f)
    }

    /// Where a node's output lives: layers that do not change values hand on their input.
    func outputPointer(_ n: Node, input: UnsafePointer<T>) -> UnsafePointer<T> {
        switch n.layer {
        case .flatten: return input
        case .dropout where !training: return input
        case .activation(.identity): return input
        default: return UnsafePointer(ws.buffer(n.id, .output, batch * n.outSize))
        }
    }

    /// Forward through `nodes` (their first `count` where given).
    mutating func forward(_ nodes: [Node], _ x: UnsafePointer<T>, count: Int? = nil) -> UnsafePointer<T> {
        let end = count ?? nodes.count
        var cur = x
        var i = 0
        while i < end {
            if i + 1 < end, fusesReluPool(nodes, i) {
                cur = forwardReluPool(nodes[i], nodes[i + 1], cur)
                i += 2
            } else if i + 1 < end, fusesDenseRelu(nodes, i) {
                cur = forwardDenseRelu(nodes[i], nodes[i + 1], cur)
                i += 2
            } else if i + 1 < end, fusesBatchNormRelu(nodes, i) {
                cur = forwardBatchNormRelu(nodes[i], nodes[i + 1], cur)
                i += 2
            } else {
                cur = forward(nodes[i], cur)
                i += 1
            }
        }
        return cur
    }

    /// A ReLU followed by a max pool whose windows tile its input runs as one fused layer pair
    /// (`reluMaxPoolForward`/`Backward`): the ReLU's output is read by nothing else.
    func fusesReluPool(_ nodes: [Node], _ i: Int) -> Bool {
        guard i + 1 < nodes.count, case .activation(.relu) = nodes[i].layer,
              case let .maxPool2d(k, s) = nodes[i + 1].layer else { return false }
        return poolTiles(Window(input: nodes[i + 1].inShape, k: k, stride: s, pad: 0))
    }

    func poolWindow(_ pool: Node) -> Window {
        guard case let .maxPool2d(k, s) = pool.layer else { preconditionFailure("not a max pool") }
        return Window(input: pool.inShape, k: k, stride: s, pad: 0)
    }

    /// A dense layer followed by a ReLU (one not fused with a pool) runs as one product with the
    /// ReLU applied in registers (`gemm(then: .relu, …)`): the dense layer's own output is never written, and
    /// the ReLU's backward pass reads the ReLU's output instead (> 0 exactly where its input is).
    func fusesDenseRelu(_ nodes: [Node], _ i: Int) -> Bool {
        guard i + 1 < nodes.count, case .dense = nodes[i].layer else { return false }
        return fusesReluWithDense(nodes, i + 1)
    }

    /// A batch norm followed by a ReLU (one not fused with a pool) normalizes straight into the
    /// ReLU's output: the batch norm's own output is never written, and no backward pass reads
    /// it (the ReLU's reads the ReLU's output; the batch norm's, its input and statistics).
    func fusesBatchNormRelu(_ nodes: [Node], _ i: Int) -> Bool {
        guard ws.fusesReLU, i + 1 < nodes.count, case .batchNorm = nodes[i].layer, case .activation(.relu) = nodes[i + 1].layer else { return false }
        return !fusesReluPool(nodes, i + 1)
    }

    /// The pair's output is the ReLU's output buffer; time is recorded under the batch norm.
    mutating func forwardBatchNormRelu(_ norm: Node, _ relu: Node, _ x: UnsafePointer<T>) -> UnsafePointer<T> {
        guard case let .batchNorm(f) = norm.layer else { preconditionFailure("not a batch norm") }
        let t0 = ws.profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        let y = ws.buffer(relu.id, .output, batch * relu.outSize)
        batchNorm(norm, features: f, x, into: y, relu: true)
        if ws.profile != nil { ws.record(norm.id, forward: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        return UnsafePointer(y)
    }

    /// A batch norm's forward pass into `y` (its own output, or a ReLU's fused after it).
    func batchNorm(_ n: Node, features f: Int, _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, relu: Bool) {
        let p = params + n.paramOffset
        batchNormForward(x, p, p + f, y, ws.buffer(n.id, .a, 2 * f), running: runningStats(n, features: f),
                         rows: batch * n.inSize / f, features: f, training: batchStatistics, path: ws.kernels, relu: relu)
    }

    /// Whether the ReLU (if it is one) at `j` takes part in a fusion with a dense layer: forward
    /// with the one before it, backward with the one after it. Not a ReLU fused with its pool.
    func fusesReluWithDense(_ nodes: [Node], _ j: Int) -> Bool {
        guard ws.fusesReLU, case .activation(.relu) = nodes[j].layer else { return false }
        return !fusesReluPool(nodes, j)
    }

    /// The activation at `j` (output `output`) as a dense layer above it passes its input gradient
    /// through it in its product's epilogue: a ReLU that fuses with a dense layer
    /// (`fusesReluWithDense`), or a GELU on a C kernel path (whose forward pass stores GELU′).
    func activationBelowDense(_ nodes: [Node], _ j: Int, output: UnsafePointer<T>) -> ActivationBelow<T>? {
        if fusesReluWithDense(nodes, j) { return .relu(output: output) }
        guard ws.fusesGELU, case .activation(.gelu) = nodes[j].layer, ws.kernels.flag(T.self) != nil else { return nil }
        return .gelu(derivative: ws.buffer(nodes[j].id, .a, batch * nodes[j].inSize))
    }

    /// The pair's output is the ReLU's output buffer; time is recorded under the dense layer (each
    /// layer under its own where the product is declined and they run in turn).
    mutating func forwardDenseRelu(_ dense: Node, _ relu: Node, _ x: UnsafePointer<T>) -> UnsafePointer<T> {
        guard case let .dense(i, o, bias) = dense.layer else { preconditionFailure("not a dense layer") }
        let t0 = ws.profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        let y = ws.buffer(relu.id, .output, batch * relu.outSize), p = params + dense.paramOffset
        guard gemm(then: .relu, transB: true, m: batch * dense.inSize / i, n: o, k: i, x, p, y, bias: bias ? p + i * o : nil) else {
            return forward(relu, forward(dense, x))  // declined, doing nothing: the two layers in turn
        }
        if ws.profile != nil { ws.record(dense.id, forward: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        return UnsafePointer(y)
    }

    /// Whether a residual connection's branch ends in a layer that adds the connection's input to
    /// its output as it writes it (`forwardAdding`).
    func fusesResidualAdd(_ residual: Node) -> Bool {
        guard ws.fusesResidual, let last = residual.children.last else { return false }
        switch last.layer {
        case .dense, .selfAttention: return true
        default: return false
        }
    }

    /// `out` = `addend` + the output of the dense or attention layer `n` on `x`: the product that
    /// makes the layer's output adds `addend` in its epilogue (`gemm(then: .add(…), …)`), so that output is never
    /// written; where that product is declined, the layer's own pass and then the addition. Time
    /// is recorded under `n`.
    mutating func forwardAdding(_ n: Node, _ x: UnsafePointer<T>, addend: UnsafePointer<T>, into out: UnsafeMutablePointer<T>) {
        let t0 = ws.profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        let p = params + n.paramOffset
        switch n.layer {
        case let .dense(i, o, bias)
            where gemm(then: .add(addend), transB: true, m: batch * n.inSize / i, n: o, k: i, x, p, out, bias: bias ? p + i * o : nil):
            break
        case let .selfAttention(d, h):
            let a = Heads(batch: batch, tokens: n.inShape[0], dim: d, heads: h)
            attentionForward(x, p, out, qkv: ws.buffer(n.id, .a, a.rows * 3 * d),
                             probs: ws.buffer(n.id, .b, attentionProbsCount(a)),
                             ctx: ws.buffer(n.id, .c, a.rows * d), a, addend: addend, path: ws.kernels,
                             scratch: { ws.scratch(4, $0) })
        default:
            let y = forward(n, x)  // declined, doing nothing: the layer, then the sum
            for i in 0..<batch * n.outSize { out[i] = addend[i] + y[i] }
            return
        }
        if ws.profile != nil { ws.record(n.id, forward: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
    }

    /// The pair's output is the pool's output buffer; time is recorded under the ReLU.
    mutating func forwardReluPool(_ relu: Node, _ pool: Node, _ x: UnsafePointer<T>) -> UnsafePointer<T> {
        let t0 = ws.profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        let y = ws.buffer(pool.id, .output, batch * pool.outSize)
        let g = poolWindow(pool)
        if let flag = ws.kernels.flag(T.self), nativeReluMaxPoolForward(x, y, batch: batch, g, flag: flag) {
        } else {
            reluMaxPoolForward(x, y, batch: batch, g)
        }
        if ws.profile != nil { ws.record(relu.id, forward: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        return UnsafePointer(y)
    }

    mutating func forward(_ n: Node, _ x: UnsafePointer<T>) -> UnsafePointer<T> {
        guard ws.profile != nil else { return forwardNode(n, x) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let y = forwardNode(n, x)
        ws.record(n.id, forward: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        return y
    }

    mutating func forwardNode(_ n: Node, _ x: UnsafePointer<T>) -> UnsafePointer<T> {
        let y = outputPointer(n, input: x)
        if y == x { return x }
        let out = UnsafeMutablePointer(mutating: y)
        let p = params + n.paramOffset
        let B = batch
        switch n.layer {
        case let .dense(i, o, bias):
            denseForward(x, p, bias ? p + i * o : nil, out, rows: B * n.inSize / i, inputs: i, outputs: o)
        case let .activation(a):
            activationForward(a, x, out, B * n.inSize, aux: a == .gelu ? ws.buffer(n.id, .a, B * n.inSize) : nil, path: ws.kernels)
        case let .conv2d(ci, co, k, s, pad, bias):
            let g = Window(input: n.inShape, k: k, stride: s, pad: pad)
            let col = ws.buffer(n.id, .a, convChunk(g, batch: B) * g.ho * g.wo * g.patch)
            conv2dForward(x, p, bias ? p + co * k * k * ci : nil, out, col: col, batch: B, g, outChannels: co,
                          path: ws.kernels, scratch: { ws.scratch(4, $0) })
        case let .locallyConnected2d(ci, co, k, bias):
            let g = Local2d(h: n.inShape[0], w: n.inShape[1], c: ci, kernel: k, channels: co)
            local2dForward(x, p, bias ? p + g.weightCount : nil, out, batch: B, g)
        case let .patches1d(d, k, c, shared, bias):
            let g = Windows1d(inputs: d, kernel: k, channels: c, shared: shared)
            patches1dForward(x, p, bias ? p + g.weightCount : nil, out, batch: B, g, scratch: { ws.scratch(4, $0) })
        case let .maxPool2d(k, s):
            let g = Window(input: n.inShape, k: k, stride: s, pad: 0)
            maxPoolForward(x, out, batch: B, g)
        case let .avgPool2d(k, s):
            avgPoolForward(x, out, batch: B, Window(input: n.inShape, k: k, stride: s, pad: 0))
        case let .layerNorm(f):
            let rows = B * n.inSize / f
            layerNormForward(x, p, p + f, out, ws.buffer(n.id, .a, 2 * rows), rows: rows, features: f, path: ws.kernels)
        case let .dropout(rate):
            dropoutForward(x, out, ws.buffer(n.id, .a, B * n.inSize), rate: rate, count: B * n.inSize, rng: &rng)
        case let .patchEmbedding(pt, c, d):
            let rows = B * n.outShape[0]
            let patches = ws.buffer(n.id, .a, rows * pt * pt * c)
            extractPatches(x, patches, batch: B, h: n.inShape[0], w: n.inShape[1], c: c, patch: pt)
            denseForward(patches, p, p + d * pt * pt * c, out, rows: rows, inputs: pt * pt * c, outputs: d)
        case .positionEmbedding:
            addPositionForward(x, p, out, batch: B, size: n.inSize)
        case let .selfAttention(d, h):
            let a = Heads(batch: B, tokens: n.inShape[0], dim: d, heads: h)
            attentionForward(x, p, out, qkv: ws.buffer(n.id, .a, a.rows * 3 * d),
                             probs: ws.buffer(n.id, .b, attentionProbsCount(a)),
                             ctx: ws.buffer(n.id, .c, a.rows * d), a, path: ws.kernels, scratch: { ws.scratch(4, $0) })
        case .meanPoolTokens:
            meanTokensForward(x, out, batch: B, tokens: n.inShape[0], dim: n.inShape[1])
        case .residual where fusesResidualAdd(n):
            forwardAdding(n.children.last!, forward(n.children, x, count: n.children.count - 1), addend: x, into: out)
        case .residual:
            let inner = forward(n.children, x)
            let count = B * n.inSize
            for i in 0..<count { out[i] = x[i] + inner[i] }
        case .projectedResidual:
            let f = forward(n.branch, x), g = forward(n.shortcut, x)
            for i in 0..<B * n.outSize { out[i] = f[i] + g[i] }
        case let .batchNorm(f):
            batchNorm(n, features: f, x, into: out, relu: false)
        case .globalAvgPool:
            meanTokensForward(x, out, batch: B, tokens: n.inShape[0] * n.inShape[1], dim: n.inShape[2])
        case .flatten:
            break
        }
        return y
    }

    /// Backward through a sequence: adds parameter gradients, and input gradients into `dx`
    /// when given. Nothing below the lowest parameterized layer is computed when `dx` is nil.
    /// With `base` (needs `dx`; the sequence's first layer a layer norm), `dx` is written as base +
    /// the sequence's input gradient.
    mutating func backward(_ nodes: [Node], _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>?,
                           base: UnsafePointer<T>? = nil) {
        var inputs = [UnsafePointer<T>]()
        inputs.reserveCapacity(nodes.count)
        var cur = x
        for n in nodes { inputs.append(cur); cur = outputPointer(n, input: cur) }
        var firstTrainable = nodes.count
        if dx == nil {
            firstTrainable = nodes.firstIndex { hasParameters($0) } ?? nodes.count
        } else {
            firstTrainable = 0
        }
        var g = dy
        var i = nodes.count - 1
        while i >= firstTrainable {
            let n = nodes[i]
            if i >= 1, i - 1 >= firstTrainable, fusesReluPool(nodes, i - 1) {
                // The fused pair: from the pool's output gradient straight to the ReLU's input's.
                let j = i - 1, relu = nodes[j]
                var dIn: UnsafeMutablePointer<T>? = nil
                var overwrite = false
                if j > 0 {
                    if j > firstTrainable {
                        dIn = ws.buffer(nodes[j - 1].id, .outputGrad, batch * nodes[j - 1].outSize)
                        overwrite = true
                    }
                } else {
                    dIn = dx
                }
                guard let d = dIn else { break }
                let t0 = ws.profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                let py = UnsafePointer(ws.buffer(n.id, .output, batch * n.outSize)), win = poolWindow(n)
                if let flag = ws.kernels.flag(T.self),
                   nativeReluMaxPoolBackward(inputs[j], py, g, d, batch: batch, win, overwrite: overwrite, flag: flag) {
                } else {
                    reluMaxPoolBackward(inputs[j], py, g, d, rest: ws.buffer(n.id, .a, n.inShape[2]), batch: batch, win, overwrite: overwrite)
                }
                if ws.profile != nil { ws.record(relu.id, backward: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
                g = UnsafePointer(d)
                i = j - 1
                continue
            }
            if i >= 2, i - 1 > firstTrainable, case .dense = n.layer, let act = activationBelowDense(nodes, i - 1, output: inputs[i]) {
                // A dense layer over a ReLU or GELU: its input gradient goes through the activation
                // as it is made (the product's epilogue), straight into the gradient below it.
                let below = nodes[i - 1], prev = nodes[i - 2]
                let d = ws.buffer(prev.id, .outputGrad, batch * prev.outSize)
                backward(n, inputs[i], g, d, overwrite: true, below: (act, ws.buffer(below.id, .outputGrad, batch * below.outSize)))
                g = UnsafePointer(d)
                i -= 2
                continue
            }
            var dIn: UnsafeMutablePointer<T>? = nil
            // The pass's own gradient buffers are written by the layers that can (each input
            // gradient entry exactly once) and zeroed for the others, which add; the caller's
            // `dx` is always added into.
            var overwrite = false
            if i > 0 {
                if i > firstTrainable {
                    let prev = nodes[i - 1]
                    let buf = ws.buffer(prev.id, .outputGrad, batch * prev.outSize)
                    overwrite = writesInputGradient(n)
                    if !overwrite { buf.update(repeating: 0, count: batch * prev.outSize) }
                    dIn = buf
                }
            } else {
                dIn = dx
            }
            backward(n, inputs[i], g, dIn, overwrite: overwrite, base: i == 0 ? base : nil)
            guard let d = dIn else { break }
            g = UnsafePointer(d)
            i -= 1
        }
    }

    /// Layers whose backward pass can write (rather than add) every entry of its input gradient.
    func writesInputGradient(_ n: Node) -> Bool {
        switch n.layer {
        case .dense, .activation, .layerNorm, .dropout, .positionEmbedding, .selfAttention, .meanPoolTokens,
             .residual, .flatten, .batchNorm, .globalAvgPool:
            return true
        case let .maxPool2d(k, s):
            return poolTiles(Window(input: n.inShape, k: k, stride: s, pad: 0))
        case let .conv2d(_, co, k, s, pad, _):
            return directConvWritesInputGradient(Window(input: n.inShape, k: k, stride: s, pad: pad), outChannels: co,
                                                 path: ws.kernels, T.self)
        default:
            return false
        }
    }

    func hasParameters(_ n: Node) -> Bool {
        n.paramCount > 0 || n.children.contains { hasParameters($0) }
    }

    mutating func backward(_ n: Node, _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>?, overwrite: Bool = false,
                           below: (ActivationBelow<T>, UnsafeMutablePointer<T>)? = nil, base: UnsafePointer<T>? = nil) {
        guard ws.profile != nil else { return backwardNode(n, x, dy, dx, overwrite: overwrite, below: below, base: base) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        backwardNode(n, x, dy, dx, overwrite: overwrite, below: below, base: base)
        ws.record(n.id, backward: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }

    /// Adds into dx, or, with `overwrite` (only where `writesInputGradient`), writes it. A dense
    /// layer with `below` (the activation below it, and that activation's output-gradient buffer;
    /// with `overwrite`) writes the gradient of the activation's input instead (`denseBackward`). A
    /// layer norm with `base` (no other layer takes one) writes dx = base + its input gradient.
    mutating func backwardNode(_ n: Node, _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>?, overwrite: Bool = false,
                               below: (ActivationBelow<T>, UnsafeMutablePointer<T>)? = nil, base: UnsafePointer<T>? = nil) {
        precondition(base == nil || n.isLayerNorm, "Pass.backwardNode: only a layer norm takes a base gradient")
        let p = params + n.paramOffset
        let gp = grads! + n.paramOffset
        let B = batch
        var writeGrad = false
        if freshGrads, n.paramCount > 0 {
            if case .dense = n.layer { writeGrad = true } else { gp.update(repeating: 0, count: n.paramCount) }
        }
        switch n.layer {
        case let .dense(i, o, bias):
            denseBackward(x, p, dy, dx, gp, bias ? gp + i * o : nil, rows: B * n.inSize / i, inputs: i, outputs: o, overwriteDx: overwrite,
                          overwriteGrad: writeGrad, below: below, path: ws.kernels)
        case let .activation(a):
            guard let dx else { return }
            let gelu = a == .gelu, y = outputPointer(n, input: x)
            // A ReLU's output is > 0 exactly where its input is, and a dense layer fused with the
            // ReLU above it (`fusesDenseRelu`) never writes that input.
            activationBackward(a, a == .relu ? y : x, y, dy, dx, B * n.inSize,
                               aux: gelu ? UnsafePointer(ws.buffer(n.id, .a, B * n.inSize)) : nil,
                               tmp: gelu ? ws.buffer(n.id, .b, B * n.inSize) : nil, path: ws.kernels, overwrite: overwrite)
        case let .conv2d(ci, co, k, s, pad, bias):
            let g = Window(input: n.inShape, k: k, stride: s, pad: pad)
            let size = convChunk(g, batch: B) * g.ho * g.wo * g.patch
            conv2dBackward(x, p, dy, dx, gp, bias ? gp + co * k * k * ci : nil,
                           col: ws.buffer(n.id, .a, size), dcol: ws.buffer(n.id, .b, size), batch: B, g, outChannels: co,
                           path: ws.kernels, overwrite: overwrite, scratch: { ws.scratch(4, $0) })
        case let .locallyConnected2d(ci, co, k, bias):
            let g = Local2d(h: n.inShape[0], w: n.inShape[1], c: ci, kernel: k, channels: co)
            local2dBackward(x, p, dy, dx, gp, bias ? gp + g.weightCount : nil, batch: B, g)
        case let .patches1d(d, k, c, shared, bias):
            let g = Windows1d(inputs: d, kernel: k, channels: c, shared: shared)
            patches1dBackward(x, p, dy, dx, gp, bias ? gp + g.weightCount : nil, batch: B, g, scratch: { ws.scratch(4, $0) })
        case let .maxPool2d(k, s):
            guard let dx else { return }
            maxPoolBackward(x, outputPointer(n, input: x), dy, dx, rest: ws.buffer(n.id, .a, n.inShape[2]),
                            batch: B, Window(input: n.inShape, k: k, stride: s, pad: 0), overwrite: overwrite)
        case let .avgPool2d(k, s):
            guard let dx else { return }
            avgPoolBackward(dy, dx, batch: B, Window(input: n.inShape, k: k, stride: s, pad: 0))
        case let .layerNorm(f):
            let rows = B * n.inSize / f
            layerNormBackward(x, p, ws.buffer(n.id, .a, 2 * rows), dy, dx, gp, gp + f, rows: rows, features: f, overwrite: overwrite, base: base,
                              path: ws.kernels, scratch: { ws.scratch(4, $0) })
        case .dropout:
            guard let dx else { return }
            let count = B * n.inSize
            if training {
                let mask = ws.buffer(n.id, .a, count)
                if overwrite { for i in 0..<count { dx[i] = dy[i] * mask[i] } }
                else { for i in 0..<count { dx[i] += dy[i] * mask[i] } }
            } else if overwrite {
                dx.update(from: dy, count: count)
            } else {
                addInPlace(dy, dx, count)
            }
        case let .patchEmbedding(pt, c, d):
            let rows = B * n.outShape[0]
            let k = pt * pt * c
            let patches = ws.buffer(n.id, .a, rows * k)
            var dpatches: UnsafeMutablePointer<T>? = nil
            if dx != nil {
                dpatches = ws.buffer(n.id, .b, rows * k)
                dpatches!.update(repeating: 0, count: rows * k)
            }
            denseBackward(patches, p, dy, dpatches, gp, gp + d * k, rows: rows, inputs: k, outputs: d, path: ws.kernels)
            if let dx, let dpatches {
                scatterPatchesAdd(dpatches, dx, batch: B, h: n.inShape[0], w: n.inShape[1], c: c, patch: pt)
            }
        case .positionEmbedding:
            let size = n.inSize
            for b in 0..<B { addInPlace(dy + b * size, gp, size) }
            if let dx { if overwrite { dx.update(from: dy, count: B * size) } else { addInPlace(dy, dx, B * size) } }
        case let .selfAttention(d, h):
            let a = Heads(batch: B, tokens: n.inShape[0], dim: d, heads: h)
            attentionBackward(x, p, dy, dx, gp,
                              qkv: ws.buffer(n.id, .a, a.rows * 3 * d),
                              probs: ws.buffer(n.id, .b, attentionProbsCount(a)),
                              ctx: ws.buffer(n.id, .c, a.rows * d),
                              dctx: ws.buffer(n.id, .d, a.rows * d),
                              dqkv: ws.buffer(n.id, .e, a.rows * 3 * d),
                              dp: ws.buffer(n.id, .f, a.tokens * a.tokens), a, path: ws.kernels, scratch: { ws.scratch(4, $0) },
                              overwriteDx: overwrite)
        case .meanPoolTokens:
            guard let dx else { return }
            meanTokensBackward(dy, dx, batch: B, tokens: n.inShape[0], dim: n.inShape[1], overwrite: overwrite)
        case .residual:
            if let dx, overwrite, ws.fusesResidual, n.children.first?.isLayerNorm == true {
                backward(n.children, x, dy, dx, base: dy)  // the branch's layer norm writes dy + its gradient
                return
            }
            if let dx { if overwrite { dx.update(from: dy, count: B * n.inSize) } else { addInPlace(dy, dx, B * n.inSize) } }
            backward(n.children, x, dy, dx)
        case .projectedResidual:
            // Both paths add their input gradients into dx (zeroed by the caller: this layer does
            // not write it).
            backward(n.branch, x, dy, dx)
            backward(n.shortcut, x, dy, dx)
        case let .batchNorm(f):
            batchNormBackward(x, p, ws.buffer(n.id, .a, 2 * f), dy, dx, gp, gp + f, rows: B * n.inSize / f, features: f,
                              training: batchStatistics, overwrite: overwrite, path: ws.kernels)
        case .globalAvgPool:
            guard let dx else { return }
            meanTokensBackward(dy, dx, batch: B, tokens: n.inShape[0] * n.inShape[1], dim: n.inShape[2], overwrite: overwrite)
        case .flatten:
            guard let dx else { return }
            if overwrite { dx.update(from: dy, count: B * n.inSize) } else { addInPlace(dy, dx, B * n.inSize) }
        }
    }
}
