import ArgumentParser
import Foundation
import Lab

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print every stored attempt as CSV (default) or JSON.")

    @Option(help: "The result store: a SQLite file or a postgres:// URL.") var store: String = "overparam-results.sqlite"
    @Flag(help: "JSON instead of CSV.") var json = false

    func run() throws {
        do {
            let remote = isPostgresURL(store)
            guard remote || FileManager.default.fileExists(atPath: store) else { throw ValidationError("no result store at \(store)") }
            let s = remote ? try ResultStore.copy(of: try PostgresStore(url: store)) : try ResultStore(path: store)
            defer { if remote { s.remove() } }
            print(json ? try s.exportJSON() : try s.exportCSV(), terminator: json ? "\n" : "")
        } catch { fail(error) }
    }
}
