import Datasets
import Foundation
import Linalg
import NeuralNets

/// How the largest fittable n is searched for.
public struct SearchPlan: Sendable {
    /// First n tried.
    public var start: Int = 64
    /// Geometric growth while attempts fit.
    public var growth: Double = 2
    /// Bisection stops when (smallest failure − largest fit) ≤ precision · largest fit.
    public var precision: Double = 0.02
    /// The largest n available (the data set's size).
    public var maximum: Int

    public init(maximum: Int) { self.maximum = maximum }
}

/// One seed's search: every attempt made, and the bracket it ended with.
public struct EMCSearch: Sendable, Codable {
    public var seed: UInt64
    public var attempts: [FitResult]
    /// The largest n that fit (0 if none did).
    public var emc: Int
    /// The smallest n that did not fit, or nil when even the whole data set fit.
    public var firstFailure: Int?
    /// Attempts that ran out of budget while improving; they bound the search like failures
    /// but do not prove one, so they are reported.
    public var undecided: Int { attempts.filter { $0.verdict == .undecided }.count }

    public init(seed: UInt64, attempts: [FitResult], emc: Int, firstFailure: Int?) {
        self.seed = seed; self.attempts = attempts; self.emc = emc; self.firstFailure = firstFailure
    }
}

/// Bracket then bisect: grow n geometrically from `plan.start` while attempts fit, then bisect
/// between the largest fit and the smallest failure to the plan's precision. `attempt(n)`
/// runs (or looks up) one fit attempt on the first n samples of this seed's permutation.
public func searchEMC(plan: SearchPlan, seed: UInt64, attempt: (Int) throws -> FitResult,
                      progress: ((FitResult, Int, Int?) -> Void)? = nil) rethrows -> EMCSearch {
    var attempts = [FitResult]()
    var lo = 0
    var hi: Int? = nil
    func run(_ n: Int) throws -> Bool {
        let r = try attempt(n)
        attempts.append(r)
        let ok = r.verdict == .fit
        if ok { lo = max(lo, n) } else { hi = min(hi ?? n, n) }
        progress?(r, lo, hi)
        return ok
    }
    var n = min(max(1, plan.start), plan.maximum)
    while hi == nil {
        let ok = try run(n)
        if ok {
            if n == plan.maximum { break }
            n = min(plan.maximum, max(n + 1, Int((Double(n) * plan.growth).rounded())))
        } else if n > 1, lo == 0 {
            // The first size already failed: shrink until one fits (or n reaches 1).
            var m = n
            while m > 1 {
                m = max(1, m / 2)
                if try run(m) { break }
            }
        }
    }
    while let h = hi, h - lo > 1, Double(h - lo) > plan.precision * Double(max(lo, 1)) {
        _ = try run((lo + h) / 2)
    }
    return EMCSearch(seed: seed, attempts: attempts, emc: lo, firstFailure: hi)
}

/// Where finished attempts are kept, so that a re-run skips them (the Lab's store implements it).
public protocol AttemptCache {
    func cached(n: Int, seed: UInt64) throws -> FitResult?
    func save(_ result: FitResult) throws
}

/// How many more attempts a search with bracket [lo, hi] needs, for progress estimates: the
/// bisection steps left, or while still growing (no failure yet) the growth steps up to the
/// maximum — a lower bound, since the first failure then starts a bisection.
public func remainingAttempts(plan: SearchPlan, lo: Int, hi: Int?) -> Int {
    var count = 0
    guard var h = hi else {
        var n = max(lo, 1)
        while n < plan.maximum { n = min(plan.maximum, max(n + 1, Int((Double(n) * plan.growth).rounded()))); count += 1 }
        return count
    }
    while h - lo > 1, Double(h - lo) > plan.precision * Double(max(lo, 1)) {
        h = (lo + h) / 2
        count += 1
    }
    return count
}

/// EMC over several seeds, with its summary.
public struct EMCReport: Sendable, Codable {
    public var arch: String
    public var parameters: Int
    public var searches: [EMCSearch]

    public init(arch: String, parameters: Int, searches: [EMCSearch]) {
        self.arch = arch; self.parameters = parameters; self.searches = searches
    }

    public var perSeed: [Int] { searches.map(\.emc) }
    public var mean: Double { Double(perSeed.reduce(0, +)) / Double(max(perSeed.count, 1)) }
    /// Sample standard deviation (0 for one seed).
    public var std: Double {
        guard perSeed.count > 1 else { return 0 }
        let m = mean
        return (perSeed.map { (Double($0) - m) * (Double($0) - m) }.reduce(0, +) / Double(perSeed.count - 1)).squareRoot()
    }
    public var undecided: Int { searches.map(\.undecided).reduce(0, +) }
    public var emcPerParameter: Double { mean / Double(max(parameters, 1)) }
}

/// Measures EMC of a procedure on a data set for several seeds: for each seed, subsets are the
/// nested prefixes of one permutation of `data` (already under its condition).
/// With a cache, finished attempts are read back instead of run, and each new attempt is saved
/// as soon as it finishes: an interrupted measurement resumes where it stopped.
/// Seeds run side by side on `workers` threads (default: one per core); each search is
/// sequential, and BLAS stays single-threaded inside each.
public func measureEMC(_ data: LabeledData<Float>, procedure: FitProcedure, seeds: [UInt64], plan: SearchPlan,
                       cache: AttemptCache? = nil, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                       progress: ((UInt64, FitResult, Int, Int?) -> Void)? = nil) throws -> EMCReport {
    let parameters = try Network<Float>(spec: procedure.arch, inputShape: data.sampleShape).parameterCount
    let lock = NSLock()
    var results = [EMCSearch?](repeating: nil, count: seeds.count)
    var firstError: Error? = nil
    func search(_ i: Int) {
        let seed = seeds[i]
        do {
            let perm = data.sampleOrder(seed: seed)
            let s = try searchEMC(plan: plan, seed: seed, attempt: { n in
                if let done = try lock.withLock({ try cache?.cached(n: n, seed: seed) }) { return done }
                let r = try attemptFit(data.subset(Array(perm.prefix(n))), procedure: procedure, seed: seed)
                try lock.withLock { try cache?.save(r) }
                return r
            }, progress: { r, lo, hi in lock.withLock { progress?(seed, r, lo, hi) } })
            lock.withLock { results[i] = s }
        } catch {
            lock.withLock { if firstError == nil { firstError = error } }
        }
    }
    let threads = max(1, min(workers, seeds.count))
    if threads == 1 {
        for i in seeds.indices { search(i) }
    } else {
        // A shared counter hands out seeds, so a slow seed does not hold up the others.
        var next = 0
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let i: Int = lock.withLock { defer { next += 1 }; return next }
                if i >= seeds.count { return }
                if lock.withLock({ firstError != nil }) { return }
                search(i)
            }
        }
    }
    if let firstError { throw firstError }
    return EMCReport(arch: procedure.arch, parameters: parameters, searches: results.map { $0! })
}
