import Capacity
import Foundation

// The architecture sweeps of `overparam reproduce` (smoke and full presets): ResNet-8s of
// several widths against MLPs, CNNs and ViTs, on Fashion-MNIST and on CIFAR-shaped synthetic
// images, and training in a random subspace — with the findings of `ArchitectureFindings.swift`.

extension ReproducePreset {
    /// Stem widths of the ResNet-8s (widths w, 2w, 4w over the three stages) in the width sweep:
    /// 1 and 2, random labels. A ResNet-8 here fits thousands of true-label images from width 2
    /// on (random-label ones from width 4), and with so few channels an attempt runs at 3–16
    /// GFLOP/s (widths 1–4), so at this cap each such search takes hours; `sweeps/fmnist-resnet8-width.yaml`
    /// runs widths 1–4 and both conditions at one budget of 1,000 steps instead.
    var resnetWidths: [Int] { [1, 2] }

    /// The images of the ResNet sweep: the preset's, but in the smoke preset 160 synthetic ones
    /// (a ResNet on all 1,797 digits takes minutes there).
    var architectureScale: CapacityScale {
        smoke ? CapacityScale(data: "images:160,8x8x1,10", downsample: 1, side: 8) : scale
    }

    /// CIFAR-shaped synthetic images (`images:`), averaged to 8×8×3: at 32×32 one ResNet
    /// search takes hours here. Random labels only: with true labels their EMC measures how far
    /// apart the generator put the classes, not the architecture.
    var syntheticScale: CapacityScale {
        smoke ? CapacityScale(data: "images:160,16x16x3,10", downsample: 2, side: 8, channels: 3)
              : CapacityScale(data: "images:10000,32x32x3,10", downsample: 4, side: 8, channels: 3)
    }

    /// Undecided attempts escalate to 4× their first budget, as in the families sweep (smoke: not at all).
    var architectureCap: Int { smoke ? capacitySteps : 4 * capacitySteps }

    /// The MLP and the CNN of the subspace sweep, also measured whole in `resnetsYAML`.
    var subspaceArchs: [String] { smoke ? [scale.mlp([8]), scale.cnn(2)] : [scale.mlp([32]), scale.cnn(8)] }
    var subspaceDimensions: [Int] { smoke ? [16, 32] : [50, 100, 200] }

    /// A ResNet-8 of width 1, ReLU MLPs and a CNN on the preset's images, true and random labels.
    var resnetsYAML: String {
        let s = architectureScale
        let archs = [s.resnet(1)] + (smoke ? [s.mlp([8])] : [s.mlp([16]), s.mlp([32])]) + [subspaceArchs[1]]
        return "instrument: emc\n" + fixed(steps: capacitySteps, on: s, cap: architectureCap) + """
        axes:
          arch: [\(archs.joined(separator: ", "))]
          condition: [true, random-labels]
        seeds: \(seeds)
        output: resnets
        """
    }

    /// ResNet-8s of the widths `resnetWidths`, random labels (width 1 shared with `resnetsYAML`).
    var resnetWidthYAML: String {
        "instrument: emc\n" + fixed(steps: capacitySteps, extra: "  condition: random-labels", on: architectureScale, cap: architectureCap) + """
        axes:
          arch: [\(resnetWidths.map(architectureScale.resnet).joined(separator: ", "))]
        seeds: \(seeds)
        output: resnets-width
        """
    }

    /// The four families on the synthetic colour images, random labels.
    var syntheticYAML: String {
        let s = syntheticScale
        let archs = (smoke ? [s.resnet(1), s.mlp([4]), s.vit(4)]
                     : [s.resnet(1), s.mlp([8]), s.mlp([16]), s.cnn(8), s.vit(4), s.vit(8)])
        return "instrument: emc\n" + fixed(steps: capacitySteps, extra: "  condition: random-labels", on: s, cap: architectureCap) + """
        axes:
          arch: [\(archs.joined(separator: ", "))]
        seeds: \(seeds)
        output: resnets-synthetic
        """
    }

    /// An MLP and a CNN trained in random subspaces of several dimensions and whole, random labels.
    var subspaceYAML: String {
        "instrument: emc\n" + fixed(steps: capacitySteps, extra: "  condition: random-labels", cap: architectureCap) + """
        axes:
          arch: [\(subspaceArchs.joined(separator: ", "))]
          subspace: [\(subspaceDimensions.map(String.init).joined(separator: ", ")), off]
        seeds: \(seeds)
        output: subspace
        """
    }

    var architectureSweepFiles: [(name: String, yaml: String)] {
        [("resnets.yaml", resnetsYAML), ("resnets-width.yaml", resnetWidthYAML), ("resnets-synthetic.yaml", syntheticYAML),
         ("subspace.yaml", subspaceYAML)]
    }
}

/// Runs the architecture sweeps through `sweep`: their tables, figures and findings, for the
/// capacity section to take in.
func architectureFindings(_ preset: ReproducePreset,
                          sweep: (String, String) throws -> (SweepSpec, SweepOutcome)) throws -> ReportSection {
    var section = ReportSection(title: "", intro: "")
    func available(_ o: SweepOutcome) throws -> Int { try o.rows.first.map { try EMCSettings($0.settings).data().count } ?? 0 }
    func perParameter(_ r: EMCReport?) -> String { r.map(perParameterText) ?? "" }
    func cell(_ r: EMCReport?, _ n: Int) -> String { r.map { emcCell($0, available: n) } ?? "" }

    // ResNet-8s against MLPs and a CNN on the preset's images.
    let (spec, outcome) = try sweep(preset.resnetsYAML, "resnets.yaml")
    let rows = SweepRows(rows: outcome.rows), n = try available(outcome)
    let archs = spec.axes.first { $0.name == "arch" }!.values
    var table = "<table><tr><th>architecture</th><th>parameters</th><th>EMC, true labels</th><th>EMC, random labels</th><th>per parameter, true</th><th>per parameter, random</th></tr>"
    for arch in archs {
        let t = rows.report(["arch": arch, "condition": "true"]), r = rows.report(["arch": arch, "condition": "random-labels"])
        table += "<tr><td><code>\(Plot.escape(arch))</code></td><td>\((t ?? r)?.parameters ?? 0)</td><td>\(cell(t, n))</td><td>\(cell(r, n))</td><td>\(perParameter(t))</td><td>\(perParameter(r))</td></tr>"
    }
    section.tables.append(table + "</table><p>A ResNet-8 of width 1 (widths 1, 2, 4 over three stages; batch norm) on \(preset.architectureScale.label), \(spec.seeds) seeds, undecided attempts escalated to \(preset.architectureCap) steps.</p>")
    if let svg = try? String(contentsOfFile: spec.output + "/emc-vs-parameters.svg", encoding: .utf8) {
        section.figures.append(("A ResNet-8, ReLU MLPs and a CNN: EMC against parameter count; dashed: EMC = parameters.", svg))
    }
    for (condition, label) in [("true", "true-label"), ("random-labels", "random-label")] {
        let reports = archs.compactMap { rows.report(["arch": $0, "condition": condition]) }
        if let f = perParameterFinding(reports, lead: .resnet, against: [.mlp, .vit], samples: label, on: " on \(preset.architectureScale.label)") {
            section.findings.append(f)
        }
    }
    // EMC against width, random labels.
    let (wspec, wo) = try sweep(preset.resnetWidthYAML, "resnets-width.yaml")
    let wrows = SweepRows(rows: wo.rows), wn = try available(wo)
    let widths = preset.resnetWidths.compactMap { w in wrows.report(["arch": preset.architectureScale.resnet(w)]).map { (width: w, report: $0) } }
    table = "<table><tr><th>width</th><th>parameters</th><th>EMC, random labels</th><th>per parameter</th></tr>"
    for w in widths { table += "<tr><td>\(w.width)</td><td>\(w.report.parameters)</td><td>\(cell(w.report, wn))</td><td>\(perParameter(w.report))</td></tr>" }
    section.tables.append(table + "</table><p>ResNet-8s by stem width, random labels, \(wspec.seeds) seeds.</p>")
    if let f = widthFinding(widths, name: "A ResNet-8", samples: "random-label") { section.findings.append(f) }

    // The four families on synthetic colour images, random labels.
    let (sspec, so) = try sweep(preset.syntheticYAML, "resnets-synthetic.yaml")
    let srows = SweepRows(rows: so.rows), sn = try available(so)
    let sreports = sspec.axes.first { $0.name == "arch" }!.values.compactMap { srows.report(["arch": $0]) }
    table = "<table><tr><th>architecture</th><th>parameters</th><th>EMC, random labels</th><th>per parameter</th></tr>"
    for r in sreports { table += "<tr><td><code>\(Plot.escape(r.arch))</code></td><td>\(r.parameters)</td><td>\(cell(r, sn))</td><td>\(perParameter(r))</td></tr>" }
    section.tables.append(table + "</table><p>On \(preset.syntheticScale.label), random labels, \(sspec.seeds) seeds.</p>")
    if let f = perParameterFinding(sreports, lead: .resnet, against: [.mlp, .vit], samples: "random-label", on: " on synthetic colour images") {
        section.findings.append(f)
    }

    // Random subspaces: EMC per trained parameter against d.
    let (uspec, uo) = try sweep(preset.subspaceYAML, "subspace.yaml")
    let un = try available(uo)
    let urows = uo.rows.compactMap { r in r.settings["arch"].map { (arch: $0, d: r.settings["subspace"].flatMap { Int($0) }, report: r.report) } }
    table = "<table><tr><th>architecture</th><th>trained parameters</th><th>EMC, random labels</th><th>per trained parameter</th></tr>"
    var plot = Plot(title: "Random-subspace training", xLabel: "trained parameters (d, or all)", yLabel: "EMC per trained parameter", logX: true, logY: false)
    for arch in uspec.axes.first(where: { $0.name == "arch" })!.values {
        let mine = urows.filter { $0.arch == arch }.sorted { $0.report.parameters < $1.report.parameters }
        for r in mine {
            table += "<tr><td><code>\(Plot.escape(arch))</code></td><td>\(r.report.parameters)\(r.d == nil ? " (all)" : "")</td><td>\(cell(r.report, un))</td><td>\(perParameter(r.report))</td></tr>"
        }
        plot.series.append(.init(arch, mine.map { (Double($0.report.parameters), $0.report.emcPerParameter) }))
    }
    section.tables.append(table + "</table><p>θ = θ₀ + P z with P a fixed random projection from the seed; only z is trained. On \(preset.scale.label), random labels, \(uspec.seeds) seeds.</p>")
    if let svg = try? plot.svg() { section.figures.append(("EMC per trained parameter against the subspace dimension d; the rightmost point of each line trains every parameter.", svg)) }
    if let f = subspaceFinding(urows) { section.findings.append(f) }
    return section
}
