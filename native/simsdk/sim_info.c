/*
 * Error texts, versions, gain/offset presets and the user custom ID.
 *
 * Versions: the library presents itself as SDK "3.10.1" (or the option sdk_version), API
 * 20260430 (the header's), so a binding's version checks take the modern path (POA_EXP exists).
 * A binding that wants to know it talks to the simulated SDK can look for the symbol
 * SimPOA_SetFault.
 */
#include <string.h>

#include "sim_internal.h"

static const char *const ERROR_TEXT[] = {
    "operation successful",
    "invalid index: less than 0 or not less than the count",
    "invalid camera ID",
    "invalid config, or not supported by this camera",
    "invalid argument",
    "camera not opened",
    "camera not found, it may have been removed",
    "value out of limit",
    "camera exposure failed",
    "timeout",
    "data buffer too small",
    "camera is exposing: stop the exposure first",
    "NULL pointer",
    "config is not writable",
    "config is not readable",
    "access denied",
    "operation failed: the camera may have been disconnected",
    "memory allocation failed",
};

POACAMERA_API const char *POAGetErrorString(POAErrors err) {
    int i = (int)err;
    if (i < 0 || i >= (int)(sizeof ERROR_TEXT / sizeof ERROR_TEXT[0])) return "unknown error";
    return ERROR_TEXT[i];
}

POACAMERA_API int POAGetAPIVersion(void) { return 20260430; }

/* The sdk_version of the options that aim at no camera, read at every call. The strings are
 * kept (up to 8 different ones), so a pointer returned earlier stays valid and unchanged. */
POACAMERA_API const char *POAGetSDKVersion(void) {
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char seen[8][16];
    sim_options o;
    sim_options_for("", -1, &o);
    const char *out = "3.10.1";
    pthread_mutex_lock(&mu);
    for (int i = 0; i < 8; i++) {
        if (seen[i][0] == '\0') sim_copy_str(seen[i], sizeof seen[i], o.sdk_version);
        if (strcmp(seen[i], o.sdk_version) == 0) {
            out = seen[i];
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return out;
}

POACAMERA_API POAErrors POAGetGainsAndOffsets(int nCameraID, int *pGainHighestDR, int *pHCGain, int *pUnityGain,
                                              int *pGainLowestRN, int *pOffsetHighestDR, int *pOffsetHCGain,
                                              int *pOffsetUnityGain, int *pOffsetLowestRN) {
    if (!pGainHighestDR || !pHCGain || !pUnityGain || !pGainLowestRN || !pOffsetHighestDR || !pOffsetHCGain ||
        !pOffsetUnityGain || !pOffsetLowestRN) {
        return POA_ERROR_POINTER;
    }
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    int p[8];
    sim_presets(c->model, p);
    *pGainHighestDR = p[0];
    *pHCGain = p[1];
    *pUnityGain = p[2];
    *pGainLowestRN = p[3];
    *pOffsetHighestDR = p[4];
    *pOffsetHCGain = p[5];
    *pOffsetUnityGain = p[6];
    *pOffsetLowestRN = p[7];
    sim_unlock_cam(c);
    return POA_OK;
}

/* The deprecated predecessor: the same presets, fewer of them, in its own argument order. */
POACAMERA_API POAErrors POAGetGainOffset(int nCameraID, int *pOffsetHighestDR, int *pOffsetUnityGain,
                                         int *pGainLowestRN, int *pOffsetLowestRN, int *pHCGain) {
    if (!pOffsetHighestDR || !pOffsetUnityGain || !pGainLowestRN || !pOffsetLowestRN || !pHCGain) {
        return POA_ERROR_POINTER;
    }
    int g0, unity, oh;
    return POAGetGainsAndOffsets(nCameraID, &g0, pHCGain, &unity, pGainLowestRN, pOffsetHighestDR, &oh,
                                 pOffsetUnityGain, pOffsetLowestRN);
}

/* Up to 16 bytes; NULL or len 0 clears. Like the SDK it interrupts a running exposure. */
POACAMERA_API POAErrors POASetUserCustomID(int nCameraID, const char *pCustomID, int len) {
    if (len < 0 || len > 16 || (pCustomID == NULL && len > 0)) return POA_ERROR_INVALID_ARGU;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    sim_stop_exposure_locked(c);
    size_t n = pCustomID ? strnlen(pCustomID, (size_t)len) : 0;
    memcpy(c->custom_id, pCustomID ? pCustomID : "", n);
    c->custom_id[n] = '\0';
    sim_unlock_cam(c);
    return POA_OK;
}
