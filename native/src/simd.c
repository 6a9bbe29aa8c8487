/* Run-time SIMD dispatch state and the memcpy baseline. */
#include "poa_common.h"
#include "poa_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if POA_ARM_NEON
#include <sys/auxv.h>
/* HWCAP_NEON of the kernel's arch/arm/include/uapi/asm/hwcap.h. */
#define POA_HWCAP_NEON (1UL << 12)
#endif

/* -1 until first use; then detected capabilities in bits 0..7 and "enabled" in bit 8.
 * Two threads racing on the first call compute the same value, so a relaxed store is
 * enough. */
static atomic_int g_state = -1;

static int detect(void)
{
    int caps = 0;
#if POA_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) caps |= POA_CAP_AVX2;
    if (__builtin_cpu_supports("sse4.2")) caps |= POA_CAP_SSE42;
#endif
#if POA_ARM_NEON
    if (getauxval(AT_HWCAP) & POA_HWCAP_NEON) caps |= POA_CAP_NEON;
#endif
    return caps;
}

static int state(void)
{
    int s = atomic_load_explicit(&g_state, memory_order_relaxed);
    if (s < 0) {
        const char *env = getenv("POA_SIMD");
        int enabled = !(env && env[0] == '0');
        s = detect() | (enabled << 8);
        atomic_store_explicit(&g_state, s, memory_order_relaxed);
    }
    return s;
}

int poa__caps(void)
{
    int s = state();
    return (s & 0x100) ? (s & 0xff) : 0;
}

int poa_simd_available(void) { return state() & 0xff; }

void poa_simd_set(int enabled)
{
    int s = state();
    s = (s & 0xff) | ((enabled ? 1 : 0) << 8);
    atomic_store_explicit(&g_state, s, memory_order_relaxed);
}

int poa_simd_enabled(void) { return (state() >> 8) & 1; }

void poa_copy(void *dst, const void *src, size_t n)
{
    if (n) memcpy(dst, src, n);
}
