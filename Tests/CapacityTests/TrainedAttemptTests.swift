import Capacity
import Datasets
import Linalg
import NeuralNets
import Testing

/// An attempt trained again is the network the attempt reported on: the same samples, the same
/// accuracy, the same loss, under whichever budget decided it.
@Suite struct TrainedAttemptTests {
    @Test(arguments: [nil, 8] as [Int?])
    func trainingAgainGivesTheAttemptsNetwork(batch: Int?) throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 60, dim: 3, classes: 3, separation: 1, seed: 5)
        var p = FitProcedure(arch: "mlp:3-6-3:tanh")
        p.train.optimizer = .adam(); p.train.learningRate = 0.02; p.train.batchSize = batch
        p.train.maxSteps = 300; p.train.schedule = .cosine(steps: 300)
        let order = data.sampleOrder(seed: 2)
        let attempt = try searchAttempt(data, order: order, n: 40, procedure: p.withBudget(600), seed: 2)
        let (net, samples) = try trainedNetwork(data, order: order, n: 40, procedure: p, budget: 600, seed: 2)
        #expect(samples.labels == order.prefix(40).map { data.labels[$0] })
        let (loss, accuracy) = try net.evaluate(samples.x, .classes(samples.labels32), loss: p.train.loss)
        #expect(accuracy == attempt.trainAccuracy, "\(accuracy) vs \(attempt)")
        #expect(abs(loss - attempt.trainLoss) <= 1e-5 * max(1, attempt.trainLoss), "\(loss) vs \(attempt.trainLoss)")
        #expect(throws: NetworkError.self) { try trainedNetwork(data, order: order, n: 61, procedure: p, budget: 600, seed: 2) }
    }
}
