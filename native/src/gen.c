/* A producer thread in C: encodes frames in the ring's wire format and pushes them in
 * chunks, the way a USB transport delivers them, with optional fault injection. The
 * simulator's transport and the ring tests both use it. */
#include "poa_common.h"
#include "poa_crc32c.h"
#include "poa_internal.h"
#include "poa_ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K_GOOD, K_CORRUPT, K_SHORT, K_OVERSIZE, K_REORDER };

struct poa_gen {
    pthread_t th;
    poa_ring_t *r;
    poa_gen_params_t p;
    atomic_int stop;
    poa_gen_stats_t st;
    uint8_t *buf;
    size_t cap;
    uint32_t big_height; /* height of an oversized frame */
    uint64_t rng;
};

static uint64_t rnd(uint64_t *s)
{ /* xorshift64*: deterministic from the seed, good enough for sizes and garbage */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void poa_gen_pattern(uint8_t *dst, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) dst[i] = (uint8_t)(i * 7u + seq * 13u + (i >> 8));
}

uint64_t poa_gen_check(const uint8_t *data, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        if (data[i] != (uint8_t)(i * 7u + seq * 13u + (i >> 8))) return (uint64_t)i + 1;
    return 0;
}

static int kind_of(const poa_gen_params_t *p, uint64_t k)
{
    if (k == 0) return K_GOOD;
    if (p->corrupt_every && k % p->corrupt_every == 0) return K_CORRUPT;
    if (p->short_every && k % p->short_every == 0) return K_SHORT;
    if (p->oversize_every && k % p->oversize_every == 0) return K_OVERSIZE;
    if (p->reorder_every && k % p->reorder_every == 0) return K_REORDER;
    return K_GOOD;
}

static void sleep_us(uint32_t us)
{
    struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

static int push_all(struct poa_gen *g, const uint8_t *p, size_t len)
{
    while (len) {
        size_t k = g->p.chunk_bytes;
        if (g->p.chunk_jitter) k = 1 + (size_t)(rnd(&g->rng) % g->p.chunk_bytes);
        if (k > len) k = len;
        int rc = poa_ring_push_chunk(g->r, p, k);
        if (rc) return rc;
        g->st.bytes_sent += k;
        p += k;
        len -= k;
    }
    return POA_OK;
}

static void *run(void *arg)
{
    struct poa_gen *g = arg;
    const poa_gen_params_t *p = &g->p;
    uint64_t normal = poa_pixfmt_bytes(p->pixfmt, p->width, p->height);
    for (uint64_t k = 0; p->frames == 0 || k < p->frames; k++) {
        if (atomic_load(&g->stop)) break;
        int kind = kind_of(p, k);
        uint32_t seq = p->first_seq + (uint32_t)k;
        uint32_t h = p->height;
        if (kind == K_REORDER) seq = p->first_seq; /* older than anything accepted */
        if (kind == K_OVERSIZE) h = g->big_height;
        uint64_t len = poa_pixfmt_bytes(p->pixfmt, p->width, h);
        size_t pos = 0;
        if (p->garbage_every && k && k % p->garbage_every == 0) {
            size_t n = 1 + (size_t)(rnd(&g->rng) % 64);
            for (size_t i = 0; i < n; i++) {
                uint8_t b = (uint8_t)rnd(&g->rng);
                g->buf[pos++] = b == 'P' ? (uint8_t)'Q' : b;
            }
            g->st.garbage_bytes += n;
        }
        uint8_t *hdr = g->buf + pos, *pay = hdr + POA_WIRE_HEADER_BYTES;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        poa__put_le32(hdr, POA_WIRE_MAGIC);
        poa__put_le16(hdr + 4, POA_WIRE_VERSION);
        poa__put_le16(hdr + 6, POA_WIRE_HEADER_BYTES);
        poa__put_le32(hdr + 8, seq);
        poa__put_le32(hdr + 12, p->width);
        poa__put_le32(hdr + 16, h);
        poa__put_le32(hdr + 20, p->pixfmt);
        poa__put_le64(hdr + 24, len);
        poa__put_le64(hdr + 32, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
        if (p->payload && len == normal) memcpy(pay, p->payload, (size_t)len);
        else poa_gen_pattern(pay, (size_t)len, seq);
        uint32_t crc = poa_crc32c(poa_crc32c(0, hdr, POA_WIRE_HEADER_BYTES), pay, (size_t)len);
        size_t plen = (size_t)len;
        if (kind == K_CORRUPT) pay[len / 2] ^= 0x5a;
        if (kind == K_SHORT) plen -= 1 + (size_t)(rnd(&g->rng) % (len - 1 < 64 ? len - 1 : 64));
        uint8_t *trl = pay + plen;
        poa__put_le32(trl, POA_WIRE_END);
        poa__put_le32(trl + 4, crc);
        size_t total = (size_t)(trl + POA_WIRE_TRAILER_BYTES - g->buf);
        int rc = push_all(g, g->buf, total);
        if (rc == POA_OK && p->mark_boundaries) rc = poa_ring_mark_boundary(g->r);
        if (rc) {
            g->st.end_reason = rc;
            break;
        }
        g->st.frames_sent++;
        switch (kind) {
        case K_GOOD: g->st.good++; break;
        case K_CORRUPT: g->st.corrupt++; break;
        case K_SHORT: g->st.short_frames++; break;
        case K_OVERSIZE: g->st.oversized++; break;
        default: g->st.out_of_order++; break;
        }
        if (p->interval_us) sleep_us(p->interval_us);
    }
    return NULL;
}

int poa_gen_start(poa_gen_t **out, poa_ring_t *r, const poa_gen_params_t *p)
{
    if (!out || !r || !p) return POA_EINVAL;
    *out = NULL;
    uint64_t normal = poa_pixfmt_bytes(p->pixfmt, p->width, p->height);
    if (normal == 0 || normal > SIZE_MAX / 2 || p->chunk_bytes == 0) return POA_EINVAL;
    if (p->short_every && normal < 2) return POA_EINVAL;
    struct poa_gen *g = calloc(1, sizeof *g);
    if (!g) return POA_ENOMEM;
    g->r = r;
    g->p = *p;
    g->rng = p->seed ? p->seed : 0x9E3779B97F4A7C15ULL;
    uint64_t maxlen = normal;
    if (p->oversize_every) {
        /* The smallest height whose frame no longer fits a slot. */
        uint64_t row = poa_pixfmt_bytes(p->pixfmt, p->width, 1);
        uint32_t hb = (uint32_t)(poa_ring_slot_bytes(r) / (row ? row : 1) + 1);
        while (poa_pixfmt_bytes(p->pixfmt, p->width, hb) <= poa_ring_slot_bytes(r)) hb++;
        g->big_height = hb;
        uint64_t big = poa_pixfmt_bytes(p->pixfmt, p->width, hb);
        if (big > maxlen) maxlen = big;
    }
    g->cap = (size_t)maxlen + 64 + POA_WIRE_HEADER_BYTES + POA_WIRE_TRAILER_BYTES;
    g->buf = malloc(g->cap);
    if (!g->buf) {
        free(g);
        return POA_ENOMEM;
    }
    atomic_init(&g->stop, 0);
    if (pthread_create(&g->th, NULL, run, g) != 0) {
        free(g->buf);
        free(g);
        return POA_ENOMEM;
    }
    *out = g;
    return POA_OK;
}

void poa_gen_stop(poa_gen_t *g)
{
    if (g) atomic_store(&g->stop, 1);
}

int poa_gen_join(poa_gen_t *g, poa_gen_stats_t *out)
{
    if (!g) return POA_EINVAL;
    pthread_join(g->th, NULL);
    if (out) *out = g->st;
    free(g->buf);
    free(g);
    return POA_OK;
}
