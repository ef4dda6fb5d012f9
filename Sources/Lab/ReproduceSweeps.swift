/// The capacity sweeps of `overparam reproduce`, one YAML file each, as each preset runs them.
/// Every sweep of a preset measures on one data set with one procedure — full-batch SGD with
/// momentum 0.9 and a cosine schedule, the attempt's budget doubled up to the cap while undecided
/// — so that EMCs under one cap compare as the capped procedure's (`EMCReport.comparison`).
/// Quick: Fashion-MNIST averaged to 7×7 (60,000 images: no EMC here comes near them, so none is
/// censored by the data). Full: the architecture families at 14×14, where their EMCs reach the
/// thousands, and the other sweeps at 7×7. Smoke: the 8×8 digits at toy budgets, every sweep of
/// the full preset, so that the tests run each finding's code.

/// The data of a capacity sweep, and model names for its image size.
struct CapacityScale {
    let data: String, downsample: Int, side: Int
    var channels = 1
    var inputs: Int { side * side * channels }
    var image: String { "\(side)x\(side)x\(channels)" }
    /// How the report names the data.
    var label: String {
        data == "digits" ? "the 8×8 digits"
            : data.hasPrefix("images:") ? "synthetic images (\(data))" + (downsample > 1 ? " averaged to \(side)×\(side)×\(channels)" : "")
            : "Fashion-MNIST averaged to \(side)×\(side)"
    }
    /// A ResNet-8 (one basic block per stage, three stages) of stem width `w`.
    func resnet(_ w: Int) -> String { "resnet:\(image)-w\(w)-b1-s3-10" }
    func mlp(_ hidden: [Int], _ activation: String = "relu") -> String {
        "mlp:\(inputs)-" + hidden.map(String.init).joined(separator: "-") + "-10:\(activation)"
    }
    func cnn(_ channels: Int) -> String { "cnn:\(image)-c\(channels)-m2-10:relu" }
    /// A one-block ViT of width `d` over four patches (half the side each); an even side only.
    /// Four tokens, not the paper's 64: at 49 tokens one search takes minutes per seed here.
    func vit(_ d: Int) -> String { "vit:\(image)-p\(side / 2)-d\(d)-b1-h2-m\(2 * d)-10" }
}

extension ReproducePreset {
    /// smoke and full run every capacity sweep; quick runs the first two.
    var broad: Bool { level != .quick }

    /// The data of every sweep but the architecture families.
    var scale: CapacityScale {
        smoke ? CapacityScale(data: "digits", downsample: 1, side: 8)
              : CapacityScale(data: "fashion-mnist", downsample: 4, side: 7)
    }

    /// The data of the architecture families: at 14×14 in the full preset.
    var familyScale: CapacityScale {
        level == .full ? CapacityScale(data: "fashion-mnist", downsample: 2, side: 14) : scale
    }

    /// The fixed settings every capacity sweep shares, at `steps` first and `cap` (by default
    /// `maxSteps(steps)`) at most.
    func fixed(steps: Int, lr: Double? = 0.1, batch: Int? = 0, extra: String = "", on data: CapacityScale? = nil, cap: Int? = nil) -> String {
        let data = data ?? scale
        return """
        fixed:
          data: \(data.data)
          downsample: \(data.downsample)
          optimizer: sgd
        \(lr.map { "  lr: \($0)\n" } ?? "")  momentum: 0.9
        \(batch.map { "  batch-size: \($0)\n" } ?? "")  steps: \(steps)
          max-steps: \(cap ?? maxSteps(steps))
          schedule: cosine
          start: \(smoke ? 32 : 64)
        \(extra.isEmpty ? "" : extra + "\n")
        """
    }

    var capacitySteps: Int { smoke ? 200 : 1000 }
    var seeds: Int { smoke ? 2 : quick ? 4 : 3 }

    /// Architectures against true and random labels, generalization at n = 500. Quick: ReLU MLPs
    /// of three widths and two layers, a CNN, tanh and sigmoid MLPs. Full (and smoke, smaller):
    /// three families of four sizes each — ReLU MLPs, CNNs and ViTs — at 14×14, where undecided
    /// attempts escalate to 4× (not 8×) their first budget: at these sizes an attempt runs up to
    /// 150 s, and the sweep fits the preset's time so; the activations have their own sweep there.
    var capacityYAML: String {
        let s = familyScale
        let archs = smoke ? [s.mlp([4]), s.mlp([8]), s.cnn(2), s.cnn(4), s.vit(4), s.vit(8)]
            : quick ? [s.mlp([8]), s.mlp([16]), s.mlp([32]), s.mlp([8, 8]), s.cnn(4), s.mlp([8], "tanh"), s.mlp([8], "sigmoid")]
            : [8, 16, 32, 64].map { s.mlp([$0]) } + [2, 4, 8, 16].map(s.cnn) + [4, 6, 8, 12].map(s.vit)
        return trueVsRandom(archs, output: "capacity", on: s, cap: level == .full ? 4 * capacitySteps : nil)
    }

    /// Each architecture against true and random labels, with generalization at n = 500 (the
    /// EMC-gap study).
    func trueVsRandom(_ archs: [String], output: String, on data: CapacityScale? = nil, cap: Int? = nil) -> String {
        "instrument: emc\n" + fixed(steps: capacitySteps, on: data, cap: cap) + """
        axes:
          arch: [\(archs.joined(separator: ", "))]
          condition: [true, random-labels]
        seeds: \(seeds)
        generalization: \(smoke ? 100 : 500)
        output: \(output)
        """
    }

    /// Mini-batch SGD against full-batch GD on random labels, same steps and schedule. Quick: one
    /// learning rate, batch 32 vs full. Full (and smoke): a grid of learning rates for each
    /// batch size, so each can be compared at its best as well as at the paper's 0.01.
    var optimizerYAML: String {
        let steps = smoke ? 200 : quick ? 2000 : 4000
        let axes = broad ? "  batch-size: [32, 128, 0]\n  lr: [\(smoke ? "0.01, 0.1" : "0.01, 0.05, 0.2")]" : "  batch-size: [32, 0]"
        return "instrument: emc\n" + fixed(steps: steps, lr: broad ? nil : 0.05, batch: nil, extra: """
          arch: \(scale.mlp([smoke ? 8 : quick ? 16 : 32]))
          condition: random-labels
        """) + """
        axes:
        \(axes)
        seeds: \(smoke ? 2 : 5)
        output: optimizers
        """
    }

    /// Five activations at two widths and three layers deep, true and random labels, with
    /// generalization at n = 500: the activation finding, and 15 configurations for the EMC gap.
    var activationsYAML: String {
        let bases: [[Int]] = smoke ? [[4]] : [[8], [32], [8, 8, 8]]
        let archs = bases.flatMap { b in ["relu", "leakyrelu", "tanh", "sigmoid", "linear"].map { scale.mlp(b, $0) } }
        return trueVsRandom(archs, output: "activations")
    }

    /// Every capacity sweep the preset runs, by file name: `overparam sweep submit` each to a
    /// PostgreSQL store and run workers anywhere, and `overparam reproduce` with that store then
    /// reads every finished attempt back.
    public var sweepFiles: [(name: String, yaml: String)] {
        [("capacity.yaml", capacityYAML)] + (broad ? [("activations.yaml", activationsYAML)] : [])
            + [("optimizers.yaml", optimizerYAML)] + (broad ? [("inputs.yaml", inputsYAML), ("classes.yaml", classesYAML)] : [])
            + (broad ? architectureSweepFiles : [])
    }

    /// Semantic against random (Gaussian) inputs, for an MLP and a CNN.
    var inputsYAML: String {
        "instrument: emc\n" + fixed(steps: capacitySteps) + """
        axes:
          arch: [\(scale.mlp([smoke ? 8 : 32])), \(scale.cnn(smoke ? 2 : 8))]
          condition: [true, gaussian-inputs]
        seeds: \(seeds)
        output: inputs
        """
    }

    /// The ten classes merged into 2 and 5, against all 10, true and random labels.
    var classesYAML: String {
        "instrument: emc\n" + fixed(steps: capacitySteps, extra: "  arch: \(scale.mlp([smoke ? 8 : 16]))") + """
        axes:
          classes: [2, 5, 10]
          condition: [true, random-labels]
        seeds: \(seeds)
        output: classes
        """
    }
}
