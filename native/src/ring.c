/* Frame ring: pre-allocated slots, a chunk assembler for the wire format, and the
 * consumer side. See poa_ring.h for the format and the threading contract.
 *
 * Locking: one mutex guards slot states, the queues, the counters and the last seq.
 * The assembler's own state (header bytes, position, CRC) belongs to the single
 * producer and is touched without the lock; payload bytes are copied into a slot in
 * state WRITING without the lock, and published by the commit under the lock. */
#include "poa_common.h"
#include "poa_crc32c.h"
#include "poa_internal.h"
#include "poa_ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ST_HDR, ST_PAYLOAD, ST_TRAILER };
enum { SLOT_FREE, SLOT_WRITING, SLOT_READY, SLOT_HELD };
/* What happens to the payload of the frame being assembled. */
enum {
    SINK_STORE, /* into a slot */
    SINK_CHECK, /* no slot (drop-oldest, every slot held): CRC only, then counted dropped */
    SINK_SKIP   /* already counted as corrupt (oversized, out of order): just pass over it */
};

static const uint8_t MAGIC[4] = {'P', 'O', 'A', 'F'};

struct slot {
    uint8_t *data;
    poa_frame_t meta;
    int state;
};

struct poa_ring {
    pthread_mutex_t mu;
    pthread_cond_t cv_ready; /* consumers wait here (CLOCK_MONOTONIC timeouts) */
    pthread_cond_t cv_free;  /* the producer waits here in BLOCK mode */
    uint8_t *mem;
    size_t slot_bytes;
    uint32_t nslots;
    struct slot *slots;
    uint32_t *ready_q; /* circular FIFO of slot indices, capacity nslots */
    uint32_t rq_head, rq_count;
    uint32_t *free_stack;
    uint32_t nfree, held;
    int mode, closed;
    int have_seq;
    uint32_t last_seq;
    poa_ring_counters_t c;

    /* assembler, producer thread only */
    int st, sink;
    uint8_t hb[POA_WIRE_HEADER_BYTES];
    size_t hlen;
    uint8_t tb[POA_WIRE_TRAILER_BYTES];
    size_t tlen;
    uint64_t remaining;
    uint32_t crc;
    uint32_t cur_slot;
    uint8_t *wp;
    poa_frame_t cur;
    /* begin/commit path */
    int64_t direct_slot;
};

uint64_t poa_pixfmt_bytes(uint32_t pixfmt, uint32_t width, uint32_t height)
{
    uint64_t px = (uint64_t)width * height;
    switch (pixfmt) {
    case POA_PIX_RAW8:
    case POA_PIX_MONO8:
        return px;
    case POA_PIX_RAW16:
        return 2 * px;
    case POA_PIX_RGB24:
        return 3 * px;
    case POA_PIX_RAW12P:
        return (3 * px + 1) / 2;
    default:
        return 0;
    }
}

/* ---- slot bookkeeping (lock held) --------------------------------------------------- */

static void free_slot_locked(poa_ring_t *r, uint32_t s)
{
    r->slots[s].state = SLOT_FREE;
    r->free_stack[r->nfree++] = s;
    pthread_cond_signal(&r->cv_free);
}

static uint32_t pop_ready_locked(poa_ring_t *r)
{
    uint32_t s = r->ready_q[r->rq_head];
    r->rq_head = (r->rq_head + 1) % r->nslots;
    r->rq_count--;
    return s;
}

/* A slot for the next frame: a free one; in drop-oldest mode the oldest ready one
 * (counted dropped); else wait (BLOCK). POA_EAGAIN: drop-oldest and nothing to take. */
static int take_slot_locked(poa_ring_t *r, uint32_t *out)
{
    for (;;) {
        if (r->closed) return POA_ECLOSED;
        if (r->nfree) {
            *out = r->free_stack[--r->nfree];
            r->slots[*out].state = SLOT_WRITING;
            return POA_OK;
        }
        if (r->mode == POA_RING_DROP_OLDEST) {
            if (!r->rq_count) return POA_EAGAIN;
            *out = pop_ready_locked(r);
            r->slots[*out].state = SLOT_WRITING;
            r->c.dropped++;
            return POA_OK;
        }
        pthread_cond_wait(&r->cv_free, &r->mu);
    }
}

static void commit_locked(poa_ring_t *r, uint32_t s, const poa_frame_t *m)
{
    struct slot *sl = &r->slots[s];
    sl->meta = *m;
    sl->meta.data = sl->data;
    sl->meta.slot = s;
    sl->state = SLOT_READY;
    r->ready_q[(r->rq_head + r->rq_count) % r->nslots] = s;
    r->rq_count++;
    r->c.received++;
    r->have_seq = 1;
    r->last_seq = m->seq;
    pthread_cond_signal(&r->cv_ready);
}

static int seq_is_new_locked(const poa_ring_t *r, uint32_t seq)
{
    return !r->have_seq || (int32_t)(seq - r->last_seq) > 0;
}

/* ---- create / destroy ------------------------------------------------------------- */

int poa_ring_create(poa_ring_t **out, size_t slot_bytes, size_t limit_bytes, uint32_t max_slots,
                    int mode, unsigned flags)
{
    if (!out) return POA_EINVAL;
    *out = NULL;
    if (slot_bytes == 0 || slot_bytes > SIZE_MAX - 63) return POA_EINVAL;
    if (mode != POA_RING_BLOCK && mode != POA_RING_DROP_OLDEST) return POA_EINVAL;
    slot_bytes = (slot_bytes + 63) & ~(size_t)63;
    if (limit_bytes == 0) limit_bytes = POA_RING_DEFAULT_LIMIT;
    size_t n = limit_bytes / slot_bytes;
    if (max_slots && n > max_slots) n = max_slots;
    if (n > (1u << 20)) n = 1u << 20;
    if (n < 2) return POA_EINVAL;

    poa_ring_t *r = calloc(1, sizeof *r);
    if (!r) return POA_ENOMEM;
    r->slot_bytes = slot_bytes;
    r->nslots = (uint32_t)n;
    r->mode = mode;
    r->direct_slot = -1;
    r->sink = SINK_SKIP;
    void *mem = NULL;
    if (posix_memalign(&mem, 4096, n * slot_bytes) != 0) mem = NULL;
    r->mem = mem;
    r->slots = calloc(n, sizeof *r->slots);
    r->ready_q = calloc(n, sizeof *r->ready_q);
    r->free_stack = calloc(n, sizeof *r->free_stack);
    if (!r->mem || !r->slots || !r->ready_q || !r->free_stack) {
        free(r->mem);
        free(r->slots);
        free(r->ready_q);
        free(r->free_stack);
        free(r);
        return POA_ENOMEM;
    }
    if (flags & POA_RING_PREFAULT)
        for (size_t off = 0; off < n * slot_bytes; off += 4096) r->mem[off] = 0;
    for (uint32_t i = 0; i < n; i++) {
        r->slots[i].data = r->mem + (size_t)i * slot_bytes;
        r->slots[i].state = SLOT_FREE;
        /* Stack order so that slot 0 is taken first. */
        r->free_stack[i] = (uint32_t)(n - 1 - i);
    }
    r->nfree = (uint32_t)n;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv_ready, &ca);
    pthread_cond_init(&r->cv_free, NULL);
    pthread_condattr_destroy(&ca);
    *out = r;
    return POA_OK;
}

void poa_ring_destroy(poa_ring_t *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv_ready);
    pthread_cond_destroy(&r->cv_free);
    free(r->mem);
    free(r->slots);
    free(r->ready_q);
    free(r->free_stack);
    free(r);
}

size_t poa_ring_slot_bytes(const poa_ring_t *r) { return r ? r->slot_bytes : 0; }
uint32_t poa_ring_nslots(const poa_ring_t *r) { return r ? r->nslots : 0; }

int poa_ring_set_mode(poa_ring_t *r, int mode)
{
    if (!r || (mode != POA_RING_BLOCK && mode != POA_RING_DROP_OLDEST)) return POA_EINVAL;
    pthread_mutex_lock(&r->mu);
    r->mode = mode;
    pthread_cond_broadcast(&r->cv_free); /* a blocked producer re-checks under the new mode */
    pthread_mutex_unlock(&r->mu);
    return POA_OK;
}

/* ---- the chunk assembler ------------------------------------------------------------ */

struct local {
    uint64_t resync;
};

static int feed(poa_ring_t *r, const uint8_t *p, size_t len, struct local *L);

/* Bytes that were buffered for a header or trailer and turned out not to be one may
 * hold the start of the next frame: run them through the assembler again. */
static int refeed(poa_ring_t *r, const uint8_t *bytes, size_t n, struct local *L)
{
    uint8_t tmp[POA_WIRE_HEADER_BYTES];
    memcpy(tmp, bytes, n);
    return feed(r, tmp, n, L);
}

/* A consistent header arrived: decide where its payload goes. */
static int start_frame(poa_ring_t *r)
{
    const uint8_t *h = r->hb;
    poa_frame_t *m = &r->cur;
    memset(m, 0, sizeof *m);
    m->seq = poa__le32(h + 8);
    m->width = poa__le32(h + 12);
    m->height = poa__le32(h + 16);
    m->pixfmt = poa__le32(h + 20);
    m->payload_len = poa__le64(h + 24);
    m->timestamp_ns = poa__le64(h + 32);

    int rc = POA_OK;
    pthread_mutex_lock(&r->mu);
    if (m->payload_len > r->slot_bytes) {
        r->c.oversized++;
        r->c.corrupt++;
        r->sink = SINK_SKIP;
    } else if (!seq_is_new_locked(r, m->seq)) {
        r->c.out_of_order++;
        r->c.corrupt++;
        r->sink = SINK_SKIP;
    } else {
        rc = take_slot_locked(r, &r->cur_slot);
        if (rc == POA_OK) {
            r->sink = SINK_STORE;
            r->wp = r->slots[r->cur_slot].data;
        } else if (rc == POA_EAGAIN) {
            r->sink = SINK_CHECK;
            rc = POA_OK;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (rc) return rc;
    r->crc = poa_crc32c(0, h, POA_WIRE_HEADER_BYTES);
    r->remaining = m->payload_len;
    r->st = ST_PAYLOAD;
    return POA_OK;
}

static int header_consistent(const uint8_t *h)
{
    if (poa__le16(h + 4) != POA_WIRE_VERSION || poa__le16(h + 6) != POA_WIRE_HEADER_BYTES) return 0;
    uint32_t w = poa__le32(h + 12), hh = poa__le32(h + 16), fmt = poa__le32(h + 20);
    uint64_t len = poa__le64(h + 24);
    if (w == 0 || hh == 0) return 0;
    uint64_t expect = poa_pixfmt_bytes(fmt, w, hh);
    return expect != 0 && expect == len;
}

/* The frame being assembled is lost before its trailer was checked. */
static void abandon_frame(poa_ring_t *r, int count_as_short)
{
    pthread_mutex_lock(&r->mu);
    if (r->sink == SINK_STORE) free_slot_locked(r, r->cur_slot);
    if (count_as_short && r->sink != SINK_SKIP) {
        r->c.short_frames++;
        r->c.corrupt++;
    }
    pthread_mutex_unlock(&r->mu);
    r->sink = SINK_SKIP;
    r->st = ST_HDR;
    r->hlen = 0;
}

static void finish_frame(poa_ring_t *r, int magic_ok, int crc_ok)
{
    pthread_mutex_lock(&r->mu);
    if (r->sink == SINK_SKIP) {
        /* counted when the header was read */
    } else if (magic_ok && crc_ok) {
        if (r->sink == SINK_STORE) {
            commit_locked(r, r->cur_slot, &r->cur);
        } else { /* whole and valid, but there was nowhere to put it */
            r->c.received++;
            r->c.dropped++;
            r->have_seq = 1;
            r->last_seq = r->cur.seq;
        }
    } else {
        if (r->sink == SINK_STORE) free_slot_locked(r, r->cur_slot);
        if (!magic_ok) r->c.short_frames++;
        else r->c.crc_errors++;
        r->c.corrupt++;
    }
    pthread_mutex_unlock(&r->mu);
    r->sink = SINK_SKIP;
    r->st = ST_HDR;
    r->hlen = 0;
}

/* Copy into the slot and extend the CRC in L1-sized blocks, so the copy reads bytes the
 * CRC has just brought into cache. */
static uint32_t copy_crc(uint8_t *dst, const uint8_t *src, size_t n, uint32_t crc)
{
    while (n) {
        size_t k = n < 32768 ? n : 32768;
        crc = poa_crc32c(crc, src, k);
        memcpy(dst, src, k);
        dst += k;
        src += k;
        n -= k;
    }
    return crc;
}

static int feed(poa_ring_t *r, const uint8_t *p, size_t len, struct local *L)
{
    while (len) {
        if (r->st == ST_HDR) {
            if (r->hlen < 4) {
                /* Matching the magic. "POAF" has no proper prefix that is also a suffix,
                 * so on a mismatch no byte already matched can start another magic. */
                if (p[0] == MAGIC[r->hlen]) {
                    r->hb[r->hlen++] = p[0];
                    p++;
                    len--;
                    continue;
                }
                if (r->hlen) {
                    L->resync += r->hlen;
                    r->hlen = 0;
                    continue;
                }
                const uint8_t *m = memchr(p, MAGIC[0], len);
                size_t skip = m ? (size_t)(m - p) : len;
                L->resync += skip;
                p += skip;
                len -= skip;
                continue;
            }
            size_t k = POA_WIRE_HEADER_BYTES - r->hlen;
            if (k > len) k = len;
            memcpy(r->hb + r->hlen, p, k);
            r->hlen += k;
            p += k;
            len -= k;
            if (r->hlen < POA_WIRE_HEADER_BYTES) continue;
            if (!header_consistent(r->hb)) {
                pthread_mutex_lock(&r->mu);
                r->c.bad_header++;
                r->c.corrupt++;
                pthread_mutex_unlock(&r->mu);
                r->hlen = 0;
                int rc = refeed(r, r->hb + 4, POA_WIRE_HEADER_BYTES - 4, L);
                if (rc) return rc;
                continue;
            }
            int rc = start_frame(r);
            if (rc) {
                r->st = ST_HDR;
                r->hlen = 0;
                return rc;
            }
        } else if (r->st == ST_PAYLOAD) {
            size_t k = r->remaining < len ? (size_t)r->remaining : len;
            if (r->sink == SINK_STORE) {
                r->crc = copy_crc(r->wp, p, k, r->crc);
                r->wp += k;
            } else if (r->sink == SINK_CHECK) {
                r->crc = poa_crc32c(r->crc, p, k);
            }
            p += k;
            len -= k;
            r->remaining -= k;
            if (r->remaining == 0) {
                r->st = ST_TRAILER;
                r->tlen = 0;
            }
        } else {
            size_t k = POA_WIRE_TRAILER_BYTES - r->tlen;
            if (k > len) k = len;
            memcpy(r->tb + r->tlen, p, k);
            r->tlen += k;
            p += k;
            len -= k;
            if (r->tlen < POA_WIRE_TRAILER_BYTES) continue;
            int magic_ok = poa__le32(r->tb) == POA_WIRE_END;
            int crc_ok = poa__le32(r->tb + 4) == r->crc;
            finish_frame(r, magic_ok, crc_ok);
            if (!magic_ok) {
                /* Out of step with the stream (a short frame): what we took for the
                 * trailer may be the next header's first bytes. */
                int rc = refeed(r, r->tb, POA_WIRE_TRAILER_BYTES, L);
                if (rc) return rc;
            }
        }
    }
    return POA_OK;
}

int poa_ring_push_chunk(poa_ring_t *r, const uint8_t *data, size_t len)
{
    if (!r || (!data && len)) return POA_EINVAL;
    pthread_mutex_lock(&r->mu);
    int closed = r->closed;
    r->c.bytes_in += len;
    pthread_mutex_unlock(&r->mu);
    if (closed) return POA_ECLOSED;
    struct local L = {0};
    int rc = feed(r, data, len, &L);
    if (rc == POA_ECLOSED) abandon_frame(r, 0);
    if (L.resync) {
        pthread_mutex_lock(&r->mu);
        r->c.resync_bytes += L.resync;
        pthread_mutex_unlock(&r->mu);
    }
    return rc;
}

int poa_ring_mark_boundary(poa_ring_t *r)
{
    if (!r) return POA_EINVAL;
    if (r->st == ST_HDR) {
        pthread_mutex_lock(&r->mu);
        if (r->hlen >= 4) { /* a header cut short */
            r->c.short_frames++;
            r->c.corrupt++;
        } else {
            r->c.resync_bytes += r->hlen;
        }
        pthread_mutex_unlock(&r->mu);
        r->hlen = 0;
        return POA_OK;
    }
    abandon_frame(r, 1);
    return POA_OK;
}

int poa_ring_reset_stream(poa_ring_t *r) { return poa_ring_mark_boundary(r); }

/* ---- whole frames from the producer (zero copy) ------------------------------------ */

int poa_ring_begin_frame(poa_ring_t *r, uint8_t **data, size_t *capacity)
{
    if (!r || !data || !capacity) return POA_EINVAL;
    pthread_mutex_lock(&r->mu);
    int rc = POA_ESTATE;
    if (r->direct_slot < 0) {
        uint32_t s;
        rc = take_slot_locked(r, &s);
        if (rc == POA_OK) {
            r->direct_slot = s;
            *data = r->slots[s].data;
            *capacity = r->slot_bytes;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int poa_ring_commit_frame(poa_ring_t *r, uint32_t seq, uint32_t width, uint32_t height,
                          uint32_t pixfmt, uint64_t payload_len, uint64_t timestamp_ns)
{
    if (!r) return POA_EINVAL;
    pthread_mutex_lock(&r->mu);
    if (r->direct_slot < 0) {
        pthread_mutex_unlock(&r->mu);
        return POA_ESTATE;
    }
    uint32_t s = (uint32_t)r->direct_slot;
    r->direct_slot = -1;
    uint64_t expect = poa_pixfmt_bytes(pixfmt, width, height);
    int rc = POA_OK;
    if (payload_len > r->slot_bytes) {
        r->c.oversized++;
        rc = POA_EFRAME;
    } else if (expect == 0 || expect != payload_len) {
        r->c.bad_header++;
        rc = POA_EFRAME;
    } else if (!seq_is_new_locked(r, seq)) {
        r->c.out_of_order++;
        rc = POA_EFRAME;
    }
    if (rc) {
        r->c.corrupt++;
        free_slot_locked(r, s);
    } else {
        poa_frame_t m = {0};
        m.seq = seq;
        m.width = width;
        m.height = height;
        m.pixfmt = pixfmt;
        m.payload_len = payload_len;
        m.timestamp_ns = timestamp_ns;
        commit_locked(r, s, &m);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int poa_ring_cancel_frame(poa_ring_t *r)
{
    if (!r) return POA_EINVAL;
    pthread_mutex_lock(&r->mu);
    int rc = POA_ESTATE;
    if (r->direct_slot >= 0) {
        free_slot_locked(r, (uint32_t)r->direct_slot);
        r->direct_slot = -1;
        rc = POA_OK;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int poa_ring_push_frame(poa_ring_t *r, uint32_t seq, uint32_t width, uint32_t height,
                        uint32_t pixfmt, uint64_t timestamp_ns, const uint8_t *data, size_t len)
{
    if (!r || (!data && len)) return POA_EINVAL;
    uint8_t *dst;
    size_t cap;
    int rc = poa_ring_begin_frame(r, &dst, &cap);
    if (rc) return rc;
    if (len > cap) {
        poa_ring_cancel_frame(r);
        pthread_mutex_lock(&r->mu);
        r->c.oversized++;
        r->c.corrupt++;
        pthread_mutex_unlock(&r->mu);
        return POA_EFRAME;
    }
    if (len) memcpy(dst, data, len);
    return poa_ring_commit_frame(r, seq, width, height, pixfmt, len, timestamp_ns);
}

/* ---- consumer side ---------------------------------------------------------------- */

int poa_ring_acquire(poa_ring_t *r, poa_frame_t *out, int timeout_ms)
{
    if (!r || !out) return POA_EINVAL;
    struct timespec deadline;
    if (timeout_ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&r->mu);
    int rc = POA_OK;
    while (r->rq_count == 0) {
        if (r->closed) {
            rc = POA_ECLOSED;
            break;
        }
        if (timeout_ms == 0) {
            rc = POA_ETIMEDOUT;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&r->cv_ready, &r->mu);
        } else if (pthread_cond_timedwait(&r->cv_ready, &r->mu, &deadline) == ETIMEDOUT) {
            if (r->rq_count == 0) rc = r->closed ? POA_ECLOSED : POA_ETIMEDOUT;
            break;
        }
    }
    if (rc == POA_OK) {
        uint32_t s = pop_ready_locked(r);
        r->slots[s].state = SLOT_HELD;
        r->held++;
        r->c.delivered++;
        *out = r->slots[s].meta;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int poa_ring_release(poa_ring_t *r, uint32_t slot)
{
    if (!r) return POA_EINVAL;
    pthread_mutex_lock(&r->mu);
    int rc = POA_EINVAL;
    if (slot < r->nslots && r->slots[slot].state == SLOT_HELD) {
        r->held--;
        free_slot_locked(r, slot);
        rc = POA_OK;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int poa_ring_flush(poa_ring_t *r)
{
    if (!r) return POA_EINVAL;
    pthread_mutex_lock(&r->mu);
    while (r->rq_count) {
        free_slot_locked(r, pop_ready_locked(r));
        r->c.dropped++;
    }
    r->have_seq = 0;
    pthread_cond_broadcast(&r->cv_free);
    pthread_mutex_unlock(&r->mu);
    return POA_OK;
}

void poa_ring_close(poa_ring_t *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->closed = 1;
    pthread_cond_broadcast(&r->cv_ready);
    pthread_cond_broadcast(&r->cv_free);
    pthread_mutex_unlock(&r->mu);
}

void poa_ring_counters(poa_ring_t *r, poa_ring_counters_t *out)
{
    if (!r || !out) return;
    pthread_mutex_lock(&r->mu);
    *out = r->c;
    out->ready = r->rq_count;
    out->held = r->held;
    out->free_slots = r->nfree;
    out->nslots = r->nslots;
    pthread_mutex_unlock(&r->mu);
}
