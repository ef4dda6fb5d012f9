import Adaptivity
import Capacity
import Foundation
import Linalg
import PostgresNIO
import Recovery

// The instruments' results other than fit attempts in PostgreSQL: recovery runs, rate units
// and generalization runs, with the same rows and meaning as in the SQLite file. As for
// attempts, a result is written once: a second save of the same unit keeps the first.
extension PostgresAttempts {
    func cachedRun(n: Int, seed: UInt64) throws -> RecoveryRun? {
        try store.query("""
            SELECT n, seed, train_mse, test_mse, diverged, steps, seconds, measures FROM \(unescaped: store.t("recovery_runs"))
            WHERE experiment = \(key) AND seed = \(Int64(bitPattern: seed)) AND n = \(n)
            """).rows.first.map { row in
            let (n, seed, train, test, diverged, steps, seconds, measures) = try row.decode((Int, Int64, Double?, Double?, Int, Int, Double, String?).self)
            return RecoveryRun(n: n, seed: UInt64(bitPattern: seed), trainMSE: train ?? .infinity, testMSE: test ?? .infinity,
                               steps: steps, seconds: seconds, diverged: diverged != 0, measures: decodeMeasures(measures))
        }
    }

    func saveRun(_ r: RecoveryRun) throws {
        // Non-finite errors (a diverged run) are stored as NULL, as in SQLite.
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        try store.query("""
            INSERT INTO \(unescaped: store.t("recovery_runs")) (experiment, seed, n, train_mse, test_mse, diverged, steps, seconds, finished, measures,
                                                             arithmetic)
            VALUES (\(key), \(Int64(bitPattern: r.seed)), \(r.n), \(finite(r.trainMSE)), \(finite(r.testMSE)), \(r.diverged ? 1 : 0),
                    \(r.steps), \(r.seconds), \(ISO8601DateFormatter().string(from: Date())), \(try encodeMeasures(r.measures)), \(Engine.arithmetic))
            ON CONFLICT DO NOTHING
            """)
    }

    func cachedCurves(n: Int, repetition: Int) throws -> [[Double]]? {
        try store.query("""
            SELECT curves FROM \(unescaped: store.t("rate_units")) WHERE experiment = \(key) AND n = \(n) AND repetition = \(repetition)
            """).rows.first.flatMap { decodeCurves(try $0.decode(Data.self)) }
    }

    func saveCurves(_ curves: [[Double]], n: Int, repetition: Int, seconds: Double) throws {
        try store.query("""
            INSERT INTO \(unescaped: store.t("rate_units")) (experiment, n, repetition, curves, seconds, finished, arithmetic)
            VALUES (\(key), \(n), \(repetition), \(encodeCurves(curves)), \(seconds), \(ISO8601DateFormatter().string(from: Date())), \(Engine.arithmetic))
            ON CONFLICT DO NOTHING
            """)
    }

    func cachedGeneralization(seed: UInt64, trainSize: Int) throws -> GeneralizationResult? {
        try store.query("""
            SELECT train_size, test_size, train_accuracy, test_accuracy FROM \(unescaped: store.t("generalization_runs"))
            WHERE experiment = \(key) AND seed = \(Int64(bitPattern: seed)) AND train_size = \(trainSize)
            """).rows.first.map { row in
            let (train, test, trainAccuracy, testAccuracy) = try row.decode((Int, Int, Double, Double).self)
            return GeneralizationResult(trainSize: train, testSize: test, trainAccuracy: trainAccuracy, testAccuracy: testAccuracy)
        }
    }

    func saveGeneralization(_ r: GeneralizationResult, seed: UInt64) throws {
        try store.query("""
            INSERT INTO \(unescaped: store.t("generalization_runs")) (experiment, seed, train_size, test_size, train_accuracy, test_accuracy, finished,
                                                                   arithmetic)
            VALUES (\(key), \(Int64(bitPattern: seed)), \(r.trainSize), \(r.testSize), \(r.trainAccuracy), \(r.testAccuracy),
                    \(ISO8601DateFormatter().string(from: Date())), \(Engine.arithmetic))
            ON CONFLICT DO NOTHING
            """)
    }
}
