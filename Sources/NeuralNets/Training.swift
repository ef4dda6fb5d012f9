import Linalg
import RealModule

/// What a network is trained to predict: class labels (cross-entropy) or real targets (MSE).
public enum Supervision<T: Scalar>: Sendable {
    case classes([Int32])
    case values(Tensor<T>)

    public var count: Int {
        switch self {
        case let .classes(c): return c.count
        case let .values(v): return v.shape.first ?? 0
        }
    }
}

extension Network {
    func checkInput(_ x: Tensor<T>) throws -> Int {
        guard x.rank >= 1, Array(x.shape.dropFirst()) == inputShape else {
            throw NetworkError.shapeMismatch("\(name.isEmpty ? "network" : name) takes inputs of shape [n, \(inputShape.map(String.init).joined(separator: ", "))], got \(x.shape)")
        }
        return x.shape[0]
    }

    func checkTargets(_ y: Supervision<T>, n: Int, loss: Loss) throws {
        guard y.count == n else { throw NetworkError.shapeMismatch("\(n) inputs but \(y.count) targets") }
        switch (y, loss) {
        case let (.classes(c), .crossEntropy):
            if let bad = c.first(where: { $0 < 0 || Int($0) >= outputSize }) {
                throw NetworkError.shapeMismatch("label \(bad) is outside 0..<\(outputSize), the network's number of outputs")
            }
        case let (.values(v), .meanSquaredError):
            guard v.count == n * outputSize else {
                throw NetworkError.shapeMismatch("targets have shape \(v.shape); the network outputs \(outputSize) values per input")
            }
        case (.classes, .meanSquaredError):
            throw NetworkError.invalidArgument("mean squared error needs real-valued targets, not class labels")
        case (.values, .crossEntropy):
            throw NetworkError.invalidArgument("cross-entropy needs class labels, not real-valued targets")
        }
    }

    /// Outputs for every input, in evaluation mode (no dropout), computed in chunks.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func predict(_ x: Tensor<T>, ws: Workspace<T> = Workspace(), chunk: Int = 1024) throws -> Tensor<T> {
        let n = try checkInput(x)
        var out = [T](repeating: 0, count: n * outputSize)
        let inSize = inputSize, outSize = outputSize
        parameters.withUnsafeBufferPointer { p in
            x.scalars.withUnsafeBufferPointer { xs in
                // Evaluation only reads the running estimates (`Pass.state` is written in training).
                state.withUnsafeBufferPointer { st in
                var start = 0
                while start < n {
                    let b = min(chunk, n - start)
                    var pass = Pass(params: p.baseAddress!, grads: nil, ws: ws, batch: b, training: false, rng: RNG(seed: 0),
                                    state: st.baseAddress.map(UnsafeMutablePointer.init(mutating:)))
                    let y = pass.forward(nodes, xs.baseAddress! + start * inSize)
                    for i in 0..<(b * outSize) { out[start * outSize + i] = y[i] }
                    start += b
                }
                }
            }
        }
        return Tensor(shape: [n] + outputShape, scalars: out)
    }

    /// Mean loss and, for class labels, accuracy (fraction correct) over a whole dataset.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func evaluate(_ x: Tensor<T>, _ y: Supervision<T>, loss: Loss, ws: Workspace<T> = Workspace()) throws -> (loss: Double, accuracy: Double?) {
        let n = try checkInput(x)
        try checkTargets(y, n: n, loss: loss)
        let out = try predict(x, ws: ws)
        return out.scalars.withUnsafeBufferPointer { o in
            switch y {
            case let .classes(labels):
                var correct = 0
                let l = labels.withUnsafeBufferPointer {
                    softmaxCrossEntropy(o.baseAddress!, $0, nil, batch: n, classes: outputSize, path: ws.kernels, correct: &correct)
                }
                return (Double(l), Double(correct) / Double(max(n, 1)))
            case let .values(v):
                let l = v.scalars.withUnsafeBufferPointer { meanSquaredError(o.baseAddress!, $0.baseAddress!, nil, count: n * outputSize) }
                return (Double(l), nil)
            }
        }
    }

    /// Forward and backward on one batch: sets `gradients` to ∇θ of the mean batch loss and
    /// returns the loss. `x` points at `batch` inputs; targets are the batch's own.
    /// With `correct`, also counts the batch's correctly classified samples (class targets) from
    /// the same forward pass.
    ///
    /// A batch whose activations outgrow the cache runs as consecutive chunks of samples (see
    /// `Workspace.chunkSamples`), each a forward and backward pass that adds its share of the
    /// gradient: the loss is a mean over samples and no layer mixes samples, so the result is
    /// the whole batch's up to rounding, while every layer's output is read back from L2 rather
    /// than from memory. Batch norm with batch statistics (`batchStatistics`, by default as
    /// `training`) mixes samples: such a pass is chunked only by `normalizationGroup` — groups of
    /// that many consecutive samples, each normalized by its own statistics (the mean of the
    /// mini-batch objectives) — and otherwise runs whole.
    public mutating func lossAndGradient(
        _ x: UnsafePointer<T>, batch: Int, targets: Targets<T>, loss: Loss,
        ws: Workspace<T>, training: Bool = true, batchStatistics: Bool? = nil, normalizationGroup: Int? = nil,
        rng: RNG = RNG(seed: 0), correct: UnsafeMutablePointer<Int>? = nil
    ) -> T {
        let batchStatistics = batchStatistics ?? training
        let chunk = batchStatistics && hasBatchNorm ? max(1, min(batch, normalizationGroup ?? batch)) : chunkSamples(batch: batch, ws: ws)
        var r = rng
        var total: T = 0, right = 0, start = 0
        repeat {  // at least one pass, so that an empty batch still sets the gradient as before
            let b = min(chunk, batch - start)
            let t: Targets<T>
            switch targets {
            case let .classes(c): t = .classes(UnsafeBufferPointer(rebasing: c[start..<start + b]))
            case let .values(v): t = .values(v + start * outputSize)
            }
            var c = 0
            total += withUnsafeMutablePointer(to: &c) { cp in
                chunkLossAndGradient(x + start * inputSize, batch: b, of: batch, targets: t, loss: loss, ws: ws,
                                     training: training, batchStatistics: batchStatistics, rng: &r, correct: correct == nil ? nil : cp, fresh: start == 0)
            }
            right += c
            start += b
        } while start < batch
        correct?.pointee = right
        return total
    }

    /// Samples per chunk when the workspace does not say: the whole batch unless its activations
    /// (every node's output) pass 2 MiB (an L2 of these cores), else even chunks of about that
    /// size, at least 8 samples. Measured on the ViT and CNN benchmark shapes (batch 128;
    /// `overparam bench --ab-chunk N` and `--ab-chunk N,M`): chunks of 8–16 samples ran 1.3–1.45×
    /// the whole batch, 32–64 samples 1.05–1.25×; the ViT's 8 (this budget) 1.06–1.07× its 15 (a
    /// 4 MiB budget's), 4 samples 0.96× its 8; the CNN's 12 about as its 22 (1.01–1.02).
    public func chunkSamples(batch: Int) -> Int {
        let total = activationsPerSample * MemoryLayout<T>.stride * batch, budget = 2 << 20
        if total <= budget { return batch }
        let chunks = (total + budget - 1) / budget
        return min(batch, max(8, (batch + chunks - 1) / chunks))
    }

    /// The chunk size a pass over `batch` samples runs with: the workspace's setting (0 or less
    /// taken as one sample at a time) or else the automatic one, at most the batch.
    public func chunkSamples(batch: Int, ws: Workspace<T>) -> Int {
        min(batch, max(1, ws.chunkSamples ?? chunkSamples(batch: batch)))
    }

    /// Whether a layer normalizes over the batch (its training pass mixes samples).
    public var hasBatchNorm: Bool { !state.isEmpty }

    /// Scalars of every node's output for one sample (residual branches included).
    var activationsPerSample: Int {
        func walk(_ nodes: [Node]) -> Int { nodes.reduce(0) { $0 + $1.outSize + walk($1.children) } }
        return walk(nodes)
    }

    /// One chunk of `batch` samples out of a batch of `whole`: its loss and gradient weighted by
    /// batch/whole, written into `gradients` when `fresh`, added otherwise.
    private mutating func chunkLossAndGradient(
        _ x: UnsafePointer<T>, batch: Int, of whole: Int, targets: Targets<T>, loss: Loss,
        ws: Workspace<T>, training: Bool, batchStatistics: Bool, rng: inout RNG, correct: UnsafeMutablePointer<Int>?, fresh: Bool
    ) -> T {
        let outSize = outputSize
        let nodes = self.nodes
        let dOut = ws.scratch(0, batch * outSize)
        let r = rng
        let (l, after): (T, RNG) = parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
              state.withUnsafeMutableBufferPointer { st in
                var pass = Pass(params: p.baseAddress!, grads: g.baseAddress!, ws: ws, batch: batch, training: training, rng: r,
                                freshGrads: fresh, state: st.baseAddress, batchStatistics: batchStatistics)
                let y = pass.forward(nodes, x)
                var l: T
                switch (targets, loss) {
                case let (.classes(c), _):
                    l = softmaxCrossEntropy(y, c, dOut, batch: batch, classes: outSize, path: ws.kernels, correct: correct)
                case let (.values(t), _):
                    l = meanSquaredError(y, t, dOut, count: batch * outSize)
                }
                if batch < whole {
                    let w = T(batch) / T(whole)
                    scale(dOut, batch * outSize, by: w)
                    l *= w
                }
                pass.backward(nodes, x, dOut, nil)
                return (l, pass.rng)
              }
            }
        }
        rng = after
        return l
    }

    /// The full gradient of the mean loss over a dataset, with the loss: (loss, ∇θ). No dropout;
    /// with `batchStatistics`, batch norms normalize by the statistics of each consecutive group
    /// of `normalizationGroup` samples (all of `x` by default) — the objective training with
    /// batches of that size descends — and the running estimates are left as they were;
    /// otherwise by the running estimates (the evaluation's loss).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public mutating func lossAndGradient(_ x: Tensor<T>, _ y: Supervision<T>, loss: Loss, ws: Workspace<T> = Workspace(),
                                         batchStatistics: Bool = false, normalizationGroup: Int? = nil) throws -> (loss: Double, gradient: [T]) {
        let n = try checkInput(x)
        try checkTargets(y, n: n, loss: loss)
        let kept = state
        defer { state = kept }
        let l: T = x.scalars.withUnsafeBufferPointer { xs in
            switch y {
            case let .classes(c):
                return c.withUnsafeBufferPointer {
                    lossAndGradient(xs.baseAddress!, batch: n, targets: .classes($0), loss: loss, ws: ws, training: false,
                                    batchStatistics: batchStatistics, normalizationGroup: normalizationGroup)
                }
            case let .values(v):
                return v.scalars.withUnsafeBufferPointer {
                    lossAndGradient(xs.baseAddress!, batch: n, targets: .values($0.baseAddress!), loss: loss, ws: ws, training: false,
                                    batchStatistics: batchStatistics, normalizationGroup: normalizationGroup)
                }
            }
        }
        return (Double(l), gradients)
    }

    /// Per-sample Jacobian of one output: J[i, j] = ∂f_k(x_i)/∂θ_j, an n × P matrix, for output
    /// k = `output` (nil: the network must have one output, and it is that one).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func jacobian(_ x: Tensor<T>, output: Int? = nil, ws: Workspace<T> = Workspace()) throws -> Tensor<T> {
        let n = try checkInput(x)
        guard output != nil || outputSize == 1 else {
            throw NetworkError.invalidArgument("the per-sample Jacobian needs a network with one output, or the output named; this one has \(outputSize)")
        }
        let k = output ?? 0
        guard k >= 0 && k < outputSize else { throw NetworkError.invalidArgument("output \(k) of a network with \(outputSize)") }
        let P = parameterCount, inSize = inputSize
        var J = [T](repeating: 0, count: n * P)
        // The backward pass's seed, the unit vector of output k (set for every sample: a pass
        // may use its incoming gradient as scratch).
        let one = ws.scratch(1, outputSize)
        parameters.withUnsafeBufferPointer { p in
            x.scalars.withUnsafeBufferPointer { xs in
                J.withUnsafeMutableBufferPointer { j in
                  state.withUnsafeBufferPointer { st in  // read only, as in `predict`
                    for i in 0..<n {
                        // Backward adds, so each row starts at zero and receives ∂f(x_i)/∂θ directly.
                        var pass = Pass(params: p.baseAddress!, grads: j.baseAddress! + i * P, ws: ws, batch: 1, training: false, rng: RNG(seed: 0),
                                        state: st.baseAddress.map(UnsafeMutablePointer.init(mutating:)))
                        _ = pass.forward(nodes, xs.baseAddress! + i * inSize)
                        for o in 0..<outputSize { one[o] = o == k ? 1 : 0 }
                        pass.backward(nodes, xs.baseAddress! + i * inSize, one, nil)
                    }
                  }
                }
            }
        }
        return Tensor(shape: [n, P], scalars: J)
    }
}
