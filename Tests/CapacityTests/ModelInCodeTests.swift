import Capacity
import Datasets
import Linalg
import NeuralNets
import Testing

/// An EMC of a model written in Swift: the same numbers as the spec that names the same layers,
/// and a measurement for one no spec can name.
@Suite struct ModelInCodeTests {
    func procedure(_ p: FitProcedure) -> FitProcedure {
        var p = p
        p.train.optimizer = .adam(); p.train.learningRate = 0.03; p.train.batchSize = nil; p.train.maxSteps = 300
        p.train.schedule = .cosine(steps: 300)
        return p
    }

    @Test func aModelInCodeMeasuresAsItsSpec() throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 240, dim: 4, classes: 3, separation: 3, seed: 0)
        var plan = SearchPlan(maximum: data.count)
        plan.start = 16
        plan.precision = 0.05
        let spec = try measureEMC(data, procedure: procedure(FitProcedure(arch: "mlp:4-12-3:relu")), seeds: [0, 1], plan: plan)
        let code = try measureEMC(data, procedure: procedure(FitProcedure(name: "mlp in code") { Dense(12); ReLU(); Dense(3) }),
                                  seeds: [0, 1], plan: plan)
        #expect(code.searches.map(\.emc) == spec.searches.map(\.emc) && code.parameters == spec.parameters)
        #expect(code.searches.flatMap(\.attempts).map(\.trainLoss) == spec.searches.flatMap(\.attempts).map(\.trainLoss))
        #expect(code.arch == "mlp in code")

        // A residual block with a layer norm: no spec says it; it is measured all the same.
        let custom = procedure(FitProcedure(name: "res-mlp") { Dense(12); ReLU(); Residual { LayerNorm(); Dense(12); Tanh() }; Dense(3) })
        let r = try measureEMC(data, procedure: custom, seeds: [0], plan: plan)
        #expect(r.parameters == 4 * 12 + 12 + 2 * 12 + 12 * 12 + 12 + 12 * 3 + 3 && r.searches[0].emc >= 16)
        // A model too small for the labels is refused before anything trains.
        #expect(throws: (any Error).self) { _ = try FitProcedure(name: "two outputs") { Dense(2) }.check(data) }
    }
}
