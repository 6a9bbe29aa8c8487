#define POA_OK 0
#define POA_EINVAL -1
#define POA_ENOMEM -2
#define POA_ETIMEDOUT -3
#define POA_ECLOSED -4
#define POA_EIO -5
#define POA_EAGAIN -6
#define POA_EFRAME -7
#define POA_ESTATE -8
int poa_simd_available(void);
void poa_simd_set(int enabled);
int poa_simd_enabled(void);
void poa_copy(void *dst, const void *src, size_t n);
