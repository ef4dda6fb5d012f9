import Capacity
import Datasets
import Linalg
import Testing

/// The search on problems whose answer is known in closed form: linear classifiers (with bias)
/// in d dimensions, trained by the same fit attempts as any network.
@Suite struct KnownCapacityTests {
    let d = 4

    func procedure() -> FitProcedure {
        var p = FitProcedure(arch: "mlp:\(d)-2:linear")
        p.train.optimizer = .sgd(momentum: 0.9); p.train.learningRate = 0.5; p.train.batchSize = nil
        p.train.maxSteps = 20000
        return p
    }

    func plan(_ maximum: Int) -> SearchPlan {
        var plan = SearchPlan(maximum: maximum)
        plan.start = 2
        plan.precision = 0
        return plan
    }

    /// Gaussian points (in general position with probability 1) with the given labels.
    func points(_ n: Int, seed: UInt64, label: ([Double]) -> Int) -> LabeledData<Float> {
        var r = RNG(seed: seed)
        let x: [Double] = r.normals(n * d)
        let labels = (0..<n).map { label(Array(x[$0 * d..<($0 + 1) * d])) }
        return LabeledData(x: Tensor(shape: [n, d], scalars: x.map(Float.init)), labels: labels, classes: 2)
    }

    /// Cover's function counting theorem: n points in general position in d dimensions, with a
    /// bias (D = d + 1 free weights), have C(n, D) = 2 Σ_{k<D} binom(n−1, k) separable labelings
    /// out of 2ⁿ. For nested prefixes P(EMC ≥ n) = C(n, D)/2ⁿ, so its mean is Σ_n of that.
    func coverSeparable(_ n: Int, _ D: Int) -> Double {
        var binom = 1.0, total = 0.0
        for k in 0..<min(D, n) {
            total += binom
            binom = binom * Double(n - 1 - k) / Double(k + 1)
        }
        return total / Double(1 << (n - 1))
    }

    @Test func randomLabelsFollowCoversTheorem() throws {
        let n = 40, D = d + 1, trials = 24
        // Independent data sets (not one set under many orders), so the EMCs are independent draws.
        var emcs = [Int](), undecided = 0, attempts = 0
        for t in 0..<trials {
            var coin = RNG(seed: 1000 + UInt64(t))
            let data = points(n, seed: UInt64(t)) { _ in coin.int(below: 2) }
            let report = try measureEMC(data, procedure: procedure(), seeds: [UInt64(t)], plan: plan(n))
            let s = report.searches[0]
            // Every labeling of up to d + 1 points is separable: no attempt there may fail.
            #expect(s.emc >= D, "trial \(t): EMC \(s.emc) below d + 1")
            #expect(s.attempts.filter { $0.n <= D }.allSatisfy { $0.verdict == .fit })
            emcs.append(s.emc)
            // Near-separable sets that are not separable converge slowly (the logistic optimum is
            // far out); the verdict then says `undecided` rather than guess, only above the EMC.
            #expect(s.attempts.filter { $0.verdict == .undecided }.allSatisfy { $0.n > s.emc })
            undecided += s.undecided
            attempts += s.attempts.count
        }
        let measured = Double(emcs.reduce(0, +)) / Double(trials)
        let p = (1...n).map { coverSeparable($0, D) }
        let mean = p.reduce(0, +)
        var variance = 0.0
        for m in 1...n { variance += Double(2 * m - 1) * p[m - 1] }   // E[X²] = Σ (2m−1) P(X ≥ m)
        variance -= mean * mean
        #expect(abs(mean - 2 * Double(D)) < 0.2, "Cover's mean capacity is about 2(d + 1): \(mean)")
        let standardError = (variance / Double(trials)).squareRoot()
        #expect(abs(measured - mean) < 3.5 * standardError, "measured \(measured) (\(emcs)) vs Cover \(mean) ± \(standardError)")
        #expect(undecided * 20 <= attempts, "\(undecided) of \(attempts) attempts undecided")
    }

    @Test func labelsOfALinearTeacherAreAlwaysFitted() throws {
        let n = 150
        let w = [0.8, -1.1, 0.4, 1.5], b = 0.3
        let data = points(n, seed: 11) { x in zip(w, x).map { $0 * $1 }.reduce(b, +) > 0 ? 1 : 0 }
        let report = try measureEMC(data, procedure: procedure(), seeds: [0, 1, 2], plan: plan(n))
        #expect(report.perSeed == [n, n, n], "\(report.searches.map { $0.attempts.map { "\($0.n):\($0.verdict)" } })")
    }
}
