import Linalg

/// The input/label conditions of the capacity experiments.
public enum Condition: String, Sendable, CaseIterable {
    /// The data as it is.
    case trueLabels = "true"
    /// Labels replaced by uniform random classes.
    case randomLabels = "random-labels"
    /// Inputs replaced by Gaussian noise with the data's mean and standard deviation.
    case gaussianInputs = "gaussian-inputs"
    /// Each sample's pixels shuffled by a permutation of its own, fixed by the seed.
    case permutedPixels = "permuted-pixels"

    /// A condition by name, or an error listing the names.
    public static func named(_ s: String) throws -> Condition {
        guard let c = Condition(rawValue: s) else {
            throw DataError.invalid("unknown condition '\(s)'; use \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return c
    }
}

extension LabeledData {
    // The whole-set transforms are specialized (their callers are generic too, so the generic
    // body checks T and jumps here): generic, every pixel's arithmetic went through witnesses
    // and metadata lookups — downsampling Fashion-MNIST's 60,000 images took ~0.5 s of each command.
    /// The same data under a condition; deterministic for a seed, and sample i's corruption
    /// depends only on (seed, i), so subsets of a corrupted set are consistent.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func applying(_ condition: Condition, seed: UInt64) -> LabeledData {
        let base = RNG(seed: seed)
        let size = sampleShape.reduce(1, *)
        switch condition {
        case .trueLabels:
            return self
        case .randomLabels:
            var out = self
            for i in 0..<count {
                var r = base.split(UInt64(i))
                out.labels[i] = r.int(below: classes)
            }
            return out
        case .gaussianInputs:
            let (mean, std) = meanAndStd
            var out = self
            for i in 0..<count {
                var r = base.split(UInt64(i))
                for j in 0..<size { out.x.scalars[i * size + j] = T(mean + std * r.normal()) }
            }
            return out
        case .permutedPixels:
            var out = self
            for i in 0..<count {
                var r = base.split(UInt64(i))
                let p = r.permutation(size)
                for j in 0..<size { out.x.scalars[i * size + j] = x.scalars[i * size + p[j]] }
            }
            return out
        }
    }

    /// Mean and standard deviation over every input value.
    public var meanAndStd: (mean: Double, std: Double) {
        let n = Double(max(x.count, 1))
        let mean = x.scalars.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.scalars.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (mean, variance.squareRoot())
    }

    /// Inputs shifted and scaled to mean 0 and standard deviation 1 with the given statistics
    /// (default: this set's own; pass the training set's to normalize a test set alike).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func standardized(mean: Double? = nil, std: Double? = nil) -> LabeledData {
        let own: (mean: Double, std: Double) = (mean == nil || std == nil) ? meanAndStd : (0, 0)
        let m = T(mean ?? own.mean), s = T(std ?? own.std)
        var out = self
        let inv: T = s > 0 ? 1 / s : 1
        out.x.scalars = x.scalars.map { ($0 - m) * inv }
        return out
    }

    /// Images [n, H, W, C] averaged over factor × factor blocks (28×28 → 14×14 with 2, 7×7 with 4).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func downsampled(by factor: Int) throws -> LabeledData {
        if factor == 1 { return self }
        let s = sampleShape
        guard s.count == 3 else { throw DataError.invalid("downsampling needs images [n, H, W, C]; the data has shape \(x.shape)") }
        guard factor >= 1, s[0] % factor == 0, s[1] % factor == 0 else {
            throw DataError.invalid("cannot downsample \(s[0])×\(s[1]) images by \(factor): the factor must divide both sides")
        }
        let (h, w, c) = (s[0], s[1], s[2])
        let (ho, wo) = (h / factor, w / factor)
        var out = [T](repeating: 0, count: count * ho * wo * c)
        let inv = 1 / T(factor * factor)
        // Each block's terms are summed in raster order (rows, then columns), as stored results were.
        x.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count { for yo in 0..<ho { for xo in 0..<wo { for ch in 0..<c {
                    var sum: T = 0
                    for dy in 0..<factor {
                        let row = ((i * h + yo * factor + dy) * w + xo * factor) * c + ch
                        for dx in 0..<factor { sum += src[row + dx * c] * inv }
                    }
                    dst[((i * ho + yo) * wo + xo) * c + ch] = sum
                } } } }
            }
        }
        return LabeledData(x: Tensor(shape: [count, ho, wo, c], scalars: out), labels: labels, classes: classes)
    }

    /// Classes merged into `k` groups of consecutive labels: label ↦ ⌊label·k / classes⌋.
    public func mergingClasses(into k: Int) throws -> LabeledData {
        guard k >= 1, k <= classes else { throw DataError.invalid("cannot merge \(classes) classes into \(k)") }
        var out = self
        out.labels = labels.map { $0 * k / classes }
        out.classes = k
        return out
    }

    /// The first n samples of one fixed permutation per seed: subsets for growing n are nested.
    public func nestedSubset(_ n: Int, seed: UInt64) throws -> LabeledData {
        guard n >= 0, n <= count else { throw DataError.invalid("asked for \(n) samples; the data has \(count)") }
        return subset(Array(sampleOrder(seed: seed).prefix(n)))
    }

    /// The fixed permutation of the samples for a seed: nested subsets are its prefixes, and a
    /// held-out set is what follows them.
    public func sampleOrder(seed: UInt64) -> [Int] {
        var r = RNG(seed: seed).split(0x5EED)
        return r.permutation(count)
    }
}
