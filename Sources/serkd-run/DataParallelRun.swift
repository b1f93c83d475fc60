import CLI
import Foundation
import Runtime
import Tensor

/// Runs a command as one rank of an MPI job: a failure on any rank ends every rank (`MPI_Abort`,
/// after printing this rank's error), since the others would wait for it in the next collective
/// forever; success ends MPI once all ranks are done. Outside an MPI job it just runs the command.
enum DataParallelRun {
    static func run(_ communicator: Communicator, _ body: () throws -> Void) throws {
        guard communicator.usesMPI else { return try body() }
        do {
            try body()
            try communicator.barrier()
            communicator.finalize()
        } catch {
            communicator.abort("serkd-run: \(error)")
        }
    }
}
