import Linalg
import Testing

/// Reference values from SciPy 1.17 (`scipy.stats.t.ppf`, `ttest_ind(equal_var=False)`,
/// `norm.ppf`), computed outside this code.
@Suite struct IntervalTests {
    @Test func welchIntervalMatchesSciPy() throws {
        // Welch's example data (two samples of 15 with unequal variances): t = −2.4554, df = 24.99.
        let a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
        let b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
        let i = try #require(differenceInterval(a, b))
        #expect(abs(i.lowerBound - -3.98790) < 1e-3 && abs(i.upperBound - -0.34543) < 1e-3, "\(i)")
        #expect(differenceInterval([1], [2, 3]) == nil, "one value has no interval")
        #expect(differenceInterval([5, 5], [2, 2]) == 3...3)
        // The interval is antisymmetric in its sides.
        let j = try #require(differenceInterval(b, a))
        #expect(abs(j.lowerBound + i.upperBound) < 1e-12 && abs(j.upperBound + i.lowerBound) < 1e-12)
    }

    @Test func meanAndFisherIntervalsMatchSciPy() throws {
        let m = meanInterval([224, 108, 94])
        let i = try #require(m.interval)
        // The t table has three decimals (4.303 for SciPy's 4.30265): agreement to 1e-4 of the half-width.
        #expect(m.mean == 142 && abs(i.lowerBound - -35.2637) < 0.02 && abs(i.upperBound - 319.2637) < 0.02, "\(i)")
        #expect(meanInterval([7]).interval == nil)
        // A count or an MSE: the same interval from 0 (the mean unchanged); an interval above
        // the floor is untouched.
        let counts = meanInterval([224, 108, 94], atLeast: 0)
        #expect(counts.mean == 142 && counts.interval?.lowerBound == 0 && counts.interval?.upperBound == i.upperBound)
        #expect(meanInterval([10, 12, 14], atLeast: 0).interval == meanInterval([10, 12, 14]).interval)
        #expect(meanInterval([1e-3, 5e-2], atLeast: 0).interval?.lowerBound == 0)
        let f = try #require(pearsonInterval(r: 0.6, n: 10))
        #expect(abs(f.lowerBound - -0.047614) < 1e-5 && abs(f.upperBound - 0.892472) < 1e-5, "\(f)")
        #expect(pearsonInterval(r: 0.6, n: 3) == nil)
    }

    @Test func kendallIntervalCoversAndNarrowsWithMorePoints() throws {
        // A perfectly monotone relation: every resample has τ = 1.
        let xs = (0..<12).map(Double.init)
        #expect(kendallInterval(xs, xs.map { 2 * $0 + 1 }) == 1...1)
        // A noisy increasing relation: the interval holds the sample τ, and 60 points give a
        // narrower interval than 15 drawn from the same relation.
        var rng = RNG(seed: 5)
        let x = (0..<60).map { _ in rng.uniform() }, y = x.map { $0 + 0.5 * rng.uniform() }
        let small = try #require(kendallInterval(Array(x.prefix(15)), Array(y.prefix(15))))
        let large = try #require(kendallInterval(x, y))
        let tauLarge = try #require(kendallTau(x, y)), tauSmall = try #require(kendallTau(Array(x.prefix(15)), Array(y.prefix(15))))
        #expect(large.contains(tauLarge) && small.contains(tauSmall))
        #expect(large.upperBound - large.lowerBound < small.upperBound - small.lowerBound)
        #expect(large.lowerBound > 0)
        #expect(kendallInterval([1, 2, 3], [1, 2, 3]) == nil)
    }
}
