/*
 * The Player One Phoenix filter wheel ("PW") SDK's C API as the simulated library exports it:
 * our own wording of the interface facts of the vendor's PlayerOnePW.h (filter wheel SDK 1.2.x,
 * as indi-3rdparty's libplayerone and INDIGO's wheel_playerone vendor it; see
 * docs/upstream-facts.md section 9). Function names, signatures, enum values and the
 * PWProperties layout are the vendor's; the comments are ours. Declarations only.
 *
 * The vendor ships this API as its own library (libPlayerOnePW.so, SONAME libPlayerOnePW.so.1);
 * the simulated wheels live in libPlayerOneCameraSim.so beside the simulated cameras, so one
 * simulated library stands in for both vendor libraries. The simulator-only control functions
 * are prefixed SimPOA_ like the camera's.
 */
#ifndef SIM_PLAYERONE_PW_H
#define SIM_PLAYERONE_PW_H

#ifdef __cplusplus
extern "C" {
#endif

#define POA_PW_API __attribute__((visibility("default")))

typedef enum _PWErrors {
    PW_OK = 0,                 /* success */
    PW_ERROR_INVALID_INDEX,    /* index < 0 or >= POAGetPWCount() */
    PW_ERROR_INVALID_HANDLE,   /* no wheel with this handle */
    PW_ERROR_INVALID_ARGU,     /* bad argument (a position out of range, a name too long) */
    PW_ERROR_NOT_OPENED,       /* the wheel is not open */
    PW_ERROR_NOT_FOUND,        /* the wheel is gone (unplugged) */
    PW_ERROR_IS_MOVING,        /* the wheel is turning */
    PW_ERROR_POINTER,          /* NULL output pointer */
    PW_ERROR_OPERATION_FAILED, /* failed: commands too often, or the wheel was removed */
    PW_ERROR_FIRMWARE_ERROR,   /* the firmware reported an error: call POAResetPW */
} PWErrors;

typedef enum _PWState {
    PW_STATE_CLOSED = 0, /* not open */
    PW_STATE_OPENED,     /* open and idle */
    PW_STATE_MOVING      /* open and turning */
} PWState;

typedef struct _PWProperties {
    char Name[64];     /* the wheel's name; "<name> [<custom name>]" once a custom name is set */
    int Handle;        /* what every other call takes (not the index) */
    int PositionCount; /* filter slots: 5, 7 or 8 */
    char SN[32];       /* serial number */
    char Reserved[32];
} PWProperties;

/* Custom names and filter aliases are shorter than this (bytes, the terminating NUL excluded). */
#define MAX_NAME_LEN (24)

POA_PW_API int POAGetPWCount(void);
POA_PW_API PWErrors POAGetPWProperties(int index, PWProperties *pProp);
POA_PW_API PWErrors POAGetPWPropertiesByHandle(int Handle, PWProperties *pProp);
POA_PW_API PWErrors POAOpenPW(int Handle);
POA_PW_API PWErrors POAClosePW(int Handle);
POA_PW_API PWErrors POAGetCurrentPosition(int Handle, int *pPosition); /* 0-based */
POA_PW_API PWErrors POAGotoPosition(int Handle, int position);         /* 0..PositionCount-1 */
POA_PW_API PWErrors POAGetOneWay(int Handle, int *pIsOneWay);
POA_PW_API PWErrors POASetOneWay(int Handle, int isOneWay);
POA_PW_API PWErrors POAGetPWState(int Handle, PWState *pPWState);
POA_PW_API PWErrors POAGetPWFilterAlias(int Handle, int position, char *pAliasBuf, int bufLen);
POA_PW_API PWErrors POASetPWFilterAlias(int Handle, int position, const char *pAliasBuf, int bufLen);
POA_PW_API PWErrors POAGetPWFocusOffset(int Handle, int position, int *pFocusOffset);
POA_PW_API PWErrors POASetPWFocusOffset(int Handle, int position, int focusOffset);
POA_PW_API PWErrors POAGetPWCustomName(int Handle, char *pNameBuf, int bufLen);
POA_PW_API PWErrors POASetPWCustomName(int Handle, const char *pNameBuf, int bufLen);
POA_PW_API PWErrors POAResetPW(int Handle);
POA_PW_API const char *POAGetPWErrorString(PWErrors err);
POA_PW_API int POAGetPWAPIVer(void);
POA_PW_API const char *POAGetPWSDKVer(void);

/* ---- simulator only (not in the vendor's library) ---- */

/* The last problem with INDI_PLAYERONE_SIMULATE_WHEEL or INDI_PLAYERONE_SIM_WHEEL_OPTIONS (an
 * unknown wheel name, with the valid ones), NUL-terminated into buf; its length, 0 = none. */
POA_PW_API int SimPOA_GetPWConfigError(char *buf, int size);

#ifdef __cplusplus
}
#endif

#endif /* SIM_PLAYERONE_PW_H */
