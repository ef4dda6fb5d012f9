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
// Subtracting the row max keeps exp in range for any logits.
func softmaxCrossEntropy<T: Scalar>(
    _ logits: UnsafePointer<T>, _ labels: UnsafeBufferPointer<Int32>,
    _ grad: UnsafeMutablePointer<T>?, batch: Int, classes: Int
) -> T {
    var total: T = 0
    let invB = 1 / T(batch)
    for r in 0..<batch {
        let z = logits + r * classes
        var m = z[0]
        for c in 1..<classes where z[c] > m { m = z[c] }
        var s: T = 0
        for c in 0..<classes { s += T.exp(z[c] - m) }
        let logZ = m + T.log(s)
        let label = Int(labels[r])
        total += logZ - z[label]
        if let grad {
            let g = grad + r * classes
            for c in 0..<classes { g[c] = T.exp(z[c] - logZ) * invB }
            g[label] -= invB
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
