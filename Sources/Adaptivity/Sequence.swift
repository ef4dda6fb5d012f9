import Linalg
import RealModule

/// Something wrong with an adaptivity setting; the message says what.
public struct AdaptivityError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The Gaussian sequence model z_j = θ*_j + ε ξ_j (j = 1…N, ε² = 1/n) with the eigenvalues
/// λ_j of a fixed kernel: the truth, the spectrum, nothing random.
public struct SequenceProblem: Sendable {
    public var truth: [Double]
    public var eigenvalues: [Double]
    public var name: String

    public init(truth: [Double], eigenvalues: [Double], name: String) throws {
        guard !truth.isEmpty, truth.count == eigenvalues.count else {
            throw AdaptivityError("the signal has \(truth.count) coefficients and the spectrum \(eigenvalues.count); they must match and be non-empty")
        }
        guard truth.allSatisfy(\.isFinite) else { throw AdaptivityError("the signal has non-finite coefficients") }
        guard eigenvalues.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw AdaptivityError("eigenvalues must be positive and finite") }
        self.truth = truth; self.eigenvalues = eigenvalues; self.name = name
    }

    public var count: Int { truth.count }

    /// λ_j = j^(−γ), j = 1…N.
    public static func powerLawEigenvalues(_ count: Int, gamma: Double) -> [Double] {
        (1...count).map { Double.pow(Double($0), -gamma) }
    }

    /// The misaligned power-law signal (Example 2.3): for k = 1…⌊N^(1/q)⌋, θ*_{⌈k^q⌉} = k^(−(p+1)/2);
    /// every other coefficient 0. q = 1 is the aligned case.
    public static func misaligned(count: Int, p: Double, q: Double) throws -> [Double] {
        guard count >= 1, p > 0, q >= 1 else { throw AdaptivityError("the misaligned signal needs N ≥ 1, p > 0 and q ≥ 1 (got N = \(count), p = \(p), q = \(q))") }
        var theta = [Double](repeating: 0, count: count)
        var k = 1
        while true {
            let index = Int(Double.pow(Double(k), q).rounded(.up))
            if index > count { break }
            theta[index - 1] = Double.pow(Double(k), -(p + 1) / 2)
            k += 1
        }
        return theta
    }

    /// A sparse signal: `nonzeros` coefficients of size `magnitude` at indices spread evenly
    /// (geometrically) over 1…N, so that some sit where the eigenvalues are small.
    public static func sparse(count: Int, nonzeros s: Int, magnitude: Double = 1) throws -> [Double] {
        guard count >= 1, s >= 1, s <= count else { throw AdaptivityError("a sparse signal needs 1 ≤ s ≤ N (got s = \(s), N = \(count))") }
        var theta = [Double](repeating: 0, count: count)
        for i in 0..<s {
            let position = s == 1 ? 0.0 : Double(i) / Double(s - 1)
            var index = Int(Double.pow(Double(count), position).rounded()) - 1
            while theta[index] != 0 && index + 1 < count { index += 1 }
            theta[index] = magnitude
        }
        return theta
    }
}

/// The time grid on which errors are recorded and stopping times chosen: log-spaced, `perDecade`
/// points per factor of ten from `from` to `to`.
public struct TimeGrid: Sendable, Equatable {
    public var times: [Double]

    public init(from lo: Double = 1e-2, to hi: Double = 1e10, perDecade: Int = 24) {
        let decades = Double.log10(hi / lo)
        let count = Int((decades * Double(perDecade)).rounded()) + 1
        times = (0..<count).map { lo * Double.pow(10, Double($0) / Double(perDecade)) }
    }

    public init(times: [Double]) { self.times = times }
}
