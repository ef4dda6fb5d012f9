import Adaptivity
import Capacity
import Foundation
import GRDB
import Linalg
import Recovery

/// One experiment's results in a store, for every instrument: fit attempts (EMC), recovery
/// runs, rate units and generalization runs.
public protocol ExperimentCache: AttemptCache, RecoveryCache, RateCache, GeneralizationCache {}

/// Where results are kept: the embedded SQLite file (`ResultStore`, the default) or a
/// PostgreSQL database shared by many machines (`PostgresStore`). Every command that takes
/// `--store` opens it with `openStore`, and every instrument reads and writes through this, so
/// each runs the same on either.
public protocol Store: AnyObject, Sendable {
    /// The file or URL (without a password), for messages.
    var location: String { get }
    /// Registers an experiment (idempotent) and returns the cache of its results. `config` is
    /// the key; `description` is stored beside it for people (how the data set was named).
    func cache(instrument: String, config: [String: String], description: [String: String]) throws -> any ExperimentCache
    /// Every stored result's arithmetic, counted (StoreArithmetic.swift).
    func arithmetics() throws -> [ArithmeticCount]
}

extension ResultStore: Store {
    public var location: String { path }
    public func cache(instrument: String, config: [String: String], description: [String: String]) throws -> any ExperimentCache {
        try experiment(instrument: instrument, config: config, description: description)
    }
}

extension Store {
    func cache(instrument: String, config: [String: String]) throws -> any ExperimentCache {
        try cache(instrument: instrument, config: config, description: [:])
    }
}

/// True for a `postgres://` or `postgresql://` URL: such a `--store` is a PostgreSQL database.
public func isPostgresURL(_ location: String) -> Bool {
    location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
}

/// Opens the store a `--store` option names: a PostgreSQL URL or a SQLite file path. Anything
/// else that looks like a URL (`sqlite://…`, `postgres:host/db`, `http://…`) is an error rather
/// than a file of that name. A read-only store must exist and is never written to.
public func openStore(_ location: String, readOnly: Bool = false) throws -> any Store {
    if isPostgresURL(location) { return try PostgresStore(url: location) }
    let lower = location.lowercased()
    if lower.hasPrefix("postgres:") || lower.hasPrefix("postgresql:") || looksLikeURL(location) {
        throw StoreError.cannotOpen(path: location, reason: "not a store: give a SQLite file path or a postgres://USER@HOST/DATABASE URL")
    }
    if readOnly && !FileManager.default.fileExists(atPath: location) {
        throw StoreError.cannotOpen(path: location, reason: "no such file (nothing has been stored there yet)")
    }
    return try ResultStore(path: location, readOnly: readOnly)
}

/// "scheme://…" with an RFC 3986 scheme.
func looksLikeURL(_ s: String) -> Bool {
    guard let r = s.range(of: "://"), let first = s.first, first.isASCII, first.isLetter else { return false }
    return s[..<r.lowerBound].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }
}

/// The key of an experiment: its configuration and, from revision 2 on, the engine revision that
/// computes it (`Engine.revision`: a build whose arithmetic differs never reads another's results
/// back), as canonical JSON (sorted keys), the same in every store, so results move between them
/// unchanged. At revision 1 the key is the configuration alone, as stores have always had it.
func canonicalKey(_ config: [String: String], engine: Int = Engine.revision) throws -> String {
    try json(withEngine(config, engine))
}

/// What a store shows beside an experiment's key: the key's settings and the description (how
/// the data set was named), as canonical JSON.
func shownConfig(_ config: [String: String], _ description: [String: String], engine: Int = Engine.revision) throws -> String {
    try json(withEngine(config, engine).merging(description) { key, _ in key })
}

/// `config` with the `engine` entry a key carries from revision 2 on.
func withEngine(_ config: [String: String], _ engine: Int) -> [String: String] {
    engine > 1 ? config.merging(["engine": String(engine)]) { _, revision in revision } : config
}

/// The engine revision an experiment's key was made by (1 where it has no `engine` entry).
func engineRevision(ofKey key: String) -> Int? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(key.utf8)) as? [String: Any] else { return nil }
    guard let engine = object["engine"] else { return 1 }
    return (engine as? String).flatMap { Int($0) }
}

func json(_ object: [String: String]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

/// The system's text for an errno value, in lower case, as a clause of a sentence.
func systemReason(_ code: Int32) -> String { String(cString: strerror(code)).lowercased() }

/// An error from the system or SQLite as one plain sentence ("permission denied", "no such
/// file or folder"), instead of Foundation's domain-and-code text.
public func plainReason(_ error: Error) -> String {
    if let e = error as? DatabaseError { return e.message ?? "SQLite error \(e.resultCode.rawValue)" }
    let ns = error as NSError
    if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain {
        return systemReason(Int32(u.code))
    }
    if ns.domain == NSPOSIXErrorDomain { return systemReason(Int32(ns.code)) }
    guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }
    switch CocoaError.Code(rawValue: ns.code) {
    case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
    case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
    case .fileWriteOutOfSpace: return "no space left on the disk"
    case .fileWriteVolumeReadOnly: return "the file system is read-only"
    case .fileWriteFileExists: return "a file is in the way"
    default: return ns.localizedDescription
    }
}
