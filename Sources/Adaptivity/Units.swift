import Foundation

/// Runs `body` once for each of `units` on up to `workers` threads (units are claimed in
/// order); after the first error no further unit starts, and that error is rethrown. `body`
/// guards whatever it shares with `lock`, which it is given.
func forEachUnit(_ units: [Int], workers: Int, _ body: (_ unit: Int, _ lock: NSLock) throws -> Void) throws {
    let lock = NSLock()
    var next = 0
    var failure: Error? = nil
    func work() {
        while true {
            let u: Int? = lock.withLock { guard failure == nil, next < units.count else { return nil }; defer { next += 1 }; return units[next] }
            guard let u else { return }
            do { try body(u, lock) } catch { lock.withLock { if failure == nil { failure = error } } }
        }
    }
    let threads = max(1, min(workers, units.count))
    withoutActuallyEscaping(work) { work in
        if threads == 1 { work() } else { DispatchQueue.concurrentPerform(iterations: threads) { _ in work() } }
    }
    if let failure { throw failure }
}
