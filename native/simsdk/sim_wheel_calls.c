/*
 * The calls on one simulated Phoenix wheel (PlayerOnePW.h): open and close, position and moves,
 * one-way rotation, state, what the firmware keeps (filter aliases, focus offsets, the custom
 * name), reset, error texts and versions. Enumeration, the motion model and the lookup every call
 * starts with are sim_wheel.c's; sim_wheel.c's header comment says what is reproduced.
 */
#include <string.h>

#include "sim_internal.h"
#include "sim_wheel.h"

POA_PW_API PWErrors POAOpenPW(int Handle) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_PLUGGED, PW_ERROR_NOT_FOUND);
    w->opened = 1; /* no motion: since SDK 1.1.0 opening leaves the wheel where it is */
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POAClosePW(int Handle) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_ANY, PW_OK);
    w->opened = 0; /* a motion in progress goes on: the wheel finishes it on its own */
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POAGetCurrentPosition(int Handle, int *pPosition) {
    if (pPosition == NULL) return PW_ERROR_POINTER;
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    if (w->motion != WHEEL_IDLE) return sim_wheel_done(PW_ERROR_IS_MOVING);
    *pPosition = w->position;
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POAGotoPosition(int Handle, int position) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    if (position < 0 || position >= w->model->slots) return sim_wheel_done(PW_ERROR_INVALID_ARGU);
    if (w->motion != WHEEL_IDLE) return sim_wheel_done(PW_ERROR_IS_MOVING);
    if (w->firmware_error) {
        sim_fault_log("firmware_error %d", sim_wheel_handle(w));
        return sim_wheel_done(PW_ERROR_FIRMWARE_ERROR);
    }
    if (position == w->position) return sim_wheel_done(PW_OK);
    sim_wheel_move(w, position);
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POAGetOneWay(int Handle, int *pIsOneWay) {
    if (pIsOneWay == NULL) return PW_ERROR_POINTER;
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_PLUGGED, PW_ERROR_OPERATION_FAILED);
    *pIsOneWay = w->one_way;
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POASetOneWay(int Handle, int isOneWay) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_PLUGGED, PW_ERROR_OPERATION_FAILED);
    w->one_way = isOneWay != 0;
    sim_wheel_save(w);
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POAGetPWState(int Handle, PWState *pPWState) {
    if (pPWState == NULL) return PW_ERROR_POINTER;
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_PLUGGED, PW_ERROR_OPERATION_FAILED);
    *pPWState = !w->opened ? PW_STATE_CLOSED : w->motion != WHEEL_IDLE ? PW_STATE_MOVING : PW_STATE_OPENED;
    return sim_wheel_done(PW_OK);
}

/* A name of at most bufLen bytes, cut at a NUL; NULL or bufLen 0 clears. INVALID_ARGU for one of
 * MAX_NAME_LEN bytes or more (the header: "should be less than MAX_NAME_LEN") or with a line
 * break (the state file holds one name per line). */
static PWErrors copy_name(char dst[MAX_NAME_LEN], const char *src, int len) {
    if (src == NULL || len <= 0) {
        dst[0] = '\0';
        return PW_OK;
    }
    size_t n = strnlen(src, (size_t)len);
    if (n >= MAX_NAME_LEN || memchr(src, '\n', n) != NULL || memchr(src, '\r', n) != NULL) {
        return PW_ERROR_INVALID_ARGU;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return PW_OK;
}

/* Copy out: the header asks for a buffer of at least MAX_NAME_LEN bytes. */
static PWErrors name_out(char *buf, int len, const char *src) {
    if (buf == NULL) return PW_ERROR_POINTER;
    if (len < MAX_NAME_LEN) return PW_ERROR_INVALID_ARGU;
    sim_copy_str(buf, (size_t)len, src);
    return PW_OK;
}

POA_PW_API PWErrors POAGetPWFilterAlias(int Handle, int position, char *pAliasBuf, int bufLen) {
    if (pAliasBuf == NULL) return PW_ERROR_POINTER;
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    if (position < 0 || position >= w->model->slots) return sim_wheel_done(PW_ERROR_INVALID_ARGU);
    return sim_wheel_done(name_out(pAliasBuf, bufLen, w->alias[position]));
}

POA_PW_API PWErrors POASetPWFilterAlias(int Handle, int position, const char *pAliasBuf, int bufLen) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    if (position < 0 || position >= w->model->slots) return sim_wheel_done(PW_ERROR_INVALID_ARGU);
    PWErrors err = copy_name(w->alias[position], pAliasBuf, bufLen);
    if (err == PW_OK) sim_wheel_save(w);
    return sim_wheel_done(err);
}

POA_PW_API PWErrors POAGetPWFocusOffset(int Handle, int position, int *pFocusOffset) {
    if (pFocusOffset == NULL) return PW_ERROR_POINTER;
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    if (position < 0 || position >= w->model->slots) return sim_wheel_done(PW_ERROR_INVALID_ARGU);
    *pFocusOffset = w->focus_offset[position];
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POASetPWFocusOffset(int Handle, int position, int focusOffset) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    if (position < 0 || position >= w->model->slots) return sim_wheel_done(PW_ERROR_INVALID_ARGU);
    w->focus_offset[position] = focusOffset;
    sim_wheel_save(w);
    return sim_wheel_done(PW_OK);
}

POA_PW_API PWErrors POAGetPWCustomName(int Handle, char *pNameBuf, int bufLen) {
    if (pNameBuf == NULL) return PW_ERROR_POINTER;
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    return sim_wheel_done(name_out(pNameBuf, bufLen, w->custom_name));
}

POA_PW_API PWErrors POASetPWCustomName(int Handle, const char *pNameBuf, int bufLen) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    PWErrors err = copy_name(w->custom_name, pNameBuf, bufLen);
    if (err == PW_OK) sim_wheel_save(w);
    return sim_wheel_done(err);
}

POA_PW_API PWErrors POAResetPW(int Handle) {
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_OPEN, PW_ERROR_OPERATION_FAILED);
    w->firmware_error = 0;
    sim_wheel_self_check(w, sim_now()); /* also frees a stalled wheel */
    return sim_wheel_done(PW_OK);
}

POA_PW_API const char *POAGetPWErrorString(PWErrors err) {
    switch (err) {
    case PW_OK: return "OK";
    case PW_ERROR_INVALID_INDEX: return "invalid index";
    case PW_ERROR_INVALID_HANDLE: return "invalid handle";
    case PW_ERROR_INVALID_ARGU: return "invalid argument";
    case PW_ERROR_NOT_OPENED: return "filter wheel not opened";
    case PW_ERROR_NOT_FOUND: return "filter wheel not found, may be removed";
    case PW_ERROR_IS_MOVING: return "filter wheel is moving";
    case PW_ERROR_POINTER: return "invalid pointer";
    case PW_ERROR_OPERATION_FAILED: return "operation failed";
    case PW_ERROR_FIRMWARE_ERROR: return "firmware error, reset the filter wheel";
    }
    return "unknown error";
}

POA_PW_API int POAGetPWAPIVer(void) { return 20250307; }

POA_PW_API const char *POAGetPWSDKVer(void) { return "1.2.3"; }
