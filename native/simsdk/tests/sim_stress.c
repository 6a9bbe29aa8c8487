/*
 * Stress test of the simulated SDK, for ThreadSanitizer and AddressSanitizer builds (run by
 * tests/simsdk/test_simsdk.py, linked straight to the sources). Per camera, four threads at once:
 *   reader   - POAGetImageData in a loop with short timeouts;
 *   poller   - temperature, cooler power, ready/state/dropped, gain and cooler writes, rescans,
 *              properties, and faults switched on and off (timeout, never_ready, corrupt_after_bin,
 *              short_next_frame, snap_stall, busy_after_frame);
 *   toggler  - stop, change bin/size/format, start again in snap or video mode;
 *   chaos    - close and reopen, or unplug and replug and reopen, every ~100 ms.
 * Every return code must be one the situation allows; at the end every camera is closed and the
 * library reset, so a leak or a late worker shows up. Prints "all passed" and exits 0 on success.
 *
 * usage: sim_stress [milliseconds]
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "PlayerOneCamera.h"

#define N_CAMS 2
static const int IDS[N_CAMS] = {100, 107};

static atomic_int g_stop;
static atomic_int g_failures;
static atomic_long g_frames;

/* Codes any call may meet while another thread closes or unplugs the camera. */
static int gone(POAErrors e) { return e == POA_ERROR_NOT_OPENED || e == POA_ERROR_DEVICE_NOT_FOUND; }

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
    nanosleep(&ts, NULL);
}

static void sleep_ms(int ms) { sleep_us(1000L * ms); }

/* Check a return code, then pause briefly: ThreadSanitizer only sees a race when another thread
 * touches the data before this one takes the camera's lock again, so the pause after every call
 * widens the window of an access made outside the lock. */
static void expect(int good, const char *what, int cid, POAErrors e) {
    if (!good) {
        fprintf(stderr, "camera %d: %s returned %d (%s)\n", cid, what, (int)e, POAGetErrorString(e));
        atomic_fetch_add(&g_failures, 1);
    }
    sleep_us(200);
}

static POAErrors set_float(int cid, POAConfig conf, double v) {
    POAConfigValue u;
    memset(&u, 0, sizeof u);
    u.floatValue = v;
    return POASetConfig(cid, conf, u, POA_FALSE);
}

static POAErrors set_int(int cid, POAConfig conf, long v) {
    POAConfigValue u;
    memset(&u, 0, sizeof u);
    u.intValue = v;
    return POASetConfig(cid, conf, u, POA_FALSE);
}

/* Open, init, small ROI, video: what a driver does at connect. */
static void bring_up(int cid) {
    POAErrors e = POAOpenCamera(cid);
    expect(e == POA_OK || gone(e), "POAOpenCamera", cid, e);
    if (e != POA_OK) return;
    e = POAInitCamera(cid);
    expect(e == POA_OK || gone(e), "POAInitCamera", cid, e);
    e = POASetImageSize(cid, 128, 64); /* the toggler may have started an exposure already */
    expect(e == POA_OK || gone(e) || e == POA_ERROR_EXPOSING, "POASetImageSize", cid, e);
    e = set_float(cid, POA_EXP, 0.003);
    expect(e == POA_OK || gone(e), "POASetConfig(EXP)", cid, e);
    e = POAStartExposure(cid, POA_FALSE);
    expect(e == POA_OK || gone(e) || e == POA_ERROR_EXPOSING, "POAStartExposure", cid, e);
}

static void *reader(void *arg) {
    int cid = *(const int *)arg;
    size_t cap = 3856u * 2180u * 3u; /* any ROI of either camera in any format */
    unsigned char *buf = malloc(cap);
    while (!atomic_load(&g_stop)) {
        POAErrors e = POAGetImageData(cid, buf, (long)cap, 50);
        if (e == POA_OK) atomic_fetch_add(&g_frames, 1);
        expect(e == POA_OK || e == POA_ERROR_TIMEOUT || e == POA_ERROR_EXPOSURE_FAILED || gone(e),
               "POAGetImageData", cid, e);
        if (e != POA_OK && e != POA_ERROR_TIMEOUT) sleep_ms(1);
    }
    free(buf);
    return NULL;
}

static void *poller(void *arg) {
    int cid = *(const int *)arg;
    static const char *const faults[] = {"timeout",          "never_ready", "corrupt_after_bin",
                                         "short_next_frame", "snap_stall",  "busy_after_frame"};
    for (long n = 0; !atomic_load(&g_stop); n++) {
        POAConfigValue v;
        POABool is_auto, ready;
        POACameraState st;
        int dropped;
        POAErrors e = POAGetConfig(cid, POA_TEMPERATURE, &v, &is_auto);
        expect(e == POA_OK || gone(e), "POAGetConfig(TEMPERATURE)", cid, e);
        e = POAGetConfig(cid, POA_COOLER_POWER, &v, &is_auto);
        expect(e == POA_OK || gone(e), "POAGetConfig(COOLER_POWER)", cid, e);
        e = POAImageReady(cid, &ready);
        expect(e == POA_OK || gone(e), "POAImageReady", cid, e);
        e = POAGetCameraState(cid, &st);
        expect(e == POA_OK || e == POA_ERROR_DEVICE_NOT_FOUND, "POAGetCameraState", cid, e);
        e = POAGetDroppedImagesCount(cid, &dropped);
        expect(e == POA_OK || gone(e), "POAGetDroppedImagesCount", cid, e);
        e = set_int(cid, POA_GAIN, n % 600);
        expect(e == POA_OK || gone(e), "POASetConfig(GAIN)", cid, e);
        e = set_int(cid, POA_COOLER, n % 2);
        expect(e == POA_OK || gone(e), "POASetConfig(COOLER)", cid, e);
        int count = POAGetCameraCount();
        expect(count >= 0 && count <= N_CAMS, "POAGetCameraCount", cid, POA_OK);
        POACameraProperties p;
        e = POAGetCameraProperties(0, &p);
        expect(e == POA_OK || e == POA_ERROR_INVALID_INDEX, "POAGetCameraProperties", cid, e);
        if (n % 50 == 0) {
            e = (POAErrors)SimPOA_SetFault(cid, faults[(n / 50) % 6], 1);
            expect(e == POA_OK, "SimPOA_SetFault", cid, e);
        }
        sleep_ms(1);
    }
    return NULL;
}

static void *toggler(void *arg) {
    int cid = *(const int *)arg;
    for (int n = 0; !atomic_load(&g_stop); n++) {
        POAErrors e = POAStopExposure(cid);
        expect(e == POA_OK || gone(e), "POAStopExposure", cid, e);
        e = POASetImageBin(cid, 1 + n % 2);
        expect(e == POA_OK || gone(e) || e == POA_ERROR_EXPOSING, "POASetImageBin", cid, e);
        e = POASetImageSize(cid, 64 + 4 * (n % 16), 64);
        expect(e == POA_OK || gone(e) || e == POA_ERROR_EXPOSING, "POASetImageSize", cid, e);
        e = POASetImageFormat(cid, n % 3 ? POA_RAW16 : POA_RAW8);
        expect(e == POA_OK || gone(e) || e == POA_ERROR_EXPOSING, "POASetImageFormat", cid, e);
        e = POAStartExposure(cid, n % 4 == 0 ? POA_TRUE : POA_FALSE);
        expect(e == POA_OK || gone(e) || e == POA_ERROR_EXPOSING, "POAStartExposure", cid, e);
        sleep_ms(15);
    }
    return NULL;
}

static void *chaos(void *arg) {
    int cid = *(const int *)arg;
    for (int n = 0; !atomic_load(&g_stop); n++) {
        sleep_ms(100);
        if (n % 3 == 2) {
            POAErrors e = (POAErrors)SimPOA_SetFault(cid, "unplug_after", 0);
            expect(e == POA_OK, "SimPOA_SetFault(unplug)", cid, e);
            sleep_ms(20);
            e = (POAErrors)SimPOA_SetFault(cid, "replug", 0);
            expect(e == POA_OK, "SimPOA_SetFault(replug)", cid, e);
        } else {
            POAErrors e = POACloseCamera(cid);
            expect(e == POA_OK || e == POA_ERROR_DEVICE_NOT_FOUND, "POACloseCamera", cid, e);
        }
        bring_up(cid);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int ms = argc > 1 ? atoi(argv[1]) : 1000;
    setenv("INDI_PLAYERONE_SIMULATE", "Apollo-M MAX PRO,Uranus-C PRO", 1);
    setenv("INDI_PLAYERONE_SIM_OPTIONS", "cooler_tau=0.5", 1);
    if (POAGetCameraCount() != N_CAMS) {
        fprintf(stderr, "expected %d cameras\n", N_CAMS);
        return 1;
    }
    for (int i = 0; i < N_CAMS; i++) bring_up(IDS[i]);
    pthread_t threads[N_CAMS][4];
    void *(*const fns[4])(void *) = {reader, poller, toggler, chaos};
    for (int i = 0; i < N_CAMS; i++) {
        for (int k = 0; k < 4; k++) pthread_create(&threads[i][k], NULL, fns[k], (void *)&IDS[i]);
    }
    sleep_ms(ms);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < N_CAMS; i++) {
        for (int k = 0; k < 4; k++) pthread_join(threads[i][k], NULL);
    }
    for (int i = 0; i < N_CAMS; i++) {
        POAErrors e = POACloseCamera(IDS[i]);
        expect(e == POA_OK || e == POA_ERROR_DEVICE_NOT_FOUND, "final POACloseCamera", IDS[i], e);
    }
    SimPOA_Reset();
    long frames = atomic_load(&g_frames);
    int failures = atomic_load(&g_failures);
    printf("%ld frames, %d failures\n", frames, failures);
    if (frames == 0 || failures != 0) return 1;
    printf("all passed\n");
    return 0;
}
