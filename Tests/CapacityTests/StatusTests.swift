import Capacity
import Datasets
import Linalg
import NeuralNets
import Testing

/// What an EMC is — measured, censored by the data, or bounded by the budget — and how such
/// numbers may be compared.
@Suite struct StatusTests {
    func search(_ threshold: Int, maximum: Int = 1000, undecidedAbove: Int? = nil) -> EMCSearch {
        searchEMC(plan: SearchPlan(maximum: maximum), seed: 0) { n in
            fake(n, fits: n <= threshold, undecided: undecidedAbove.map { n > $0 } ?? false)
        }
    }

    @Test func aSearchSaysWhatItsEMCIs() {
        let measured = search(300)
        #expect(measured.status == .measured && measured.text == "\(measured.emc)")
        // Every size up to the data set's fit: the data, not the model, ended the search.
        let censored = search(5000, maximum: 1000)
        #expect(censored.emc == 1000 && censored.status == .censored && censored.text == "≥ 1000")
        // The smallest failure ran out of budget: only a lower bound.
        let bounded = search(300, undecidedAbove: 300)
        #expect(bounded.status == .budgetBounded && bounded.text == "≥ \(bounded.emc)")
        // Undecided attempts above a converged failure do not matter.
        let decided = searchEMC(plan: SearchPlan(maximum: 1000), seed: 0) { n in fake(n, fits: n <= 300, undecided: n > 400) }
        #expect(decided.status == .measured)
    }

    @Test func lowerBoundsAreNeverComparedAsMeasurements() {
        func report(_ s: [EMCSearch]) -> EMCReport { EMCReport(arch: "mlp", parameters: 10, searches: s) }
        /// Three seeds around `t` (t − 10, t, t + 10), each its own search.
        func three(_ t: Int, undecided: Bool = false) -> EMCReport {
            report([t - 10, t, t + 10].enumerated().map { i, x in
                var s = search(x, undecidedAbove: undecided ? x : nil)
                s.seed = UInt64(i)
                return s
            })
        }
        let big = three(600), small = three(300), bigBound = three(600, undecided: true), smallBound = three(300, undecided: true)
        let censored = report((0..<3).map { i in
            var s = search(5000, maximum: 1000)
            s.seed = UInt64(i)
            return s
        })
        #expect(big.comparison(with: small).larger == true && small.comparison(with: big).larger == false)
        #expect(big.comparison(with: small).atCap == false)
        // Under one step cap, a budget-bounded EMC is the capped procedure's measured EMC: it
        // decides both ways, and the verdict says it is about the capped procedures.
        #expect(bigBound.comparison(with: small).larger == true && bigBound.comparison(with: small).atCap)
        #expect(smallBound.comparison(with: big).larger == false && big.comparison(with: smallBound).larger == true)
        #expect(smallBound.comparison(with: bigBound).larger == false && smallBound.comparison(with: bigBound).atCap)
        // The data's censoring is a bound whatever the cap: "larger" for itself, never "smaller".
        #expect(censored.comparison(with: big).larger == true && big.comparison(with: censored).larger == false)
        #expect(small.comparison(with: censored).larger == false && censored.comparison(with: small).atCap == false)
        // Under different caps a budget-bounded EMC is a lower bound again: a measurement above
        // it proves nothing (more steps might fit more), a bound above a measurement does.
        func capped(_ r: EMCReport, _ cap: Int) -> EMCReport {
            var r = r
            for i in r.searches.indices { r.searches[i].budgets = BudgetSchedule(first: 1, cap: cap) }
            return r
        }
        let smallBoundHigherCap = capped(smallBound, 8), bigBoundHigherCap = capped(bigBound, 8)
        #expect(smallBoundHigherCap.cap == 8 && big.cap == 1)
        #expect(big.comparison(with: smallBoundHigherCap).larger == nil && smallBoundHigherCap.comparison(with: big).larger == nil)
        #expect(bigBoundHigherCap.comparison(with: small).larger == true && bigBoundHigherCap.comparison(with: small).atCap == false)
        #expect(smallBoundHigherCap.comparison(with: bigBound).larger == nil)
        #expect(!censored.isMeasured && censored.text.hasPrefix("≥ ") && censored.status == "censored")
        #expect(report([search(300), search(5000, maximum: 1000)]).status == "mixed")
        #expect(big.isMeasured && big.status == "measured")
    }

    /// Comparisons across seeds: Welch's interval of the difference decides, and lower bounds
    /// only ever prove "larger" for themselves.
    @Test func comparisonsFollowTheirIntervals() throws {
        func report(_ thresholds: [Int], undecidedAbove: Bool = false) -> EMCReport {
            EMCReport(arch: "mlp", parameters: 10, searches: thresholds.enumerated().map { i, t in
                var s = search(t, undecidedAbove: undecidedAbove ? t : nil)
                s.seed = UInt64(i)
                return s
            })
        }
        let big = report([600, 620, 640]), small = report([300, 310, 290])
        let k = big.comparison(with: small)
        let interval = try #require(k.interval)
        #expect(k.larger == true && interval.lowerBound > 200 && interval.upperBound < 420, "\(interval)")
        #expect(small.comparison(with: big).larger == false)
        // Overlapping seeds: the interval holds 0 — inconclusive, whatever the means say.
        let close = report([300, 600, 450]), other = report([400, 420, 380])
        #expect(close.mean > other.mean && close.comparison(with: other).larger == nil)
        // One seed a side: no interval, no verdict.
        let one = report([600]).comparison(with: report([300]))
        #expect(one.larger == nil && one.interval == nil)
        // Budget-bounded under the same cap: compared as the capped procedures' EMCs.
        let bigBound = report([600, 620, 640], undecidedAbove: true)
        #expect(bigBound.comparison(with: small).larger == true)
        #expect(small.comparison(with: bigBound).larger == false)
        #expect(report([300, 310, 290], undecidedAbove: true).comparison(with: big).larger == false)
        #expect(report([300, 600, 450], undecidedAbove: true).comparison(with: other).larger == nil)
        #expect(big.interval.map { $0.contains(620) } == true && report([5]).interval == nil)
        // An EMC is a count: the README's three rings seeds (224, 108, 94) have the t-interval
        // 142 ± 4.303·71.4/√3 = [−35.3, 319.3], whose part below 0 cannot hold the mean; the
        // interval says [0, 319.3] (its coverage unchanged: the mean is never below 0).
        let spread = try #require(report([224, 108, 94]).interval)
        #expect(spread.lowerBound == 0 && abs(spread.upperBound - 319.3) < 0.05, "\(spread)")
        #expect(try #require(small.interval).lowerBound > 250, "a tight interval is left as it is")
    }

    /// A search whose smallest failure diverged: the procedure's EMC, compared as a measurement
    /// under any cap, and printed without ≥ but with what ended it.
    @Test func aDivergedEMCIsTheProceduresOwn() {
        func diverging(_ t: Int, seed: UInt64) -> EMCSearch {
            var s = searchEMC(plan: SearchPlan(maximum: 1000), seed: seed) { n in
                var r = fake(n, fits: n <= t)
                if n > t { r.verdict = .diverged }
                return r
            }
            s.budgets = BudgetSchedule(first: 1, cap: 8)
            return s
        }
        let s = diverging(300, seed: 0)
        #expect(s.status == .diverged && s.text == "\(s.emc) (diverged)" && s.emc <= 300 && s.firstFailure! > 300)
        let small = EMCReport(arch: "mlp", parameters: 10, searches: [290, 300, 310].enumerated().map { diverging($1, seed: UInt64($0)) })
        let big = EMCReport(arch: "mlp", parameters: 10, searches: [590, 600, 610].enumerated().map { i, t in
            var s = search(t)
            s.seed = UInt64(i)
            return s
        })
        #expect(small.diverged == 3 && small.isMeasured && small.status == "diverged" && small.cap == 8 && big.cap == 1)
        #expect(big.comparison(with: small).larger == true && small.comparison(with: big).larger == false)
        #expect(small.comparison(with: big).atCap == false)
    }

    @Test func labelsBeyondTheModelsOutputsAreRefusedBeforeTraining() throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 60, dim: 4, classes: 3, seed: 1)
        var p = FitProcedure(arch: "mlp:4-8-2:relu")
        p.train.maxSteps = 10
        do {
            _ = try measureEMC(data, procedure: p, seeds: [0], plan: SearchPlan(maximum: data.count))
            Issue.record("trained a 2-output model on 3 classes")
        } catch {
            #expect("\(error)".contains("labels up to 2") && "\(error)".contains("2 output"))
        }
        p.arch = "mlp:4-8-3:relu"
        #expect(try p.check(data) == 4 * 8 + 8 + 8 * 3 + 3)
    }
}
