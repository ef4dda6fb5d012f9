import Capacity
import Foundation

// The EMC paper's architecture findings as `overparam reproduce` judges them: which family fits
// more samples per parameter, how a ResNet's EMC moves with its width, and what training in a
// random subspace does to EMC per trained parameter. Each verdict follows Welch's 95% intervals
// over the seeds (`EMCReport.comparison`), through `allHeld`.

/// A family of architectures by spec prefix. MLPs and CNNs count in their ReLU versions only
/// (activations have their own finding); ViTs and ResNets as they come.
public struct ArchitectureFamily: Sendable {
    public let prefix: String, name: String, plural: String
    public static let mlp = ArchitectureFamily(prefix: "mlp", name: "ReLU MLP", plural: "MLPs")
    public static let cnn = ArchitectureFamily(prefix: "cnn", name: "CNN", plural: "CNNs")
    public static let vit = ArchitectureFamily(prefix: "vit", name: "ViT", plural: "ViTs")
    public static let resnet = ArchitectureFamily(prefix: "resnet", name: "ResNet", plural: "ResNets")

    public func contains(_ arch: String) -> Bool {
        arch.hasPrefix(prefix + ":") && (prefix == "vit" || prefix == "resnet" || arch.hasSuffix(":relu"))
    }
}

func perParameterText(_ r: EMCReport) -> String { (r.isMeasured ? "" : "≥ ") + String(format: "%.3f", r.emcPerParameter) }

/// `lead` fits more samples per parameter than each other family present: the best member of
/// each by EMC per parameter (a lower bound stays one when divided), `lead`'s against every
/// other's — held only if it beats each. Nil where `lead` or every rival is missing.
public func perParameterFinding(_ reports: [EMCReport], lead: ArchitectureFamily, against others: [ArchitectureFamily],
                                samples: String, on data: String = "") -> Finding? {
    func best(_ f: ArchitectureFamily) -> EMCReport? {
        reports.filter { f.contains($0.arch) }.max { $0.emcPerParameter < $1.emcPerParameter }
    }
    let rivals = others.compactMap { f in best(f).map { (family: f, report: $0) } }
    guard let c = best(lead), !rivals.isEmpty else { return nil }
    let ks = rivals.map { c.comparison(with: $0.report, scale: 1 / Double(c.parameters), otherScale: 1 / Double($0.report.parameters)) }
    let against = zip(rivals, ks).map { o, k in
        "best \(o.family.name) (\(Plot.escape(o.report.arch))) \(perParameterText(o.report)): " + differenceText(k.interval, format: "%.3f") + capScope(k, c, o.report)
    }
    return Finding(instrument: "capacity",
                   claim: "\(lead.plural) fit more \(samples) samples per parameter than " + rivals.map(\.family.plural).joined(separator: " and ") + data,
                   held: allHeld(ks.map(\.larger)),
                   evidence: "best \(lead.name) (\(Plot.escape(c.arch))) \(perParameterText(c)) EMC per parameter; against " + against.joined(separator: "; against "))
}

/// One architecture at several widths (narrowest first), one label condition: its EMC grows
/// with width and its EMC per parameter falls — the widest against the narrowest, each at 95%.
public func widthFinding(_ widths: [(width: Int, report: EMCReport)], name: String, samples: String) -> Finding? {
    guard let narrow = widths.first, let wide = widths.last, widths.count >= 2 else { return nil }
    let (n, w) = (narrow.report, wide.report)
    let grows = w.comparison(with: n), falls = n.comparison(with: w, scale: 1 / Double(n.parameters), otherScale: 1 / Double(w.parameters))
    let below = w.interval.map { $0.upperBound < Double(w.parameters) && w.censored == 0 } ?? false
    let curve = widths.map { "width \($0.width) (\($0.report.parameters) parameters): \(fmt($0.report.mean)), \(perParameterText($0.report)) per parameter" }
    return Finding(instrument: "capacity", claim: "\(name)'s \(samples) EMC grows with its width while its EMC per parameter falls",
                   held: allHeld([grows.larger, falls.larger]),
                   evidence: curve.joined(separator: "; ") + "; EMC widest − narrowest: " + differenceText(grows.interval) + capScope(grows, n, w)
                       + "; per parameter narrowest − widest: " + differenceText(falls.interval, format: "%.3f")
                       + "; the widest \(below ? "below" : "not decidedly below") its parameter count")
}

/// Training in a random d-dimensional subspace against training every parameter, per
/// architecture: EMC per trained parameter at the smallest d above the whole model's EMC per
/// parameter, at 95%, for every architecture. `rows`: (architecture, d or nil for all, report,
/// whose `parameters` counts the trained ones).
public func subspaceFinding(_ rows: [(arch: String, d: Int?, report: EMCReport)]) -> Finding? {
    var verdicts = [Bool?](), notes = [String]()
    for arch in Set(rows.map(\.arch)).sorted() {
        let mine = rows.filter { $0.arch == arch }
        guard let full = mine.first(where: { $0.d == nil })?.report,
              let small = mine.filter({ $0.d != nil }).min(by: { $0.d! < $1.d! }) else { continue }
        let k = small.report.comparison(with: full, scale: 1 / Double(small.d!), otherScale: 1 / Double(full.parameters))
        verdicts.append(k.larger)
        let curve = mine.filter { $0.d != nil }.sorted { $0.d! < $1.d! }.map { "d = \($0.d!): \(perParameterText($0.report))" }
        notes.append("\(Plot.escape(arch)): " + curve.joined(separator: ", ") + "; all \(full.parameters): \(perParameterText(full)) ("
                     + differenceText(k.interval, format: "%.3f") + capScope(k, small.report, full) + ")")
    }
    guard !verdicts.isEmpty else { return nil }
    return Finding(instrument: "capacity", claim: "Training in a random subspace raises EMC per trained parameter",
                   held: allHeld(verdicts), evidence: "EMC per trained parameter — " + notes.joined(separator: "; "))
}
