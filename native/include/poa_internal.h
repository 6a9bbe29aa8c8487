/* Internal helpers of the C core, shared by the sources in native/src and not exposed to Python.
 *
 * SIMD policy: every kernel has a plain-C loop written to auto-vectorise at -O3 (it is
 * the only path on 64-bit ARM, where NEON is always there, and on compilers without
 * target attributes). On x86 with gcc/clang, AVX2 versions are compiled with
 * __attribute__((target("avx2"))) so the module needs no -mavx2 and still runs on any
 * x86-64; they are chosen at run time when the CPU reports AVX2 (poa__caps()).
 *
 * 32-bit ARM (Debian's and Raspberry Pi OS's armhf) is built for a baseline without NEON
 * (Debian: ARMv7 with VFPv3-D16; Raspberry Pi OS: ARMv6 for the Pi 1 and Zero), so the
 * plain-C loops compile to scalar code there: 6x the instructions of the arm64 build for
 * the FITS conversion (bench/insn_per_frame.py). With gcc, the driver's kernels are
 * compiled a second time with __attribute__((target("fpu=neon"))), where the same loop
 * auto-vectorises, and that copy runs when the kernel reports NEON (AT_HWCAP: every Pi
 * from the Pi 2 on). */
#ifndef POA_INTERNAL_H
#define POA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(POA_NO_X86_SIMD)
#define POA_X86 1
#include <immintrin.h>
#define POA_TARGET_AVX2 __attribute__((target("avx2")))
#define POA_TARGET_SSE42 __attribute__((target("sse4.2")))
#else
#define POA_X86 0
#endif

#if defined(__arm__) && defined(__GNUC__) && !defined(__clang__) && !defined(__ARM_NEON) && \
    defined(__linux__) && !defined(POA_NO_ARM_NEON)
#define POA_ARM_NEON 1
#define POA_TARGET_NEON __attribute__((target("fpu=neon")))
#else
#define POA_ARM_NEON 0
#endif

#define POA_CAP_AVX2 1
#define POA_CAP_SSE42 2
#define POA_CAP_NEON 4 /* 32-bit ARM builds only: the NEON copies of the plain-C loops */

/* Capabilities in use now: detected ones, or 0 when poa_simd_set(0) / POA_SIMD=0. */
int poa__caps(void);

/* Non-temporal stores pay off once the output no longer fits the caches (measured on
 * the project machines: streaming stores took the 122 MB byte swap from 19 ms to 11.5 ms)
 * and cost when the consumer reads the output straight away from cache; below this
 * size the kernels use ordinary stores. */
#define POA_STREAM_MIN_BYTES ((size_t)4 << 20)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define POA_BIG_ENDIAN 1
#else
#define POA_BIG_ENDIAN 0
#endif

static inline uint16_t poa__bswap16(uint16_t v) { return (uint16_t)((v >> 8) | (v << 8)); }

/* FITS BITPIX 16 with BZERO 32768: value v is stored as (v - 32768) big-endian, which is
 * v ^ 0x8000 with its bytes swapped (on a little-endian host). */
static inline uint16_t poa__fits16(uint16_t v)
{
    v ^= 0x8000u;
#if POA_BIG_ENDIAN
    return v;
#else
    return poa__bswap16(v);
#endif
}

#if POA_X86
/* The byte shuffle that swaps the two bytes of every 16-bit lane. */
POA_TARGET_AVX2 static inline __m256i poa__bswap_mask(void)
{
    return _mm256_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14,
                            1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
}
#endif

static inline uint32_t poa__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t poa__le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint64_t poa__le64(const uint8_t *p)
{
    return (uint64_t)poa__le32(p) | (uint64_t)poa__le32(p + 4) << 32;
}
static inline void poa__put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void poa__put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void poa__put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#endif
