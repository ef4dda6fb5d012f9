/// Ready-made recovery grids (llr.md, "Experiments"), each small enough for a laptop CPU.
public struct RecoveryPreset: Sendable {
    public var name: String
    public var summary: String
    public var target: TargetFunction
    public var rows: [RecoveryRow]
    public var sizes: [Int]
    public var seeds: Int

    public static let names = ["quick", "widths", "init-scale", "fig3", "fig3-full", "dropout", "end-rank"]

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
        case "fig3":
            return try fig3()
        case "fig3-full":
            return try fig3Full()
        case "dropout":
            return try dropout()
        case "end-rank":
            return try endRank()
        default:
            throw RecoveryError("unknown preset '\(name)'; use one of \(names.joined(separator: ", "))")
        }
    }

    /// JMLR Fig. 3 at the paper's widths ×1, ×3, ×10, ×34, ×100 and every n from 1 to 63, trained
    /// to convergence: full-batch GD with an adaptive step (gd-adaptive, first step 0.05), init
    /// std 1e-10 (the paper's variance 1e-20), up to 200,000 gradient evaluations, stopping at
    /// train MSE 1e-20 or a plateau. From train MSE 1e-5 on, Gauss–Newton steps take over toward
    /// the point GD converges to (GaussNewtonFinish.swift): GD alone spent most of the grid's
    /// time creeping from 1e-6 to 1e-8 at the cap (about 3 hours on two cores for the grid).
    static func fig3Full() throws -> RecoveryPreset {
        var p = try fig3()
        var q = RecoveryProcedure()
        q.method = .gdAdaptive; q.learningRate = 0.05; q.steps = 200_000; q.initStd = 1e-10
        q.finishBelow = 1e-5
        // Each family's target, from fig3's rows (three per family, one target).
        let targets = Dictionary(p.rows.map { ($0.label.split(separator: " ")[0], $0.familyTarget) }, uniquingKeysWith: { a, _ in a })
        p.rows = []
        for family in ["CNN", "local", "dense"] {
            for m in [1, 3, 10, 34, 100] {
                let student: String
                switch family {
                case "CNN": student = "conv1d:5-k3-c\(m)-1:tanh:nooutbias"
                case "local": student = "local1d:5-k3-c\(m)-1:tanh:nooutbias"
                default: student = "mlp:5-\(3 * m)-1:tanh:nooutbias"
                }
                p.rows.append(RecoveryRow(label: "\(family) ×\(m)", student: student, procedure: q, familyTarget: targets[Substring(family)] ?? nil))
            }
        }
        p.name = "fig3-full"
        p.summary = "JMLR Fig. 3 at widths ×1, ×3, ×10, ×34, ×100, n = 1…63, trained to convergence (adaptive-step GD, then Gauss–Newton from train MSE 1e-5)"
        p.sizes = Array(1...63)
        return p
    }

    /// JMLR Fig. 3: f*(x) = Σ_{s=1..3} tanh(0.6 x_s + 0.8 x_{s+1} + x_{s+2}) on x ∈ R⁵, learned by
    /// two-layer tanh students with hidden biases (no output bias) that share the kernel (1-D
    /// CNN, O = 7), have one per window (locally connected, O = 15) or are fully connected
    /// (O = 21), at 1, 3 and 10 times the target's width.
    static func fig3() throws -> RecoveryPreset {
        let k = [0.6, 0.8, 1.0]
        let cnn = try TargetFunction(name: "Σ_s tanh(0.6x_s + 0.8x_{s+1} + x_{s+2}), x ∈ R⁵", spec: "conv1d:5-k3-c1-1:tanh:nooutbias",
                                     theta: k + [0] + [1, 1, 1])
        let local = try TargetFunction(name: cnn.name, spec: "local1d:5-k3-c1-1:tanh:nooutbias", theta: k + k + k + [0, 0, 0] + [1, 1, 1])
        let dense = try TargetFunction(name: cnn.name, spec: "mlp:5-3-1:tanh:nooutbias",
                                       theta: [0.6, 0.8, 1, 0, 0, 0, 0.6, 0.8, 1, 0, 0, 0, 0.6, 0.8, 1] + [0, 0, 0] + [1, 1, 1])
        // Adam: full-batch GD needs a step size per architecture here (lr 0.5 diverges for the
        // wide students, lr 0.1 stalls the narrow ones); the paper tuned it in 0.05–0.5.
        var p = RecoveryProcedure()
        p.method = .adam; p.learningRate = 0.003; p.steps = 100_000; p.initStd = 1e-10
        var rows = [RecoveryRow]()
        for (family, target) in [("CNN", cnn), ("local", local), ("dense", dense)] {
            for m in [1, 3, 10] {
                let student: String
                switch family {
                case "CNN": student = "conv1d:5-k3-c\(m)-1:tanh:nooutbias"
                case "local": student = "local1d:5-k3-c\(m)-1:tanh:nooutbias"
                default: student = "mlp:5-\(3 * m)-1:tanh:nooutbias"
                }
                rows.append(RecoveryRow(label: "\(family) ×\(m)", student: student, procedure: p, familyTarget: target))
            }
        }
        return RecoveryPreset(name: "fig3", summary: "JMLR Fig. 3: a 1-D CNN target (O = 7 / 15 / 21 for CNN / locally connected / dense students) at widths ×1, ×3, ×10",
                              target: cnn, rows: rows, sizes: [3, 5, 7, 9, 12, 15, 18, 21, 25, 30, 40], seeds: 3)
    }

    /// JMLR Fig. 4: f*(x) = tanh(x − 7) + tanh(x) + tanh(x + 7) for x uniform on [−15, 14], a
    /// student of width 300 with hidden biases (no output bias; O = 3·(1 + 2) = 9), full-batch
    /// Adam with and without dropout 0.1 after the hidden layer, trained to convergence: until the
    /// train MSE (without dropout) reaches 1e-20 or its best stops falling by 1% per 50,000
    /// steps, at most 400,000. Each run's condensation is measured at the end.
    static func dropout() throws -> RecoveryPreset {
        let target = try TargetFunction(name: "tanh(x − 7) + tanh(x) + tanh(x + 7), x ∈ [−15, 14]", spec: "mlp:1-3-1:tanh:nooutbias",
                                        theta: [1, 1, 1] + [-7, 0, 7] + [1, 1, 1], inputRange: -15...14)
        var plain = RecoveryProcedure()
        plain.method = .adam; plain.learningRate = 0.003; plain.steps = 400_000; plain.initStd = 1e-3
        plain.stopOnPlateau = true; plain.plateauWindow = 50_000; plain.plateauDecrease = 0.01
        var dropped = plain
        dropped.dropout = 0.1
        let student = "mlp:1-300-1:tanh:nooutbias"
        return RecoveryPreset(name: "dropout", summary: "JMLR Fig. 4: three shifted tanh steps (O = 9), width 300, Adam with and without dropout 0.1, to convergence",
                              target: target,
                              rows: [RecoveryRow(label: "no dropout", student: student, procedure: plain),
                                     RecoveryRow(label: "dropout 0.1", student: student, procedure: dropped)],
                              sizes: [6, 9, 12, 15, 20, 25, 30, 40], seeds: 3)
    }

    /// The rank of the minimum reached (issue #22 item 4): the quick target (O = 6) learned by
    /// width-20 students under full-batch GD (its step set by the bold driver, so that it
    /// converges within the budget), mini-batch SGD and Adam, each from a small (std 1e-8) and a
    /// large (std 1) initialization, every run stopping at train MSE 1e-20 or a plateau; the
    /// trained students' tangent spectra are what this preset is for.
    static func endRank() throws -> RecoveryPreset {
        let teacher = try TargetFunction.tanhTeacher(inputs: 2, width: 2)
        var rows = [RecoveryRow]()
        for (method, lr) in [(RecoveryProcedure.Method.gdAdaptive, 0.05), (.sgd, 0.03), (.adam, 0.003)] {
            for std in [1e-8, 1.0] {
                var p = quickProcedure()
                p.method = method; p.learningRate = lr; p.initStd = std; p.steps = 300_000
                p.stopOnPlateau = true; p.plateauWindow = 30_000; p.plateauDecrease = 0.01
                let name = method == .gdAdaptive ? "GD" : method == .sgd ? "SGD" : "Adam"
                rows.append(RecoveryRow(label: "\(name) init \(std == 1 ? "1" : "1e-8")", student: "mlp:2-20-1:tanh:nobias", procedure: p))
            }
        }
        return RecoveryPreset(name: "end-rank", summary: "the quick target (O = 6) by GD, SGD (batches of 4) and Adam from small and large initializations: the trained students' tangent ranks",
                              target: teacher, rows: rows, sizes: [2, 4, 6, 8, 10, 12, 16, 20, 30], seeds: 3)
    }
}
