/*
 * Region of interest, binning, image format and sensor mode.
 *
 * SDK rules reproduced (the header's comments and the C++ driver's use of them):
 *  - sizes and start positions are in binned pixels;
 *  - POASetImageSize rounds the width down to a multiple of 4 and the height to a multiple of 2,
 *    silently; read it back with POAGetImageSize. Sizes below 16 x 16 (an assumption: the real
 *    minimum is not documented) or above the binned sensor are POA_ERROR_OUT_OF_LIMIT. When the
 *    new size does not fit at the current start, the start moves in so it fits (assumption);
 *  - POASetImageBin resets the size to the whole binned sensor (rounded as above) and the start
 *    to 0,0, even when the bin does not change: set the bin first, then size and start;
 *  - POASetImageStartPos must keep the ROI on the binned sensor, else POA_ERROR_OUT_OF_LIMIT;
 *    it may change while video runs (next frame);
 *  - bin, size, format and sensor mode refuse to change while exposing (POA_ERROR_EXPOSING) and
 *    discard frames waiting in the camera.
 */
#include "sim_internal.h"

#define MIN_SIZE 16

static void binned_max(const sim_cam *c, int bin, int *w, int *h) {
    *w = c->model->width / bin;
    *h = c->model->height / bin;
}

/* The settings of the frame's shape: size, bin, format, sensor mode. */
enum shape_item { SHAPE_SIZE, SHAPE_BIN, SHAPE_FORMAT, SHAPE_MODE };

/* Check item's new value (a, b) and set it: POA_OK, or the error of a value out of range. c locked. */
static POAErrors set_shape(sim_cam *c, enum shape_item item, int a, int b) {
    int mw, mh;
    switch (item) {
    case SHAPE_SIZE:
        binned_max(c, c->bin, &mw, &mh);
        if (a < MIN_SIZE || b < MIN_SIZE || a > mw || b > mh) return POA_ERROR_OUT_OF_LIMIT;
        c->width = a & ~3;
        c->height = b & ~1;
        if (c->start_x > mw - c->width) c->start_x = mw - c->width;
        if (c->start_y > mh - c->height) c->start_y = mh - c->height;
        return POA_OK;
    case SHAPE_BIN:
        if (a < 1 || a > 4) return POA_ERROR_INVALID_ARGU; /* the bins[] list: 1, 2, 3, 4 */
        if (a != c->bin && sim_fault_take(c, FAULT_CORRUPT_AFTER_BIN)) c->corrupt_next = 1;
        binned_max(c, a, &mw, &mh);
        c->bin = a;
        c->width = mw & ~3;
        c->height = mh & ~1;
        c->start_x = c->start_y = 0;
        return POA_OK;
    case SHAPE_FORMAT:
        if (a != POA_RAW8 && a != POA_RAW16 && !(c->model->color && (a == POA_RGB24 || a == POA_MONO8))) {
            return POA_ERROR_INVALID_ARGU;
        }
        c->format = (POAImgFormat)a;
        return POA_OK;
    case SHAPE_MODE:
        if (a < 0 || a >= c->model->sensor_modes) return POA_ERROR_INVALID_ARGU;
        c->sensor_mode = a;
        return POA_OK;
    }
    return POA_ERROR_INVALID_ARGU;
}

/* A change of the frame's shape: refused while exposing, else set_shape; once made, the frames
 * waiting in the camera no longer match and are dropped. */
static POAErrors reshape(int id, enum shape_item item, int a, int b, const char *func) {
    sim_cam *c;
    POAErrors err = sim_lock_cam_fn(id, LOCK_OPEN, &c, func);
    if (err != POA_OK) return err;
    err = c->exposing ? POA_ERROR_EXPOSING : set_shape(c, item, a, b);
    if (err == POA_OK) {
        sim_flush_frames(c);
        c->gen++;
    }
    return sim_cam_done(c, err);
}

/* The ROI as four numbers: start x, y, width, height. */
static void roi_of(sim_cam *c, void *out) {
    int *roi = out;
    roi[0] = c->start_x;
    roi[1] = c->start_y;
    roi[2] = c->width;
    roi[3] = c->height;
}

/* The getters of the ROI's start or size: the numbers at roi_of's `at` and `at + 1`, both
 * pointers checked first. */
static POAErrors read_roi(int id, int *a, int *b, int at, const char *func) {
    if (a == NULL || b == NULL) return POA_ERROR_POINTER;
    int roi[4];
    POAErrors err = sim_read_cam_fn(id, LOCK_OPEN, roi_of, roi, func);
    if (err == POA_OK) {
        *a = roi[at];
        *b = roi[at + 1];
    }
    return err;
}

POACAMERA_API POAErrors POAGetImageStartPos(int nCameraID, int *pStartX, int *pStartY) {
    return read_roi(nCameraID, pStartX, pStartY, 0, __func__);
}

POACAMERA_API POAErrors POASetImageStartPos(int nCameraID, int startX, int startY) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    int mw, mh;
    binned_max(c, c->bin, &mw, &mh);
    if (startX < 0 || startY < 0 || startX > mw - c->width || startY > mh - c->height) {
        return sim_cam_done(c, POA_ERROR_OUT_OF_LIMIT);
    }
    c->start_x = startX;
    c->start_y = startY;
    return sim_cam_done(c, POA_OK);
}

POACAMERA_API POAErrors POAGetImageSize(int nCameraID, int *pWidth, int *pHeight) {
    return read_roi(nCameraID, pWidth, pHeight, 2, __func__);
}

POACAMERA_API POAErrors POASetImageSize(int nCameraID, int width, int height) {
    return reshape(nCameraID, SHAPE_SIZE, width, height, __func__);
}

static void bin_of(sim_cam *c, void *out) { *(int *)out = c->bin; }

POACAMERA_API POAErrors POAGetImageBin(int nCameraID, int *pBin) {
    return sim_read_cam(nCameraID, LOCK_OPEN, bin_of, pBin);
}

POACAMERA_API POAErrors POASetImageBin(int nCameraID, int bin) {
    return reshape(nCameraID, SHAPE_BIN, bin, 0, __func__);
}

static void format_of(sim_cam *c, void *out) { *(POAImgFormat *)out = c->format; }

POACAMERA_API POAErrors POAGetImageFormat(int nCameraID, POAImgFormat *pImgFormat) {
    return sim_read_cam(nCameraID, LOCK_OPEN, format_of, pImgFormat);
}

POACAMERA_API POAErrors POASetImageFormat(int nCameraID, POAImgFormat imgFormat) {
    return reshape(nCameraID, SHAPE_FORMAT, (int)imgFormat, 0, __func__);
}

/* Two modes on IMX455/571/533 models, none elsewhere (count 0: no mode selection). */
static const POASensorModeInfo MODES[2] = {
    {"Normal", "Normal mode: faster readout"},
    {"Low Noise", "Low noise mode: lower read noise, slower readout"},
};

static void mode_count_of(sim_cam *c, void *out) { *(int *)out = c->model->sensor_modes; }

POACAMERA_API POAErrors POAGetSensorModeCount(int nCameraID, int *pModeCount) {
    return sim_read_cam(nCameraID, LOCK_OPEN, mode_count_of, pModeCount);
}

POACAMERA_API POAErrors POAGetSensorModeInfo(int nCameraID, int modeIndex, POASensorModeInfo *pSenModeInfo) {
    if (pSenModeInfo == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    if (modeIndex < 0 || modeIndex >= c->model->sensor_modes) return sim_cam_done(c, POA_ERROR_INVALID_ARGU);
    *pSenModeInfo = MODES[modeIndex];
    return sim_cam_done(c, POA_OK);
}

POACAMERA_API POAErrors POASetSensorMode(int nCameraID, int modeIndex) {
    return reshape(nCameraID, SHAPE_MODE, modeIndex, 0, __func__);
}

static void mode_of(sim_cam *c, void *out) { *(int *)out = c->model->sensor_modes > 0 ? c->sensor_mode : 0; }

POACAMERA_API POAErrors POAGetSensorMode(int nCameraID, int *pModeIndex) {
    return sim_read_cam(nCameraID, LOCK_OPEN, mode_of, pModeIndex);
}
