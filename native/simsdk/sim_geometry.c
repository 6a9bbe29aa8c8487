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

/* Settings that change the frame: the frames waiting in the camera no longer match. c locked. */
static void frame_changed(sim_cam *c) {
    sim_flush_frames(c);
    c->gen++;
}

static void binned_max(const sim_cam *c, int bin, int *w, int *h) {
    *w = c->model->width / bin;
    *h = c->model->height / bin;
}

POACAMERA_API POAErrors POAGetImageStartPos(int nCameraID, int *pStartX, int *pStartY) {
    if (pStartX == NULL || pStartY == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    *pStartX = c->start_x;
    *pStartY = c->start_y;
    sim_unlock_cam(c);
    return POA_OK;
}

POACAMERA_API POAErrors POASetImageStartPos(int nCameraID, int startX, int startY) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    POAErrors err = POA_OK;
    int mw, mh;
    binned_max(c, c->bin, &mw, &mh);
    if (startX < 0 || startY < 0 || startX > mw - c->width || startY > mh - c->height) {
        err = POA_ERROR_OUT_OF_LIMIT;
    } else {
        c->start_x = startX;
        c->start_y = startY;
    }
    sim_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POAGetImageSize(int nCameraID, int *pWidth, int *pHeight) {
    if (pWidth == NULL || pHeight == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    *pWidth = c->width;
    *pHeight = c->height;
    sim_unlock_cam(c);
    return POA_OK;
}

POACAMERA_API POAErrors POASetImageSize(int nCameraID, int width, int height) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    POAErrors err = POA_OK;
    int mw, mh;
    binned_max(c, c->bin, &mw, &mh);
    if (c->exposing) {
        err = POA_ERROR_EXPOSING;
    } else if (width < MIN_SIZE || height < MIN_SIZE || width > mw || height > mh) {
        err = POA_ERROR_OUT_OF_LIMIT;
    } else {
        c->width = width & ~3;
        c->height = height & ~1;
        if (c->start_x > mw - c->width) c->start_x = mw - c->width;
        if (c->start_y > mh - c->height) c->start_y = mh - c->height;
        frame_changed(c);
    }
    sim_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POAGetImageBin(int nCameraID, int *pBin) {
    if (pBin == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    *pBin = c->bin;
    sim_unlock_cam(c);
    return POA_OK;
}

POACAMERA_API POAErrors POASetImageBin(int nCameraID, int bin) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    POAErrors err = POA_OK;
    if (c->exposing) {
        err = POA_ERROR_EXPOSING;
    } else if (bin < 1 || bin > 4) { /* the bins[] list: 1, 2, 3, 4 */
        err = POA_ERROR_INVALID_ARGU;
    } else {
        if (bin != c->bin && sim_fault_take(c, FAULT_CORRUPT_AFTER_BIN)) c->corrupt_next = 1;
        int mw, mh;
        binned_max(c, bin, &mw, &mh);
        c->bin = bin;
        c->width = mw & ~3;
        c->height = mh & ~1;
        c->start_x = c->start_y = 0;
        frame_changed(c);
    }
    sim_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POAGetImageFormat(int nCameraID, POAImgFormat *pImgFormat) {
    if (pImgFormat == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    *pImgFormat = c->format;
    sim_unlock_cam(c);
    return POA_OK;
}

POACAMERA_API POAErrors POASetImageFormat(int nCameraID, POAImgFormat imgFormat) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    POAErrors err = POA_OK;
    int ok = imgFormat == POA_RAW8 || imgFormat == POA_RAW16 ||
             (c->model->color && (imgFormat == POA_RGB24 || imgFormat == POA_MONO8));
    if (c->exposing) {
        err = POA_ERROR_EXPOSING;
    } else if (!ok) {
        err = POA_ERROR_INVALID_ARGU;
    } else {
        c->format = imgFormat;
        frame_changed(c);
    }
    sim_unlock_cam(c);
    return err;
}

/* Two modes on IMX455/571/533 models, none elsewhere (count 0: no mode selection). */
static const POASensorModeInfo MODES[2] = {
    {"Normal", "Normal mode: faster readout"},
    {"Low Noise", "Low noise mode: lower read noise, slower readout"},
};

POACAMERA_API POAErrors POAGetSensorModeCount(int nCameraID, int *pModeCount) {
    if (pModeCount == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    *pModeCount = c->model->sensor_modes;
    sim_unlock_cam(c);
    return POA_OK;
}

POACAMERA_API POAErrors POAGetSensorModeInfo(int nCameraID, int modeIndex, POASensorModeInfo *pSenModeInfo) {
    if (pSenModeInfo == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    POAErrors err = POA_OK;
    if (modeIndex < 0 || modeIndex >= c->model->sensor_modes) {
        err = POA_ERROR_INVALID_ARGU;
    } else {
        *pSenModeInfo = MODES[modeIndex];
    }
    sim_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POASetSensorMode(int nCameraID, int modeIndex) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    POAErrors err = POA_OK;
    if (c->exposing) {
        err = POA_ERROR_EXPOSING;
    } else if (modeIndex < 0 || modeIndex >= c->model->sensor_modes) {
        err = POA_ERROR_INVALID_ARGU;
    } else {
        c->sensor_mode = modeIndex;
        frame_changed(c);
    }
    sim_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POAGetSensorMode(int nCameraID, int *pModeIndex) {
    if (pModeIndex == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    *pModeIndex = c->model->sensor_modes > 0 ? c->sensor_mode : 0;
    sim_unlock_cam(c);
    return POA_OK;
}
