import Capacity
import Foundation
import Lab
import Testing

/// The full preset's capacity findings, judged from hand-made EMCs whose Welch intervals are
/// known: each verdict follows the intervals, both ways, and undecided comparisons stay open.
@Suite struct CapacityFindingsTests {
    /// Measured EMCs (each seed's search ends on a converged failure one sample above).
    func report(_ arch: String, _ parameters: Int, _ emcs: [Int]) -> EMCReport {
        EMCReport(arch: arch, parameters: parameters, searches: emcs.enumerated().map { i, e in
            EMCSearch(seed: UInt64(i), attempts: [
                FitResult(n: e, seed: UInt64(i), verdict: .fit, trainLoss: 0, trainAccuracy: 1, gradientNorm: 0, steps: 1, seconds: 0),
                FitResult(n: e + 1, seed: UInt64(i), verdict: .noFit, trainLoss: 1, trainAccuracy: 0.9, gradientNorm: 0, steps: 1, seconds: 0)],
                emc: e, firstFailure: e + 1)
        })
    }

    @Test func fewerSamplesThanParametersTheMoreSoTheLarger() {
        typealias Pair = (arch: String, params: Int, t: EMCReport, r: EMCReport)
        func pair(_ arch: String, _ p: Int, _ t: [Int], _ r: [Int]) -> Pair { (arch, p, report(arch, p, t), report(arch, p, r)) }
        let small = pair("mlp:49-2-10:relu", 130, [100, 104, 108], [40, 42, 44])          // 0.8 and 0.32 per parameter
        let large = pair("mlp:49-64-10:relu", 3850, [900, 950, 1000], [600, 620, 640])    // 0.25 and 0.16
        let cnnSmall = pair("cnn:7x7x1-c2-m2-10:relu", 200, [150, 155, 160], [60, 62, 64])
        let cnnLarge = pair("cnn:7x7x1-c16-m2-10:relu", 1610, [700, 720, 740], [300, 310, 320])
        let held = fewerThanParameters([small, large, cnnSmall, cnnLarge])
        #expect(held.verdict == .held, "\(held.evidence)")
        // The largest model fits more samples than it has parameters: contradicted.
        let over = pair("mlp:49-64-10:relu", 3850, [4100, 4200, 4300], [600, 620, 640])
        #expect(fewerThanParameters([small, over, cnnSmall, cnnLarge]).verdict == .notReproduced)
        // EMC per parameter rising with size: contradicted.
        let rising = pair("cnn:7x7x1-c16-m2-10:relu", 1610, [1500, 1520, 1540], [600, 610, 620])
        #expect(fewerThanParameters([small, large, cnnSmall, rising]).verdict == .notReproduced)
        // Seeds too spread to tell: open, not contradicted.
        let spread = pair("mlp:49-64-10:relu", 3850, [100, 1900, 3700], [40, 300, 560])
        #expect(fewerThanParameters([small, spread, cnnSmall, cnnLarge]).verdict == .inconclusive)
        // A two-layer MLP is not a size of the one-hidden-layer family.
        let deep = pair("mlp:49-64-64-10:relu", 8010, [9000, 9100, 9200], [9000, 9100, 9200])
        #expect(fewerThanParameters([small, large, deep, cnnSmall, cnnLarge]).verdict == .held)
        // ViTs are a family of their own (no activation in the spec): one whose EMC per parameter
        // rises with size contradicts the claim, one that falls keeps it.
        let vitSmall = pair("vit:14x14x1-p7-d8-b1-h2-m16-10", 1138, [900, 920, 940], [500, 510, 520])
        let vitRising = pair("vit:14x14x1-p7-d32-b1-h2-m64-10", 10666, [9000, 9100, 9200], [6000, 6100, 6200])
        let vitFalling = pair("vit:14x14x1-p7-d32-b1-h2-m64-10", 10666, [3000, 3100, 3200], [2000, 2100, 2200])
        let withVits = fewerThanParameters([small, large, cnnSmall, cnnLarge, vitSmall, vitFalling])
        #expect(withVits.verdict == .held && withVits.evidence.contains("vit random: 0.448 → 0.197"), "\(withVits.evidence)")
        #expect(fewerThanParameters([small, large, cnnSmall, cnnLarge, vitSmall, vitRising]).verdict == .notReproduced)
    }

    /// The EMC gap two ways: with test accuracy (τ, the larger the better) and with the
    /// generalization gap (r, the paper's: negative); a censored point is left out of both.
    @Test func theEMCGapAgainstGeneralizationBothWays() {
        func study(_ accuracy: (Double) -> Double, _ gap: (Double) -> Double) -> GapStudy {
            GapStudy(points: (0..<12).map { i in
                let g = Double(i * 40)
                let wobble = 0.02 * sin(Double(i) * 2.3)   // not a perfect line: |r| = 1 has no Fisher interval
                return GapPoint(label: "\(i)", emcTrue: 100 + g, emcRandom: 100, testAccuracy: accuracy(g) + wobble, generalizationGap: gap(g) - wobble, measured: false)
            } + [GapPoint(label: "censored", emcTrue: 5000, emcRandom: 100, testAccuracy: 0, generalizationGap: 1, comparable: false)])
        }
        // As the paper has it: accuracy rises, the generalization gap falls, with the EMC gap.
        let paper = gapFindings([study({ 0.6 + $0 / 2000 }, { 0.3 - $0 / 3000 })])
        #expect(paper.map(\.verdict) == [.held, .held], "\(paper.map(\.evidence))")
        #expect(paper[0].evidence.hasPrefix("12 configurations (12 with EMCs at the step cap)"))
        // Accuracy rises but so does the generalization gap: the paper's statistic is contradicted.
        let mixed = gapFindings([study({ 0.6 + $0 / 2000 }, { 0.1 + $0 / 3000 })])
        #expect(mixed.map(\.verdict) == [.held, .notReproduced])
        // No relation: inconclusive both ways.
        let flat = gapFindings([study({ 0.6 + ($0.truncatingRemainder(dividingBy: 80) == 0 ? 0.01 : -0.01) }, { 0.2 + ($0.truncatingRemainder(dividingBy: 80) == 0 ? 0.01 : -0.01) })])
        #expect(flat.map(\.verdict) == [.inconclusive, .inconclusive], "\(flat.map(\.evidence))")
    }

    @Test func moreClassesHarderTrueLabelsEasierRandomOnes() {
        func rows(true2: [Int], true10: [Int], random2: [Int], random10: [Int]) -> SweepRows {
            SweepRows(rows: [("2", "true", true2), ("10", "true", true10), ("2", "random-labels", random2), ("10", "random-labels", random10)].map {
                SweepRow(settings: ["classes": $0.0, "condition": $0.1], report: report("mlp", 970, $0.2))
            })
        }
        #expect(classesFinding(rows(true2: [300, 310, 320], true10: [100, 110, 120], random2: [30, 35, 40], random10: [80, 85, 90])).verdict == .held)
        #expect(classesFinding(rows(true2: [300, 310, 320], true10: [100, 110, 120], random2: [80, 85, 90], random10: [30, 35, 40])).verdict == .notReproduced)
        #expect(classesFinding(rows(true2: [300, 310, 320], true10: [100, 110, 120], random2: [30, 85, 140], random10: [80, 85, 90])).verdict == .inconclusive)
        #expect(classesFinding(SweepRows(rows: [])).verdict == .inconclusive)
    }

    @Test func randomInputsEasierForMLPsHarderForCNNs() {
        func rows(mlp: ([Int], [Int]), cnn: ([Int], [Int])) -> SweepRows {
            SweepRows(rows: [("mlp:49-32-10:relu", mlp), ("cnn:7x7x1-c8-m2-10:relu", cnn)].flatMap { arch, v in
                [SweepRow(settings: ["arch": arch, "condition": "true"], report: report(arch, 1000, v.0)),
                 SweepRow(settings: ["arch": arch, "condition": "gaussian-inputs"], report: report(arch, 1000, v.1))]
            })
        }
        #expect(inputsFinding(rows(mlp: ([200, 210, 220], [400, 410, 420]), cnn: ([500, 510, 520], [300, 310, 320]))).verdict == .held)
        // Both families find the images easier: the MLP half is contradicted.
        #expect(inputsFinding(rows(mlp: ([400, 410, 420], [200, 210, 220]), cnn: ([500, 510, 520], [300, 310, 320]))).verdict == .notReproduced)
    }

    /// The best ResNet per parameter against the best of each rival family; MLPs and CNNs count
    /// in their ReLU versions only, and a family that is absent is not a rival.
    @Test func resNetsPerParameterAgainstEveryOtherFamily() throws {
        let resnetSmall = report("resnet:7x7x1-w1-b1-s3-10", 400, [300, 310, 320])      // 0.775 per parameter
        let resnetLarge = report("resnet:7x7x1-w4-b1-s3-10", 5142, [2000, 2100, 2200])  // 0.408
        let mlp = report("mlp:49-16-10:relu", 970, [400, 410, 420])                     // 0.423
        let tanh = report("mlp:49-16-10:tanh", 970, [900, 910, 920])                    // not a ReLU MLP: no rival
        let vit = report("vit:8x8x3-p4-d4-b1-h2-m8-10", 500, [300, 310, 320])           // 0.62
        let held = try #require(perParameterFinding([resnetSmall, resnetLarge, mlp, tanh], lead: .resnet, against: [.mlp, .vit], samples: "random-label", on: " on X"))
        #expect(held.verdict == .held && held.claim == "ResNets fit more random-label samples per parameter than MLPs on X", "\(held.claim): \(held.evidence)")
        #expect(held.evidence.contains("best ResNet (resnet:7x7x1-w1-b1-s3-10) 0.775") && held.evidence.contains("mlp:49-16-10:relu"), "\(held.evidence)")
        // A ViT that fits more per parameter than the best ResNet contradicts it.
        let vitBetter = report("vit:8x8x3-p4-d4-b1-h2-m8-10", 300, [300, 310, 320])
        let contradicted = try #require(perParameterFinding([resnetSmall, mlp, vitBetter], lead: .resnet, against: [.mlp, .vit], samples: "random-label"))
        #expect(contradicted.verdict == .notReproduced && contradicted.claim.hasSuffix("than MLPs and ViTs"))
        // Close and spread seeds: open.
        let vitClose = report("vit:8x8x3-p4-d4-b1-h2-m8-10", 400, [150, 310, 470])
        #expect(perParameterFinding([resnetSmall, mlp, vitClose], lead: .resnet, against: [.mlp, .vit], samples: "random-label")?.verdict == .inconclusive)
        #expect(perParameterFinding([resnetSmall, vit], lead: .resnet, against: [.mlp], samples: "true-label") == nil)
        #expect(perParameterFinding([mlp, vit], lead: .resnet, against: [.mlp, .vit], samples: "true-label") == nil)
    }

    /// A comparison keeps its verdict where a side's searches ended at a collapse, and says
    /// which seeds: their EMCs are the optimization's.
    @Test func aComparisonNamesTheSeedsACollapseEnded() throws {
        let resnet = report("resnet:7x7x1-w1-b1-s3-10", 400, [300, 310, 320])
        var mlp = report("mlp:49-16-10:relu", 970, [400, 410, 420])
        let plain = try #require(perParameterFinding([resnet, mlp], lead: .resnet, against: [.mlp], samples: "random-label"))
        #expect(!plain.evidence.contains("collapse"), "\(plain.evidence)")
        mlp.searches[0].collapsed = true
        mlp.searches[2].collapsed = true
        let flagged = try #require(perParameterFinding([resnet, mlp], lead: .resnet, against: [.mlp], samples: "random-label"))
        #expect(flagged.verdict == plain.verdict && flagged.verdict == .held)
        #expect(flagged.evidence.hasSuffix("; ended at a collapse (learned nothing beyond the class frequencies): 2 of 3 seeds of mlp:49-16-10:relu, EMCs set by the optimization rather than the capacity"), "\(flagged.evidence)")
    }

    /// Likewise for seeds whose smallest failure diverged: the EMCs are the procedure's, the
    /// verdict stands, and the evidence names them beside the collapses.
    @Test func aComparisonNamesTheSeedsADivergenceEnded() throws {
        let resnet = report("resnet:7x7x1-w1-b1-s3-10", 400, [300, 310, 320])
        var mlp = report("mlp:49-16-10:relu", 970, [400, 410, 420])
        let plain = try #require(perParameterFinding([resnet, mlp], lead: .resnet, against: [.mlp], samples: "random-label"))
        mlp.searches[1].attempts[1].verdict = .diverged
        mlp.searches[0].collapsed = true
        #expect(mlp.diverged == 1 && mlp.isMeasured && mlp.status == "mixed")
        let flagged = try #require(perParameterFinding([resnet, mlp], lead: .resnet, against: [.mlp], samples: "random-label"))
        #expect(flagged.verdict == plain.verdict && flagged.verdict == .held && flagged.evidence.hasPrefix(plain.evidence))
        #expect(flagged.evidence.hasSuffix("; ended at a collapse (learned nothing beyond the class frequencies): 1 of 3 seeds of mlp:49-16-10:relu, EMCs set by the optimization rather than the capacity; ended at a divergence (the loss became NaN or infinite): 1 of 3 seeds of mlp:49-16-10:relu, EMCs set by the procedure's instability rather than the capacity"), "\(flagged.evidence)")
    }

    /// EMC up and EMC per parameter down from the narrowest to the widest.
    @Test func emcAgainstWidth() throws {
        let w1 = (width: 1, report: report("resnet:a-w1", 400, [100, 105, 110]))
        let w2 = (width: 2, report: report("resnet:a-w2", 1400, [300, 310, 320]))
        let w4 = (width: 4, report: report("resnet:a-w4", 5142, [1000, 1050, 1100]))
        let held = try #require(widthFinding([w1, w2, w4], name: "A ResNet-8", samples: "random-label"))
        #expect(held.verdict == .held && held.claim == "A ResNet-8's random-label EMC grows with its width while its EMC per parameter falls", "\(held.evidence)")
        #expect(held.evidence.contains("width 1 (400 parameters): 105, 0.263 per parameter") && held.evidence.contains("the widest below its parameter count"), "\(held.evidence)")
        // Per parameter rising with width: contradicted.
        let w4up = (width: 4, report: report("resnet:a-w4", 5142, [3000, 3050, 3100]))
        #expect(widthFinding([w1, w4up], name: "A ResNet-8", samples: "random-label")?.verdict == .notReproduced)
        // The widest fitting no more than the narrowest: contradicted; spread seeds: open; one width: none.
        let w4flat = (width: 4, report: report("resnet:a-w4", 5142, [60, 65, 70]))
        #expect(widthFinding([w1, w4flat], name: "A ResNet-8", samples: "random-label")?.verdict == .notReproduced)
        let w2spread = (width: 2, report: report("resnet:a-w2", 1400, [60, 300, 540]))
        #expect(widthFinding([w1, w2spread], name: "A ResNet-8", samples: "random-label")?.verdict == .inconclusive)
        #expect(widthFinding([w1], name: "A ResNet-8", samples: "random-label") == nil)
    }

    /// EMC per trained parameter at the smallest subspace against the whole model's, for each
    /// architecture (the reports count trained parameters).
    @Test func subspaceTrainingPerTrainedParameter() throws {
        let mlpFull = report("mlp:49-32-10:relu", 1930, [380, 390, 400])   // 0.202
        let cnnFull = report("cnn:7x7x1-c8-m2-10:relu", 810, [200, 205, 210])   // 0.253
        func rows(mlp50: [Int], cnn50: [Int]) -> [(arch: String, d: Int?, report: EMCReport)] {
            [("mlp:49-32-10:relu", 50, report("mlp:49-32-10:relu", 50, mlp50)), ("mlp:49-32-10:relu", 100, report("mlp:49-32-10:relu", 100, [40, 42, 44])),
             ("mlp:49-32-10:relu", nil, mlpFull), ("cnn:7x7x1-c8-m2-10:relu", 50, report("cnn:7x7x1-c8-m2-10:relu", 50, cnn50)),
             ("cnn:7x7x1-c8-m2-10:relu", nil, cnnFull)]
        }
        let held = try #require(subspaceFinding(rows(mlp50: [20, 21, 22], cnn50: [30, 31, 32])))
        #expect(held.verdict == .held, "\(held.evidence)")
        #expect(held.evidence.contains("mlp:49-32-10:relu: d = 50: 0.420, d = 100: 0.420; all 1930: 0.202"), "\(held.evidence)")
        // The CNN's subspace fitting less per trained parameter: contradicted.
        #expect(subspaceFinding(rows(mlp50: [20, 21, 22], cnn50: [5, 6, 7]))?.verdict == .notReproduced)
        #expect(subspaceFinding([("mlp:49-32-10:relu", nil, mlpFull)]) == nil)
    }
}
