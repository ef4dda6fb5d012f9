import Capacity
import Datasets
import Linalg
import NeuralNets
import Testing

/// Undecided attempts are run again under doubled budgets until they are decided or reach the cap.
@Suite struct BudgetTests {
    func result(_ verdict: Verdict, budget: Int) -> FitResult {
        FitResult(n: 10, seed: 0, verdict: verdict, trainLoss: 0, trainAccuracy: 0, gradientNorm: 0, steps: budget, seconds: 0, budget: budget)
    }

    @Test func budgetsDoubleUpToTheCap() {
        #expect(BudgetSchedule(first: 1000, cap: 8000).budgets == [1000, 2000, 4000, 8000])
        #expect(BudgetSchedule(first: 1000, cap: 5000).budgets == [1000, 2000, 4000, 5000])
        #expect(BudgetSchedule(first: 1000, cap: 500).budgets == [1000], "a cap below the first budget escalates nothing")
        #expect(BudgetSchedule(first: 300).budgets == [300])
    }

    @Test func anAttemptIsDecidedByItsFirstDecisiveBudget() {
        let s = BudgetSchedule(first: 100, cap: 400)
        #expect(s.resolve { _ in nil } == .run(budget: 100))
        let undecidedFirst: [Int: FitResult] = [100: result(.undecided, budget: 100)]
        #expect(s.resolve { undecidedFirst[$0] } == .run(budget: 200))
        let fitsAt200 = undecidedFirst.merging([200: result(.fit, budget: 200)]) { $1 }
        #expect(s.resolve { fitsAt200[$0] } == .decided(result(.fit, budget: 200)))
        // A decisive first budget ends it, whatever larger budgets hold.
        let noFit: [Int: FitResult] = [100: result(.noFit, budget: 100), 200: result(.fit, budget: 200)]
        #expect(s.resolve { noFit[$0] } == .decided(result(.noFit, budget: 100)))
        // Undecided at the cap stays undecided.
        let never = Dictionary(uniqueKeysWithValues: s.budgets.map { ($0, result(.undecided, budget: $0)) })
        #expect(s.resolve { never[$0] } == .decided(result(.undecided, budget: 400)))
    }

    func problem(cap: Int?) -> (LabeledData<Float>, FitProcedure, SearchPlan) {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 240, dim: 4, classes: 3, separation: 3, seed: 0)
        var p = FitProcedure(arch: "mlp:4-12-3:relu")
        p.train.optimizer = .adam(); p.train.learningRate = 0.03; p.train.batchSize = nil; p.train.maxSteps = 200
        p.train.schedule = .cosine(steps: 200)
        p.stepCap = cap
        var plan = SearchPlan(maximum: data.count)
        plan.start = 16
        plan.precision = 0.05
        return (data, p, plan)
    }

    @Test func undecidedAttemptsAreRunAgainFromScratchUnderLargerBudgets() throws {
        let (data, fixed, plan) = problem(cap: nil)
        let without = try measureEMC(data, procedure: fixed, seeds: [0, 1], plan: plan)
        #expect(without.undecided > 0 && without.escalated == 0, "at 200 steps some attempts run out of budget")
        let (_, escalating, _) = problem(cap: 3200)
        let with = try measureEMC(data, procedure: escalating, seeds: [0, 1], plan: plan)
        #expect(with.escalated > 0 && with.undecided < without.undecided)
        #expect(with.runs > with.searches.map(\.attempts.count).reduce(0, +))
        // Each deciding run is a fresh run under its budget, the cosine stretched over it — not a
        // continuation of the shorter run.
        for s in with.searches {
            let order = data.sampleOrder(seed: s.seed)
            for r in s.attempts where r.budget > 200 {
                let fresh = try searchAttempt(data, order: order, n: r.n, procedure: escalating.withBudget(r.budget), seed: s.seed)
                #expect(fresh.verdict == r.verdict && fresh.trainLoss == r.trainLoss && fresh.steps == r.steps && fresh.budget == r.budget)
            }
        }
        #expect(escalating.withBudget(800).train.schedule == .cosine(steps: 800))
        #expect(!escalating.continuesExactly)
    }

    /// Under a constant schedule an undecided attempt goes on from where its budget stopped: the
    /// search's results are those of fresh runs under each budget, bit for bit, and the steps
    /// trained are the last budget's, not the sum of all.
    @Test func underAConstantScheduleUndecidedAttemptsGoOn() throws {
        var (data, p, plan) = problem(cap: 1600)
        p.train.schedule = .constant
        p.train.optimizer = .sgd(momentum: 0.9); p.train.learningRate = 0.05
        p.train.maxSteps = 100
        #expect(p.continuesExactly)
        let report = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan)
        #expect(report.escalated > 0, "some attempts need more than 100 steps")
        var checked = 0
        for s in report.searches {
            let order = data.sampleOrder(seed: s.seed)
            for r in s.attempts where r.budget > 100 {
                let fresh = try searchAttempt(data, order: order, n: r.n, procedure: p.withBudget(r.budget), seed: s.seed)
                #expect(fresh.verdict == r.verdict && fresh.trainLoss == r.trainLoss && fresh.trainAccuracy == r.trainAccuracy
                        && fresh.gradientNorm == r.gradientNorm && fresh.steps == r.steps, "seed \(s.seed) n \(r.n) budget \(r.budget)")
                checked += 1
            }
        }
        #expect(checked > 0)

        // One attempt by hand: undecided at 100 and 200 steps, going on each time.
        let search = try #require(report.searches.first { $0.attempts.contains { $0.budget >= 400 } })
        let order = data.sampleOrder(seed: search.seed)
        let big = try #require(search.attempts.first { $0.budget >= 400 })   // undecided at 100 and 200
        var state: AttemptState? = nil
        for (k, b) in [100, 200, 400].enumerated() {
            let r = try searchAttempt(data, order: order, n: big.n, procedure: p.withBudget(b), seed: search.seed, continuing: &state)
            let fresh = try searchAttempt(data, order: order, n: big.n, procedure: p.withBudget(b), seed: search.seed)
            #expect(r.trainLoss == fresh.trainLoss && r.gradientNorm == fresh.gradientNorm && r.verdict == fresh.verdict)
            if k < 2 { #expect(r.verdict == .undecided && state?.step == b) }
            // Two budgets cost 200 steps, not 100 + 200.
            if k == 1 { #expect(state?.stepsTrained == 200, "steps trained over two budgets: \(state?.stepsTrained ?? -1)") }
        }
    }
}
