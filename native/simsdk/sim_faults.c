/*
 * Faults: what a test can make go wrong, per camera. Three ways to switch them on:
 *   - SimPOA_SetFault(id, name, arg) at any time (arg >= 0 arms, arg < 0 clears);
 *   - INDI_PLAYERONE_SIM_OPTIONS items "name[=arg]" (every camera) or "name[=arg]@<serial|id>",
 *     (re)armed at every POAOpenCamera; faults not named there keep their state;
 *   - lines of the runtime fault file (sim_fault_file.c), applied while the library runs.
 *
 * arg is a count unless said otherwise: 0 = every time until cleared, n > 0 = the next n times.
 *
 *   never_ready        Exposures never finish: POAImageReady stays FALSE, POAGetCameraState stays
 *                      STATE_EXPOSING, POAGetImageData times out; POAStopExposure (or a new start
 *                      after it) releases the camera. Video: the stream stalls. The field failure
 *                      of indi-3rdparty #824/#1165/#1328.
 *   timeout            A frame is lost in transfer: POAGetImageData waits its whole timeout
 *                      (until close/unplug when -1) and returns POA_ERROR_TIMEOUT. Counted per
 *                      call that had a frame. timeout=0 is the "Exposure timeout" loop reported
 *                      for an Ares-M PRO.
 *   unplug_after=n     After n more frames are handed out the camera is gone (the last of them
 *                      still arrives): every call with its ID answers POA_ERROR_DEVICE_NOT_FOUND,
 *                      a waiting POAGetImageData returns at once, it leaves POAGetCameraCount.
 *                      n = 0 (or "unplug") unplugs now; at open, the open fails.
 *   corrupt_after_bin  The first frame after POASetImageBin changes the bin is random bytes
 *                      (cf. #774). Counted per bin change.
 *   corrupt_next_frame The next frame (default 1; n: the next n) is random bytes: a bad transfer
 *                      the SDK does not detect.
 *   short_next_frame   The next transfer (default 1) loses a USB packet: the SDK drops the short
 *                      frame; video counts it dropped, a snap ends in POA_ERROR_EXPOSURE_FAILED.
 *   open_error         POAOpenCamera fails with POA_ERROR_OPERATION_FAILED (#822). From the
 *                      options, open_error=n means "the first n opens of this camera fail".
 *   no_12v             No 12 V supply: the camera images, the cooler does nothing ("12v" undoes).
 *   snap_stall=n       Every n-th snap exposure (default 2) never becomes ready, video is
 *                      unaffected: the Saturn-C report, which INDIGO works around with the SDK's
 *                      continuous mode for single frames.
 *   busy_after_frame=ms POAStartExposure answers POA_ERROR_EXPOSING for ms (default 500) after a
 *                      frame was read: sub-second loops on a Ceres-M on a Pi 5.
 *   opfail_wait        A POAGetImageData whose wait ends while a snap is still exposing answers
 *                      POA_ERROR_OPERATION_FAILED instead of POA_ERROR_TIMEOUT (SDK 3.10.1).
 *   temp_glitch=n      Every n-th temperature reading (default 3) is -300 C.
 *   hang               The camera stops answering: POAGetImageData waits its timeout, every
 *                      other call but POACloseCamera and POAGetCameraState answers
 *                      POA_ERROR_TIMEOUT, a close works and a reopen fails, until the USB device
 *                      is reset (SimPOA_UsbReset) or the camera replugged.
 * Words of the fault file and SimPOA_SetFault only: none (clears every fault of the camera),
 * unplug, replug (an unplugged camera is back, closed), 12v, unplug_in_read[=ms],
 * fail_call=<POAFunctionName>[:n] (see sim_fault_file.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_internal.h"

static const struct {
    const char *name;
    int default_arg;
} FAULTS[FAULT_COUNT] = {
    [FAULT_NEVER_READY] = {"never_ready", 0},
    [FAULT_TIMEOUT] = {"timeout", 0},
    [FAULT_UNPLUG_AFTER] = {"unplug_after", 0},
    [FAULT_CORRUPT_AFTER_BIN] = {"corrupt_after_bin", 0},
    [FAULT_OPEN_ERROR] = {"open_error", 0},
    [FAULT_NO_12V] = {"no_12v", 0},
    [FAULT_CORRUPT_NEXT] = {"corrupt_next_frame", 1},
    [FAULT_SHORT_NEXT] = {"short_next_frame", 1},
    [FAULT_SNAP_STALL] = {"snap_stall", 2},
    [FAULT_BUSY_AFTER_FRAME] = {"busy_after_frame", 500},
    [FAULT_OPFAIL_WAIT] = {"opfail_wait", 0},
    [FAULT_TEMP_GLITCH] = {"temp_glitch", 3},
    [FAULT_HANG] = {"hang", 0},
};
static const char *const LINE_WORDS[] = {"none", "unplug", "replug", "12v", "unplug_in_read", "fail_call"};

int sim_fault_index(const char *name, size_t len) {
    for (int k = 0; k < FAULT_COUNT; k++) {
        if (strlen(FAULTS[k].name) == len && strncmp(FAULTS[k].name, name, len) == 0) return k;
    }
    return -1;
}

int sim_fault_is_name(const char *name, size_t len) {
    if (sim_fault_index(name, len) >= 0) return 1;
    for (size_t i = 0; i < sizeof LINE_WORDS / sizeof LINE_WORDS[0]; i++) {
        if (strlen(LINE_WORDS[i]) == len && strncmp(LINE_WORDS[i], name, len) == 0) return 1;
    }
    return 0;
}

int sim_fault_armed(const sim_cam *c, enum sim_fault_kind k) { return c->faults[k].armed; }

int sim_fault_take(sim_cam *c, enum sim_fault_kind k) {
    sim_fault *f = &c->faults[k];
    if (!f->armed) return 0;
    if (f->remaining > 0 && --f->remaining == 0) f->armed = 0;
    return 1;
}

int sim_fault_every(sim_cam *c, enum sim_fault_kind k) {
    sim_fault *f = &c->faults[k];
    if (!f->armed) return 0;
    int n = f->remaining > 0 ? f->remaining : 1;
    return ++f->counter % n == 0;
}

int sim_fault_frame_out(sim_cam *c) {
    sim_fault *f = &c->faults[FAULT_UNPLUG_AFTER];
    if (!f->armed) return 0;
    if (--f->remaining > 0) return 0;
    f->armed = 0;
    return 1;
}

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

static int count_arg(const char *arg, int fallback, int *out) {
    if (arg == NULL || *arg == '\0') {
        *out = fallback;
        return 0;
    }
    char *end = NULL;
    long n = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || n < 0 || n > 1000000000L) return -1;
    *out = (int)n;
    return 0;
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
        if (count_arg(arg, 0, &n) != 0) return -1;
        c->unplug_in_read = 1 + n;
    } else if (!strcmp(name, "fail_call")) {
        if (arg == NULL) return -1;
        char func[64];
        sim_copy_str(func, sizeof func, arg);
        char *colon = strchr(func, ':');
        if (colon) *colon++ = '\0';
        if (count_arg(colon, 1, &n) != 0 || sim_fail_call_arm(c, func, n) != POA_OK) return -1;
    } else {
        int k = sim_fault_index(name, strlen(name));
        if (k < 0 || count_arg(arg, FAULTS[k].default_arg, &n) != 0) return -1;
        sim_fault_set(c, k, n);
    }
    pthread_cond_broadcast(&c->cv);
    return 0;
}

/* "@SIM-ARES-C-PRO-0001" (the serial, case ignored) or "@100" (the camera id). c locked. */
static int is_target(const sim_cam *c, const char *target) {
    if (strcasecmp(target, c->serial) == 0) return 1;
    char *end = NULL;
    long id = strtol(target, &end, 10);
    return end != target && *end == '\0' && id == c->id;
}

/* One line of the fault file for the cameras it targets (sim_fault_line_fn). */
static void camera_fault_line(const char *name, const char *arg, const char *target, int *applied, int *refused) {
    for (int i = 0; i < SIM_MAX_CAMERAS; i++) {
        sim_cam *c = sim_slot(i);
        pthread_mutex_lock(&c->mu);
        if (c->present && (target == NULL || is_target(c, target))) {
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
        if (sim_fault_apply(c, name, (k >= 0 && arg == 0 && FAULTS[k].default_arg != 0) ? NULL : text) != 0) {
            sim_config_error("INDI_PLAYERONE_SIM_OPTIONS: fault '%s' cannot be armed at open", name);
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
    sim_unlock_cam(c);
    return err;
}

POACAMERA_API int SimPOA_GetFrameCount(int nCameraID, int *pCount) {
    if (pCount == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    *pCount = c->frames_out;
    sim_unlock_cam(c);
    return POA_OK;
}

/* What the kernel's USB reset (usbdevfs) does to a real camera: a hung camera answers again,
 * closed (the reset drops the host's session, as a replug does). POA_OK also when nothing hung. */
POACAMERA_API int SimPOA_UsbReset(int nCameraID) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_ANY);
    POAErrors err = POA_OK;
    sim_fault_log("usb_reset %d", c->id);
    c->faults[FAULT_HANG].armed = 0;
    sim_close_locked(c);
    pthread_cond_broadcast(&c->cv);
    err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : POA_OK;
    sim_unlock_cam(c);
    return err;
}
