import Foundation
import Testing

/// `OVERPARAM_KERNELS` caps the kernel level below the CPU's, so that a machine computes as one
/// of that level does: the arithmetic a result reports, the kernels that run, and with them the
/// last bits.
@Suite struct KernelsSettingTests {
    static let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    static let hasAVX2 = cpu.contains(" avx2") && cpu.contains(" fma")
    static let hasAVX512 = hasAVX2 && cpu.contains(" avx512f")
    static let avx512Cores = ["SkylakeX", "Cooperlake", "SapphireRapids"]
    /// The final training loss of `train` below in the arithmetic "avx2 kernels, avx2 sgemm,
    /// OpenBLAS Zen" at engine revision 2 (a new revision changes it).
    static let avx2Loss = 0.534726083278656

    /// `overparam train --json` of a small MLP on the digits, mini-batch 64: its forward
    /// products, weight gradients below the classifier and loss all run through the kernels the
    /// setting selects.
    func train(_ environment: [String: String]) throws -> (outcome: Outcome, json: [String: Any]) {
        let r = try overparam(["train", "--arch", "mlp:64-32-10:relu", "--data", "digits", "--train-size", "640",
                               "--test-size", "100", "--batch-size", "64", "--lr", "0.05", "--epochs", "5", "--seed", "3",
                               "--json"], environment: environment)
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        return (r, json)
    }

    @Test func aSettingThatCannotBeHonouredIsRefusedBeforeAnythingRuns() throws {
        let bad = try train(["OVERPARAM_KERNELS": "avx3"]).outcome
        #expect(bad.status == 1 && bad.stdout.isEmpty, "\(bad.stdout)")
        #expect(bad.stderr == "error: OVERPARAM_KERNELS='avx3': expected avx512, avx2 or portable\n", "\(bad.stderr)")
        if !Self.hasAVX512 {
            let above = try train(["OVERPARAM_KERNELS": "avx512"]).outcome
            #expect(above.status == 1 && above.stderr.contains("error: OVERPARAM_KERNELS=avx512: this CPU has "), "\(above.stderr)")
        }
    }

    @Test func theSettingCapsTheArithmetic() throws {
        func arithmetic(_ environment: [String: String]) throws -> String {
            let (r, json) = try train(environment)
            #expect(r.status == 0, "\(r.stderr)")
            return json["arithmetic"] as? String ?? "none in \(r.stdout)"
        }
        let portable = try arithmetic(["OVERPARAM_KERNELS": "portable"])
        #expect(portable.hasPrefix("portable kernels, openblas sgemm, OpenBLAS "), "\(portable)")
        guard Self.hasAVX2 else { return }
        // At AVX2, OpenBLAS leaves its AVX-512 kernels too, unless the user names a kernel set.
        let avx2 = try arithmetic(["OVERPARAM_KERNELS": "avx2"])
        #expect(avx2.hasPrefix("avx2 kernels, avx2 sgemm, OpenBLAS ") && !Self.avx512Cores.contains { avx2.hasSuffix($0) }, "\(avx2)")
        let named = try arithmetic(["OVERPARAM_KERNELS": "avx2", "OPENBLAS_CORETYPE": "Haswell"])
        #expect(named == "avx2 kernels, avx2 sgemm, OpenBLAS Haswell", "\(named)")
        if Self.hasAVX512 {
            let best = try arithmetic([:]), asked = try arithmetic(["OVERPARAM_KERNELS": "avx512"])
            #expect(best.hasPrefix("avx512 kernels, avx512 sgemm, OpenBLAS ") && asked == best, "\(best) / \(asked)")
        }
    }

    /// One arithmetic gives the same bits on every machine that can compute it. The loss below is
    /// what "avx2 kernels, avx2 sgemm, OpenBLAS Zen" computes: recorded with the setting on an
    /// AVX-512 EPYC, whose capped EMC searches reproduce those of an AVX2-only EPYC sample for
    /// sample (RESULTS.md, "One arithmetic on two machines"). On an AVX-512 CPU the capped run
    /// must also differ from the uncapped one, or the setting changed nothing.
    @Test func anArithmeticGivesTheSameBitsOnEveryMachineThatComputesIt() throws {
        guard Self.hasAVX2 else { return }
        let (r, capped) = try train(["OVERPARAM_KERNELS": "avx2", "OPENBLAS_CORETYPE": "Zen"])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(capped["arithmetic"] as? String == "avx2 kernels, avx2 sgemm, OpenBLAS Zen")
        let loss = try #require(capped["train_loss"] as? Double)
        #expect(loss.bitPattern == Self.avx2Loss.bitPattern, "train loss \(loss), want \(Self.avx2Loss)")
        if Self.hasAVX512 {
            let own = try #require(train([:]).json["train_loss"] as? Double)
            #expect(own.bitPattern != loss.bitPattern, "the AVX-512 run gave the AVX2 bits: \(own)")
        }
    }
}
