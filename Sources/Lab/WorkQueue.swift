import Capacity
import Datasets
import Foundation
import Linalg
import PostgresNIO

// The work queue: a sweep's searches — one per (configuration, seed) — as rows of `searches`.
// A worker claims one row at a time under a lease (`FOR UPDATE SKIP LOCKED`, so workers never
// wait on each other), replays the search from the stored attempts, runs the one attempt it
// needs next while a heartbeat renews the lease, writes the result once, and lets the row go.
// A worker that dies (SIGKILL, a lost machine) stops renewing: its lease expires and the next
// worker to claim the row re-runs that attempt. Times are the server's, so workers' clocks
// need not agree.

/// One search taken from the queue.
public struct Claim: Sendable {
    public var id: Int64
    public var settings: [String: String]
    public var seed: UInt64
    public var experiment: String
    public var label: String
    /// The worker whose lease on this search had expired (it died mid-attempt), if any.
    public var previousWorker: String?
}

/// Where the queue stands.
public struct QueueStatus: Sendable {
    /// Searches waiting or in progress (`queued`, of which `leased` are held now), finished, failed.
    public var queued = 0, leased = 0, done = 0, failed = 0
    public var leases: [(worker: String, label: String, seed: UInt64, secondsLeft: Double)] = []
    /// The searches waiting or running that are held to an arithmetic (claimed once), per arithmetic.
    public var held: [(arithmetic: String, searches: Int)] = []
    public var failures: [(label: String, seed: UInt64, error: String)] = []

    /// Searches waiting or running that a worker of `arithmetic` may not run: held to another.
    public func heldElsewhere(than arithmetic: String) -> Int {
        held.filter { $0.arithmetic != arithmetic }.map(\.searches).reduce(0, +)
    }
}

extension SweepSpec {
    /// Throws unless the work queue can run this sweep: it runs EMC searches only.
    public func checkQueueable() throws {
        guard kind == .emc else {
            throw ExperimentError("the work queue runs emc sweeps; run a \(kind.rawValue) sweep with `sweep run` (and --shard for many machines)")
        }
    }
}

extension PostgresStore {
    /// Enqueues every (configuration, seed) search of a sweep, in one transaction; a search
    /// already in the queue (done or not) is left as it is.
    public func submit(_ spec: SweepSpec) throws -> (queued: Int, present: Int) {
        try submit([spec])[0]
    }

    /// Enqueues the searches of several sweeps in one transaction — all of them or, where one
    /// fails, none — with each sweep's counts; a configuration two sweeps share is queued by the
    /// first and found present by the second.
    public func submit(_ specs: [SweepSpec]) throws -> [(queued: Int, present: Int)] {
        for spec in specs { try spec.checkQueueable() }
        return try transaction {
            try specs.map { spec in
                var added = 0, present = 0
                for c in spec.configurations {
                    let settings = try EMCSettings(c)
                    let key = try register(instrument: "emc", config: try settings.storeKey(), description: settings.storeDescription)
                    // The settings alone, as a worker parses them back: the engine revision is the
                    // experiment key's, which the worker checks against its own.
                    let text = try json(settings.values.filter { $0.key != "seeds" })
                    for seed in 0..<(try settings.seeds) {
                        let rows = try query("""
                            INSERT INTO \(unescaped: t("searches")) (experiment, settings, seed, label)
                            VALUES (\(key), \(text), \(Int64(seed)), \(spec.label(c))) ON CONFLICT DO NOTHING
                            """).metadata.rows ?? 0
                        if rows == 1 { added += 1 } else { present += 1 }
                    }
                }
                return (added, present)
            }
        }
    }

    /// Takes the waiting search with the fewest attempts (so searches advance together), or
    /// one whose lease has expired, and leases it to `worker` for `lease` seconds — among the
    /// searches a worker of `arithmetic` may run: those no worker has claimed yet, and those held
    /// to the same arithmetic. The first claim holds a search to its worker's arithmetic, so
    /// every attempt of a search rounds alike: a bisection over attempts of two kernel paths
    /// would end at an EMC that neither machine computes.
    public func claim(worker: String, lease: Double, arithmetic: String = Engine.arithmetic) throws -> Claim? {
        let s = t("searches")
        guard let row = try query("""
            WITH c AS (SELECT id, worker AS previous FROM \(unescaped: s)
                       WHERE state = 'queued' AND (lease_until IS NULL OR lease_until < now())
                             AND (arithmetic IS NULL OR arithmetic = \(arithmetic))
                       ORDER BY attempts, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            UPDATE \(unescaped: s) q SET worker = \(worker), lease_until = now() + make_interval(secs => \(lease)), claims = q.claims + 1,
                   arithmetic = \(arithmetic)
            FROM c WHERE q.id = c.id
            RETURNING q.id, q.settings, q.seed, q.experiment, q.label, c.previous
            """).rows.first else { return nil }
        let (id, settings, seed, experiment, label, previous) = try row.decode((Int64, String, Int64, String, String, String?).self)
        guard let object = try? JSONSerialization.jsonObject(with: Data(settings.utf8)) as? [String: String] else {
            throw ExperimentError("search \(id) in \(location) has unreadable settings: \(settings)")
        }
        return Claim(id: id, settings: object, seed: UInt64(bitPattern: seed), experiment: experiment, label: label, previousWorker: previous)
    }

    /// Extends the lease; false when it is no longer this worker's (it expired and was taken).
    public func renew(_ c: Claim, worker: String, lease: Double) throws -> Bool {
        try query("""
            UPDATE \(unescaped: t("searches")) SET lease_until = now() + make_interval(secs => \(lease))
            WHERE id = \(c.id) AND worker = \(worker)
            """).metadata.rows == 1
    }

    /// Lets the search go (queued for its next attempt, done or failed); false when the lease
    /// had already passed to another worker, which then owns the row.
    public func release(_ c: Claim, worker: String, attempts: Int, next: Int?, state: String, error: String? = nil) throws -> Bool {
        try query("""
            UPDATE \(unescaped: t("searches")) SET worker = NULL, lease_until = NULL, attempts = \(attempts), next_n = \(next),
                   state = \(state), error = \(error)
            WHERE id = \(c.id) AND worker = \(worker)
            """).metadata.rows == 1
    }

    public func queueStatus() throws -> QueueStatus {
        var q = QueueStatus()
        let s = t("searches")
        for row in try query("SELECT state, count(*) FROM \(unescaped: s) GROUP BY state").rows {
            let (state, count) = try row.decode((String, Int).self)
            switch state {
            case "queued": q.queued = count
            case "done": q.done = count
            default: q.failed += count
            }
        }
        for row in try query("""
            SELECT worker, label, seed, extract(epoch FROM lease_until - now())::float8 FROM \(unescaped: s)
            WHERE state = 'queued' AND lease_until > now() ORDER BY worker
            """).rows {
            let (w, label, seed, left) = try row.decode((String, String, Int64, Double).self)
            q.leases.append((w, label, UInt64(bitPattern: seed), left))
        }
        q.leased = q.leases.count
        for row in try query("""
            SELECT arithmetic, count(*) FROM \(unescaped: s) WHERE state = 'queued' AND arithmetic IS NOT NULL
            GROUP BY arithmetic ORDER BY arithmetic
            """).rows {
            let (arithmetic, count) = try row.decode((String, Int).self)
            q.held.append((arithmetic, count))
        }
        for row in try query("SELECT label, seed, coalesce(error, '') FROM \(unescaped: s) WHERE state = 'failed' ORDER BY id").rows {
            let (label, seed, error) = try row.decode((String, Int64, String).self)
            q.failures.append((label, UInt64(bitPattern: seed), error))
        }
        return q
    }
}

/// How `overparam worker` runs.
public struct WorkerOptions: Sendable {
    /// The name leases are held under (default host:pid).
    public var name: String
    /// Seconds a claim lasts without a heartbeat; heartbeats come every third of it.
    public var lease: Double = 60
    /// Attempts run side by side in this process, each on one core.
    public var threads: Int = 1
    /// Keep waiting for new work when the queue is empty (otherwise exit).
    public var wait = false
    /// The arithmetic this process computes (`Engine.arithmetic`); the worker claims only the
    /// searches not yet held to another. Tests stand in another machine's by naming another.
    public var arithmetic = Engine.arithmetic
    /// The longest wait between looks at a queue whose searches are all leased to others (the
    /// waits grow from 0.1 s to this while nothing comes free).
    public var poll: Double = 2

    public init(name: String) { self.name = name }
}

/// What a worker did.
public struct WorkerSummary: Sendable {
    public var attempts = 0, searchesFinished = 0, takenOver = 0, failed = 0, duplicates = 0
    /// Searches left waiting when the worker stopped, held to workers of another arithmetic.
    public var heldElsewhere = 0
}

/// Claims and runs attempts until no search is waiting (or forever with `wait`). Data sets
/// are loaded once per process. An attempt that throws (a missing or changed data file; a
/// divergence is a verdict, not an error) marks its search failed with the message and the
/// worker goes on; a lost database ends it.
public func runWorker(store: PostgresStore, options: WorkerOptions, log: @escaping @Sendable (String) -> Void) throws -> WorkerSummary {
    let lock = NSLock()
    var summary = WorkerSummary()
    var firstError: Error? = nil
    var datasets = [String: (data: LabeledData<Float>, fingerprint: String)]()

    /// The claim's data as this machine has it, checked against the data set the search was
    /// submitted with: a file that differs here (another version at the same path) would store
    /// results under the wrong experiment. Where the keys differ because the submitting build was
    /// of another engine revision, the error says that instead.
    func data(_ settings: EMCSettings, for claim: Claim) throws -> LabeledData<Float> {
        // Loading under the lock: two threads never load the same set twice.
        let (d, fingerprint) = try lock.withLock {
            if let d = datasets[settings.dataKey] { return d }
            let d = (try settings.data(), try DataSpec.fingerprint(settings["data"]))
            datasets[settings.dataKey] = d
            return d
        }
        guard try canonicalKey(try settings.storeKey(fingerprint: fingerprint)) == claim.experiment else {
            if let submitted = engineRevision(ofKey: claim.experiment), submitted != Engine.revision {
                throw ExperimentError("the search was submitted by an overparam of engine revision \(submitted), and this worker computes revision \(Engine.revision): its results would differ in the last bits; run the same overparam build on every worker")
            }
            throw ExperimentError("data '\(settings["data"])' on this machine differs from the data the search was submitted with (content \(fingerprint)); give every worker the same files")
        }
        return d
    }

    func loop(_ name: String) throws {
        var idle = 0.1
        while lock.withLock({ firstError == nil }) {
            guard let c = try store.claim(worker: name, lease: options.lease, arithmetic: options.arithmetic) else {
                // Done when nothing is left that this worker may run; a search held to another
                // arithmetic waits for a worker of that one.
                let q = try store.queueStatus()
                if q.queued - q.heldElsewhere(than: options.arithmetic) == 0 && !options.wait { return }
                Thread.sleep(forTimeInterval: min(idle, options.poll))
                idle *= 2
                continue
            }
            idle = 0.1
            if let p = c.previousWorker {
                log("\(name): lease of \(p) on \(c.label) seed \(c.seed) expired; re-running its attempt")
                lock.withLock { summary.takenOver += 1 }
            }
            let cache = PostgresAttempts(store: store, key: c.experiment, worker: name)
            var state: SearchState
            var known: KnownAttempts
            var procedure: FitProcedure
            var order: [Int]
            var retried: (FitResult) -> Bool
            let result: FitResult
            do {
                let settings = try EMCSettings(c.settings)
                let d = try data(settings, for: c)
                procedure = try settings.procedure()
                state = SearchState(plan: try settings.plan(maximum: d.count), seed: c.seed)
                order = d.sampleOrder(seed: c.seed)
                retried = procedure.retried(labels: attemptLabels(d, order: order))
                known = try cache.attempts(seed: c.seed)
                try state.replay(from: known, budgets: procedure.budgets, retrying: retried)
                guard let n = state.next else {
                    _ = try store.release(c, worker: name, attempts: state.attempts.count, next: nil, state: "done")
                    continue
                }
                // The size's next budget: the first, or the next after an undecided or collapsed run.
                guard case let .run(budget) = procedure.budgets.resolve(retrying: retried, { known.cached(n: n, seed: c.seed, budget: $0) }) else {
                    preconditionFailure("replay stops only at a size not yet decided")
                }
                // Attempts of another arithmetic (a store merged in from another machine): not continued here.
                let here = Engine.arithmetic
                if let other = foreignArithmetic(known.all, here: here) { throw SearchBegunElsewhere(seed: c.seed, arithmetic: other, here: here) }
                log("\(name): \(c.label) seed \(c.seed): attempt n = \(n), budget \(budget) steps (bracket [\(state.lo), \(state.hi.map(String.init) ?? "–")])")
                let beat = Heartbeat(every: options.lease / 3) { lost in
                    if !lost, (try? store.renew(c, worker: name, lease: options.lease)) == false {
                        log("\(name): lost the lease on \(c.label) seed \(c.seed) (another worker took it over)")
                        return true
                    }
                    return lost
                }
                defer { beat.stop() }
                result = try searchAttempt(d, order: order, n: n, procedure: procedure.withBudget(budget), seed: c.seed)
            } catch let e as StoreError {
                throw e
            } catch {
                log("\(name): \(c.label) seed \(c.seed) failed: \(error)")
                _ = try store.release(c, worker: name, attempts: 0, next: nil, state: "failed", error: "\(error)")
                lock.withLock { summary.failed += 1 }
                continue
            }
            // The result and the search's release commit together (one round of the log to disk).
            let over: Bool = try store.transaction {
                var stored = result
                if try !cache.insert(result), let kept = try cache.cached(n: result.n, seed: c.seed, budget: result.budget) {
                    // Written meanwhile by a worker that had this lease before: that one stands.
                    let same = kept.verdict == result.verdict && kept.trainLoss == result.trainLoss && kept.steps == result.steps
                    log("\(name): \(c.label) seed \(c.seed) n = \(result.n) was already stored" + (same ? " (identical)" : " with a DIFFERENT outcome; kept the first"))
                    lock.withLock { summary.duplicates += 1 }
                    stored = kept
                }
                known.add(stored)
                try state.replay(from: known, budgets: procedure.budgets, retrying: retried)
                if try !store.release(c, worker: name, attempts: state.attempts.count, next: state.next, state: state.next == nil ? "done" : "queued") {
                    log("\(name): \(c.label) seed \(c.seed): the lease had passed to another worker; it carries on from the stored result")
                }
                return state.next == nil
            }
            log(String(format: "%@: %@ seed %llu n = %d %@ (acc %.2f%%, %d of %d steps, %.1f s)%@", name, c.label, c.seed, result.n,
                       result.verdict.rawValue, 100 * result.trainAccuracy, result.steps, result.budget, result.seconds,
                       over ? "; search done, EMC \(state.lo)" : ""))
            lock.withLock {
                summary.attempts += 1
                if over { summary.searchesFinished += 1 }
            }
        }
    }

    let threads = max(1, options.threads)
    DispatchQueue.concurrentPerform(iterations: threads) { i in
        do { try loop(threads == 1 ? options.name : "\(options.name)/\(i)") } catch {
            lock.withLock { if firstError == nil { firstError = error } }
        }
    }
    if let firstError { throw firstError }
    summary.heldElsewhere = try store.queueStatus().heldElsewhere(than: options.arithmetic)
    return summary
}

/// Calls `beat` every `seconds` on a background queue until stopped, passing on what the last
/// call returned (for the worker: whether the lease is lost, so that it says so once).
final class Heartbeat: @unchecked Sendable {
    final class State: @unchecked Sendable { var value = false }
    let timer: DispatchSourceTimer

    init(every seconds: Double, _ beat: @escaping @Sendable (Bool) -> Bool) {
        // A serial queue: beats never overlap, so the state needs no lock.
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "overparam.heartbeat"))
        timer.schedule(deadline: .now() + seconds, repeating: seconds)
        let state = State()
        timer.setEventHandler { state.value = beat(state.value) }
        timer.resume()
    }

    func stop() { timer.cancel() }
}
