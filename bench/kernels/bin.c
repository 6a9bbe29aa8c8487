/* Software binning: mono (neighbour) binning by 1..4, and colour-preserving Bayer
 * binning. Sum saturates at the type's maximum; average is rounded half up. */
#include "poa_common.h"
#include "poa_internal.h"
#include "poa_kernels.h"

#include <string.h>

#define BIN_BLOCK 512 /* output columns accumulated at a time (2 KiB of uint32 on stack) */

static inline uint32_t finish(uint32_t s, int avg, unsigned ff, uint32_t maxv)
{
    if (avg) return (s + ff / 2) / ff;
    return s > maxv ? maxv : s;
}

/* Generic f x f binning for one element type. F is a literal at each call site so the
 * inner dx loop unrolls and the strided loads vectorise. */
#define DEFINE_BIN_GENERIC(NAME, T, MAXV)                                                  \
    static inline void NAME(const T *src, uint32_t w, uint32_t h, T *dst, unsigned F,      \
                            int avg)                                                       \
    {                                                                                      \
        size_t ow = w / F, oh = h / F;                                                     \
        uint32_t acc[BIN_BLOCK];                                                           \
        for (size_t oy = 0; oy < oh; oy++) {                                               \
            for (size_t x0 = 0; x0 < ow; x0 += BIN_BLOCK) {                                \
                size_t nb = ow - x0 < BIN_BLOCK ? ow - x0 : BIN_BLOCK;                     \
                for (unsigned dy = 0; dy < F; dy++) {                                      \
                    const T *row = src + (oy * F + dy) * (size_t)w + x0 * F;               \
                    for (size_t ox = 0; ox < nb; ox++) {                                   \
                        uint32_t s = 0;                                                    \
                        for (unsigned dx = 0; dx < F; dx++) s += row[ox * F + dx];         \
                        acc[ox] = dy ? acc[ox] + s : s;                                    \
                    }                                                                      \
                }                                                                          \
                T *out = dst + oy * ow + x0;                                               \
                for (size_t ox = 0; ox < nb; ox++)                                         \
                    out[ox] = (T)finish(acc[ox], avg, F * F, MAXV);                        \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_BIN_GENERIC(bin_generic_u16, uint16_t, 65535u)
DEFINE_BIN_GENERIC(bin_generic_u8, uint8_t, 255u)

/* 2x2 in one pass over two rows; the plain-C path for 2x2 and the tail of the AVX2 one. */
static void bin2_row_u16_c(const uint16_t *a, const uint16_t *b, uint16_t *d, size_t from,
                           size_t ow, int avg)
{
    for (size_t x = from; x < ow; x++) {
        uint32_t s = (uint32_t)a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1];
        d[x] = (uint16_t)(avg ? (s + 2) >> 2 : (s > 65535u ? 65535u : s));
    }
}

#if POA_X86
/* 16 output pixels per step: each 32-byte load holds 8 horizontal pairs; the pair sums
 * are formed in 32-bit lanes (low word + high word), the two rows added, then packed
 * back to 16 bits with unsigned saturation (which is the saturating sum: at most
 * 4 * 65535 fits a signed 32-bit lane). packus works per 128-bit lane, hence the
 * 64-bit permute that restores pixel order. */
POA_TARGET_AVX2 static size_t bin2_row_u16_avx2(const uint16_t *a, const uint16_t *b,
                                                uint16_t *d, size_t ow, int avg, int stream)
{
    const __m256i lo = _mm256_set1_epi32(0xffff);
    const __m256i two = _mm256_set1_epi32(2);
    size_t x = 0;
    if (stream)
        while (((uintptr_t)(d + x) & 31) && x < ow) {
            bin2_row_u16_c(a, b, d, x, x + 1, avg);
            x++;
        }
#define PAIRS(v) _mm256_add_epi32(_mm256_and_si256(v, lo), _mm256_srli_epi32(v, 16))
#define BIN2_BODY(STORE)                                                                   \
    for (; x + 16 <= ow; x += 16) {                                                        \
        __m256i a0 = _mm256_loadu_si256((const __m256i *)(a + 2 * x));                     \
        __m256i a1 = _mm256_loadu_si256((const __m256i *)(a + 2 * x + 16));                \
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 2 * x));                     \
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 2 * x + 16));                \
        __m256i s0 = _mm256_add_epi32(PAIRS(a0), PAIRS(b0));                               \
        __m256i s1 = _mm256_add_epi32(PAIRS(a1), PAIRS(b1));                               \
        if (avg) {                                                                         \
            s0 = _mm256_srli_epi32(_mm256_add_epi32(s0, two), 2);                          \
            s1 = _mm256_srli_epi32(_mm256_add_epi32(s1, two), 2);                          \
        }                                                                                  \
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(s0, s1), 0xD8);           \
        STORE((__m256i *)(d + x), p);                                                      \
    }
    if (stream) {
        BIN2_BODY(_mm256_stream_si256)
    } else {
        BIN2_BODY(_mm256_storeu_si256)
    }
#undef BIN2_BODY
#undef PAIRS
    return x;
}
#endif

static void bin2_u16(const uint16_t *src, uint32_t w, uint32_t h, uint16_t *dst, int avg)
{
    size_t ow = w / 2, oh = h / 2;
#if POA_X86
    if (poa__caps() & POA_CAP_AVX2) {
        int stream = ow * oh * 2 >= POA_STREAM_MIN_BYTES && ((uintptr_t)dst & 1) == 0;
        for (size_t y = 0; y < oh; y++) {
            const uint16_t *a = src + 2 * y * (size_t)w, *b = a + w;
            uint16_t *d = dst + y * ow;
            size_t x = bin2_row_u16_avx2(a, b, d, ow, avg, stream);
            bin2_row_u16_c(a, b, d, x, ow, avg);
        }
        if (stream) _mm_sfence();
        return;
    }
#endif
    for (size_t y = 0; y < oh; y++) {
        const uint16_t *a = src + 2 * y * (size_t)w;
        bin2_row_u16_c(a, a + w, dst + y * ow, 0, ow, avg);
    }
}

static int bin_args(const void *src, uint32_t w, uint32_t h, const void *dst, unsigned f, int mode)
{
    if (!src || !dst || f < 1 || f > 4 || (mode != POA_BIN_SUM && mode != POA_BIN_AVG))
        return POA_EINVAL;
    if (w < f || h < f) return POA_EINVAL;
    if (src == dst) return POA_EINVAL;
    return POA_OK;
}

/* 2x2 of 8-bit pixels: the generic loop with F = 2 (no AVX2 path of its own). */
static void bin2_u8(const uint8_t *src, uint32_t w, uint32_t h, uint8_t *dst, int avg)
{
    bin_generic_u8(src, w, h, dst, 2, avg);
}

/* Mono binning by f: a copy for 1, the type's 2x2 kernel for 2, the generic loop with F a
 * literal for 3 and 4. */
#define DEFINE_BIN_MONO(NAME, T, BIN2, GENERIC)                                            \
    int NAME(const T *src, uint32_t w, uint32_t h, T *dst, unsigned f, int mode)           \
    {                                                                                      \
        int rc = bin_args(src, w, h, dst, f, mode);                                        \
        if (rc) return rc;                                                                 \
        int avg = mode == POA_BIN_AVG;                                                     \
        if (f == 1) memcpy(dst, src, (size_t)w * h * sizeof(T));                           \
        else if (f == 2) BIN2(src, w, h, dst, avg);                                        \
        else if (f == 3) GENERIC(src, w, h, dst, 3, avg);                                  \
        else GENERIC(src, w, h, dst, 4, avg);                                              \
        return POA_OK;                                                                     \
    }

DEFINE_BIN_MONO(poa_bin_u16, uint16_t, bin2_u16, bin_generic_u16)
DEFINE_BIN_MONO(poa_bin_u8, uint8_t, bin2_u8, bin_generic_u8)

/* Colour-preserving: output (X, Y) lies in super-cell (X/2, Y/2) of 2f x 2f input
 * pixels and has the colour phase (X&1, Y&1); it combines the f x f input pixels of
 * that phase in the cell: columns 2f*(X/2) + 2i + (X&1), rows 2f*(Y/2) + 2j + (Y&1). */
#define DEFINE_BIN_BAYER(NAME, T, MAXV)                                                    \
    int NAME(const T *src, uint32_t w, uint32_t h, T *dst, unsigned f, int mode)           \
    {                                                                                      \
        int rc = bin_args(src, w, h, dst, f, mode);                                        \
        if (rc) return rc;                                                                 \
        if (w < 2 * f || h < 2 * f) return POA_EINVAL;                                     \
        int avg = mode == POA_BIN_AVG;                                                     \
        size_t ow = 2 * (w / (2 * f)), oh = 2 * (h / (2 * f));                             \
        for (size_t Y = 0; Y < oh; Y++) {                                                  \
            size_t y0 = 2 * f * (Y >> 1) + (Y & 1);                                        \
            T *out = dst + Y * ow;                                                         \
            for (size_t X = 0; X < ow; X++) {                                              \
                size_t x0 = 2 * f * (X >> 1) + (X & 1);                                    \
                uint32_t s = 0;                                                            \
                for (unsigned j = 0; j < f; j++) {                                         \
                    const T *row = src + (y0 + 2 * j) * (size_t)w + x0;                    \
                    for (unsigned i = 0; i < f; i++) s += row[2 * i];                      \
                }                                                                          \
                out[X] = (T)finish(s, avg, f * f, MAXV);                                   \
            }                                                                              \
        }                                                                                  \
        return POA_OK;                                                                     \
    }

DEFINE_BIN_BAYER(poa_bin_bayer_u16, uint16_t, 65535u)
DEFINE_BIN_BAYER(poa_bin_bayer_u8, uint8_t, 255u)
