import Foundation

/// A small, dependency-free SVG line/scatter plot: labelled axes, linear or log scales with
/// readable ticks, a legend. Enough for the instruments' figures; no interactivity.
public struct Plot: Sendable {
    /// `lowerBounds`: hollow upward triangles, for values that are only "at least" (a censored
    /// or budget-bounded EMC), never drawn like measurements.
    public enum Style: Sendable { case points, lowerBounds, line, dashed }

    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var style: Style
        /// An explicit colour (e.g. a fit drawn in its data's colour); the palette's next otherwise.
        public var color: String?
        public init(_ name: String, _ points: [(x: Double, y: Double)], style: Style = .points, color: String? = nil) {
            self.name = name; self.points = points; self.style = style; self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX = false
    public var logY = false
    public var series: [Series] = []
    public var width = 640.0
    public var height = 420.0

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logX = logX; self.logY = logY
    }

    public struct PlotError: Error, CustomStringConvertible {
        public var description: String
    }

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public func svg() throws -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { throw PlotError(description: "plot '\(title)' has no points") }
        if logX, let bad = all.first(where: { $0.x <= 0 }) { throw PlotError(description: "plot '\(title)': log x axis needs positive x, got \(bad.x)") }
        if logY, let bad = all.first(where: { $0.y <= 0 }) { throw PlotError(description: "plot '\(title)': log y axis needs positive y, got \(bad.y)") }
        if let bad = all.first(where: { !$0.x.isFinite || !$0.y.isFinite }) {
            throw PlotError(description: "plot '\(title)': non-finite point (\(bad.x), \(bad.y))")
        }
        let tx: (Double) -> Double = logX ? { log10($0) } : { $0 }
        let ty: (Double) -> Double = logY ? { log10($0) } : { $0 }
        let (x0, x1) = Self.range(all.map { tx($0.x) }, log: logX)
        let (y0, y1) = Self.range(all.map { ty($0.y) }, log: logY)
        // The legend column is as wide as its longest name (about 7 px a character at 12 px).
        let longest = Double(series.map(\.name.count).max() ?? 0)
        let left = 78.0, right = max(120, 7 * longest + 44), top = 40.0, bottom = 58.0
        let pw = width - left - right, ph = height - top - bottom
        func px(_ v: Double) -> Double { left + (tx(v) - x0) / (x1 - x0) * pw }
        func py(_ v: Double) -> Double { top + ph - (ty(v) - y0) / (y1 - y0) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        // A long title shrinks to the figure's width (about 0.56 em a character) rather than being cut.
        let titleSize = max(9, min(15, (width - 20) / (0.56 * Double(max(title.count, 1)))))

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="\(f(titleSize))">\(Self.escape(title))</text>
        <rect x="\(f(left))" y="\(f(top))" width="\(f(pw))" height="\(f(ph))" fill="none" stroke="#333"/>

        """
        for t in Self.ticks(x0, x1, log: logX) {
            let x = left + (t - x0) / (x1 - x0) * pw
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + ph))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(Self.label(t, log: logX))</text>\n"
        }
        for t in Self.ticks(y0, y1, log: logY) {
            let y = top + ph - (t - y0) / (y1 - y0) * ph
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + pw))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.label(t, log: logY))</text>\n"
        }
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for (i, series) in series.enumerated() {
            let color = series.color ?? Self.palette[i % Self.palette.count]
            switch series.style {
            case .points:
                for p in series.points {
                    s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.5\" fill=\"\(color)\"/>"
                }
                s += "\n"
            case .lowerBounds:
                for p in series.points { s += Self.triangle(px(p.x), py(p.y), color) }
                s += "\n"
            case .line, .dashed:
                let d = series.points.sorted { $0.x < $1.x }.enumerated()
                    .map { "\($0.offset == 0 ? "M" : "L")\(f(px($0.element.x))) \(f(py($0.element.y)))" }.joined(separator: " ")
                let dash = series.style == .dashed ? " stroke-dasharray=\"6 4\"" : ""
                s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            }
            let ly = top + 10 + Double(i) * 18
            let lx = left + pw + 12
            if series.style == .points {
                s += "<circle cx=\"\(f(lx + 8))\" cy=\"\(f(ly))\" r=\"3.5\" fill=\"\(color)\"/>"
            } else if series.style == .lowerBounds {
                s += Self.triangle(lx + 8, ly, color)
            } else {
                s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 16))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(series.style == .dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            }
            s += "<text x=\"\(f(lx + 22))\" y=\"\(f(ly + 4))\">\(Self.escape(series.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    /// A hollow upward triangle centred at (x, y): "at least this".
    static func triangle(_ x: Double, _ y: Double, _ color: String) -> String {
        let p = [(x, y - 5), (x + 4.5, y + 3.5), (x - 4.5, y + 3.5)].map { String(format: "%.1f %.1f", $0.0, $0.1) }
        return "<path class=\"lower-bound\" d=\"M\(p[0]) L\(p[1]) L\(p[2]) Z\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
    }

    /// Axis range in plotting units, padded; log axes snap to whole decades.
    static func range(_ v: [Double], log: Bool) -> (Double, Double) {
        var lo = v.min()!, hi = v.max()!
        if log { lo = lo.rounded(.down); hi = hi.rounded(.up); if hi == lo { hi = lo + 1 }; return (lo, hi) }
        if hi == lo { lo -= 1; hi += 1 }
        let pad = (hi - lo) * 0.05
        return (lo - pad, hi + pad)
    }

    /// Tick positions in plotting units: decades on log axes, 1–2–5 steps on linear ones.
    static func ticks(_ lo: Double, _ hi: Double, log: Bool) -> [Double] {
        if log {
            // Every decade up to eight of them, then every second, fifth, … so labels never crowd.
            let step = ((hi - lo) / 8).rounded(.up)
            let every = [1.0, 2, 5, 10, 20, 50, 100].first { $0 >= step } ?? step
            return stride(from: (lo / every).rounded(.up) * every, through: hi, by: every).map { $0 }
        }
        let raw = (hi - lo) / 6
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        return stride(from: (lo / step).rounded(.up) * step, through: hi, by: step).map { $0 }
    }

    static func label(_ t: Double, log: Bool) -> String {
        if log {
            let v = pow(10, t)
            return abs(t) <= 4 ? (t >= 0 ? String(format: "%.0f", v) : String(format: "%g", v)) : "1e\(Int(t))"
        }
        return abs(t) < 1e-12 ? "0" : String(format: "%g", t)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
