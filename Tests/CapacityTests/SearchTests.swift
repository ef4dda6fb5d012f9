import Capacity
import Datasets
import Linalg
import NeuralNets
import Testing

func fake(_ n: Int, fits: Bool, undecided: Bool = false) -> FitResult {
    FitResult(n: n, seed: 0, verdict: fits ? .fit : (undecided ? .undecided : .noFit), trainLoss: 0,
              trainAccuracy: fits ? 1 : 0.9, gradientNorm: 0, steps: 1, seconds: 0)
}

@Suite struct SearchTests {
    @Test(arguments: [1, 2, 5, 63, 64, 137, 1000, 4095, 5000])
    func bracketsAThreshold(t: Int) {
        var plan = SearchPlan(maximum: 5000)
        plan.precision = 0.02
        var tried = [Int]()
        let s = searchEMC(plan: plan, seed: 0) { n in tried.append(n); return fake(n, fits: n <= t) }
        #expect(s.emc <= t && s.emc >= t - max(1, Int(0.02 * Double(t))), "threshold \(t): emc \(s.emc)")
        if t < 5000 {
            #expect(s.firstFailure.map { $0 > t && Double($0 - s.emc) <= max(1, 0.02 * Double(s.emc)) } == true)
        } else {
            #expect(s.firstFailure == nil && s.emc == 5000)
        }
        #expect(Set(tried).count == tried.count, "no size is tried twice: \(tried)")
        #expect(tried.count < 30)
    }

    @Test func undecidedAttemptsAreCounted() {
        let s = searchEMC(plan: SearchPlan(maximum: 1000), seed: 0) { n in fake(n, fits: n <= 300, undecided: n > 300 && n < 400) }
        #expect(s.emc <= 300 && s.undecided > 0)
        #expect(s.attempts.filter { $0.verdict == .undecided }.allSatisfy { $0.n > 300 && $0.n < 400 })
    }

    @Test func reportSummaries() {
        let searches = [100, 110, 120].enumerated().map { i, e in
            EMCSearch(seed: UInt64(i), attempts: [fake(e, fits: true)], emc: e, firstFailure: e + 2)
        }
        let r = EMCReport(arch: "mlp:2-3-2", parameters: 100, searches: searches)
        #expect(r.mean == 110 && abs(r.std - 10) < 1e-12 && r.emcPerParameter == 1.1 && r.undecided == 0)
    }
}

@Suite struct FitAttemptTests {
    @Test func seedsInParallelGiveTheSequentialAnswer() throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 200, dim: 3, classes: 3, separation: 1, seed: 2)
        var p = FitProcedure(arch: "mlp:3-3-3:tanh")
        p.train.optimizer = .adam(); p.train.learningRate = 0.03; p.train.batchSize = nil; p.train.maxSteps = 200
        var plan = SearchPlan(maximum: 200)
        plan.start = 8
        let one = try measureEMC(data, procedure: p, seeds: [0, 1, 2], plan: plan, workers: 1)
        let two = try measureEMC(data, procedure: p, seeds: [0, 1, 2], plan: plan, workers: 2)
        #expect(one.perSeed == two.perSeed)
        #expect(one.searches.map { $0.attempts.map(\.n) } == two.searches.map { $0.attempts.map(\.n) })
        #expect(one.searches.map { $0.attempts.map(\.trainLoss) } == two.searches.map { $0.attempts.map(\.trainLoss) })
    }

    @Test func separableDataFitsAndCapacityIsFinite() throws {
        // A 2-class teacher problem: a 3-hidden-unit MLP cannot fit many random labels.
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 400, dim: 4, classes: 2, separation: 6, seed: 1)
        var p = FitProcedure(arch: "mlp:4-3-2:relu")
        p.train.optimizer = .adam(); p.train.learningRate = 0.02; p.train.batchSize = nil; p.train.maxSteps = 1500
        let easy = try attemptFit(data.prefix(100), procedure: p, seed: 0)
        #expect(easy.verdict == .fit && easy.trainAccuracy == 1 && easy.steps < 1500)
        let random = data.applying(.randomLabels, seed: 5)
        let hard = try attemptFit(random.prefix(400), procedure: p, seed: 0)
        #expect(hard.verdict != .fit && hard.trainAccuracy < 0.9)
        #expect(hard.gradientNorm.isFinite && hard.trainLoss > 0.1)
    }
}

@Suite struct RemainingAttemptsTests {
    @Test func countsBisectionAndGrowthSteps() {
        var plan = SearchPlan(maximum: 1000)
        plan.precision = 0.02
        // Bracket [100, 200]: widths 100 → 50 → 25 → 12 → 6 → 3 (3 ≤ 2% of 100 stops at 2): 6 steps.
        #expect(remainingAttempts(plan: plan, lo: 100, hi: 200) == 6)
        #expect(remainingAttempts(plan: plan, lo: 100, hi: 102) == 0)
        // Growing from 64 by doubling to 1000: 128, 256, 512, 1000.
        #expect(remainingAttempts(plan: plan, lo: 64, hi: nil) == 4)
        // Matches what the search actually does when the threshold is the bracket's upper end.
        var tried = 0
        _ = searchEMC(plan: plan, seed: 0) { n in tried += 1; return fake(n, fits: n < 700) }
        #expect(tried >= remainingAttempts(plan: plan, lo: 64, hi: nil) + 1)
    }
}
