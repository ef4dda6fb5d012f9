import Datasets
import Foundation
import Linalg
import Yams

/// A sweep file: an instrument, fixed settings, axes whose product is run, zipped axes that
/// vary together, seeds and an output folder.
///
///     instrument: emc
///     fixed: {data: digits, optimizer: adam, batch-size: 0, steps: 1000}
///     axes:
///       condition: [true, random-labels]
///     zip:                      # one more axis: the i-th configuration takes every list's i-th value
///       arch: [mlp:64-8-10:relu, cnn:8x8x1-c4-m2-10:relu]
///       lr: [0.01, 0.003]
///     seeds: 2
///     output: out/digits-mlp
///
/// `zip` may also be a list of such mappings, each group its own axis.
public struct SweepSpec: Sendable {
    public var instrument: String
    /// What `instrument` names: which settings the file may use and what runs them.
    public var kind: SweepInstrument = .emc
    public var fixed: [String: String]
    /// Axis names in file order, each with its values.
    public var axes: [(name: String, values: [String])]
    /// Groups of settings that vary together (equal lengths within a group), after the axes.
    public var zipped: [[(name: String, values: [String])]] = []
    public var seeds: Int
    /// Whether the file said `seeds` (recovery sweeps keep their preset's seeds otherwise).
    public var seedsGiven = false
    public var output: String
    /// With a training size, the sweep also measures generalization and relates it to the EMC
    /// gap (true − random labels); needs a `condition` axis with both.
    public var generalizationSize: Int? = nil

    /// Every combination of the axes and zip groups, in file order (the last varies fastest),
    /// merged over the fixed settings.
    public var configurations: [[String: String]] {
        var out: [[String: String]] = [kind == .emc || seedsGiven ? fixed.merging(["seeds": String(seeds)]) { $1 } : fixed]
        for axis in axes {
            out = out.flatMap { base in axis.values.map { v in base.merging([axis.name: v]) { $1 } } }
        }
        for group in zipped {
            out = out.flatMap { base in group[0].values.indices.map { i in base.merging(group.map { ($0.name, $0.values[i]) }) { $1 } } }
        }
        return out
    }

    /// The names of every setting that varies (axes, then zipped), for labels and table columns.
    public var varying: [String] { axes.map(\.name) + zipped.flatMap { $0.map(\.name) } }

    /// Parses and validates a sweep file; every error names the key and its line.
    public static func parse(_ yaml: String, file: String = "sweep") throws -> SweepSpec {
        func fail(_ node: Node?, _ m: String) -> ExperimentError {
            ExperimentError("\(file)\(node?.mark.map { ":\($0.line)" } ?? ""): \(m)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw ExperimentError("\(file): not valid YAML: \(error)")
        }
        guard let top = root?.mapping else { throw fail(root, "expected a mapping with instrument, fixed, axes, seeds, output") }
        var spec = SweepSpec(instrument: "", fixed: [:], axes: [], seeds: 1, output: "")
        // The instrument first, wherever it stands: it decides which settings are known.
        if let (k, v) = top.first(where: { $0.key.scalar?.string == "instrument" }) {
            guard let name = v.scalar?.string else { throw fail(k, "'instrument' must be a single value") }
            guard let kind = SweepInstrument(rawValue: name) else {
                throw fail(v, "instrument '\(name)' is not supported; use \(SweepInstrument.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            spec.instrument = name
            spec.kind = kind
        }
        let known = spec.kind.settings
        func scalar(_ n: Node, _ key: String) throws -> String {
            guard let s = n.scalar?.string else { throw fail(n, "'\(key)' must be a single value") }
            return s
        }
        func settings(_ n: Node, _ key: String) throws -> [(Node, String, Node)] {
            guard let m = n.mapping else { throw fail(n, "'\(key)' must be a mapping of setting names to values") }
            return try m.map { (k, v) in (k, try scalar(k, key), v) }
        }
        // A mapping of setting names to non-empty lists of valid values (axes, zip groups).
        func axisLists(_ n: Node, _ key: String) throws -> [(name: String, values: [String])] {
            try settings(n, key).map { kn, name, value in
                guard known.contains(name) else { throw fail(kn, "unknown setting '\(name)' in \(key)") }
                guard let seq = value.sequence, !seq.isEmpty else { throw fail(value, "'\(name)' in \(key) must be a non-empty list") }
                return (name, try seq.map { item in
                    let v = try scalar(item, name)
                    do { try spec.kind.validate([name: v]) } catch { throw fail(item, "\(error)") }
                    return v
                })
            }
        }
        for (k, v) in top {
            let key = try scalar(k, "key")
            switch key {
            case "instrument":
                break
            case "fixed":
                for (kn, name, value) in try settings(v, key) {
                    guard known.contains(name) else { throw fail(kn, "unknown setting '\(name)' in fixed; known for \(spec.kind.rawValue): \(known.sorted().joined(separator: ", "))") }
                    spec.fixed[name] = try scalar(value, name)
                    do { try spec.kind.validate([name: spec.fixed[name]!]) } catch { throw fail(value, "\(error)") }
                }
            case "axes":
                spec.axes = try axisLists(v, key)
            case "zip":
                let groups = v.sequence.map(Array.init) ?? [v]
                guard !groups.isEmpty else { throw fail(v, "'zip' must be a mapping of settings to lists of equal length, or a list of such mappings") }
                for g in groups {
                    let group = try axisLists(g, key)
                    guard !group.isEmpty else { throw fail(g, "a zip group needs at least one setting") }
                    if let other = group.first(where: { $0.values.count != group[0].values.count }) {
                        throw fail(g, "zipped lists must have equal lengths: '\(group[0].name)' has \(group[0].values.count), '\(other.name)' \(other.values.count)")
                    }
                    spec.zipped.append(group)
                }
            case "seeds":
                guard spec.kind != .adapt else { throw fail(k, "an adapt sweep takes 'reps' and 'seed' settings, not seeds") }
                guard let n = Int(try scalar(v, key)), n >= 1 else { throw fail(v, "seeds must be an integer ≥ 1") }
                spec.seeds = n
                spec.seedsGiven = true
            case "output":
                spec.output = try scalar(v, key)
            case "generalization":
                guard spec.kind == .emc else { throw fail(k, "'generalization' is for emc sweeps") }
                guard let n = Int(try scalar(v, key)), n >= 1 else { throw fail(v, "generalization must be a training size ≥ 1") }
                spec.generalizationSize = n
            default:
                throw fail(k, "unknown key '\(key)'; use instrument, fixed, axes, zip, seeds, output, generalization")
            }
        }
        guard !spec.instrument.isEmpty else { throw fail(root, "missing 'instrument'") }
        guard !spec.output.isEmpty else { throw fail(root, "missing 'output' (a folder for the tables and plots)") }
        if let dup = Dictionary(grouping: spec.varying, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw fail(root, "axis '\(dup)' given twice")
        }
        if let both = spec.varying.first(where: { spec.fixed[$0] != nil }) {
            throw fail(root, "'\(both)' is both fixed and an axis")
        }
        if spec.generalizationSize != nil {
            let conditions = spec.configurations.compactMap { $0["condition"] }
            guard conditions.contains("true"), conditions.contains("random-labels") else {
                throw fail(root, "generalization needs a 'condition' axis with both true and random-labels (for the EMC gap)")
            }
        }
        for c in spec.configurations {  // every combination is valid before anything runs
            do { try spec.kind.validate(c) } catch { throw fail(root, "\(error)") }
        }
        return spec
    }
}

extension SweepSpec {
    /// What `parse` cannot check from the file alone, for every configuration before anything
    /// trains: each data set loads, and each model takes its data's samples and classes.
    /// Returns the loaded data sets by `EMCSettings.dataKey`, for `runSweep` to train on.
    @discardableResult
    public func validateConfigurations() throws -> [String: LabeledData<Float>] {
        guard kind == .emc else { return [:] }   // recovery and rate settings are whole in the file
        var data = [String: LabeledData<Float>]()
        for (i, c) in configurations.enumerated() {
            do {
                let settings = try EMCSettings(c)
                if data[settings.dataKey] == nil { data[settings.dataKey] = try settings.data() }
                try settings.procedure().check(data[settings.dataKey]!)
            } catch {
                throw ExperimentError("configuration \(i + 1) (\(label(c))): \(plainMessage(error))")
            }
        }
        return data
    }
}

/// The instruments a sweep file can name, with the settings each takes: the option names of
/// `overparam emc`, `overparam recover` and `overparam adapt rates`.
public enum SweepInstrument: String, Sendable, CaseIterable {
    case emc, recovery, adapt

    /// Setting names for `fixed`, `axes` and `zip` (seeds, where an instrument has them, is the
    /// file's own `seeds` key).
    public var settings: [String] {
        switch self {
        case .emc: return EMCSettings.defaults.keys.filter { $0 != "seeds" }.sorted()
        case .recovery: return RecoverySettings.names.filter { $0 != "seeds" }
        case .adapt: return AdaptSettings.names
        }
    }

    /// Checks settings (all of a configuration, or a few over the defaults) without running.
    public func validate(_ settings: [String: String]) throws {
        switch self {
        case .emc: try EMCSettings(settings).validate()
        case .recovery: _ = try RecoverySettings(settings).preset()
        case .adapt: _ = try AdaptSettings(settings).rateSettings()
        }
    }
}
