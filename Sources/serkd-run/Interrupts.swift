import Foundation
import Train

/// Makes Ctrl-C (SIGINT) stop training after the current step instead of killing the process: the
/// trainer then saves a checkpoint and the command exits with status 130. SIGINT is also unblocked,
/// since a process inherits its parent's signal mask and a launcher (a test runner, a job system)
/// may have blocked it.
func stopTrainingOnInterrupt() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGINT)
    sigaddset(&signals, SIGUSR1)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    signal(SIGINT) { _ in Trainer.interrupted.set() }
    // mpirun ends the job on Ctrl-C but forwards SIGUSR1 to every rank: the way to stop a job with a checkpoint.
    signal(SIGUSR1) { _ in Trainer.interrupted.set() }
}
