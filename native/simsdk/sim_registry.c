/*
 * Camera enumeration, properties, open/init/close and SimPOA_Reset, over the slot table of
 * sim_slots.c.
 *
 * Quirks of the SDK reproduced here (each one a thing a binding must get right):
 *  - POAGetCameraProperties(index) works only after POAGetCameraCount has scanned the "bus";
 *    before the first scan every index is POA_ERROR_INVALID_INDEX.
 *  - camera IDs are 100, 107, 114, ... (SIM_ID_BASE + SIM_ID_STEP * slot): never the index.
 *  - the serial number (SN) is filled only while the camera is open. The C++ INDI driver opens each
 *    camera at enumeration just to read it, which suggests the real SDK behaves so; being strict
 *    here keeps a binding from depending on the opposite.
 *  - a user custom ID shows in cameraModelName as "Ares-C PRO [name]" and in userCustomID.
 *  - an unplugged camera disappears from the count and the indices; its ID answers
 *    POA_ERROR_DEVICE_NOT_FOUND to everything until it is replugged.
 *
 * Configuration (read by every POAGetCameraCount): INDI_PLAYERONE_SIMULATE, a comma-separated
 * list of model names (case and surrounding blanks ignored; an unknown name is skipped and
 * reported, see SimPOA_GetConfigError). Unset or empty: no camera. Serial numbers are
 * SIM-<MODEL>-<n>, n counting the cameras of that model in the list from 0001
 * ("SIM-ARES-C-PRO-0001"). A camera that is open keeps its slot across rescans even if the list
 * changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static pthread_mutex_t g_scan_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_scanned; /* POAGetCameraCount ran since load (or SimPOA_Reset) */

/* "SIM-ARES-C-PRO-0001": the model in capitals, blanks as dashes, the n-th of its model. */
static void make_serial(sim_cam *c, int nth) {
    char *out = c->serial;
    size_t cap = sizeof c->serial, k = 0;
    k += (size_t)snprintf(out, cap, "SIM-");
    for (const char *p = c->model->name; *p && k + 6 < cap; p++) {
        char ch = *p;
        out[k++] = ch == ' ' ? '-' : (char)((ch >= 'a' && ch <= 'z') ? ch - 32 : ch);
    }
    snprintf(out + k, cap - k, "-%04d", nth);
}

/* c locked and closed: the slot now holds a freshly plugged camera of model m. */
static void assign_model(sim_cam *c, const sim_model *m, int nth) {
    c->present = 1;
    c->unplugged = 0;
    c->model = m;
    make_serial(c, nth);
    c->custom_id[0] = '\0';
    c->open_attempts = 0;
    memset(c->faults, 0, sizeof c->faults);
    sim_fail_calls_clear(c);
    c->unplug_in_read = 0;
}

static const char *model_name(int k) {
    const sim_model *m = sim_model_at(k);
    return m != NULL ? m->name : NULL;
}

static const sim_name_list WANTED = {"INDI_PLAYERONE_SIMULATE", model_name, "camera model", "models", "cameras",
                                     &sim_camera_problems};

POACAMERA_API int POAGetCameraCount(void) {
    int kind[SIM_MAX_CAMERAS] = {0}, nth[SIM_MAX_CAMERAS] = {0};
    sim_problem_clear(&sim_camera_problems);
    int n = sim_wanted(&WANTED, SIM_MAX_CAMERAS, kind, nth);
    pthread_mutex_lock(&g_scan_mu);
    for (int i = 0; i < SIM_MAX_CAMERAS; i++) {
        sim_cam *c = sim_slot(i);
        pthread_mutex_lock(&c->mu);
        if (!c->opened) {
            int plugged = 0;
            if (i < n && (!c->present || c->model != sim_model_at(kind[i]))) {
                assign_model(c, sim_model_at(kind[i]), nth[i]);
                plugged = 1;
            } else if (i >= n && c->present) {
                c->present = 0;
            }
            /* st4, usb2 show in the properties; not while a closing camera's last frame renders */
            if (c->present && !c->render_running) sim_options_for(c->serial, c->id, &c->opt);
            /* custom_id: what the flash of a camera just plugged in holds */
            if (plugged) sim_copy_str(c->custom_id, sizeof c->custom_id, c->opt.custom_id);
        }
        pthread_mutex_unlock(&c->mu);
    }
    g_scanned = 1;
    pthread_mutex_unlock(&g_scan_mu);
    /* After the scan, so lines written before the first one reach the cameras it found; before
     * the count, as unplug / replug lines change it. No lock held: applying a line locks cameras. */
    sim_fault_file_poll();
    int count = 0;
    pthread_mutex_lock(&g_scan_mu);
    for (int i = 0; i < SIM_MAX_CAMERAS; i++) {
        sim_cam *c = sim_slot(i);
        pthread_mutex_lock(&c->mu);
        if (c->present && !c->unplugged) count++;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_scan_mu);
    return count;
}

static void fill_properties(const sim_cam *c, POACameraProperties *p) {
    const sim_model *m = c->model;
    memset(p, 0, sizeof *p);
    if (c->custom_id[0]) {
        snprintf(p->cameraModelName, sizeof p->cameraModelName, "%s [%s]", m->name, c->custom_id);
    } else {
        sim_copy_str(p->cameraModelName, sizeof p->cameraModelName, m->name);
    }
    /* up to 16 bytes, NUL-terminated only when shorter (the field has no room for more) */
    memcpy(p->userCustomID, c->custom_id, strnlen(c->custom_id, sizeof p->userCustomID));
    p->cameraID = c->id;
    p->maxWidth = m->width;
    p->maxHeight = m->height;
    p->bitDepth = m->adc_bits;
    p->isColorCamera = m->color ? POA_TRUE : POA_FALSE;
    p->isHasST4Port = c->opt.st4 ? POA_TRUE : POA_FALSE; /* the PRO cooled line has none (option st4) */
    p->isHasCooler = POA_TRUE;
    p->isUSB3Speed = c->opt.usb2 ? POA_FALSE : POA_TRUE;
    p->bayerPattern = m->color ? POA_BAYER_RG : POA_BAYER_MONO;
    p->pixelSize = m->pixel_um;
    if (c->opened) sim_copy_str(p->SN, sizeof p->SN, c->serial);
    sim_copy_str(p->sensorModelName, sizeof p->sensorModelName, m->sensor);
    snprintf(p->localPath, sizeof p->localPath, "sim-usb:2-%d", c->slot + 1);
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
    if (pProp == NULL) return POA_ERROR_POINTER;
    if (nIndex < 0) return POA_ERROR_INVALID_INDEX;
    if (sim_fail_call_global("POAGetCameraProperties")) return POA_ERROR_OPERATION_FAILED;
    pthread_mutex_lock(&g_scan_mu);
    POAErrors err = POA_ERROR_INVALID_INDEX;
    int k = 0;
    for (int i = 0; g_scanned && i < SIM_MAX_CAMERAS && err != POA_OK; i++) {
        sim_cam *c = sim_slot(i);
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

static void properties_of(sim_cam *c, void *out) { fill_properties(c, out); }

POACAMERA_API POAErrors POAGetCameraPropertiesByID(int nCameraID, POACameraProperties *pProp) {
    return sim_read_cam(nCameraID, LOCK_PLUGGED, properties_of, pProp);
}

void sim_reset_settings(sim_cam *c) {
    const sim_model *m = c->model;
    c->bin = 1;
    c->width = m->width & ~3;
    c->height = m->height & ~1;
    c->start_x = c->start_y = 0;
    c->format = POA_RAW8; /* what a freshly opened camera reports; drivers pick RAW16 themselves */
    c->sensor_mode = 0;
    sim_config_defaults(c);
}

POACAMERA_API POAErrors POAOpenCamera(int nCameraID) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_PLUGGED);
    POAErrors err = POA_OK;
    c->open_attempts++;
    /* a close on another thread may still be waiting for its last frame to render */
    while (!c->opened && c->render_running && !c->unplugged) pthread_cond_wait(&c->cv, &c->mu);
    if (!c->opened) sim_options_for(c->serial, c->id, &c->opt); /* an open camera keeps its options */
    sim_faults_at_open(c); /* may unplug the camera (unplug_after=0) */
    if (c->unplugged) {
        err = POA_ERROR_DEVICE_NOT_FOUND;
    } else if (sim_fault_take(c, FAULT_OPEN_ERROR)) {
        err = POA_ERROR_OPERATION_FAILED;
    } else if (!c->opened) {
        c->opened = 1;
        c->inited = 0;
        c->frames_out = 0;
        c->dropped = 0;
        c->exposing = c->stuck = 0;
        c->lost_gen = 0;
        c->last_frame_t = 0;
        c->seq = 0;
        c->guide_x = c->guide_y = 0;
        memset(c->guide_on_t, 0, sizeof c->guide_on_t);
        sim_flush_frames(c);
        sim_reset_settings(c);
        sim_thermal_init(c);
        sim_make_scene(c);
        err = sim_render_start(c);
        if (err != POA_OK) c->opened = 0;
    }
    return sim_cam_done(c, err);
}

/* The header's "simple process": Init after Open allocates the camera's buffers. The simulated camera insists
 * on it before exposures (POA_ERROR_NOT_OPENED otherwise), so a binding that skips it fails here. */
POACAMERA_API POAErrors POAInitCamera(int nCameraID) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    c->inited = 1;
    c->dps = 1; /* the vendor's POAInitCamera enables DPS (SDK 3.7.0, read from its binary) */
    return sim_cam_done(c, POA_OK);
}

/* Closing a camera that is not open is not an error; closing an unplugged one cleans up and
 * answers POA_ERROR_DEVICE_NOT_FOUND. */
POACAMERA_API POAErrors POACloseCamera(int nCameraID) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_ANY);
    sim_close_locked(c);
    return sim_cam_done(c, c->unplugged ? POA_ERROR_DEVICE_NOT_FOUND : POA_OK);
}

POACAMERA_API void SimPOA_Reset(void) {
    pthread_mutex_lock(&g_scan_mu);
    for (int i = 0; i < SIM_MAX_CAMERAS; i++) {
        sim_cam *c = sim_slot(i);
        pthread_mutex_lock(&c->mu);
        sim_close_locked(c);
        c->present = 0;
        c->unplugged = 0;
        c->custom_id[0] = '\0';
        c->open_attempts = 0;
        c->frames_out = 0;
        memset(c->faults, 0, sizeof c->faults);
        sim_fail_calls_clear(c);
        c->unplug_in_read = 0;
        c->corrupt_next = 0;
        if (!c->opened) sim_free_scene(c);
        pthread_mutex_unlock(&c->mu);
    }
    g_scanned = 0;
    pthread_mutex_unlock(&g_scan_mu);
    sim_problem_clear(&sim_camera_problems);
    sim_wheel_reset();
    sim_fault_file_reset(); /* after the cameras: the file lock is never taken inside them */
}
