import CKernels
import Linalg
import RealModule

/// Optimizer settings. Full-batch gradient descent is `.sgd` with batch = n.
public enum OptimizerKind: Equatable, Sendable, CustomStringConvertible {
    case sgd(momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0)
    case adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0)
    /// Adam with decoupled weight decay (Loshchilov & Hutter).
    case adamW(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0.01)

    public var description: String {
        switch self {
        case let .sgd(m, n, wd): return "sgd(momentum \(m)\(n ? ", nesterov" : "")\(wd > 0 ? ", wd \(wd)" : ""))"
        case let .adam(b1, b2, _, wd): return "adam(\(b1), \(b2)\(wd > 0 ? ", wd \(wd)" : ""))"
        case let .adamW(b1, b2, _, wd): return "adamw(\(b1), \(b2), wd \(wd))"
        }
    }
}

/// Learning-rate schedules: the factor multiplying the base rate at step t (0-based).
public indirect enum Schedule: Equatable, Sendable {
    case constant
    /// Cosine decay from 1 to `floor` over `steps`, then `floor`.
    case cosine(steps: Int, floor: Double = 0)
    /// Linear ramp from 1/(steps+1) up to 1 over `steps`, then `then`.
    case warmup(steps: Int, then: Schedule)

    public func factor(at t: Int) -> Double {
        switch self {
        case .constant: return 1
        case let .cosine(n, floor):
            if t >= n { return floor }
            return floor + (1 - floor) * 0.5 * (1 + Double.cos(Double.pi * Double(t) / Double(n)))
        case let .warmup(n, then):
            if t < n { return Double(t + 1) / Double(n + 1) }
            return then.factor(at: t - n)
        }
    }
}

/// An optimizer's state: flat buffers parallel to the parameters, updated by flat loops.
public struct Optimizer<T: Scalar>: Sendable {
    public var kind: OptimizerKind
    public var learningRate: Double
    public var schedule: Schedule
    public private(set) var step = 0
    /// Which implementation a Float step takes (`Sources/CKernels`, or `.reference`: the Swift
    /// loops). All give the same bits; the choice is for tests.
    public var kernels: KernelPath = .best
    var m: [T] = []
    var v: [T] = []

    public init(_ kind: OptimizerKind, learningRate: Double, schedule: Schedule = .constant) {
        self.kind = kind; self.learningRate = learningRate; self.schedule = schedule
    }

    public var currentLearningRate: Double { learningRate * schedule.factor(at: step) }

    /// θ ← update(θ, ∇θ), one step.
    public mutating func update(_ params: inout [T], _ grads: [T]) {
        precondition(params.count == grads.count, "Optimizer: \(params.count) parameters but \(grads.count) gradients")
        let n = params.count
        let lr = T(currentLearningRate)
        step += 1
        switch kind {
        case let .sgd(mom, nesterov, wd):
            if mom != 0 && m.count != n { m = [T](repeating: 0, count: n) }
            let first = step == 1
            params.withUnsafeMutableBufferPointer { p in grads.withUnsafeBufferPointer { g in m.withUnsafeMutableBufferPointer { b in
                let moment = mom == 0 ? nil : b.baseAddress!
                if let flag = kernels.flag(T.self), let pf = floats(p.baseAddress!), let gf = floats(g.baseAddress!) {
                    ck_sgd(pf, gf, moment.map { floats($0)! }, n, Float(lr), Float(mom), nesterov ? 1 : 0, Float(wd),
                           first ? 1 : 0, flag)
                } else {
                    sgdKernel(p.baseAddress!, g.baseAddress!, moment, n: n, lr: lr,
                              momentum: T(mom), nesterov: nesterov, decay: T(wd), firstStep: first)
                }
            } } }
        case let .adam(b1, b2, eps, wd), let .adamW(b1, b2, eps, wd):
            let decoupled: Bool
            if case .adamW = kind { decoupled = true } else { decoupled = false }
            if m.count != n { m = [T](repeating: 0, count: n); v = [T](repeating: 0, count: n) }
            let beta1 = T(b1), beta2 = T(b2), e = T(eps), decay = T(wd)
            let c1 = 1 / (1 - T.pow(beta1, step)), c2 = 1 / (1 - T.pow(beta2, step))
            params.withUnsafeMutableBufferPointer { p in grads.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { mm in v.withUnsafeMutableBufferPointer { vv in
                    if let flag = kernels.flag(T.self), let pf = floats(p.baseAddress!), let gf = floats(g.baseAddress!) {
                        ck_adam(pf, gf, floats(mm.baseAddress!)!, floats(vv.baseAddress!)!, n, Float(lr), Float(beta1), Float(beta2),
                                Float(e), Float(decay), decoupled ? 1 : 0, Float(c1), Float(c2), flag)
                        return
                    }
                    for i in 0..<n {
                        let gi = decoupled ? g[i] : g[i] + decay * p[i]
                        if decoupled { p[i] -= lr * decay * p[i] }
                        mm[i] = beta1 * mm[i] + (1 - beta1) * gi
                        vv[i] = beta2 * vv[i] + (1 - beta2) * gi * gi
                        p[i] -= lr * (mm[i] * c1) / ((vv[i] * c2).squareRoot() + e)
                    }
                } }
            } }
        }
    }
}

// PyTorch's SGD: g ← g + λθ; b ← μ·b + g (b = g on the first step); θ ← θ − lr·(g + μ·b) with
// Nesterov, θ − lr·b without. Flags are hoisted out of the loop so each variant is one
// straight vector loop. Float takes CKernels' ck_sgd, the same operations on AVX2 vectors
// (this loop runs on SSE: Swift builds for baseline x86-64).
func sgdKernel<T: Scalar>(
    _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ b: UnsafeMutablePointer<T>?, n: Int,
    lr: T, momentum mu: T, nesterov: Bool, decay: T, firstStep: Bool
) {
    let e = vectorEnd(n)
    guard let b else {
        var i = 0
        if decay == 0 {
            while i < e { vstore(vload(p + i) - lr * vload(g + i), p + i); i += 8 }
            while i < n { p[i] -= lr * g[i]; i += 1 }
        } else {
            while i < e { let pv = vload(p + i); vstore(pv - lr * (vload(g + i) + decay * pv), p + i); i += 8 }
            while i < n { p[i] -= lr * (g[i] + decay * p[i]); i += 1 }
        }
        return
    }
    let keep: T = firstStep ? 0 : 1
    let nest: T = nesterov ? 1 : 0
    var i = 0
    while i < e {
        let pv = vload(p + i)
        let gv = vload(g + i) + decay * pv
        let bv = keep * mu * vload(b + i) + gv
        vstore(bv, b + i)
        vstore(pv - lr * (nest * (gv + mu * bv) + (1 - nest) * bv), p + i)
        i += 8
    }
    while i < n {
        let gi = g[i] + decay * p[i]
        let bi = keep * mu * b[i] + gi
        b[i] = bi
        p[i] -= lr * (nest * (gi + mu * bi) + (1 - nest) * bi)
        i += 1
    }
}
