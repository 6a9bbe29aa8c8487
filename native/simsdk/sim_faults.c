/*
 * Faults: what a test can make go wrong, per camera. Three ways to switch them on:
 *   - SimPOA_SetFault(id, name, arg) at any time (arg >= 0 arms, arg < 0 clears);
 *   - INDI_PLAYERONE_SIM_OPTIONS items "name[=arg]" (every camera) or "name[=arg]@<serial|id>",
 *     (re)armed at every POAOpenCamera; faults not named there keep their state;
 *   - lines of the runtime fault file (sim_fault_file.c), applied while the library runs.
 *
 * Which faults there are and what each does: sim_fault_kinds.c. The words of the fault file and
 * SimPOA_SetFault only: none (clears every fault of the camera),
 * unplug, replug (an unplugged camera is back, closed), 12v, unplug_in_read[=ms],
 * fail_call=<POAFunctionName>[:n] (see sim_fault_file.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Arm or clear one fault. c locked. */
void sim_fault_set(sim_cam *c, int k, int arg) {
    if (k == FAULT_NO_12V && c->opened) sim_thermal_changed(c); /* up to now under the old supply */
    c->faults[k].counter = 0;
    if (arg < 0) {
        c->faults[k].armed = 0;
        c->faults[k].remaining = 0;
        return;
    }
    c->faults[k].armed = 1;
    c->faults[k].remaining = arg;
    if (k == FAULT_UNPLUG_AFTER && arg == 0) {
        c->faults[k].armed = 0;
        sim_unplug_locked(c);
    }
}

static void clear_all(sim_cam *c) {
    if (c->opened) sim_thermal_changed(c);
    memset(c->faults, 0, sizeof c->faults);
    sim_fail_calls_clear(c);
    c->unplug_in_read = 0;
}

int sim_fault_apply(sim_cam *c, const char *name, const char *arg) {
    int n = 0;
    if (!strcmp(name, "none")) {
        clear_all(c);
    } else if (!strcmp(name, "unplug")) {
        sim_fault_set(c, FAULT_UNPLUG_AFTER, 0);
    } else if (!strcmp(name, "replug")) {
        c->unplugged = 0; /* unplugging closed it: it comes back closed */
        c->faults[FAULT_HANG].armed = 0;
    } else if (!strcmp(name, "12v")) {
        sim_fault_set(c, FAULT_NO_12V, -1);
    } else if (!strcmp(name, "unplug_in_read")) {
        if (sim_count_arg(arg, 0, &n) != 0) return -1;
        c->unplug_in_read = 1 + n;
    } else if (!strcmp(name, "fail_call")) {
        if (arg == NULL) return -1;
        char func[64];
        sim_copy_str(func, sizeof func, arg);
        char *colon = strchr(func, ':');
        if (colon) *colon++ = '\0';
        if (sim_count_arg(colon, 1, &n) != 0 || sim_fail_call_arm(c, func, n) != POA_OK) return -1;
    } else {
        int k = sim_fault_index(name, strlen(name));
        if (k < 0 || sim_count_arg(arg, sim_fault_default_arg(k), &n) != 0) return -1;
        sim_fault_set(c, k, n);
    }
    pthread_cond_broadcast(&c->cv);
    return 0;
}

/* One line of the fault file for the cameras it targets (sim_fault_line_fn). */
static void camera_fault_line(const char *name, const char *arg, const char *target, int *applied, int *refused) {
    for (int i = 0; i < SIM_MAX_CAMERAS; i++) {
        sim_cam *c = sim_slot(i);
        pthread_mutex_lock(&c->mu);
        if (c->present && (target == NULL || sim_is_target(target, c->serial, c->id))) {
            if (sim_fault_apply(c, name, arg) == 0) ++*applied;
            else ++*refused;
        }
        pthread_mutex_unlock(&c->mu);
    }
}

/* The cameras take the fault file's lines first, from the moment the library is loaded. */
__attribute__((constructor)) static void take_fault_lines(void) {
    sim_fault_file_take_lines(SIM_LINES_CAMERAS, camera_fault_line);
}

/* The options' faults and no12v, at every open. c locked. */
void sim_faults_at_open(sim_cam *c) {
    if (c->opt.no_12v) sim_fault_set(c, FAULT_NO_12V, 0);
    for (int i = 0; i < c->opt.n_faults; i++) {
        const char *name = c->opt.fault_name[i];
        int arg = c->opt.fault_arg[i];
        if (!strcmp(name, "open_error") && arg > 0) {
            /* "the first arg opens fail": re-armed at every open, so count the opens instead */
            sim_fault_set(c, FAULT_OPEN_ERROR, c->open_attempts <= arg ? 0 : -1);
            continue;
        }
        char text[16];
        snprintf(text, sizeof text, "%d", arg);
        int k = sim_fault_index(name, strlen(name));
        /* a bare name in the options takes the fault's own default (corrupt_next_frame: 1) */
        if (sim_fault_apply(c, name, (k >= 0 && arg == 0 && sim_fault_default_arg(k) != 0) ? NULL : text) != 0) {
            sim_problem(&sim_camera_problems, "INDI_PLAYERONE_SIM_OPTIONS: fault '%s' cannot be armed at open", name);
        }
        if (c->unplugged) break;
    }
}

POACAMERA_API int SimPOA_SetFault(int nCameraID, const char *fault, int arg) {
    if (fault == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_ANY);
    POAErrors err = POA_OK;
    if (!strcmp(fault, "none") || !strcmp(fault, "replug") || !strcmp(fault, "unplug") || !strcmp(fault, "12v")) {
        sim_fault_apply(c, fault, NULL);
    } else if (strncmp(fault, "fail_call:", 10) == 0) {
        err = (POAErrors)sim_fail_call_arm(c, fault + 10, arg);
    } else if (strcmp(fault, "unplug_in_read") == 0) {
        c->unplug_in_read = arg < 0 ? 0 : 1 + arg;
    } else {
        int k = sim_fault_index(fault, strlen(fault));
        if (k < 0) {
            err = POA_ERROR_INVALID_ARGU;
        } else {
            sim_fault_set(c, k, arg);
        }
    }
    pthread_cond_broadcast(&c->cv);
    return sim_cam_done(c, err);
}

static void frames_out_of(sim_cam *c, void *out) { *(int *)out = c->frames_out; }

POACAMERA_API int SimPOA_GetFrameCount(int nCameraID, int *pCount) {
    return sim_read_cam(nCameraID, LOCK_OPEN, frames_out_of, pCount);
}

/* What the kernel's USB reset (usbdevfs) does to a real camera: a hung camera answers again,
 * closed (the reset drops the host's session, as a replug does). POA_OK also when nothing hung. */
POACAMERA_API int SimPOA_UsbReset(int nCameraID) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_ANY);
    sim_fault_log("usb_reset %d", c->id);
    c->faults[FAULT_HANG].armed = 0;
    sim_close_locked(c);
    pthread_cond_broadcast(&c->cv);
    return sim_cam_done(c, c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : POA_OK);
}
