#define POA_PIX_RAW8 0
#define POA_PIX_RAW16 1
#define POA_PIX_RGB24 2
#define POA_PIX_MONO8 3
#define POA_PIX_RAW12P 16
#define POA_RING_BLOCK 0
#define POA_RING_DROP_OLDEST 1
#define POA_RING_PREFAULT 1
#define POA_RING_DEFAULT_LIMIT 536870912
typedef struct poa_ring poa_ring_t;
typedef struct {
    uint64_t received;
    uint64_t delivered;
    uint64_t dropped;
    uint64_t corrupt;
    uint64_t bad_header;
    uint64_t oversized;
    uint64_t out_of_order;
    uint32_t ready;
    uint32_t held;
    uint32_t free_slots;
    uint32_t nslots;
} poa_ring_counters_t;
typedef struct {
    const uint8_t *data;
    uint64_t payload_len;
    uint64_t timestamp_ns;
    uint32_t seq;
    uint32_t width;
    uint32_t height;
    uint32_t pixfmt;
    uint32_t slot;
} poa_frame_t;
uint64_t poa_pixfmt_bytes(uint32_t pixfmt, uint32_t width, uint32_t height);
int poa_ring_create(poa_ring_t **out, size_t slot_bytes, size_t limit_bytes,
                    uint32_t max_slots, int mode, unsigned flags);
void poa_ring_destroy(poa_ring_t *r);
size_t poa_ring_slot_bytes(const poa_ring_t *r);
uint32_t poa_ring_nslots(const poa_ring_t *r);
int poa_ring_set_mode(poa_ring_t *r, int mode);
int poa_ring_begin_frame(poa_ring_t *r, uint8_t **data, size_t *capacity);
int poa_ring_commit_frame(poa_ring_t *r, uint32_t seq, uint32_t width, uint32_t height,
                          uint32_t pixfmt, uint64_t payload_len, uint64_t timestamp_ns);
int poa_ring_cancel_frame(poa_ring_t *r);
int poa_ring_push_frame(poa_ring_t *r, uint32_t seq, uint32_t width, uint32_t height,
                        uint32_t pixfmt, uint64_t timestamp_ns, const uint8_t *data, size_t len);
int poa_ring_acquire(poa_ring_t *r, poa_frame_t *out, int timeout_ms);
int poa_ring_release(poa_ring_t *r, uint32_t slot);
int poa_ring_flush(poa_ring_t *r);
void poa_ring_close(poa_ring_t *r);
void poa_ring_counters(poa_ring_t *r, poa_ring_counters_t *out);
