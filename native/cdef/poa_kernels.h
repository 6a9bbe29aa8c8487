#define POA_BIN_SUM 0
#define POA_BIN_AVG 1
#define POA_FLIP_NONE 0
#define POA_FLIP_H 1
#define POA_FLIP_V 2
#define POA_FLIP_BOTH 3
int poa_unpack12(const uint8_t *src, size_t src_len, uint16_t *dst, size_t n, unsigned out_shift);
int poa_unpack12_fits_be(const uint8_t *src, size_t src_len, uint8_t *dst, size_t n, unsigned out_shift);
int poa_shr16(const uint16_t *src, uint16_t *dst, size_t n, unsigned shift);
int poa_bswap16(const uint16_t *src, uint16_t *dst, size_t n);
int poa_raw16le_to_u16(const uint8_t *src, uint16_t *dst, size_t n);
int poa_u8_to_u16(const uint8_t *src, uint16_t *dst, size_t n, unsigned shift);
int poa_u16_to_u8(const uint16_t *src, uint8_t *dst, size_t n, unsigned shift);
int poa_bin_u16(const uint16_t *src, uint32_t w, uint32_t h, uint16_t *dst, unsigned f, int mode);
int poa_bin_u8(const uint8_t *src, uint32_t w, uint32_t h, uint8_t *dst, unsigned f, int mode);
int poa_bin_bayer_u16(const uint16_t *src, uint32_t w, uint32_t h, uint16_t *dst, unsigned f, int mode);
int poa_bin_bayer_u8(const uint8_t *src, uint32_t w, uint32_t h, uint8_t *dst, unsigned f, int mode);
int poa_crop(const uint8_t *src, uint32_t src_w, uint32_t src_h, uint32_t bpp,
             uint8_t *dst, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
int poa_flip(const uint8_t *src, uint8_t *dst, uint32_t w, uint32_t h, uint32_t bpp, int mode);
typedef struct {
    uint64_t count;
    uint32_t min;
    uint32_t max;
    double mean;
    double stddev;
    double median;
} poa_stats_t;
int poa_stats_u16(const uint16_t *src, size_t n, uint32_t *hist, poa_stats_t *out);
int poa_stats_u8(const uint8_t *src, size_t n, uint32_t *hist, poa_stats_t *out);
