import Linalg
import NeuralNets

// What a trained student is, beyond its errors (issue #22 items 3 and 4): the spectrum of its
// tangent matrix at the point training reached — the "rank of the minimum", to set beside the
// target's model rank O — and how condensed its hidden neurons are.

/// Singular values of a trained student's tangent matrix J[i, j] = ∂f(x_i; θ)/∂θ_j on fixed
/// inputs, largest first, and the ranks read from them.
public struct TangentSpectrum: Sendable, Codable, Equatable {
    /// Rows of J: the rank cannot exceed this (nor the parameter count).
    public var inputs: Int
    public var parameters: Int
    public var singularValues: [Double]

    public init(inputs: Int, parameters: Int, singularValues: [Double]) {
        self.inputs = inputs; self.parameters = parameters; self.singularValues = singularValues
    }

    /// The count of σ_i > relative · σ_1. A trained net's spectrum has no exact zeros (a neuron
    /// grown from a tiny initialization still moves f a little), so the rank of "the minimum" is
    /// read at stated relative thresholds rather than at rounding level.
    public func rank(relative: Double) -> Int {
        guard let top = singularValues.first, top > 0 else { return 0 }
        return singularValues.filter { $0 > relative * top }.count
    }

    /// The rank at the spectrum's largest drop: the r maximizing σ_r / σ_{r+1} over the values
    /// above rounding level (σ_{r+1} taken at least at that level), with the drop. nil for a zero
    /// spectrum. Reads the rank without choosing a threshold — where one drop stands out.
    public var largestDrop: (rank: Int, ratio: Double)? {
        guard let top = singularValues.first, top > 0 else { return nil }
        let floor = defaultRankTolerance(singularValues: singularValues, rows: inputs, cols: parameters)
        var best: (rank: Int, ratio: Double)? = nil
        for r in 1...singularValues.count where singularValues[r - 1] > floor {
            let next = r < singularValues.count ? max(singularValues[r], floor) : floor
            let ratio = next > 0 ? singularValues[r - 1] / next : .infinity
            if best == nil || ratio > best!.ratio { best = (r, ratio) }
        }
        return best
    }

    /// The spectrum of the `rows` × `cols` row-major matrix in `J` (overwritten): Householder
    /// QR of Jᵀ, then the SVD of its small R (`rowQR`); an all-zero J has a zero spectrum.
    public init(tangent J: inout [Double], rows: Int, cols: Int) throws {
        let s = J.allSatisfy({ $0 == 0 }) ? [Double](repeating: 0, count: min(rows, cols)) : try Linalg.singularValues(try rowQR(&J, rows: rows, cols: cols))
        self.init(inputs: rows, parameters: cols, singularValues: s)
    }
}

/// What is measured on a student at the end of its training.
public struct RunMeasures: Sendable, Codable, Equatable {
    public var spectrum: TangentSpectrum?
    /// For students whose first layer is dense (mlp:), else nil.
    public var condensation: Condensation?
    public init(spectrum: TangentSpectrum?, condensation: Condensation?) {
        self.spectrum = spectrum; self.condensation = condensation
    }
}

/// How many inputs the end-of-training spectrum uses: the parameter count and a margin, at most
/// 200 (beyond the model ranks of every preset's targets, and a 200 × M factorization stays a
/// few milliseconds beside runs of seconds).
public func spectrumInputs(parameters M: Int) -> Int { min(M + 10, 200) }

/// The spectrum and condensation of `net` as trained; the spectrum on the first rows of `x`.
public func endOfTraining(_ net: Network<Double>, inputs x: Tensor<Double>) throws -> RunMeasures {
    let M = net.parameterCount, k = min(x.shape[0], spectrumInputs(parameters: M))
    let rows = Tensor(shape: [k] + Array(x.shape.dropFirst()), scalars: Array(x.scalars[0..<(k * net.inputSize)]))
    var J = try net.jacobian(rows).scalars
    return RunMeasures(spectrum: try TangentSpectrum(tangent: &J, rows: k, cols: M), condensation: try? condensation(of: net))
}

extension RecoveryCell {
    /// Median over the cell's runs that carry a spectrum of their rank at `relative` (nil when
    /// none does: runs stored before it was measured, or diverged).
    public func medianRank(relative: Double) -> Double? {
        let r = runs.compactMap { $0.measures?.spectrum?.rank(relative: relative) }
        return r.isEmpty ? nil : median(r.map(Double.init))
    }

    /// Median count of the neuron groups that hold 90% of the norm, over the runs that measured it.
    public var medianMajorClusters: Double? {
        let c = runs.compactMap { $0.measures?.condensation?.majorClusters }
        return c.isEmpty ? nil : median(c.map(Double.init))
    }
}
