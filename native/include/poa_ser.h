/* SER (LuCam Recorder, format description v3) writer for recordings.
 * File: 178-byte header, frames, then a trailer of FrameCount int64 UTC timestamps
 * (.NET ticks: 100 ns since 0001-01-01). All header integers little-endian.
 * FrameCount is patched after every frame, so a recording cut short (process killed,
 * disk full) still leaves a valid file without the optional trailer. */
#ifndef POA_SER_H
#define POA_SER_H
#include <stddef.h>
#include <stdint.h>

#define POA_SER_HEADER_BYTES 178
#define POA_SER_MONO 0
#define POA_SER_BAYER_RGGB 8
#define POA_SER_BAYER_GRBG 9
#define POA_SER_BAYER_GBRG 10
#define POA_SER_BAYER_BGGR 11
#define POA_SER_RGB 100
#define POA_SER_BGR 101

typedef struct {
    uint32_t width;
    uint32_t height;
    int32_t color_id;
    uint32_t pixel_depth;  /* true bits per plane, 1..16 (9..16 = 2 bytes per sample) */
    int32_t little_endian; /* the 16-bit data's byte order: 1 little-endian, 0 big */
    char observer[40];     /* copied as is: pad with NUL or spaces */
    char instrument[40];
    char telescope[40];
    int64_t date_time;     /* local time, .NET ticks */
    int64_t date_time_utc; /* UTC, .NET ticks */
} poa_ser_info_t;

typedef struct poa_ser poa_ser_t;

int poa_ser_open(poa_ser_t **out, const char *path, const poa_ser_info_t *info);
/* len must be poa_ser_frame_bytes(); on a failed write the file is cut back to the last
 * whole frame and POA_EIO returned. */
int poa_ser_write_frame(poa_ser_t *s, const uint8_t *data, size_t len, int64_t utc_ticks);
uint32_t poa_ser_frame_count(const poa_ser_t *s);
size_t poa_ser_frame_bytes(const poa_ser_t *s);
int poa_ser_last_errno(const poa_ser_t *s);
/* Write the trailer, patch FrameCount, close and free (always frees). */
int poa_ser_close(poa_ser_t *s);
int64_t poa_ser_ticks_from_unix_ns(int64_t unix_ns);

#endif
