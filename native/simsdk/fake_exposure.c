/*
 * Exposures: one worker thread per open camera makes frames in real time; the API calls wait on
 * the camera's condition variable.
 *
 * Behaviour:
 *  - POAStartExposure(id, POA_TRUE) = snap: one frame, ready exposure + readout after the start,
 *    then the state returns to STATE_OPENED. POA_FALSE = video: frames keep coming every
 *    max(exposure, readout, 1/frame limit) until POAStopExposure; the state stays STATE_EXPOSING.
 *    Starting while exposing is POA_ERROR_EXPOSING. Readout time = (rows read / full height) /
 *    the model's max fps, doubled in the Low Noise sensor mode.
 *  - The camera holds FAKE_QUEUE (2) finished frames. In video mode a frame finished while both
 *    are full is lost and counted by POAGetDroppedImagesCount; the count restarts at 0 on start and
 *    on stop ("reset to 0 after stop capture").
 *  - Frames survive POAStopExposure (INDIGO's video-mode single frame reads the frame after the
 *    stop); they are discarded by a new start and by any bin/size/format/sensor-mode change.
 *  - POAGetImageData(id, buf, size, ms) waits up to ms (-1 = forever, 0 = just look) for a frame:
 *    POA_ERROR_TIMEOUT when none came, POA_ERROR_SIZE_LESS when size < width*height*bytes per
 *    pixel, and POA_ERROR_EXPOSURE_FAILED at once when the exposure it was waiting for is stopped
 *    or restarted by another thread (the real SDK's answer there is unknown; returning early lets
 *    an abort end the wait).
 *  - Exposure, gain, offset and flips may change during video; they apply from the next frame.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_internal.h"

double fake_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wait on the camera's condition until the monotonic time t (t < 0: no limit). c locked. */
static void wait_until(fake_cam *c, double t) {
    if (t < 0) {
        pthread_cond_wait(&c->cv, &c->mu);
        return;
    }
    struct timespec ts;
    double whole = floor(t);
    ts.tv_sec = (time_t)whole;
    ts.tv_nsec = (long)((t - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

/* wait_until for the API calls that block: with a runtime fault file (FAKE_POA_FAULT_FILE) the
 * wait wakes every 50 ms and polls the file with c unlocked, so a fault written while the host is
 * blocked in POAGetImageData (an unplug) reaches it. Callers re-check their state after it. */
static void wait_polling(fake_cam *c, double t) {
    if (!fake_fault_file_active()) {
        wait_until(c, t);
        return;
    }
    double soon = fake_now() + 0.05;
    wait_until(c, (t >= 0 && t < soon) ? t : soon);
    pthread_mutex_unlock(&c->mu);
    fake_fault_file_poll();
    pthread_mutex_lock(&c->mu);
}

static int bytes_per_pixel(POAImgFormat f) {
    switch (f) {
    case POA_RAW16: return 2;
    case POA_RGB24: return 3;
    default: return 1;
    }
}

size_t fake_frame_bytes(const fake_cam *c) {
    return (size_t)c->width * (size_t)c->height * (size_t)bytes_per_pixel(c->format);
}

static double readout_s(const fake_cam *c) {
    double rows = (double)c->height * c->bin / c->model->height;
    double t = rows / c->model->max_fps;
    return c->sensor_mode == 1 ? 2.0 * t : t;
}

static double frame_period_s(const fake_cam *c) {
    double p = c->exposure_s > readout_s(c) ? c->exposure_s : readout_s(c);
    if (c->frame_limit > 0 && p < 1.0 / (double)c->frame_limit) p = 1.0 / (double)c->frame_limit;
    return p;
}

void fake_flush_queue(fake_cam *c) {
    c->q_len = 0;
    c->q_head = 0;
}

void fake_stop_exposure_locked(fake_cam *c) {
    if (c->exposing) c->gen++; /* also releases an exposure parked by the never-ready fault */
    c->exposing = 0;
    c->dropped = 0;
    pthread_cond_broadcast(&c->cv);
}

void fake_unplug_locked(fake_cam *c) {
    c->unplugged = 1; /* first: every call from now on answers POA_ERROR_DEVICE_NOT_FOUND */
    fake_close_locked(c);
}

/* Snapshot of everything the renderer needs, taken under the lock. */
static void fill_render(fake_cam *c, fake_render *r) {
    const fake_model *m = c->model;
    int shift = 16 - m->adc_bits;
    double egain = fake_model_egain(m, c->gain);
    double adu16_per_e = (double)(1 << shift) / egain;
    /* dark current doubles every 6 degrees C: 0.01 e-/s at 0 C (same constants as the simulator) */
    double dark_e = 0.01 * pow(2.0, fake_thermal_temp(c) / 6.0) * c->exposure_s;
    r->width = c->width;
    r->height = c->height;
    r->bin = c->bin;
    r->start_x = c->start_x;
    r->start_y = c->start_y;
    r->max_w = m->width;
    r->max_h = m->height;
    r->format = c->format;
    r->adc_bits = m->adc_bits;
    r->flip_h = c->flip_h;
    r->flip_v = c->flip_v;
    r->bin_sum = c->pixel_bin_sum;
    r->corrupt = c->corrupt_next;
    r->level16 = 4.0 * (double)c->offset + dark_e * adu16_per_e;
    r->sigma16 = fake_model_read_noise(m, c->gain, c->sensor_mode == 1) * adu16_per_e;
    r->adu16_per_e = adu16_per_e;
    r->exposure_s = c->exposure_s;
    r->stars = c->stars;
    r->n_stars = c->n_stars;
    r->seed = fake_xorshift(&c->rng);
    c->corrupt_next = 0;
}

/* Put the rendered frame in the queue by swapping buffers (no copy); a full queue drops it. */
static void publish(fake_cam *c, fake_buf *scratch, size_t len) {
    if (c->q_len == FAKE_QUEUE) {
        c->dropped++;
        return;
    }
    fake_buf *slot = &c->queue[(c->q_head + c->q_len) % FAKE_QUEUE];
    fake_buf tmp = *slot;
    *slot = *scratch;
    slot->len = len;
    *scratch = tmp;
    c->q_len++;
}

typedef struct worker_arg {
    fake_cam *cam;
    unsigned epoch;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg a = *(worker_arg *)p;
    free(p);
    fake_cam *c = a.cam;
    fake_buf scratch = {NULL, 0, 0};
    pthread_mutex_lock(&c->mu);
    while (c->worker_epoch == a.epoch) {
        if (!c->exposing || c->stuck_gen == c->gen) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        if (fake_now() < c->frame_due) {
            wait_until(c, c->frame_due);
            continue; /* re-check everything: a stop, restart or close may have come */
        }
        uint64_t gen = c->gen;
        if (fake_fault_take(c, FAULT_NEVER_READY)) {
            c->stuck_gen = gen; /* parked until the next start/stop: ImageReady stays FALSE */
            continue;
        }
        fake_render r;
        fill_render(c, &r);
        size_t len = fake_frame_bytes(c);
        pthread_mutex_unlock(&c->mu);
        if (len > scratch.cap) {
            free(scratch.data);
            scratch.data = malloc(len);
            scratch.cap = scratch.data ? len : 0;
        }
        if (scratch.data) fake_render_frame(&r, scratch.data);
        pthread_mutex_lock(&c->mu);
        if (c->worker_epoch != a.epoch) break;
        if (gen != c->gen || !c->exposing) continue; /* stopped or restarted meanwhile */
        if (scratch.data) {
            publish(c, &scratch, len);
        } else {
            c->dropped++; /* out of memory: the frame is lost */
        }
        if (c->video) {
            double now = fake_now(), next = c->frame_due + frame_period_s(c);
            c->frame_due = next > now ? next : now;
        } else {
            c->exposing = 0;
        }
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    free(scratch.data);
    return NULL;
}

POAErrors fake_worker_start(fake_cam *c) {
    worker_arg *a = malloc(sizeof *a);
    if (a == NULL) return POA_ERROR_MEMORY_FAILED;
    a->cam = c;
    a->epoch = ++c->worker_epoch;
    if (pthread_create(&c->worker, NULL, worker_main, a) != 0) {
        free(a);
        return POA_ERROR_MEMORY_FAILED;
    }
    c->worker_running = 1;
    return POA_OK;
}

void fake_worker_stop(fake_cam *c) {
    if (!c->worker_running) return;
    pthread_t t = c->worker;
    c->worker_running = 0;
    c->worker_epoch++; /* the worker exits at its next look; a worker started later has a new epoch */
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(t, NULL);
    pthread_mutex_lock(&c->mu);
}

POACAMERA_API POAErrors POAStartExposure(int nCameraID, POABool bSingleFrame) {
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    if (!c->inited) {
        err = POA_ERROR_NOT_OPENED;
    } else if (c->exposing) {
        err = POA_ERROR_EXPOSING;
    } else {
        fake_flush_queue(c);
        c->gen++;
        c->exposing = 1;
        c->video = (bSingleFrame == POA_FALSE);
        c->dropped = 0;
        c->frame_due = fake_now() + c->exposure_s + readout_s(c);
        pthread_cond_broadcast(&c->cv);
    }
    fake_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POAStopExposure(int nCameraID) {
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    fake_stop_exposure_locked(c);
    fake_unlock_cam(c);
    return POA_OK;
}

/* A closed camera answers STATE_CLOSED (no open needed); a never-ready exposure stays EXPOSING. */
POACAMERA_API POAErrors POAGetCameraState(int nCameraID, POACameraState *pCameraState) {
    if (pCameraState == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_PLUGGED, &c);
    if (err != POA_OK) return err;
    *pCameraState = !c->opened ? STATE_CLOSED : (c->exposing ? STATE_EXPOSING : STATE_OPENED);
    fake_unlock_cam(c);
    return POA_OK;
}

POACAMERA_API POAErrors POAImageReady(int nCameraID, POABool *pIsReady) {
    if (pIsReady == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    *pIsReady = c->q_len > 0 ? POA_TRUE : POA_FALSE;
    fake_unlock_cam(c);
    return POA_OK;
}

/* Why the wait for a frame ended without one, or POA_OK when a frame is queued. c locked. */
static POAErrors wait_frame(fake_cam *c, double deadline, uint64_t gen, int was_exposing) {
    for (;;) {
        if (c->unplugged) return POA_ERROR_DEVICE_NOT_FOUND;
        if (!c->opened) return POA_ERROR_NOT_OPENED; /* closed by another thread */
        if (c->q_len > 0) return POA_OK;
        if (was_exposing && c->gen != gen) return POA_ERROR_EXPOSURE_FAILED;
        if (deadline >= 0 && fake_now() >= deadline) return POA_ERROR_TIMEOUT;
        wait_polling(c, deadline);
    }
}

POACAMERA_API POAErrors POAGetImageData(int nCameraID, unsigned char *pBuf, long lBufSize, int nTimeoutms) {
    if (pBuf == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    double deadline = nTimeoutms < 0 ? -1.0 : fake_now() + nTimeoutms / 1000.0;
    size_t need = fake_frame_bytes(c);
    if (!c->inited) {
        err = POA_ERROR_NOT_OPENED;
    } else if (lBufSize < 0 || (unsigned long)lBufSize < need) {
        err = POA_ERROR_SIZE_LESS;
    } else if (c->unplug_in_read) {
        /* The cable is pulled while the host reads: ms into the wait, whatever the frame's state. */
        double t = fake_now() + (c->unplug_in_read - 1) / 1000.0;
        c->unplug_in_read = 0;
        while (!c->unplugged && c->opened && fake_now() < t) wait_until(c, t);
        if (!c->unplugged && c->opened) {
            fake_fault_log("unplug_in_read %d", c->id);
            fake_unplug_locked(c);
        }
        err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : POA_ERROR_NOT_OPENED;
    } else {
        err = wait_frame(c, deadline, c->gen, c->exposing);
    }
    if (err == POA_OK && fake_fault_take(c, FAULT_TIMEOUT)) {
        /* The transfer "hangs": the frame is lost and the call uses its whole timeout. */
        c->q_head = (c->q_head + 1) % FAKE_QUEUE;
        c->q_len--;
        while (!c->unplugged && c->opened && (deadline < 0 || fake_now() < deadline)) wait_polling(c, deadline);
        err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : (c->opened ? POA_ERROR_TIMEOUT : POA_ERROR_NOT_OPENED);
    } else if (err == POA_OK) {
        fake_buf *f = &c->queue[c->q_head];
        memcpy(pBuf, f->data, f->len < need ? f->len : need);
        c->q_head = (c->q_head + 1) % FAKE_QUEUE;
        c->q_len--;
        c->frames_out++;
        if (fake_fault_frame_out(c)) fake_unplug_locked(c); /* this frame still arrives */
    }
    fake_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POAGetDroppedImagesCount(int nCameraID, int *pDroppedCount) {
    if (pDroppedCount == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    *pDroppedCount = c->dropped;
    fake_unlock_cam(c);
    return POA_OK;
}
