import Foundation
import GRDB

/// The result tables a store holds, one per kind of result, as `overparam export` prints them.
public enum ResultTable: String, CaseIterable, Sendable {
    /// EMC fit attempts, generalization runs of the EMC-gap study, recovery runs, rate units.
    case emc, generalization, recovery, adapt

    var table: String {
        switch self {
        case .emc: return "attempts"
        case .generalization: return "generalization_runs"
        case .recovery: return "recovery_runs"
        case .adapt: return "rate_units"
        }
    }

    /// The result's own columns (after the experiment's settings); a rate unit's curves and a
    /// recovery run's measures come in JSON only (the curves as their count in CSV).
    var columns: [String] {
        ResultStore.columns[table]!.filter { $0 != "experiment" && $0 != "finished" && $0 != "curves" && $0 != "measures" }
    }

    var what: String {
        switch self {
        case .emc: return "EMC training runs (each attempt at each budget it needed)"
        case .generalization: return "generalization runs (EMC gap)"
        case .recovery: return "recovery runs"
        case .adapt: return "rate units (n, repetition)"
        }
    }
}

extension ResultStore {
    /// One result table with each experiment's settings as columns (the union of their names,
    /// sorted, so experiments of different settings share one header), then the result's own.
    /// Rows come by experiment, then the table's key.
    func exportRows(_ t: ResultTable) throws -> (settings: [String], rows: [(config: [String: String], values: Row)]) {
        let rows = try db.read { d in
            try Row.fetchAll(d, sql: """
                SELECT e.config AS shown, t.* FROM \(t.table) t JOIN experiments e ON e.key = t.experiment
                ORDER BY t.experiment, \(Self.columns[t.table]![1]), \(Self.columns[t.table]![2])
                """)
        }
        let parsed = rows.map { row -> (config: [String: String], values: Row) in
            let text: String = row["shown"]
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? ["config": text]
            return (object.filter { $0.key != "instrument" }, row)
        }
        return (Array(Set(parsed.flatMap(\.config.keys))).sorted(), parsed)
    }

    /// CSV of one result table: settings, then the result's columns (a setting named like one
    /// of them, the step budget beside the steps taken, is headed `setting:NAME`).
    public func exportCSV(_ t: ResultTable = .emc) throws -> String {
        let (settings, rows) = try exportRows(t)
        var out = (settings.map { t.columns.contains($0) ? "setting:" + $0 : $0 } + t.columns + (t == .adapt ? ["curve_count"] : [])).map(csvField).joined(separator: ",") + "\n"
        for (config, row) in rows {
            var fields = settings.map { csvField(config[$0] ?? "") } + t.columns.map { Self.text(Self.value(row, $0)) }
            if t == .adapt { fields.append(String((row["curves"] as Data?).flatMap(decodeCurves)?.count ?? 0)) }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// JSON array of one result table: each row's settings under "config", then its columns
    /// (a rate unit's curves as arrays).
    public func exportJSON(_ t: ResultTable = .emc) throws -> String {
        let objects: [[String: Any]] = try exportRows(t).rows.map { config, row in
            var o: [String: Any] = ["config": config]
            for c in t.columns { o[c] = Self.json(Self.value(row, c)) }
            if t == .adapt { o["curves"] = (row["curves"] as Data?).flatMap(decodeCurves) ?? [] }
            if t == .recovery, let text = String.fromDatabaseValue(Self.value(row, "measures")) {
                o["measures"] = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? NSNull()
            }
            return o
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self)
    }

    /// What the store holds (`name`: how to call it, default its path): per result table, its
    /// experiments and rows.
    public func summary(name: String? = nil) throws -> String {
        var out = "\(name ?? path) (schema \(version))\n"
        for t in ResultTable.allCases {
            let (experiments, rows) = try db.read { d in
                (try Int.fetchOne(d, sql: "SELECT count(DISTINCT experiment) FROM \(t.table)") ?? 0,
                 try Int.fetchOne(d, sql: "SELECT count(*) FROM \(t.table)") ?? 0)
            }
            out += "  " + t.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(format: "%6d experiment(s), %7d ", experiments, rows) + t.what + "\n"
        }
        return out
    }

    /// A column's value; NULL where an older schema has no such column (a version-1 store has
    /// no attempt budgets).
    static func value(_ row: Row, _ column: String) -> DatabaseValue {
        row.hasColumn(column) ? row[column] : .null
    }

    static func text(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null: return ""
        case let .int64(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s): return csvField(s)
        case let .blob(b): return "\(b.count) bytes"
        }
    }

    static func json(_ v: DatabaseValue) -> Any {
        switch v.storage {
        case .null: return NSNull()
        case let .int64(i): return i
        case let .double(d): return d.isFinite ? d : NSNull()   // JSON has no ∞: a diverged attempt's loss
        case let .string(s): return s
        case let .blob(b): return b.base64EncodedString()
        }
    }
}
