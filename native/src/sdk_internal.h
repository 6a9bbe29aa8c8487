/* What the three parts of our SDK layer share (not exposed to Python): the vendor's types,
 * the loaded library's function table, one camera's state (clocks and timed waits: poa_clock.h).
 *
 *   sdk_library.c  dlopen, the function table, enumeration (a library-wide lock)
 *   sdk_camera.c   the per-camera SDK lock and the plain calls made under it
 *   sdk_reader.c   the reader thread (created, closed and destroyed with the camera): single
 *                  exposures with their watchdog, video runs
 *
 * The vendor's types (structures, enum values) come from the project's one statement of the
 * SDK's C API, simsdk/PlayerOneCamera.h (our wording of the interface facts, see
 * docs/upstream-facts.md), which the simulated SDK implements and which checks the layouts
 * with static assertions; nothing of the vendor's header or library is copied or linked. The
 * function table below passes enums as int (same size and class in every ABI the SDK ships
 * for). */
#ifndef POA_SDK_INTERNAL_H
#define POA_SDK_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* First: poa_common.h defines POA_OK as a macro, which must not rewrite the header's enum. */
#include "../simsdk/PlayerOneCamera.h"

#include "poa_clock.h"
#include "poa_common.h"
#include "poa_ring.h"
#include "poa_sdk.h"

/* X(required, name, return type, parameters) */
#define POA_SDK_FUNCS(X)                                                                       \
    X(1, POAGetCameraCount, int, (void))                                                       \
    X(1, POAGetCameraProperties, int, (int, POACameraProperties *))                            \
    X(1, POAGetCameraPropertiesByID, int, (int, POACameraProperties *))                        \
    X(1, POAOpenCamera, int, (int))                                                            \
    X(1, POAInitCamera, int, (int))                                                            \
    X(1, POACloseCamera, int, (int))                                                           \
    X(1, POAGetConfigsCount, int, (int, int *))                                                \
    X(1, POAGetConfigAttributes, int, (int, int, POAConfigAttributes *))                       \
    X(1, POAGetConfigAttributesByConfigID, int, (int, int, POAConfigAttributes *))             \
    X(1, POASetConfig, int, (int, int, POAConfigValue, int))                                   \
    X(1, POAGetConfig, int, (int, int, POAConfigValue *, int *))                               \
    X(1, POAGetConfigValueType, int, (int, int *))                                             \
    X(1, POAGetImageStartPos, int, (int, int *, int *))                                        \
    X(1, POASetImageStartPos, int, (int, int, int))                                            \
    X(1, POAGetImageSize, int, (int, int *, int *))                                            \
    X(1, POASetImageSize, int, (int, int, int))                                                \
    X(1, POAGetImageBin, int, (int, int *))                                                    \
    X(1, POASetImageBin, int, (int, int))                                                      \
    X(1, POAGetImageFormat, int, (int, int *))                                                 \
    X(1, POASetImageFormat, int, (int, int))                                                   \
    X(1, POAStartExposure, int, (int, int))                                                    \
    X(1, POAStopExposure, int, (int))                                                          \
    X(1, POAGetCameraState, int, (int, int *))                                                 \
    X(1, POAGetImageData, int, (int, unsigned char *, long, int))                              \
    X(1, POAGetErrorString, const char *, (int))                                               \
    X(1, POAGetAPIVersion, int, (void))                                                        \
    X(1, POAGetSDKVersion, const char *, (void))                                               \
    X(0, POAImageReady, int, (int, int *))                                                     \
    X(0, POAGetDroppedImagesCount, int, (int, int *))                                          \
    X(0, POAGetSensorModeCount, int, (int, int *))                                             \
    X(0, POAGetSensorModeInfo, int, (int, int, POASensorModeInfo *))                           \
    X(0, POASetSensorMode, int, (int, int))                                                    \
    X(0, POAGetSensorMode, int, (int, int *))                                                  \
    X(0, POAGetGainsAndOffsets, int,                                                           \
      (int, int *, int *, int *, int *, int *, int *, int *, int *))                         \
    X(0, POASetUserCustomID, int, (int, const char *, int))                                   \
    X(0, POASetEnableDPS, int, (int, const int *))

struct poa_sdk {
    void *handle;
    pthread_mutex_t enum_mu; /* enumeration calls (bus scans) */
#define X(req, name, ret, args) ret(*name) args;
    POA_SDK_FUNCS(X)
#undef X
    char missing_optional[512];
    int (*SimPOA_GetConfigError)(char *, int); /* the simulated SDK only: not an SDK function */
};

/* ---- small helpers --------------------------------------------------------------------- */

static inline void copy_str(char *dst, size_t dst_size, const char *src, size_t src_size)
{
    size_t n = 0;
    while (n < src_size && n + 1 < dst_size && src[n]) n++;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- one camera ------------------------------------------------------------------------ */

struct poa_sdk_cam {
    poa_sdk_t *s;
    int id;
    pthread_mutex_t mu;      /* guards everything below, never held across an SDK call */
    pthread_cond_t cv_lock;  /* the SDK lock became free */
    pthread_cond_t cv_job;   /* reader: a job, an abort, quit */
    pthread_cond_t cv_done;  /* waiters: the result changed, the reader became idle */
    int locked;              /* the SDK lock (a flag, so it can be waited for with a timeout) */
    /* Hand-off: a release while others wait reserves the lock for one of them (see
     * poa__sdk_lock in sdk_camera.c). */
    int lock_waiters;        /* threads waiting for the SDK lock */
    int handoff_left;        /* threads that waited at the last release and wait still; while
                              * > 0 the lock is reserved for them */
    uint64_t releases;       /* SDK lock releases so far (a waiter's own: since it waited) */
    pthread_t thread;
    int quit;
    poa_ring_t *ring;
    int busy;      /* a job is owned by expose/the reader (until its SDK calls are done) */
    int job_ready; /* the reader may run it */
    int abort;
    poa_sdk_exposure_t job;
    struct timespec t0; /* cond clock: when the current attempt started */
    uint64_t t0_real_ns;
    poa_sdk_result_t res;
    /* video mode (busy + video: the reader runs run_video instead of run_job) */
    int video;
    poa_sdk_video_t vjob;
    poa_sdk_video_stats_t vstats;
};

/* sdk_library.c: the vendor's camera properties in our fixed-width form. */
void poa__sdk_convert_props(const POACameraProperties *p, poa_sdk_camera_props_t *o);

/* sdk_camera.c: the camera's SDK lock. lock_ms < 0 waits for ever, 0 tries once; POA_OK or
 * POA_SDK_EBUSY. Every SDK call for the camera is made holding it (the SDK is not documented
 * as thread-safe). */
int poa__sdk_lock(poa_sdk_cam_t *c, int lock_ms);
void poa__sdk_unlock(poa_sdk_cam_t *c);

#endif
