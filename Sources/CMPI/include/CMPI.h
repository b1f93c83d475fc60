// The MPI entry points serkd uses, resolved at run time from Open MPI's libmpi.
//
// serkd must build and run where MPI is not installed, so it never includes mpi.h or links libmpi:
// when a process was started by mpirun, it loads the library with dlopen and resolves the few calls
// data-parallel training needs. Handles (communicator, datatypes, reduction ops) are Open MPI's
// predefined globals, whose addresses are the handles in its ABI.
#ifndef SERKD_CMPI_H
#define SERKD_CMPI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Loads libmpi (libmpi.so.40, else libmpi.so) and resolves the entry points; does not initialise
/// MPI. Returns 0 on success (also when already loaded); on failure writes a message into `err`.
int serkd_mpi_open(char *err, size_t errlen);

/// MPI_Get_library_version into `version` (after a successful open); callable before MPI_Init.
void serkd_mpi_library_version(char *version, size_t length);

/// MPI_Init, then the rank and size of MPI_COMM_WORLD. Returns MPI's error code (0 on success).
int serkd_mpi_init(int *rank, int *size);

/// MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT / MPI_DOUBLE, MPI_SUM / MPI_MAX, MPI_COMM_WORLD),
/// split into calls of at most INT_MAX elements. Returns MPI's error code.
int serkd_mpi_allreduce_sum_float(float *data, size_t count);
int serkd_mpi_allreduce_sum_double(double *data, size_t count);
int serkd_mpi_allreduce_max_double(double *data, size_t count);

/// MPI_Bcast of `bytes` bytes from `root` over MPI_COMM_WORLD, split into calls of at most INT_MAX.
int serkd_mpi_broadcast(void *data, size_t bytes, int root);

/// MPI_Barrier(MPI_COMM_WORLD).
int serkd_mpi_barrier(void);

/// MPI_Abort(MPI_COMM_WORLD, code): ends every rank of the job; does not return.
void serkd_mpi_abort(int code);

/// MPI_Finalize.
int serkd_mpi_finalize(void);

#ifdef __cplusplus
}
#endif

#endif
