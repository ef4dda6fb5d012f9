import Foundation
import Linalg

/// Scratch memory for forward and backward passes: activations, their gradients and per-layer
/// caches, kept between steps so that a training step allocates nothing. One workspace serves
/// one thread; it grows when the batch grows. It is not part of the network's value.
public final class Workspace<T: Scalar> {
    static var slots: Int { 8 }
    /// Per-node buffers at index node·slots + slot.
    private var nodeBuffers = Buffers()
    /// Buffers shared by the whole pass (batch copies, loss gradients), by small index.
    private var shared = Buffers()

    public init() {}

    /// Seconds spent per node (inclusive of a residual's children), when profiling is on.
    public struct LayerTime: Sendable {
        public var forward = 0.0, backward = 0.0
        public init() {}
    }
    /// Set to `[:]` to have every pass time each layer.
    public var profile: [Int: LayerTime]? = nil

    /// The implementation of the kernels that have a C version (Float only; see `KernelPath`).
    /// Per workspace, so tests compare paths side by side without global state.
    public var kernels: KernelPath = .best

    /// Whether a dense layer and the ReLU after it run as one product with the ReLU in its
    /// epilogue, forward and backward (`gemm(then: .relu, …)`), and a batch norm's forward pass
    /// writes the ReLU after it (same bits either way). Off for tests and `overparam bench --ab-fusion`.
    public var fusesReLU = true

    /// Whether a residual connection's sum is made by its branch's last layer (a dense or
    /// attention layer, through `gemm(then: .add(…), …)`) and its gradient passed on by the branch's first (a
    /// layer norm, which writes dy + its own input gradient), instead of an addition and a copy
    /// of their own (same bits either way). Off for tests and `overparam bench --ab-fusion`.
    public var fusesResidual = true

    /// Whether a dense layer above a GELU multiplies its input gradient by GELU′ (stored by the
    /// GELU's forward pass on a C kernel path) in its product's epilogue, instead of the GELU's
    /// own backward pass (same bits either way). Off for tests and `overparam bench --ab-fusion`.
    public var fusesGELU = true

    /// Samples per forward/backward chunk of a training batch (`Network.lossAndGradient`): nil
    /// lets the network choose from its activations' size (`Network.chunkSamples(batch:)`), a
    /// number ≥ the batch runs it whole. Starts from `OVERPARAM_CHUNK` when that is set.
    public var chunkSamples: Int? = ProcessInfo.processInfo.environment["OVERPARAM_CHUNK"].flatMap { Int($0) }

    func record(_ node: Int, forward: Double = 0, backward: Double = 0) {
        profile![node, default: LayerTime()].forward += forward
        profile![node, default: LayerTime()].backward += backward
    }

    /// Named slots per node: what each layer keeps between its forward and backward pass.
    enum Slot: Int { case output = 0, outputGrad, a, b, c, d, e, f }

    /// A buffer of at least `count` scalars, persistent for (node, slot). Contents are undefined
    /// after growth.
    @inline(__always)
    func buffer(_ node: Int, _ slot: Slot, _ count: Int) -> UnsafeMutablePointer<T> {
        nodeBuffers.get(node * Self.slots + slot.rawValue, count)
    }

    /// A pass-wide buffer of at least `count` scalars (k < 8).
    func scratch(_ k: Int, _ count: Int) -> UnsafeMutablePointer<T> {
        shared.get(k, count)
    }

    /// Growable zero-initialized buffers by index, freed with the workspace.
    private struct Buffers {
        var pointers: [UnsafeMutablePointer<T>?] = []
        var capacities: [Int] = []

        @inline(__always)
        mutating func get(_ i: Int, _ count: Int) -> UnsafeMutablePointer<T> {
            if i < pointers.count, capacities[i] >= count, let p = pointers[i] { return p }
            if i >= pointers.count {
                pointers += [UnsafeMutablePointer<T>?](repeating: nil, count: i + 1 - pointers.count)
                capacities += [Int](repeating: 0, count: i + 1 - capacities.count)
            }
            pointers[i]?.deallocate()
            // On cache lines: malloc's 16-byte alignment splits every 64-byte vector access of the
            // AVX-512 kernels across two lines.
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
                .bindMemory(to: T.self, capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            pointers[i] = p
            capacities[i] = count
            return p
        }

        func free() { for p in pointers { p?.deallocate() } }
    }

    deinit {
        nodeBuffers.free()
        shared.free()
    }
}
