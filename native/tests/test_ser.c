/* SER writer under the sanitizers: header fields at their documented offsets, frames,
 * trailer, FrameCount after every frame, refusal of a wrong size, failure on a full
 * device. argv[1] = output path. Exit 0 = all passed. */
#include "poa_core.h"
#include "poa_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static long file_size(const char *path, uint8_t *head, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t got = fread(head, 1, n, f);
    (void)got;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fclose(f);
    return sz;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/poa_test.ser";
    poa_ser_info_t info;
    memset(&info, 0, sizeof info);
    info.width = 5;
    info.height = 3;
    info.color_id = POA_SER_BAYER_RGGB;
    info.pixel_depth = 16;
    info.little_endian = 1;
    memcpy(info.observer, "obs", 3);
    info.date_time_utc = poa_ser_ticks_from_unix_ns(0);
    CHECK(info.date_time_utc == 621355968000000000LL, "epoch ticks");
    poa_ser_t *s;
    CHECK(poa_ser_open(&s, path, &info) == 0, "open");
    uint16_t frame[15];
    uint8_t head[POA_SER_HEADER_BYTES];
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 15; i++) frame[i] = (uint16_t)(k * 100 + i);
        CHECK(poa_ser_write_frame(s, (const uint8_t *)frame, sizeof frame, 1000 + k) == 0, "write");
        long sz = file_size(path, head, sizeof head);
        CHECK(sz == POA_SER_HEADER_BYTES + (k + 1) * 30, "size after frame");
        CHECK(le32(head + 38) == (uint32_t)(k + 1), "FrameCount kept current");
    }
    CHECK(poa_ser_write_frame(s, (const uint8_t *)frame, 29, 0) == POA_EINVAL, "wrong size accepted");
    CHECK(poa_ser_close(s) == 0, "close");
    long sz = file_size(path, head, sizeof head);
    CHECK(sz == POA_SER_HEADER_BYTES + 3 * 30 + 3 * 8, "size with trailer");
    CHECK(memcmp(head, "LUCAM-RECORDER", 14) == 0, "FileID");
    CHECK(le32(head + 18) == 8 && le32(head + 22) == 1 && le32(head + 26) == 5 && le32(head + 30) == 3 &&
              le32(head + 34) == 16 && le32(head + 38) == 3,
          "header fields");
    CHECK(memcmp(head + 42, "obs", 3) == 0, "observer");
    info.color_id = 7;
    CHECK(poa_ser_open(&s, path, &info) == POA_EINVAL, "bad colour id accepted");
    info.color_id = 0;
    CHECK(poa_ser_open(&s, "/dev/full", &info) == POA_EIO, "/dev/full accepted");
    remove(path);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("ser: all passed\n");
    return failures ? 1 : 0;
}
