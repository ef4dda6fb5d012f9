import Foundation

/// 95% intervals for the report's comparisons: a verdict follows from where an interval lies,
/// not from a difference of means.

/// The mean with its 95% Student-t interval; no interval for fewer than two values.
public func meanInterval(_ v: [Double]) -> (mean: Double, interval: ClosedRange<Double>?) {
    let n = Double(v.count)
    let mean = v.reduce(0, +) / max(n, 1)
    guard v.count >= 2 else { return (mean, nil) }
    let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
    let half = studentT975(degreesOfFreedom: v.count - 1) * sd / n.squareRoot()
    return (mean, (mean - half)...(mean + half))
}

/// The same for a quantity that cannot go below `floor` (a count, an MSE): the part of the
/// interval below it is cut off. It could never hold the mean, so coverage is unchanged, and an
/// interval read as "the EMC is between −35 and 319" says something no EMC can be.
public func meanInterval(_ v: [Double], atLeast floor: Double) -> (mean: Double, interval: ClosedRange<Double>?) {
    let m = meanInterval(v)
    return (m.mean, m.interval.map { max(floor, $0.lowerBound)...max(floor, $0.upperBound) })
}

/// Welch's 95% interval for mean(a) − mean(b): unequal variances, Welch–Satterthwaite degrees
/// of freedom rounded down (the wider, conservative side); nil where a side has fewer than two
/// values. Two constant sides give the point difference.
public func differenceInterval(_ a: [Double], _ b: [Double]) -> ClosedRange<Double>? {
    guard a.count >= 2, b.count >= 2 else { return nil }
    func moments(_ v: [Double]) -> (mean: Double, varianceOfMean: Double) {
        let n = Double(v.count), m = v.reduce(0, +) / n
        return (m, v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1) / n)
    }
    let (ma, va) = moments(a), (mb, vb) = moments(b)
    let d = ma - mb, se2 = va + vb
    guard se2 > 0 else { return d...d }
    let df = se2 * se2 / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
    let half = studentT975(degreesOfFreedom: max(1, Int(df.rounded(.down)))) * se2.squareRoot()
    return (d - half)...(d + half)
}

/// Fisher's 95% interval for Pearson's r over n points: tanh(atanh r ± 1.96/√(n − 3)); nil for
/// n < 4 or |r| = 1.
public func pearsonInterval(r: Double, n: Int) -> ClosedRange<Double>? {
    guard n >= 4, abs(r) < 1 else { return nil }
    let z = atanh(r), half = 1.959964 / Double(n - 3).squareRoot()
    return tanh(z - half)...tanh(z + half)
}

/// A percentile-bootstrap 95% interval of Kendall's τ: the points resampled with replacement
/// (`resamples` times, from `seed`), τ of each, the 2.5% and 97.5% quantiles; resamples where
/// τ is undefined (one side constant) are left out. Nil for fewer than four points.
public func kendallInterval(_ x: [Double], _ y: [Double], resamples: Int = 2000, seed: UInt64 = 0) -> ClosedRange<Double>? {
    precondition(x.count == y.count)
    guard x.count >= 4 else { return nil }
    var rng = RNG(seed: seed)
    var taus = [Double]()
    for _ in 0..<resamples {
        let pick = (0..<x.count).map { _ in rng.int(below: x.count) }
        if let t = kendallTau(pick.map { x[$0] }, pick.map { y[$0] }) { taus.append(t) }
    }
    guard taus.count >= resamples / 2 else { return nil }
    taus.sort()
    func quantile(_ q: Double) -> Double { taus[min(taus.count - 1, max(0, Int((q * Double(taus.count - 1)).rounded())))] }
    return quantile(0.025)...quantile(0.975)
}
