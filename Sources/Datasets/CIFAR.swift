import Linalg

/// Reads CIFAR-10 binary batches (`data_batch_1.bin` …): records of one label byte and a
/// 32×32×3 image stored as three 1,024-byte colour planes. Returns channels-last images
/// [n, 32, 32, 3] scaled to [0, 1].
public func readCIFAR10<T: Scalar>(_ paths: [String], as: T.Type = T.self) throws -> LabeledData<T> {
    let record = 1 + 3072
    var pixels = [T]()
    var labels = [Int]()
    for path in paths {
        let b = try readMaybeGzip(path)
        guard !b.isEmpty, b.count % record == 0 else {
            throw DataError.malformed(path: path, reason: "size \(b.count) bytes is not a whole number of 3,073-byte CIFAR-10 records" +
                                      (b.count % record != 0 ? " (truncated or not CIFAR-10 binary)" : ""))
        }
        let n = b.count / record
        pixels.reserveCapacity(pixels.count + n * 3072)
        for r in 0..<n {
            let o = r * record
            guard b[o] < 10 else {
                throw DataError.malformed(path: path, reason: "record \(r) has label \(b[o]); CIFAR-10 labels are 0–9")
            }
            labels.append(Int(b[o]))
            for p in 0..<1024 {
                for c in 0..<3 { pixels.append(T(b[o + 1 + c * 1024 + p]) / 255) }
            }
        }
    }
    return LabeledData(x: Tensor(shape: [labels.count, 32, 32, 3], scalars: pixels), labels: labels, classes: 10)
}
