"""cffi build script for ``dxpy.aio``'s dentry-cache lookups (API mode).

Run by ``setup.py`` at install time (loaded by path, so the package is not
imported during the build).  Optional: without a C compiler the module is
missing and every ``dxpy.aio.os`` call takes the batched path (the same
results, a loop iteration or a thread hop later).  The C source is
``cached_lookup.c`` beside this file.
"""

from pathlib import Path

from cffi import FFI

CDEF = """
typedef struct dxl_entry dxl_entry;  /* opaque: Python unpacks its bytes */
size_t dxl_entry_size(void);
int dxl_lookup(int dirfd, const char *path, int follow, dxl_entry *out, uint64_t *mnt);
int dxl_probe(int dirfd, const char *path, uint64_t free_limit, uint64_t *mnt);
int dxl_rename(int olddirfd, const char *old, int newdirfd, const char *new_, int64_t *elapsed);
int dxl_unlink(int dirfd, const char *path, int64_t *elapsed);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source("dxpy.aio._lookup", (Path(__file__).parent / "cached_lookup.c").read_text(),
                      extra_compile_args=["-O2"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
