/* Frame ring: pre-allocated slots between one producer (the SDK reader thread of sdk_reader.c)
 * and the consumer side. See poa_ring.h for the threading contract.
 *
 * Locking: one mutex guards slot states, the queues, the counters and the last seq. The
 * producer fills a slot in state WRITING without the lock (poa_ring_begin_frame); the
 * commit publishes it under the lock. */
#include "poa_clock.h"
#include "poa_common.h"
#include "poa_internal.h"
#include "poa_ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SLOT_FREE, SLOT_WRITING, SLOT_READY, SLOT_HELD };

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
    int64_t direct_slot; /* the slot between begin_frame and commit/cancel, else -1 */
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
 * (counted dropped) while another ready one stays; else wait (BLOCK). POA_EAGAIN:
 * drop-oldest and nothing to take. The last ready frame is never taken: with every other
 * slot held by the consumer, recycling it would replace the one frame the consumer can get
 * before it gets it (measured: a video consumer holding 2 of 3 slots waited 10 s for a
 * third frame at 100 fps while the reader dropped every frame); the producer waits instead,
 * and the camera keeps the frames meanwhile. */
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
            if (r->rq_count < 2) return POA_EAGAIN;
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

    pthread_mutex_init(&r->mu, NULL);
    cond_init(&r->cv_ready);
    pthread_cond_init(&r->cv_free, NULL);
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

/* ---- producer side: whole frames, zero copy ----------------------------------------- */

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
    struct timespec deadline = ts_add_ms(cond_now(), timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&r->mu);
    int rc = POA_OK;
    while (r->rq_count == 0) {
        if (r->closed) {
            rc = POA_ECLOSED;
            break;
        }
        if (cond_wait_ms(&r->cv_ready, &r->mu, timeout_ms, &deadline) == POA_ETIMEDOUT) {
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
