import Foundation

/// A grid of values as coloured cells (rows × columns) on a log colour scale, with a colour bar,
/// vertical marks between or on columns, and a mark per row (the recovery figure).
public struct Heatmap: Sendable {
    public struct Mark: Sendable {
        /// Position in column units: 0 is the first column's centre; fractions interpolate.
        public var position: Double
        public var label: String
        public var dashed: Bool
        public init(position: Double, label: String, dashed: Bool) { self.position = position; self.label = label; self.dashed = dashed }
    }

    public var title: String
    public var xLabel: String
    public var colorLabel: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// values[row][column], positive; non-finite or ≤ 0 cells are drawn as missing (grey, ×).
    public var values: [[Double]]
    public var columnMarks: [Mark] = []
    /// One optional mark per row (for example the parameter count); beyond the last column it
    /// is written at the row's right end with an arrow.
    public var rowMarks: [Mark?] = []
    /// One optional vertical line per row, spanning only that row (for example a per-row O).
    public var rowLines: [Mark?] = []
    /// Decades shown on the colour scale, counted down from the largest value.
    public var maxDecades = 10.0

    public init(title: String, xLabel: String, colorLabel: String, rowLabels: [String], columnLabels: [String], values: [[Double]]) {
        self.title = title; self.xLabel = xLabel; self.colorLabel = colorLabel
        self.rowLabels = rowLabels; self.columnLabels = columnLabels; self.values = values
    }

    /// Where value v falls among sorted column values, in column units (interpolated; outside
    /// the range it extrapolates by half a column per step).
    public static func position(of v: Double, in columns: [Double]) -> Double {
        guard let first = columns.first, let last = columns.last else { return 0 }
        if v <= first { return columns.count > 1 && v < first ? -0.5 : 0 }
        if v >= last { return v > last ? Double(columns.count - 1) + 0.5 : Double(columns.count - 1) }
        let i = columns.lastIndex { $0 <= v }!
        return Double(i) + (v - columns[i]) / (columns[i + 1] - columns[i])
    }

    public func svg() throws -> String {
        guard !rowLabels.isEmpty, !columnLabels.isEmpty, values.count == rowLabels.count,
              values.allSatisfy({ $0.count == columnLabels.count }) else {
            throw Plot.PlotError(description: "heatmap '\(title)': values must be \(rowLabels.count) rows × \(columnLabels.count) columns")
        }
        let logs = values.flatMap { $0 }.filter { $0.isFinite && $0 > 0 }.map(log10)
        var lo = (logs.min() ?? 0).rounded(.down), hi = (logs.max() ?? 1).rounded(.up)
        if hi <= lo { hi = lo + 1 }
        // At most `maxDecades` on the colour scale: smaller values share the darkest colour, so
        // a few cells at 1e-25 do not wash out the range where the transition happens.
        let clipped = hi - lo > maxDecades
        if clipped { lo = hi - maxDecades }
        let rows = rowLabels.count, cols = columnLabels.count
        let left = 14 + 7 * Double(rowLabels.map(\.count).max() ?? 0), right = 110.0, top = 46.0, bottom = 56.0
        // Rows at least 34 px, and tall enough together for a readable colour bar.
        let cellH = max(34, 170 / Double(rows))
        let width = max(560, left + right + Double(cols) * 44)
        let height = top + bottom + Double(rows) * cellH
        let cellW = (width - left - right) / Double(cols)
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func x(_ position: Double) -> Double { left + (position + 0.5) * cellW }
        // A white outline keeps mark labels readable on dark and light cells alike.
        let halo = " paint-order=\"stroke\" stroke=\"white\" stroke-width=\"3\""
        let titleSize = max(9, min(15, (width - 20) / (0.56 * Double(max(title.count, 1)))))
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="\(f(titleSize))">\(Plot.escape(title))</text>

        """
        for r in 0..<rows {
            let y = top + Double(r) * cellH
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y + cellH / 2 + 4))\" text-anchor=\"end\">\(Plot.escape(rowLabels[r]))</text>\n"
            for c in 0..<cols {
                let v = values[r][c]
                let cx = left + Double(c) * cellW
                if v.isFinite && v > 0 {
                    let t = (log10(v) - lo) / (hi - lo)
                    s += "<rect x=\"\(f(cx))\" y=\"\(f(y))\" width=\"\(f(cellW))\" height=\"\(f(cellH))\" fill=\"\(Self.color(t))\"><title>\(String(format: "%.3g", v))</title></rect>"
                } else {
                    s += "<rect x=\"\(f(cx))\" y=\"\(f(y))\" width=\"\(f(cellW))\" height=\"\(f(cellH))\" fill=\"#bbb\"/>"
                    s += "<text x=\"\(f(cx + cellW / 2))\" y=\"\(f(y + cellH / 2 + 4))\" text-anchor=\"middle\">×</text>"
                }
            }
            s += "\n"
            if r < rowMarks.count, let m = rowMarks[r] {
                if m.position < Double(cols - 1) + 0.5 {
                    let mx = x(m.position)
                    s += "<path d=\"M\(f(mx - 6)) \(f(y + 2)) L\(f(mx + 6)) \(f(y + 2)) L\(f(mx)) \(f(y + 11)) Z\" fill=\"black\"/>"
                    s += "<text x=\"\(f(mx + 8))\" y=\"\(f(y + 12))\" font-size=\"10\"\(halo)>\(Plot.escape(m.label))</text>\n"
                } else {
                    s += "<text x=\"\(f(left + Double(cols) * cellW - 4))\" y=\"\(f(y + 12))\" text-anchor=\"end\" font-size=\"11\"\(halo)>\(Plot.escape(m.label)) →</text>\n"
                }
            }
        }
        for (r, line) in rowLines.enumerated() where r < rows {
            guard let m = line else { continue }
            let mx = x(min(max(m.position, -0.5), Double(cols) - 0.5)), y = top + Double(r) * cellH
            s += "<line x1=\"\(f(mx))\" y1=\"\(f(y + 1))\" x2=\"\(f(mx))\" y2=\"\(f(y + cellH - 1))\" stroke=\"black\" stroke-width=\"2\"\(m.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
            s += "<text x=\"\(f(mx - 4))\" y=\"\(f(y + cellH - 5))\" text-anchor=\"end\" font-size=\"10\"\(halo)>\(Plot.escape(m.label))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(Double(cols) * cellW))\" height=\"\(f(Double(rows) * cellH))\" fill=\"none\" stroke=\"#333\"/>\n"
        for c in 0..<cols {
            s += "<text x=\"\(f(x(Double(c))))\" y=\"\(f(top + Double(rows) * cellH + 16))\" text-anchor=\"middle\">\(Plot.escape(columnLabels[c]))</text>"
        }
        s += "\n<text x=\"\(f(left + Double(cols) * cellW / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(Plot.escape(xLabel))</text>\n"
        for m in columnMarks {
            let mx = x(min(max(m.position, -0.5), Double(cols) - 0.5))
            s += "<line x1=\"\(f(mx))\" y1=\"\(f(top - 6))\" x2=\"\(f(mx))\" y2=\"\(f(top + Double(rows) * cellH + 4))\" stroke=\"black\" stroke-width=\"2\"\(m.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            s += "<text x=\"\(f(mx))\" y=\"\(f(top - 9))\" text-anchor=\"middle\" font-size=\"11\">\(Plot.escape(m.label))</text>\n"
        }
        // Colour bar: one band per decade.
        let bx = width - right + 24, bw = 16.0, bh = Double(rows) * cellH
        let decades = Int(hi - lo)
        for i in 0..<decades {
            let t0 = Double(i) / Double(decades)
            let y = top + bh * (1 - Double(i + 1) / Double(decades))
            s += "<rect x=\"\(f(bx))\" y=\"\(f(y))\" width=\"\(f(bw))\" height=\"\(f(bh / Double(decades) + 0.5))\" fill=\"\(Self.color(t0 + 0.5 / Double(decades)))\"/>"
        }
        let every = max(1, Int((Double(decades) / 6).rounded(.up)))
        for i in stride(from: 0, through: decades, by: every) {
            let y = top + bh * (1 - Double(i) / Double(decades))
            s += "<text x=\"\(f(bx + bw + 4))\" y=\"\(f(y + 4))\">\(i == 0 && clipped ? "≤ " : "")1e\(Int(lo) + i)</text>"
        }
        s += "\n<text transform=\"translate(\(f(width - 10)) \(f(top + bh / 2))) rotate(-90)\" text-anchor=\"middle\">\(Plot.escape(colorLabel))</text>\n"
        return s + "</svg>\n"
    }

    /// A perceptually ordered ramp (viridis-like) for t in [0, 1]: dark purple (small) to yellow (large).
    static func color(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let u = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(u), stops.count - 2), w = u - Double(i)
        let a = stops[i], b = stops[i + 1]
        let rgb = [a.0 + (b.0 - a.0) * w, a.1 + (b.1 - a.1) * w, a.2 + (b.2 - a.2) * w].map { Int($0.rounded()) }
        return String(format: "#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
    }
}
