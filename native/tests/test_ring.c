/* Ring stress for the sanitizer and valgrind builds: a producer thread commits whole frames
 * (a pattern per seq) the way the SDK reader does, with faults mixed in (a payload larger
 * than a slot, a size that does not match the format, a seq that is not newer), while
 * consumer threads acquire, verify and release. Checks that no bad frame is ever delivered
 * and that the counters add up. argv[1] = frames per phase. Exit 0 = all passed. */
#include "poa_core.h"
#include "poa_check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Byte i of the frame with this seq. */
static uint8_t pattern_byte(size_t i, uint32_t seq) { return (uint8_t)(i * 7 + seq * 13 + (i >> 8)); }

static void fill(uint8_t *dst, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) dst[i] = pattern_byte(i, seq);
}

static int matches(const uint8_t *data, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        if (data[i] != pattern_byte(i, seq)) return 0;
    return 1;
}

struct params {
    uint32_t width, height, pixfmt, frames, first_seq;
    uint32_t oversize_every, badsize_every, reorder_every; /* fault at frame k when k % every == 0 */
};

struct produced {
    uint64_t good, oversized, bad_size, out_of_order;
    int end_reason;
};

struct producer {
    poa_ring_t *r;
    struct params p;
    struct produced out;
};

static int is_good(const struct params *p, uint32_t seq)
{
    uint32_t k = seq - p->first_seq;
    if (k == 0) return 1;
    if (k >= p->frames) return 0;
    if (p->oversize_every && k % p->oversize_every == 0) return 0;
    if (p->badsize_every && k % p->badsize_every == 0) return 0;
    if (p->reorder_every && k % p->reorder_every == 0) return 0;
    return 1;
}

static void *produce(void *arg)
{
    struct producer *pr = arg;
    const struct params *p = &pr->p;
    uint64_t bytes = poa_pixfmt_bytes(p->pixfmt, p->width, p->height);
    uint32_t last_good = p->first_seq;
    for (uint32_t k = 0; k < p->frames; k++) {
        uint32_t seq = p->first_seq + k;
        uint8_t *dst;
        size_t cap;
        int rc = poa_ring_begin_frame(pr->r, &dst, &cap);
        if (rc) {
            pr->out.end_reason = rc;
            return NULL;
        }
        uint64_t len = bytes;
        uint32_t commit_seq = seq;
        int fault = 0;
        if (k && p->oversize_every && k % p->oversize_every == 0) {
            len = cap + 1; /* as a reader told a larger frame than the slot */
            fault = 1;
        } else if (k && p->badsize_every && k % p->badsize_every == 0) {
            len = bytes - 2; /* a size that does not agree with the format */
            fault = 2;
        } else if (k && p->reorder_every && k % p->reorder_every == 0) {
            commit_seq = last_good; /* the previous good frame's seq again */
            fault = 3;
        }
        fill(dst, len <= cap ? len : cap, commit_seq);
        rc = poa_ring_commit_frame(pr->r, commit_seq, p->width, p->height, p->pixfmt, len, 0);
        if (fault == 1) pr->out.oversized += rc == POA_EFRAME;
        else if (fault == 2) pr->out.bad_size += rc == POA_EFRAME;
        else if (fault == 3) pr->out.out_of_order += rc == POA_EFRAME;
        else if (rc == 0) {
            pr->out.good++;
            last_good = seq;
        }
    }
    return NULL;
}

struct consumer {
    poa_ring_t *r;
    const struct params *p;
    unsigned delay_us;
    uint64_t got, bad;
    uint32_t last_seq;
    int have_last, out_of_order;
};

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
        if (!is_good(c->p, f.seq) || f.payload_len != expect || !matches(f.data, f.payload_len, f.seq))
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

static void phase(const char *name, int mode, struct params p, int nconsumers, unsigned delay_us)
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
    struct producer pr;
    memset(&pr, 0, sizeof pr);
    pr.r = r;
    pr.p = p;
    pthread_t pt;
    pthread_create(&pt, NULL, produce, &pr);
    pthread_join(pt, NULL);
    if (mode == POA_RING_BLOCK) wait_delivered(r, pr.out.good);
    poa_ring_close(r);
    uint64_t got = 0, bad = 0;
    int ooo = 0;
    for (int i = 0; i < nconsumers; i++) {
        pthread_join(th[i], NULL);
        got += cs[i].got;
        bad += cs[i].bad;
        ooo += cs[i].out_of_order;
    }
    poa_ring_counters_t c;
    poa_ring_counters(r, &c);
    CHECK(pr.out.end_reason == 0, "%s: producer ended early: %d", name, pr.out.end_reason);
    CHECK(bad == 0, "%s: %llu bad frames delivered", name, (unsigned long long)bad);
    CHECK(ooo == 0, "%s: a consumer saw seqs go backwards", name);
    CHECK(c.delivered == got, "%s: delivered counter", name);
    CHECK(c.received == c.delivered + c.dropped + c.ready, "%s: received != delivered+dropped+ready", name);
    CHECK(c.corrupt == c.bad_header + c.oversized + c.out_of_order, "%s: corrupt sum", name);
    CHECK(c.received == pr.out.good, "%s: received %llu good %llu", name, (unsigned long long)c.received,
          (unsigned long long)pr.out.good);
    CHECK(c.oversized == pr.out.oversized && c.bad_header == pr.out.bad_size &&
              c.out_of_order == pr.out.out_of_order,
          "%s: fault counters", name);
    if (mode == POA_RING_BLOCK) CHECK(c.dropped == 0, "%s: dropped in block mode", name);
    printf("%s: good %llu | received %llu delivered %llu dropped %llu corrupt %llu\n", name,
           (unsigned long long)pr.out.good, (unsigned long long)c.received,
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
    fill(d, 200, 5);
    CHECK(poa_ring_commit_frame(r, 5, 10, 10, POA_PIX_RAW16, 200, 1) == 0, "commit");
    CHECK(poa_ring_begin_frame(r, &d, &cap) == 0, "begin 2");
    CHECK(poa_ring_commit_frame(r, 5, 10, 10, POA_PIX_RAW16, 200, 1) == POA_EFRAME, "stale accepted");
    CHECK(poa_ring_begin_frame(r, &d, &cap) == 0 && poa_ring_cancel_frame(r) == 0, "cancel");
    CHECK(poa_ring_commit_frame(r, 6, 10, 10, POA_PIX_RAW16, 200, 1) == POA_ESTATE, "commit w/o begin");
    poa_frame_t f;
    CHECK(poa_ring_acquire(r, &f, 0) == 0 && f.seq == 5 && matches(f.data, 200, 5), "acquire");
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
    struct params p;
    memset(&p, 0, sizeof p);
    p.width = 31;
    p.height = 17;
    p.pixfmt = POA_PIX_RAW16;
    p.frames = n;
    p.first_seq = 0xfffffff0u; /* the sequence number wraps during the run */
    p.oversize_every = 13;
    p.badsize_every = 11;
    p.reorder_every = 5;
    phase("block, 2 consumers", POA_RING_BLOCK, p, 2, 0);
    p.pixfmt = POA_PIX_RAW12P;
    phase("block, raw12p, 1 consumer", POA_RING_BLOCK, p, 1, 0);
    p.pixfmt = POA_PIX_RAW16;
    phase("drop-oldest, slow consumer", POA_RING_DROP_OLDEST, p, 1, 300);
    direct_path();
    close_while_blocked();
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("ring: all passed\n");
    return failures ? 1 : 0;
}
