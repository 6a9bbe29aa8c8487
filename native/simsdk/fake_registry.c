/*
 * Camera enumeration, properties, open/init/close, and the process-wide slot table.
 *
 * Quirks of the SDK reproduced here (each one a thing a binding must get right):
 *  - POAGetCameraProperties(index) works only after POAGetCameraCount has scanned the "bus";
 *    before the first scan every index is POA_ERROR_INVALID_INDEX.
 *  - camera IDs are 100, 107, 114, ... (FAKE_ID_BASE + FAKE_ID_STEP * slot): never the index.
 *  - the serial number (SN) is filled only while the camera is open. The C++ INDI driver opens each
 *    camera at enumeration just to read it, which suggests the real SDK behaves so; being strict
 *    here keeps a binding from depending on the opposite.
 *  - a user custom ID shows in cameraModelName as "Ares-C PRO [name]" and in userCustomID.
 *  - an unplugged camera disappears from the count and the indices; its ID answers
 *    POA_ERROR_DEVICE_NOT_FOUND to everything until FakePOA_SetFault(id, "replug", 0).
 *
 * Configuration (read by every POAGetCameraCount): FAKE_POA_CAMERAS, a comma-separated list of
 * model names (case and surrounding blanks ignored; unknown names are skipped with a note on
 * stderr). Unset means one "Ares-C PRO"; an empty value means no camera. A camera that is open
 * keeps its slot across rescans even if the list changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_internal.h"

/* The layouts the vendor's binary expects (facts file, section 1.3). They hold on LP64 and on
 * 32-bit ARM alike (a double is 8-aligned there too); a cross-compile checks the latter. */
_Static_assert(sizeof(POACameraProperties) == 992, "POACameraProperties must be 992 bytes");
_Static_assert(offsetof(POACameraProperties, userCustomID) == 256, "userCustomID offset");
_Static_assert(offsetof(POACameraProperties, cameraID) == 272, "cameraID offset");
_Static_assert(offsetof(POACameraProperties, bayerPattern) == 304, "bayerPattern offset");
_Static_assert(offsetof(POACameraProperties, pixelSize) == 312, "pixelSize offset");
_Static_assert(offsetof(POACameraProperties, SN) == 320, "SN offset");
_Static_assert(offsetof(POACameraProperties, sensorModelName) == 384, "sensorModelName offset");
_Static_assert(offsetof(POACameraProperties, localPath) == 416, "localPath offset");
_Static_assert(offsetof(POACameraProperties, bins) == 672, "bins offset");
_Static_assert(offsetof(POACameraProperties, imgFormats) == 704, "imgFormats offset");
_Static_assert(offsetof(POACameraProperties, isSupportHardBin) == 736, "isSupportHardBin offset");
_Static_assert(offsetof(POACameraProperties, pID) == 740, "pID offset");
_Static_assert(offsetof(POACameraProperties, reserved) == 744, "reserved offset");
_Static_assert(sizeof(POAConfigValue) == 8, "POAConfigValue must be 8 bytes");
_Static_assert(sizeof(POAConfigAttributes) == 304, "POAConfigAttributes must be 304 bytes");
_Static_assert(offsetof(POAConfigAttributes, configID) == 12, "configID offset");
_Static_assert(offsetof(POAConfigAttributes, valueType) == 16, "valueType offset");
_Static_assert(offsetof(POAConfigAttributes, maxValue) == 24, "maxValue offset");
_Static_assert(offsetof(POAConfigAttributes, minValue) == 32, "minValue offset");
_Static_assert(offsetof(POAConfigAttributes, defaultValue) == 40, "defaultValue offset");
_Static_assert(offsetof(POAConfigAttributes, szConfName) == 48, "szConfName offset");
_Static_assert(offsetof(POAConfigAttributes, szDescription) == 112, "szDescription offset");
_Static_assert(offsetof(POAConfigAttributes, reserved) == 240, "reserved offset");
_Static_assert(sizeof(POASensorModeInfo) == 192, "POASensorModeInfo must be 192 bytes");
_Static_assert(sizeof(POAImgFormat) == 4 && sizeof(POAErrors) == 4 && sizeof(POABool) == 4, "enums are int");

static fake_cam g_cams[FAKE_MAX_CAMERAS];
static pthread_mutex_t g_scan_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_scanned; /* POAGetCameraCount ran since load (or FakePOA_Reset) */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_slots(void) {
    for (int i = 0; i < FAKE_MAX_CAMERAS; i++) {
        fake_cam *c = &g_cams[i];
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutex_init(&c->mu, &ma);
        pthread_mutexattr_destroy(&ma);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        /* Waits are on the monotonic clock: a wall-clock step must not stretch a timeout. */
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->cv, &ca);
        pthread_condattr_destroy(&ca);
        c->slot = i;
        c->id = FAKE_ID_BASE + FAKE_ID_STEP * i;
    }
}

static void ensure_init(void) { pthread_once(&g_once, init_slots); }

void fake_copy_str(char *dst, size_t cap, const char *src) {
    if (cap == 0) return;
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

double fake_env_double(const char *name, double fallback) {
    const char *s = getenv(name);
    if (s == NULL || *s == '\0') return fallback;
    char *end = NULL;
    double v = strtod(s, &end);
    return (end != s) ? v : fallback;
}

/* FNV-1a: a stable per-model-and-slot serial, so two cameras of one model differ. */
static void make_serial(fake_cam *c) {
    uint32_t h = 2166136261u;
    for (const char *p = c->model->name; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ (uint32_t)c->slot) * 16777619u;
    snprintf(c->serial, sizeof c->serial, "FAKE%08X", (unsigned)h);
}

/* c locked and closed: the slot now holds a freshly plugged camera of model m. */
static void assign_model(fake_cam *c, const fake_model *m) {
    c->present = 1;
    c->unplugged = 0;
    c->model = m;
    make_serial(c);
    c->custom_id[0] = '\0';
    c->open_attempts = 0;
    memset(c->faults, 0, sizeof c->faults);
    fake_fail_calls_clear(c);
    c->unplug_in_read = 0;
}

/* Parse FAKE_POA_CAMERAS into up to FAKE_MAX_CAMERAS models; returns how many. */
static int wanted_models(const fake_model *out[FAKE_MAX_CAMERAS]) {
    const char *env = getenv("FAKE_POA_CAMERAS");
    if (env == NULL) {
        out[0] = fake_model_find("Ares-C PRO");
        return 1;
    }
    int n = 0;
    const char *p = env;
    while (*p && n < FAKE_MAX_CAMERAS) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[128];
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, p, len);
        name[len] = '\0';
        const fake_model *m = fake_model_find(name);
        int blank = strspn(name, " \t") == len;
        if (m != NULL) {
            out[n++] = m;
        } else if (!blank) {
            fprintf(stderr, "fake PlayerOne SDK: unknown model '%s' in FAKE_POA_CAMERAS ignored\n", name);
        }
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

POACAMERA_API int POAGetCameraCount(void) {
    ensure_init();
    fake_fault_file_poll(); /* unplug / replug lines change the count */
    const fake_model *want[FAKE_MAX_CAMERAS] = {0};
    int n = wanted_models(want);
    int count = 0;
    pthread_mutex_lock(&g_scan_mu);
    for (int i = 0; i < FAKE_MAX_CAMERAS; i++) {
        fake_cam *c = &g_cams[i];
        pthread_mutex_lock(&c->mu);
        if (!c->opened) {
            if (i < n && (!c->present || c->model != want[i])) {
                assign_model(c, want[i]);
            } else if (i >= n && c->present) {
                c->present = 0;
            }
        }
        if (c->present && !c->unplugged) count++;
        pthread_mutex_unlock(&c->mu);
    }
    g_scanned = 1;
    pthread_mutex_unlock(&g_scan_mu);
    return count;
}

fake_cam *fake_slot(int slot) {
    ensure_init();
    return &g_cams[slot];
}

POAErrors fake_lock_cam_fn(int id, enum fake_lock_need need, fake_cam **out, const char *func) {
    ensure_init();
    fake_fault_file_poll(); /* before any lock: applying a line locks cameras */
    if (id < FAKE_ID_BASE || (id - FAKE_ID_BASE) % FAKE_ID_STEP != 0) return POA_ERROR_INVALID_ID;
    int slot = (id - FAKE_ID_BASE) / FAKE_ID_STEP;
    if (slot >= FAKE_MAX_CAMERAS) return POA_ERROR_INVALID_ID;
    fake_cam *c = &g_cams[slot];
    pthread_mutex_lock(&c->mu);
    POAErrors err = POA_OK;
    if (!c->present) {
        err = POA_ERROR_INVALID_ID;
    } else if (need != LOCK_ANY && c->unplugged) {
        err = POA_ERROR_DEVICE_NOT_FOUND;
    } else if (need == LOCK_OPEN && !c->opened) {
        err = POA_ERROR_NOT_OPENED;
    }
    if (err == POA_OK && fake_fail_call_take(c, func)) err = POA_ERROR_OPERATION_FAILED;
    if (err != POA_OK) {
        pthread_mutex_unlock(&c->mu);
        return err;
    }
    *out = c;
    return POA_OK;
}

void fake_unlock_cam(fake_cam *c) { pthread_mutex_unlock(&c->mu); }

static void fill_properties(const fake_cam *c, POACameraProperties *p) {
    const fake_model *m = c->model;
    memset(p, 0, sizeof *p);
    if (c->custom_id[0]) {
        snprintf(p->cameraModelName, sizeof p->cameraModelName, "%s [%s]", m->name, c->custom_id);
    } else {
        fake_copy_str(p->cameraModelName, sizeof p->cameraModelName, m->name);
    }
    /* up to 16 bytes, NUL-terminated only when shorter (the field has no room for more) */
    memcpy(p->userCustomID, c->custom_id, strnlen(c->custom_id, sizeof p->userCustomID));
    p->cameraID = c->id;
    p->maxWidth = m->width;
    p->maxHeight = m->height;
    p->bitDepth = m->adc_bits;
    p->isColorCamera = m->color ? POA_TRUE : POA_FALSE;
    p->isHasST4Port = POA_FALSE; /* the PRO cooled line has no ST4 port (manual) */
    p->isHasCooler = POA_TRUE;
    p->isUSB3Speed = POA_TRUE;
    p->bayerPattern = m->color ? POA_BAYER_RG : POA_BAYER_MONO;
    p->pixelSize = m->pixel_um;
    if (c->opened) fake_copy_str(p->SN, sizeof p->SN, c->serial);
    fake_copy_str(p->sensorModelName, sizeof p->sensorModelName, m->sensor);
    snprintf(p->localPath, sizeof p->localPath, "fake-usb:2-%d", c->slot + 1);
    for (int b = 0; b < 4; b++) p->bins[b] = b + 1; /* {1,2,3,4,0,0,0,0} */
    int k = 0;
    p->imgFormats[k++] = POA_RAW8;
    p->imgFormats[k++] = POA_RAW16;
    if (m->color) {
        p->imgFormats[k++] = POA_RGB24;
        p->imgFormats[k++] = POA_MONO8;
    }
    while (k < 8) p->imgFormats[k++] = POA_END;
    p->isSupportHardBin = POA_TRUE;
    p->pID = m->pid;
}

POACAMERA_API POAErrors POAGetCameraProperties(int nIndex, POACameraProperties *pProp) {
    ensure_init();
    if (pProp == NULL) return POA_ERROR_POINTER;
    if (nIndex < 0) return POA_ERROR_INVALID_INDEX;
    if (fake_fail_call_global("POAGetCameraProperties")) return POA_ERROR_OPERATION_FAILED;
    pthread_mutex_lock(&g_scan_mu);
    POAErrors err = POA_ERROR_INVALID_INDEX;
    int k = 0;
    for (int i = 0; g_scanned && i < FAKE_MAX_CAMERAS && err != POA_OK; i++) {
        fake_cam *c = &g_cams[i];
        pthread_mutex_lock(&c->mu);
        if (c->present && !c->unplugged && k++ == nIndex) {
            fill_properties(c, pProp);
            err = POA_OK;
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_scan_mu);
    return err;
}

POACAMERA_API POAErrors POAGetCameraPropertiesByID(int nCameraID, POACameraProperties *pProp) {
    if (pProp == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_PLUGGED, &c);
    if (err != POA_OK) return err;
    fill_properties(c, pProp);
    fake_unlock_cam(c);
    return POA_OK;
}

void fake_reset_settings(fake_cam *c) {
    const fake_model *m = c->model;
    c->bin = 1;
    c->width = m->width & ~3;
    c->height = m->height & ~1;
    c->start_x = c->start_y = 0;
    c->format = POA_RAW8; /* what a freshly opened camera reports; drivers pick RAW16 themselves */
    c->sensor_mode = 0;
    fake_config_defaults(c);
}

POACAMERA_API POAErrors POAOpenCamera(int nCameraID) {
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_PLUGGED, &c);
    if (err != POA_OK) return err;
    c->open_attempts++;
    fake_faults_from_env(c); /* may unplug the camera (unplug_after=0) */
    if (c->unplugged) {
        err = POA_ERROR_DEVICE_NOT_FOUND;
    } else if (fake_fault_take(c, FAULT_OPEN_ERROR)) {
        err = POA_ERROR_OPERATION_FAILED;
    } else if (!c->opened) {
        c->opened = 1;
        c->inited = 0;
        c->frames_out = 0;
        c->dropped = 0;
        c->exposing = 0;
        c->q_len = c->q_head = 0;
        fake_reset_settings(c);
        fake_thermal_init(c);
        fake_make_stars(c);
        err = fake_worker_start(c);
        if (err != POA_OK) c->opened = 0;
    }
    fake_unlock_cam(c);
    return err;
}

/* The header's "simple process": Init after Open allocates the camera's buffers. The fake insists
 * on it before exposures (POA_ERROR_NOT_OPENED otherwise), so a binding that skips it fails here. */
POACAMERA_API POAErrors POAInitCamera(int nCameraID) {
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    c->inited = 1;
    fake_unlock_cam(c);
    return POA_OK;
}

void fake_close_locked(fake_cam *c) {
    if (!c->opened) return;
    c->opened = 0; /* first: a racing call sees "not opened" while the worker is joined */
    c->inited = 0;
    fake_stop_exposure_locked(c);
    /* Free the queue before joining: the worker only touches it under the lock after checking its
     * epoch, and the join releases the lock (an open racing this close may start a new session). */
    for (int i = 0; i < FAKE_QUEUE; i++) {
        free(c->queue[i].data);
        c->queue[i].data = NULL;
        c->queue[i].cap = c->queue[i].len = 0;
    }
    c->q_len = c->q_head = 0;
    pthread_cond_broadcast(&c->cv);
    fake_worker_stop(c);
}

/* Closing a camera that is not open is not an error; closing an unplugged one cleans up and
 * answers POA_ERROR_DEVICE_NOT_FOUND. */
POACAMERA_API POAErrors POACloseCamera(int nCameraID) {
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_ANY, &c);
    if (err != POA_OK) return err;
    fake_close_locked(c);
    err = c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : POA_OK;
    fake_unlock_cam(c);
    return err;
}

POACAMERA_API void FakePOA_Reset(void) {
    ensure_init();
    pthread_mutex_lock(&g_scan_mu);
    for (int i = 0; i < FAKE_MAX_CAMERAS; i++) {
        fake_cam *c = &g_cams[i];
        pthread_mutex_lock(&c->mu);
        fake_close_locked(c);
        c->present = 0;
        c->unplugged = 0;
        c->custom_id[0] = '\0';
        c->open_attempts = 0;
        c->frames_out = 0;
        memset(c->faults, 0, sizeof c->faults);
        fake_fail_calls_clear(c);
        c->unplug_in_read = 0;
        c->corrupt_next = 0;
        pthread_mutex_unlock(&c->mu);
    }
    g_scanned = 0;
    pthread_mutex_unlock(&g_scan_mu);
    fake_fault_file_reset(); /* after the cameras: the file lock is never taken inside them */
}
