/* dxpy.simd native engine: byte-string and int64/float64 array kernels.
 *
 * Every kernel exists in up to three variants -- AVX2, SSE2 and portable C --
 * compiled into this one file (the vector variants with
 * __attribute__((target(...))), so the rest of the file needs no -mavx2) and
 * chosen once at load time with __builtin_cpu_supports.  dxs_set_level()
 * lets the tests force a lower level, so every variant runs against the same
 * Python reference on one machine.
 *
 * Conventions: lengths are size_t, offsets int64_t, "not found" is -1.
 * Kernels never allocate; the Python side owns every buffer.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <math.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#define DXS_X86 1
#include <immintrin.h>
#else
#define DXS_X86 0
#endif

#define DXS_PORTABLE 0
#define DXS_SSE2 1
#define DXS_AVX2 2

static int dxs_best = -1;   /* what the CPU supports */
static int dxs_level = -1;  /* what the kernels use (<= dxs_best) */

static void dxs_detect(void) {
    if (dxs_best >= 0) return;
    dxs_best = DXS_PORTABLE;
#if DXS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse2")) dxs_best = DXS_SSE2;
    if (__builtin_cpu_supports("avx2")) dxs_best = DXS_AVX2;
#endif
    dxs_level = dxs_best;
}

int dxs_best_level(void) { dxs_detect(); return dxs_best; }
int dxs_get_level(void) { dxs_detect(); return dxs_level; }

/* Force a level no higher than the CPU's; returns the level now in use. */
int dxs_set_level(int level) {
    dxs_detect();
    if (level < DXS_PORTABLE) level = DXS_PORTABLE;
    dxs_level = level > dxs_best ? dxs_best : level;
    return dxs_level;
}

/* ---- single-byte count ------------------------------------------------ */
static size_t count_byte_portable(const uint8_t *p, size_t n, uint8_t c) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += p[i] == c;
    return total;
}

#if DXS_X86
__attribute__((target("avx2")))
static size_t count_byte_avx2(const uint8_t *p, size_t n, uint8_t c) {
    const __m256i needle = _mm256_set1_epi8((char)c), zero = _mm256_setzero_si256();
    __m256i sums = zero;
    size_t i = 0;
    while (i + 32 <= n) {
        /* each equal byte adds -1 to its lane: at most 255 rounds per flush */
        __m256i acc = zero;
        size_t rounds = 0;
        for (; rounds < 255 && i + 32 <= n; rounds++, i += 32)
            acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), needle));
        sums = _mm256_add_epi64(sums, _mm256_sad_epu8(acc, zero));
    }
    size_t total = (size_t)_mm256_extract_epi64(sums, 0) + (size_t)_mm256_extract_epi64(sums, 1)
                 + (size_t)_mm256_extract_epi64(sums, 2) + (size_t)_mm256_extract_epi64(sums, 3);
    return total + count_byte_portable(p + i, n - i, c);
}

__attribute__((target("sse2")))
static size_t count_byte_sse2(const uint8_t *p, size_t n, uint8_t c) {
    const __m128i needle = _mm_set1_epi8((char)c), zero = _mm_setzero_si128();
    __m128i sums = zero;
    size_t i = 0;
    while (i + 16 <= n) {
        __m128i acc = zero;
        size_t rounds = 0;
        for (; rounds < 255 && i + 16 <= n; rounds++, i += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), needle));
        sums = _mm_add_epi64(sums, _mm_sad_epu8(acc, zero));
    }
    uint64_t lanes[2];
    _mm_storeu_si128((__m128i *)lanes, sums);
    return (size_t)(lanes[0] + lanes[1]) + count_byte_portable(p + i, n - i, c);
}
#endif

size_t dxs_count_byte(const uint8_t *p, size_t n, uint8_t c) {
    dxs_detect();
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return count_byte_avx2(p, n, c);
    if (dxs_level >= DXS_SSE2) return count_byte_sse2(p, n, c);
#endif
    return count_byte_portable(p, n, c);
}

/* ---- substring search --------------------------------------------------
 * The vector variants compare the needle's first and last byte against a
 * block of candidate positions at once and verify only where both match
 * (rare for a rare needle), so a block costs two loads and two compares.
 */
static int64_t find_portable(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, size_t from) {
    if (m == 0) return from <= n ? (int64_t)from : -1;
    if (m > n) return -1;
    for (size_t i = from; i + m <= n; i++) {
        const uint8_t *hit = memchr(h + i, nd[0], n - m + 1 - i);
        if (hit == NULL) return -1;
        i = (size_t)(hit - h);
        if (memcmp(hit + 1, nd + 1, m - 1) == 0) return (int64_t)i;
    }
    return -1;
}

static int64_t rfind_portable(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, size_t upto) {
    /* the last match starting at a position < upto */
    if (m > n) return -1;
    size_t i = n - m + 1 < upto ? n - m + 1 : upto;
    while (i-- > 0)
        if (h[i] == nd[0] && memcmp(h + i, nd, m) == 0) return (int64_t)i;
    return -1;
}

/* The lowest candidate of a block (bit k of mask: first and last byte match at
 * i + k) whose middle bytes match too, or -1. */
static inline int64_t first_verified(uint32_t mask, const uint8_t *h, size_t i, const uint8_t *nd, size_t m) {
    while (mask) {
        unsigned bit = (unsigned)__builtin_ctz(mask);
        if (memcmp(h + i + bit + 1, nd + 1, m - 2) == 0) return (int64_t)(i + bit);
        mask &= mask - 1;
    }
    return -1;
}

#if DXS_X86
__attribute__((target("avx2")))
static int64_t find_avx2(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, size_t from) {
    if (m < 2 || m > n) return find_portable(h, n, nd, m, from);
    const __m256i first = _mm256_set1_epi8((char)nd[0]), last = _mm256_set1_epi8((char)nd[m - 1]);
    size_t i = from;
    for (; i + m + 31 <= n; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(h + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(h + i + m - 1));
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(
            _mm256_and_si256(_mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last)));
        int64_t at = first_verified(mask, h, i, nd, m);
        if (at >= 0) return at;
    }
    return find_portable(h, n, nd, m, i);
}

__attribute__((target("sse2")))
static int64_t find_sse2(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, size_t from) {
    if (m < 2 || m > n) return find_portable(h, n, nd, m, from);
    const __m128i first = _mm_set1_epi8((char)nd[0]), last = _mm_set1_epi8((char)nd[m - 1]);
    size_t i = from;
    for (; i + m + 15 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(h + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(h + i + m - 1));
        uint32_t mask = (uint32_t)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
        int64_t at = first_verified(mask, h, i, nd, m);
        if (at >= 0) return at;
    }
    return find_portable(h, n, nd, m, i);
}

__attribute__((target("avx2")))
static int64_t rfind_avx2(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, size_t upto) {
    if (m < 2 || m > n) return rfind_portable(h, n, nd, m, upto);
    const __m256i first = _mm256_set1_epi8((char)nd[0]), last = _mm256_set1_epi8((char)nd[m - 1]);
    size_t end = n - m + 1 < upto ? n - m + 1 : upto;   /* candidates are [0, end) */
    while (end >= 32) {
        size_t b = end - 32;
        __m256i x = _mm256_loadu_si256((const __m256i *)(h + b));
        __m256i y = _mm256_loadu_si256((const __m256i *)(h + b + m - 1));
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(
            _mm256_and_si256(_mm256_cmpeq_epi8(x, first), _mm256_cmpeq_epi8(y, last)));
        while (mask) {
            unsigned bit = 31u - (unsigned)__builtin_clz(mask);
            if (memcmp(h + b + bit + 1, nd + 1, m - 2) == 0) return (int64_t)(b + bit);
            mask &= ~(1u << bit);
        }
        end = b;
    }
    return rfind_portable(h, n, nd, m, end);
}
#endif

int64_t dxs_find(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, size_t from) {
    dxs_detect();
    if (from > n) return -1;
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return find_avx2(h, n, nd, m, from);
    if (dxs_level >= DXS_SSE2) return find_sse2(h, n, nd, m, from);
#endif
    return find_portable(h, n, nd, m, from);
}

int64_t dxs_rfind(const uint8_t *h, size_t n, const uint8_t *nd, size_t m) {
    dxs_detect();
    if (m == 0) return (int64_t)n;
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return rfind_avx2(h, n, nd, m, n + 1);
#endif
    return rfind_portable(h, n, nd, m, n + 1);
}

/* Matches of nd in h: non-overlapping (Python's count/replace/split) or at
 * every offset (overlap != 0).  Writes up to cap offsets to out (out may be
 * NULL) and returns how many matches there are in all. */
int64_t dxs_find_all(const uint8_t *h, size_t n, const uint8_t *nd, size_t m, int overlap,
                     int64_t *out, size_t cap) {
    if (m == 0) {  /* Python: the empty needle matches at every offset 0..n */
        for (size_t i = 0; i <= n && i < cap; i++) out[i] = (int64_t)i;
        return (int64_t)n + 1;
    }
    if (m == 1 && out == NULL) return (int64_t)dxs_count_byte(h, n, nd[0]);
    size_t found = 0, step = overlap ? 1 : m;
    int64_t at = dxs_find(h, n, nd, m, 0);
    while (at >= 0) {
        if (found < cap) out[found] = at;
        found++;
        at = dxs_find(h, n, nd, m, (size_t)at + step);
    }
    return (int64_t)found;
}

/* ---- equality of two equal-length buffers ------------------------------ */
#if DXS_X86
__attribute__((target("avx2")))
static int equal_avx2(const uint8_t *a, const uint8_t *b, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a + i)),
                                     _mm256_loadu_si256((const __m256i *)(b + i)));
        if (!_mm256_testz_si256(x, x)) return 0;
    }
    return memcmp(a + i, b + i, n - i) == 0;
}
#endif

int dxs_equal(const uint8_t *a, const uint8_t *b, size_t n) {
    dxs_detect();
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return equal_avx2(a, b, n);
#endif
    return memcmp(a, b, n) == 0;
}

/* ---- ASCII case conversion ---------------------------------------------
 * Adding (0x80 - lo) moves [lo, lo+25] to [-128, -103] as signed bytes, so a
 * single signed compare finds the letters; bytes >= 0x80 never change, as
 * with bytes.lower(). */
static void case_portable(const uint8_t *src, uint8_t *dst, size_t n, uint8_t lo, int to_lower) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = src[i];
        dst[i] = (uint8_t)(c - lo) < 26 ? (uint8_t)(to_lower ? c | 0x20 : c & ~0x20) : c;
    }
}

/* Outputs of STREAM_FROM bytes or more are larger than the caches: they get
 * huge pages (below) and, on x86, non-temporal stores, which skip reading
 * each destination line before overwriting it (a third of the memory
 * traffic) and leave the caches to the source.  dst is first brought to
 * vector alignment with normal stores. */
#define STREAM_FROM ((size_t)4 << 20)

#if DXS_X86
/* One vector of case conversion: letters are the bytes that land below
 * -102 after the shift; flipping bit 0x20 of those converts them. */
#define CASE_STEP(load, store, add, cmpgt, and_, or_, andnot) do { \
        v = load((const void *)(src + i)); \
        flip = and_(cmpgt(bound, add(v, shift)), bit); \
        store((void *)(dst + i), to_lower ? or_(v, flip) : andnot(flip, v)); \
    } while (0)

__attribute__((target("avx2")))
static void case_avx2(const uint8_t *src, uint8_t *dst, size_t n, uint8_t lo, int to_lower) {
    const __m256i shift = _mm256_set1_epi8((char)(0x80 - lo)), bound = _mm256_set1_epi8(-102);
    const __m256i bit = _mm256_set1_epi8(0x20);
    __m256i v, flip;
    size_t i = 0;
    if (n >= STREAM_FROM) {
        size_t head = (32 - ((uintptr_t)dst & 31)) & 31;
        case_portable(src, dst, head, lo, to_lower);
        for (i = head; i + 32 <= n; i += 32)
            CASE_STEP(_mm256_loadu_si256, _mm256_stream_si256, _mm256_add_epi8, _mm256_cmpgt_epi8,
                      _mm256_and_si256, _mm256_or_si256, _mm256_andnot_si256);
        _mm_sfence();
    }
    for (; i + 32 <= n; i += 32)
        CASE_STEP(_mm256_loadu_si256, _mm256_storeu_si256, _mm256_add_epi8, _mm256_cmpgt_epi8,
                  _mm256_and_si256, _mm256_or_si256, _mm256_andnot_si256);
    case_portable(src + i, dst + i, n - i, lo, to_lower);
}

__attribute__((target("sse2")))
static void case_sse2(const uint8_t *src, uint8_t *dst, size_t n, uint8_t lo, int to_lower) {
    const __m128i shift = _mm_set1_epi8((char)(0x80 - lo)), bound = _mm_set1_epi8(-102);
    const __m128i bit = _mm_set1_epi8(0x20);
    __m128i v, flip;
    size_t i = 0;
    if (n >= STREAM_FROM) {
        size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
        case_portable(src, dst, head, lo, to_lower);
        for (i = head; i + 16 <= n; i += 16)
            CASE_STEP(_mm_loadu_si128, _mm_stream_si128, _mm_add_epi8, _mm_cmpgt_epi8,
                      _mm_and_si128, _mm_or_si128, _mm_andnot_si128);
        _mm_sfence();
    }
    for (; i + 16 <= n; i += 16)
        CASE_STEP(_mm_loadu_si128, _mm_storeu_si128, _mm_add_epi8, _mm_cmpgt_epi8,
                  _mm_and_si128, _mm_or_si128, _mm_andnot_si128);
    case_portable(src + i, dst + i, n - i, lo, to_lower);
}
#endif

/* A fresh multi-MiB output is mostly page faults: ask for transparent huge
 * pages first (one fault per 2 MiB instead of per 4 KiB) where the kernel
 * offers them; harmless where it does not. */
static void prefer_huge_pages(uint8_t *dst, size_t n) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)dst + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)dst + n) & ~(huge - 1);
    if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)dst; (void)n;
#endif
}

static void convert_case(const uint8_t *src, uint8_t *dst, size_t n, uint8_t lo, int to_lower) {
    dxs_detect();
    if (n >= STREAM_FROM) prefer_huge_pages(dst, n);
#if DXS_X86
    if (dxs_level >= DXS_AVX2) { case_avx2(src, dst, n, lo, to_lower); return; }
    if (dxs_level >= DXS_SSE2) { case_sse2(src, dst, n, lo, to_lower); return; }
#endif
    case_portable(src, dst, n, lo, to_lower);
}

void dxs_lower(const uint8_t *src, uint8_t *dst, size_t n) { convert_case(src, dst, n, 'A', 1); }
void dxs_upper(const uint8_t *src, uint8_t *dst, size_t n) { convert_case(src, dst, n, 'a', 0); }

/* ---- int64 / float64 reductions ---------------------------------------- */

/* Exact: the sum of any 2^64 int64 values fits in 128 bits; returned as
 * high (signed) and low (unsigned) halves for Python to join. */
void dxs_sum_i64(const int64_t *a, size_t n, int64_t *hi, uint64_t *lo) {
    __int128 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]; }
    for (; i < n; i++) s0 += a[i];
    __int128 s = s0 + s1 + s2 + s3;
    *hi = (int64_t)(s >> 64);
    *lo = (uint64_t)s;
}

/* Left to right from 0.0, exactly as the builtin sum() adds floats (3.11);
 * never vectorised, because reordering changes the rounding. */
double dxs_sum_f64(const double *a, size_t n, double start) {
    double s = start;
    for (size_t i = 0; i < n; i++) s += a[i];
    return s;
}

static int64_t minmax_i64_portable(const int64_t *a, size_t n, int want_max) {
    int64_t best = a[0];
    for (size_t i = 1; i < n; i++) {
        if (want_max ? a[i] > best : a[i] < best) best = a[i];
    }
    return best;
}

#if DXS_X86
__attribute__((target("avx2")))
static int64_t minmax_i64_avx2(const int64_t *a, size_t n, int want_max) {
    if (n < 4) return minmax_i64_portable(a, n, want_max);
    __m256i best = _mm256_loadu_si256((const __m256i *)a);
    size_t i = 4;
    for (; i + 4 <= n; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i take = want_max ? _mm256_cmpgt_epi64(v, best) : _mm256_cmpgt_epi64(best, v);
        best = _mm256_blendv_epi8(best, v, take);
    }
    int64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, best);
    int64_t result = minmax_i64_portable(lanes, 4, want_max);
    for (; i < n; i++)
        if (want_max ? a[i] > result : a[i] < result) result = a[i];
    return result;
}
#endif

int64_t dxs_minmax_i64(const int64_t *a, size_t n, int want_max) {
    dxs_detect();
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return minmax_i64_avx2(a, n, want_max);
#endif
    return minmax_i64_portable(a, n, want_max);
}

/* The least (greatest) non-NaN value, or NaN if all are NaN.  Which zero
 * wins a -0.0/0.0 tie is left open: the Python side settles ties and a
 * leading NaN the way the builtin min()/max() do. */
static double minmax_f64_portable(const double *a, size_t n, int want_max) {
    double best = NAN;
    for (size_t i = 0; i < n; i++) {
        double x = a[i];
        if (x != x) continue;
        if (best != best || (want_max ? x > best : x < best)) best = x;
    }
    return best;
}

#if DXS_X86
__attribute__((target("avx2")))
static double minmax_f64_avx2(const double *a, size_t n, int want_max) {
    /* min_pd/max_pd return the second operand when either is NaN: keeping
     * the running value second skips NaN inputs. */
    __m256d best = _mm256_set1_pd(want_max ? -INFINITY : INFINITY);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(a + i);
        best = want_max ? _mm256_max_pd(v, best) : _mm256_min_pd(v, best);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, best);
    double result = minmax_f64_portable(lanes, 4, want_max);
    double rest = minmax_f64_portable(a + i, n - i, want_max);
    if (rest == rest && (want_max ? rest > result : rest < result)) result = rest;
    /* all-NaN input leaves the +-inf seed; report NaN then, as the portable path does */
    if (isinf(result) && (want_max ? result < 0 : result > 0)) {
        for (size_t j = 0; j < n; j++) if (a[j] == result) return result;
        return NAN;
    }
    return result;
}
#endif

double dxs_minmax_f64(const double *a, size_t n, int want_max) {
    dxs_detect();
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return minmax_f64_avx2(a, n, want_max);
#endif
    return minmax_f64_portable(a, n, want_max);
}

/* ---- comparisons against a scalar: filter / count / index ---------------
 * op: 0 <, 1 <=, 2 ==, 3 !=, 4 >, 5 >=.  NaN compares as Python does
 * (only != is true).  out == NULL counts; otherwise the matching indices
 * are written (out has room for n). */
#define CMP_SCALAR(x, v, op) ((op) == 0 ? (x) < (v) : (op) == 1 ? (x) <= (v) : (op) == 2 ? (x) == (v) \
                              : (op) == 3 ? (x) != (v) : (op) == 4 ? (x) > (v) : (x) >= (v))

static size_t filter_i64_portable(const int64_t *a, size_t n, int op, int64_t v, int64_t *out, size_t i) {
    size_t k = 0;
    for (; i < n; i++) {
        if (CMP_SCALAR(a[i], v, op)) { if (out) out[k] = (int64_t)i; k++; }
    }
    return k;
}

static size_t filter_f64_portable(const double *a, size_t n, int op, double v, int64_t *out, size_t i) {
    size_t k = 0;
    for (; i < n; i++) {
        if (CMP_SCALAR(a[i], v, op)) { if (out) out[k] = (int64_t)i; k++; }
    }
    return k;
}

#if DXS_X86
__attribute__((target("avx2")))
static inline __m256i cmp_i64_avx2(__m256i x, __m256i v, int op) {
    __m256i ones = _mm256_set1_epi64x(-1);
    switch (op) {
    case 0: return _mm256_cmpgt_epi64(v, x);
    case 1: return _mm256_xor_si256(_mm256_cmpgt_epi64(x, v), ones);
    case 2: return _mm256_cmpeq_epi64(x, v);
    case 3: return _mm256_xor_si256(_mm256_cmpeq_epi64(x, v), ones);
    case 4: return _mm256_cmpgt_epi64(x, v);
    default: return _mm256_xor_si256(_mm256_cmpgt_epi64(v, x), ones);
    }
}

__attribute__((target("avx2")))
static size_t filter_i64_avx2(const int64_t *a, size_t n, int op, int64_t v, int64_t *out) {
    const __m256i vv = _mm256_set1_epi64x(v);
    size_t i = 0, k = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i m = cmp_i64_avx2(_mm256_loadu_si256((const __m256i *)(a + i)), vv, op);
        unsigned bits = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(m));
        if (out == NULL) { k += (size_t)__builtin_popcount(bits); continue; }
        while (bits) { out[k++] = (int64_t)(i + (unsigned)__builtin_ctz(bits)); bits &= bits - 1; }
    }
    return k + filter_i64_portable(a, n, op, v, out ? out + k : NULL, i);
}

__attribute__((target("avx2")))
static inline __m256d cmp_f64_avx2(__m256d x, __m256d v, int op) {
    switch (op) {
    case 0: return _mm256_cmp_pd(x, v, _CMP_LT_OQ);
    case 1: return _mm256_cmp_pd(x, v, _CMP_LE_OQ);
    case 2: return _mm256_cmp_pd(x, v, _CMP_EQ_OQ);
    case 3: return _mm256_cmp_pd(x, v, _CMP_NEQ_UQ);
    case 4: return _mm256_cmp_pd(x, v, _CMP_GT_OQ);
    default: return _mm256_cmp_pd(x, v, _CMP_GE_OQ);
    }
}

__attribute__((target("avx2")))
static size_t filter_f64_avx2(const double *a, size_t n, int op, double v, int64_t *out) {
    const __m256d vv = _mm256_set1_pd(v);
    size_t i = 0, k = 0;
    for (; i + 4 <= n; i += 4) {
        unsigned bits = (unsigned)_mm256_movemask_pd(cmp_f64_avx2(_mm256_loadu_pd(a + i), vv, op));
        if (out == NULL) { k += (size_t)__builtin_popcount(bits); continue; }
        while (bits) { out[k++] = (int64_t)(i + (unsigned)__builtin_ctz(bits)); bits &= bits - 1; }
    }
    return k + filter_f64_portable(a, n, op, v, out ? out + k : NULL, i);
}
#endif

int64_t dxs_filter_i64(const int64_t *a, size_t n, int op, int64_t v, int64_t *out) {
    dxs_detect();
    if (op < 0 || op > 5) return -1;
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return (int64_t)filter_i64_avx2(a, n, op, v, out);
#endif
    return (int64_t)filter_i64_portable(a, n, op, v, out, 0);
}

int64_t dxs_filter_f64(const double *a, size_t n, int op, double v, int64_t *out) {
    dxs_detect();
    if (op < 0 || op > 5) return -1;
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return (int64_t)filter_f64_avx2(a, n, op, v, out);
#endif
    return (int64_t)filter_f64_portable(a, n, op, v, out, 0);
}

#if DXS_X86
__attribute__((target("avx2")))
static int64_t index_i64_avx2(const int64_t *a, size_t n, int64_t v, size_t from) {
    const __m256i vv = _mm256_set1_epi64x(v);
    size_t i = from;
    for (; i + 4 <= n; i += 4) {
        unsigned bits = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(
            _mm256_cmpeq_epi64(_mm256_loadu_si256((const __m256i *)(a + i)), vv)));
        if (bits) return (int64_t)(i + (unsigned)__builtin_ctz(bits));
    }
    for (; i < n; i++) if (a[i] == v) return (int64_t)i;
    return -1;
}
#endif

/* First index in [from, n) equal to v, or -1. */
int64_t dxs_index_i64(const int64_t *a, size_t n, int64_t v, size_t from) {
    dxs_detect();
#if DXS_X86
    if (dxs_level >= DXS_AVX2) return index_i64_avx2(a, n, v, from);
#endif
    for (size_t i = from; i < n; i++) if (a[i] == v) return (int64_t)i;
    return -1;
}

int64_t dxs_index_f64(const double *a, size_t n, double v, size_t from) {
    for (size_t i = from; i < n; i++) if (a[i] == v) return (int64_t)i;
    return -1;
}

/* ---- element-wise arithmetic with a scalar (Python's operators) ---------
 * op: 0 +, 1 -, 2 *, 3 //, 4 %, 5 ** (int64; exponent >= 0).
 * Returns 0, or 1 when some element's Python result does not fit int64
 * (the caller then computes exact Python ints), 2 on division by zero. */
static int pow_i64(int64_t base, int64_t exp, int64_t *out) {
    int64_t result = 1;
    while (exp > 0) {
        if (exp & 1) { if (__builtin_mul_overflow(result, base, &result)) return 1; }
        exp >>= 1;
        if (exp && __builtin_mul_overflow(base, base, &base)) return 1;
    }
    *out = result;
    return 0;
}

int dxs_map_i64(const int64_t *a, size_t n, int op, int64_t v, int64_t *out) {
    if ((op == 3 || op == 4) && v == 0) return 2;
    if (op == 5 && v < 0) return 1;
    for (size_t i = 0; i < n; i++) {
        int64_t x = a[i], r;
        switch (op) {
        case 0: if (__builtin_add_overflow(x, v, &r)) return 1; break;
        case 1: if (__builtin_sub_overflow(x, v, &r)) return 1; break;
        case 2: if (__builtin_mul_overflow(x, v, &r)) return 1; break;
        case 3: case 4: {
            if (x == INT64_MIN && v == -1) { if (op == 3) return 1; r = 0; break; }
            int64_t q = x / v, m = x % v;
            if (m != 0 && ((m < 0) != (v < 0))) { q -= 1; m += v; }
            r = op == 3 ? q : m;
            break;
        }
        case 5: if (pow_i64(x, v, &r)) return 1; break;
        default: return 1;
        }
        out[i] = r;
    }
    return 0;
}

/* float64 op scalar, as Python's float operators: 0 +, 1 -, 2 *, 3 /, 4 //,
 * 5 %, 6 **.  Returns 0; 2 on division by zero; 1 when a finite ** finite
 * gives inf or NaN (Python raises OverflowError or returns a complex: the
 * caller redoes those elements in Python to get exactly that). */
static void divmod_f64(double vx, double wx, double *div, double *mod) {
    double m = fmod(vx, wx);
    double d = (vx - m) / wx;
    if (m != 0.0) {
        if ((wx < 0) != (m < 0)) { m += wx; d -= 1.0; }
    } else {
        m = copysign(0.0, wx);
    }
    double floordiv;
    if (d != 0.0) {
        floordiv = floor(d);
        if (d - floordiv > 0.5) floordiv += 1.0;
    } else {
        floordiv = copysign(0.0, vx / wx);
    }
    *div = floordiv;
    *mod = m;
}

int dxs_map_f64(const double *a, size_t n, int op, double v, double *out) {
    if ((op == 3 || op == 4 || op == 5) && v == 0.0) return 2;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], d, m;
        switch (op) {
        case 0: out[i] = x + v; break;
        case 1: out[i] = x - v; break;
        case 2: out[i] = x * v; break;
        case 3: out[i] = x / v; break;
        case 4: case 5:
            divmod_f64(x, v, &d, &m);
            out[i] = op == 4 ? d : m;
            break;
        case 6:
            if (x == 0.0 && v < 0.0) return 1;
            out[i] = pow(x, v);
            if (!isfinite(out[i]) && isfinite(x) && isfinite(v)) return 1;
            break;
        default: return 1;
        }
    }
    return 0;
}

/* ---- SwissDict batch lookup ---------------------------------------------
 * The table of dxpy/simd/swissdict.py: per slot a control byte (0x80 empty,
 * 0xFE deleted, else the low 7 bits of the mixed hash) in groups of 16, the
 * slot's entry index, and per entry its key as int64 (valid while every
 * live key is an exact int).  Each key: Python's hash(int), the table's mix,
 * then triangular probing over groups, one 16-byte compare per group. */
static inline uint64_t py_int_hash(int64_t v) {
    const uint64_t modulus = ((uint64_t)1 << 61) - 1;   /* CPython's _PyHASH_MODULUS */
    uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t h = (int64_t)(magnitude % modulus);
    if (v < 0) h = -h;
    if (h == -1) h = -2;
    return (uint64_t)h;
}

static inline uint64_t swiss_mix(uint64_t h) {
    uint64_t m = h * 0x9E3779B97F4A7C15ull;
    return m ^ (m >> 32);
}

static inline void group_masks_portable(const uint8_t *group, uint8_t h2, unsigned *match, unsigned *empty) {
    unsigned hit = 0, free_ = 0;
    for (unsigned lane = 0; lane < 16; lane++) {
        hit |= (unsigned)(group[lane] == h2) << lane;
        free_ |= (unsigned)(group[lane] == 0x80) << lane;
    }
    *match = hit;
    *empty = free_;
}

#if DXS_X86
__attribute__((target("sse2")))
static inline void group_masks_sse2(const uint8_t *group, uint8_t h2, unsigned *match, unsigned *empty) {
    __m128i v = _mm_loadu_si128((const __m128i *)group);
    *match = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)h2)));
    *empty = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x80)));
}
#endif

void dxs_swiss_probe(const int64_t *keys, size_t n, const uint8_t *ctrl, const int64_t *slots,
                     const int64_t *stored, uint64_t gmask, int64_t *out) {
    dxs_detect();
    int vector = DXS_X86 && dxs_level >= DXS_SSE2;
    for (size_t k = 0; k < n; k++) {
        uint64_t m = swiss_mix(py_int_hash(keys[k]));
        uint8_t h2 = (uint8_t)(m & 0x7F);
        uint64_t g = (m >> 7) & gmask, step = 0;
        int64_t found = -1;
        for (;;) {
            const uint8_t *group = ctrl + g * 16;
            unsigned match, empty;
#if DXS_X86
            if (vector) group_masks_sse2(group, h2, &match, &empty);
            else
#endif
            group_masks_portable(group, h2, &match, &empty);
            while (match) {
                int64_t entry = slots[g * 16 + (unsigned)__builtin_ctz(match)];
                if (stored[entry] == keys[k]) { found = entry; break; }
                match &= match - 1;
            }
            if (found >= 0 || empty) break;
            step++;
            g = (g + step) & gmask;
        }
        out[k] = found;
    }
}
