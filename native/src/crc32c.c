/* CRC32C (Castagnoli). Plain C: slicing-by-8 over tables built once (pthread_once).
 * x86 with SSE4.2: the crc32 instruction, 8 bytes per step. */
#include "poa_crc32c.h"
#include "poa_internal.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t g_table[8][256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (POLY & (0u - (c & 1u)));
        g_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) g_table[t][i] = (g_table[t - 1][i] >> 8) ^ g_table[0][g_table[t - 1][i] & 0xff];
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t len)
{
    pthread_once(&g_once, build_tables);
    while (len && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ g_table[0][(c ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo = poa__le32(p) ^ c, hi = poa__le32(p + 4);
        c = g_table[7][lo & 0xff] ^ g_table[6][(lo >> 8) & 0xff] ^ g_table[5][(lo >> 16) & 0xff] ^
            g_table[4][lo >> 24] ^ g_table[3][hi & 0xff] ^ g_table[2][(hi >> 8) & 0xff] ^
            g_table[1][(hi >> 16) & 0xff] ^ g_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--) c = (c >> 8) ^ g_table[0][(c ^ *p++) & 0xff];
    return c;
}

#if POA_X86
POA_TARGET_SSE42 static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8(c, *p++);
        len--;
    }
#if defined(__x86_64__)
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
#endif
    while (len >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        c = _mm_crc32_u32(c, v);
        p += 4;
        len -= 4;
    }
    while (len--) c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

uint32_t poa_crc32c(uint32_t crc, const uint8_t *buf, size_t len)
{
    uint32_t c = ~crc;
    if (!buf || !len) return crc;
#if POA_X86
    if (poa__caps() & POA_CAP_SSE42) return ~crc_hw(c, buf, len);
#endif
    return ~crc_sw(c, buf, len);
}
