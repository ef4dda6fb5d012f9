/// A dense, contiguous, row-major n-dimensional array. A value type (copy-on-write through the
/// underlying `Array`); kernels work on its raw buffer via `withUnsafe…` accessors.
public struct Tensor<T: Scalar>: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var scalars: [T]

    public init(shape: [Int], repeating value: T = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        self.shape = shape
        self.scalars = [T](repeating: value, count: shape.reduce(1, *))
    }

    public init(shape: [Int], scalars: [T]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        let count = shape.reduce(1, *)
        precondition(count == scalars.count,
                     "Tensor: shape \(shape) needs \(count) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A matrix from rows of equal length.
    public init(rows: [[T]]) {
        let cols = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == cols }, "Tensor(rows:): rows differ in length")
        self.init(shape: [rows.count, cols], scalars: rows.flatMap { $0 })
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// Strides in elements, row-major.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    @inlinable public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count,
                     "Tensor: index \(index) has \(index.count) axes, shape \(shape) has \(shape.count)")
        var off = 0
        for (axis, (i, n)) in zip(index, shape).enumerated() {
            precondition(i >= 0 && i < n, "Tensor: index \(i) out of range 0..<\(n) on axis \(axis)")
            off = off * n + i
        }
        return off
    }

    public subscript(_ index: Int...) -> T {
        get { scalars[offset(index)] }
        set { scalars[offset(index)] = newValue }
    }

    /// Same scalars, new shape; one dimension may be -1 and is inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "Tensor: cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(s.reduce(1, *) == count, "Tensor: cannot reshape \(shape) (\(count) scalars) to \(newShape)")
        return Tensor(shape: s, scalars: scalars)
    }

    /// Rows `range` of the leading axis.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(!shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "Tensor: rows \(range) out of 0..<\(shape.first ?? 0)")
        let inner = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(),
                      scalars: Array(scalars[range.lowerBound * inner ..< range.upperBound * inner]))
    }

    /// Rows picked by index along the leading axis (gathers a mini-batch).
    public func gather(rows idx: some Collection<Int>) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        var out = [T]()
        out.reserveCapacity(idx.count * inner)
        scalars.withUnsafeBufferPointer { src in
            for i in idx {
                precondition(i >= 0 && i < shape[0], "Tensor.gather: row \(i) out of 0..<\(shape[0])")
                out.append(contentsOf: src[i * inner ..< (i + 1) * inner])
            }
        }
        return Tensor(shape: [idx.count] + shape.dropFirst(), scalars: out)
    }

    public func converted<U: Scalar>(to: U.Type = U.self) -> Tensor<U> {
        Tensor<U>(shape: shape, scalars: scalars.map { U($0) })
    }

    public var transposed: Tensor {
        precondition(rank == 2, "Tensor.transposed needs a matrix, shape is \(shape)")
        let (m, n) = (shape[0], shape[1])
        var out = [T](repeating: 0, count: count)
        for i in 0..<m { for j in 0..<n { out[j * m + i] = scalars[i * n + j] } }
        return Tensor(shape: [n, m], scalars: out)
    }
}

/// Matrix product with optional transposes: op(a) · op(b).
public func matmul<T: Scalar>(_ a: Tensor<T>, _ b: Tensor<T>, transA: Bool = false, transB: Bool = false) -> Tensor<T> {
    precondition(a.rank == 2 && b.rank == 2, "matmul: needs matrices, got \(a.shape) and \(b.shape)")
    let (m, ka) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    precondition(ka == kb, "matmul: inner dimensions differ: \(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : "")")
    var c = Tensor<T>(shape: [m, n])
    if a.count == 0 || b.count == 0 { return c }
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                gemm(transA: transA, transB: transB, m: m, n: n, k: ka,
                     pa.baseAddress!, lda: a.shape[1], pb.baseAddress!, ldb: b.shape[1],
                     pc.baseAddress!)
            }
        }
    }
    return c
}
