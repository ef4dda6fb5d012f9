import Capacity
import Foundation

/// Where EMC attempts are kept: the embedded SQLite file (`ResultStore`, the default) or a
/// PostgreSQL database shared by many machines (`PostgresStore`). Sweeps, their status and the
/// EMC measurement read and write through this, so they run the same on either.
public protocol AttemptStore: AnyObject, Sendable {
    /// The file or URL (without a password), for messages.
    var location: String { get }
    /// Registers an experiment (idempotent) and returns the cache of its attempts.
    func experimentAttempts(instrument: String, config: [String: String]) throws -> any AttemptCache
}

extension ResultStore: AttemptStore {
    public var location: String { path }
    public func experimentAttempts(instrument: String, config: [String: String]) throws -> any AttemptCache {
        try experiment(instrument: instrument, config: config)
    }
}

/// True for a `postgres://` or `postgresql://` URL: such a `--store` is a PostgreSQL database.
public func isPostgresURL(_ location: String) -> Bool {
    location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
}

/// Opens the store a `--store` option names: a PostgreSQL URL or a SQLite file path.
public func openStore(_ location: String) throws -> any AttemptStore {
    isPostgresURL(location) ? try PostgresStore(url: location) : try ResultStore(path: location)
}

/// The key of an experiment: its configuration as canonical JSON (sorted keys), the same in
/// every store, so results move between them unchanged.
func canonicalKey(_ config: [String: String]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
}
