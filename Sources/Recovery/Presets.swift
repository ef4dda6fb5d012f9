/// Ready-made recovery grids (llr.md, "Experiments"), each small enough for a laptop CPU.
public struct RecoveryPreset: Sendable {
    public var name: String
    public var summary: String
    public var target: TargetFunction
    public var rows: [RecoveryRow]
    public var sizes: [Int]
    public var seeds: Int

    public static let names = ["quick", "widths", "init-scale"]

    /// The quick default of llr.md: two-layer tanh without biases, d = 2, teacher of width 2
    /// (‖w‖ = 2, a = 1), student width 20 (M = 60, O = 6), init std 1e-8, full-batch GD lr 0.3.
    static func quickProcedure() -> RecoveryProcedure {
        var p = RecoveryProcedure()
        p.method = .gd; p.learningRate = 0.3; p.steps = 300_000; p.initStd = 1e-8
        return p
    }

    public static func named(_ name: String) throws -> RecoveryPreset {
        let teacher = try TargetFunction.tanhTeacher(inputs: 2, width: 2)
        let p = quickProcedure()
        switch name {
        case "quick":
            return RecoveryPreset(name: name, summary: "d = 2, teacher width 2 (O = 6), student width 20 (M = 60)",
                                  target: teacher, rows: [RecoveryRow(label: "width 20", student: "mlp:2-20-1:tanh:nobias", procedure: p)],
                                  sizes: [2, 4, 5, 6, 7, 8, 10, 12], seeds: 3)
        case "widths":
            return RecoveryPreset(name: name, summary: "the quick target in students 10× apart in width (M = 60 and 600): O does not change",
                                  target: teacher,
                                  rows: [20, 200].map { RecoveryRow(label: "width \($0)", student: "mlp:2-\($0)-1:tanh:nobias", procedure: p) },
                                  sizes: [4, 5, 6, 7, 8, 10, 12, 16], seeds: 3)
        case "init-scale":
            // A smaller step than the quick preset's, which diverges from std 1; the same for both rows.
            var small = p, large = p
            small.learningRate = 0.03; large.learningRate = 0.03
            large.initStd = 1
            return RecoveryPreset(name: name, summary: "the quick target from a small (std 1e-8) and a large (std 1) initialization, GD lr 0.03",
                                  target: teacher,
                                  rows: [RecoveryRow(label: "init std 1e-8", student: "mlp:2-20-1:tanh:nobias", procedure: small),
                                         RecoveryRow(label: "init std 1", student: "mlp:2-20-1:tanh:nobias", procedure: large)],
                                  sizes: [4, 6, 8, 10, 12, 16, 24, 32], seeds: 3)
        default:
            throw RecoveryError("unknown preset '\(name)'; use one of \(names.joined(separator: ", "))")
        }
    }
}
