/*
 * Error texts, versions, gain/offset presets, the user custom ID and dead pixel suppression.
 *
 * Error texts are the vendor library's, word for word (SDK 3.7.0, read through its
 * POAGetErrorString; docs/upstream-facts.md section 2.4), with its quirk for a code it does not
 * know: it answers the text it gave last (kept in one process-wide pointer), "unknown error"
 * before any known code was asked for. A binding must not ask it about codes beyond 17.
 *
 * Versions have the vendor's shapes: POAGetSDKVersion "major.minor.patch" (the option
 * sdk_version, default "3.10.1"), POAGetAPIVersion the release date as yyyymmdd, which the
 * vendor's SDK 3.7.0 answers as 20240905, the date of 3.7.0 in its changelog; for the versions
 * of that changelog the date is given here, others answer 20260430. A binding tells this library
 * from the vendor's by its SimPOA_ exports (SimPOA_GetConfigError), never by the version.
 *
 * The camera is checked before the pointers in POAGetGainsAndOffsets and POAGetGainOffset and
 * before the arguments of POASetUserCustomID, as the vendor's library does (with no camera it
 * answers POA_ERROR_INVALID_ID there whatever the pointers are).
 */
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

static const char *const ERROR_TEXT[] = {
    "operation successfully",
    "invalid index",
    "invalid camera id",
    "invalid configure",
    "one or more arguments are not valid",
    "camera is not opened",
    "camera is not connected",
    "value is out of limit",
    "exposure failed",
    "operation timed out",
    "buffer size is too small",
    "exposure is in progress",
    "pointer is zero",
    "configure is not writable",
    "configure is not readable",
    "access denied",
    "operation failed",
    "alloc memory failed",
};

POACAMERA_API const char *POAGetErrorString(POAErrors err) {
    static const char *_Atomic last = "unknown error";
    int i = (int)err;
    if (i >= 0 && i < (int)(sizeof ERROR_TEXT / sizeof ERROR_TEXT[0])) last = ERROR_TEXT[i];
    return last;
}

/* Release dates of the SDK versions in the vendor's changelog: its API version. */
static const struct {
    int major, minor, patch, api;
} API_DATES[] = {
    {3, 7, 0, 20240905}, {3, 7, 1, 20241129}, {3, 8, 0, 20250218}, {3, 8, 1, 20250325},
    {3, 9, 0, 20250828}, {3, 9, 1, 20251016}, {3, 10, 0, 20251226},
};

POACAMERA_API int POAGetAPIVersion(void) {
    sim_options o;
    sim_options_for("", -1, &o);
    for (size_t i = 0; i < sizeof API_DATES / sizeof API_DATES[0]; i++) {
        if (API_DATES[i].major == o.sdk[0] && API_DATES[i].minor == o.sdk[1] && API_DATES[i].patch == o.sdk[2]) {
            return API_DATES[i].api;
        }
    }
    return 20260430;
}

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
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    if (!pGainHighestDR || !pHCGain || !pUnityGain || !pGainLowestRN || !pOffsetHighestDR || !pOffsetHCGain ||
        !pOffsetUnityGain || !pOffsetLowestRN) {
        return sim_cam_done(c, POA_ERROR_POINTER);
    }
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
    return sim_cam_done(c, POA_OK);
}

/* The deprecated predecessor: the same presets, fewer of them, in its own argument order. */
POACAMERA_API POAErrors POAGetGainOffset(int nCameraID, int *pOffsetHighestDR, int *pOffsetUnityGain,
                                         int *pGainLowestRN, int *pOffsetLowestRN, int *pHCGain) {
    int g0, unity, oh; /* a NULL among the others: POA_ERROR_POINTER, after the camera's check */
    return POAGetGainsAndOffsets(nCameraID, &g0, pHCGain, &unity, pGainLowestRN, pOffsetHighestDR, &oh,
                                 pOffsetUnityGain, pOffsetLowestRN);
}

/* Up to 16 bytes; NULL or len 0 clears. Like the SDK it interrupts a running exposure. */
POACAMERA_API POAErrors POASetUserCustomID(int nCameraID, const char *pCustomID, int len) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    if (len < 0 || len > 16 || (pCustomID == NULL && len > 0)) return sim_cam_done(c, POA_ERROR_INVALID_ARGU);
    sim_stop_exposure_locked(c);
    size_t n = pCustomID ? strnlen(pCustomID, (size_t)len) : 0;
    memcpy(c->custom_id, pCustomID ? pCustomID : "", n);
    c->custom_id[n] = '\0';
    return sim_cam_done(c, POA_OK);
}

#ifndef SIM_WITHOUT_DPS /* test knob: a library without it, as an SDK older than 3.7.0 may be */
/* Dead pixel suppression on or off (read through the pointer, any value but POA_TRUE is off).
 * The pointer is checked before the camera, as the vendor's library does. Frames made before
 * the call keep the setting they were made with. */
POACAMERA_API POAErrors POASetEnableDPS(int nCameraID, const POABool *plsEnable) {
    if (plsEnable == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    sim_advance(c, sim_now());
    c->dps = *plsEnable == POA_TRUE;
    return sim_cam_done(c, POA_OK);
}
#endif
