/// Summary statistics for reports: correlation, rank correlation, least-squares lines.

/// Pearson's correlation coefficient; nil when either side has no variance or fewer than two points.
public func pearson(_ x: [Double], _ y: [Double]) -> Double? {
    precondition(x.count == y.count, "pearson: \(x.count) x values but \(y.count) y values")
    let n = Double(x.count)
    guard x.count >= 2 else { return nil }
    let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in x.indices { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my) }
    guard sxx > 0, syy > 0 else { return nil }
    return sxy / (sxx * syy).squareRoot()
}

/// Kendall's τ-b (ties counted in neither concordant nor discordant pairs, with the tie
/// correction of τ-b); nil with fewer than two points or when one side is constant.
public func kendallTau(_ x: [Double], _ y: [Double]) -> Double? {
    precondition(x.count == y.count, "kendallTau: \(x.count) x values but \(y.count) y values")
    guard x.count >= 2 else { return nil }
    var concordant = 0.0, discordant = 0.0, tiesX = 0.0, tiesY = 0.0
    for i in 0..<x.count {
        for j in (i + 1)..<x.count {
            let dx = x[i] - x[j], dy = y[i] - y[j]
            if dx == 0 && dy == 0 { continue }
            if dx == 0 { tiesX += 1 } else if dy == 0 { tiesY += 1 } else if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
        }
    }
    let denominator = ((concordant + discordant + tiesX) * (concordant + discordant + tiesY)).squareRoot()
    return denominator > 0 ? (concordant - discordant) / denominator : nil
}

/// The least-squares line y ≈ intercept + slope·x, with the slope's standard error and a 95%
/// confidence interval from Student's t with n − 2 degrees of freedom.
public struct LineFit: Sendable, Equatable, Codable {
    public var slope: Double
    public var intercept: Double
    public var slopeStandardError: Double
    public var slopeInterval: ClosedRange<Double>
}

public func fitLine(_ x: [Double], _ y: [Double]) -> LineFit? {
    precondition(x.count == y.count, "fitLine: \(x.count) x values but \(y.count) y values")
    let n = x.count
    guard n >= 2 else { return nil }
    let mx = x.reduce(0, +) / Double(n), my = y.reduce(0, +) / Double(n)
    var sxx = 0.0, sxy = 0.0
    for i in 0..<n { sxx += (x[i] - mx) * (x[i] - mx); sxy += (x[i] - mx) * (y[i] - my) }
    guard sxx > 0 else { return nil }
    let slope = sxy / sxx, intercept = my - slope * mx
    guard n > 2 else { return LineFit(slope: slope, intercept: intercept, slopeStandardError: .nan, slopeInterval: slope...slope) }
    var rss = 0.0
    for i in 0..<n { let r = y[i] - intercept - slope * x[i]; rss += r * r }
    let se = (rss / Double(n - 2) / sxx).squareRoot()
    let t = studentT975(degreesOfFreedom: n - 2)
    return LineFit(slope: slope, intercept: intercept, slopeStandardError: se, slopeInterval: (slope - t * se)...(slope + t * se))
}

/// The 97.5% quantile of Student's t (two-sided 95%), exact table values to 30 degrees of
/// freedom, then the Cornish–Fisher expansion around the normal quantile.
public func studentT975(degreesOfFreedom k: Int) -> Double {
    precondition(k >= 1, "studentT975: degrees of freedom must be ≥ 1")
    let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                           2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                           2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
    if k <= table.count { return table[k - 1] }
    let z = 1.959964, v = Double(k)
    let z3 = z * z * z, z5 = z3 * z * z
    return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
}

/// The median (the mean of the middle two for an even count); NaN for no values.
public func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
