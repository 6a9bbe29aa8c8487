/* Frame ring: N pre-allocated slots between one producer (a transport thread in C, the
 * simulator, later the vendor SDK's readout thread) and the driver (consumer).
 *
 * Wire format a producer pushes with poa_ring_push_chunk (every field little-endian):
 *   header, POA_WIRE_HEADER_BYTES = 40:
 *     u32 magic = POA_WIRE_MAGIC ("POAF"), u16 version = 1, u16 header size = 40,
 *     u32 seq, u32 width, u32 height, u32 pixfmt, u64 payload_len, u64 timestamp_ns
 *   payload, payload_len bytes (must equal width*height*bytes-per-pixel of pixfmt)
 *   trailer, POA_WIRE_TRAILER_BYTES = 8: u32 magic = POA_WIRE_END ("POAE"),
 *     u32 CRC32C of header and payload.
 * Chunks may split the stream anywhere. A frame is delivered only if its header is
 * consistent, it fits a slot, its seq is newer than the last accepted one and its
 * trailer and CRC match; anything else is discarded and counted. After a bad header or
 * trailer the assembler scans for the next magic.
 *
 * Threads: one producer at a time (push_chunk / mark_boundary / begin/commit_frame /
 * reset_stream); any number of consumers (acquire/release/counters/flush/close).
 * The producer copies into a slot without holding the lock. */
#ifndef POA_RING_H
#define POA_RING_H

#include <stddef.h>
#include <stdint.h>

#define POA_WIRE_MAGIC 0x46414F50u /* bytes "POAF" */
#define POA_WIRE_END 0x45414F50u   /* bytes "POAE" */
#define POA_WIRE_VERSION 1
#define POA_WIRE_HEADER_BYTES 40
#define POA_WIRE_TRAILER_BYTES 8

/* Pixel formats; the first four are the vendor SDK's POAImgFormat numbers. */
#define POA_PIX_RAW8 0
#define POA_PIX_RAW16 1   /* little-endian on the wire */
#define POA_PIX_RGB24 2
#define POA_PIX_MONO8 3
#define POA_PIX_RAW12P 16 /* 12-bit packed, see poa_unpack12 */

/* What to do when every slot is in use. */
#define POA_RING_BLOCK 0       /* the producer waits for the consumer (single exposures) */
#define POA_RING_DROP_OLDEST 1 /* the oldest undelivered frame is dropped (streaming) */

#define POA_RING_PREFAULT 1u /* touch every page at create time */

#define POA_RING_DEFAULT_LIMIT ((size_t)512 << 20)

typedef struct poa_ring poa_ring_t;

typedef struct {
    uint64_t received;     /* whole, valid frames taken off the transport */
    uint64_t delivered;    /* frames handed to the consumer */
    uint64_t dropped;      /* valid frames lost to a full ring (drop-oldest or no slot) */
    uint64_t corrupt;      /* frames discarded: sum of the five counters below */
    uint64_t bad_header;   /* magic found, header inconsistent */
    uint64_t short_frames; /* ended early: boundary mid-frame, or trailer magic missing */
    uint64_t oversized;    /* consistent header but larger than a slot */
    uint64_t out_of_order; /* seq not newer than the last accepted frame */
    uint64_t crc_errors;   /* trailer present, CRC32C mismatch */
    uint64_t resync_bytes; /* bytes skipped while looking for a header */
    uint64_t bytes_in;     /* bytes pushed */
    uint32_t ready;        /* frames waiting for the consumer now */
    uint32_t held;         /* frames acquired and not yet released */
    uint32_t free_slots;
    uint32_t nslots;
} poa_ring_counters_t;
/* Invariant: received == delivered + dropped + ready (+1 while a frame is committed). */

typedef struct {
    const uint8_t *data; /* the slot: valid until poa_ring_release */
    uint64_t payload_len;
    uint64_t timestamp_ns;
    uint32_t seq;
    uint32_t width;
    uint32_t height;
    uint32_t pixfmt;
    uint32_t slot;
} poa_frame_t;

/* Bytes of one frame of that size and format, 0 for an unknown format or overflow. */
uint64_t poa_pixfmt_bytes(uint32_t pixfmt, uint32_t width, uint32_t height);

/* Create: slot_bytes is rounded up to 64; the slot count is limit_bytes / slot_bytes
 * (limit 0 = 512 MiB), capped at max_slots when that is non-zero; at least 2. */
int poa_ring_create(poa_ring_t **out, size_t slot_bytes, size_t limit_bytes,
                    uint32_t max_slots, int mode, unsigned flags);
void poa_ring_destroy(poa_ring_t *r); /* all threads using it must have stopped */
size_t poa_ring_slot_bytes(const poa_ring_t *r);
uint32_t poa_ring_nslots(const poa_ring_t *r);
int poa_ring_set_mode(poa_ring_t *r, int mode);

/* Producer side, chunked stream. Blocks (BLOCK mode) while every slot is in use. */
int poa_ring_push_chunk(poa_ring_t *r, const uint8_t *data, size_t len);
/* The transport knows a frame ended here (a USB short packet, the end of an SDK read):
 * an unfinished frame is discarded as short. */
int poa_ring_mark_boundary(poa_ring_t *r);
/* Forget a partly assembled frame (e.g. after a transport reset). */
int poa_ring_reset_stream(poa_ring_t *r);

/* Producer side, whole frames, zero copy: reserve a slot, fill it, commit it. */
int poa_ring_begin_frame(poa_ring_t *r, uint8_t **data, size_t *capacity);
int poa_ring_commit_frame(poa_ring_t *r, uint32_t seq, uint32_t width, uint32_t height,
                          uint32_t pixfmt, uint64_t payload_len, uint64_t timestamp_ns);
int poa_ring_cancel_frame(poa_ring_t *r);
/* begin + copy + commit. */
int poa_ring_push_frame(poa_ring_t *r, uint32_t seq, uint32_t width, uint32_t height,
                        uint32_t pixfmt, uint64_t timestamp_ns, const uint8_t *data, size_t len);

/* Consumer side. timeout_ms < 0 waits for ever, 0 polls. Frames come in arrival order. */
int poa_ring_acquire(poa_ring_t *r, poa_frame_t *out, int timeout_ms);
int poa_ring_release(poa_ring_t *r, uint32_t slot);
/* Drop every frame waiting (counted as dropped) and forget the last seq, so the next
 * frame is accepted whatever its number (a new exposure sequence). */
int poa_ring_flush(poa_ring_t *r);
/* Wake every waiter; producers get POA_ECLOSED; consumers drain what is ready, then get
 * POA_ECLOSED. */
void poa_ring_close(poa_ring_t *r);
void poa_ring_counters(poa_ring_t *r, poa_ring_counters_t *out);

/* A producer thread in C that encodes frames in the wire format and pushes them in
 * chunks: the simulator's transport, and the tests' fault injector. Frame k (from 0)
 * has seq first_seq + k. Faults are injected at frame k >= 1 when (k % every) == 0,
 * first match in this order: corrupt (one payload byte changed after the CRC),
 * short (payload cut by a few bytes), oversized (header and payload larger than a
 * slot), out_of_order (the seq of the previous good frame again). garbage_every puts
 * bytes that contain no 'P' before frame k. */
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t pixfmt;
    uint32_t frames;       /* 0: until poa_gen_stop */
    uint32_t chunk_bytes;  /* size of each push (the USB transfer size) */
    int chunk_jitter;      /* random chunk sizes in 1..chunk_bytes */
    uint32_t first_seq;
    uint32_t interval_us;  /* pause between frames */
    const uint8_t *payload; /* NULL: pattern poa_gen_pattern(seq); else copied into every
                               frame; must stay valid until poa_gen_join */
    uint32_t corrupt_every;
    uint32_t short_every;
    uint32_t oversize_every;
    uint32_t reorder_every;
    uint32_t garbage_every;
    int mark_boundaries;   /* poa_ring_mark_boundary after every frame */
    uint64_t seed;
} poa_gen_params_t;

typedef struct {
    uint64_t frames_sent; /* all frames, good and bad */
    uint64_t good;
    uint64_t corrupt;
    uint64_t short_frames;
    uint64_t oversized;
    uint64_t out_of_order;
    uint64_t garbage_bytes;
    uint64_t bytes_sent;
    int end_reason;       /* 0 all sent / stopped, else the push error (POA_ECLOSED) */
} poa_gen_stats_t;

typedef struct poa_gen poa_gen_t;

int poa_gen_start(poa_gen_t **out, poa_ring_t *r, const poa_gen_params_t *p);
void poa_gen_stop(poa_gen_t *g);
int poa_gen_join(poa_gen_t *g, poa_gen_stats_t *out); /* waits, then frees g */
/* The pattern payload: byte i of frame seq is (uint8_t)(i * 7 + seq * 13 + (i >> 8)).
 * poa_gen_check returns 0 if data matches, else 1 + the first wrong index. */
void poa_gen_pattern(uint8_t *dst, size_t len, uint32_t seq);
uint64_t poa_gen_check(const uint8_t *data, size_t len, uint32_t seq);

#endif
