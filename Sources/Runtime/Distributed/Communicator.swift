import CMPI
import Dispatch
import Foundation
import Tensor

/// The processes (ranks) of a data-parallel job and the collective operations between them: MPI's
/// `MPI_COMM_WORLD` when the process was started by `mpirun`, or one process on its own (`solo`),
/// where every collective is the identity.
///
/// Open MPI is loaded at run time (`CMPI`), so serkd builds and runs without it; MPI is initialised
/// only for processes an MPI launcher started. Collectives are called from one thread (the
/// training loop's) and every rank must call the same ones in the same order.
public final class Communicator: @unchecked Sendable {
    /// This process's index in the job, from 0.
    public let rank: Int
    /// Processes in the job.
    public let size: Int
    /// Whether this process is part of an MPI job (even one of a single rank, which must still end MPI).
    public let usesMPI: Bool
    /// Seconds spent in float all-reduces so far (the gradient all-reduce's share of a step).
    public private(set) var allReduceSeconds = 0.0

    private init(rank: Int, size: Int, usesMPI: Bool) {
        self.rank = rank
        self.size = size
        self.usesMPI = usesMPI
    }

    /// One process on its own.
    public static let solo = Communicator(rank: 0, size: 1, usesMPI: false)

    /// Whether the environment says an MPI launcher started this process: Open MPI's `mpirun` sets
    /// `OMPI_COMM_WORLD_SIZE`, PMIx launchers (`prun`, `srun --mpi=pmix`) set `PMIX_RANK`.
    public static func isLaunched(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// The job this process belongs to: MPI's world when an MPI launcher started it (libmpi is
    /// loaded and MPI initialised on the first call), `solo` otherwise.
    public static func world() throws -> Communicator { try launchedWorld.get() }

    private static let launchedWorld: Result<Communicator, InvalidInput> = {
        guard isLaunched() else { return .success(solo) }
        var message = [CChar](repeating: 0, count: 512)
        guard serkd_mpi_open(&message, message.count) == 0 else {
            return .failure(InvalidInput("MPI", "this process was started by an MPI launcher but libmpi cannot be loaded (\(String(cString: message))): install openmpi-bin and libopenmpi-dev"))
        }
        var rank: Int32 = 0, size: Int32 = 0
        let code = serkd_mpi_init(&rank, &size)
        guard code == 0 else { return .failure(InvalidInput("MPI", "MPI_Init failed with error \(code)")) }
        return .success(Communicator(rank: Int(rank), size: Int(size), usesMPI: true))
    }()

    /// What `--version` reports about MPI: the library's version when libmpi loads, else why not.
    public static var availability: String {
        var message = [CChar](repeating: 0, count: 512)
        guard serkd_mpi_open(&message, message.count) == 0 else { return "not available (\(String(cString: message)))" }
        var version = [CChar](repeating: 0, count: 256)
        serkd_mpi_library_version(&version, version.count)
        let text = String(cString: version).split(separator: ",").first.map(String.init) ?? "an unknown version"
        return "\(text) (libmpi loaded at run time; data-parallel training with mpirun -np N serkd-run train)"
    }

    /// Whether this is rank 0, the one that prints and writes files.
    public var isRoot: Bool { rank == 0 }

    /// Sums the first `elements` floats of `tensor` (all of them by default) over the ranks, in place.
    public func allReduceSum(_ tensor: Tensor, elements: Int? = nil) throws {
        guard tensor.dtype == .float32, (0...tensor.elementCount).contains(elements ?? 0) else {
            throw InvalidInput(nil, "all-reduce of \(elements ?? tensor.elementCount) floats of a \(tensor.dtype.shortName)\(tensor.shape) tensor")
        }
        try allReduceSum(tensor.rawPointer.assumingMemoryBound(to: Float.self), count: elements ?? tensor.elementCount)
    }

    /// Replaces `tensor` (float32) by its average over the ranks, on every rank.
    public func average(_ tensor: Tensor) throws {
        guard usesMPI, size > 1 else { return }
        try allReduceSum(tensor)
        let values = tensor.rawPointer.assumingMemoryBound(to: Float.self)
        let scale = 1 / Float(size)
        for i in 0..<tensor.elementCount { values[i] *= scale }
    }

    /// Sums `count` floats at `data` over the ranks, in place (the gradient all-reduce's buckets).
    func allReduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) throws {
        guard usesMPI, size > 1 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        try check(serkd_mpi_allreduce_sum_float(data, count), "MPI_Allreduce")
        allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// `values` summed element by element over the ranks.
    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        guard usesMPI, size > 1, !values.isEmpty else { return values }
        var result = values
        try check(serkd_mpi_allreduce_sum_double(&result, result.count), "MPI_Allreduce")
        return result
    }

    /// `values`' element-wise maximum over the ranks.
    public func allReduceMax(_ values: [Double]) throws -> [Double] {
        guard usesMPI, size > 1, !values.isEmpty else { return values }
        var result = values
        try check(serkd_mpi_allreduce_max_double(&result, result.count), "MPI_Allreduce")
        return result
    }

    /// Overwrites `tensor`'s bytes on every rank with those of rank `root`.
    public func broadcast(_ tensor: Tensor, from root: Int = 0) throws {
        guard usesMPI, size > 1 else { return }
        try check(serkd_mpi_broadcast(tensor.rawPointer, tensor.byteCount, Int32(root)), "MPI_Bcast")
    }

    /// Rank `root`'s `values` on every rank (all ranks pass arrays of the same length).
    public func broadcast(_ values: [Double], from root: Int = 0) throws -> [Double] {
        guard usesMPI, size > 1, !values.isEmpty else { return values }
        var result = values
        try result.withUnsafeMutableBytes { bytes in
            try check(serkd_mpi_broadcast(bytes.baseAddress!, bytes.count, Int32(root)), "MPI_Bcast")
        }
        return result
    }

    /// Waits until every rank has reached this call.
    public func barrier() throws {
        guard usesMPI, size > 1 else { return }
        try check(serkd_mpi_barrier(), "MPI_Barrier")
    }

    /// Prints `message` on stderr as this rank's, then ends every rank of the job with `code`
    /// (`MPI_Abort`): a rank that fails must not leave the others waiting in a collective.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("\(message) [rank \(rank) of \(size): aborting every rank]\n".utf8))
        guard usesMPI else { exit(code) }
        serkd_mpi_abort(code)
        exit(code)
    }

    /// Ends MPI in this process (every rank calls it once, after its last collective).
    public func finalize() {
        guard usesMPI else { return }
        _ = serkd_mpi_finalize()
    }

    private func check(_ code: Int32, _ call: String) throws {
        guard code == 0 else { throw InvalidInput("MPI", "\(call) failed with error \(code) on rank \(rank)") }
    }
}
