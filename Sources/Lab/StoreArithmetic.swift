import Foundation
import GRDB
import Linalg
import PostgresNIO

/// How many of a store's results one arithmetic computed (`Engine.arithmetic`; nil for results
/// written before it was recorded).
public struct ArithmeticCount: Sendable, Equatable {
    public var arithmetic: String?
    public var results: Int

    public init(_ arithmetic: String?, _ results: Int) { self.arithmetic = arithmetic; self.results = results }
}

/// Every result's arithmetic counted, the most common first (those not saying last among
/// equals): one query over the result tables, each named by `table` (a schema may qualify it).
private func countingQuery(_ table: (String) -> String) -> String {
    let all = ["attempts", "recovery_runs", "rate_units", "generalization_runs"].map { "SELECT arithmetic FROM \(table($0))" }
    return "SELECT arithmetic, count(*) AS c FROM (\(all.joined(separator: " UNION ALL "))) r GROUP BY arithmetic "
        + "ORDER BY c DESC, arithmetic IS NULL, arithmetic"
}

extension ResultStore {
    /// Every result's arithmetic, counted: attempts, recovery runs, rate units and generalization
    /// runs. Empty for a store of an older schema opened read-only.
    public func arithmetics() throws -> [ArithmeticCount] {
        guard version == Self.schemaVersion else { return [] }
        return try db.read { d in
            try Row.fetchAll(d, sql: countingQuery { $0 }).map { ArithmeticCount($0["arithmetic"], $0["c"]) }
        }
    }
}

extension PostgresStore {
    public func arithmetics() throws -> [ArithmeticCount] {
        try query(PostgresQuery(unsafeSQL: countingQuery(t))).rows.map { row in
            let (a, c) = try row.decode((String?, Int64).self)
            return ArithmeticCount(a, Int(c))
        }
    }
}

/// What computed a report's numbers, in words: the store's results by arithmetic, and this
/// process's where it differs or nothing was stored. A report read back from a store carried
/// between machines says so here, since one build rounds differently on each
/// (docs/store-sweeps-queue.md).
public func computedByText(_ counts: [ArithmeticCount], here: String = Engine.arithmetic) -> String {
    let total = counts.map(\.results).reduce(0, +)
    if total == 0 { return "\(here) (this process; no stored results)" }
    if counts.count == 1, counts[0].arithmetic == here { return "\(here) (all \(total) stored results)" }
    let listed = counts.map { "\($0.arithmetic ?? "not recorded") (\($0.results) results)" }.joined(separator: "; ")
    return "\(listed) — of the store's \(total); this process: \(here)"
}
