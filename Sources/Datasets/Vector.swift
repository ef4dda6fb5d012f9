import Foundation

/// Reads one vector of numbers: a `.npy` file holding a 1-D array (or an N×1 / 1×N one), or a
/// text file with the numbers separated by commas, spaces or newlines and an optional header
/// line of names. What users supply as coefficients or eigenvalues; errors name the file, and
/// for text the line and field.
public func readVector(_ path: String) throws -> [Double] {
    if path.hasSuffix(".npy") || path.hasSuffix(".npy.gz") {
        let a = try readNPY(path)
        guard a.shape.filter({ $0 != 1 }).count <= 1 else {
            throw DataError.malformed(path: path, reason: "expected a vector, got an array of shape \(a.shape)")
        }
        guard !a.values.isEmpty else { throw DataError.malformed(path: path, reason: "the array is empty") }
        return a.values
    }
    let bytes = try readMaybeGzip(path)
    guard let text = String(bytes: bytes, encoding: .utf8) else { throw DataError.malformed(path: path, reason: "not UTF-8 text") }
    var values = [Double]()
    var lineNumber = 0
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
        lineNumber += 1
        let fields = line.split { $0 == "," || $0 == " " || $0 == "\t" || $0 == ";" }
        if fields.isEmpty { continue }
        let numbers = fields.map { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
        if values.isEmpty && numbers.allSatisfy({ $0 == nil }) { continue }   // a header line
        for (i, v) in numbers.enumerated() {
            guard let v, v.isFinite else {
                throw DataError.malformed(path: path, reason: "line \(lineNumber), field \(i + 1): '\(fields[i])' is not a finite number")
            }
            values.append(v)
        }
    }
    guard !values.isEmpty else { throw DataError.malformed(path: path, reason: "no numbers found") }
    return values
}
