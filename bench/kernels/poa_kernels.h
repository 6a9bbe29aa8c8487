/* Pixel kernels kept for the benchmark (bench/native.py) and its tests: none has a caller
 * in the driver (the SDK delivers RAW8/RAW16/RGB24/MONO8; the camera bins 1..4 and flips
 * itself). Each takes a source and a destination buffer, never allocates, and touches no
 * Python object (the cffi module releases the GIL around every call).
 * Pixel counts are size_t; widths/heights uint32_t. Return 0 or a negative POA_E*.
 *
 * Aliasing: the element-wise kernels (shift, byteswap, 16->8, widen) accept
 * dst == src (in place) where the element sizes match; partial overlap is not allowed.
 * flip accepts dst == src. Binning, crop and unpacking need distinct buffers. */
#ifndef POA_KERNELS_H
#define POA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define POA_BIN_SUM 0 /* sum of the f*f pixels, saturating at the type's maximum */
#define POA_BIN_AVG 1 /* rounded mean: (sum + f*f/2) / (f*f) */

#define POA_FLIP_NONE 0
#define POA_FLIP_H 1
#define POA_FLIP_V 2
#define POA_FLIP_BOTH 3

/* 12-bit packed, two pixels in three bytes, LSB first (GenICam "Mono12p" layout):
 *   b0 = p0 & 0xff, b1 = (p0 >> 8) | (p1 & 0xf) << 4, b2 = p1 >> 4.
 * src must hold (3n+1)/2 bytes (an odd last pixel uses b0 and the low nibble of b1).
 * out_shift 0 keeps values 0..4095; 4 left-justifies them in 16 bits. */
int poa_unpack12(const uint8_t *src, size_t src_len, uint16_t *dst, size_t n, unsigned out_shift);

/* 12-bit packed straight to FITS BITPIX 16 big-endian with BZERO 32768 (2n bytes out). */
int poa_unpack12_fits_be(const uint8_t *src, size_t src_len, uint8_t *dst, size_t n, unsigned out_shift);

/* Right shift (12/14-bit data left-justified in 16 bits -> right-justified); shift 0..15,
 * shift 0 is a copy. */
int poa_shr16(const uint16_t *src, uint16_t *dst, size_t n, unsigned shift);

/* Swap the two bytes of every 16-bit word. */
int poa_bswap16(const uint16_t *src, uint16_t *dst, size_t n);

/* RAW16 as it comes off the wire (little-endian bytes) -> host-order uint16. On a
 * little-endian host this is a copy (nothing when dst == src). */
int poa_raw16le_to_u16(const uint8_t *src, uint16_t *dst, size_t n);

/* RAW8 -> 16 bits: dst = src << shift (shift 0..8). */
int poa_u8_to_u16(const uint8_t *src, uint16_t *dst, size_t n, unsigned shift);

/* 16 -> 8 bits: dst = min(src >> shift, 255) (shift 0..15; 8 keeps the high byte,
 * depth-8 for data of that many bits right-justified). */
int poa_u16_to_u8(const uint16_t *src, uint8_t *dst, size_t n, unsigned shift);

/* Software binning by f in 1..4 of a w x h image into (w/f) x (h/f): the pixels past
 * the last whole f x f block are dropped, as a camera's hardware binning does.
 * Used for mono data and for "mono binning" of Bayer data (neighbours mixed). */
int poa_bin_u16(const uint16_t *src, uint32_t w, uint32_t h, uint16_t *dst, unsigned f, int mode);
int poa_bin_u8(const uint8_t *src, uint32_t w, uint32_t h, uint8_t *dst, unsigned f, int mode);

/* Colour-preserving binning of Bayer data: each output pixel combines the f x f pixels
 * of its own colour inside a 2f x 2f super-cell, so the result keeps the input's Bayer
 * pattern. Output is (2*(w/(2f))) x (2*(h/(2f))). */
int poa_bin_bayer_u16(const uint16_t *src, uint32_t w, uint32_t h, uint16_t *dst, unsigned f, int mode);
int poa_bin_bayer_u8(const uint8_t *src, uint32_t w, uint32_t h, uint8_t *dst, unsigned f, int mode);

/* Sub-frame: copy the w x h rectangle at (x, y) of a src_w x src_h image of bpp bytes
 * per pixel into a contiguous dst. Returns the Bayer offset the crop implies,
 * (x & 1) | (y & 1) << 1, or a negative POA_E*. */
int poa_crop(const uint8_t *src, uint32_t src_w, uint32_t src_h, uint32_t bpp,
             uint8_t *dst, uint32_t x, uint32_t y, uint32_t w, uint32_t h);

/* Flip a w x h image of bpp (1..16) bytes per pixel; dst may equal src. Returns the Bayer
 * offset the flip implies, bit 0 = x offset, bit 1 = y offset (a horizontal flip of an
 * even-width frame moves the pattern by one column), or a negative POA_E*. */
int poa_flip(const uint8_t *src, uint8_t *dst, uint32_t w, uint32_t h, uint32_t bpp, int mode);

#endif
