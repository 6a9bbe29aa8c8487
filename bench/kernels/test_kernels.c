/* Kernel checks for the sanitizer build: every kernel against a naive reference, on the
 * SIMD path and the plain-C path, with exact-size heap buffers so AddressSanitizer sees
 * any read or write past an end (the AVX2 12-bit unpack loads 8 bytes beyond the 24 it
 * uses; its loop bound must keep that inside the source). Exit 0 = all passed. */
#include "poa_core.h"
#include "poa_kernels.h"
#include "poa_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 88172645463325252ULL;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}

static void *xmalloc(size_t n) { return malloc(n ? n : 1); }

static void check_elementwise(size_t n, size_t off)
{
    size_t packed_len = (3 * n + 1) / 2;
    uint8_t *pk = xmalloc(packed_len);
    uint16_t *v = xmalloc(2 * n), *ref = xmalloc(2 * n);
    uint16_t *outbase = xmalloc(2 * n + 2 * off), *out = outbase + off;
    uint8_t *bbase = xmalloc(2 * n + off), *bout = bbase + off;
    for (size_t i = 0; i < packed_len; i++) pk[i] = (uint8_t)rnd();
    for (size_t i = 0; i < n; i++) v[i] = (uint16_t)rnd();
    for (unsigned sh = 0; sh <= 4; sh += 4) {
        for (size_t i = 0; i < n; i++) {
            size_t b = 3 * (i / 2);
            uint32_t p = (i & 1) ? (uint32_t)(pk[b + 1] >> 4) | (uint32_t)pk[b + 2] << 4
                                 : (uint32_t)pk[b] | (uint32_t)(pk[b + 1] & 15) << 8;
            ref[i] = (uint16_t)(p << sh);
        }
        CHECK(poa_unpack12(pk, packed_len, out, n, sh) == 0, "unpack12 rc");
        CHECK(n == 0 || memcmp(out, ref, 2 * n) == 0, "unpack12 n=%zu sh=%u", n, sh);
        CHECK(poa_unpack12_fits_be(pk, packed_len, bout, n, sh) == 0, "unpack12_fits rc");
        int ok = 1;
        for (size_t i = 0; i < n; i++) {
            uint16_t f = (uint16_t)(ref[i] ^ 0x8000);
            ok &= bout[2 * i] == (f >> 8) && bout[2 * i + 1] == (f & 255);
        }
        CHECK(ok, "unpack12_fits n=%zu", n);
    }
    CHECK(poa_unpack12(pk, packed_len ? packed_len - 1 : 0, out, n, 0) == (n ? POA_EINVAL : 0),
          "short source accepted");
    unsigned sh = rnd() % 16;
    poa_shr16(v, out, n, sh);
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= out[i] == (uint16_t)(v[i] >> sh);
    CHECK(ok, "shr16 n=%zu", n);
    poa_bswap16(v, out, n);
    ok = 1;
    for (size_t i = 0; i < n; i++) ok &= out[i] == (uint16_t)((v[i] >> 8) | (v[i] << 8));
    CHECK(ok, "bswap16 n=%zu", n);
    poa_fits_be16(v, bout, n);
    ok = 1;
    for (size_t i = 0; i < n; i++) {
        uint16_t f = (uint16_t)(v[i] ^ 0x8000);
        ok &= bout[2 * i] == (f >> 8) && bout[2 * i + 1] == (f & 255);
    }
    CHECK(ok, "fits n=%zu", n);
    poa_u16_to_u8(v, bout, n, sh);
    ok = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t e = v[i] >> sh;
        ok &= bout[i] == (e > 255 ? 255 : e);
    }
    CHECK(ok, "u16_to_u8 n=%zu", n);
    free(pk);
    free(v);
    free(ref);
    free(outbase);
    free(bbase);
}

static void check_bin(uint32_t w, uint32_t h)
{
    size_t n = (size_t)w * h;
    uint16_t *a = xmalloc(2 * n);
    for (size_t i = 0; i < n; i++) a[i] = (uint16_t)(rnd() % 4 ? rnd() : 65535 - rnd() % 64);
    for (unsigned f = 1; f <= 4; f++) {
        for (int mode = 0; mode <= 1; mode++) {
            if (w < f || h < f) {
                uint16_t d;
                CHECK(poa_bin_u16(a, w, h, &d, f, mode) == POA_EINVAL, "small image accepted");
                continue;
            }
            uint32_t ow = w / f, oh = h / f;
            uint16_t *d = xmalloc(2 * (size_t)ow * oh);
            CHECK(poa_bin_u16(a, w, h, d, f, mode) == 0, "bin rc");
            int ok = 1;
            for (uint32_t y = 0; y < oh; y++)
                for (uint32_t x = 0; x < ow; x++) {
                    uint32_t s = 0;
                    for (unsigned j = 0; j < f; j++)
                        for (unsigned i = 0; i < f; i++) s += a[(size_t)(y * f + j) * w + x * f + i];
                    uint32_t e = mode ? (s + f * f / 2) / (f * f) : (s > 65535 ? 65535 : s);
                    ok &= d[(size_t)y * ow + x] == e;
                }
            CHECK(ok, "bin %ux%u f=%u mode=%d", w, h, f, mode);
            free(d);
            if (w >= 2 * f && h >= 2 * f) {
                uint32_t bw = 2 * (w / (2 * f)), bh = 2 * (h / (2 * f));
                uint16_t *bd = xmalloc(2 * (size_t)bw * bh);
                CHECK(poa_bin_bayer_u16(a, w, h, bd, f, mode) == 0, "bayer rc");
                free(bd);
                uint8_t *a8 = xmalloc(n), *d8 = xmalloc((size_t)(w / f) * (h / f)); /* mono output, the larger */
                for (size_t i = 0; i < n; i++) a8[i] = (uint8_t)a[i];
                CHECK(poa_bin_bayer_u8(a8, w, h, d8, f, mode) == 0, "bayer8 rc");
                CHECK(poa_bin_u8(a8, w, h, d8, f, mode) == 0, "bin8 rc");
                free(a8);
                free(d8);
            }
        }
    }
    free(a);
}

static void check_geom(uint32_t w, uint32_t h, uint32_t bpp)
{
    size_t n = (size_t)w * h * bpp;
    uint8_t *a = xmalloc(n), *b = xmalloc(n), *c = xmalloc(n);
    for (size_t i = 0; i < n; i++) a[i] = (uint8_t)rnd();
    for (int mode = 0; mode <= 3; mode++) {
        int off = poa_flip(a, b, w, h, bpp, mode);
        int expect_off = ((mode & 1) ? (int)((w - 1) & 1) : 0) | ((mode & 2) ? (int)((h - 1) & 1) << 1 : 0);
        CHECK(off == expect_off, "flip Bayer offset %d, expected %d", off, expect_off);
        memcpy(c, a, n);
        CHECK(poa_flip(c, c, w, h, bpp, mode) == off, "in-place flip rc");
        CHECK(memcmp(b, c, n) == 0, "in-place flip differs %ux%u bpp=%u mode=%d", w, h, bpp, mode);
        int ok = 1;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint32_t sx = (mode & 1) ? w - 1 - x : x, sy = (mode & 2) ? h - 1 - y : y;
                ok &= memcmp(b + ((size_t)y * w + x) * bpp, a + ((size_t)sy * w + sx) * bpp, bpp) == 0;
            }
        CHECK(ok, "flip %ux%u bpp=%u mode=%d", w, h, bpp, mode);
    }
    uint32_t x = rnd() % w, y = rnd() % h, cw = 1 + rnd() % (w - x), ch = 1 + rnd() % (h - y);
    uint8_t *d = xmalloc((size_t)cw * ch * bpp);
    CHECK(poa_crop(a, w, h, bpp, d, x, y, cw, ch) == (int)((x & 1) | (y & 1) << 1), "crop rc");
    int ok = 1;
    for (uint32_t r = 0; r < ch; r++)
        ok &= memcmp(d + (size_t)r * cw * bpp, a + ((size_t)(y + r) * w + x) * bpp, (size_t)cw * bpp) == 0;
    CHECK(ok, "crop");
    CHECK(poa_crop(a, w, h, bpp, d, x, y, w - x + 1, ch) == POA_EINVAL, "crop past edge accepted");
    free(d);
    free(a);
    free(b);
    free(c);
}

static void check_stats(size_t n)
{
    uint16_t *a = xmalloc(2 * n);
    uint32_t *hist = xmalloc(65536 * 4);
    uint32_t mn = 65535, mx = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        a[i] = (uint16_t)(rnd() % 1000);
        mn = a[i] < mn ? a[i] : mn;
        mx = a[i] > mx ? a[i] : mx;
        sum += a[i];
    }
    poa_stats_t s;
    CHECK(poa_stats_u16(a, n, hist, &s) == 0, "stats rc");
    CHECK(s.min == mn && s.max == mx && s.count == n, "stats min/max");
    CHECK(s.mean > sum / n - 1e-9 && s.mean < sum / n + 1e-9, "stats mean");
    free(a);
    free(hist);
}

int main(void)
{
    for (int simd = 1; simd >= 0; simd--) {
        poa_simd_set(simd);
        for (size_t n = 0; n < 140; n++) check_elementwise(n, n % 3);
        for (int k = 0; k < 40; k++) check_elementwise(rnd() % 5000, rnd() % 4);
        check_elementwise((2u << 20) + 17, 1); /* > 4 MiB output: streaming stores */
        check_elementwise((2u << 20) + 16, 0);
        check_elementwise((4u << 20) + 5, 3); /* 8-bit output above 4 MiB as well */
        for (uint32_t w = 1; w < 40; w += 3)
            for (uint32_t h = 1; h < 12; h += 2) check_bin(w, h);
        check_bin(1037, 9);
        check_bin(1500, 1402); /* 2x2 output above 4 MiB... of input; streaming bin path */
        for (uint32_t bpp = 1; bpp <= 4; bpp++)
            for (int k = 0; k < 20; k++) check_geom(1 + rnd() % 40, 1 + rnd() % 9, bpp);
        check_stats(1);
        check_stats(12345);
    }
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("kernels: all passed\n");
    return failures ? 1 : 0;
}
