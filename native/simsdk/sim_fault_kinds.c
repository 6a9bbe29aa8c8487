/*
 * The faults a camera can have: their words, the argument each takes when none is given, and
 * the counters that decide when an armed one fires. Arming them is sim_faults.c's.
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
 * Words of the fault file and SimPOA_SetFault only (LINE_WORDS): none, unplug, replug, 12v,
 * unplug_in_read, fail_call (see sim_faults.c and sim_fault_file.c).
 */
#include <string.h>

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

int sim_fault_default_arg(int k) { return FAULTS[k].default_arg; }

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
