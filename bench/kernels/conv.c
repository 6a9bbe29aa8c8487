/* Element-wise pixel conversions: 12-bit unpack (also straight to FITS big-endian/BZERO),
 * shifts, byte swap, 8<->16 bits. Plain-C loops first, AVX2 after. The driver's own FITS
 * conversion of uint16 frames is native/src/fits.c. */
#include "poa_internal.h"
#include "poa_kernels.h"
#include "poa_common.h"

#include <string.h>

/* ---- plain C ------------------------------------------------------------------------ */

/* n pixels from src (starting on a pair boundary). The pair loop is the form gcc and
 * clang vectorise (three strided byte loads, two strided stores). */
static void unpack12_c(const uint8_t *s, uint16_t *d, size_t n, unsigned sh)
{
    size_t pairs = n / 2;
    for (size_t i = 0; i < pairs; i++) {
        uint32_t b0 = s[3 * i], b1 = s[3 * i + 1], b2 = s[3 * i + 2];
        d[2 * i] = (uint16_t)((b0 | (b1 & 0xfu) << 8) << sh);
        d[2 * i + 1] = (uint16_t)(((b1 >> 4) | b2 << 4) << sh);
    }
    if (n & 1) {
        uint32_t b0 = s[3 * pairs], b1 = s[3 * pairs + 1];
        d[n - 1] = (uint16_t)((b0 | (b1 & 0xfu) << 8) << sh);
    }
}

static void unpack12_fits_c(const uint8_t *s, uint8_t *d, size_t n, unsigned sh)
{
    size_t pairs = n / 2;
    for (size_t i = 0; i < pairs; i++) {
        uint32_t b0 = s[3 * i], b1 = s[3 * i + 1], b2 = s[3 * i + 2];
        uint16_t p0 = poa__fits16((uint16_t)((b0 | (b1 & 0xfu) << 8) << sh));
        uint16_t p1 = poa__fits16((uint16_t)(((b1 >> 4) | b2 << 4) << sh));
        memcpy(d + 4 * i, &p0, 2);
        memcpy(d + 4 * i + 2, &p1, 2);
    }
    if (n & 1) {
        uint32_t b0 = s[3 * pairs], b1 = s[3 * pairs + 1];
        uint16_t p0 = poa__fits16((uint16_t)((b0 | (b1 & 0xfu) << 8) << sh));
        memcpy(d + 2 * (n - 1), &p0, 2);
    }
}

/* Plain C, word form: 8 pixels from 12 bytes via two unaligned 8-byte loads, 4 pixels
 * per 64-bit word, one 16-byte store. Measured on x86-64 without AVX2 (61 MP frame):
 * 17 ms against 25 ms for the byte loop above. On ARM the byte loop is kept: gcc turns
 * it into NEON ld3 de-interleaving loads, made for this layout. Little-endian only
 * (the word lanes are read and stored in host order). Returns pixels done (even). */
#if !POA_BIG_ENDIAN && !defined(__aarch64__) && !defined(__ARM_NEON)
#define POA_UNPACK_WORDS 1
static inline uint64_t four_px(uint64_t w, unsigned sh, int fits)
{
    uint64_t o = ((w & 0xfff) << sh) | (((w >> 12) & 0xfff) << sh) << 16 |
                 (((w >> 24) & 0xfff) << sh) << 32 | (((w >> 36) & 0xfff) << sh) << 48;
    if (fits) {
        o ^= 0x8000800080008000ULL;
        o = ((o >> 8) & 0x00FF00FF00FF00FFULL) | ((o << 8) & 0xFF00FF00FF00FF00ULL);
    }
    return o;
}

static size_t unpack12_words(const uint8_t *s, size_t src_len, uint8_t *d, size_t n, unsigned sh, int fits)
{
    size_t i = 0;
    for (; i + 8 <= n && 3 * i / 2 + 14 <= src_len; i += 8) {
        uint64_t w[2], o[2];
        memcpy(&w[0], s + 3 * i / 2, 8);
        memcpy(&w[1], s + 3 * i / 2 + 6, 8);
        o[0] = four_px(w[0], sh, fits);
        o[1] = four_px(w[1], sh, fits);
        memcpy(d + 2 * i, o, 16);
    }
    return i;
}
#endif

static void shr16_c(const uint16_t *s, uint16_t *d, size_t n, unsigned sh)
{
    for (size_t i = 0; i < n; i++) d[i] = (uint16_t)(s[i] >> sh);
}

static void bswap16_c(const uint16_t *s, uint16_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = poa__bswap16(s[i]);
}

/* ---- AVX2 ------------------------------------------------------------------------------
 * Each returns how many elements it did; the caller finishes the tail in plain C.
 * Streaming stores are used for outputs of POA_STREAM_MIN_BYTES and more, after a scalar
 * prologue that aligns dst to 32 bytes. */
#if POA_X86

#define OP_SHR 0
#define OP_BSWAP 1

/* One element-wise 16-bit pass; op is a compile-time constant at each call site, so
 * the switch folds away once inlined. dst is written as bytes through storeu/stream. */
POA_TARGET_AVX2 static inline size_t ew16_avx2(const uint16_t *s, uint8_t *d, size_t n,
                                               unsigned sh, int op)
{
    const __m128i cnt = _mm_cvtsi32_si128((int)sh);
    const __m256i bsw = poa__bswap_mask();
    size_t i = 0;
    int stream = n * 2 >= POA_STREAM_MIN_BYTES && ((uintptr_t)d & 1) == 0;
    if (stream) {
        while (((uintptr_t)(d + 2 * i) & 31) && i < n) {
            uint16_t v = s[i];
            v = op == OP_SHR ? (uint16_t)(v >> sh) : poa__bswap16(v);
            memcpy(d + 2 * i, &v, 2);
            i++;
        }
    }
#define EW16_BODY(STORE)                                                                   \
    for (; i + 32 <= n; i += 32) {                                                         \
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + i));                          \
        __m256i b = _mm256_loadu_si256((const __m256i *)(s + i + 16));                     \
        if (op == OP_SHR) {                                                                \
            a = _mm256_srl_epi16(a, cnt);                                                  \
            b = _mm256_srl_epi16(b, cnt);                                                  \
        } else {                                                                           \
            a = _mm256_shuffle_epi8(a, bsw);                                               \
            b = _mm256_shuffle_epi8(b, bsw);                                               \
        }                                                                                  \
        STORE((__m256i *)(d + 2 * i), a);                                                  \
        STORE((__m256i *)(d + 2 * i + 32), b);                                             \
    }
    if (stream) {
        EW16_BODY(_mm256_stream_si256)
        _mm_sfence();
    } else {
        EW16_BODY(_mm256_storeu_si256)
    }
#undef EW16_BODY
    return i;
}

POA_TARGET_AVX2 static size_t shr16_avx2(const uint16_t *s, uint16_t *d, size_t n, unsigned sh)
{
    return ew16_avx2(s, (uint8_t *)d, n, sh, OP_SHR);
}
POA_TARGET_AVX2 static size_t bswap16_avx2(const uint16_t *s, uint16_t *d, size_t n)
{
    return ew16_avx2(s, (uint8_t *)d, n, 0, OP_BSWAP);
}

/* 12-bit unpack, 16 pixels (24 source bytes) per step. The 32-byte load is spread so
 * that each 128-bit lane holds its 12 bytes at offsets 0..11 (dwords 0-3 and 3-6); one
 * byte shuffle then builds the little-endian word (b0,b1) for even pixels and (b1,b2)
 * for odd pixels; even words keep their low 12 bits, odd words are shifted right by 4.
 * The load reads 8 bytes past the 24 it uses, hence the src_len bound. */
POA_TARGET_AVX2 static size_t unpack12_avx2(const uint8_t *s, size_t src_len, uint8_t *d,
                                            size_t n, unsigned sh, int fits)
{
    const __m256i perm = _mm256_setr_epi32(0, 1, 2, 3, 3, 4, 5, 6);
    const __m256i shuf = _mm256_setr_epi8(0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11,
                                          0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11);
    const __m256i lo12 = _mm256_set1_epi16(0x0fff);
    const __m256i bsw = poa__bswap_mask();
    const __m256i top = _mm256_set1_epi16((short)0x8000);
    const __m128i cnt = _mm_cvtsi32_si128((int)sh);
    size_t i = 0; /* pixels done, always even */
    int stream = n * 2 >= POA_STREAM_MIN_BYTES && ((uintptr_t)d & 3) == 0;
    if (stream) {
        while (((uintptr_t)(d + 2 * i) & 31) && i + 2 <= n) {
            if (fits)
                unpack12_fits_c(s + 3 * i / 2, d + 2 * i, 2, sh);
            else {
                uint16_t t[2];
                unpack12_c(s + 3 * i / 2, t, 2, sh);
                memcpy(d + 2 * i, t, 4);
            }
            i += 2;
        }
    }
#define U12_STEP(STORE, k)                                                                 \
    do {                                                                                   \
        __m256i v = _mm256_loadu_si256((const __m256i *)(s + 3 * (i + (k)) / 2));           \
        v = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(v, perm), shuf);              \
        v = _mm256_blend_epi16(_mm256_and_si256(v, lo12), _mm256_srli_epi16(v, 4), 0xAA);  \
        v = _mm256_sll_epi16(v, cnt);                                                      \
        if (fits) v = _mm256_shuffle_epi8(_mm256_xor_si256(v, top), bsw);                  \
        STORE((__m256i *)(d + 2 * (i + (k))), v);                                          \
    } while (0)
#define U12_BODY(STORE)                                                                    \
    for (; i + 32 <= n && 3 * i / 2 + 56 <= src_len; i += 32) {                            \
        U12_STEP(STORE, 0);                                                                \
        U12_STEP(STORE, 16);                                                               \
    }                                                                                      \
    for (; i + 16 <= n && 3 * i / 2 + 32 <= src_len; i += 16) U12_STEP(STORE, 0);
    if (stream) {
        U12_BODY(_mm256_stream_si256)
        _mm_sfence();
    } else {
        U12_BODY(_mm256_storeu_si256)
    }
#undef U12_BODY
#undef U12_STEP
    return i;
}
/* 16 -> 8 bits: shift, clamp to 255 (unsigned min: packus alone would read values of
 * 32768 and up as negative), pack two vectors, restore lane order. 32 pixels a step. */
POA_TARGET_AVX2 static size_t u16_to_u8_avx2(const uint16_t *s, uint8_t *d, size_t n, unsigned sh)
{
    const __m128i cnt = _mm_cvtsi32_si128((int)sh);
    const __m256i top = _mm256_set1_epi16(255);
    size_t i = 0;
    int stream = n >= POA_STREAM_MIN_BYTES && (const void *)s != (const void *)d;
    if (stream)
        while (((uintptr_t)(d + i) & 31) && i < n) {
            uint32_t v = (uint32_t)s[i] >> sh;
            d[i] = (uint8_t)(v > 255u ? 255u : v);
            i++;
        }
#define U8_BODY(STORE)                                                                     \
    for (; i + 32 <= n; i += 32) {                                                         \
        __m256i a = _mm256_min_epu16(_mm256_srl_epi16(_mm256_loadu_si256((const __m256i *)(s + i)), cnt), top); \
        __m256i b = _mm256_min_epu16(_mm256_srl_epi16(_mm256_loadu_si256((const __m256i *)(s + i + 16)), cnt), top); \
        STORE((__m256i *)(d + i), _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8)); \
    }
    if (stream) {
        U8_BODY(_mm256_stream_si256)
        _mm_sfence();
    } else {
        U8_BODY(_mm256_storeu_si256)
    }
#undef U8_BODY
    return i;
}
#endif /* POA_X86 */

/* ---- public entry points ------------------------------------------------------------- */

/* The pixels an AVX2 step converted (0 without AVX2 at run time or in the build): each entry
 * point runs `call` first and its plain-C loop on the rest. */
#if POA_X86
#define AVX2_DONE(call) ((poa__caps() & POA_CAP_AVX2) ? (call) : 0)
#else
#define AVX2_DONE(call) ((size_t)0)
#endif

/* Arguments every conversion checks: both buffers unless there is nothing to convert, and
 * a shift of at most max_shift. */
static int conv_args(const void *src, const void *dst, size_t n, unsigned shift, unsigned max_shift)
{
    if ((!src || !dst) && n) return POA_EINVAL;
    return shift > max_shift ? POA_EINVAL : POA_OK;
}

static int unpack12_args(const uint8_t *src, size_t src_len, const void *dst, size_t n, unsigned sh)
{
    if (conv_args(src, dst, n, sh, 4)) return POA_EINVAL;
    if (n > (SIZE_MAX - 1) / 3 || src_len < (3 * n + 1) / 2) return POA_EINVAL;
    return POA_OK;
}

int poa_unpack12(const uint8_t *src, size_t src_len, uint16_t *dst, size_t n, unsigned out_shift)
{
    if (unpack12_args(src, src_len, dst, n, out_shift)) return POA_EINVAL;
    size_t i = ((uintptr_t)dst & 1) ? 0  /* an odd address: the plain-C loop only */
                                    : AVX2_DONE(unpack12_avx2(src, src_len, (uint8_t *)dst, n, out_shift, 0));
#ifdef POA_UNPACK_WORDS
    i += unpack12_words(src + 3 * i / 2, src_len - 3 * i / 2, (uint8_t *)(dst + i), n - i, out_shift, 0);
#endif
    unpack12_c(src + 3 * i / 2, dst + i, n - i, out_shift);
    return POA_OK;
}

int poa_unpack12_fits_be(const uint8_t *src, size_t src_len, uint8_t *dst, size_t n, unsigned out_shift)
{
    if (unpack12_args(src, src_len, dst, n, out_shift)) return POA_EINVAL;
    size_t i = AVX2_DONE(unpack12_avx2(src, src_len, dst, n, out_shift, 1));
#ifdef POA_UNPACK_WORDS
    i += unpack12_words(src + 3 * i / 2, src_len - 3 * i / 2, dst + 2 * i, n - i, out_shift, 1);
#endif
    unpack12_fits_c(src + 3 * i / 2, dst + 2 * i, n - i, out_shift);
    return POA_OK;
}

int poa_shr16(const uint16_t *src, uint16_t *dst, size_t n, unsigned shift)
{
    if (conv_args(src, dst, n, shift, 15)) return POA_EINVAL;
    size_t i = AVX2_DONE(shr16_avx2(src, dst, n, shift));
    shr16_c(src + i, dst + i, n - i, shift);
    return POA_OK;
}

int poa_bswap16(const uint16_t *src, uint16_t *dst, size_t n)
{
    if (conv_args(src, dst, n, 0, 0)) return POA_EINVAL;
    size_t i = AVX2_DONE(bswap16_avx2(src, dst, n));
    bswap16_c(src + i, dst + i, n - i);
    return POA_OK;
}

int poa_raw16le_to_u16(const uint8_t *src, uint16_t *dst, size_t n)
{
    if ((!src || !dst) && n) return POA_EINVAL;
#if POA_BIG_ENDIAN
    for (size_t i = 0; i < n; i++) dst[i] = poa__le16(src + 2 * i);
#else
    if ((const void *)src != (const void *)dst && n) memcpy(dst, src, 2 * n);
#endif
    return POA_OK;
}

int poa_u8_to_u16(const uint8_t *src, uint16_t *dst, size_t n, unsigned shift)
{
    if (conv_args(src, dst, n, shift, 8)) return POA_EINVAL;
    if ((const void *)src == (const void *)dst && n) return POA_EINVAL; /* sizes differ */
    for (size_t i = 0; i < n; i++) dst[i] = (uint16_t)(src[i] << shift);
    return POA_OK;
}

int poa_u16_to_u8(const uint16_t *src, uint8_t *dst, size_t n, unsigned shift)
{
    if (conv_args(src, dst, n, shift, 15)) return POA_EINVAL;
    /* In place works: dst[i] is written after src[i] and src[j > i] are read later,
     * and dst[i] lies at byte i <= 2i (the AVX2 step reads 64 bytes before writing 32). */
    size_t i = AVX2_DONE(u16_to_u8_avx2(src, dst, n, shift));
    for (; i < n; i++) {
        uint32_t v = (uint32_t)src[i] >> shift;
        dst[i] = (uint8_t)(v > 255u ? 255u : v);
    }
    return POA_OK;
}
