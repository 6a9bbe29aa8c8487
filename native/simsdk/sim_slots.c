/*
 * The process-wide table of camera slots, and the lookup every entry point that takes a camera
 * ID starts with (sim_lock_cam: the runtime fault file polled, the camera locked, its checks and
 * its armed fail_call and hang faults answered), its end (sim_cam_done) and the whole of the
 * entry points that only read their camera (sim_read_cam). The table is fixed (SIM_MAX_CAMERAS slots,
 * never freed): see sim_internal.h.
 */
#include <string.h>

#include "sim_internal.h"

static sim_cam g_cams[SIM_MAX_CAMERAS];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_slots(void) {
    for (int i = 0; i < SIM_MAX_CAMERAS; i++) {
        sim_cam *c = &g_cams[i];
        pthread_mutex_init(&c->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        /* Waits are on the monotonic clock: a wall-clock step must not stretch a timeout. */
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->cv, &ca);
        pthread_condattr_destroy(&ca);
        c->slot = i;
        c->id = SIM_ID_BASE + SIM_ID_STEP * i;
    }
}

static void ensure_init(void) { pthread_once(&g_once, init_slots); }

sim_cam *sim_slot(int slot) {
    ensure_init();
    return &g_cams[slot];
}

POAErrors sim_lock_cam_fn(int id, enum sim_lock_need need, sim_cam **out, const char *func) {
    ensure_init();
    sim_fault_file_poll(); /* before any lock: applying a line locks cameras */
    if (id < SIM_ID_BASE || (id - SIM_ID_BASE) % SIM_ID_STEP != 0) return POA_ERROR_INVALID_ID;
    int slot = (id - SIM_ID_BASE) / SIM_ID_STEP;
    if (slot >= SIM_MAX_CAMERAS) return POA_ERROR_INVALID_ID;
    sim_cam *c = &g_cams[slot];
    pthread_mutex_lock(&c->mu);
    POAErrors err = POA_OK;
    if (!c->present) {
        err = POA_ERROR_INVALID_ID;
    } else if (need != LOCK_ANY && c->unplugged) {
        err = POA_ERROR_DEVICE_NOT_FOUND;
    } else if (need == LOCK_OPEN && !c->opened) {
        err = POA_ERROR_NOT_OPENED;
    }
    if (err == POA_OK && sim_fail_call_take(c, func)) err = POA_ERROR_OPERATION_FAILED;
    if (err == POA_OK && need != LOCK_ANY && c->faults[FAULT_HANG].armed && strcmp(func, "POACloseCamera") != 0 &&
        strcmp(func, "POAGetCameraState") != 0 && strcmp(func, "POAGetImageData") != 0) {
        err = POA_ERROR_TIMEOUT; /* a hung camera: only a USB reset brings it back */
    }
    if (err != POA_OK) {
        pthread_mutex_unlock(&c->mu);
        return err;
    }
    *out = c;
    return POA_OK;
}

POAErrors sim_cam_done(sim_cam *c, POAErrors err) {
    pthread_mutex_unlock(&c->mu);
    return err;
}

POAErrors sim_read_cam_fn(int id, enum sim_lock_need need, sim_cam_read read, void *out, const char *func) {
    if (out == NULL) return POA_ERROR_POINTER;
    sim_cam *c;
    POAErrors err = sim_lock_cam_fn(id, need, &c, func);
    if (err != POA_OK) return err;
    read(c, out);
    return sim_cam_done(c, POA_OK);
}
