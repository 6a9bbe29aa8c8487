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
    uint32_t pixel_depth;
    int32_t little_endian;
    char observer[40];
    char instrument[40];
    char telescope[40];
    int64_t date_time;
    int64_t date_time_utc;
} poa_ser_info_t;
typedef struct poa_ser poa_ser_t;
int poa_ser_open(poa_ser_t **out, const char *path, const poa_ser_info_t *info);
int poa_ser_write_frame(poa_ser_t *s, const uint8_t *data, size_t len, int64_t utc_ticks);
uint32_t poa_ser_frame_count(const poa_ser_t *s);
size_t poa_ser_frame_bytes(const poa_ser_t *s);
int poa_ser_last_errno(const poa_ser_t *s);
int poa_ser_close(poa_ser_t *s);
int64_t poa_ser_ticks_from_unix_ns(int64_t unix_ns);
