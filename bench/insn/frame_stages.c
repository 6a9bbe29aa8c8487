/* One stage of the C core's frame path on one full frame, for instruction counting
 * (bench/insn_per_frame.py): the program sets up the same buffers whatever the stage, then
 * runs the named stage once, so the count of a stage is the count of its run minus the
 * count of the run of "none".
 *
 *   frame_stages STAGE [WIDTH HEIGHT [SER_PATH]]     (default 9576 x 6388, a Zeus 455)
 *
 * Stages of the driver (native/src): "copy" (poa_ring_push_frame: a frame into a ring slot,
 * the copy the SDK's POAGetImageData makes), "fits" (poa_fits_be16: the 16-bit FITS data
 * of the frame sent to the client), "ser" (poa_ser_write_frame: one frame of a recording),
 * "stats" (poa_stats_u16: the offset tool's per-frame statistics). Kept in bench/kernels
 * without a caller in the driver: "bin2" (2x2 software binning, sum), "unpack12" (12-bit
 * packed to 16-bit). POA_SIMD=0 forces the plain-C paths (the only ones on ARM). */
#include "poa_common.h"
#include "poa_fits.h"
#include "poa_kernels.h"
#include "poa_ring.h"
#include "poa_ser.h"
#include "poa_stats.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, int code)
{
    fprintf(stderr, "frame_stages: %s failed (%d)\n", what, code);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: frame_stages none|copy|fits|ser|stats|bin2|unpack12 [W H [SER_PATH]]\n");
        return 2;
    }
    const char *stage = argv[1];
    uint32_t w = argc > 3 ? (uint32_t)strtoul(argv[2], NULL, 10) : 9576;
    uint32_t h = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 6388;
    const char *ser_path = argc > 4 ? argv[4] : "/dev/null";
    size_t n = (size_t)w * h;

    uint16_t *src = malloc(n * 2);
    uint8_t *dst = malloc(n * 2);
    uint8_t *packed = malloc(n * 3 / 2 + 2);
    if (!src || !dst || !packed) return fail("malloc", POA_ENOMEM);
    /* 16-bit pixels from a xorshift generator: the kernels have no data-dependent fast path
     * except stats' histogram, which sees realistic spread. */
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        src[i] = (uint16_t)x;
    }
    memset(dst, 1, n * 2);
    memset(packed, 0x5a, n * 3 / 2 + 2);

    poa_ring_t *ring = NULL;
    int r = poa_ring_create(&ring, n * 2, n * 2 * 2, 2, POA_RING_BLOCK, 0);
    if (r) return fail("poa_ring_create", r);
    poa_ser_info_t info = {.width = w, .height = h, .color_id = POA_SER_MONO, .pixel_depth = 16,
                           .little_endian = 1};
    poa_ser_t *ser = NULL;
    r = poa_ser_open(&ser, ser_path, &info);
    if (r) return fail("poa_ser_open", r);
    static uint32_t hist[65536];
    poa_stats_t st = {0};

    if (!strcmp(stage, "none")) {
    } else if (!strcmp(stage, "copy")) {
        r = poa_ring_push_frame(ring, 1, w, h, POA_PIX_RAW16, 1, (const uint8_t *)src, n * 2);
        if (r) return fail("poa_ring_push_frame", r);
    } else if (!strcmp(stage, "fits")) {
        poa_fits_be16(src, dst, n);
    } else if (!strcmp(stage, "ser")) {
        r = poa_ser_write_frame(ser, (const uint8_t *)src, n * 2, 1);
        if (r) return fail("poa_ser_write_frame", r);
    } else if (!strcmp(stage, "stats")) {
        r = poa_stats_u16(src, n, hist, &st);
        if (r) return fail("poa_stats_u16", r);
    } else if (!strcmp(stage, "bin2")) {
        r = poa_bin_u16(src, w, h, (uint16_t *)dst, 2, POA_BIN_SUM);
        if (r) return fail("poa_bin_u16", r);
    } else if (!strcmp(stage, "unpack12")) {
        r = poa_unpack12(packed, n * 3 / 2 + 1, (uint16_t *)dst, n, 4);
        if (r) return fail("poa_unpack12", r);
    } else {
        fprintf(stderr, "frame_stages: unknown stage %s\n", stage);
        return 2;
    }
    /* Something of the output reaches the exit code's neighbour, so nothing is optimised out. */
    printf("%s %ux%u simd=%d check=%u\n", stage, w, h, poa_simd_enabled() ? poa_simd_available() : 0,
           (unsigned)(dst[n] ^ dst[n / 3] ^ (uint8_t)st.count));
    poa_ser_close(ser);
    poa_ring_destroy(ring);
    free(src);
    free(dst);
    free(packed);
    return 0;
}
