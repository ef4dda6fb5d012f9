import Capacity
import Datasets
import Linalg
import NeuralNets
import Testing

/// The three verdicts, each on a problem whose outcome is known: a linear classifier cannot fit
/// XOR and converges to the symmetric point (loss ln 2, zero gradient); separable points fit;
/// a budget too short to converge decides nothing.
@Suite struct VerdictTests {
    let xor = LabeledData<Float>(x: Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]), labels: [0, 1, 1, 0], classes: 2)

    func linear(steps: Int) -> FitProcedure {
        var p = FitProcedure(arch: "mlp:2-2")
        p.train.optimizer = .adam(); p.train.learningRate = 0.05; p.train.batchSize = nil
        p.train.maxSteps = steps; p.train.schedule = .constant
        return p
    }

    @Test func aLinearModelConvergesWithoutFittingXOR() throws {
        let r = try attemptFit(xor, procedure: linear(steps: 4000), seed: 1)
        #expect(r.verdict == .noFit, "\(r)")
        #expect(r.trainAccuracy <= 0.75 && abs(r.trainLoss - 0.6931) < 0.01 && r.gradientNorm <= 0.01, "\(r)")
    }

    @Test func tooShortABudgetIsUndecidedNotAFailure() throws {
        let r = try attemptFit(xor, procedure: linear(steps: 3), seed: 1)
        #expect(r.verdict == .undecided && r.steps == 3 && r.budget == 3, "\(r)")
    }

    @Test func separablePointsFit() throws {
        let separable = LabeledData<Float>(x: Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]), labels: [0, 0, 1, 1], classes: 2)
        let r = try attemptFit(separable, procedure: linear(steps: 4000), seed: 1)
        #expect(r.verdict == .fit && r.trainAccuracy == 1 && r.steps < 4000, "\(r)")
    }

    /// The subsets a search trains on are nested: the first n of one permutation per seed.
    @Test(arguments: [UInt64(0), 7])
    func subsetsAreNestedPrefixes(seed: UInt64) throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 50, dim: 3, classes: 2, seed: 3)
        let order = data.sampleOrder(seed: seed)
        #expect(Set(order) == Set(0..<50), "a permutation")
        for (small, large) in [(5, 20), (20, 49), (1, 50)] {
            let a = try data.nestedSubset(small, seed: seed), b = try data.nestedSubset(large, seed: seed)
            #expect(Array(b.x.scalars.prefix(a.x.scalars.count)) == a.x.scalars && Array(b.labels.prefix(small)) == a.labels)
        }
        #expect(data.sampleOrder(seed: seed) == order && data.sampleOrder(seed: seed + 1) != order)
    }
}
