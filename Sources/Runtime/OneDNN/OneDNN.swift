import CDNNL
import Foundation
import Tensor

/// oneDNN (libdnnl.so.2), serkd's second CPU backend, opened at run time.
///
/// oneDNN is optional: serkd builds without it, and when the library is missing, or the environment
/// sets `SERKD_DNNL=0`, every kernel runs on serkd's own code and OpenBLAS. One engine and one
/// in-order stream serve the whole process; executors take turns (`BLAS.exclusively`), so the
/// stream is never used by two runs at once.
public enum OneDNN {
    /// An eltwise post-op: oneDNN's algorithm and its alpha and beta.
    typealias PostOp = (algorithm: Int32, alpha: Float, beta: Float)

    /// oneDNN's eltwise post-ops for serkd's fused activation (none for none), nil for one oneDNN
    /// does not have.
    static func postOps(for activation: UnaryFunction?) -> [PostOp]? {
        guard let activation else { return [] }
        switch activation {
        case .relu: return [(Int32(SERKD_DNNL_ELTWISE_RELU), 0, 0)]
        case .leakyRelu(let alpha): return [(Int32(SERKD_DNNL_ELTWISE_RELU), alpha, 0)]
        case .sigmoid: return [(Int32(SERKD_DNNL_ELTWISE_LOGISTIC), 0, 0)]
        case .tanh: return [(Int32(SERKD_DNNL_ELTWISE_TANH), 0, 0)]
        case .gelu: return [(Int32(SERKD_DNNL_ELTWISE_GELU_ERF), 0, 0)]
        case .geluTanh: return [(Int32(SERKD_DNNL_ELTWISE_GELU_TANH), 0, 0)]
        case .hardSwish: return [(Int32(SERKD_DNNL_ELTWISE_HARDSWISH), 0, 0)]
        case .clip(let low, let high): return [(Int32(SERKD_DNNL_ELTWISE_CLIP), low, high)]
        // max(0, min(1, αx + β)): oneDNN 2.6 has no hard sigmoid, but a scale-and-shift then a clip is one.
        case .hardSigmoid(let alpha, let beta): return [(Int32(SERKD_DNNL_ELTWISE_LINEAR), alpha, beta), (Int32(SERKD_DNNL_ELTWISE_CLIP), 0, 1)]
        default: return nil
        }
    }

    /// Primitives by geometry, made at most once per process: a geometry oneDNN cannot serve is
    /// remembered too, so plans with many layers of one shape ask oneDNN once.
    final class PrimitiveCache<Key: Hashable, Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [Key: Value?] = [:]

        /// The value for `key`, made by `make` the first time (nil: none can be made).
        func value(for key: Key, make: () -> Value?) -> Value? {
            lock.lock()
            defer { lock.unlock() }
            if let known = entries[key] { return known }
            let made = make()
            entries[key] = .some(made)
            return made
        }
    }

    /// The loaded library.
    public struct Library: Sendable {
        /// "2.6.3".
        public var version: String
        /// The instruction set oneDNN's JIT kernels use here ("avx2", "avx512_core", …).
        public var isa: String
    }

    /// The library, or nil when oneDNN is not used in this process (see `status`).
    public static var library: Library? { loaded.context?.library }

    /// One line for `--version`: the library and its ISA, or why oneDNN is not used.
    public static var status: String {
        if let library { return "oneDNN \(library.version), ISA \(library.isa), \(Parallel.threadCount) OpenMP threads" }
        return "oneDNN not used: \(loaded.reason)"
    }

    /// The engine and stream, for the kernels.
    static var context: Context? { loaded.context }

    /// The process's engine and stream.
    final class Context: @unchecked Sendable {
        let library: Library
        let engine: serkd_dnnl_handle
        let stream: serkd_dnnl_handle

        init(library: Library, engine: serkd_dnnl_handle, stream: serkd_dnnl_handle) {
            self.library = library
            self.engine = engine
            self.stream = stream
        }
    }

    private static let loaded: (context: Context?, reason: String) = {
        if ProcessInfo.processInfo.environment["SERKD_DNNL"] == "0" { return (nil, "SERKD_DNNL=0") }
        ThreadPolicy.apply()
        var message = [CChar](repeating: 0, count: 512)
        guard serkd_dnnl_open("libdnnl.so.2", &message, message.count) == 0 else {
            return (nil, "\(String(cString: message)) (install libdnnl-dev)")
        }
        var engine: serkd_dnnl_handle?, stream: serkd_dnnl_handle?
        guard serkd_dnnl_engine_create(&engine) == 0, let engine, serkd_dnnl_stream_create(&stream, engine) == 0, let stream else {
            return (nil, "oneDNN could not create a CPU engine")
        }
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        serkd_dnnl_version(&major, &minor, &patch)
        let library = Library(version: "\(major).\(minor).\(patch)", isa: isaName(serkd_dnnl_effective_isa()))
        return (Context(library: library, engine: engine, stream: stream), "")
    }()

    /// The name of a dnnl_cpu_isa_t value.
    static func isaName(_ isa: UInt32) -> String {
        switch isa {
        case 0x1: "sse41"
        case 0x3: "avx"
        case 0x7: "avx2"
        case 0x407: "avx2_vnni"
        case 0x27: "avx512_core"
        case 0x67: "avx512_core_vnni"
        case 0xe7: "avx512_core_bf16"
        case 0x3e7: "avx512_core_amx"
        default: "isa 0x\(String(isa, radix: 16))"
        }
    }

    /// A call into oneDNN returned an error status.
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let status: Int32
        var description: String { "oneDNN \(call) failed with status \(status)" }
    }

    /// Throws unless `status` is dnnl_success.
    static func check(_ status: Int32, _ call: String) throws {
        if status != Int32(SERKD_DNNL_SUCCESS) { throw Failure(call: call, status: status) }
    }

    /// The layout of an f32 tensor: dimensions and a format (plain tags, or what a primitive chose).
    struct MemoryDescriptor {
        var raw = serkd_dnnl_memory_desc()

        /// A dense f32 tensor of `dims` in format `tag` (SERKD_DNNL_TAG_*; ANY lets a primitive choose).
        init(_ dims: [Int], tag: Int32) throws {
            let dims64 = dims.map(Int64.init)
            try check(serkd_dnnl_memory_desc_init_by_tag(&raw, Int32(dims.count), dims64, tag), "memory_desc_init_by_tag")
        }

        /// What `primitive` chose for `query` (SERKD_DNNL_QUERY_*_MD).
        init(of primitive: PrimitiveDescriptor, _ query: Int32) throws {
            try check(serkd_dnnl_primitive_desc_query_md(primitive.handle, query, &raw), "primitive_desc_query_md")
        }

        /// Bytes a tensor in this layout occupies (blocked formats pad channels).
        var byteCount: Int { withUnsafePointer(to: raw) { serkd_dnnl_memory_desc_get_size($0) } }

        /// The same layout.
        func matches(_ other: MemoryDescriptor) -> Bool {
            withUnsafePointer(to: raw) { a in withUnsafePointer(to: other.raw) { b in serkd_dnnl_memory_desc_equal(a, b) != 0 } }
        }
    }

    /// A primitive descriptor: an operation with its implementation chosen.
    final class PrimitiveDescriptor {
        let handle: serkd_dnnl_handle

        /// An operation described by `describe` (which fills a dnnl op descriptor), with optional
        /// attributes. Throws when oneDNN has no implementation.
        init(_ context: Context, attributes: Attributes? = nil, _ describe: (inout serkd_dnnl_op_desc) -> Int32) throws {
            var op = serkd_dnnl_op_desc()
            try check(describe(&op), "op_desc_init")
            var pd: serkd_dnnl_handle?
            try check(serkd_dnnl_primitive_desc_create(&pd, &op, attributes?.handle, context.engine), "primitive_desc_create")
            handle = pd!
        }

        /// A reorder from one layout to another.
        init(_ context: Context, reorderFrom source: MemoryDescriptor, to target: MemoryDescriptor) throws {
            var pd: serkd_dnnl_handle?
            var (s, t) = (source.raw, target.raw)
            try check(serkd_dnnl_reorder_primitive_desc_create(&pd, &s, &t, context.engine), "reorder_primitive_desc_create")
            handle = pd!
        }

        /// The implementation oneDNN chose ("jit:avx2", "gemm:jit", …).
        var implementation: String { String(cString: serkd_dnnl_primitive_desc_impl(handle)) }

        deinit { serkd_dnnl_primitive_desc_destroy(handle) }
    }

    /// Post-ops attached to a primitive: elementwise functions and accumulation into the output.
    final class Attributes {
        let handle: serkd_dnnl_handle
        private let postOps: serkd_dnnl_handle

        /// `eltwise` post-ops, applied in order.
        init(eltwise: [PostOp]) throws {
            var attr: serkd_dnnl_handle?, ops: serkd_dnnl_handle?
            try check(serkd_dnnl_attr_create(&attr), "primitive_attr_create")
            try check(serkd_dnnl_post_ops_create(&ops), "post_ops_create")
            handle = attr!
            postOps = ops!
            for entry in eltwise {
                try check(serkd_dnnl_post_ops_append_eltwise(postOps, entry.algorithm, entry.alpha, entry.beta), "post_ops_append_eltwise")
            }
            try check(serkd_dnnl_attr_set_post_ops(handle, postOps), "primitive_attr_set_post_ops")
        }

        deinit {
            serkd_dnnl_post_ops_destroy(postOps)
            serkd_dnnl_attr_destroy(handle)
        }
    }

    /// An executable primitive.
    final class Primitive {
        let descriptor: PrimitiveDescriptor
        private let handle: serkd_dnnl_handle

        init(_ descriptor: PrimitiveDescriptor) throws {
            self.descriptor = descriptor
            var primitive: serkd_dnnl_handle?
            try check(serkd_dnnl_primitive_create(&primitive, descriptor.handle), "primitive_create")
            handle = primitive!
        }

        /// Runs on the process's stream with (argument, memory) pairs and waits for it.
        func execute(_ context: Context, _ arguments: [(Int32, Memory)]) throws {
            let args = arguments.map { serkd_dnnl_exec_arg(arg: $0.0, memory: $0.1.handle) }
            try check(serkd_dnnl_primitive_execute(handle, context.stream, Int32(args.count), args), "primitive_execute")
            try check(serkd_dnnl_stream_wait(context.stream), "stream_wait")
        }

        /// Runs this reorder once, from `data` seen through `plain` into new storage of `byteCount`
        /// bytes that `packed` then points at: frozen weights put into a kernel's layout for good.
        func packing(_ context: Context, _ data: UnsafeRawPointer, from plain: Memory, into packed: Memory, byteCount: Int) throws -> TensorStorage {
            let storage = TensorStorage(byteCount: byteCount)
            try plain.bind(data)
            try packed.bind(storage.base)
            try execute(context, [(Int32(SERKD_DNNL_ARG_SRC), plain), (Int32(SERKD_DNNL_ARG_DST), packed)])
            return storage
        }

        deinit { serkd_dnnl_primitive_destroy(handle) }
    }

    /// A memory object: a layout and the address of its data, which may change between calls.
    final class Memory {
        let handle: serkd_dnnl_handle

        /// A memory of `descriptor` with no data yet (`bind` gives it some).
        init(_ context: Context, _ descriptor: MemoryDescriptor) throws {
            var memory: serkd_dnnl_handle?
            var raw = descriptor.raw
            try check(serkd_dnnl_memory_create(&memory, &raw, context.engine, nil), "memory_create")
            handle = memory!
        }

        /// Points the memory at `data`. oneDNN zeroes the padding of blocked layouts here.
        func bind(_ data: UnsafeRawPointer) throws {
            try check(serkd_dnnl_memory_set_data_handle(handle, UnsafeMutableRawPointer(mutating: data)), "memory_set_data_handle")
        }

        deinit { serkd_dnnl_memory_destroy(handle) }
    }
}
