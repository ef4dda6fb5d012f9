import Adaptivity
import Capacity
import Recovery
import Foundation
import GRDB
import Linalg

/// Errors from the result store, each with the file and what to do.
public enum StoreError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case incompatible(path: String, found: Int, expected: Int)
    /// A statement failed on a store that had opened (the database went away, say).
    case failed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(p, r): return "cannot open the result store \(p): \(r)"
        case let .failed(p, r): return "the result store \(p) failed: \(r)"
        case let .incompatible(p, 1, expected) where expected >= 2:
            return "the result store \(p) was written by an older overparam that named data sets by their path, not their contents, "
                + "so its results cannot be matched safely to data: use another --store file (nothing was changed in this one; "
                + "`overparam export --store \(p)` still reads it)"
        case let .incompatible(p, found, expected):
            return "the result store \(p) has schema version \(found), this overparam uses \(expected): use another --store file (nothing was changed in this one)"
        }
    }
}

/// The SQLite file every finished attempt is written to, keyed by the experiment's full
/// configuration, the seed and n. Each attempt is committed on its own as it finishes, so a
/// crash, Ctrl-C or SIGKILL loses at most the attempt in flight; re-running the same command
/// reads finished attempts back instead of repeating them.
///
/// Several processes may share one file: it is kept in write-ahead-log mode (readers never
/// wait for the writer) and a process waits up to `busyTimeout` seconds for another's write
/// to finish instead of failing with "database is locked".
public final class ResultStore: @unchecked Sendable {
    /// 5: recovery runs, rate units and generalization runs keep the arithmetic that computed
    /// them too (`arithmetic`, written by the process that computed and saved each).
    /// 4: each attempt keeps the arithmetic that computed it (`attempts.arithmetic`,
    /// `Engine.arithmetic`), so a search is never continued by another.
    /// 3: a recovery run keeps what was measured on the trained student (`measures`, JSON).
    /// 2: data sets keyed by their contents' fingerprint, and each attempt by its step budget
    /// (1 keyed data by path, and attempts by the experiment's one budget). A version-2, 3 or 4
    /// file is brought to 5 when opened for writing (added columns, empty for its rows).
    public static let schemaVersion = 5
    public static let busyTimeout: TimeInterval = 120
    public let path: String
    /// Opened for reading only: nothing is ever written, not even an experiment's registration.
    public let readOnly: Bool
    /// The file's schema version (an older one can only be opened read-only).
    public let version: Int
    let db: DatabaseQueue

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        self.readOnly = readOnly
        do {
            var config = Configuration()
            config.readonly = readOnly
            config.busyMode = .timeout(Self.busyTimeout)
            if readOnly {
                guard FileManager.default.fileExists(atPath: path) else { throw StoreError.cannotOpen(path: path, reason: "no such file") }
            } else {
                let dir = (path as NSString).deletingLastPathComponent
                if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            }
            // Processes opening a new file together can find it mid-creation (or mid-switch to
            // WAL), where SQLite answers "database is locked" without waiting: try again.
            (db, version) = try Self.whileBusy { try Self.prepare(path: path, readOnly: readOnly, config: config) }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.cannotOpen(path: path, reason: plainReason(error))
        }
    }

    /// Opens the file, checks its schema and, for a new file, creates it (WAL mode, tables).
    static func prepare(path: String, readOnly: Bool, config: Configuration) throws -> (DatabaseQueue, Int) {
        let db = try DatabaseQueue(path: path, configuration: config)
        // One read: another process creating the file may commit between two, and the tables
        // would then be seen without the version written in the same transaction.
        let (found, hasTables) = try db.read { d in
            (try Int.fetchOne(d, sql: "PRAGMA user_version") ?? 0,
             try Int.fetchOne(d, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0 > 0)
        }
        let version = hasTables ? found : schemaVersion
        if readOnly { return (db, version) }
        if hasTables && (2...4).contains(found) { return (db, try migrate(db)) }
        if hasTables && found != schemaVersion {
            throw StoreError.incompatible(path: path, found: found, expected: schemaVersion)
        }
        if hasTables { return (db, version) }   // a current store: nothing to create, no lock to take
        // Persistent in the file; concurrent first opens wait on each other through the timeout.
        try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
        try db.write { d in
            try d.execute(sql: """
                CREATE TABLE IF NOT EXISTS experiments (
                    key TEXT PRIMARY KEY, instrument TEXT NOT NULL, config TEXT NOT NULL, created TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS attempts (
                    experiment TEXT NOT NULL REFERENCES experiments(key), seed INTEGER NOT NULL, n INTEGER NOT NULL,
                    budget INTEGER NOT NULL,
                    verdict TEXT NOT NULL, train_loss REAL NOT NULL, train_accuracy REAL NOT NULL,
                    gradient_norm REAL NOT NULL, steps INTEGER NOT NULL, seconds REAL NOT NULL, finished TEXT NOT NULL,
                    hessian_min REAL, hessian_max REAL, arithmetic TEXT,
                    PRIMARY KEY (experiment, seed, n, budget));
                CREATE TABLE IF NOT EXISTS recovery_runs (
                    experiment TEXT NOT NULL REFERENCES experiments(key), seed INTEGER NOT NULL, n INTEGER NOT NULL,
                    train_mse REAL, test_mse REAL, diverged INTEGER NOT NULL, steps INTEGER NOT NULL,
                    seconds REAL NOT NULL, finished TEXT NOT NULL, measures TEXT, arithmetic TEXT,
                    PRIMARY KEY (experiment, seed, n));
                CREATE TABLE IF NOT EXISTS rate_units (
                    experiment TEXT NOT NULL REFERENCES experiments(key), n INTEGER NOT NULL, repetition INTEGER NOT NULL,
                    curves BLOB NOT NULL, seconds REAL NOT NULL, finished TEXT NOT NULL, arithmetic TEXT,
                    PRIMARY KEY (experiment, n, repetition));
                CREATE TABLE IF NOT EXISTS generalization_runs (
                    experiment TEXT NOT NULL REFERENCES experiments(key), seed INTEGER NOT NULL, train_size INTEGER NOT NULL,
                    test_size INTEGER NOT NULL, train_accuracy REAL NOT NULL, test_accuracy REAL NOT NULL, finished TEXT NOT NULL,
                    arithmetic TEXT,
                    PRIMARY KEY (experiment, seed, train_size));
                PRAGMA user_version = \(schemaVersion);
                """)
        }
        return (db, version)
    }

    /// Version 2 → 3 → 4 → 5: the recovery runs' measures column, the attempts' arithmetic, then
    /// the other results' arithmetic, each added at the end (where a new file has it, so the tables' column orders agree for
    /// merges). In one immediate transaction that reads the version again: processes opening the
    /// file together migrate it once.
    static func migrate(_ db: DatabaseQueue) throws -> Int {
        try db.writeWithoutTransaction { d in
            try d.inTransaction(.immediate) {
                let found = try Int.fetchOne(d, sql: "PRAGMA user_version") ?? 0
                if found == 2 { try d.execute(sql: "ALTER TABLE recovery_runs ADD COLUMN measures TEXT") }
                if found == 2 || found == 3 { try d.execute(sql: "ALTER TABLE attempts ADD COLUMN arithmetic TEXT") }
                if (2...4).contains(found) {
                    for table in ["recovery_runs", "rate_units", "generalization_runs"] {
                        try d.execute(sql: "ALTER TABLE \(table) ADD COLUMN arithmetic TEXT")
                    }
                    try d.execute(sql: "PRAGMA user_version = \(schemaVersion)")
                }
                return .commit
            }
        }
        return schemaVersion
    }

    /// Runs `body` again while SQLite reports the database busy, for up to `busyTimeout`.
    static func whileBusy<T>(_ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(busyTimeout)
        var pause = 0.01
        while true {
            do { return try body() } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY && Date() < deadline {
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 0.5)
            }
        }
    }

    /// Registers an experiment (idempotent; not on a read-only store) and returns the cache for
    /// its results. The key is `config` as canonical JSON (sorted keys), with the engine revision
    /// from 2 on (`canonicalKey`); `description` (how the data set was named, say) is stored
    /// beside it for people and exports.
    public func experiment(instrument: String, config: [String: String], description: [String: String] = [:],
                           engine: Int = Engine.revision) throws -> ExperimentAttempts {
        let key = try canonicalKey(config, engine: engine)
        if !readOnly {
            let shown = try shownConfig(config, description, engine: engine)
            try db.write { d in
                try d.execute(sql: "INSERT OR IGNORE INTO experiments (key, instrument, config, created) VALUES (?, ?, ?, ?)",
                              arguments: [key, instrument, shown, ISO8601DateFormatter().string(from: Date())])
            }
        }
        return ExperimentAttempts(store: self, key: key)
    }

    /// Rows of `table` as another store holds them (every column, in `ResultStore.columns`
    /// order), each kept once.
    func insertRaw(_ table: String, _ rows: [[(any DatabaseValueConvertible)?]]) throws {
        let columns = Self.columns[table]!
        let sql = "INSERT OR IGNORE INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
        try db.write { d in
            for r in rows { try d.execute(sql: sql, arguments: StatementArguments(r)) }
        }
    }

    /// Every table's columns, as both stores define them.
    static let columns: [String: [String]] = [
        "experiments": ["key", "instrument", "config", "created"],
        "attempts": ["experiment", "seed", "n", "budget", "verdict", "train_loss", "train_accuracy", "gradient_norm", "steps", "seconds", "finished",
                     "hessian_min", "hessian_max", "arithmetic"],
        "recovery_runs": ["experiment", "seed", "n", "train_mse", "test_mse", "diverged", "steps", "seconds", "finished", "measures",
                          "arithmetic"],
        "rate_units": ["experiment", "n", "repetition", "curves", "seconds", "finished", "arithmetic"],
        "generalization_runs": ["experiment", "seed", "train_size", "test_size", "train_accuracy", "test_accuracy", "finished",
                                "arithmetic"],
    ]

    static func result(_ row: Row) -> FitResult {
        FitResult(n: row["n"], seed: UInt64(bitPattern: row["seed"]), verdict: Verdict(rawValue: row["verdict"]) ?? .undecided,
                  trainLoss: row["train_loss"], trainAccuracy: row["train_accuracy"], gradientNorm: row["gradient_norm"],
                  steps: row["steps"], seconds: row["seconds"], budget: row["budget"],
                  hessian: row.hasColumn("hessian_min") ? (row["hessian_min"], row["hessian_max"]) : (nil, nil),
                  arithmetic: row.hasColumn("arithmetic") ? row["arithmetic"] : nil)
    }
}

/// One experiment's attempts in the store: the cache `measureEMC` (fit attempts) and
/// `runRecoveryGrid` (recovery runs) read and write.
public struct ExperimentAttempts: AttemptCache, RecoveryCache, RateCache {
    let store: ResultStore
    public let key: String

    public func cached(n: Int, seed: UInt64, budget: Int) throws -> FitResult? {
        try store.db.read { d in
            try Row.fetchOne(d, sql: "SELECT * FROM attempts WHERE experiment = ? AND seed = ? AND n = ? AND budget = ?",
                             arguments: [key, Int64(bitPattern: seed), n, budget]).map(ResultStore.result)
        }
    }

    public func save(_ r: FitResult) throws {
        try store.db.write { d in
            try d.execute(sql: """
                INSERT OR REPLACE INTO attempts (experiment, seed, n, budget, verdict, train_loss, train_accuracy, gradient_norm, steps, seconds, finished,
                                                 hessian_min, hessian_max, arithmetic)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, Int64(bitPattern: r.seed), r.n, r.budget, r.verdict.rawValue, r.trainLoss, r.trainAccuracy,
                                 r.gradientNorm, r.steps, r.seconds, ISO8601DateFormatter().string(from: Date()), r.hessianMin, r.hessianMax,
                                 r.arithmetic])
        }
    }

    /// Attempts of this experiment, by seed then n.
    public func all() throws -> [FitResult] {
        try store.db.read { d in
            try Row.fetchAll(d, sql: "SELECT * FROM attempts WHERE experiment = ? ORDER BY seed, n, budget", arguments: [key]).map(ResultStore.result)
        }
    }

    public func cachedRun(n: Int, seed: UInt64) throws -> RecoveryRun? {
        try store.db.read { d in
            try Row.fetchOne(d, sql: "SELECT * FROM recovery_runs WHERE experiment = ? AND seed = ? AND n = ?",
                             arguments: [key, Int64(bitPattern: seed), n]).map(ResultStore.run)
        }
    }

    public func saveRun(_ r: RecoveryRun) throws {
        // Non-finite errors (a diverged run) are stored as NULL.
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        try store.db.write { d in
            try d.execute(sql: """
                INSERT OR REPLACE INTO recovery_runs (experiment, seed, n, train_mse, test_mse, diverged, steps, seconds, finished, measures,
                                                      arithmetic)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, Int64(bitPattern: r.seed), r.n, finite(r.trainMSE), finite(r.testMSE), r.diverged ? 1 : 0,
                                 r.steps, r.seconds, ISO8601DateFormatter().string(from: Date()), try encodeMeasures(r.measures),
                                 Engine.arithmetic])
        }
    }

    /// Recovery runs of this experiment, by seed then n.
    public func allRuns() throws -> [RecoveryRun] {
        try store.db.read { d in
            try Row.fetchAll(d, sql: "SELECT * FROM recovery_runs WHERE experiment = ? ORDER BY seed, n", arguments: [key]).map(ResultStore.run)
        }
    }
}

/// A run's measures as stored: JSON with sorted keys (Doubles written to round-trip), or NULL.
func encodeMeasures(_ m: RunMeasures?) throws -> String? {
    guard let m else { return nil }
    let e = JSONEncoder()
    e.outputFormatting = .sortedKeys
    return String(decoding: try e.encode(m), as: UTF8.self)
}

/// Measures read back; nil for none, and for text this version cannot read (a run is then
/// reported without them rather than failing).
func decodeMeasures(_ text: String?) -> RunMeasures? {
    text.flatMap { try? JSONDecoder().decode(RunMeasures.self, from: Data($0.utf8)) }
}

extension ResultStore {
    static func run(_ row: Row) -> RecoveryRun {
        let train: Double? = row["train_mse"], test: Double? = row["test_mse"]
        return RecoveryRun(n: row["n"], seed: UInt64(bitPattern: row["seed"]), trainMSE: train ?? .infinity, testMSE: test ?? .infinity,
                           steps: row["steps"], seconds: row["seconds"], diverged: (row["diverged"] as Int) != 0,
                           measures: decodeMeasures(row.hasColumn("measures") ? row["measures"] : nil))
    }
}

/// Where the EMC-gap study's generalization runs are kept, so a re-run of the sweep does not
/// train them again.
public protocol GeneralizationCache {
    func cachedGeneralization(seed: UInt64, trainSize: Int) throws -> GeneralizationResult?
    func saveGeneralization(_ r: GeneralizationResult, seed: UInt64) throws
}

extension ExperimentAttempts: ExperimentCache {
    public func cachedGeneralization(seed: UInt64, trainSize: Int) throws -> GeneralizationResult? {
        try store.db.read { d in
            try Row.fetchOne(d, sql: "SELECT * FROM generalization_runs WHERE experiment = ? AND seed = ? AND train_size = ?",
                             arguments: [key, Int64(bitPattern: seed), trainSize]).map {
                GeneralizationResult(trainSize: $0["train_size"], testSize: $0["test_size"], trainAccuracy: $0["train_accuracy"],
                                     testAccuracy: $0["test_accuracy"])
            }
        }
    }

    public func saveGeneralization(_ r: GeneralizationResult, seed: UInt64) throws {
        try store.db.write { d in
            try d.execute(sql: """
                INSERT OR REPLACE INTO generalization_runs (experiment, seed, train_size, test_size, train_accuracy, test_accuracy, finished,
                                                            arithmetic)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, Int64(bitPattern: seed), r.trainSize, r.testSize, r.trainAccuracy, r.testAccuracy,
                                 ISO8601DateFormatter().string(from: Date()), Engine.arithmetic])
        }
    }
}

extension ExperimentAttempts {
    public func cachedCurves(n: Int, repetition: Int) throws -> [[Double]]? {
        let blob: Data? = try store.db.read { d in
            try Data.fetchOne(d, sql: "SELECT curves FROM rate_units WHERE experiment = ? AND n = ? AND repetition = ?",
                              arguments: [key, n, repetition])
        }
        return blob.flatMap(decodeCurves)
    }

    public func saveCurves(_ curves: [[Double]], n: Int, repetition: Int, seconds: Double) throws {
        try store.db.write { d in
            try d.execute(sql: """
                INSERT OR REPLACE INTO rate_units (experiment, n, repetition, curves, seconds, finished, arithmetic) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, n, repetition, encodeCurves(curves), seconds, ISO8601DateFormatter().string(from: Date()), Engine.arithmetic])
        }
    }
}

// A unit's curves as one blob: the curve count, each curve's length, then the values, all
// little-endian 64-bit, so they come back bit for bit (text would round).
func encodeCurves(_ curves: [[Double]]) -> Data {
    var words = [UInt64(curves.count)] + curves.map { UInt64($0.count) }
    for c in curves { words += c.map(\.bitPattern) }
    return words.map(\.littleEndian).withUnsafeBytes { Data($0) }
}

/// The curves of a blob `encodeCurves` wrote; nil for anything else.
func decodeCurves(_ blob: Data) -> [[Double]]? {
    guard blob.count % 8 == 0 else { return nil }
    let words = blob.withUnsafeBytes { raw in (0..<blob.count / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) } }
    guard let count = words.first.map(Int.init), count >= 0, words.count >= 1 + count else { return nil }
    let lengths = words[1..<(1 + count)].map { Int($0) }
    guard words.count == 1 + count + lengths.reduce(0, +) else { return nil }
    var curves = [[Double]](), at = 1 + count
    for l in lengths {
        curves.append(words[at..<(at + l)].map { Double(bitPattern: $0) })
        at += l
    }
    return curves
}

/// What `ResultStore.merge` did.
public struct MergeSummary: Sendable, Equatable {
    /// Rows copied in, rows already present with the same outcome, and rows present with a
    /// different outcome (kept as they were; a deterministic computation should never make one).
    public var added = 0, duplicates = 0, conflicts = 0

    public init(added: Int = 0, duplicates: Int = 0, conflicts: Int = 0) {
        self.added = added; self.duplicates = duplicates; self.conflicts = conflicts
    }
}

extension ResultStore {
    /// The tables and the columns that make a row's outcome (not when or how long it ran).
    static let outcomes: [(table: String, key: [String], outcome: [String])] = [
        ("attempts", ["experiment", "seed", "n", "budget"], ["verdict", "train_loss", "train_accuracy", "gradient_norm", "steps", "hessian_min", "hessian_max"]),
        ("recovery_runs", ["experiment", "seed", "n"], ["train_mse", "test_mse", "diverged", "steps"]),
        ("rate_units", ["experiment", "n", "repetition"], ["curves"]),
        ("generalization_runs", ["experiment", "seed", "train_size"], ["test_size", "train_accuracy", "test_accuracy"]),
    ]

    /// Copies every experiment and result of the store at `path` (a shard's file) into this one,
    /// each row at most once, in one transaction. A version-2 or 3 shard is brought to the current
    /// version first (as opening it for writing would); a file of another schema version is an
    /// error and nothing is copied.
    public func merge(from path: String) throws -> MergeSummary {
        let shard = try ResultStore.current(path)
        guard shard.version == Self.schemaVersion else {
            throw StoreError.incompatible(path: path, found: shard.version, expected: Self.schemaVersion)
        }
        var summary = MergeSummary()
        try db.writeWithoutTransaction { d in
            try d.execute(sql: "ATTACH DATABASE ? AS shard", arguments: [path])
            defer { try? d.execute(sql: "DETACH DATABASE shard") }
            try d.inTransaction {
                try d.execute(sql: "INSERT OR IGNORE INTO experiments SELECT * FROM shard.experiments")
                for t in Self.outcomes {
                    let join = t.key.map { "s.\($0) = m.\($0)" }.joined(separator: " AND ")
                    let same = t.outcome.map { "s.\($0) IS m.\($0)" }.joined(separator: " AND ")
                    let present = try Int.fetchOne(d, sql: "SELECT count(*) FROM shard.\(t.table) s JOIN main.\(t.table) m ON \(join)") ?? 0
                    let equal = try Int.fetchOne(d, sql: "SELECT count(*) FROM shard.\(t.table) s JOIN main.\(t.table) m ON \(join) WHERE \(same)") ?? 0
                    let total = try Int.fetchOne(d, sql: "SELECT count(*) FROM shard.\(t.table)") ?? 0
                    try d.execute(sql: "INSERT OR IGNORE INTO main.\(t.table) SELECT * FROM shard.\(t.table)")
                    summary.added += total - present; summary.duplicates += equal; summary.conflicts += present - equal
                }
                return .commit
            }
        }
        return summary
    }
}

extension ResultStore {
    /// The store at `path` for reading, brought to the current schema first where it is at
    /// version 2 or 3 (as opening it for writing would), for merges.
    static func current(_ path: String) throws -> ResultStore {
        let shard = try ResultStore(path: path, readOnly: true)
        return (2...4).contains(shard.version) ? try ResultStore(path: path) : shard
    }
}
