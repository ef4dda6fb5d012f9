import Capacity
import Datasets
import Foundation
import NeuralNets
import Testing

/// A failure that learned nothing beyond the class frequencies (dead units, a stuck transformer)
/// is the optimizer's, not the capacity's, and a search ended by one says so.
@Suite struct CollapseTests {
    @Test func labelEntropyIsThatOfTheClassFrequencies() {
        #expect(labelEntropy([Int]()) == 0)
        #expect(labelEntropy([2, 2, 2]) == 0)
        #expect(abs(labelEntropy([0, 1, 0, 1]) - log(2)) < 1e-15)
        // −(¾ ln ¾ + ¼ ln ¼), by hand.
        #expect(abs(labelEntropy([5, 5, 5, 9]) - 0.562_335_144_618_808_3) < 1e-15)
        #expect(abs(labelEntropy(Array(0..<10)) - log(10)) < 1e-15)
    }

    @Test func onlyAConvergedFailureNearTheEntropyCollapsed() {
        func r(_ v: Verdict, loss: Double) -> FitResult {
            FitResult(n: 8, seed: 0, verdict: v, trainLoss: loss, trainAccuracy: 0.5, gradientNorm: 0, steps: 10, seconds: 0)
        }
        let h = log(2.0)
        #expect(failedByCollapse(r(.noFit, loss: h), labelEntropy: h))
        #expect(failedByCollapse(r(.noFit, loss: 0.981 * h), labelEntropy: h))
        #expect(!failedByCollapse(r(.noFit, loss: 0.979 * h), labelEntropy: h), "2% below the entropy it learned something")
        #expect(!failedByCollapse(r(.undecided, loss: h), labelEntropy: h), "its loss was still falling")
        #expect(!failedByCollapse(r(.fit, loss: h), labelEntropy: h))
        #expect(!failedByCollapse(r(.noFit, loss: 0), labelEntropy: 0), "one class: nothing to learn")
    }

    /// Overlapping classes: no net of this size fits them all.
    func problem(_ initialization: Initialization) -> (LabeledData<Float>, FitProcedure, SearchPlan) {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 400, dim: 4, classes: 3, separation: 0.5, seed: 0)
        var p = FitProcedure(arch: "mlp:4-12-3:relu")
        p.initialization = initialization
        p.train.optimizer = .sgd(momentum: 0.9); p.train.learningRate = 0.1; p.train.batchSize = nil; p.train.maxSteps = 400
        p.train.schedule = .constant
        var plan = SearchPlan(maximum: data.count)
        plan.start = 16
        return (data, p, plan)
    }

    /// From all-zero weights every ReLU unit outputs 0 and gets no gradient, whatever the data:
    /// only the output biases learn, towards the log class frequencies, so every failure ends at
    /// the labels' entropy. The search ends at the first prefix with two classes.
    @Test func aSearchEndedByDeadUnitsSaysSo() throws {
        let (data, p, plan) = problem(.gaussian(std: 0))
        let report = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, workers: 1)
        for s in report.searches {
            let order = data.sampleOrder(seed: s.seed)
            let hi = try #require(s.firstFailure)
            let failure = try #require(s.attempts.first { $0.n == hi })
            let h = labelEntropy(order.prefix(hi).map { data.labels[$0] })
            // A prediction that ignores the inputs scores at least the entropy.
            #expect(failure.verdict == .noFit && h > 0 && failure.trainLoss >= h - 1e-6 && failure.trainLoss < 1.01 * h,
                    "seed \(s.seed): loss \(failure.trainLoss), entropy \(h)")
            #expect(Set(order.prefix(s.emc).map { data.labels[$0] }).count == 1, "what fit is one class")
            #expect(s.collapsed)
        }
        #expect(report.collapsed == 2)
    }

    /// The same search from PyTorch's initialization learns: its failures end well below the
    /// entropy, and nothing is flagged; read back from a cache, the flags are the same.
    @Test func aSearchThatLearnedIsNotFlaggedAndACacheAgrees() throws {
        let (data, p, plan) = problem(.torch)
        let cache = MemoryCache()
        let report = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, cache: cache, workers: 1)
        for s in report.searches {
            let hi = try #require(s.firstFailure)
            let failure = try #require(s.attempts.first { $0.n == hi })
            let h = labelEntropy(data.sampleOrder(seed: s.seed).prefix(hi).map { data.labels[$0] })
            #expect(failure.trainLoss < 0.9 * h && !s.collapsed, "seed \(s.seed): loss \(failure.trainLoss), entropy \(h)")
        }
        #expect(report.collapsed == 0 && report.searches.map(\.emc).allSatisfy { $0 > 16 })
        let (_, dead, _) = problem(.gaussian(std: 0))
        let deadCache = MemoryCache()
        let first = try measureEMC(data, procedure: dead, seeds: [0, 1], plan: plan, cache: deadCache, workers: 1)
        let again = try measureEMC(data, procedure: dead, seeds: [0, 1], plan: plan, cache: deadCache, workers: 1)
        #expect(deadCache.saves == first.searches.map(\.attempts.count).reduce(0, +), "the second search trained nothing")
        #expect(again.searches.map(\.collapsed) == [true, true] && again.perSeed == first.perSeed)
    }
}

extension CollapseTests {
    /// A sigmoid MLP three layers deep sits at the labels' entropy with a flat gradient for
    /// hundreds of steps before it learns: under 100 steps that is a collapsed `no-fit`, which the
    /// search runs again under larger budgets — the plateau at the start, not a verdict.
    @Test func aFailureThatLearnedNothingRunsAgainUpToTheCap() throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 128, dim: 4, classes: 3, separation: 3, seed: 0)
        var p = FitProcedure(arch: "mlp:4-8-8-8-3:sigmoid")
        p.train.optimizer = .sgd(momentum: 0.9); p.train.learningRate = 0.01; p.train.batchSize = nil
        p.train.maxSteps = 100; p.train.schedule = .constant
        p.gradientTolerance = 0.02   // the plateau's gradient norm is about 0.011 here
        p.stepCap = 1600
        var plan = SearchPlan(maximum: data.count)
        plan.start = 16
        let order = data.sampleOrder(seed: 0), labels = attemptLabels(data, order: order)
        let first = try searchAttempt(data, order: order, n: 16, procedure: p, seed: 0)
        #expect(first.verdict == .noFit && p.collapsed(first, labels: labels(16)), "\(first)")

        // A store that holds the collapsed 100-step failure (as one filled before this rule does):
        // the search trains on under the next budgets instead of taking it.
        let cache = MemoryCache()
        try cache.save(first)
        let report = try measureEMC(data, procedure: p, seeds: [0], plan: plan, cache: cache, workers: 1)
        let search = report.searches[0]
        let at16 = try #require(search.attempts.first { $0.n == 16 })
        #expect(at16.verdict == .fit && at16.budget > 100, "\(at16)")
        #expect(cache.results["16/0/200"] != nil, "the next budget ran")
        #expect(search.emc >= 16 && !search.collapsed)
        // Without the retry the search would have ended below 16.
        let once = try measureEMC(data, procedure: { var q = p; q.stepCap = nil; return q }(), seeds: [0], plan: plan, workers: 1)
        #expect(once.searches[0].emc < 16 && once.searches[0].collapsed)
    }

    /// Dead units stay dead under every budget: the failure runs up to the cap, and the cap's
    /// collapsed `no-fit` decides it.
    @Test func deadUnitsAreDecidedAtTheCap() throws {
        var (data, p, plan) = problem(.gaussian(std: 0))
        p.stepCap = 1600
        let report = try measureEMC(data, procedure: p, seeds: [0], plan: plan, workers: 1)
        let s = report.searches[0]
        let failure = try #require(s.attempts.first { $0.n == s.firstFailure })
        #expect(failure.verdict == .noFit && failure.budget == 1600 && s.collapsed && s.status == .measured)
        #expect(s.attempts.filter { $0.verdict == .noFit }.allSatisfy { $0.budget == 1600 }, "every failure learned nothing")
    }
}

/// Attempts kept in memory, keyed as the store keys them.
final class MemoryCache: AttemptCache, @unchecked Sendable {
    var results = [String: FitResult]()
    var saves = 0
    func cached(n: Int, seed: UInt64, budget: Int) throws -> FitResult? { results["\(n)/\(seed)/\(budget)"] }
    func save(_ r: FitResult) throws { results["\(r.n)/\(r.seed)/\(r.budget)"] = r; saves += 1 }
}
