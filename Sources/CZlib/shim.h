// zlib from the system (Debian: zlib1g-dev), for PNG and gzip (IDX, CSV.gz, .npz) data files.
#include <zlib.h>
