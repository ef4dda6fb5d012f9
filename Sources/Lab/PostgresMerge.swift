import Foundation
import GRDB
import PostgresNIO

extension PostgresStore {
    /// Copies every experiment and result of a SQLite store file (a shard's) into this database,
    /// each row at most once, in one transaction, counted as `ResultStore.merge` counts them:
    /// added, already present with the same outcome, or present with another (kept as it was).
    public func merge(from path: String) throws -> MergeSummary {
        let shard = try ResultStore.current(path)
        guard shard.version == ResultStore.schemaVersion else {
            throw StoreError.incompatible(path: path, found: shard.version, expected: ResultStore.schemaVersion)
        }
        var summary = MergeSummary()
        try transaction {
            try copy("experiments", from: shard, key: ["key"], outcome: [], into: &summary, counted: false)
            for t in ResultStore.outcomes {
                try copy(t.table, from: shard, key: t.key, outcome: t.outcome, into: &summary, counted: true)
            }
        }
        return summary
    }

    /// One table's rows: inserted where their key is new; otherwise compared on `outcome`.
    private func copy(_ table: String, from shard: ResultStore, key: [String], outcome: [String],
                      into summary: inout MergeSummary, counted: Bool) throws {
        let columns = ResultStore.columns[table]!
        let rows = try shard.db.read { try Row.fetchAll($0, sql: "SELECT \(columns.joined(separator: ", ")) FROM \(table)") }
        let insert = "INSERT INTO \(t(table)) (\(columns.joined(separator: ", "))) VALUES ("
            + columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ") + ") ON CONFLICT DO NOTHING"
        let same = "SELECT count(*) FROM \(t(table)) WHERE "
            + (key + outcome).enumerated().map { "\($1) IS NOT DISTINCT FROM $\($0 + 1)" }.joined(separator: " AND ")
        for row in rows {
            let added = try query(PostgresQuery(unsafeSQL: insert, binds: try Self.binds(columns.map { row[$0] }))).metadata.rows ?? 0
            guard counted else { continue }
            if added == 1 { summary.added += 1; continue }
            let equal = try query(PostgresQuery(unsafeSQL: same, binds: try Self.binds((key + outcome).map { row[$0] })))
                .rows.first?.decode(Int.self) ?? 0
            if equal > 0 { summary.duplicates += 1 } else { summary.conflicts += 1 }
        }
    }

    /// SQLite values as PostgreSQL parameters, typed as the columns are.
    static func binds(_ values: [DatabaseValue]) throws -> PostgresBindings {
        var b = PostgresBindings()
        for v in values {
            switch v.storage {
            case .null: b.appendNull()
            case let .int64(i): b.append(i)
            case let .double(d): b.append(d)
            case let .string(s): b.append(s)
            case let .blob(data): try b.append(data)
            }
        }
        return b
    }
}
