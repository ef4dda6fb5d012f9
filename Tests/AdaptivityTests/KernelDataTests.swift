import Adaptivity
import Foundation
import Linalg
import Testing

// The adaptive kernel on a user's data: held-out errors, a stop read off validation, the
// learned weights. Checked against the exact error of the torus target, on hand-made cases.

@Suite struct KernelDataTests {
    /// Each coordinate's training range goes onto [−0.9, 0.9]; a constant coordinate to 0.
    @Test func scalingMapsTheTrainingRangeOntoTheTorus() {
        let x: [Double] = [0, 5, 1, 10, 5, 1, 5, 7, 1]   // three points, d = 3
        let map = TorusScaling(fitting: x, dimension: 3)
        #expect(map.low == [0, 5, 1] && map.high == [10, 7, 1])
        let y = map.apply(x)
        #expect(y == [-0.9, -0.9, 0, 0.9, -0.9, 0, 0, 0.9, 0])
        #expect(map.apply([20, 6, 3]) == [2.7, 0, 0])   // outside the range: the same affine map
    }

    /// Splits are disjoint, cover the data, have the stated sizes and depend only on the index.
    @Test func splitsAreDisjointAndDeterministic() {
        let s = KernelDataSettings()
        #expect(s.splitSizes(23) == (13, 5, 5))
        let a = kernelDataSplit(count: 23, settings: s, index: 0)
        #expect(a.train.count == 13 && a.validation.count == 5 && a.test.count == 5)
        #expect(Set(a.train + a.validation + a.test) == Set(0..<23))
        let again = kernelDataSplit(count: 23, settings: s, index: 0), other = kernelDataSplit(count: 23, settings: s, index: 1)
        #expect(again.test == a.test && again.train == a.train && other.test != a.test)
    }

    /// Samples of 3 + sin(7.5πx₁) + σξ on the torus, used as given: at the stop the held-out
    /// MSE estimates ‖f − f*‖² + σ², where ‖f − f*‖² is exact from the stored coefficients (in the
    /// data's units, the mean on the constant). 3,000 test points put the estimate within a few
    /// per cent; a lost mean would add 9, a lost scale far more.
    @Test func theHeldOutErrorIsTheExactErrorPlusTheNoise() throws {
        var s = KernelDataSettings()
        s.cutoff = 6; s.scaleInputs = false; s.splits = 2; s.validationFraction = 0.1; s.testFraction = 0.75
        s.times = TimeGrid(from: 1, to: 300, perDecade: 6)
        let basis = try TorusBasis(dimension: 2, cutoff: s.cutoff)
        let target = TorusTarget.sine(omega: 7.5, basis: basis)
        var g = RNG(seed: 5)
        let n = 4000, sigma = 0.5
        let x = (0..<(2 * n)).map { _ in 2 * g.uniform() - 1 }
        let y = (0..<n).map { 3 + target.evaluate(Array(x[(2 * $0)..<(2 * $0 + 2)])) + sigma * g.normal() }
        let r = try measureKernelOnData(x: x, y: y, dimension: 2, settings: s, workers: 2)
        let constant = try #require(basis.frequencies.firstIndex { $0.allSatisfy { $0 == 0 } })
        for m in r.methods {
            for run in m.runs {
                #expect(run.test.count == s.times.times.count && run.train.count == run.test.count)
                #expect(run.stop == run.validation.indices.min { run.validation[$0] < run.validation[$1] }!)
                var c = run.coefficients
                c[constant] -= 3
                let expected = target.error(of: c) + sigma * sigma
                #expect(abs(run.test[run.stop] - expected) < 0.06 * expected, "\(m.method): \(run.test[run.stop]) vs \(expected)")
            }
        }
        // Baseline: predicting the training mean costs ‖f*‖² + σ² (f* has mean ≈ 0 on the torus).
        let base = target.normSquared + sigma * sigma
        #expect(r.baselineErrors.allSatisfy { abs($0 - base) < 0.06 * base }, "\(r.baselineErrors) vs \(base)")
    }

    /// y = sin(3πx₁) + noise lies on one basis function: the adaptive kernels' weight grows most
    /// there (sin, m = (3, 0)), and they end below the fixed kernel's test error.
    @Test func anAdaptiveKernelGrowsOnTheFrequencyInTheData() throws {
        var s = KernelDataSettings()
        s.cutoff = 5; s.scaleInputs = false; s.splits = 3
        var g = RNG(seed: 9)
        let n = 500
        let x = (0..<(2 * n)).map { _ in 2 * g.uniform() - 1 }
        let y = (0..<n).map { Double.sin(3 * .pi * x[2 * $0]) + 0.3 * g.normal() }
        let r = try measureKernelOnData(x: x, y: y, dimension: 2, settings: s, workers: 2)
        let sine3 = try #require(r.basis.frequencies.indices.first { r.basis.frequencies[$0] == [3, 0] && r.basis.isSine[$0] })
        #expect(r.growth(0).allSatisfy { abs($0 - 1) < 1e-12 })   // the fixed kernel keeps λ^(1/2)
        for k in 1..<r.methods.count {
            let gk = r.growth(k)
            #expect(gk.indices.max { gk[$0] < gk[$1] } == sine3, "\(r.methods[k].method)")
            #expect(meanInterval(r.methods[k].testErrors).mean < meanInterval(r.methods[0].testErrors).mean)
        }
    }

    /// Six inputs, a target that adds two functions of one input each: order 1 (73 functions at
    /// cutoff 6, where the grid would need 13⁶) fits it to near the noise, far below the mean's
    /// error, and the adaptive kernel grows most on the target's two functions.
    @Test func orderOneFitsAnAdditiveTargetInSixDimensions() throws {
        var s = KernelDataSettings()
        s.cutoff = 6; s.maxOrder = 1; s.scaleInputs = false; s.splits = 2; s.methods = [.fixed, .adaptive(depth: 1)]
        var g = RNG(seed: 3)
        let n = 800, d = 6
        let x = (0..<(d * n)).map { _ in 2 * g.uniform() - 1 }
        let y = (0..<n).map { Double.sin(2 * .pi * x[d * $0 + 1]) + Double.cos(.pi * x[d * $0 + 4]) + 0.2 * g.normal() }
        let r = try measureKernelOnData(x: x, y: y, dimension: d, settings: s, workers: 2)
        #expect(r.basis.count == 73)
        let test = meanInterval(r.methods[1].testErrors).mean, base = meanInterval(r.baselineErrors).mean
        #expect(test < 0.1 && base > 0.9, "test \(test), baseline \(base)")
        // The two functions of the target, sin(2πx₂) and cos(πx₅), grew most.
        let grown = r.growth(1), top = grown.indices.sorted { grown[$0] > grown[$1] }.prefix(2)
        let named = Set(top.map { "\(r.basis.isSine[$0] ? "sin" : "cos") \(r.basis.frequencies[$0])" })
        #expect(named == ["sin [0, 2, 0, 0, 0, 0]", "cos [0, 0, 0, 0, 1, 0]"], "\(named)")
    }

    @Test func badSettingsAreRefusedBeforeAnyWork() {
        let x = [Double](repeating: 0.1, count: 6), y = [1.0, 2, 3]
        #expect(throws: AdaptivityError("3 samples give 1 for training, 1 for validation and 1 for testing: each needs at least one (training two)")) {
            _ = try measureKernelOnData(x: x, y: y, dimension: 2, settings: KernelDataSettings())
        }
        var s = KernelDataSettings()
        s.validationFraction = 0.5; s.testFraction = 0.5
        #expect(throws: AdaptivityError.self) { _ = try measureKernelOnData(x: x, y: y, dimension: 2, settings: s) }
        s = KernelDataSettings()
        s.cutoff = 8
        let wide = [Double](repeating: 0, count: 6 * 10)
        do {
            _ = try measureKernelOnData(x: wide, y: [Double](repeating: 0, count: 10), dimension: 6, settings: s)
            Issue.record("17⁶ basis functions accepted")
        } catch {
            #expect("\(error)".contains("lower --cutoff or --order"), "\(error)")
        }
        #expect(throws: AdaptivityError.self) { _ = try measureKernelOnData(x: [1, 2], y: y, dimension: 1, settings: KernelDataSettings()) }
    }
}
