/* Frame ring: N pre-allocated slots between one producer (the SDK reader thread of
 * sdk_reader.c, which calls POAGetImageData straight into a slot) and the driver (consumer).
 *
 * A producer reserves a slot (poa_ring_begin_frame), fills it and commits it with the
 * frame's metadata (poa_ring_commit_frame); a frame is delivered only if its size agrees
 * with its format, it fits a slot and its seq is newer than the last accepted one;
 * anything else is discarded and counted.
 *
 * Threads: one producer at a time (begin/commit/cancel/push_frame); any number of
 * consumers (acquire/release/counters/flush/close). The producer fills a slot without
 * holding the lock. */
#ifndef POA_RING_H
#define POA_RING_H

#include <stddef.h>
#include <stdint.h>

/* Pixel formats; the first four are the vendor SDK's POAImgFormat numbers. */
#define POA_PIX_RAW8 0
#define POA_PIX_RAW16 1   /* little-endian, as the SDK delivers it */
#define POA_PIX_RGB24 2
#define POA_PIX_MONO8 3
#define POA_PIX_RAW12P 16 /* 12-bit packed (GenICam Mono12p; bench/kernels unpacks it) */

/* What to do when every slot is in use. */
#define POA_RING_BLOCK 0       /* the producer waits for the consumer (single exposures) */
#define POA_RING_DROP_OLDEST 1 /* the oldest undelivered frame is dropped (streaming), never the
                                * last one */

#define POA_RING_PREFAULT 1u /* touch every page at create time */

#define POA_RING_DEFAULT_LIMIT ((size_t)512 << 20)

typedef struct poa_ring poa_ring_t;

typedef struct {
    uint64_t received;     /* whole, valid frames committed */
    uint64_t delivered;    /* frames handed to the consumer */
    uint64_t dropped;      /* valid frames lost to a full ring (drop-oldest) or a flush */
    uint64_t corrupt;      /* frames discarded: sum of the three counters below */
    uint64_t bad_header;   /* size does not agree with width, height and format */
    uint64_t oversized;    /* larger than a slot */
    uint64_t out_of_order; /* seq not newer than the last accepted frame */
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

#endif
