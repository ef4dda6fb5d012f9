import NeuralNets

// How tight is the parameter-count bound on a deep net's model rank (issue #22, item 5)? llr.md
// gives for deep nets only an upper bound: at a narrow teacher null-embedded in a wider student,
// the rank is at most the narrow net's parameter count (d·m′₁ + m′₁m′₂ + … + m′_{L−1}, plus its
// biases). Here: many random narrow teachers of two and three hidden layers, tanh and sigmoid,
// with and without biases, each embedded in a student of width 12, their ranks against that
// bound — and against the count with a bias added to every layer after the first, which is
// what a null neuron supplies when σ(0) ≠ 0 (its constant output σ(0) feeds the next layer like
// a bias, and the output layer's like an output bias).

/// One (teacher, student) configuration over several seeds.
public struct DeepRankRow: Sendable, Codable {
    public var student: String
    public var teacher: [Int]
    public var activation: String
    public var bias: Bool
    /// The model rank at each seed's teacher.
    public var ranks: [Int]
    /// Each rank's gap σ_r/σ_{r+1} (nil: no singular value below the cut); a small one
    /// (< RankReport.smallGap) makes that rank a judgement call.
    public var gaps: [Double?]
    /// The narrow teacher's parameter count: llr.md's bound.
    public var bound: Int
    /// The same count with a bias on every layer after the first (= bound when the net has biases).
    public var boundWithLaterBiases: Int
}

/// Teachers of hidden widths `teachers` (each list one depth), embedded in students of width
/// `width` on `inputs` inputs, `seeds` random teachers each, for tanh and sigmoid, with and
/// without biases.
public func deepRankStudy(teachers: [[Int]] = DeepRankStudy.teachers, inputs d: Int = 5, width: Int = 12,
                          seeds: Int = 5) throws -> [DeepRankRow] {
    guard seeds >= 1 else { throw RecoveryError("the study needs at least one seed") }
    var rows = [DeepRankRow]()
    for t in teachers {
        guard !t.isEmpty, t.allSatisfy({ $0 >= 1 && $0 <= width }) else {
            throw RecoveryError("teacher widths \(t) must lie in 1…\(width)")
        }
        for activation in ["tanh", "sigmoid"] {
            for bias in [true, false] {
                let suffix = ":\(activation)" + (bias ? "" : ":nobias")
                let student = "mlp:\(d)-" + Array(repeating: "\(width)", count: t.count).joined(separator: "-") + "-1" + suffix
                let narrow = "mlp:\(d)-" + t.map(String.init).joined(separator: "-") + "-1" + suffix
                let bound = try Network<Double>(spec: narrow).parameterCount
                let later = bias ? bound : bound + t.dropFirst().reduce(0, +) + 1
                let target = "teacher:" + t.map(String.init).joined(separator: "-")
                let reports = try (0..<seeds).map { try modelRank(spec: student, target: target, seed: UInt64($0)) }
                rows.append(DeepRankRow(student: student, teacher: t, activation: activation, bias: bias, ranks: reports.map(\.modelRank),
                                        gaps: reports.map(\.gap), bound: bound, boundWithLaterBiases: later))
            }
        }
    }
    return rows
}

extension DeepRankRow {
    /// Teachers whose rank is a judgement call (a small gap at the cut).
    public var unclear: Int { gaps.filter { ($0 ?? .infinity) < RankReport.smallGap }.count }
}

public enum DeepRankStudy {
    /// Two hidden layers (three layers of weights) and three.
    public static let teachers: [[Int]] = [[1, 1], [2, 1], [2, 2], [3, 2], [4, 3], [3, 3], [2, 2, 2], [3, 2, 2], [3, 3, 2], [4, 3, 2]]
}
