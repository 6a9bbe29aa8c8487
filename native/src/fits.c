/* FITS data conversion: uint16 -> BITPIX 16 big-endian with BZERO 32768, one pass, into
 * the buffer the BLOB is sent from (ccd/fits.py). Plain C first (and its NEON copy for
 * 32-bit ARM), AVX2 after. */
#include "poa_fits.h"
#include "poa_internal.h"

#include <string.h>

static inline __attribute__((always_inline)) void fits_be16_loop(const uint16_t *s, uint8_t *d,
                                                                   size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t v = poa__fits16(s[i]);
        memcpy(d + 2 * i, &v, 2);
    }
}

static void fits_be16_c(const uint16_t *s, uint8_t *d, size_t n) { fits_be16_loop(s, d, n); }

#if POA_ARM_NEON
/* The same loop, vectorised by the compiler with NEON (see poa_internal.h). */
POA_TARGET_NEON static void fits_be16_neon(const uint16_t *s, uint8_t *d, size_t n)
{
    fits_be16_loop(s, d, n);
}
#endif

#if POA_X86
/* 32 pixels a step: flip the top bit, swap the bytes. Streaming stores for outputs of
 * POA_STREAM_MIN_BYTES and more, after a scalar prologue that aligns dst to 32 bytes.
 * Returns how many pixels it did; the caller finishes the tail in plain C. dst == src
 * works: each step loads its 64 bytes before it stores them. */
POA_TARGET_AVX2 static size_t fits_be16_avx2(const uint16_t *s, uint8_t *d, size_t n)
{
    const __m256i bsw = poa__bswap_mask();
    const __m256i top = _mm256_set1_epi16((short)0x8000);
    size_t i = 0;
    int stream = n * 2 >= POA_STREAM_MIN_BYTES && ((uintptr_t)d & 1) == 0;
    if (stream)
        for (; ((uintptr_t)(d + 2 * i) & 31) && i < n; i++) fits_be16_c(s + i, d + 2 * i, 1);
#define FITS_BODY(STORE)                                                                   \
    for (; i + 32 <= n; i += 32) {                                                         \
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + i));                          \
        __m256i b = _mm256_loadu_si256((const __m256i *)(s + i + 16));                     \
        STORE((__m256i *)(d + 2 * i), _mm256_shuffle_epi8(_mm256_xor_si256(a, top), bsw)); \
        STORE((__m256i *)(d + 2 * i + 32), _mm256_shuffle_epi8(_mm256_xor_si256(b, top), bsw)); \
    }
    if (stream) {
        FITS_BODY(_mm256_stream_si256)
        _mm_sfence();
    } else {
        FITS_BODY(_mm256_storeu_si256)
    }
#undef FITS_BODY
    return i;
}
#endif

void poa_fits_be16(const uint16_t *src, uint8_t *dst, size_t n)
{
    if (!src || !dst || !n) return;
    size_t i = 0;
#if POA_X86
    if (poa__caps() & POA_CAP_AVX2) i = fits_be16_avx2(src, dst, n);
#endif
#if POA_ARM_NEON
    if (poa__caps() & POA_CAP_NEON) {
        fits_be16_neon(src, dst, n);
        return;
    }
#endif
    fits_be16_c(src + i, dst + 2 * i, n - i);
}
