import Capacity
import Foundation
import GRDB
import PostgresNIO

/// The store as a PostgreSQL database, `--store postgres://user[:password]@host[:port]/db`:
/// the same experiments and results as the SQLite file (every instrument's), plus the work queue of searches that
/// `overparam worker` processes on any number of machines (`WorkQueue.swift`). All tables live
/// in one schema (`?schema=NAME`, default `overparam`), so one database can hold several.
///
/// Calls block: the instruments run on plain threads, and each call waits for its reply on
/// the connection's event loop. One connection per store, one statement at a time on it.
public final class PostgresStore: @unchecked Sendable {
    /// 6: recovery runs, rate units and generalization runs keep their arithmetic too (SQLite's
    /// schema 5; a version-2 to 5 schema gains the columns it lacks on first use).
    /// 5: each attempt keeps the arithmetic that computed it, as the SQLite store's do.
    /// 4: each queued search is held to the arithmetic (`Engine.arithmetic`) of the worker that
    /// first claimed it.
    /// 3: recovery runs keep their measures.
    /// 2: data sets keyed by their contents, attempts by their step budget, and every
    /// instrument's results (1: EMC attempts alone, keyed by the data's path).
    public static let schemaVersion = 6
    public let location: String
    let schema: String
    let connection: PostgresConnection
    let lock = NSRecursiveLock()
    let logger: Logger = {
        var l = Logger(label: "overparam.postgres")
        l.logLevel = .critical
        return l
    }()

    /// Connects (within `connectTimeout` seconds: an unreachable server is an error, not a
    /// hang) and checks or creates the schema.
    public init(url: String, connectTimeout: Int64 = 10) throws {
        let target = try PostgresURL(url)
        location = target.display
        schema = target.schema
        var config = PostgresConnection.Configuration(host: target.host, port: target.port, username: target.user,
                                                      password: target.password, database: target.database, tls: .disable)
        if target.tls != .disable {
            let context = try NIOSSLContext(configuration: .makeClientConfiguration())
            config.tls = target.tls == .require ? .require(context) : .prefer(context)
        }
        config.options.connectTimeout = .seconds(connectTimeout)
        do {
            connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: config,
                                                        id: 1, logger: logger).wait()
        } catch {
            throw StoreError.cannotOpen(path: location, reason: Self.explain(error))
        }
        do {
            try prepareSchema()
        } catch let StoreError.failed(_, reason) {
            try? connection.close().wait()
            throw StoreError.cannotOpen(path: location, reason: reason)
        } catch let e as StoreError {
            try? connection.close().wait()
            throw e
        } catch {
            try? connection.close().wait()
            throw StoreError.cannotOpen(path: location, reason: Self.explain(error))
        }
    }

    deinit { try? connection.close().wait() }

    /// `s.table` for the store's schema.
    func t(_ table: String) -> String { "\(schema).\(table)" }

    @discardableResult
    func query(_ q: PostgresQuery) throws -> PostgresQueryResult {
        try lock.withLock {
            do { return try connection.query(q, logger: logger).wait() } catch {
                throw StoreError.failed(path: location, reason: Self.explain(error))
            }
        }
    }

    func execute(_ sql: String) throws { try query(PostgresQuery(unsafeSQL: sql)) }

    /// Runs `body` in one transaction on the store's connection (rolled back if it throws).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock {
            try execute("BEGIN")
            do {
                let r = try body()
                try execute("COMMIT")
                return r
            } catch {
                try? execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Creates the schema on first use; refuses one of another version without touching it.
    /// Several workers may start at once: an advisory lock makes one of them create it.
    func prepareSchema() throws {
        try transaction {
            try execute("SELECT pg_advisory_xact_lock(7406151)")
            let meta = try query("SELECT to_regclass(\(t("meta")))::text").rows.first?.decode(String?.self) ?? nil
            if meta != nil {
                let found = try query("SELECT value FROM \(unescaped: t("meta")) WHERE key = 'schema_version'")
                    .rows.first?.decode(String.self)
                if ["2", "3", "4", "5"].contains(found) {   // → 6 (as ResultStore.migrate); under the lock, once
                    try execute("ALTER TABLE \(schema).recovery_runs ADD COLUMN IF NOT EXISTS measures TEXT")
                    for table in ["searches", "attempts", "recovery_runs", "rate_units", "generalization_runs"] {
                        try execute("ALTER TABLE \(schema).\(table) ADD COLUMN IF NOT EXISTS arithmetic TEXT")
                    }
                    try execute("UPDATE \(schema).meta SET value = '\(Self.schemaVersion)' WHERE key = 'schema_version'")
                    return
                }
                guard let found, Int(found) == Self.schemaVersion else {
                    throw StoreError.incompatible(path: location, found: found.flatMap { Int($0) } ?? 0, expected: Self.schemaVersion)
                }
                return
            }
            let s = schema
            // One statement per call: the extended protocol takes no lists of them.
            for statement in [
                "CREATE SCHEMA IF NOT EXISTS \(s)",
                "CREATE TABLE \(s).meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """
                CREATE TABLE \(s).experiments (
                    key TEXT PRIMARY KEY, instrument TEXT NOT NULL, config TEXT NOT NULL, created TEXT NOT NULL)
                """,
                """
                CREATE TABLE \(s).attempts (
                    experiment TEXT NOT NULL REFERENCES \(s).experiments(key), seed BIGINT NOT NULL, n BIGINT NOT NULL,
                    budget BIGINT NOT NULL,
                    verdict TEXT NOT NULL, train_loss DOUBLE PRECISION NOT NULL, train_accuracy DOUBLE PRECISION NOT NULL,
                    gradient_norm DOUBLE PRECISION NOT NULL, steps BIGINT NOT NULL, seconds DOUBLE PRECISION NOT NULL,
                    finished TEXT NOT NULL, worker TEXT, hessian_min DOUBLE PRECISION, hessian_max DOUBLE PRECISION,
                    arithmetic TEXT,
                    PRIMARY KEY (experiment, seed, n, budget))
                """,
                """
                CREATE TABLE \(s).searches (
                    id BIGSERIAL PRIMARY KEY, experiment TEXT NOT NULL REFERENCES \(s).experiments(key),
                    settings TEXT NOT NULL, seed BIGINT NOT NULL, label TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'queued', attempts BIGINT NOT NULL DEFAULT 0, next_n BIGINT,
                    worker TEXT, lease_until TIMESTAMPTZ, claims BIGINT NOT NULL DEFAULT 0, error TEXT,
                    submitted TIMESTAMPTZ NOT NULL DEFAULT now(), arithmetic TEXT,
                    UNIQUE (settings, seed))
                """,
                "CREATE INDEX ON \(s).searches (state, attempts, id)",
                """
                CREATE TABLE \(s).recovery_runs (
                    experiment TEXT NOT NULL REFERENCES \(s).experiments(key), seed BIGINT NOT NULL, n BIGINT NOT NULL,
                    train_mse DOUBLE PRECISION, test_mse DOUBLE PRECISION, diverged BIGINT NOT NULL, steps BIGINT NOT NULL,
                    seconds DOUBLE PRECISION NOT NULL, finished TEXT NOT NULL, measures TEXT, arithmetic TEXT,
                    PRIMARY KEY (experiment, seed, n))
                """,
                """
                CREATE TABLE \(s).rate_units (
                    experiment TEXT NOT NULL REFERENCES \(s).experiments(key), n BIGINT NOT NULL, repetition BIGINT NOT NULL,
                    curves BYTEA NOT NULL, seconds DOUBLE PRECISION NOT NULL, finished TEXT NOT NULL, arithmetic TEXT,
                    PRIMARY KEY (experiment, n, repetition))
                """,
                """
                CREATE TABLE \(s).generalization_runs (
                    experiment TEXT NOT NULL REFERENCES \(s).experiments(key), seed BIGINT NOT NULL, train_size BIGINT NOT NULL,
                    test_size BIGINT NOT NULL, train_accuracy DOUBLE PRECISION NOT NULL, test_accuracy DOUBLE PRECISION NOT NULL,
                    finished TEXT NOT NULL, arithmetic TEXT,
                    PRIMARY KEY (experiment, seed, train_size))
                """,
                "INSERT INTO \(s).meta VALUES ('schema_version', '\(Self.schemaVersion)')",
            ] { try execute(statement) }
        }
    }

    /// What went wrong, in words: PostgresNIO hides its errors' details behind a generic text.
    static func explain(_ error: Error) -> String {
        guard let e = error as? PSQLError else { return "\(error)" }
        if let message = e.serverInfo?[.message] {
            return message + (e.serverInfo?[.detail].map { " (\($0))" } ?? "")
        }
        if let underlying = e.underlying { return "\(e.code): \(underlying)" }
        return "\(e.code)"
    }

    /// Registers an experiment (idempotent); returns its key.
    func register(instrument: String, config: [String: String], description: [String: String] = [:]) throws -> String {
        let key = try canonicalKey(config)
        let shown = try shownConfig(config, description)
        try query("""
            INSERT INTO \(unescaped: t("experiments")) (key, instrument, config, created) VALUES (\(key), \(instrument), \(shown), \(ISO8601DateFormatter().string(from: Date())))
            ON CONFLICT DO NOTHING
            """)
        return key
    }

    /// Every experiment and result, copied into a SQLite store (for merge, export and
    /// comparison); returns how many results were copied.
    @discardableResult
    public func copyResults(into store: ResultStore) throws -> Int {
        func rows(_ table: String) throws -> [PostgresRow] {
            try Array(query(PostgresQuery(unsafeSQL: "SELECT \(ResultStore.columns[table]!.joined(separator: ", ")) FROM \(t(table))")).rows)
        }
        try store.insertRaw("experiments", rows("experiments").map {
            let r = try $0.decode((String, String, String, String).self)
            return [r.0, r.1, r.2, r.3]
        })
        let attempts = try rows("attempts").map {
            let r = try $0.decode((String, Int64, Int, Int, String, Double, Double, Double, Int, Double, String, Double?, Double?, String?).self)
            return [r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13] as [(any DatabaseValueConvertible)?]
        }
        let runs = try rows("recovery_runs").map {
            let r = try $0.decode((String, Int64, Int, Double?, Double?, Int, Int, Double, String, String?, String?).self)
            return [r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10] as [(any DatabaseValueConvertible)?]
        }
        let units = try rows("rate_units").map {
            let r = try $0.decode((String, Int, Int, Data, Double, String, String?).self)
            return [r.0, r.1, r.2, r.3, r.4, r.5, r.6] as [(any DatabaseValueConvertible)?]
        }
        let general = try rows("generalization_runs").map {
            let r = try $0.decode((String, Int64, Int, Int, Double, Double, String, String?).self)
            return [r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7] as [(any DatabaseValueConvertible)?]
        }
        try store.insertRaw("attempts", attempts)
        try store.insertRaw("recovery_runs", runs)
        try store.insertRaw("rate_units", units)
        try store.insertRaw("generalization_runs", general)
        return attempts.count + runs.count + units.count + general.count
    }
}

extension PostgresStore: Store {
    public func cache(instrument: String, config: [String: String], description: [String: String]) throws -> any ExperimentCache {
        PostgresAttempts(store: self, key: try register(instrument: instrument, config: config, description: description))
    }
}

/// One experiment's attempts in PostgreSQL. A result is written once: a second save of the
/// same (seed, n) — a worker whose lease expired finishing after all — keeps the first.
struct PostgresAttempts: ExperimentCache {
    let store: PostgresStore
    let key: String
    var worker: String? = nil

    func cached(n: Int, seed: UInt64, budget: Int) throws -> FitResult? {
        try store.query("""
            SELECT n, seed, verdict, train_loss, train_accuracy, gradient_norm, steps, seconds, budget, hessian_min, hessian_max, arithmetic
            FROM \(unescaped: store.t("attempts"))
            WHERE experiment = \(key) AND seed = \(Int64(bitPattern: seed)) AND n = \(n) AND budget = \(budget)
            """).rows.first.map(Self.result)
    }

    /// Every stored attempt of one seed's search, in one query: what a worker replays.
    func attempts(seed: UInt64) throws -> KnownAttempts {
        var known = KnownAttempts()
        for row in try store.query("""
            SELECT n, seed, verdict, train_loss, train_accuracy, gradient_norm, steps, seconds, budget, hessian_min, hessian_max, arithmetic
            FROM \(unescaped: store.t("attempts"))
            WHERE experiment = \(key) AND seed = \(Int64(bitPattern: seed))
            """).rows {
            known.add(try Self.result(row))
        }
        return known
    }

    static func result(_ row: PostgresRow) throws -> FitResult {
        let (n, seed, verdict, loss, accuracy, norm, steps, seconds, budget, hmin, hmax, arithmetic) =
            try row.decode((Int, Int64, String, Double, Double, Double, Int, Double, Int, Double?, Double?, String?).self)
        return FitResult(n: n, seed: UInt64(bitPattern: seed), verdict: Verdict(rawValue: verdict) ?? .undecided, trainLoss: loss,
                         trainAccuracy: accuracy, gradientNorm: norm, steps: steps, seconds: seconds, budget: budget, hessian: (hmin, hmax),
                         arithmetic: arithmetic)
    }

    func save(_ r: FitResult) throws { _ = try insert(r) }

    /// Writes the result unless one is already there; returns false when one was.
    func insert(_ r: FitResult) throws -> Bool {
        let written = try store.query("""
            INSERT INTO \(unescaped: store.t("attempts")) (experiment, seed, n, budget, verdict, train_loss, train_accuracy, gradient_norm, steps, seconds, finished, worker, hessian_min, hessian_max,
                                                         arithmetic)
            VALUES (\(key), \(Int64(bitPattern: r.seed)), \(r.n), \(r.budget), \(r.verdict.rawValue), \(r.trainLoss), \(r.trainAccuracy),
                    \(r.gradientNorm), \(r.steps), \(r.seconds), \(ISO8601DateFormatter().string(from: Date())), \(worker), \(r.hessianMin), \(r.hessianMax),
                    \(r.arithmetic))
            ON CONFLICT DO NOTHING
            """).metadata.rows ?? 0
        return written == 1
    }
}

/// One seed's attempts, fetched at once, as a cache to replay its search from.
struct KnownAttempts: AttemptCache {
    var results = [[Int]: FitResult]()   // by [n, budget]
    func cached(n: Int, seed: UInt64, budget: Int) -> FitResult? { results[[n, budget]].flatMap { $0.seed == seed ? $0 : nil } }
    mutating func add(_ r: FitResult) { results[[r.n, r.budget]] = r }
    var all: [FitResult] { Array(results.values) }
    func save(_ result: FitResult) throws { preconditionFailure("read-only") }
}

/// A `postgres://` URL's parts. The password never appears in `display` (messages, logs).
struct PostgresURL {
    enum TLS { case disable, prefer, require }
    var host: String, port: Int, user: String, password: String?, database: String, schema: String, tls: TLS
    var display: String

    init(_ text: String) throws {
        func bad(_ why: String) -> StoreError {
            StoreError.cannotOpen(path: Self.redact(text), reason: "\(why); expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&sslmode=disable|prefer|require]")
        }
        guard let c = URLComponents(string: text), c.scheme == "postgres" || c.scheme == "postgresql" else { throw bad("not a PostgreSQL URL") }
        guard let h = c.host, !h.isEmpty else { throw bad("no host") }
        host = h
        port = c.port ?? 5432
        user = c.user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        password = c.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let db = String(c.path.drop { $0 == "/" })
        guard !db.isEmpty else { throw bad("no database name") }
        database = db
        let items = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { $1 }
        for k in items.keys where k != "schema" && k != "sslmode" { throw bad("unknown parameter '\(k)'") }
        schema = items["schema"] ?? "overparam"
        guard let first = schema.first, first.isLetter || first == "_",
              schema.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }), schema == schema.lowercased() else {
            throw bad("schema '\(schema)' must be a lower-case name of letters, digits and _")
        }
        switch items["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        case let other: throw bad("sslmode '\(other)'")
        }
        display = Self.redact(text)
    }

    static func redact(_ text: String) -> String {
        guard var c = URLComponents(string: text), c.password != nil else { return text }
        c.password = "***"
        return c.string ?? text
    }
}

extension ResultStore {
    /// A SQLite copy of a PostgreSQL store's results, in a temporary file (for export and merge).
    public static func copy(of pg: PostgresStore) throws -> ResultStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-\(getpid())-\(UUID().uuidString).sqlite").path
        let s = try ResultStore(path: path)
        try pg.copyResults(into: s)
        return s
    }

    /// Copies a PostgreSQL store's results in, each at most once, as `merge(from:)` does a shard's.
    public func merge(from pg: PostgresStore) throws -> MergeSummary {
        let copy = try ResultStore.copy(of: pg)
        defer { copy.remove() }
        return try merge(from: copy.path)
    }

    /// Deletes a temporary copy's file.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A store's results as a SQLite file to read: the file itself, or for PostgreSQL a temporary
/// copy (`isCopy`: remove it when done).
public func sqliteView(of store: any Store) throws -> (store: ResultStore, isCopy: Bool) {
    if let s = store as? ResultStore { return (s, false) }
    if let pg = store as? PostgresStore { return (try ResultStore.copy(of: pg), true) }
    throw StoreError.cannotOpen(path: store.location, reason: "this kind of store cannot be read as a file")
}
