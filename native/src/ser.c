/* SER (LuCam Recorder v3) writer. Written from the published format description:
 * 178-byte little-endian header, frames, optional trailer of int64 UTC timestamps. */
#include "poa_common.h"
#include "poa_internal.h"
#include "poa_ser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Recordings pass 2 GiB (17 frames of a Zeus 455): the build sets _FILE_OFFSET_BITS=64
 * (native/build_native.py), which 32-bit ARM needs. */
_Static_assert(sizeof(off_t) == 8, "SER files need a 64-bit off_t: build with -D_FILE_OFFSET_BITS=64");

#define OFF_FRAMECOUNT 38
#define TICKS_AT_UNIX_EPOCH 621355968000000000LL /* 0001-01-01 to 1970-01-01 in 100 ns */

struct poa_ser {
    int fd;
    uint32_t count;
    size_t frame_bytes;
    off_t end; /* offset after the last whole frame */
    int64_t *ts;
    size_t ts_cap;
    int ts_lost; /* a timestamp could not be stored: no trailer */
    int err;     /* errno of the first failure */
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno ? errno : EIO;
        }
        if (n == 0) return EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno ? errno : EIO;
        }
        if (n == 0) return EIO;
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

static int valid_color(int32_t c)
{
    return c == 0 || (c >= 8 && c <= 11) || (c >= 16 && c <= 19) || c == 100 || c == 101;
}

int64_t poa_ser_ticks_from_unix_ns(int64_t unix_ns)
{
    int64_t q = unix_ns / 100, r = unix_ns % 100;
    if (r < 0) q--; /* floor, for instants before 1970 */
    return TICKS_AT_UNIX_EPOCH + q;
}

int poa_ser_open(poa_ser_t **out, const char *path, const poa_ser_info_t *info)
{
    if (!out || !path || !info) return POA_EINVAL;
    *out = NULL;
    if (!info->width || !info->height || info->pixel_depth < 1 || info->pixel_depth > 16 ||
        !valid_color(info->color_id) || info->width > 0x7fffffffu || info->height > 0x7fffffffu)
        return POA_EINVAL;
    uint64_t planes = info->color_id >= 100 ? 3 : 1, bps = info->pixel_depth > 8 ? 2 : 1;
    uint64_t fb = (uint64_t)info->width * info->height * planes * bps;
    if (fb > SIZE_MAX / 2) return POA_EINVAL;

    uint8_t h[POA_SER_HEADER_BYTES];
    memset(h, 0, sizeof h);
    memcpy(h, "LUCAM-RECORDER", 14);
    poa__put_le32(h + 14, 0); /* LuID: unused */
    poa__put_le32(h + 18, (uint32_t)info->color_id);
    poa__put_le32(h + 22, info->little_endian ? 1u : 0u);
    poa__put_le32(h + 26, info->width);
    poa__put_le32(h + 30, info->height);
    poa__put_le32(h + 34, info->pixel_depth);
    poa__put_le32(h + OFF_FRAMECOUNT, 0);
    memcpy(h + 42, info->observer, 40);
    memcpy(h + 82, info->instrument, 40);
    memcpy(h + 122, info->telescope, 40);
    poa__put_le64(h + 162, (uint64_t)info->date_time);
    poa__put_le64(h + 170, (uint64_t)info->date_time_utc);

    struct poa_ser *s = calloc(1, sizeof *s);
    if (!s) return POA_ENOMEM;
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        int e = errno;
        free(s);
        errno = e;
        return POA_EIO;
    }
    s->frame_bytes = (size_t)fb;
    int e = write_all(s->fd, h, sizeof h);
    if (e) {
        close(s->fd);
        free(s);
        errno = e;
        return POA_EIO;
    }
    s->end = POA_SER_HEADER_BYTES;
    *out = s;
    return POA_OK;
}

int poa_ser_write_frame(poa_ser_t *s, const uint8_t *data, size_t len, int64_t utc_ticks)
{
    if (!s || !data || len != s->frame_bytes) return POA_EINVAL;
    if (s->count >= 0x7fffffffu) return POA_EINVAL;
    int e = write_all(s->fd, data, len);
    if (e) {
        /* Cut back to the last whole frame so the file stays valid. */
        if (ftruncate(s->fd, s->end) != 0 || lseek(s->fd, s->end, SEEK_SET) < 0) { /* keep e */ }
        if (!s->err) s->err = e;
        return POA_EIO;
    }
    s->end += (off_t)len;
    if (s->count == s->ts_cap && !s->ts_lost) {
        size_t cap = s->ts_cap ? 2 * s->ts_cap : 1024;
        int64_t *t = realloc(s->ts, cap * sizeof *t);
        if (t) {
            s->ts = t;
            s->ts_cap = cap;
        } else {
            s->ts_lost = 1;
        }
    }
    if (!s->ts_lost) s->ts[s->count] = utc_ticks;
    s->count++;
    /* FrameCount patched now, so a recording cut short is still a valid file. */
    uint8_t c[4];
    poa__put_le32(c, s->count);
    e = pwrite_all(s->fd, c, 4, OFF_FRAMECOUNT);
    if (e) {
        if (!s->err) s->err = e;
        return POA_EIO;
    }
    return POA_OK;
}

uint32_t poa_ser_frame_count(const poa_ser_t *s) { return s ? s->count : 0; }
size_t poa_ser_frame_bytes(const poa_ser_t *s) { return s ? s->frame_bytes : 0; }
int poa_ser_last_errno(const poa_ser_t *s) { return s ? s->err : 0; }

int poa_ser_close(poa_ser_t *s)
{
    if (!s) return POA_EINVAL;
    int e = 0;
    if (s->count && !s->ts_lost) {
        uint8_t buf[8 * 512];
        for (uint32_t i = 0; i < s->count && !e;) {
            uint32_t k = s->count - i < 512 ? s->count - i : 512;
            for (uint32_t j = 0; j < k; j++) poa__put_le64(buf + 8 * j, (uint64_t)s->ts[i + j]);
            e = write_all(s->fd, buf, 8 * (size_t)k);
            i += k;
        }
        if (e && ftruncate(s->fd, s->end) != 0) { /* the frames are still whole */ }
    }
    uint8_t c[4];
    poa__put_le32(c, s->count);
    int e2 = pwrite_all(s->fd, c, 4, OFF_FRAMECOUNT);
    if (!e) e = e2;
    if (close(s->fd) != 0 && !e) e = errno;
    free(s->ts);
    free(s);
    if (e) {
        errno = e;
        return POA_EIO;
    }
    return POA_OK;
}
