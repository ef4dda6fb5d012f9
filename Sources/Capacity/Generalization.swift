import Datasets
import Linalg
import NeuralNets

/// How a procedure generalizes at a fixed training size: trained on the first `trainSize`
/// samples of a seed's permutation, tested on the rest.
public struct GeneralizationResult: Sendable, Codable, Equatable {
    public var trainSize: Int
    public var testSize: Int
    public var trainAccuracy: Double
    public var testAccuracy: Double
    /// train accuracy − test accuracy
    public var gap: Double { trainAccuracy - testAccuracy }

    public init(trainSize: Int, testSize: Int, trainAccuracy: Double, testAccuracy: Double) {
        self.trainSize = trainSize; self.testSize = testSize; self.trainAccuracy = trainAccuracy; self.testAccuracy = testAccuracy
    }
}

public func measureGeneralization(_ data: LabeledData<Float>, procedure p: FitProcedure, trainSize: Int, seed: UInt64) throws -> GeneralizationResult {
    guard trainSize >= 1, trainSize < data.count else {
        throw NetworkError.invalidArgument("the training size must be between 1 and \(data.count - 1) (the rest is the test set), got \(trainSize)")
    }
    let order = data.sampleOrder(seed: seed)
    let train = data.subset(Array(order.prefix(trainSize)))
    let test = data.subset(Array(order.dropFirst(trainSize)))
    let ws = Workspace<Float>()
    let (net, r, _) = try trainFresh(train, procedure: p, seed: seed, ws: ws)
    let t = try net.evaluate(test.x, .classes(test.labels32), loss: p.train.loss, ws: ws)
    return GeneralizationResult(trainSize: trainSize, testSize: test.count, trainAccuracy: r.finalAccuracy ?? 0,
                                testAccuracy: t.accuracy ?? 0)
}
