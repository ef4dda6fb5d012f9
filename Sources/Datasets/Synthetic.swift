import Linalg
import RealModule

/// Synthetic data sets: unlimited n, determined by a seed.
public enum Synthetic {
    /// Raised whenever a generator's output for the same parameters and seed changes, so that
    /// results stored for the old sets are not read back for the new (`DataSpec.fingerprint`).
    public static let version = 1

    /// A Gaussian mixture: class c has mean μ_c ~ N(0, separation²·I) and samples
    /// x = μ_label + N(0, I); labels are uniform over the classes.
    public static func gaussianMixture<T: Scalar>(n: Int, dim: Int, classes: Int, separation: Double = 1,
                                                  seed: UInt64, as: T.Type = T.self) -> LabeledData<T> {
        precondition(n >= 0 && dim > 0 && classes > 0, "gaussianMixture: need n ≥ 0, dim > 0, classes > 0")
        var meansRNG = RNG(seed: seed).split(1)
        let means: [Double] = meansRNG.normals(classes * dim, std: separation)
        var r = RNG(seed: seed).split(2)
        var x = [T](repeating: 0, count: n * dim)
        var labels = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let c = r.int(below: classes)
            labels[i] = c
            for j in 0..<dim { x[i * dim + j] = T(means[c * dim + j] + r.normal()) }
        }
        return LabeledData(x: Tensor(shape: [n, dim], scalars: x), labels: labels, classes: classes)
    }

    /// Class-conditional images [n, H, W, C] (channels last) where position matters but not
    /// exactly: class c has a smooth template (Gaussian noise blurred twice by a 3×3 box, per
    /// channel, scaled to unit variance and by `separation`); a sample is its class's template
    /// shifted circularly by −2…2 pixels in each direction, plus N(0, 1) per pixel. A stand-in
    /// for CIFAR-10 (`images:N,32x32x3,10`) that needs no files, with labels a network can learn.
    public static func images<T: Scalar>(n: Int, height h: Int, width w: Int, channels ch: Int, classes: Int,
                                         separation: Double = 1, seed: UInt64, as: T.Type = T.self) -> LabeledData<T> {
        precondition(n >= 0 && h > 0 && w > 0 && ch > 0 && classes > 0, "images: sizes must be positive")
        let size = h * w * ch
        var tr = RNG(seed: seed).split(1)
        var templates = [Double]()
        for _ in 0..<classes {
            var t: [Double] = tr.normals(size)
            for _ in 0..<2 { t = boxBlur(t, h, w, ch) }
            let rms = (t.reduce(0) { $0 + $1 * $1 } / Double(size)).squareRoot()
            templates += t.map { separation * $0 / max(rms, 1e-12) }
        }
        var r = RNG(seed: seed).split(2)
        var x = [T](repeating: 0, count: n * size)
        var labels = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let c = r.int(below: classes), dy = r.int(below: 5) - 2, dx = r.int(below: 5) - 2
            labels[i] = c
            for y in 0..<h { for xx in 0..<w { for k in 0..<ch {
                let sy = (y + dy + h) % h, sx = (xx + dx + w) % w
                x[i * size + (y * w + xx) * ch + k] = T(templates[c * size + (sy * w + sx) * ch + k] + r.normal())
            } } }
        }
        return LabeledData(x: Tensor(shape: [n, h, w, ch], scalars: x), labels: labels, classes: classes)
    }

    /// The mean over each pixel's 3×3 neighbourhood (wrapping at the edges), per channel.
    static func boxBlur(_ t: [Double], _ h: Int, _ w: Int, _ ch: Int) -> [Double] {
        var out = [Double](repeating: 0, count: t.count)
        for y in 0..<h { for x in 0..<w { for k in 0..<ch {
            var s = 0.0
            for oy in -1...1 { for ox in -1...1 { s += t[(((y + oy + h) % h) * w + (x + ox + w) % w) * ch + k] } }
            out[(y * w + x) * ch + k] = s / 9
        } } }
        return out
    }

    /// Inputs x ~ N(0, I) labelled by a random teacher: argmax of W₂·tanh(W₁x) with Gaussian
    /// weights (std 1/√fan-in), so the labels are a fixed, learnable function of the inputs.
    public static func teacher<T: Scalar>(n: Int, dim: Int, classes: Int, hidden: Int = 32,
                                          seed: UInt64, as: T.Type = T.self) -> LabeledData<T> {
        precondition(n >= 0 && dim > 0 && classes > 0 && hidden > 0, "teacher: sizes must be positive")
        var wr = RNG(seed: seed).split(1)
        let w1 = Tensor<Double>(shape: [hidden, dim], scalars: wr.normals(hidden * dim, std: 1 / Double(dim).squareRoot()))
        let w2 = Tensor<Double>(shape: [classes, hidden], scalars: wr.normals(classes * hidden, std: 1 / Double(hidden).squareRoot()))
        var xr = RNG(seed: seed).split(2)
        let x = Tensor<Double>(shape: [n, dim], scalars: xr.normals(n * dim))
        guard n > 0 else { return LabeledData(x: Tensor(shape: [0, dim]), labels: [], classes: classes) }
        var h = matmul(x, w1, transB: true)
        h.scalars = h.scalars.map { Double.tanh($0) }
        let logits = matmul(h, w2, transB: true)
        let labels = logits.scalars.withUnsafeBufferPointer { argmaxRows($0.baseAddress!, rows: n, cols: classes) }
        return LabeledData(x: x.converted(to: T.self), labels: labels, classes: classes)
    }
}
