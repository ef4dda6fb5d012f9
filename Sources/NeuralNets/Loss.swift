import CKernels
import Linalg
import RealModule

/// Training objectives. Both return the mean over the batch and write dLoss/dOutput.
public enum Loss: String, Sendable, CaseIterable {
    /// Softmax cross-entropy on logits with integer class labels.
    case crossEntropy = "xent"
    /// Mean squared error, averaged over every output entry (PyTorch's `MSELoss()`).
    case meanSquaredError = "mse"
}

/// Targets of a batch: class labels for cross-entropy, real values for squared error.
public enum Targets<T: Scalar> {
    case classes(UnsafeBufferPointer<Int32>)
    case values(UnsafePointer<T>)
}

/// Softmax cross-entropy of logits [batch, classes] against class labels: the mean over rows of
/// −log softmax(logits)[label], and its gradient (softmax − onehot)/batch — what training
/// computes. A row with a NaN or +∞ logit has a NaN loss and gradient. Throws, as
/// `Network.lossAndGradient` does, on an empty batch, a logit count that is not labels × classes,
/// or a label outside 0..<classes.
public func softmaxCrossEntropy<T: Scalar>(logits: [T], labels: [Int32], classes: Int,
                                           path: KernelPath = .best) throws -> (loss: T, gradient: [T]) {
    guard classes > 0, !labels.isEmpty, logits.count == labels.count * classes else {
        throw NetworkError.shapeMismatch("\(logits.count) logits for \(labels.count) labels of \(classes) classes")
    }
    if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
        throw NetworkError.shapeMismatch("label \(bad) is outside 0..<\(classes)")
    }
    var grad = [T](repeating: 0, count: logits.count)
    let loss = logits.withUnsafeBufferPointer { z in labels.withUnsafeBufferPointer { l in grad.withUnsafeMutableBufferPointer { g in
        softmaxCrossEntropy(z.baseAddress!, l, g.baseAddress!, batch: labels.count, classes: classes, path: path)
    } } }
    return (loss, grad)
}

/// The mean cross-entropy of `logits` (row-major, `classes` per sample) and how many samples the
/// logits classify correctly (the first largest logit is the label's), from one pass.
public func softmaxCrossEntropyAndCorrect<T: Scalar>(logits: [T], labels: [Int32], classes: Int,
                                                     path: KernelPath = .best) throws -> (loss: T, correct: Int) {
    guard classes > 0, !labels.isEmpty, logits.count == labels.count * classes else {
        throw NetworkError.shapeMismatch("\(logits.count) logits for \(labels.count) labels of \(classes) classes")
    }
    var correct = 0
    let loss = logits.withUnsafeBufferPointer { z in labels.withUnsafeBufferPointer { l in
        softmaxCrossEntropy(z.baseAddress!, l, nil, batch: labels.count, classes: classes, path: path, correct: &correct)
    } }
    return (loss, correct)
}

// logits[B,C], labels[B] → mean −log softmax(logits)[label]; dlogits[B,C] = (softmax − onehot)/B.
// Subtracting the row max keeps exp in range for any logits. The shifted logits of the whole
// batch go through one exp call (rows of 10 are too short for the vector loop on their own),
// into the gradient buffer when there is one.
// With `correct`, also counts the rows whose predicted class (argmaxRows' first largest logit) is
// the label: the kernel reads it off the pass it makes anyway (a separate argmax pass was ~4% of
// a small MLP's full-batch step).
// Float takes CKernels' ck_softmax_xent (16 rows per vector on AVX-512, 8 on AVX2) unless `path` says otherwise.
func softmaxCrossEntropy<T: Scalar>(
    _ logits: UnsafePointer<T>, _ labels: UnsafeBufferPointer<Int32>,
    _ grad: UnsafeMutablePointer<T>?, batch: Int, classes: Int, path: KernelPath = .best,
    correct: UnsafeMutablePointer<Int>? = nil
) -> T {
    if let flag = path.flag(T.self), let z = floats(logits), let lp = labels.baseAddress {
        var loss = 0.0
        var right: Int32 = 0
        let ran = withUnsafeMutablePointer(to: &right) { rp in
            ck_softmax_xent(z, lp, grad.map { floats($0)! }, Int32(batch), Int32(classes), &loss, correct == nil ? nil : rp, flag)
        }
        if ran != 0 {
            correct?.pointee = Int(right)
            return T(loss)
        }
    }
    if let correct {
        let pred = argmaxRows(logits, rows: batch, cols: classes)
        correct.pointee = (0..<batch).filter { pred[$0] == Int(labels[$0]) }.count
    }
    let count = batch * classes
    let local = grad == nil ? UnsafeMutablePointer<T>.allocate(capacity: count) : nil
    defer { local?.deallocate() }
    let e = grad ?? local!
    var maxes = [T](repeating: 0, count: batch)
    for r in 0..<batch {
        let z = logits + r * classes, er = e + r * classes
        var m = z[0]
        for c in 1..<classes where z[c] > m { m = z[c] }
        maxes[r] = m
        for c in 0..<classes { er[c] = z[c] - m }
    }
    T.expBuffer(e, e, count)
    var total: T = 0
    let invB = 1 / T(batch)
    for r in 0..<batch {
        let er = e + r * classes
        let s = sum(er, classes)
        let label = Int(labels[r])
        total += T.log(s) + maxes[r] - logits[r * classes + label]
        if grad != nil {
            scale(er, classes, by: invB / s)
            er[label] -= invB
        }
    }
    return total * invB
}

// y[B,K], t[B,K] → mean (y − t)²; dy = 2 (y − t) / (B·K).
func meanSquaredError<T: Scalar>(
    _ y: UnsafePointer<T>, _ t: UnsafePointer<T>, _ grad: UnsafeMutablePointer<T>?, count: Int
) -> T {
    var total: T = 0
    let inv = 1 / T(count)
    for i in 0..<count {
        let d = y[i] - t[i]
        total += d * d
        grad?[i] = 2 * d * inv
    }
    return total * inv
}
