/* Geometry: sub-frame crop and flips, with the Bayer offset each implies. */
#include "poa_common.h"
#include "poa_kernels.h"

#include <string.h>

int poa_crop(const uint8_t *src, uint32_t src_w, uint32_t src_h, uint32_t bpp, uint8_t *dst,
             uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    if (!src || !dst || bpp == 0 || bpp > 16 || w == 0 || h == 0) return POA_EINVAL;
    if (x > src_w || w > src_w - x || y > src_h || h > src_h - y) return POA_EINVAL;
    size_t sstride = (size_t)src_w * bpp, row = (size_t)w * bpp;
    const uint8_t *s = src + (size_t)y * sstride + (size_t)x * bpp;
    for (uint32_t r = 0; r < h; r++) memcpy(dst + r * row, s + r * sstride, row);
    return (int)((x & 1u) | (y & 1u) << 1);
}

/* Reverse n elements; in place when d == s (swaps from both ends). Written per element
 * size so the loops vectorise (reversed loads become permutes). */
#define DEFINE_REVERSE(NAME, T)                                                            \
    static void NAME(const T *s, T *d, size_t n)                                           \
    {                                                                                      \
        if (s == d) {                                                                      \
            for (size_t i = 0, j = n ? n - 1 : 0; i < n / 2; i++, j--) {                   \
                T t = d[i];                                                                \
                d[i] = d[j];                                                               \
                d[j] = t;                                                                  \
            }                                                                              \
        } else {                                                                           \
            for (size_t i = 0; i < n; i++) d[i] = s[n - 1 - i];                            \
        }                                                                                  \
    }
DEFINE_REVERSE(rev8, uint8_t)
DEFINE_REVERSE(rev16, uint16_t)
DEFINE_REVERSE(rev32, uint32_t)

/* Generic element size (RGB24 = 3 bytes and others). */
static void rev_bytes(const uint8_t *s, uint8_t *d, size_t n, size_t bpp)
{
    uint8_t t[16];
    if (s == d) {
        for (size_t i = 0, j = n ? n - 1 : 0; i < n / 2; i++, j--) {
            memcpy(t, d + i * bpp, bpp);
            memcpy(d + i * bpp, d + j * bpp, bpp);
            memcpy(d + j * bpp, t, bpp);
        }
    } else {
        for (size_t i = 0; i < n; i++) memcpy(d + i * bpp, s + (n - 1 - i) * bpp, bpp);
    }
}

static void reverse(const uint8_t *s, uint8_t *d, size_t n, uint32_t bpp)
{
    if (bpp == 1) rev8(s, d, n);
    else if (bpp == 2 && ((uintptr_t)s & 1) == 0 && ((uintptr_t)d & 1) == 0)
        rev16((const uint16_t *)(const void *)s, (uint16_t *)(void *)d, n);
    else if (bpp == 4 && ((uintptr_t)s & 3) == 0 && ((uintptr_t)d & 3) == 0)
        rev32((const uint32_t *)(const void *)s, (uint32_t *)(void *)d, n);
    else rev_bytes(s, d, n, bpp);
}

static void swap_rows(uint8_t *a, uint8_t *b, size_t len)
{
    uint8_t t[4096];
    while (len) {
        size_t k = len < sizeof t ? len : sizeof t;
        memcpy(t, a, k);
        memcpy(a, b, k);
        memcpy(b, t, k);
        a += k;
        b += k;
        len -= k;
    }
}

int poa_flip(const uint8_t *src, uint8_t *dst, uint32_t w, uint32_t h, uint32_t bpp, int mode)
{
    if (!src || !dst || bpp == 0 || bpp > 16 || w == 0 || h == 0) return POA_EINVAL;
    if (mode < POA_FLIP_NONE || mode > POA_FLIP_BOTH) return POA_EINVAL;
    size_t row = (size_t)w * bpp, total = row * h;
    if (src != dst && src < dst + total && dst < src + total) return POA_EINVAL;
    switch (mode) {
    case POA_FLIP_NONE:
        if (src != dst) memcpy(dst, src, total);
        break;
    case POA_FLIP_H:
        for (uint32_t y = 0; y < h; y++) reverse(src + y * row, dst + y * row, w, bpp);
        break;
    case POA_FLIP_V:
        if (src == dst) {
            for (uint32_t y = 0; y < h / 2; y++) swap_rows(dst + y * row, dst + (h - 1 - y) * row, row);
        } else {
            for (uint32_t y = 0; y < h; y++) memcpy(dst + y * row, src + (h - 1 - y) * row, row);
        }
        break;
    default: /* both: the whole frame read backwards */
        reverse(src, dst, (size_t)w * h, bpp);
        break;
    }
    int dx = (mode & POA_FLIP_H) ? (int)((w - 1) & 1u) : 0;
    int dy = (mode & POA_FLIP_V) ? (int)((h - 1) & 1u) : 0;
    return dx | dy << 1;
}
