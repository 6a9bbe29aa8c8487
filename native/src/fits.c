/* FITS data conversion: uint16 -> BITPIX 16 big-endian with BZERO 32768, one pass, into
 * the buffer the BLOB is sent from. The loops live in conv.c with the other 16-bit
 * element-wise kernels (same AVX2 skeleton). */
#include "poa_fits.h"
#include "poa_internal.h"

size_t poa__fits_be16_avx2(const uint16_t *s, uint8_t *d, size_t n);
void poa__fits_be16_c(const uint16_t *s, uint8_t *d, size_t n);

void poa_fits_be16(const uint16_t *src, uint8_t *dst, size_t n)
{
    if (!src || !dst || !n) return;
    size_t i = 0;
#if POA_X86
    if (poa__caps() & POA_CAP_AVX2) i = poa__fits_be16_avx2(src, dst, n);
#endif
    poa__fits_be16_c(src + i, dst + 2 * i, n - i);
}
