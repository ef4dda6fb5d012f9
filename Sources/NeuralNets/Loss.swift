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

// logits[B,C], labels[B] → mean −log softmax(logits)[label]; dlogits[B,C] = (softmax − onehot)/B.
// Subtracting the row max keeps exp in range for any logits; exp runs once per entry, into the
// gradient row when there is one.
func softmaxCrossEntropy<T: Scalar>(
    _ logits: UnsafePointer<T>, _ labels: UnsafeBufferPointer<Int32>,
    _ grad: UnsafeMutablePointer<T>?, batch: Int, classes: Int
) -> T {
    var total: T = 0
    let invB = 1 / T(batch)
    let local = grad == nil ? UnsafeMutablePointer<T>.allocate(capacity: classes) : nil
    defer { local?.deallocate() }
    for r in 0..<batch {
        let z = logits + r * classes
        let e = grad.map { $0 + r * classes } ?? local!
        var m = z[0]
        for c in 1..<classes where z[c] > m { m = z[c] }
        for c in 0..<classes { e[c] = z[c] - m }
        T.expBuffer(e, e, classes)
        let s = sum(e, classes)
        let label = Int(labels[r])
        total += T.log(s) + m - z[label]
        if grad != nil {
            scale(e, classes, by: invB / s)
            e[label] -= invB
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
