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
// Subtracting the row max keeps exp in range for any logits. The shifted logits of the whole
// batch go through one exp call (rows of 10 are too short for the vector loop on their own),
// into the gradient buffer when there is one.
func softmaxCrossEntropy<T: Scalar>(
    _ logits: UnsafePointer<T>, _ labels: UnsafeBufferPointer<Int32>,
    _ grad: UnsafeMutablePointer<T>?, batch: Int, classes: Int
) -> T {
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
