#include "CMPI.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Open MPI's handles are pointers to its predefined objects; MPI_IN_PLACE is (void *)1 (mpi.h).
typedef void *handle;
#define SERKD_MPI_IN_PLACE ((void *)1)

static int (*p_init)(int *, char ***);
static int (*p_comm_rank)(handle, int *);
static int (*p_comm_size)(handle, int *);
static int (*p_allreduce)(const void *, void *, int, handle, handle, handle);
static int (*p_bcast)(void *, int, handle, int, handle);
static int (*p_barrier)(handle);
static int (*p_abort)(handle, int);
static int (*p_finalize)(void);
static int (*p_library_version)(char *, int *);
static handle world, type_float, type_double, type_byte, op_sum, op_max;

int serkd_mpi_open(char *err, size_t errlen) {
    if (p_init) return 0;
    // RTLD_GLOBAL: Open MPI loads its own components with dlopen, and they resolve libmpi's symbols globally.
    void *lib = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) lib = dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(err, errlen, "%s", dlerror());
        return 1;
    }
    const char *names[] = {"MPI_Init", "MPI_Comm_rank", "MPI_Comm_size", "MPI_Allreduce", "MPI_Bcast", "MPI_Barrier", "MPI_Abort",
                           "MPI_Finalize", "MPI_Get_library_version", "ompi_mpi_comm_world", "ompi_mpi_float", "ompi_mpi_double",
                           "ompi_mpi_byte", "ompi_mpi_op_sum", "ompi_mpi_op_max"};
    void *symbols[sizeof names / sizeof names[0]];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        symbols[i] = dlsym(lib, names[i]);
        if (!symbols[i]) {
            snprintf(err, errlen, "libmpi has no %s (serkd needs Open MPI)", names[i]);
            dlclose(lib);
            return 1;
        }
    }
    p_comm_rank = (int (*)(handle, int *))symbols[1];
    p_comm_size = (int (*)(handle, int *))symbols[2];
    p_allreduce = (int (*)(const void *, void *, int, handle, handle, handle))symbols[3];
    p_bcast = (int (*)(void *, int, handle, int, handle))symbols[4];
    p_barrier = (int (*)(handle))symbols[5];
    p_abort = (int (*)(handle, int))symbols[6];
    p_finalize = (int (*)(void))symbols[7];
    p_library_version = (int (*)(char *, int *))symbols[8];
    world = symbols[9];
    type_float = symbols[10];
    type_double = symbols[11];
    type_byte = symbols[12];
    op_sum = symbols[13];
    op_max = symbols[14];
    p_init = (int (*)(int *, char ***))symbols[0];
    return 0;
}

void serkd_mpi_library_version(char *version, size_t length) {
    // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI.
    char buffer[256];
    int written = 0;
    buffer[0] = 0;
    if (p_library_version) p_library_version(buffer, &written);
    buffer[sizeof buffer - 1] = 0;
    snprintf(version, length, "%s", buffer);
}

int serkd_mpi_init(int *rank, int *size) {
    int code = p_init(NULL, NULL);
    if (code) return code;
    code = p_comm_rank(world, rank);
    if (code) return code;
    return p_comm_size(world, size);
}

static int allreduce(void *data, size_t count, size_t element, handle type, handle op) {
    char *bytes = data;
    while (count > 0) {
        int part = count > INT_MAX ? INT_MAX : (int)count;
        int code = p_allreduce(SERKD_MPI_IN_PLACE, bytes, part, type, op, world);
        if (code) return code;
        bytes += (size_t)part * element;
        count -= (size_t)part;
    }
    return 0;
}

int serkd_mpi_allreduce_sum_float(float *data, size_t count) { return allreduce(data, count, sizeof(float), type_float, op_sum); }

int serkd_mpi_allreduce_sum_double(double *data, size_t count) { return allreduce(data, count, sizeof(double), type_double, op_sum); }

int serkd_mpi_allreduce_max_double(double *data, size_t count) { return allreduce(data, count, sizeof(double), type_double, op_max); }

int serkd_mpi_broadcast(void *data, size_t bytes, int root) {
    char *p = data;
    while (bytes > 0) {
        int part = bytes > INT_MAX ? INT_MAX : (int)bytes;
        int code = p_bcast(p, part, type_byte, root, world);
        if (code) return code;
        p += part;
        bytes -= (size_t)part;
    }
    return 0;
}

int serkd_mpi_barrier(void) { return p_barrier(world); }

void serkd_mpi_abort(int code) {
    p_abort(world, code);
    exit(code);
}

int serkd_mpi_finalize(void) { return p_finalize(); }
