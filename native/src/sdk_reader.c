/* The reader thread of one camera: it calls POAGetImageData straight into a ring slot, for
 * single exposures (with the watchdog that restarts a frame that never becomes ready) and
 * for video runs; claim_reader is the one way in for both. See include/poa_sdk.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdk_internal.h"

/* The reader's SDK calls, made with c->mu released and the SDK lock held. */
static int locked_stop(poa_sdk_cam_t *c)
{
    pthread_mutex_unlock(&c->mu);
    poa__sdk_lock(c, -1);
    int rc = c->s->POAStopExposure(c->id);
    poa__sdk_unlock(c);
    pthread_mutex_lock(&c->mu);
    return rc;
}

static void finish(poa_sdk_cam_t *c, int state, const char *func, int code)
{
    if (c->res.state != POA_SDK_ABORTED) { /* an abort already told the waiters */
        c->res.state = state;
        c->res.code = code;
        if (func) copy_str(c->res.func, sizeof c->res.func, func, strlen(func) + 1);
    }
    pthread_cond_broadcast(&c->cv_done);
}

/* One frame of `bytes` from the SDK, into a slot of `ring`, or into *dst (the caller's
 * buffer of a direct exposure) when ring is NULL; claim_reader checked that the frame fits
 * either. Called and returns with c->mu held, released meanwhile. POAGetImageData runs under
 * the SDK lock, and so does POAStopExposure when stop_after (a non-single exposure's one
 * frame: no other call comes between). Returns the ring's code when it gave no slot (the SDK
 * is not called), else POA_OK with the SDK's codes in *read_rc and *stop_rc; after a failed
 * read the slot is given back, after a good one *dst is where the frame is. */
static int read_frame(poa_sdk_cam_t *c, poa_ring_t *ring, uint8_t **dst, uint64_t bytes,
                      int timeout_ms, int stop_after, int *read_rc, int *stop_rc)
{
    pthread_mutex_unlock(&c->mu);
    size_t cap;
    int rc = ring ? poa_ring_begin_frame(ring, dst, &cap) : POA_OK;
    if (rc == POA_OK) {
        poa__sdk_lock(c, -1);
        *read_rc = c->s->POAGetImageData(c->id, *dst, (long)bytes, timeout_ms);
        *stop_rc = *read_rc == 0 && stop_after ? c->s->POAStopExposure(c->id) : 0;
        poa__sdk_unlock(c);
        if (*read_rc != 0 && ring) poa_ring_cancel_frame(ring);
    }
    pthread_mutex_lock(&c->mu);
    return rc;
}

/* One exposure, from its start to a committed frame or a final state. Called and returns
 * with c->mu held. */
static void run_job(poa_sdk_cam_t *c)
{
    const poa_sdk_exposure_t e = c->job;
    uint64_t bytes = poa_pixfmt_bytes(e.pixfmt, e.width, e.height);
    int restarts = 0;
    for (;;) {
        struct timespec end = ts_add_ms(c->t0, (int64_t)(e.exposure_s * 1000.0 + 0.5));
        while (!c->abort && ts_before(cond_now(), end)) pthread_cond_timedwait(&c->cv_job, &c->mu, &end);
        if (c->abort) {
            locked_stop(c);
            finish(c, POA_SDK_ABORTED, NULL, 0);
            return;
        }
        c->res.state = POA_SDK_READING;
        /* direct: into the caller's buffer (e.dst), else into a ring slot. */
        poa_ring_t *ring = e.dst ? NULL : c->ring;
        uint8_t *dst = e.dst;
        int r = 0, stop_rc = 0;
        int rc = read_frame(c, ring, &dst, bytes, e.readout_ms, !e.single, &r, &stop_rc);
        if (rc != POA_OK) {
            locked_stop(c);
            finish(c, POA_SDK_FAILED, "poa_ring_begin_frame", rc);
            return;
        }
        if (r == 0) {
            if (c->abort) {
                if (ring) poa_ring_cancel_frame(ring);
                if (e.single) locked_stop(c);
                finish(c, POA_SDK_ABORTED, NULL, 0);
                return;
            }
            rc = ring ? poa_ring_commit_frame(ring, e.seq, e.width, e.height, e.pixfmt, bytes,
                                              c->t0_real_ns)
                      : POA_OK;
            if (rc != POA_OK) {
                finish(c, POA_SDK_FAILED, "poa_ring_commit_frame", rc);
            } else if (stop_rc != 0) {
                finish(c, POA_SDK_FAILED, "POAStopExposure", stop_rc);
            } else {
                c->res.seq = e.seq;
                c->res.start_unix_ns = c->t0_real_ns;
                finish(c, POA_SDK_READY, NULL, 0);
            }
            return;
        }
        if (!c->abort && r == POA_SDK_ERR_TIMEOUT && restarts < e.restarts) {
            /* The watchdog: the known field failure of a frame that never becomes ready.
             * Stop, start the same exposure again, sleep through it again. */
            restarts++;
            c->res.restarts = restarts;
            pthread_mutex_unlock(&c->mu);
            poa__sdk_lock(c, -1);
            c->s->POAStopExposure(c->id);
            int start_rc = c->s->POAStartExposure(c->id, e.single ? 1 : 0);
            poa__sdk_unlock(c);
            pthread_mutex_lock(&c->mu);
            c->t0 = cond_now();
            c->t0_real_ns = realtime_ns();
            if (start_rc != 0) {
                finish(c, POA_SDK_FAILED, "POAStartExposure", start_rc);
                return;
            }
            if (c->res.state == POA_SDK_READING) c->res.state = POA_SDK_EXPOSING;
            continue;
        }
        locked_stop(c);
        if (c->abort) finish(c, POA_SDK_ABORTED, NULL, 0);
        else finish(c, r == POA_SDK_ERR_TIMEOUT ? POA_SDK_TIMED_OUT : POA_SDK_FAILED, "POAGetImageData", r);
        return;
    }
}

/* ---- video mode ------------------------------------------------------------------------ */

/* POAGetImageData is called in slices of at most this long, so a stop is seen promptly (the
 * SDK lock is held inside the call); a timeout is counted when timeout_ms passed without a
 * frame. */
#define VIDEO_SLICE_MS 200
/* POAGetDroppedImagesCount is read about this often (an SDK call under the lock). */
#define VIDEO_DROP_POLL_MS 500
/* No free slot (every slot held by the consumer): wait this long, then try again; the
 * camera's own buffer holds frames meanwhile, and counts what it loses. */
#define VIDEO_NO_SLOT_MS 2

static void video_fail(poa_sdk_cam_t *c, const char *func, int code)
{
    c->vstats.state = POA_SDK_FAILED;
    c->vstats.code = code;
    copy_str(c->vstats.func, sizeof c->vstats.func, func, strlen(func) + 1);
}

static void video_poll_drops(poa_sdk_cam_t *c)
{
    if (!c->s->POAGetDroppedImagesCount) return;
    int n = 0;
    pthread_mutex_unlock(&c->mu);
    poa__sdk_lock(c, -1);
    int rc = c->s->POAGetDroppedImagesCount(c->id, &n);
    poa__sdk_unlock(c);
    pthread_mutex_lock(&c->mu);
    if (rc == 0) c->vstats.camera_dropped = n;
}

/* The video loop, from the start to a stop or a failure. Called and returns with c->mu held. */
static void run_video(poa_sdk_cam_t *c)
{
    const poa_sdk_video_t v = c->vjob;
    uint64_t exp_ns = (uint64_t)(v.exposure_s * 1e9);
    struct timespec next_poll = ts_add_ms(cond_now(), VIDEO_DROP_POLL_MS);
    uint32_t seq = v.first_seq;
    int64_t waited_ms = 0;
    uint64_t bytes = poa_pixfmt_bytes(v.pixfmt, v.width, v.height);
    int slice = v.timeout_ms < VIDEO_SLICE_MS ? v.timeout_ms : VIDEO_SLICE_MS;
    while (!c->abort) {
        if (!ts_before(cond_now(), next_poll)) {
            video_poll_drops(c);
            next_poll = ts_add_ms(cond_now(), VIDEO_DROP_POLL_MS);
            if (c->abort) break;
        }
        poa_ring_t *ring = c->ring;
        uint8_t *dst = NULL;
        int r = 0, stop_rc = 0;
        int rc = read_frame(c, ring, &dst, bytes, slice, 0, &r, &stop_rc);
        if (rc == POA_EAGAIN) { /* drop-oldest ring with every slot held: let the consumer work */
            pthread_mutex_unlock(&c->mu);
            struct timespec ts = {0, VIDEO_NO_SLOT_MS * 1000000L};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&c->mu);
            c->vstats.no_slot++;
            continue;
        }
        if (rc != POA_OK) {
            if (!c->abort) video_fail(c, "poa_ring_begin_frame", rc);
            break;
        }
        if (r == 0) {
            uint64_t now = realtime_ns();
            waited_ms = 0;
            rc = poa_ring_commit_frame(ring, seq, v.width, v.height, v.pixfmt, bytes,
                                       now > exp_ns ? now - exp_ns : now);
            if (rc != POA_OK) {
                video_fail(c, "poa_ring_commit_frame", rc);
                break;
            }
            seq++;
            c->vstats.frames++;
            continue;
        }
        if (c->abort) break;
        if (r == POA_SDK_ERR_TIMEOUT) {
            waited_ms += slice;
            if (waited_ms >= v.timeout_ms) {
                c->vstats.timeouts++;
                waited_ms = 0;
            }
            continue;
        }
        video_fail(c, "POAGetImageData", r);
        break;
    }
    if (c->s->POAGetDroppedImagesCount) video_poll_drops(c); /* the final count, before the stop resets it */
    int stop_rc = locked_stop(c);
    if (c->vstats.state == POA_SDK_EXPOSING) {
        if (stop_rc != 0 && !c->abort) video_fail(c, "POAStopExposure", stop_rc);
        else c->vstats.state = POA_SDK_IDLE;
    }
    c->video = 0;
    pthread_cond_broadcast(&c->cv_done);
}

static void *reader_main(void *arg)
{
    poa_sdk_cam_t *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->job_ready && !c->quit) pthread_cond_wait(&c->cv_job, &c->mu);
        if (!c->job_ready) break; /* quit, nothing to finish */
        if (c->video) run_video(c);
        else run_job(c);
        c->job_ready = 0;
        c->busy = 0;
        pthread_cond_broadcast(&c->cv_done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int poa_sdk_cam_create(poa_sdk_t *s, int camera_id, poa_sdk_cam_t **out)
{
    if (!s || !out) return POA_EINVAL;
    poa_sdk_cam_t *c = calloc(1, sizeof *c);
    if (!c) return POA_ENOMEM;
    c->s = s;
    c->id = camera_id;
    pthread_mutex_init(&c->mu, NULL);
    cond_init(&c->cv_lock);
    cond_init(&c->cv_job);
    cond_init(&c->cv_done);
    if (pthread_create(&c->thread, NULL, reader_main, c) != 0) {
        pthread_cond_destroy(&c->cv_lock);
        pthread_cond_destroy(&c->cv_job);
        pthread_cond_destroy(&c->cv_done);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return POA_ENOMEM;
    }
    *out = c;
    return POA_OK;
}

static void abort_locked(poa_sdk_cam_t *c)
{
    if (!c->busy || c->abort) return;
    c->abort = 1;
    if (c->res.state == POA_SDK_EXPOSING || c->res.state == POA_SDK_READING) {
        c->res.state = POA_SDK_ABORTED;
        c->res.code = 0;
        c->res.func[0] = '\0';
    }
    pthread_cond_broadcast(&c->cv_job);
    pthread_cond_broadcast(&c->cv_done);
}

/* Aborts what the reader runs (an exposure or a video run) and waits until it has finished
 * (issued its POAStopExposure) and is idle; only_video: unless it runs a single exposure. */
static void stop_reader(poa_sdk_cam_t *c, int only_video)
{
    pthread_mutex_lock(&c->mu);
    if (c->video || !only_video) {
        abort_locked(c);
        while (c->busy) pthread_cond_wait(&c->cv_done, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
}

/* Closing is the reader's business first: a readout in progress is aborted and finished
 * (the reader issues POAStopExposure) before POACloseCamera. */
int poa_sdk_close_camera(poa_sdk_cam_t *c)
{
    if (!c) return POA_EINVAL;
    stop_reader(c, 0);
    poa__sdk_lock(c, -1);
    int rc = c->s->POACloseCamera(c->id);
    poa__sdk_unlock(c);
    return rc;
}

void poa_sdk_cam_destroy(poa_sdk_cam_t *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->quit = 1;
    abort_locked(c);
    pthread_cond_broadcast(&c->cv_job);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv_lock);
    pthread_cond_destroy(&c->cv_job);
    pthread_cond_destroy(&c->cv_done);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int poa_sdk_set_ring(poa_sdk_cam_t *c, poa_ring_t *ring)
{
    if (!c) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    int rc = c->busy ? POA_ESTATE : POA_OK;
    if (rc == POA_OK) c->ring = ring;
    pthread_mutex_unlock(&c->mu);
    return rc;
}


/* ---- exposures through the reader ------------------------------------------------------ */

/* Claims the reader for a single exposure or a video run: checks the frame's size, waits
 * until the reader is idle (an aborted readout may still be finishing its POAGetImageData),
 * checks that the frame fits a ring slot (or direct_len, the caller's buffer of a direct
 * single exposure, when non-zero), and marks the reader busy with no abort pending.
 * Returns with c->mu HELD on POA_OK (the caller fills in its job, then unlocks); on an
 * error the mutex is not held: POA_EINVAL for an empty or oversized frame, POA_ESTATE
 * without a ring or when the frame does not fit a slot (or the caller's buffer). */
static int claim_reader(poa_sdk_cam_t *c, uint32_t pixfmt, uint32_t width, uint32_t height,
                        uint64_t direct_len)
{
    uint64_t bytes = poa_pixfmt_bytes(pixfmt, width, height);
    if (bytes == 0 || bytes > (uint64_t)LONG_MAX) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    while (c->busy) pthread_cond_wait(&c->cv_done, &c->mu);
    if (direct_len ? bytes > direct_len : (!c->ring || bytes > poa_ring_slot_bytes(c->ring))) {
        pthread_mutex_unlock(&c->mu);
        return POA_ESTATE;
    }
    c->busy = 1;
    c->abort = 0;
    return POA_OK;
}

/* The other half of claiming the reader: with the job filled in and c->mu held, starts the
 * exposure (POAStartExposure(single) under the SDK lock, c->mu released meanwhile) and
 * hands the job to the reader, or gives the reader back when the start failed. Returns the
 * SDK's code with c->mu HELD again, so the caller records its own state before the reader
 * or a waiter can look. An abort that came in meanwhile is kept: the reader stops at once. */
static int start_and_hand_over(poa_sdk_cam_t *c, int single)
{
    pthread_mutex_unlock(&c->mu);
    poa__sdk_lock(c, -1);
    int rc = c->s->POAStartExposure(c->id, single ? 1 : 0);
    poa__sdk_unlock(c);
    pthread_mutex_lock(&c->mu);
    if (rc != 0) {
        c->busy = 0;
        pthread_cond_broadcast(&c->cv_done);
    } else {
        c->job_ready = 1;
        pthread_cond_broadcast(&c->cv_job);
    }
    return rc;
}

int poa_sdk_expose(poa_sdk_cam_t *c, const poa_sdk_exposure_t *e)
{
    if (!c || !e || !(e->exposure_s >= 0.0) || e->readout_ms < 0 || e->restarts < 0) return POA_EINVAL;
    if (e->dst && !e->dst_len) return POA_EINVAL;
    int claim = claim_reader(c, e->pixfmt, e->width, e->height, e->dst ? e->dst_len : 0);
    if (claim != POA_OK) return claim;
    c->job = *e;
    memset(&c->res, 0, sizeof c->res);
    c->res.state = POA_SDK_EXPOSING;
    c->res.seq = e->seq;
    int rc = start_and_hand_over(c, e->single);
    c->t0 = cond_now();
    c->t0_real_ns = realtime_ns();
    if (rc != 0) c->res.state = POA_SDK_IDLE;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int poa_sdk_abort(poa_sdk_cam_t *c)
{
    if (!c) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    abort_locked(c);
    pthread_mutex_unlock(&c->mu);
    return POA_OK;
}

int poa_sdk_wait(poa_sdk_cam_t *c, int timeout_ms, poa_sdk_result_t *out)
{
    if (!c || !out) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    struct timespec deadline = ts_add_ms(cond_now(), timeout_ms > 0 ? timeout_ms : 0);
    int rc = POA_OK;
    while (c->res.state == POA_SDK_EXPOSING || c->res.state == POA_SDK_READING) {
        if (cond_wait_ms(&c->cv_done, &c->mu, timeout_ms, &deadline) == POA_ETIMEDOUT) {
            if (c->res.state == POA_SDK_EXPOSING || c->res.state == POA_SDK_READING) rc = POA_ETIMEDOUT;
            break;
        }
    }
    *out = c->res;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- video mode through the reader ------------------------------------------------------ */

int poa_sdk_video_start(poa_sdk_cam_t *c, const poa_sdk_video_t *v)
{
    if (!c || !v || v->timeout_ms <= 0 || !(v->exposure_s >= 0.0)) return POA_EINVAL;
    int claim = claim_reader(c, v->pixfmt, v->width, v->height, 0);
    if (claim != POA_OK) return claim;
    c->video = 1;
    c->vjob = *v;
    memset(&c->vstats, 0, sizeof c->vstats);
    c->vstats.state = POA_SDK_EXPOSING;
    c->vstats.camera_dropped = c->s->POAGetDroppedImagesCount ? 0 : -1;
    /* A single exposure's result is not this; waiters of poa_sdk_wait see IDLE. */
    memset(&c->res, 0, sizeof c->res);
    int rc = start_and_hand_over(c, 0);
    if (rc != 0) {
        c->video = 0;
        c->vstats.state = POA_SDK_IDLE;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int poa_sdk_video_stop(poa_sdk_cam_t *c)
{
    if (!c) return POA_EINVAL;
    stop_reader(c, 1);
    return POA_OK;
}

int poa_sdk_video_stats(poa_sdk_cam_t *c, poa_sdk_video_stats_t *out)
{
    if (!c || !out) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    *out = c->vstats;
    pthread_mutex_unlock(&c->mu);
    return POA_OK;
}
