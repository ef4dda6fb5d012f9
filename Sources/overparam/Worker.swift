import ArgumentParser
import Foundation
import Lab

struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work on the searches queued in a PostgreSQL store (`overparam sweep submit`), on as many machines as you like.",
        discussion: """
            Each attempt is claimed under a lease that a heartbeat renews; a worker that dies (SIGKILL, a lost machine) \
            stops renewing, and its attempt is re-run by the next worker once the lease expires. Every result is stored \
            once. A search is held to the arithmetic of the worker that first claims it (its CPU's kernels, the sgemm \
            in use, OpenBLAS's kernel set), so that its attempts round alike; workers of another run the other searches. \
            The worker exits when no search it may run is left waiting (unless --wait).
            """)

    @Option(help: "The PostgreSQL store, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME].") var store: String
    @Option(parsing: .unconditional, help: "Attempts run side by side, one per core.") var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seconds a claim lasts without a heartbeat (heartbeats every third of it); a dead worker's attempt restarts after this.")
    var lease: Double = 60
    @Option(help: "The name leases are held under (default HOST:PID).") var name: String?
    @Flag(help: "Keep waiting for new work when the queue is empty.") var wait = false

    func run() throws {
        do {
            guard let pg = try openStore(store) as? PostgresStore else {
                throw ExperimentError("--store '\(store)': a worker needs a postgres:// URL (the queue lives in PostgreSQL)")
            }
            guard workers >= 1 else { throw ExperimentError("--workers must be at least 1") }
            guard lease >= 1, lease.isFinite else { throw ExperimentError("--lease must be at least 1 second") }
            var options = WorkerOptions(name: name ?? workerName())
            options.lease = lease
            options.threads = workers
            options.wait = wait
            print("worker \(options.name) on \(pg.location): \(workers) at a time, lease \(Int(lease)) s, computing with \(options.arithmetic)")
            fflush(stdout)
            let s = try runWorker(store: pg, options: options) { print($0); fflush(stdout) }
            print("no search left waiting" + (s.heldElsewhere > 0 ? " that this worker may run" : "")
                  + ": \(s.attempts) attempts run, \(s.searchesFinished) searches finished, \(s.takenOver) taken over from expired leases, \(s.failed) failed")
            let q = try pg.queueStatus()
            if q.failed > 0 || s.heldElsewhere > 0 { printQueue(q) }
        } catch { fail(error) }
    }
}

/// HOST:PID, unique among the workers of one queue.
func workerName() -> String { "\(ProcessInfo.processInfo.hostName):\(getpid())" }
