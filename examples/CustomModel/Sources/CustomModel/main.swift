// A residual MLP with a layer norm inside its block — an architecture no spec string names —
// measured by two of Overparam's instruments: its effective model complexity on a Gaussian
// mixture, and its model rank at a random point.
import Capacity
import Datasets
import NeuralNets
import Recovery

// `CustomModel quick`: one seed at a smaller budget, for a check that it builds and runs (CI
// builds it in debug mode, tens of times slower than `swift run -c release CustomModel`).
let quick = CommandLine.arguments.dropFirst().first == "quick"

// Enough samples that the search can fail to fit (an EMC equal to all of them would be censored).
let data: LabeledData<Float> = Synthetic.gaussianMixture(n: quick ? 1000 : 4000, dim: 8, classes: 4, separation: 1, seed: 0)

var procedure = FitProcedure(name: "res-mlp 8-16-4") {
    Dense(16); ReLU()
    Residual { LayerNorm(); Dense(16); Tanh() }
    Dense(4)
}
procedure.train.optimizer = .adam()
procedure.train.learningRate = 0.02
procedure.train.batchSize = nil
procedure.train.maxSteps = 500
procedure.train.schedule = .cosine(steps: 500)
procedure.stepCap = quick ? nil : 8000   // an attempt still learning at 500 steps is run again with 2×, 4×, … the budget
var plan = SearchPlan(maximum: data.count)
plan.start = 32

let seeds: [UInt64] = quick ? [0] : [0, 1, 2]
let report = try measureEMC(data, procedure: procedure, seeds: seeds, plan: plan)
print("EMC of \(report.arch) (\(report.parameters) parameters): \(report.searches.map(\.emc)) over seeds \(seeds.map(String.init).joined(separator: ", ")) (\(report.status))")

let network = try Network<Double>(input: [8], name: "res-mlp 8-16-1") {
    Dense(16); ReLU()
    Residual { LayerNorm(); Dense(16); Tanh() }
    Dense(1)
}
let rank = try modelRank(network: network, target: "random")
print("model rank of \(rank.model) at a random point: \(rank.modelRank) of \(rank.parameters) parameters, from \(rank.inputs) inputs")
