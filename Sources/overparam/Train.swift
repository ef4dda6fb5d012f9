import ArgumentParser
import Datasets
import Foundation
import Lab
import Linalg
import NeuralNets

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on a dataset and report train/test loss and accuracy.")

    @Option(help: "Model spec, e.g. mlp:784-256-10:relu or cnn:28x28x1-c16-m2-c32-m2-10:relu.")
    var arch: String = "mlp:784-256-10:relu"

    @Option(help: "Data set: \(DataSpec.help).")
    var data: String = "fashion-mnist"

    @Option(help: "Average-pool images by this factor (2: 28×28 → 14×14).")
    var downsample: Int = 1

    @Option(help: "Condition: \(Condition.allCases.map(\.rawValue).joined(separator: ", ")).")
    var condition: String = "true"

    @Option(help: "Merge the classes into this many (consecutive groups).")
    var classes: Int?

    @Option(help: "Training samples (a prefix of the training set).")
    var trainSize: Int = 10000

    @Option(parsing: .unconditional, help: "Test samples: a prefix of the test set, or — for data without one (digits, CSV, NPY, …) — held out from the training data, apart from the training samples (default: 10,000, or a fifth of the data where it is held out).")
    var testSize: Int?

    @Option(help: "Optimizer: sgd, adam or adamw.")
    var optimizer: String = "sgd"

    @Option(help: "Learning rate.")
    var lr: Double = 0.05

    @Option(help: "Momentum (sgd).")
    var momentum: Double = 0.9

    @Option(help: "Mini-batch size; 0 means full batch.")
    var batchSize: Int = 128

    @Option(help: "Epochs (passes over the training set).")
    var epochs: Int = 5

    @Option(help: "Initialization: he, xavier, torch or gaussian:STD.")
    var initialization: String = "torch"

    @Option(help: "Seed for initialization and batch order.")
    var seed: UInt64 = 0

    @Option(help: "Stop early at this train accuracy (0–1).")
    var targetAccuracy: Double?

    @Flag(help: "Print one JSON object with the results.")
    var json = false

    func run() throws {
        do { try execute() } catch { fail(error) }
    }

    func execute() throws {
        guard trainSize > 0, (testSize ?? 0) >= 0 else { throw ExperimentError("--train-size must be positive and --test-size ≥ 0") }
        let cond = try Condition.named(condition)
        func prepare(_ d: LabeledData<Float>) throws -> LabeledData<Float> {
            var d = try d.downsampled(by: downsample)
            if let classes { d = try d.mergingClasses(into: classes) }
            return d
        }
        let (fullTrain, fullTest) = try DataSpec.load(data, seed: seed, as: Float.self)
        let train: LabeledData<Float>, test: LabeledData<Float>
        if let fullTest {
            train = try prepare(fullTrain.prefix(trainSize)).applying(cond, seed: seed)
            test = try prepare(fullTest.prefix(testSize ?? 10_000))
        } else {
            // No test set: hold one out of the shuffled training data, disjoint from the samples trained on.
            let held = testSize ?? min(10_000, fullTrain.count / 5)
            guard held < fullTrain.count else {
                throw ExperimentError("--test-size \(held): \(data) has \(fullTrain.count) samples and no test set; hold out fewer, so some are left to train on")
            }
            let order = fullTrain.sampleOrder(seed: seed)
            test = try prepare(fullTrain.subset(Array(order.prefix(held))))
            train = try prepare(fullTrain.subset(Array(order.dropFirst(held).prefix(trainSize)))).applying(cond, seed: seed)
        }
        var net = try Network<Float>(spec: arch, inputShape: train.sampleShape)
        net.initialize(try parseInitialization(initialization), rng: RNG(seed: seed))
        var c = TrainConfig()
        c.optimizer = try parseOptimizer(optimizer, momentum: momentum)
        c.learningRate = lr
        c.batchSize = batchSize == 0 ? nil : batchSize
        c.seed = seed
        c.targetAccuracy = targetAccuracy
        let batch = min(c.batchSize ?? train.count, train.count)
        c.maxSteps = epochs * ((train.count + batch - 1) / batch)
        let y = Supervision<Float>.classes(train.labels.map { Int32($0) })
        if !json {
            print("\(arch): \(net.parameterCount) parameters; \(train.count) train / \(test.count) test samples\(fullTest == nil ? " (held out)" : ""); \(c.optimizer), lr \(lr), batch \(batch)")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try NeuralNets.train(&net, x: train.x, y: y, config: c) { r in
            guard !json else { return }
            let acc = r.accuracy.map { String(format: "%.2f%%", 100 * $0) } ?? "-"
            print(String(format: "  step %6d  train loss %.4f  train acc %@", r.step, r.loss, acc))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var testLoss = Double.nan, testAcc: Double? = nil
        if test.count > 0 {
            (testLoss, testAcc) = try net.evaluate(test.x, .classes(test.labels.map { Int32($0) }), loss: .crossEntropy)
        }
        if json {
            let out: [String: Any] = [
                "arch": arch, "parameters": net.parameterCount, "steps": result.steps,
                "train_loss": result.finalLoss, "train_accuracy": result.finalAccuracy ?? NSNull(),
                "test_loss": testAcc == nil ? NSNull() : testLoss as Any, "test_accuracy": testAcc ?? NSNull(), "seconds": seconds,
                "stop_reason": result.stopReason.rawValue, "train_size": train.count, "test_size": test.count,
                "test_source": fullTest == nil ? "held out of the training data" : "the data set's test set",
                // Which kernels rounded these numbers (another arithmetic gives other last bits).
                "arithmetic": Engine.arithmetic,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
        } else {
            var line = String(format: "done in %.1f s (%d steps, %@): train acc %.2f%%", seconds, result.steps,
                              result.stopReason.rawValue, 100 * (result.finalAccuracy ?? 0))
            if let testAcc { line += String(format: ", test acc %.2f%%, test loss %.4f", 100 * testAcc, testLoss) }
            print(line)
        }
    }
}
