/* FITS data conversion kernels. */
#include "poa_fits.h"

#include <string.h>

void poa_fits_be16(const uint16_t *src, uint8_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t v = (uint16_t)(src[i] ^ 0x8000u);
        dst[2 * i] = (uint8_t)(v >> 8);
        dst[2 * i + 1] = (uint8_t)(v & 0xffu);
    }
}
