/* Ring stress for the sanitizer and valgrind builds: the C generator thread produces
 * frames with injected faults (corrupt, short, oversized, out of order, garbage, random
 * chunk sizes) while consumer threads acquire, verify and release. Checks that no bad
 * frame is ever delivered and that the counters add up. argv[1] = frames per phase.
 * Exit 0 = all passed. */
#include "poa_core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                           \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

struct consumer {
    poa_ring_t *r;
    const poa_gen_params_t *p;
    unsigned delay_us;
    uint64_t got, bad;
    uint32_t last_seq;
    int have_last, out_of_order;
};

static int is_good(const poa_gen_params_t *p, uint32_t seq)
{
    uint32_t k = seq - p->first_seq;
    if (k == 0) return 1;
    if (p->frames && k >= p->frames) return 0;
    if (p->corrupt_every && k % p->corrupt_every == 0) return 0;
    if (p->short_every && k % p->short_every == 0) return 0;
    if (p->oversize_every && k % p->oversize_every == 0) return 0;
    if (p->reorder_every && k % p->reorder_every == 0) return 0;
    return 1;
}

static void *consume(void *arg)
{
    struct consumer *c = arg;
    poa_frame_t f;
    for (;;) {
        int rc = poa_ring_acquire(c->r, &f, 3000);
        if (rc == POA_ECLOSED || rc == POA_ETIMEDOUT) break;
        if (rc) {
            c->bad++;
            break;
        }
        uint64_t expect = poa_pixfmt_bytes(c->p->pixfmt, c->p->width, c->p->height);
        if (!is_good(c->p, f.seq) || f.payload_len != expect || poa_gen_check(f.data, f.payload_len, f.seq))
            c->bad++;
        if (c->have_last && (int32_t)(f.seq - c->last_seq) <= 0) c->out_of_order++;
        c->have_last = 1;
        c->last_seq = f.seq;
        c->got++;
        if (c->delay_us) {
            struct timespec ts = {0, (long)c->delay_us * 1000L};
            nanosleep(&ts, NULL);
        }
        poa_ring_release(c->r, f.slot);
    }
    return NULL;
}

static void wait_delivered(poa_ring_t *r, uint64_t n)
{
    poa_ring_counters_t c;
    for (int i = 0; i < 2000; i++) {
        poa_ring_counters(r, &c);
        if (c.delivered >= n && c.held == 0) return;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

static void phase(const char *name, int mode, poa_gen_params_t p, int nconsumers, unsigned delay_us)
{
    poa_ring_t *r;
    CHECK(poa_ring_create(&r, 4096, 3 * 4096, 0, mode, POA_RING_PREFAULT) == 0, "create");
    struct consumer cs[4];
    pthread_t th[4];
    for (int i = 0; i < nconsumers; i++) {
        memset(&cs[i], 0, sizeof cs[i]);
        cs[i].r = r;
        cs[i].p = &p;
        cs[i].delay_us = delay_us;
        pthread_create(&th[i], NULL, consume, &cs[i]);
    }
    poa_gen_t *g;
    poa_gen_stats_t gs;
    CHECK(poa_gen_start(&g, r, &p) == 0, "gen start");
    poa_gen_join(g, &gs);
    poa_ring_counters_t c;
    poa_ring_counters(r, &c);
    if (mode == POA_RING_BLOCK && p.mark_boundaries) wait_delivered(r, gs.good);
    poa_ring_close(r);
    uint64_t got = 0, bad = 0;
    int ooo = 0;
    for (int i = 0; i < nconsumers; i++) {
        pthread_join(th[i], NULL);
        got += cs[i].got;
        bad += cs[i].bad;
        ooo += cs[i].out_of_order;
    }
    poa_ring_counters(r, &c);
    CHECK(bad == 0, "%s: %llu bad frames delivered", name, (unsigned long long)bad);
    CHECK(ooo == 0, "%s: a consumer saw seqs go backwards", name);
    CHECK(gs.frames_sent == p.frames, "%s: sent %llu", name, (unsigned long long)gs.frames_sent);
    CHECK(c.delivered == got, "%s: delivered counter", name);
    CHECK(c.received == c.delivered + c.dropped + c.ready, "%s: received != delivered+dropped+ready", name);
    CHECK(c.corrupt == c.bad_header + c.short_frames + c.oversized + c.out_of_order + c.crc_errors,
          "%s: corrupt sum", name);
    CHECK(c.bytes_in == gs.bytes_sent, "%s: bytes", name);
    if (p.mark_boundaries) {
        CHECK(c.received == gs.good, "%s: received %llu good %llu", name, (unsigned long long)c.received,
              (unsigned long long)gs.good);
        CHECK(c.crc_errors == gs.corrupt && c.short_frames == gs.short_frames &&
                  c.oversized == gs.oversized && c.out_of_order == gs.out_of_order && c.bad_header == 0,
              "%s: fault counters", name);
        CHECK(c.resync_bytes == gs.garbage_bytes, "%s: resync bytes", name);
    } else {
        CHECK(c.received <= gs.good && c.received > 0, "%s: received", name);
    }
    if (mode == POA_RING_BLOCK && p.mark_boundaries) CHECK(c.dropped == 0, "%s: dropped in block mode", name);
    printf("%s: sent %llu good %llu | received %llu delivered %llu dropped %llu corrupt %llu\n", name,
           (unsigned long long)gs.frames_sent, (unsigned long long)gs.good, (unsigned long long)c.received,
           (unsigned long long)c.delivered, (unsigned long long)c.dropped, (unsigned long long)c.corrupt);
    poa_ring_destroy(r);
}

static void direct_path(void)
{
    poa_ring_t *r;
    CHECK(poa_ring_create(&r, 1000, 4000, 0, POA_RING_BLOCK, 0) == 0, "create");
    uint8_t *d;
    size_t cap;
    CHECK(poa_ring_begin_frame(r, &d, &cap) == 0 && cap == 1024, "begin");
    CHECK(poa_ring_begin_frame(r, &d, &cap) == POA_ESTATE, "double begin");
    poa_gen_pattern(d, 200, 5);
    CHECK(poa_ring_commit_frame(r, 5, 10, 10, POA_PIX_RAW16, 200, 1) == 0, "commit");
    CHECK(poa_ring_begin_frame(r, &d, &cap) == 0, "begin 2");
    CHECK(poa_ring_commit_frame(r, 5, 10, 10, POA_PIX_RAW16, 200, 1) == POA_EFRAME, "stale accepted");
    CHECK(poa_ring_begin_frame(r, &d, &cap) == 0 && poa_ring_cancel_frame(r) == 0, "cancel");
    CHECK(poa_ring_commit_frame(r, 6, 10, 10, POA_PIX_RAW16, 200, 1) == POA_ESTATE, "commit w/o begin");
    poa_frame_t f;
    CHECK(poa_ring_acquire(r, &f, 0) == 0 && f.seq == 5 && !poa_gen_check(f.data, 200, 5), "acquire");
    CHECK(poa_ring_release(r, f.slot) == 0 && poa_ring_release(r, f.slot) == POA_EINVAL, "release twice");
    CHECK(poa_ring_acquire(r, &f, 10) == POA_ETIMEDOUT, "timeout");
    poa_ring_counters_t c;
    poa_ring_counters(r, &c);
    CHECK(c.free_slots == c.nslots && c.received == 1 && c.out_of_order == 1, "direct counters");
    poa_ring_destroy(r);
}

static void *blocked_producer(void *arg)
{
    poa_ring_t *r = arg;
    uint8_t frame[40 + 4 + 8];
    int rc = 0;
    for (uint32_t seq = 0; seq < 10 && rc == 0; seq++) rc = poa_ring_push_frame(r, seq, 2, 2, POA_PIX_RAW8, 0, frame, 4);
    return (void *)(intptr_t)rc;
}

static void close_while_blocked(void)
{
    poa_ring_t *r;
    CHECK(poa_ring_create(&r, 64, 128, 0, POA_RING_BLOCK, 0) == 0, "create");
    pthread_t th;
    pthread_create(&th, NULL, blocked_producer, r);
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    poa_ring_close(r);
    void *ret;
    pthread_join(th, &ret);
    CHECK((intptr_t)ret == POA_ECLOSED, "blocked producer got %d", (int)(intptr_t)ret);
    poa_frame_t f;
    CHECK(poa_ring_acquire(r, &f, -1) == 0 && poa_ring_acquire(r, &f, -1) == 0, "drain after close");
    CHECK(poa_ring_acquire(r, &f, -1) == POA_ECLOSED, "closed and empty");
    poa_ring_destroy(r);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000;
    poa_gen_params_t p;
    memset(&p, 0, sizeof p);
    p.width = 31;
    p.height = 17;
    p.pixfmt = POA_PIX_RAW16;
    p.frames = n;
    p.chunk_bytes = 333;
    p.chunk_jitter = 1;
    p.first_seq = 0xfffffff0u; /* the sequence number wraps during the run */
    p.corrupt_every = 7;
    p.short_every = 11;
    p.oversize_every = 13;
    p.reorder_every = 5;
    p.garbage_every = 3;
    p.mark_boundaries = 1;
    p.seed = 42;
    phase("block, 2 consumers", POA_RING_BLOCK, p, 2, 0);
    p.pixfmt = POA_PIX_RAW12P;
    phase("block, raw12p, 1 consumer", POA_RING_BLOCK, p, 1, 0);
    p.pixfmt = POA_PIX_RAW16;
    phase("drop-oldest, slow consumer", POA_RING_DROP_OLDEST, p, 1, 300);
    p.mark_boundaries = 0;
    p.oversize_every = p.reorder_every = 0;
    phase("no boundaries", POA_RING_BLOCK, p, 1, 0);
    direct_path();
    close_while_blocked();
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("ring: all passed\n");
    return failures ? 1 : 0;
}
