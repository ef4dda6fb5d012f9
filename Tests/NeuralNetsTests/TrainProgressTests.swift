import Datasets
import Linalg
import NeuralNets
import Testing

/// Going on from where a run stopped, under a larger budget, gives the bits of one run under that
/// budget from the start: parameters, batch-norm running estimates, records and result. On the
/// full-batch path and the general one (mini-batches that do not divide n, a budget that ends
/// mid-epoch and off the evaluation steps), with momentum SGD, Adam after a warm-up, dropout,
/// batch norm and a random subspace.
@Suite struct TrainProgressTests {
    struct Case: Sendable, CustomStringConvertible {
        var spec: String, batch: Int?, optimizer: OptimizerKind, schedule: Schedule, subspace: Int?
        var description: String { "\(spec) batch \(batch.map(String.init) ?? "full") \(optimizer)\(subspace.map { " subspace \($0)" } ?? "")" }
    }

    static let cases: [Case] = [
        Case(spec: "mlp:6-10-3:relu", batch: nil, optimizer: .sgd(momentum: 0.9), schedule: .constant, subspace: nil),
        Case(spec: "mlp:6-10-3:relu", batch: 16, optimizer: .sgd(momentum: 0.9), schedule: .constant, subspace: nil),
        Case(spec: "mlp:6-10-3:tanh:dropout0.2", batch: 16, optimizer: .adam(), schedule: .warmup(steps: 5, then: .constant), subspace: nil),
        Case(spec: "resnet:4x4x1-w2-b1-s2-3", batch: 16, optimizer: .sgd(momentum: 0.9), schedule: .constant, subspace: nil),
        Case(spec: "mlp:6-10-3:relu", batch: nil, optimizer: .sgd(momentum: 0.9), schedule: .constant, subspace: 20),
    ]

    func setUp(_ c: Case) throws -> (Network<Float>, Tensor<Float>, [Int32], TrainConfig, Subspace<Float>?) {
        let shape = c.spec.hasPrefix("resnet") ? [4, 4, 1] : [6]
        var net = try Network<Float>(spec: c.spec, inputShape: shape)
        net.initialize(.torch, rng: RNG(seed: 3))
        var r = RNG(seed: 4)
        let n = 50
        let x = Tensor<Float>(shape: [n] + shape, scalars: r.normals(n * shape.reduce(1, *)))
        let y = (0..<n).map { Int32($0 % 3) }
        var config = TrainConfig()
        config.optimizer = c.optimizer; config.learningRate = 0.05; config.schedule = c.schedule
        config.batchSize = c.batch; config.seed = 9
        let sub = c.subspace.map { Subspace(origin: net.parameters, dimension: $0, rng: RNG(seed: 5)) }
        return (net, x, y, config, sub)
    }

    @Test(arguments: cases)
    func goingOnEqualsOneLongerRun(c: Case) throws {
        let (net0, x, y, config, sub) = try setUp(c)
        // Budget 7 ends mid-epoch (4 steps per epoch of 50 in 16s) and off the evaluation steps.
        var whole = net0, config17 = config
        config17.maxSteps = 17
        let (one, _) = try train(&whole, x: x, y: .classes(y), config: config17, subspace: sub, from: nil)
        var parts = net0, c7 = config, c12 = config
        c7.maxSteps = 7; c12.maxSteps = 12
        let (_, at7) = try train(&parts, x: x, y: .classes(y), config: c7, subspace: sub, from: nil)
        let (_, at12) = try train(&parts, x: x, y: .classes(y), config: c12, subspace: sub, from: at7)
        let (two, at17) = try train(&parts, x: x, y: .classes(y), config: config17, subspace: sub, from: at12)
        #expect(at7.step == 7 && at12.step == 12 && at17.step == 17 && two.steps == 17 && one.stopReason == .budget)
        #expect(parts.parameters.elementsEqual(whole.parameters) { $0.bitPattern == $1.bitPattern }, "\(c): parameters")
        #expect(parts.state.elementsEqual(whole.state) { $0.bitPattern == $1.bitPattern }, "\(c): running estimates")
        #expect(two.history == one.history, "\(c): records")
        #expect(two.finalLoss == one.finalLoss && two.finalAccuracy == one.finalAccuracy)
        #expect(one.history.count > 3)
        // Going on under the same budget changes nothing.
        var again = parts
        let (same, _) = try train(&again, x: x, y: .classes(y), config: config17, subspace: sub, from: at17)
        #expect(same.history == one.history && again.parameters == parts.parameters, "\(c): the same budget again")
    }

    @Test func onlyALargerBudgetOfTheSameTrainingGoesOn() throws {
        let (net0, x, y, config, _) = try setUp(Self.cases[1])
        var net = net0, c10 = config
        c10.maxSteps = 10
        let (_, at10) = try train(&net, x: x, y: .classes(y), config: c10, from: nil)
        var other = c10
        other.maxSteps = 20; other.learningRate = 0.1
        #expect(throws: NetworkError.self) { var m = net; _ = try train(&m, x: x, y: .classes(y), config: other, from: at10) }
        other = c10
        other.maxSteps = 20; other.schedule = .cosine(steps: 20)   // a cosine stretched over the budget
        #expect(throws: NetworkError.self) { var m = net; _ = try train(&m, x: x, y: .classes(y), config: other, from: at10) }
        other = c10
        other.maxSteps = 5
        #expect(throws: NetworkError.self) { var m = net; _ = try train(&m, x: x, y: .classes(y), config: other, from: at10) }
        // A run that met its target stops where a longer one does: nothing to go on from.
        var easy = config
        easy.maxSteps = 10; easy.targetAccuracy = 0
        var m = net0
        let (r, met) = try train(&m, x: x, y: .classes(y), config: easy, from: nil)
        #expect(r.stopReason == .targetAccuracy && met.stoppedBy == .targetAccuracy)
        easy.maxSteps = 20
        #expect(throws: NetworkError.self) { _ = try train(&m, x: x, y: .classes(y), config: easy, from: met) }
    }
}
