import Foundation
import Linalg

/// The 1,797 8×8 handwritten digits shipped with the package (UCI / scikit-learn), as images
/// [n, 8, 8, 1] with the 0–16 intensities scaled to [0, 1].
public enum Digits {
    /// The resource's path in the package bundle.
    static func file() throws -> String {
        guard let url = Bundle.module.url(forResource: "digits.csv", withExtension: "gz") else {
            throw DataError.notFound("the digits resource is missing from the package bundle")
        }
        return url.path
    }

    public static func load<T: Scalar>(as: T.Type = T.self) throws -> LabeledData<T> {
        let path = try file()
        let flat: LabeledData<T> = try readCSV(path)
        guard flat.count == 1797, flat.x.shape[1] == 64 else {
            throw DataError.malformed(path: path, reason: "expected 1,797 rows of 64 features, got \(flat.x.shape)")
        }
        let x = Tensor(shape: [flat.count, 8, 8, 1], scalars: flat.x.scalars.map { $0 / 16 })
        return LabeledData(x: x, labels: flat.labels, classes: 10)
    }
}
