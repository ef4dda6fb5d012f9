import Foundation

/// A one-line progress bar on a terminal's standard error, redrawn in place under the log
/// lines. Anywhere else (a file, a pipe, CI) it draws nothing: the log lines say the same.
public final class ProgressBar: @unchecked Sendable {
    let total: Int
    let unit: String
    let started = Date()
    let visible: Bool
    let lock = NSLock()
    var done = 0
    var detail = ""

    public init(total: Int, unit: String, visible: Bool = isatty(STDERR_FILENO) != 0) {
        self.total = max(total, 1); self.unit = unit; self.visible = visible
    }

    /// The bar for `done` of `total`: filled cells, counts, elapsed time and, once something is
    /// done, the time left at the pace so far.
    public func line(width: Int = 24) -> String {
        let elapsed = Date().timeIntervalSince(started)
        let filled = min(width, width * done / total)
        var s = "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] "
        s += "\(done)/\(total) \(unit)"
        if !detail.isEmpty { s += " · " + detail }
        s += " · " + Self.clock(elapsed)
        if done > 0 && done < total { s += " · ETA ~" + Self.clock(elapsed / Double(done) * Double(total - done)) }
        return s
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    public func update(done: Int? = nil, detail: String? = nil) {
        lock.withLock {
            if let done { self.done = done }
            if let detail { self.detail = detail }
            draw()
        }
    }

    /// Prints a log line to standard output above the bar.
    public func print(_ text: String) {
        lock.withLock {
            if visible { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            Swift.print(text)
            fflush(stdout)
            draw()
        }
    }

    /// Leaves the finished bar on its own line.
    public func finish() {
        lock.withLock {
            draw()
            if visible { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    func draw() {
        guard visible else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line()).utf8))
    }
}

/// Progress on standard error, whatever goes to standard output (a table, JSON): on a terminal
/// one live line redrawn in place; in a log (a file, a pipe) plain lines — no carriage returns —
/// at most one every `interval` seconds plus the last, so the log stays readable.
public final class ProgressLine: @unchecked Sendable {
    let live: Bool
    let interval: Double
    let lock = NSLock()
    var last = -Double.infinity
    var pending: String? = nil

    public init(live: Bool = isatty(STDERR_FILENO) != 0, interval: Double = 2) {
        self.live = live; self.interval = interval
    }

    /// Shows `text` (one line); `final` for the last one, which is always written.
    public func update(_ text: String, final: Bool = false) {
        lock.withLock {
            let now = Date().timeIntervalSinceReferenceDate
            if live {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + text + (final ? "\n" : "")).utf8))
            } else if final || now - last >= interval {
                FileHandle.standardError.write(Data((text + "\n").utf8))
                last = now
                pending = nil
                return
            } else {
                pending = text
                return
            }
            last = now
        }
    }

    /// Ends the progress: in a log, the last update not yet written is written now.
    public func finish() {
        lock.withLock {
            if let p = pending, !live { FileHandle.standardError.write(Data((p + "\n").utf8)) }
            pending = nil
        }
    }
}
