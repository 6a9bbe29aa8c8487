#ifndef POA_FITS_H
#define POA_FITS_H
#include <stddef.h>
#include <stdint.h>

/* uint16 host-order pixels -> FITS BITPIX 16 big-endian with BZERO 32768, one pass.
 * FITS stores signed 16-bit; value v is written as (v - 32768) big-endian, which
 * is v ^ 0x8000 byte-swapped. dst may not overlap src unless dst == src. */
void poa_fits_be16(const uint16_t *src, uint8_t *dst, size_t n);

#endif
