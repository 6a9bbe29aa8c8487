#define POA_WIRE_MAGIC 1178685264
#define POA_WIRE_END 1161908048
#define POA_WIRE_VERSION 1
#define POA_WIRE_HEADER_BYTES 40
#define POA_WIRE_TRAILER_BYTES 8
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
    uint64_t short_frames;
    uint64_t oversized;
    uint64_t out_of_order;
    uint64_t crc_errors;
    uint64_t resync_bytes;
    uint64_t bytes_in;
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
int poa_ring_push_chunk(poa_ring_t *r, const uint8_t *data, size_t len);
int poa_ring_mark_boundary(poa_ring_t *r);
int poa_ring_reset_stream(poa_ring_t *r);
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
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t pixfmt;
    uint32_t frames;
    uint32_t chunk_bytes;
    int chunk_jitter;
    uint32_t first_seq;
    uint32_t interval_us;
    const uint8_t *payload;
    uint32_t corrupt_every;
    uint32_t short_every;
    uint32_t oversize_every;
    uint32_t reorder_every;
    uint32_t garbage_every;
    int mark_boundaries;
    uint64_t seed;
} poa_gen_params_t;
typedef struct {
    uint64_t frames_sent;
    uint64_t good;
    uint64_t corrupt;
    uint64_t short_frames;
    uint64_t oversized;
    uint64_t out_of_order;
    uint64_t garbage_bytes;
    uint64_t bytes_sent;
    int end_reason;
} poa_gen_stats_t;
typedef struct poa_gen poa_gen_t;
int poa_gen_start(poa_gen_t **out, poa_ring_t *r, const poa_gen_params_t *p);
void poa_gen_stop(poa_gen_t *g);
int poa_gen_join(poa_gen_t *g, poa_gen_stats_t *out);
void poa_gen_pattern(uint8_t *dst, size_t len, uint32_t seq);
uint64_t poa_gen_check(const uint8_t *data, size_t len, uint32_t seq);
