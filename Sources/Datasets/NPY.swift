import Foundation
import Linalg

/// A NumPy `.npy` array: its shape and its values widened to Double.
public struct NPYArray: Sendable {
    public var shape: [Int]
    public var values: [Double]
    /// The dtype as written in the header, e.g. "<f4".
    public var dtype: String
}

/// Reads a `.npy` file (format versions 1–3, C order): float32, float64, uint8, int32 or
/// int64, little-endian. Anything else — bad magic, Fortran order, another dtype, a payload
/// shorter or longer than the header's shape — is an error naming the file and the problem.
public func readNPY(_ path: String) throws -> NPYArray {
    let b = try readMaybeGzip(path)
    func fail(_ why: String) -> DataError { .malformed(path: path, reason: why) }
    let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    guard b.count >= 10, Array(b[0..<6]) == magic else { throw fail("not a .npy file (bad magic number)") }
    let major = b[6]
    let (headerStart, headerLength): (Int, Int)
    switch major {
    case 1: (headerStart, headerLength) = (10, Int(b[8]) | Int(b[9]) << 8)
    case 2, 3:
        guard b.count >= 12 else { throw fail("header truncated") }
        (headerStart, headerLength) = (12, Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24)
    default: throw fail("unsupported .npy format version \(major)")
    }
    guard b.count >= headerStart + headerLength,
          let header = String(bytes: b[headerStart ..< headerStart + headerLength], encoding: .utf8) else {
        throw fail("header truncated")
    }
    func value(_ key: String) -> Substring? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        return header[r.upperBound...].drop { $0 == " " }
    }
    guard let d = value("descr"), d.first == "'", let end = d.dropFirst().firstIndex(of: "'") else {
        throw fail("header has no dtype ('descr')")
    }
    let dtype = String(d[d.index(after: d.startIndex) ..< end])
    if let f = value("fortran_order"), f.hasPrefix("True") {
        throw fail("Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
    }
    guard let s = value("shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
        throw fail("header has no shape")
    }
    var shape = [Int]()
    for part in s[s.index(after: s.startIndex) ..< close].split(separator: ",") {
        let t = part.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { continue }
        guard let v = Int(t), v >= 0 else { throw fail("bad shape entry '\(t)'") }
        shape.append(v)
    }
    let width: Int
    switch dtype {
    case "<f4", "<i4": width = 4
    case "<f8", "<i8": width = 8
    case "|u1", "<u1", "|b1": width = 1
    default:
        throw fail("unsupported dtype '\(dtype)' (supported: float32 <f4, float64 <f8, uint8 |u1, int32 <i4, int64 <i8, little-endian)")
    }
    var count = 1
    for dim in shape {
        let (c, o) = count.multipliedReportingOverflow(by: dim)
        guard !o else { throw fail("shape \(shape) is too large") }
        count = c
    }
    let start = headerStart + headerLength
    guard b.count - start == count * width else {
        throw fail("payload has \(b.count - start) bytes, shape \(shape) of \(dtype) needs \(count * width)" +
                   (b.count - start < count * width ? " (file truncated)" : ""))
    }
    var values = [Double](repeating: 0, count: count)
    b.withUnsafeBytes { raw in
        let p = raw.baseAddress! + start
        for i in 0..<count {
            switch dtype {
            case "<f4": values[i] = Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
            case "<f8": values[i] = Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            case "<i4": values[i] = Double(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            case "<i8": values[i] = Double(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            default: values[i] = Double(p.load(fromByteOffset: i, as: UInt8.self))
            }
        }
    }
    return NPYArray(shape: shape, values: values, dtype: dtype)
}

extension NPYArray {
    /// The C-order index of flat element `i`, as "[3, 1]".
    func position(_ i: Int) -> String {
        var rest = i, index = [Int](repeating: 0, count: shape.count)
        for d in shape.indices.reversed() where shape[d] > 0 {
            index[d] = rest % shape[d]; rest /= shape[d]
        }
        return "[" + index.map(String.init).joined(separator: ", ") + "]"
    }
}

/// Inputs from one `.npy` file ([n, ...]; uint8 images are scaled to [0, 1]) and integer labels
/// from another ([n]).
public func readNPYDataset<T: Scalar>(inputs: String, labels: String, as: T.Type = T.self) throws -> LabeledData<T> {
    let x = try readNPY(inputs)
    let y = try readNPY(labels)
    guard x.shape.count >= 2 else {
        throw DataError.malformed(path: inputs, reason: "inputs need shape [n, ...], got \(x.shape)")
    }
    guard y.shape.count == 1 else {
        throw DataError.malformed(path: labels, reason: "labels need shape [n], got \(y.shape)")
    }
    guard x.shape[0] == y.shape[0] else {
        throw DataError.malformed(path: labels, reason: "\(y.shape[0]) labels but \(x.shape[0]) inputs in \(inputs)")
    }
    if let i = x.values.firstIndex(where: { !$0.isFinite }) {
        throw DataError.malformed(path: inputs, reason: "value \(x.values[i]) at \(x.position(i)) is not a finite number")
    }
    if let i = y.values.firstIndex(where: { !$0.isFinite || $0 < 0 || $0 != $0.rounded() || $0 > Double(Int32.max) }) {
        throw DataError.malformed(path: labels, reason: "label \(y.values[i]) at index \(i) is not a non-negative integer")
    }
    let scale = x.dtype.hasSuffix("u1") ? 1.0 / 255 : 1
    let labels = y.values.map { Int($0) }
    return LabeledData(x: Tensor(shape: x.shape, scalars: x.values.map { T($0 * scale) }), labels: labels,
                       classes: (labels.max() ?? 0) + 1)
}
