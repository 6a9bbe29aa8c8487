/*
 * Fault injection: what a test can make go wrong, switched on per camera by
 *   - FakePOA_SetFault(id, name, arg) at any time (arg >= 0 arms, arg < 0 clears), or
 *   - environment variables read at every POAOpenCamera: FAKE_POA_FAULTS (all cameras) and then
 *     FAKE_POA_FAULTS_<id> (one camera), each a list "name[=arg],name[=arg]" (arg defaults to 0).
 *     Faults the variables name are (re)armed at each open; faults they do not name keep their
 *     state (so a fault set with FakePOA_SetFault on a closed camera survives its open).
 *
 * arg is a count: 0 = every time until cleared, n > 0 = the next n times, then the fault clears.
 *
 *   never_ready        Exposures never finish: POAImageReady stays FALSE, POAGetCameraState stays
 *                      STATE_EXPOSING, POAGetImageData times out. POAStopExposure (or a new start
 *                      after it) releases the camera; with arg n the next n exposures hang (video
 *                      mode: the stream stalls). The field failure of issues #824/#1165/#1328.
 *   timeout            A finished frame is lost in transfer: POAGetImageData waits its whole timeout
 *                      (until close/unplug when -1) and returns POA_ERROR_TIMEOUT. Counts per call
 *                      that had a frame.
 *   unplug_after       arg = frames: after arg more frames are handed out the camera is gone (the
 *                      last of them still arrives). From then on every call with its ID returns
 *                      POA_ERROR_DEVICE_NOT_FOUND ("camera not found, may be removed"), a waiting
 *                      POAGetImageData returns it at once, and the camera drops out of
 *                      POAGetCameraCount. arg 0 unplugs at once (from the environment: the open
 *                      fails). "replug" brings it back, closed.
 *   corrupt_after_bin  The first frame after POASetImageBin changes the bin is random bytes (cf.
 *                      issue #774, a bin-2 first frame with garbage). Counts per bin change.
 *   open_error         POAOpenCamera fails with POA_ERROR_OPERATION_FAILED (issue #822). From the
 *                      environment, arg n > 0 means "the first n opens in this process fail".
 *   no_12v             The 12 V supply is missing: the camera images but the cooler does nothing
 *                      (the manual). Not counted.
 *   none               (SetFault only) clears every fault of the camera.
 *   replug             (SetFault only) plugs an unplugged camera back in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_internal.h"

static const char *const FAULT_NAMES[FAULT_COUNT] = {
    "never_ready", "timeout", "unplug_after", "corrupt_after_bin", "open_error", "no_12v",
};

int fake_fault_index(const char *name, size_t len) {
    for (int k = 0; k < FAULT_COUNT; k++) {
        if (strlen(FAULT_NAMES[k]) == len && strncmp(FAULT_NAMES[k], name, len) == 0) return k;
    }
    return -1;
}

int fake_fault_armed(const fake_cam *c, enum fake_fault_kind k) { return c->faults[k].armed; }

int fake_fault_take(fake_cam *c, enum fake_fault_kind k) {
    fake_fault *f = &c->faults[k];
    if (!f->armed) return 0;
    if (f->remaining > 0 && --f->remaining == 0) f->armed = 0;
    return 1;
}

int fake_fault_frame_out(fake_cam *c) {
    fake_fault *f = &c->faults[FAULT_UNPLUG_AFTER];
    if (!f->armed) return 0;
    if (--f->remaining > 0) return 0;
    f->armed = 0;
    return 1;
}

/* Arm or clear one fault. c locked. */
void fake_fault_set(fake_cam *c, int k, int arg) {
    if (arg < 0) {
        c->faults[k].armed = 0;
        c->faults[k].remaining = 0;
        return;
    }
    c->faults[k].armed = 1;
    c->faults[k].remaining = arg;
    if (k == FAULT_UNPLUG_AFTER && arg == 0) {
        c->faults[k].armed = 0;
        fake_unplug_locked(c);
    }
}

/* Apply one "name[=arg],..." list. c locked, during POAOpenCamera. */
static void apply_env_list(fake_cam *c, const char *list, const char *var) {
    const char *p = list;
    while (*p) {
        p += strspn(p, " \t,;");
        if (!*p) break;
        size_t len = strcspn(p, " \t,;=");
        int arg = 0;
        const char *next = p + len;
        if (*next == '=') {
            char *end;
            arg = (int)strtol(next + 1, &end, 10);
            next = end;
        }
        int k = fake_fault_index(p, len);
        if (k < 0) {
            fprintf(stderr, "fake PlayerOne SDK: unknown fault '%.*s' in %s ignored\n", (int)len, p, var);
        } else if (k == FAULT_OPEN_ERROR && arg > 0) {
            /* "the first arg opens fail": re-armed at every open, so count the opens instead */
            fake_fault_set(c, k, c->open_attempts <= arg ? 0 : -1);
        } else {
            fake_fault_set(c, k, arg);
        }
        p = next + strcspn(next, ",;");
    }
}

void fake_faults_from_env(fake_cam *c) {
    const char *all = getenv("FAKE_POA_FAULTS");
    if (all) apply_env_list(c, all, "FAKE_POA_FAULTS");
    char name[64];
    snprintf(name, sizeof name, "FAKE_POA_FAULTS_%d", c->id);
    const char *mine = getenv(name);
    if (mine) apply_env_list(c, mine, name);
}

POACAMERA_API int FakePOA_SetFault(int nCameraID, const char *fault, int arg) {
    if (fault == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_ANY, &c);
    if (err != POA_OK) return err;
    if (strcmp(fault, "none") == 0) {
        memset(c->faults, 0, sizeof c->faults);
        fake_fail_calls_clear(c);
        c->unplug_in_read = 0;
    } else if (strcmp(fault, "replug") == 0) {
        c->unplugged = 0; /* unplugging closed it: it comes back closed */
    } else if (strncmp(fault, "fail_call:", 10) == 0) {
        err = (POAErrors)fake_fail_call_arm(c, fault + 10, arg);
    } else if (strcmp(fault, "unplug_in_read") == 0) {
        c->unplug_in_read = arg < 0 ? 0 : 1 + arg;
    } else {
        int k = fake_fault_index(fault, strlen(fault));
        if (k < 0) {
            err = POA_ERROR_INVALID_ARGU;
        } else {
            fake_fault_set(c, k, arg);
        }
    }
    pthread_cond_broadcast(&c->cv);
    fake_unlock_cam(c);
    return err;
}

POACAMERA_API int FakePOA_GetFrameCount(int nCameraID, int *pCount) {
    if (pCount == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    *pCount = c->frames_out;
    fake_unlock_cam(c);
    return POA_OK;
}
