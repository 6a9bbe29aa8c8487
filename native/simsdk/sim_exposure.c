/*
 * Exposures, the camera's DDR buffer and its USB link, as a timing model advanced in closed form
 * (sim_advance) by every call that looks at the camera; pixels are rendered only when the host
 * reads a frame, by the camera's render thread, straight into the host's buffer.
 *
 * The model (times on CLOCK_MONOTONIC):
 *  - an exposure of E seconds ends at its start + E; the frame then enters the camera's DDR
 *    buffer (512 MB, the manual; option ddr_mb) as the sensor reads it out, in R seconds
 *    (sim_sensor_readout_s: the manual's fps, rows read, twice as long in Low Noise mode);
 *  - the USB link carries one frame at a time from the DDR buffer to the host, at 400 MB/s (USB 3)
 *    or 40 MB/s (USB 2, option usb2) times USBBandWidthLimit %, so L = bytes / rate. A transfer
 *    starts when the frame is in the buffer, the link is free and the host has room (the SDK
 *    holds SIM_HOST_SLOTS frames), and ends at max(start + L, exposure end + R): readout and
 *    transfer overlap, and a frame is ready after the longer of the two;
 *  - snap (POAStartExposure(id, POA_TRUE)): one frame; the state is STATE_EXPOSING until it is on
 *    the host, then STATE_OPENED;
 *  - video (POA_FALSE): exposures follow each other every max(E, R, 1/FrameLimit) (a rolling
 *    readout overlaps the next exposure) until POAStopExposure, whatever the host does. A frame
 *    that ends its exposure while the DDR buffer has no room for it is lost and counted by
 *    POAGetDroppedImagesCount (reset at start and stop): a host that does not read stalls the
 *    link, the buffer fills, then frames drop. The model keeps at most SIM_DDR_MAX_FRAMES frame
 *    records, so a buffer of tiny frames holds at most that many;
 *  - frames on the host survive POAStopExposure (INDIGO reads a video-mode single frame after
 *    stopping); frames in the buffer or on the link do not. A new start, and any bin, size,
 *    format or sensor-mode change, discard every frame;
 *  - POAGetImageData(id, buf, size, ms) waits up to ms (-1 forever, 0 just look): POA_ERROR_TIMEOUT
 *    when no frame came, POA_ERROR_SIZE_LESS when size < width x height x bytes per pixel,
 *    POA_ERROR_EXPOSURE_FAILED at once when the exposure it waited for is stopped or restarted by
 *    another thread (the real SDK's answer there is unknown; returning early lets an abort end
 *    the wait) or lost on the link (fault short_next_frame);
 *  - exposure, gain, offset, flips, bandwidth, the frame rate limit and the ST4 outputs may
 *    change during video; they apply to the exposures that end after the change (POASetConfig
 *    runs the model up to the call first: frames already exposed keep what they had).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_internal.h"

#define NEVER 1e300

/* Wait on the camera's condition until the monotonic time t (t < 0: no limit). c locked. */
static void wait_until(sim_cam *c, double t) {
    if (t < 0 || t >= NEVER) {
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

/* wait_until for the API calls that block: with a runtime fault file the wait wakes every 50 ms
 * and polls the file with c unlocked, so a fault written while the host is blocked in
 * POAGetImageData (an unplug) reaches it. Callers re-check their state after it. */
static void wait_polling(sim_cam *c, double t) {
    if (!sim_fault_file_active()) {
        wait_until(c, t);
        return;
    }
    double soon = sim_now() + 0.05;
    wait_until(c, (t >= 0 && t < soon) ? t : soon);
    pthread_mutex_unlock(&c->mu);
    sim_fault_file_poll();
    pthread_mutex_lock(&c->mu);
}

int sim_bytes_per_pixel(POAImgFormat f) {
    switch (f) {
    case POA_RAW16: return 2;
    case POA_RGB24: return 3;
    default: return 1;
    }
}

size_t sim_frame_bytes(const sim_cam *c) {
    return (size_t)c->width * (size_t)c->height * (size_t)sim_bytes_per_pixel(c->format);
}

static double sensor_readout(const sim_cam *c) {
    return sim_sensor_readout_s(c->model, c->height, c->bin, c->sensor_mode == 1);
}

static double frame_period(const sim_cam *c) {
    double p = c->exposure_s > sensor_readout(c) ? c->exposure_s : sensor_readout(c);
    if (c->frame_limit > 0 && p < 1.0 / (double)c->frame_limit) p = 1.0 / (double)c->frame_limit;
    return p;
}

static double ddr_capacity(const sim_cam *c) { return c->opt.ddr_mb * 1048576.0; }

/* splitmix64's output function. A frame's random stream starts from this mix of the camera's
 * stream, not from the camera's stream itself: the renderer draws its row offsets with the same
 * xorshift, so a seed that is the camera's next state would make frame k+1 frame k moved up by
 * one row (the same noise, frame after frame; measured: column means of consecutive frames
 * correlated 0.998). */
static uint64_t mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The frame whose exposure ended at t, from the settings in force. c locked. */
static void make_frame(sim_cam *c, double t, sim_frame *f) {
    memset(f, 0, sizeof *f);
    f->seq = c->seq++;
    f->seed = mix64(sim_xorshift(&c->rng));
    f->width = c->width;
    f->height = c->height;
    f->bin = c->bin;
    f->start_x = c->start_x;
    f->start_y = c->start_y;
    f->format = c->format;
    f->flip_h = c->flip_h;
    f->flip_v = c->flip_v;
    f->bin_sum = c->pixel_bin_sum;
    f->low_noise = c->sensor_mode == 1;
    f->dps = c->dps;
    f->gain = c->gain;
    f->offset = c->offset;
    f->exposure_s = c->exposure_s;
    f->temp_c = sim_thermal_temp(c);
    sim_guide_shift(c, t, &f->shift_x, &f->shift_y);
    f->corrupt = c->corrupt_next || sim_fault_take(c, FAULT_CORRUPT_NEXT);
    c->corrupt_next = 0;
    f->enter_t = t;
    f->bytes = sim_frame_bytes(c);
}

static void try_transfer(sim_cam *c, double t) {
    if (c->xfer_active || c->ddr_len == 0 || c->host_len >= SIM_HOST_SLOTS) return;
    const sim_frame *f = &c->ddr[c->ddr_head];
    double start = t > c->link_free ? t : c->link_free;
    double end = start + (double)f->bytes / sim_link_bytes_per_s(!c->opt.usb2, c->usb_bandwidth);
    double read = f->enter_t + sensor_readout(c);
    c->xfer = *f;
    c->xfer_end = end > read ? end : read;
    c->xfer_active = 1;
    c->link_free = c->xfer_end;
    c->ddr_head = (c->ddr_head + 1) % SIM_DDR_MAX_FRAMES;
    c->ddr_len--;
}

static void transfer_done(sim_cam *c, double t) {
    c->xfer_active = 0;
    c->ddr_bytes -= c->xfer.bytes;
    if (sim_fault_take(c, FAULT_SHORT_NEXT)) { /* a packet lost: the SDK drops the short frame */
        sim_fault_log("short_next_frame %d", c->id);
        c->dropped++;
        if (!c->video) c->lost_gen = c->gen;
    } else {
        c->host[(c->host_head + c->host_len) % SIM_HOST_SLOTS] = c->xfer;
        c->host_len++;
    }
    if (!c->video && c->next_end < 0 && c->ddr_len == 0) c->exposing = 0;
    pthread_cond_broadcast(&c->cv);
    try_transfer(c, t);
}

static void exposure_ended(sim_cam *c, double t) {
    int stall = sim_fault_take(c, FAULT_NEVER_READY);
    if (!c->video) {
        c->next_end = -1;
        stall = stall || sim_fault_every(c, FAULT_SNAP_STALL);
    } else {
        c->next_end = t + frame_period(c);
    }
    if (stall) { /* parked until the next start/stop: ImageReady stays FALSE, state EXPOSING */
        c->stuck = 1;
        return;
    }
    size_t bytes = sim_frame_bytes(c);
    if (c->ddr_len == SIM_DDR_MAX_FRAMES || (double)(c->ddr_bytes + bytes) > ddr_capacity(c)) {
        c->dropped++;
        if (!c->video) {
            c->lost_gen = c->gen;
            c->exposing = 0;
        }
        pthread_cond_broadcast(&c->cv);
        return;
    }
    make_frame(c, t, &c->ddr[(c->ddr_head + c->ddr_len) % SIM_DDR_MAX_FRAMES]);
    c->ddr_len++;
    c->ddr_bytes += bytes;
    try_transfer(c, t);
}

static double next_event(const sim_cam *c) {
    double ts = (c->exposing && !c->stuck && c->next_end >= 0) ? c->next_end : NEVER;
    double tx = c->xfer_active ? c->xfer_end : NEVER;
    return ts < tx ? ts : tx;
}

void sim_advance(sim_cam *c, double now) {
    if (!c->opened) return;
    for (;;) {
        double ts = (c->exposing && !c->stuck && c->next_end >= 0) ? c->next_end : NEVER;
        double tx = c->xfer_active ? c->xfer_end : NEVER;
        if (tx <= ts && tx <= now) {
            transfer_done(c, tx);
        } else if (ts < tx && ts <= now) {
            /* A stalled link and a full buffer: every exposure ending until now is lost. */
            size_t bytes = sim_frame_bytes(c);
            int full = c->ddr_len == SIM_DDR_MAX_FRAMES || (double)(c->ddr_bytes + bytes) > ddr_capacity(c);
            if (c->video && full && !c->xfer_active && !sim_fault_armed(c, FAULT_NEVER_READY)) {
                double p = frame_period(c);
                double k = floor((now - ts) / p) + 1;
                c->dropped += (int)(k > 1e9 ? 1e9 : k);
                c->next_end = ts + k * p;
                continue;
            }
            exposure_ended(c, ts);
        } else {
            break;
        }
    }
}

/* The frames not yet on the host are gone: the camera's DDR and the one crossing the link. */
static void drop_undelivered(sim_cam *c) {
    c->ddr_len = c->ddr_head = 0;
    c->ddr_bytes = 0;
    c->xfer_active = 0;
}

/* The frames on the host, waiting for POAGetImageData, are gone. */
static void drop_delivered(sim_cam *c) { c->host_len = c->host_head = 0; }

void sim_flush_frames(sim_cam *c) {
    drop_undelivered(c);
    drop_delivered(c);
}

void sim_stop_exposure_locked(sim_cam *c) {
    sim_advance(c, sim_now()); /* frames that reached the host before the stop stay there */
    if (c->exposing) c->gen++; /* also releases an exposure parked by the never-ready fault */
    c->exposing = 0;
    c->stuck = 0;
    c->dropped = 0;
    drop_undelivered(c);
    pthread_cond_broadcast(&c->cv);
}

void sim_close_locked(sim_cam *c) {
    if (!c->opened) return;
    c->opened = 0; /* first: a racing call sees "not opened" while the render thread is joined */
    c->inited = 0;
    sim_stop_exposure_locked(c); /* drops the frames not on the host and wakes every waiter */
    drop_delivered(c);
    sim_render_stop(c);
}

void sim_unplug_locked(sim_cam *c) {
    c->unplugged = 1; /* first: every call from now on answers POA_ERROR_DEVICE_NOT_FOUND */
    sim_close_locked(c);
}

/* ---- the render thread ---- */
typedef struct render_arg {
    sim_cam *cam;
    unsigned epoch;
} render_arg;

static unsigned g_render_epoch[SIM_MAX_CAMERAS]; /* guarded by the camera's mutex */

static void *render_main(void *p) {
    render_arg a = *(render_arg *)p;
    free(p);
    sim_cam *c = a.cam;
    void *pools = NULL;
    pthread_mutex_lock(&c->mu);
    while (g_render_epoch[c->slot] == a.epoch) {
        if (c->job_state != 1) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        c->job_state = 2;
        sim_frame f = c->job;
        unsigned char *buf = c->job_buf;
        sim_render_ctx ctx = {c->model, &c->opt, c->stars, c->n_stars, c->hot, c->n_hot};
        pthread_mutex_unlock(&c->mu);
        sim_render_frame(&pools, &ctx, &f, buf);
        pthread_mutex_lock(&c->mu);
        c->job_state = 3;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    sim_render_free(&pools);
    return NULL;
}

POAErrors sim_render_start(sim_cam *c) {
    render_arg *a = malloc(sizeof *a);
    if (a == NULL) return POA_ERROR_MEMORY_FAILED;
    a->cam = c;
    a->epoch = ++g_render_epoch[c->slot];
    c->job_state = 0;
    if (pthread_create(&c->render_thread, NULL, render_main, a) != 0) {
        free(a);
        return POA_ERROR_MEMORY_FAILED;
    }
    char name[16];
    snprintf(name, sizeof name, "simcam-%d", c->id);
    pthread_setname_np(c->render_thread, name); /* CPU per thread: /proc/<pid>/task/<tid>/comm */
    c->render_running = 1;
    return POA_OK;
}

void sim_render_stop(sim_cam *c) {
    if (!c->render_running) return;
    while (c->job_state == 1 || c->job_state == 2) pthread_cond_wait(&c->cv, &c->mu); /* finish its frame */
    pthread_t t = c->render_thread;
    c->render_running = 0;
    g_render_epoch[c->slot]++; /* the thread exits at its next look; a later one has a new epoch */
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(t, NULL);
    pthread_mutex_lock(&c->mu);
}

/* Have the render thread write frame f into buf; c locked, returns locked. -1 when the camera
 * was closed meanwhile (its render thread is gone). */
static int render_into(sim_cam *c, const sim_frame *f, unsigned char *buf) {
    while (c->job_state != 0 && c->render_running) pthread_cond_wait(&c->cv, &c->mu); /* another reader's */
    if (!c->render_running) return -1;
    c->job = *f;
    c->job_buf = buf;
    c->job_state = 1;
    pthread_cond_broadcast(&c->cv);
    while (c->job_state != 3) pthread_cond_wait(&c->cv, &c->mu);
    c->job_state = 0;
    pthread_cond_broadcast(&c->cv);
    return 0;
}

/* ---- API ---- */
POACAMERA_API POAErrors POAStartExposure(int nCameraID, POABool bSingleFrame) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    double now = sim_now();
    sim_advance(c, now);
    const sim_fault *busy = &c->faults[FAULT_BUSY_AFTER_FRAME];
    if (!c->inited) return sim_cam_done(c, POA_ERROR_NOT_OPENED);
    if (c->exposing) return sim_cam_done(c, POA_ERROR_EXPOSING);
    if (busy->armed && c->last_frame_t > 0 && now - c->last_frame_t < busy->remaining / 1000.0) {
        sim_fault_log("busy_after_frame %d", c->id);
        return sim_cam_done(c, POA_ERROR_EXPOSING); /* the camera still finishing the last frame (sub-second loops) */
    }
    sim_flush_frames(c);
    c->gen++;
    c->exposing = 1;
    c->stuck = 0;
    c->video = (bSingleFrame == POA_FALSE);
    c->dropped = 0;
    c->next_end = now + c->exposure_s;
    c->link_free = now;
    pthread_cond_broadcast(&c->cv);
    return sim_cam_done(c, POA_OK);
}

POACAMERA_API POAErrors POAStopExposure(int nCameraID) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    sim_stop_exposure_locked(c);
    return sim_cam_done(c, POA_OK);
}

/* A closed camera answers STATE_CLOSED (no open needed); a never-ready exposure stays EXPOSING. */
static void state_of(sim_cam *c, void *out) {
    sim_advance(c, sim_now());
    *(POACameraState *)out = !c->opened ? STATE_CLOSED : (c->exposing ? STATE_EXPOSING : STATE_OPENED);
}

POACAMERA_API POAErrors POAGetCameraState(int nCameraID, POACameraState *pCameraState) {
    return sim_read_cam(nCameraID, LOCK_PLUGGED, state_of, pCameraState);
}

static void ready_of(sim_cam *c, void *out) {
    sim_advance(c, sim_now());
    *(POABool *)out = c->host_len > 0 ? POA_TRUE : POA_FALSE;
}

POACAMERA_API POAErrors POAImageReady(int nCameraID, POABool *pIsReady) {
    return sim_read_cam(nCameraID, LOCK_OPEN, ready_of, pIsReady);
}

/* Why the wait for a frame ended without one, or POA_OK when a frame is on the host. c locked. */
static POAErrors wait_frame(sim_cam *c, double deadline, uint64_t gen, int was_exposing) {
    for (;;) {
        if (c->unplugged) return POA_ERROR_DEVICE_NOT_FOUND;
        if (!c->opened) return POA_ERROR_NOT_OPENED; /* closed by another thread */
        double now = sim_now();
        sim_advance(c, now);
        if (c->host_len > 0) return POA_OK;
        if (was_exposing && c->gen != gen) return POA_ERROR_EXPOSURE_FAILED;
        if (!c->exposing && c->lost_gen == c->gen && c->gen != 0) return POA_ERROR_EXPOSURE_FAILED;
        if (deadline >= 0 && now >= deadline) {
            if (c->exposing && !c->video && sim_fault_armed(c, FAULT_OPFAIL_WAIT)) {
                sim_fault_log("opfail_wait %d", c->id);
                return POA_ERROR_OPERATION_FAILED; /* SDK 3.10.1: a short wait while still exposing */
            }
            return POA_ERROR_TIMEOUT;
        }
        double t = next_event(c);
        if (deadline >= 0 && (t >= NEVER || deadline < t)) t = deadline;
        wait_polling(c, t >= NEVER ? -1 : t);
    }
}

POACAMERA_API POAErrors POAGetImageData(int nCameraID, unsigned char *pBuf, long lBufSize, int nTimeoutms) {
    if (pBuf == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    POAErrors err = POA_OK;
    double deadline = nTimeoutms < 0 ? -1.0 : sim_now() + nTimeoutms / 1000.0;
    size_t need = sim_frame_bytes(c);
    if (!c->inited) {
        err = POA_ERROR_NOT_OPENED;
    } else if (lBufSize < 0 || (unsigned long)lBufSize < need) {
        err = POA_ERROR_SIZE_LESS;
    } else if (c->faults[FAULT_HANG].armed) {
        /* A hung camera: the read waits its whole timeout (to a close, a reset, an unplug). */
        while (c->faults[FAULT_HANG].armed && c->opened && !c->unplugged && (deadline < 0 || sim_now() < deadline)) {
            wait_polling(c, deadline);
        }
        err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : (c->opened ? POA_ERROR_TIMEOUT : POA_ERROR_NOT_OPENED);
    } else if (c->unplug_in_read) {
        /* The cable is pulled while the host reads: ms into the wait, whatever the frame's state. */
        double t = sim_now() + (c->unplug_in_read - 1) / 1000.0;
        c->unplug_in_read = 0;
        while (!c->unplugged && c->opened && sim_now() < t) wait_until(c, t);
        if (!c->unplugged && c->opened) {
            sim_fault_log("unplug_in_read %d", c->id);
            sim_unplug_locked(c);
        }
        err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : POA_ERROR_NOT_OPENED;
    } else {
        err = wait_frame(c, deadline, c->gen, c->exposing);
    }
    if (err == POA_OK) {
        sim_frame f = c->host[c->host_head];
        c->host_head = (c->host_head + 1) % SIM_HOST_SLOTS;
        c->host_len--;
        try_transfer(c, sim_now()); /* a host slot is free: a stalled link moves again */
        if (sim_fault_take(c, FAULT_TIMEOUT)) {
            /* The transfer "hangs": the frame is lost and the call uses its whole timeout. */
            c->dropped += c->video;
            while (!c->unplugged && c->opened && (deadline < 0 || sim_now() < deadline)) wait_polling(c, deadline);
            err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : (c->opened ? POA_ERROR_TIMEOUT : POA_ERROR_NOT_OPENED);
        } else if (render_into(c, &f, pBuf) != 0) {
            err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : POA_ERROR_NOT_OPENED;
        } else {
            c->frames_out++;
            c->last_frame_t = sim_now();
            if (sim_fault_frame_out(c)) sim_unplug_locked(c); /* this frame still arrives */
        }
    }
    return sim_cam_done(c, err);
}

static void dropped_of(sim_cam *c, void *out) {
    sim_advance(c, sim_now());
    *(int *)out = c->dropped;
}

POACAMERA_API POAErrors POAGetDroppedImagesCount(int nCameraID, int *pDroppedCount) {
    return sim_read_cam(nCameraID, LOCK_OPEN, dropped_of, pDroppedCount);
}
