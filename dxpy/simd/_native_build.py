"""cffi build script for the native SIMD engine (API mode).

Run by ``setup.py`` at install time (loaded by path, so the package itself is
not imported during the build).  The kernels are in ``simd_kernels.c`` beside
this file; its AVX2 and SSE2 variants are compiled with per-function
``target`` attributes, so no ``-mavx2`` is needed and the module loads on any
CPU of the architecture (``__builtin_cpu_supports`` picks the variant).
"""

from pathlib import Path

from cffi import FFI

CDEF = """
int dxs_best_level(void);
int dxs_get_level(void);
int dxs_set_level(int level);

size_t dxs_count_byte(const uint8_t *p, size_t n, uint8_t c);
int64_t dxs_find(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, size_t from);
int64_t dxs_rfind(const uint8_t *h, size_t n, const uint8_t *nd, size_t m);
int64_t dxs_find_all(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, int overlap,
                     int64_t *out, size_t cap);
int dxs_equal(const uint8_t *a, const uint8_t *b, size_t n);
void dxs_lower(const uint8_t *src, uint8_t *dst, size_t n);
void dxs_upper(const uint8_t *src, uint8_t *dst, size_t n);

void dxs_sum_i64(const int64_t *a, size_t n, int64_t *hi, uint64_t *lo);
double dxs_sum_f64(const double *a, size_t n, double start);
int64_t dxs_minmax_i64(const int64_t *a, size_t n, int want_max);
double dxs_minmax_f64(const double *a, size_t n, int want_max);
int64_t dxs_filter_i64(const int64_t *a, size_t n, int op, int64_t v, int64_t *out);
int64_t dxs_filter_f64(const double *a, size_t n, int op, double v, int64_t *out);
int64_t dxs_index_i64(const int64_t *a, size_t n, int64_t v, size_t from);
int64_t dxs_index_f64(const double *a, size_t n, double v, size_t from);
int dxs_map_i64(const int64_t *a, size_t n, int op, int64_t v, int64_t *out);
int dxs_map_f64(const double *a, size_t n, int op, double v, double *out);
void dxs_swiss_probe(const int64_t *keys, size_t n, const uint8_t *ctrl, const int64_t *slots,
                     const int64_t *stored, uint64_t gmask, int64_t *out);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "dxpy.simd._native",
    (Path(__file__).parent / "simd_kernels.c").read_text(),
    libraries=["m"],
    extra_compile_args=["-O2"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
