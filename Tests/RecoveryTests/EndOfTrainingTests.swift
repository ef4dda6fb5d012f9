import Foundation
import Linalg
import NeuralNets
import Recovery
import Testing

/// The end-of-training measures on hand-made spectra and students whose rank is known.
@Suite struct EndOfTrainingTests {
    /// σ = (4, 2, 1e-7, 1e-12) on a 4 × 4 matrix: two values above 1e-3·σ₁ and 1e-6·σ₁, three
    /// above 1e-9·σ₁; the largest drop is 2 → 1e-7 (2e7), beyond 1e-12 over the rounding floor
    /// 4·ε·4 ≈ 3.6e-15 (≈ 280) and 1e-7 → 1e-12 (1e5).
    @Test func handMadeSpectrum() throws {
        let s = TangentSpectrum(inputs: 4, parameters: 4, singularValues: [4, 2, 1e-7, 1e-12])
        #expect(s.rank(relative: 1e-3) == 2 && s.rank(relative: 1e-6) == 2 && s.rank(relative: 1e-9) == 3 && s.rank(relative: 1e-14) == 4)
        let drop = try #require(s.largestDrop)
        #expect(drop.rank == 2 && abs(drop.ratio - 2e7) < 1e-3)
        #expect(TangentSpectrum(inputs: 3, parameters: 5, singularValues: [0, 0, 0]).largestDrop == nil)
        #expect(TangentSpectrum(inputs: 3, parameters: 5, singularValues: [0, 0, 0]).rank(relative: 1e-6) == 0)
        var zero = [Double](repeating: 0, count: 15)
        #expect(try TangentSpectrum(tangent: &zero, rows: 3, cols: 5).singularValues == [0, 0, 0])
    }

    /// A student of width 20 holding the quick teacher (two tanh neurons, no biases, d = 2) in
    /// two neurons and zeros elsewhere computes the teacher, and its tangent matrix has the
    /// teacher's rank O = 6 (three directions per live neuron; the null neurons' columns are
    /// zero). Splitting a neuron into two with the same weights (output weights summing to its
    /// own) leaves the rank at 6 — the critical embedding; two neurons along one direction at
    /// different norms are two functions, 9 directions. The condensation sees the same neurons:
    /// 2 groups in the first two students, and still 2 in the third, which |cos| cannot tell apart.
    @Test func embeddedAndSplitTeachersHaveTheirKnownRanks() throws {
        let teacher = try TargetFunction.tanhTeacher(inputs: 2, width: 2)
        #expect(try teacher.rank().modelRank == 6)
        let w1 = Array(teacher.theta[0..<2]), w2 = Array(teacher.theta[2..<4])
        func student(_ neurons: [([Double], Double)]) throws -> Network<Double> {
            var net = try Network<Double>(spec: "mlp:2-20-1:tanh:nobias")
            var theta = [Double](repeating: 0, count: net.parameterCount)
            for (i, (w, a)) in neurons.enumerated() {
                theta[2 * i] = w[0]; theta[2 * i + 1] = w[1]; theta[40 + i] = a
            }
            net.parameters = theta
            return net
        }
        var g = RNG(seed: 5)
        let x = Tensor<Double>(shape: [300, 2], scalars: g.normals(600))
        let embedded = try endOfTraining(try student([(w1, 1), (w2, 1)]), inputs: x)
        let split = try endOfTraining(try student([(w1, 0.3), (w2, 1), (w1, 0.7)]), inputs: x)
        let scaled = try endOfTraining(try student([(w1, 1), (w2, 1), (w1.map { 1.5 * $0 }, 0.5)]), inputs: x)
        for (m, rank) in [(embedded, 6), (split, 6), (scaled, 9)] {
            let s = try #require(m.spectrum)
            #expect(s.inputs == 70 && s.parameters == 60, "M + 10 inputs: \(s.inputs)")
            #expect(s.rank(relative: 1e-9) == rank && s.largestDrop?.rank == rank, "\(s.singularValues.prefix(rank + 2))")
            #expect(s.largestDrop!.ratio > 1e8)
            let c = try #require(m.condensation)
            #expect(c.clusters == 2 && c.majorClusters == 2 && c.silent == 20 - c.neurons)
        }
        // The embedded student computes the teacher: same outputs, to rounding.
        let f = try student([(w1, 1), (w2, 1)]).predict(x).scalars, t = try teacher.evaluate(x)
        #expect(zip(f, t).allSatisfy { abs($0 - $1) < 1e-14 })
    }

    /// A trained run carries its measures; a CNN student (no dense first layer) a spectrum only.
    @Test func runsCarryTheirMeasures() throws {
        var p = RecoveryProcedure()
        p.steps = 2000
        let t = try TargetFunction.tanhTeacher(inputs: 2, width: 1)
        let run = try recoveryRun(student: "mlp:2-4-1:tanh:nobias", target: t, n: 3, seed: 1, procedure: p)
        // M = 12 parameters: M + 10 inputs, min(22, 12) singular values.
        #expect(run.measures?.spectrum?.inputs == 22 && run.measures?.spectrum?.singularValues.count == 12)
        let c = try #require(run.measures?.condensation)
        #expect(c.neurons + c.silent == 4)
        let fig3 = try RecoveryPreset.named("fig3")
        let cnn = try recoveryRun(student: "conv1d:5-k3-c2-1:tanh:nooutbias", target: fig3.target, n: 3, seed: 0, procedure: p)
        #expect(cnn.measures?.spectrum != nil && cnn.measures?.condensation == nil)
    }
}
