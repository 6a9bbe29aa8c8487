/* The vendor SDK (libPlayerOneCamera) loaded with dlopen, a lock per camera, and the
 * readout thread. See include/poa_sdk.h for the API and the reasons behind it.
 *
 * The vendor's types are declared here, privately, from the C API facts (structure layouts,
 * enum values, signatures); nothing of the vendor's header or library is copied or linked.
 * Enums are passed as int (same size and class in every ABI the SDK ships for). */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "poa_common.h"
#include "poa_ring.h"
#include "poa_sdk.h"

/* ---- the vendor's types ----------------------------------------------------------------- */

typedef struct {
    char cameraModelName[256];
    char userCustomID[16];
    int cameraID;
    int maxWidth;
    int maxHeight;
    int bitDepth;
    int isColorCamera;
    int isHasST4Port;
    int isHasCooler;
    int isUSB3Speed;
    int bayerPattern;
    double pixelSize;
    char SN[64];
    char sensorModelName[32];
    char localPath[256];
    int bins[8];
    int imgFormats[8];
    int isSupportHardBin;
    int pID;
    char reserved[248];
} POACameraProperties;

/* `long` is 8 bytes on LP64 (x86-64, aarch64) and 4 on 32-bit ARM; the double makes the
 * union 8 bytes, 8-aligned, everywhere. */
typedef union {
    long intValue;
    double floatValue;
    int boolValue;
} POAConfigValue;

typedef struct {
    int isSupportAuto;
    int isWritable;
    int isReadable;
    int configID;
    int valueType;
    POAConfigValue maxValue;
    POAConfigValue minValue;
    POAConfigValue defaultValue;
    char szConfName[64];
    char szDescription[128];
    char reserved[64];
} POAConfigAttributes;

typedef struct {
    char name[64];
    char desc[128];
} POASensorModeInfo;

/* The layouts of the facts file (gcc, x86-64 LP64; aarch64 and armhf EABI identical because
 * double is 8-aligned there). 32-bit x86 aligns double to 4 inside structs: not checked. */
#if !defined(__i386__)
_Static_assert(sizeof(POACameraProperties) == 992, "POACameraProperties layout");
_Static_assert(offsetof(POACameraProperties, pixelSize) == 312, "pixelSize offset");
_Static_assert(offsetof(POACameraProperties, bins) == 672, "bins offset");
_Static_assert(offsetof(POACameraProperties, pID) == 740, "pID offset");
_Static_assert(sizeof(POAConfigValue) == 8, "POAConfigValue size");
_Static_assert(sizeof(POAConfigAttributes) == 304, "POAConfigAttributes layout");
_Static_assert(offsetof(POAConfigAttributes, maxValue) == 24, "maxValue offset");
_Static_assert(offsetof(POAConfigAttributes, szConfName) == 48, "szConfName offset");
_Static_assert(sizeof(POASensorModeInfo) == 192, "POASensorModeInfo layout");
#endif

#define VAL_INT 0
#define VAL_FLOAT 1
#define VAL_BOOL 2

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
    X(0, POASetUserCustomID, int, (int, const char *, int))

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

static void copy_str(char *dst, size_t dst_size, const char *src, size_t src_size)
{
    size_t n = 0;
    while (n < src_size && n + 1 < dst_size && src[n]) n++;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
#if !defined(__APPLE__)
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
#endif
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

static struct timespec cond_now(void)
{
    struct timespec t;
#if defined(__APPLE__)
    clock_gettime(CLOCK_REALTIME, &t);
#else
    clock_gettime(CLOCK_MONOTONIC, &t);
#endif
    return t;
}

static struct timespec ts_add_ms(struct timespec t, int64_t ms)
{
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static int ts_before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static uint64_t realtime_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* ---- the library ----------------------------------------------------------------------- */

int poa_sdk_load(const char *path, poa_sdk_t **out, char *err, size_t errlen)
{
    if (!path || !out) return POA_EINVAL;
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        if (err && errlen) snprintf(err, errlen, "%s", why ? why : "dlopen failed");
        return POA_SDK_ELOAD;
    }
    poa_sdk_t *s = calloc(1, sizeof *s);
    if (!s) return POA_ENOMEM; /* the mapping stays: see poa_sdk_unload */
    s->handle = h;
    char missing[1024] = "";
    size_t mlen = 0, olen = 0;
#define X(req, name, ret, args)                                                                \
    s->name = (ret(*) args)dlsym(h, #name);                                                    \
    if (!s->name) {                                                                            \
        char *buf = (req) ? missing : s->missing_optional;                                     \
        size_t cap = (req) ? sizeof missing : sizeof s->missing_optional;                      \
        size_t *len = (req) ? &mlen : &olen;                                                   \
        int n = snprintf(buf + *len, cap - *len, "%s%s", *len ? ", " : "", #name);             \
        if (n > 0 && *len + (size_t)n < cap) *len += (size_t)n;                                \
    }
    POA_SDK_FUNCS(X)
#undef X
    if (mlen) {
        if (err && errlen) snprintf(err, errlen, "missing required symbols: %s", missing);
        free(s);
        return POA_SDK_EMISSING;
    }
    s->SimPOA_GetConfigError = (int (*)(char *, int))dlsym(h, "SimPOA_GetConfigError");
    pthread_mutex_init(&s->enum_mu, NULL);
    *out = s;
    return POA_OK;
}

void poa_sdk_unload(poa_sdk_t *s)
{
    if (!s) return;
    pthread_mutex_destroy(&s->enum_mu);
    free(s);
}

int poa_sdk_has(const poa_sdk_t *s, const char *name)
{
    if (!s || !name) return 0;
#define X(req, fn, ret, args) \
    if (strcmp(name, #fn) == 0) return s->fn != NULL;
    POA_SDK_FUNCS(X)
#undef X
    return 0;
}

const char *poa_sdk_missing_optional(const poa_sdk_t *s) { return s ? s->missing_optional : ""; }

const char *poa_sdk_error_string(poa_sdk_t *s, int code)
{
    switch (code) {
    case POA_SDK_ENOSYM: return "function not exported by this SDK version";
    case POA_SDK_EBUSY: return "camera busy (lock not free in time)";
    case POA_EINVAL: return "invalid argument";
    case POA_ESTATE: return "call not valid in this state";
    case POA_ECLOSED: return "frame ring closed";
    case POA_ENOMEM: return "out of memory";
    default: break;
    }
    if (code < 0 || !s) return "error";
    const char *t = s->POAGetErrorString(code);
    return t ? t : "unknown error";
}

int poa_sdk_api_version(poa_sdk_t *s) { return s ? s->POAGetAPIVersion() : 0; }

const char *poa_sdk_version(poa_sdk_t *s)
{
    const char *v = s ? s->POAGetSDKVersion() : NULL;
    return v ? v : "";
}

int poa_sdk_sim_config_error(poa_sdk_t *s, char *buf, size_t len)
{
    if (!s || !buf || len == 0 || len > INT_MAX) return POA_EINVAL;
    buf[0] = '\0';
    if (!s->SimPOA_GetConfigError) return POA_SDK_ENOSYM;
    int n = s->SimPOA_GetConfigError(buf, (int)len);
    buf[len - 1] = '\0';
    return n < 0 ? 0 : n;
}

static void convert_props(const POACameraProperties *p, poa_sdk_camera_props_t *o)
{
    memset(o, 0, sizeof *o);
    copy_str(o->model, sizeof o->model, p->cameraModelName, sizeof p->cameraModelName);
    copy_str(o->custom_id, sizeof o->custom_id, p->userCustomID, sizeof p->userCustomID);
    o->camera_id = p->cameraID;
    o->max_width = p->maxWidth;
    o->max_height = p->maxHeight;
    o->bit_depth = p->bitDepth;
    o->is_color = p->isColorCamera;
    o->has_st4 = p->isHasST4Port;
    o->has_cooler = p->isHasCooler;
    o->usb3 = p->isUSB3Speed;
    o->bayer = p->bayerPattern;
    o->pixel_size_um = p->pixelSize;
    copy_str(o->serial, sizeof o->serial, p->SN, sizeof p->SN);
    copy_str(o->sensor, sizeof o->sensor, p->sensorModelName, sizeof p->sensorModelName);
    copy_str(o->local_path, sizeof o->local_path, p->localPath, sizeof p->localPath);
    for (int i = 0; i < 8; i++) {
        o->bins[i] = p->bins[i];
        o->formats[i] = p->imgFormats[i];
    }
    o->supports_hard_bin = p->isSupportHardBin;
    o->product_id = p->pID;
}

int poa_sdk_camera_count(poa_sdk_t *s)
{
    if (!s) return POA_EINVAL;
    pthread_mutex_lock(&s->enum_mu);
    int n = s->POAGetCameraCount();
    pthread_mutex_unlock(&s->enum_mu);
    return n;
}

static int props_call(poa_sdk_t *s, int by_id, int arg, poa_sdk_camera_props_t *out)
{
    if (!s || !out) return POA_EINVAL;
    POACameraProperties p;
    memset(&p, 0, sizeof p);
    pthread_mutex_lock(&s->enum_mu);
    int rc = by_id ? s->POAGetCameraPropertiesByID(arg, &p) : s->POAGetCameraProperties(arg, &p);
    pthread_mutex_unlock(&s->enum_mu);
    if (rc == 0) convert_props(&p, out);
    return rc;
}

int poa_sdk_camera_props(poa_sdk_t *s, int index, poa_sdk_camera_props_t *out)
{
    return props_call(s, 0, index, out);
}

int poa_sdk_camera_props_by_id(poa_sdk_t *s, int camera_id, poa_sdk_camera_props_t *out)
{
    return props_call(s, 1, camera_id, out);
}

int poa_sdk_config_value_type(poa_sdk_t *s, int config_id, int *value_type)
{
    if (!s || !value_type) return POA_EINVAL;
    return s->POAGetConfigValueType(config_id, value_type);
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
    /* Hand-off: a release while others wait reserves the lock for one of them (see sdk_lock). */
    int lock_waiters;        /* threads waiting for the SDK lock */
    int handoff;             /* the lock is reserved for a thread that waited at the release */
    int handoff_left;        /* those threads still waiting */
    uint64_t releases;       /* SDK lock releases so far (handoff: the one that reserved it) */
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

/* The SDK lock. Fair between the reader and the API calls: a thread that releases it while
 * others wait cannot take it back before one of them had it. Without that, the video reader,
 * which releases the lock after each POAGetImageData slice and asks for it again at once, won
 * the race nearly every time: with a stream running, a guide pulse's POASetConfig waited 0.3 to
 * 17 s (measured), so a 2 s pulse lasted up to 19 s. */
static int sdk_lock(poa_sdk_cam_t *c, int lock_ms)
{
    pthread_mutex_lock(&c->mu);
    struct timespec deadline = ts_add_ms(cond_now(), lock_ms > 0 ? lock_ms : 0);
    int waiting = 0, mine = 0;
    uint64_t since = 0; /* releases before this thread began to wait */
    for (;;) {
        mine = !c->locked && (!c->handoff || (waiting && since < c->releases));
        if (mine || lock_ms == 0) break;
        if (!waiting) {
            waiting = 1;
            since = c->releases;
            c->lock_waiters++;
        }
        if (lock_ms < 0) {
            pthread_cond_wait(&c->cv_lock, &c->mu);
        } else if (pthread_cond_timedwait(&c->cv_lock, &c->mu, &deadline) == ETIMEDOUT) {
            mine = !c->locked && (!c->handoff || since < c->releases);
            break;
        }
    }
    int reserved_for_me = waiting && c->handoff && since < c->releases;
    if (waiting) c->lock_waiters--;
    int rc = POA_SDK_EBUSY;
    if (mine) {
        c->locked = 1;
        c->handoff = 0;
        rc = POA_OK;
    } else if (reserved_for_me && --c->handoff_left == 0) {
        c->handoff = 0; /* every thread it was kept for gave up: free for all */
        pthread_cond_broadcast(&c->cv_lock);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void sdk_unlock(poa_sdk_cam_t *c)
{
    pthread_mutex_lock(&c->mu);
    c->locked = 0;
    c->releases++;
    c->handoff = c->lock_waiters > 0;
    c->handoff_left = c->lock_waiters;
    pthread_cond_broadcast(&c->cv_lock); /* the reserved one may not be the first to wake */
    pthread_mutex_unlock(&c->mu);
}

/* The reader's SDK calls, made with c->mu released and the SDK lock held. */
static int locked_stop(poa_sdk_cam_t *c)
{
    pthread_mutex_unlock(&c->mu);
    sdk_lock(c, -1);
    int rc = c->s->POAStopExposure(c->id);
    sdk_unlock(c);
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

/* One exposure, from its start to a committed frame or a final state. Called and returns
 * with c->mu held. */
static void run_job(poa_sdk_cam_t *c)
{
    const poa_sdk_exposure_t e = c->job;
    poa_sdk_t *s = c->s;
    uint64_t bytes = poa_pixfmt_bytes(e.pixfmt, e.width, e.height);
    int timeout_ms = e.readout_ms;
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
        poa_ring_t *ring = c->ring;
        pthread_mutex_unlock(&c->mu);
        uint8_t *dst = NULL;
        size_t cap = 0;
        int rc = poa_ring_begin_frame(ring, &dst, &cap);
        if (rc == POA_OK && cap < bytes) {
            poa_ring_cancel_frame(ring);
            rc = POA_ESTATE;
        }
        if (rc != POA_OK) {
            pthread_mutex_lock(&c->mu);
            locked_stop(c);
            finish(c, POA_SDK_FAILED, "poa_ring_begin_frame", rc);
            return;
        }
        sdk_lock(c, -1);
        int r = s->POAGetImageData(c->id, dst, (long)bytes, timeout_ms);
        int stop_rc = 0;
        if (r == 0 && !e.single) stop_rc = s->POAStopExposure(c->id); /* video: one frame only */
        sdk_unlock(c);
        pthread_mutex_lock(&c->mu);
        if (r == 0) {
            if (c->abort) {
                poa_ring_cancel_frame(ring);
                if (e.single) locked_stop(c);
                finish(c, POA_SDK_ABORTED, NULL, 0);
                return;
            }
            rc = poa_ring_commit_frame(ring, e.seq, e.width, e.height, e.pixfmt, bytes, c->t0_real_ns);
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
        poa_ring_cancel_frame(ring);
        if (!c->abort && r == POA_SDK_ERR_TIMEOUT && restarts < e.restarts) {
            /* The watchdog: the known field failure of a frame that never becomes ready.
             * Stop, start the same exposure again, sleep through it again. */
            restarts++;
            c->res.restarts = restarts;
            pthread_mutex_unlock(&c->mu);
            sdk_lock(c, -1);
            s->POAStopExposure(c->id);
            int start_rc = s->POAStartExposure(c->id, e.single ? 1 : 0);
            sdk_unlock(c);
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
    sdk_lock(c, -1);
    int rc = c->s->POAGetDroppedImagesCount(c->id, &n);
    sdk_unlock(c);
    pthread_mutex_lock(&c->mu);
    if (rc == 0) c->vstats.camera_dropped = n;
}

/* The video loop, from the start to a stop or a failure. Called and returns with c->mu held. */
static void run_video(poa_sdk_cam_t *c)
{
    const poa_sdk_video_t v = c->vjob;
    poa_sdk_t *s = c->s;
    uint64_t bytes = poa_pixfmt_bytes(v.pixfmt, v.width, v.height);
    uint32_t seq = v.first_seq;
    int64_t waited_ms = 0;
    uint64_t exp_ns = (uint64_t)(v.exposure_s * 1e9);
    struct timespec next_poll = ts_add_ms(cond_now(), VIDEO_DROP_POLL_MS);
    while (!c->abort) {
        if (!ts_before(cond_now(), next_poll)) {
            video_poll_drops(c);
            next_poll = ts_add_ms(cond_now(), VIDEO_DROP_POLL_MS);
            if (c->abort) break;
        }
        poa_ring_t *ring = c->ring;
        pthread_mutex_unlock(&c->mu);
        uint8_t *dst = NULL;
        size_t cap = 0;
        int rc = poa_ring_begin_frame(ring, &dst, &cap);
        if (rc == POA_EAGAIN) { /* drop-oldest ring with every slot held: let the consumer work */
            struct timespec ts = {0, VIDEO_NO_SLOT_MS * 1000000L};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&c->mu);
            c->vstats.no_slot++;
            continue;
        }
        if (rc == POA_OK && cap < bytes) {
            poa_ring_cancel_frame(ring);
            rc = POA_ESTATE;
        }
        if (rc != POA_OK) {
            pthread_mutex_lock(&c->mu);
            if (!c->abort) video_fail(c, "poa_ring_begin_frame", rc);
            break;
        }
        int slice = v.timeout_ms < VIDEO_SLICE_MS ? v.timeout_ms : VIDEO_SLICE_MS;
        sdk_lock(c, -1);
        int r = s->POAGetImageData(c->id, dst, (long)bytes, slice);
        sdk_unlock(c);
        uint64_t now = realtime_ns();
        pthread_mutex_lock(&c->mu);
        if (r == 0) {
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
        poa_ring_cancel_frame(ring);
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

/* A plain locked call: evaluates `call` with the SDK lock held. */
#define LOCKED(c, lock_ms, call)                    \
    do {                                            \
        if (!(c)) return POA_EINVAL;                \
        int lk_ = sdk_lock((c), (lock_ms));         \
        if (lk_ != POA_OK) return lk_;              \
        int rc_ = (call);                           \
        sdk_unlock(c);                              \
        return rc_;                                 \
    } while (0)

#define OPTIONAL(c, fn) \
    do {                                            \
        if ((c) && !(c)->s->fn) return POA_SDK_ENOSYM; \
    } while (0)

int poa_sdk_open_camera(poa_sdk_cam_t *c) { LOCKED(c, -1, c->s->POAOpenCamera(c->id)); }
int poa_sdk_init_camera(poa_sdk_cam_t *c) { LOCKED(c, -1, c->s->POAInitCamera(c->id)); }

int poa_sdk_close_camera(poa_sdk_cam_t *c)
{
    if (!c) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    abort_locked(c);
    while (c->busy) pthread_cond_wait(&c->cv_done, &c->mu);
    pthread_mutex_unlock(&c->mu);
    LOCKED(c, -1, c->s->POACloseCamera(c->id));
}

static int cam_props(poa_sdk_cam_t *c, poa_sdk_camera_props_t *out)
{
    POACameraProperties p;
    memset(&p, 0, sizeof p);
    int rc = c->s->POAGetCameraPropertiesByID(c->id, &p);
    if (rc == 0) convert_props(&p, out);
    return rc;
}

int poa_sdk_cam_props(poa_sdk_cam_t *c, poa_sdk_camera_props_t *out)
{
    if (!out) return POA_EINVAL;
    LOCKED(c, -1, cam_props(c, out));
}

int poa_sdk_configs_count(poa_sdk_cam_t *c, int *count)
{
    if (!count) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetConfigsCount(c->id, count));
}

static void read_value(int type, POAConfigValue v, int64_t *i, double *f)
{
    switch (type) {
    case VAL_INT: *i = (int64_t)v.intValue; *f = (double)v.intValue; break;
    case VAL_FLOAT: *i = 0; *f = v.floatValue; break;
    case VAL_BOOL: *i = v.boolValue ? 1 : 0; *f = (double)*i; break;
    default: *i = 0; *f = 0.0; break;
    }
}

static int attr_call(poa_sdk_cam_t *c, int by_id, int arg, poa_sdk_config_attr_t *o)
{
    POAConfigAttributes a;
    memset(&a, 0, sizeof a);
    int rc = by_id ? c->s->POAGetConfigAttributesByConfigID(c->id, arg, &a)
                   : c->s->POAGetConfigAttributes(c->id, arg, &a);
    if (rc != 0) return rc;
    memset(o, 0, sizeof *o);
    o->supports_auto = a.isSupportAuto;
    o->writable = a.isWritable;
    o->readable = a.isReadable;
    o->config_id = a.configID;
    o->value_type = a.valueType;
    read_value(a.valueType, a.minValue, &o->min_int, &o->min_float);
    read_value(a.valueType, a.maxValue, &o->max_int, &o->max_float);
    read_value(a.valueType, a.defaultValue, &o->default_int, &o->default_float);
    copy_str(o->name, sizeof o->name, a.szConfName, sizeof a.szConfName);
    copy_str(o->description, sizeof o->description, a.szDescription, sizeof a.szDescription);
    return 0;
}

int poa_sdk_config_attr(poa_sdk_cam_t *c, int index, poa_sdk_config_attr_t *out)
{
    if (!out) return POA_EINVAL;
    LOCKED(c, -1, attr_call(c, 0, index, out));
}

int poa_sdk_config_attr_by_id(poa_sdk_cam_t *c, int config_id, poa_sdk_config_attr_t *out)
{
    if (!out) return POA_EINVAL;
    LOCKED(c, -1, attr_call(c, 1, config_id, out));
}

int poa_sdk_set_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t int_value,
                       double float_value, int is_auto)
{
    POAConfigValue v;
    memset(&v, 0, sizeof v);
    switch (value_type) {
    case VAL_INT:
#if LONG_MAX < INT64_MAX
        if (int_value < LONG_MIN || int_value > LONG_MAX) return POA_EINVAL;
#endif
        v.intValue = (long)int_value;
        break;
    case VAL_FLOAT: v.floatValue = float_value; break;
    case VAL_BOOL: v.boolValue = int_value ? 1 : 0; break;
    default: return POA_EINVAL;
    }
    LOCKED(c, -1, c->s->POASetConfig(c->id, config_id, v, is_auto ? 1 : 0));
}

static int get_config(poa_sdk_cam_t *c, int config_id, int type, int64_t *i, double *f, int *is_auto)
{
    POAConfigValue v;
    memset(&v, 0, sizeof v);
    int a = 0;
    int rc = c->s->POAGetConfig(c->id, config_id, &v, &a);
    if (rc == 0) {
        read_value(type, v, i, f);
        *is_auto = a ? 1 : 0;
    }
    return rc;
}

int poa_sdk_get_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t *int_value,
                       double *float_value, int *is_auto, int lock_ms)
{
    if (!int_value || !float_value || !is_auto) return POA_EINVAL;
    if (value_type < VAL_INT || value_type > VAL_BOOL) return POA_EINVAL;
    LOCKED(c, lock_ms, get_config(c, config_id, value_type, int_value, float_value, is_auto));
}

int poa_sdk_set_image_bin(poa_sdk_cam_t *c, int bin) { LOCKED(c, -1, c->s->POASetImageBin(c->id, bin)); }

int poa_sdk_get_image_bin(poa_sdk_cam_t *c, int *bin)
{
    if (!bin) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageBin(c->id, bin));
}

int poa_sdk_set_image_size(poa_sdk_cam_t *c, int width, int height)
{
    LOCKED(c, -1, c->s->POASetImageSize(c->id, width, height));
}

int poa_sdk_get_image_size(poa_sdk_cam_t *c, int *width, int *height)
{
    if (!width || !height) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageSize(c->id, width, height));
}

int poa_sdk_set_image_start(poa_sdk_cam_t *c, int x, int y)
{
    LOCKED(c, -1, c->s->POASetImageStartPos(c->id, x, y));
}

int poa_sdk_get_image_start(poa_sdk_cam_t *c, int *x, int *y)
{
    if (!x || !y) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageStartPos(c->id, x, y));
}

int poa_sdk_set_image_format(poa_sdk_cam_t *c, int format)
{
    LOCKED(c, -1, c->s->POASetImageFormat(c->id, format));
}

int poa_sdk_get_image_format(poa_sdk_cam_t *c, int *format)
{
    if (!format) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageFormat(c->id, format));
}

int poa_sdk_camera_state(poa_sdk_cam_t *c, int *state, int lock_ms)
{
    if (!state) return POA_EINVAL;
    LOCKED(c, lock_ms, c->s->POAGetCameraState(c->id, state));
}

int poa_sdk_dropped_count(poa_sdk_cam_t *c, int *count)
{
    if (!count) return POA_EINVAL;
    OPTIONAL(c, POAGetDroppedImagesCount);
    LOCKED(c, -1, c->s->POAGetDroppedImagesCount(c->id, count));
}

int poa_sdk_stop_exposure(poa_sdk_cam_t *c) { LOCKED(c, -1, c->s->POAStopExposure(c->id)); }

int poa_sdk_sensor_mode_count(poa_sdk_cam_t *c, int *count)
{
    if (!count) return POA_EINVAL;
    OPTIONAL(c, POAGetSensorModeCount);
    LOCKED(c, -1, c->s->POAGetSensorModeCount(c->id, count));
}

static int mode_info(poa_sdk_cam_t *c, int index, poa_sdk_mode_info_t *o)
{
    POASensorModeInfo m;
    memset(&m, 0, sizeof m);
    int rc = c->s->POAGetSensorModeInfo(c->id, index, &m);
    if (rc == 0) {
        copy_str(o->name, sizeof o->name, m.name, sizeof m.name);
        copy_str(o->description, sizeof o->description, m.desc, sizeof m.desc);
    }
    return rc;
}

int poa_sdk_sensor_mode_info(poa_sdk_cam_t *c, int index, poa_sdk_mode_info_t *out)
{
    if (!out) return POA_EINVAL;
    OPTIONAL(c, POAGetSensorModeInfo);
    LOCKED(c, -1, mode_info(c, index, out));
}

int poa_sdk_set_sensor_mode(poa_sdk_cam_t *c, int index)
{
    OPTIONAL(c, POASetSensorMode);
    LOCKED(c, -1, c->s->POASetSensorMode(c->id, index));
}

int poa_sdk_set_user_custom_id(poa_sdk_cam_t *c, const char *id, int len)
{
    if (len < 0 || (len > 0 && !id)) return POA_EINVAL;
    OPTIONAL(c, POASetUserCustomID);
    LOCKED(c, -1, c->s->POASetUserCustomID(c->id, len ? id : NULL, len));
}

int poa_sdk_get_sensor_mode(poa_sdk_cam_t *c, int *index)
{
    if (!index) return POA_EINVAL;
    OPTIONAL(c, POAGetSensorMode);
    LOCKED(c, -1, c->s->POAGetSensorMode(c->id, index));
}

static int presets(poa_sdk_cam_t *c, poa_sdk_presets_t *o)
{
    int v[8] = {0};
    int rc = c->s->POAGetGainsAndOffsets(c->id, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    if (rc == 0) {
        o->gain_highest_dr = v[0];
        o->gain_hcg = v[1];
        o->gain_unity = v[2];
        o->gain_lowest_rn = v[3];
        o->offset_highest_dr = v[4];
        o->offset_hcg = v[5];
        o->offset_unity = v[6];
        o->offset_lowest_rn = v[7];
    }
    return rc;
}

int poa_sdk_gains_and_offsets(poa_sdk_cam_t *c, poa_sdk_presets_t *out)
{
    if (!out) return POA_EINVAL;
    OPTIONAL(c, POAGetGainsAndOffsets);
    LOCKED(c, -1, presets(c, out));
}

int poa_sdk_get_image_data(poa_sdk_cam_t *c, uint8_t *buf, size_t len, int timeout_ms)
{
    if (!buf || len > (size_t)LONG_MAX) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageData(c->id, buf, (long)len, timeout_ms));
}

/* ---- exposures through the reader ------------------------------------------------------ */

/* Claims the reader for a single exposure or a video run: checks the frame's size, waits
 * until the reader is idle (an aborted readout may still be finishing its POAGetImageData),
 * checks that the frame fits a ring slot, and marks the reader busy with no abort pending.
 * Returns with c->mu HELD on POA_OK (the caller fills in its job, then unlocks); on an
 * error the mutex is not held: POA_EINVAL for an empty or oversized frame, POA_ESTATE
 * without a ring or when the frame does not fit a slot. */
static int claim_reader(poa_sdk_cam_t *c, uint32_t pixfmt, uint32_t width, uint32_t height)
{
    uint64_t bytes = poa_pixfmt_bytes(pixfmt, width, height);
    if (bytes == 0 || bytes > (uint64_t)LONG_MAX) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    while (c->busy) pthread_cond_wait(&c->cv_done, &c->mu);
    if (!c->ring || bytes > poa_ring_slot_bytes(c->ring)) {
        pthread_mutex_unlock(&c->mu);
        return POA_ESTATE;
    }
    c->busy = 1;
    c->abort = 0;
    return POA_OK;
}

int poa_sdk_expose(poa_sdk_cam_t *c, const poa_sdk_exposure_t *e)
{
    if (!c || !e || !(e->exposure_s >= 0.0) || e->readout_ms < 0 || e->restarts < 0) return POA_EINVAL;
    int claim = claim_reader(c, e->pixfmt, e->width, e->height);
    if (claim != POA_OK) return claim;
    c->job = *e;
    memset(&c->res, 0, sizeof c->res);
    c->res.state = POA_SDK_EXPOSING;
    c->res.seq = e->seq;
    pthread_mutex_unlock(&c->mu);

    sdk_lock(c, -1);
    int rc = c->s->POAStartExposure(c->id, e->single ? 1 : 0);
    sdk_unlock(c);

    pthread_mutex_lock(&c->mu);
    c->t0 = cond_now();
    c->t0_real_ns = realtime_ns();
    if (rc != 0) {
        c->busy = 0;
        c->res.state = POA_SDK_IDLE;
        pthread_cond_broadcast(&c->cv_done);
    } else {
        c->job_ready = 1; /* an abort that came in meanwhile is kept: the reader stops at once */
        pthread_cond_broadcast(&c->cv_job);
    }
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
        if (timeout_ms == 0) {
            rc = POA_ETIMEDOUT;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&c->cv_done, &c->mu);
        } else if (pthread_cond_timedwait(&c->cv_done, &c->mu, &deadline) == ETIMEDOUT) {
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
    int claim = claim_reader(c, v->pixfmt, v->width, v->height);
    if (claim != POA_OK) return claim;
    c->video = 1;
    c->vjob = *v;
    memset(&c->vstats, 0, sizeof c->vstats);
    c->vstats.state = POA_SDK_EXPOSING;
    c->vstats.camera_dropped = c->s->POAGetDroppedImagesCount ? 0 : -1;
    /* A single exposure's result is not this; waiters of poa_sdk_wait see IDLE. */
    memset(&c->res, 0, sizeof c->res);
    pthread_mutex_unlock(&c->mu);

    sdk_lock(c, -1);
    int rc = c->s->POAStartExposure(c->id, 0);
    sdk_unlock(c);

    pthread_mutex_lock(&c->mu);
    if (rc != 0) {
        c->busy = 0;
        c->video = 0;
        c->vstats.state = POA_SDK_IDLE;
        pthread_cond_broadcast(&c->cv_done);
    } else {
        c->job_ready = 1;
        pthread_cond_broadcast(&c->cv_job);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int poa_sdk_video_stop(poa_sdk_cam_t *c)
{
    if (!c) return POA_EINVAL;
    pthread_mutex_lock(&c->mu);
    if (c->video) {
        c->abort = 1;
        pthread_cond_broadcast(&c->cv_job);
        while (c->busy) pthread_cond_wait(&c->cv_done, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
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
