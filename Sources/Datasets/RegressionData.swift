import Foundation
import Linalg

/// Real-valued targets: n inputs of d coordinates (row-major) and one number per input, as the
/// regression instruments read them (`overparam adapt kernel --data`).
public struct RegressionData: Sendable, Equatable {
    public var x: [Double]
    public var y: [Double]
    public let dimension: Int
    public var count: Int { y.count }

    public init(x: [Double], y: [Double], dimension: Int) {
        precondition(dimension >= 1 && x.count == y.count * dimension)
        self.x = x; self.y = y; self.dimension = dimension
    }

    /// The data of `csv:PATH` (inputs, then the target in the last column; a header line is
    /// skipped) or `npy:X.npy,Y.npy` (inputs [n, d], targets [n] or [n, 1]). Every problem names
    /// the file and, for a CSV, the line and column.
    public static func load(_ spec: String) throws -> RegressionData {
        let p = DataSpec.Parsed(spec)
        guard p.kind == "csv" || p.kind == "npy", let files = try p.files() else {
            throw DataError.invalid("'\(spec)': a regression data set is csv:PATH (inputs, then the target in the last column) or npy:X.npy,Y.npy")
        }
        if p.kind == "csv" { return try readRegressionCSV(files[0]) }
        return try readRegressionNPY(inputs: files[0], targets: files[1])
    }
}

/// A numeric CSV file: one sample per line, its inputs and then its real-valued target.
public func readRegressionCSV(_ path: String) throws -> RegressionData {
    var x = [Double](), y = [Double](), width = 0
    _ = try readCSVRows(path, minimumWidth: 2, needs: "at least one input and a target") { lineNumber, fields in
        width = fields.count
        for (c, f) in fields.enumerated() {
            guard let v = Double(f), v.isFinite else {
                throw DataError.malformed(path: path, reason: "line \(lineNumber), column \(c + 1): '\(f)' is not a finite number")
            }
            if c == fields.count - 1 { y.append(v) } else { x.append(v) }
        }
    }
    return RegressionData(x: x, y: y, dimension: width - 1)
}

/// Inputs [n, d] (or [n], one coordinate) from one `.npy` file and targets [n] or [n, 1] from another.
public func readRegressionNPY(inputs: String, targets: String) throws -> RegressionData {
    let x = try readNPY(inputs), y = try readNPY(targets)
    guard x.shape.count == 1 || x.shape.count == 2, x.shape.allSatisfy({ $0 >= 1 }) else {
        throw DataError.malformed(path: inputs, reason: "inputs need shape [n, d] or [n], got \(x.shape)")
    }
    guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
        throw DataError.malformed(path: targets, reason: "targets need shape [n] or [n, 1], got \(y.shape)")
    }
    guard x.shape[0] == y.shape[0] else {
        throw DataError.malformed(path: targets, reason: "\(y.shape[0]) targets but \(x.shape[0]) inputs in \(inputs)")
    }
    if let i = x.values.firstIndex(where: { !$0.isFinite }) {
        throw DataError.malformed(path: inputs, reason: "value \(x.values[i]) at \(x.position(i)) is not a finite number")
    }
    if let i = y.values.firstIndex(where: { !$0.isFinite }) {
        throw DataError.malformed(path: targets, reason: "target \(y.values[i]) at index \(i) is not a finite number")
    }
    return RegressionData(x: x.values, y: y.values, dimension: x.shape.count == 2 ? x.shape[1] : 1)
}
