import Foundation
import Linalg

/// The data rows of a numeric CSV file, each passed with its line number and fields (trimmed,
/// quotes removed) to `row`, every row as wide as the first; returns how many there were. A first
/// line with any non-numeric field is taken as a header. Blank lines are skipped.
func readCSVRows(_ path: String, minimumWidth: Int, needs: String,
                 _ row: (_ line: Int, _ fields: [Substring]) throws -> Void) throws -> Int {
    let bytes = try readMaybeGzip(path)
    guard let text = String(bytes: bytes, encoding: .utf8) else {
        throw DataError.malformed(path: path, reason: "not UTF-8 text")
    }
    var width = -1, lineNumber = 0, rows = 0
    // \r\n is one Character in Swift, so split on any newline rather than on "\n".
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
        lineNumber += 1
        if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { f -> Substring in
            var t = f.drop { $0 == " " || $0 == "\t" }
            while let last = t.last, last == " " || last == "\t" { t = t.dropLast() }
            if t.count >= 2, t.first == "\"", t.last == "\"" { t = t.dropFirst().dropLast() }
            return t
        }
        if width < 0 {
            width = fields.count
            guard width >= minimumWidth else {
                throw DataError.malformed(path: path, reason: "line \(lineNumber): need \(needs), found \(width) column")
            }
            if fields.contains(where: { Double($0) == nil }) { continue }  // a header
        }
        guard fields.count == width else {
            throw DataError.malformed(path: path, reason: "line \(lineNumber) has \(fields.count) columns, earlier lines have \(width)")
        }
        try row(lineNumber, fields)
        rows += 1
    }
    guard rows > 0 else { throw DataError.malformed(path: path, reason: "no data rows") }
    return rows
}

/// Reads a numeric CSV file: one sample per line, features and an integer class label.
/// `labelColumn` counts from 0; negative counts from the end (default −1, the last column). A
/// first line with any non-numeric field is taken as a header. Blank lines are skipped; fields
/// may be quoted. Every problem is reported with the file, line and column.
public func readCSV<T: Scalar>(_ path: String, labelColumn: Int = -1, as: T.Type = T.self) throws -> LabeledData<T> {
    var features = [T]()
    var labels = [Int]()
    var width = 0, labelIndex = 0
    _ = try readCSVRows(path, minimumWidth: 2, needs: "at least one feature and a label") { lineNumber, fields in
        if width == 0 {
            width = fields.count
            labelIndex = labelColumn < 0 ? width + labelColumn : labelColumn
            guard labelIndex >= 0, labelIndex < width else {
                throw DataError.malformed(path: path, reason: "label column \(labelColumn) does not exist: lines have \(width) columns")
            }
        }
        for (c, f) in fields.enumerated() {
            if c == labelIndex {
                guard let v = Double(f), v >= 0, v == v.rounded(), v < Double(Int32.max) else {
                    throw DataError.malformed(path: path, reason: "line \(lineNumber), column \(c + 1): label '\(f)' is not a non-negative integer")
                }
                labels.append(Int(v))
            } else {
                guard let v = Double(f), v.isFinite else {
                    throw DataError.malformed(path: path, reason: "line \(lineNumber), column \(c + 1): '\(f)' is not a finite number")
                }
                features.append(T(v))
            }
        }
    }
    return LabeledData(x: Tensor(shape: [labels.count, width - 1], scalars: features), labels: labels,
                       classes: (labels.max() ?? 0) + 1)
}
