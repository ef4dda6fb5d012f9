import Linalg
import Testing

@Suite struct StatisticsTests {
    @Test func pearsonAndKendallOnHandCases() {
        #expect(abs(pearson([1, 2, 3, 4], [2, 4, 6, 8])! - 1) < 1e-15)
        #expect(abs(pearson([1, 2, 3, 4], [8, 6, 4, 2])! + 1) < 1e-15)
        // x = 1…5, y = (2, 1, 4, 3, 5): Σ(dx·dy) = 8, Σdx² = Σdy² = 10 → r = 0.8.
        #expect(abs(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])! - 0.8) < 1e-15)
        // Same data: 10 pairs, 2 discordant ((1,2) and (3,4)) → τ = (8 − 2)/10 = 0.6.
        #expect(abs(kendallTau([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])! - 0.6) < 1e-15)
        // Ties: x = (1, 1, 2), y = (1, 2, 3): pairs (1,3), (2,3) concordant, (1,2) tied in x → τ-b = 2/√(3·2).
        #expect(abs(kendallTau([1, 1, 2], [1, 2, 3])! - 2 / 6.0.squareRoot()) < 1e-15)
        #expect(pearson([1, 1, 1], [1, 2, 3]) == nil && kendallTau([1], [1]) == nil)
    }

    @Test func lineFitWithInterval() {
        let exact = fitLine([0, 1, 2, 3], [1, 3, 5, 7])!
        #expect(exact.slope == 2 && exact.intercept == 1 && exact.slopeStandardError == 0)
        // y = (0, 1, 1, 3) on x = 0…3: slope 0.9, intercept −0.1, residuals (0.1, 0.2, −0.7, 0.4):
        // RSS 0.7, s² = 0.35, SE = √(0.35/5), t(2) = 4.303.
        let f = fitLine([0, 1, 2, 3], [0, 1, 1, 3])!
        #expect(abs(f.slope - 0.9) < 1e-12 && abs(f.intercept + 0.1) < 1e-12)
        #expect(abs(f.slopeStandardError - (0.35 / 5).squareRoot()) < 1e-12)
        #expect(abs(f.slopeInterval.upperBound - (0.9 + 4.303 * (0.07).squareRoot())) < 1e-12)
        #expect(abs(studentT975(degreesOfFreedom: 60) - 2.000) < 2e-3 && abs(studentT975(degreesOfFreedom: 120) - 1.980) < 1e-3)
    }
}
