import Linalg

/// A labelled dataset: inputs `x` of shape [n, ...] and integer class labels.
public struct LabeledData<T: Scalar>: Sendable {
    public var x: Tensor<T>
    public var labels: [Int]
    public var classes: Int

    public init(x: Tensor<T>, labels: [Int], classes: Int) {
        precondition(x.shape.first == labels.count, "LabeledData: \(x.shape.first ?? 0) inputs but \(labels.count) labels")
        self.x = x; self.labels = labels; self.classes = classes
    }

    public var count: Int { labels.count }

    public func prefix(_ n: Int) -> LabeledData {
        LabeledData(x: x.rows(0..<min(n, count)), labels: Array(labels.prefix(n)), classes: classes)
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledData {
        LabeledData(x: x.gather(rows: indices), labels: indices.map { labels[$0] }, classes: classes)
    }

    /// Per-sample input shape.
    public var sampleShape: [Int] { Array(x.shape.dropFirst()) }

    public var labels32: [Int32] { labels.map { Int32($0) } }
}

