/* Shared definitions of the C readout core: error codes and SIMD dispatch control.
 *
 * Every function of the core that can fail returns an int: 0 (POA_OK) or one of the
 * negative codes below. The Python layer turns negative codes into exceptions. */
#ifndef POA_COMMON_H
#define POA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define POA_OK 0
#define POA_EINVAL (-1)    /* bad argument: size, factor, mode, NULL pointer */
#define POA_ENOMEM (-2)    /* allocation failed (only at create/open time) */
#define POA_ETIMEDOUT (-3) /* nothing arrived within the timeout */
#define POA_ECLOSED (-4)   /* the ring was closed */
#define POA_EIO (-5)       /* a write to a file failed (errno is kept) */
#define POA_EAGAIN (-6)    /* no slot available right now (drop-oldest ring: every slot held, or
                              * all but the one ready frame) */
#define POA_EFRAME (-7)    /* the frame was rejected (out of order, size mismatch) */
#define POA_ESTATE (-8)    /* call not valid in the current state */

/* SIMD dispatch. The plain-C loops are always compiled; the AVX2 paths exist only on
 * x86 builds with gcc/clang and are chosen at run time when the CPU has AVX2.
 * poa_simd_available(): bit 0 = AVX2 kernels, bit 1 = SSE4.2 CRC32C instruction, bit 2 =
 * the NEON copies of the plain-C loops (32-bit ARM builds with gcc, when the CPU has NEON).
 * poa_simd_set(0) forces the plain-C paths everywhere (used by the tests to check both
 * paths give identical output); poa_simd_set(1) returns to automatic choice. The
 * environment variable POA_SIMD=0 sets the initial state to plain C. */
int poa_simd_available(void);
void poa_simd_set(int enabled);
int poa_simd_enabled(void);

/* memcpy, exported so the benchmark measures its baseline through the same call path. */
void poa_copy(void *dst, const void *src, size_t n);

#endif
