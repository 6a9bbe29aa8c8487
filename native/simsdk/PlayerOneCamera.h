/*
 * PlayerOneCamera.h -- the Player One camera SDK's C interface, declarations only.
 *
 * Written by this project from the vendor SDK's interface (PlayerOneCamera.h of SDK V3.10.x, as
 * vendored by open-source drivers; docs/upstream-facts.md section 2): type names, enum values, structure layouts and function
 * signatures are interface facts and match the vendor's exactly; the wording and layout of this
 * file are our own. It is the project's one declaration of that API: the simulated SDK
 * (libPlayerOneCameraSim.so, from the C files beside it) implements it, and the C core's SDK
 * layer (native/src/sdk_internal.h) takes the structures it hands to the SDK from it. It is
 * never installed as the vendor's header.
 *
 * Functions prefixed SimPOA_ are NOT part of the vendor SDK: they exist only in the simulated
 * one, to switch faults on and to read what the driver cannot (see README.md in this directory).
 */
#ifndef PLAYERONE_CAMERA_H
#define PLAYERONE_CAMERA_H

#include <stddef.h> /* offsetof, for the layout assertions */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define POACAMERA_API __attribute__((visibility("default")))
#else
#define POACAMERA_API
#endif

/* ---- enumerations (all plain C int) ---------------------------------------------------------- */

typedef enum _POABool { POA_FALSE = 0, POA_TRUE = 1 } POABool;

typedef enum _POABayerPattern {
    POA_BAYER_RG = 0,   /* RGGB */
    POA_BAYER_BG = 1,   /* BGGR */
    POA_BAYER_GR = 2,   /* GRBG */
    POA_BAYER_GB = 3,   /* GBRG */
    POA_BAYER_MONO = -1 /* a monochrome sensor */
} POABayerPattern;

typedef enum _POAImgFormat {
    POA_RAW8 = 0,  /* 1 byte per pixel */
    POA_RAW16 = 1, /* 2 bytes per pixel, host byte order, 0..65535 */
    POA_RGB24 = 2, /* 3 bytes per pixel in the order B, G, R; colour cameras only */
    POA_MONO8 = 3, /* 1 byte per pixel luminance; colour cameras only */
    POA_END = -1   /* terminates POACameraProperties.imgFormats */
} POAImgFormat;

typedef enum _POAErrors {
    POA_OK = 0,
    POA_ERROR_INVALID_INDEX,      /* 1: camera or config index out of range */
    POA_ERROR_INVALID_ID,         /* 2: no camera with this ID */
    POA_ERROR_INVALID_CONFIG,     /* 3: unknown config, or not supported by this camera */
    POA_ERROR_INVALID_ARGU,       /* 4 */
    POA_ERROR_NOT_OPENED,         /* 5 */
    POA_ERROR_DEVICE_NOT_FOUND,   /* 6: the camera has gone (unplugged) */
    POA_ERROR_OUT_OF_LIMIT,       /* 7 */
    POA_ERROR_EXPOSURE_FAILED,    /* 8 */
    POA_ERROR_TIMEOUT,            /* 9 */
    POA_ERROR_SIZE_LESS,          /* 10: caller's buffer too small */
    POA_ERROR_EXPOSING,           /* 11: stop the exposure first */
    POA_ERROR_POINTER,            /* 12: NULL pointer argument */
    POA_ERROR_CONF_CANNOT_WRITE,  /* 13 */
    POA_ERROR_CONF_CANNOT_READ,   /* 14 */
    POA_ERROR_ACCESS_DENIED,      /* 15 */
    POA_ERROR_OPERATION_FAILED,   /* 16 */
    POA_ERROR_MEMORY_FAILED       /* 17 */
} POAErrors;

typedef enum _POACameraState {
    STATE_CLOSED = 0,
    STATE_OPENED = 1,  /* open and idle */
    STATE_EXPOSING = 2
} POACameraState;

typedef enum _POAValueType {
    VAL_INT = 0,   /* POAConfigValue.intValue (a C long) */
    VAL_FLOAT = 1, /* POAConfigValue.floatValue */
    VAL_BOOL = 2   /* POAConfigValue.boolValue */
} POAValueType;

typedef enum _POAConfig {
    POA_EXPOSURE = 0,            /* int, microseconds */
    POA_GAIN = 1,                /* int */
    POA_HARDWARE_BIN = 2,        /* bool */
    POA_TEMPERATURE = 3,         /* float, read only, degrees C */
    POA_WB_R = 4,                /* int */
    POA_WB_G = 5,                /* int */
    POA_WB_B = 6,                /* int */
    POA_OFFSET = 7,              /* int */
    POA_AUTOEXPO_MAX_GAIN = 8,   /* int */
    POA_AUTOEXPO_MAX_EXPOSURE = 9, /* int, milliseconds */
    POA_AUTOEXPO_BRIGHTNESS = 10,  /* int */
    POA_GUIDE_NORTH = 11,        /* bool, ST4 */
    POA_GUIDE_SOUTH = 12,        /* bool */
    POA_GUIDE_EAST = 13,         /* bool */
    POA_GUIDE_WEST = 14,         /* bool */
    POA_EGAIN = 15,              /* float, read only, e-/ADU */
    POA_COOLER_POWER = 16,       /* int, read only, percent */
    POA_TARGET_TEMP = 17,        /* int, degrees C */
    POA_COOLER = 18,             /* bool: cooler and fan on/off */
    POA_HEATER = 19,             /* bool, read only, deprecated */
    POA_HEATER_POWER = 20,       /* int, window heater percent */
    POA_FAN_POWER = 21,          /* int, fan percent */
    POA_FLIP_NONE = 22,          /* bool; the value given to set is ignored */
    POA_FLIP_HORI = 23,          /* bool */
    POA_FLIP_VERT = 24,          /* bool */
    POA_FLIP_BOTH = 25,          /* bool */
    POA_FRAME_LIMIT = 26,        /* int, frames per second, 0 = no limit */
    POA_HQI = 27,                /* bool */
    POA_USB_BANDWIDTH_LIMIT = 28, /* int, percent */
    POA_PIXEL_BIN_SUM = 29,      /* bool: TRUE sum, FALSE average */
    POA_MONO_BIN = 30,           /* bool */
    POA_EXP = 31                 /* float, seconds */
} POAConfig;

/* ---- structures (layouts checked by the static assertions after them) ------------------------ */

typedef struct _POACameraProperties {  /* 992 bytes */
    char cameraModelName[256];
    char userCustomID[16];
    int cameraID;                 /* passed to every other call; not the index */
    int maxWidth;
    int maxHeight;
    int bitDepth;                 /* ADC bits */
    POABool isColorCamera;
    POABool isHasST4Port;
    POABool isHasCooler;
    POABool isUSB3Speed;
    POABayerPattern bayerPattern;
    double pixelSize;             /* micrometres */
    char SN[64];
    char sensorModelName[32];
    char localPath[256];
    int bins[8];                  /* 0 after the last supported bin */
    POAImgFormat imgFormats[8];   /* POA_END after the last format */
    POABool isSupportHardBin;
    int pID;                      /* USB product id; the vendor id is 0xA0A0 */
    char reserved[248];
} POACameraProperties;

typedef union _POAConfigValue {  /* 8 bytes: a long is 4 bytes on 32-bit ARM, the double sets the size */
    long intValue;
    double floatValue;
    POABool boolValue;
} POAConfigValue;

typedef struct _POAConfigAttributes {  /* 304 bytes */
    POABool isSupportAuto;
    POABool isWritable;
    POABool isReadable;
    POAConfig configID;
    POAValueType valueType;
    POAConfigValue maxValue;
    POAConfigValue minValue;
    POAConfigValue defaultValue;
    char szConfName[64];
    char szDescription[128];
    char reserved[64];
} POAConfigAttributes;

typedef struct _POASensorModeInfo {  /* 192 bytes */
    char name[64];
    char desc[128];
} POASensorModeInfo;

/* The layouts the vendor's binary expects (its header's structures, SDK 3.x), checked wherever
 * this header is compiled: the simulated SDK and the C core's SDK layer. They hold on LP64 and
 * on 32-bit ARM alike (a double is 8-aligned there too; a cross-compile checks the latter);
 * 32-bit x86 aligns a double to 4 inside structures and is not an SDK target. Every field's
 * offset, size and the enum values are compared with the vendor's header on each architecture
 * by tests/native/test_vendor_abi.py; these assertions stop a build that gets them wrong. */
#define POA_LAYOUT_OFFSETS(X)                                                                   \
    X(POACameraProperties, userCustomID, 256) X(POACameraProperties, cameraID, 272)             \
    X(POACameraProperties, bayerPattern, 304) X(POACameraProperties, pixelSize, 312)            \
    X(POACameraProperties, SN, 320) X(POACameraProperties, sensorModelName, 384)                \
    X(POACameraProperties, localPath, 416) X(POACameraProperties, bins, 672)                    \
    X(POACameraProperties, imgFormats, 704) X(POACameraProperties, isSupportHardBin, 736)       \
    X(POACameraProperties, pID, 740) X(POACameraProperties, reserved, 744)                      \
    X(POAConfigAttributes, configID, 12) X(POAConfigAttributes, valueType, 16)                  \
    X(POAConfigAttributes, maxValue, 24) X(POAConfigAttributes, minValue, 32)                   \
    X(POAConfigAttributes, defaultValue, 40) X(POAConfigAttributes, szConfName, 48)             \
    X(POAConfigAttributes, szDescription, 112) X(POAConfigAttributes, reserved, 240)

#if !defined(__i386__) && !defined(__cplusplus)
#define POA_ASSERT_OFFSET(type, field, at) \
    _Static_assert(offsetof(type, field) == (at), #type "." #field " offset");
POA_LAYOUT_OFFSETS(POA_ASSERT_OFFSET)
#undef POA_ASSERT_OFFSET
_Static_assert(sizeof(POACameraProperties) == 992, "POACameraProperties must be 992 bytes");
_Static_assert(sizeof(POAConfigValue) == 8, "POAConfigValue must be 8 bytes");
_Static_assert(sizeof(POAConfigAttributes) == 304, "POAConfigAttributes must be 304 bytes");
_Static_assert(sizeof(POASensorModeInfo) == 192, "POASensorModeInfo must be 192 bytes");
_Static_assert(sizeof(POAImgFormat) == 4 && sizeof(POAErrors) == 4 && sizeof(POABool) == 4, "enums are int");
#endif

/* ---- functions -------------------------------------------------------------------------------- */

POACAMERA_API int POAGetCameraCount(void);
POACAMERA_API POAErrors POAGetCameraProperties(int nIndex, POACameraProperties *pProp);
POACAMERA_API POAErrors POAGetCameraPropertiesByID(int nCameraID, POACameraProperties *pProp);
POACAMERA_API POAErrors POAOpenCamera(int nCameraID);
POACAMERA_API POAErrors POAInitCamera(int nCameraID);
POACAMERA_API POAErrors POACloseCamera(int nCameraID);

POACAMERA_API POAErrors POAGetConfigsCount(int nCameraID, int *pConfCount);
POACAMERA_API POAErrors POAGetConfigAttributes(int nCameraID, int nConfIndex, POAConfigAttributes *pConfAttr);
POACAMERA_API POAErrors POAGetConfigAttributesByConfigID(int nCameraID, POAConfig confID,
                                                         POAConfigAttributes *pConfAttr);
POACAMERA_API POAErrors POASetConfig(int nCameraID, POAConfig confID, POAConfigValue confValue, POABool isAuto);
POACAMERA_API POAErrors POAGetConfig(int nCameraID, POAConfig confID, POAConfigValue *pConfValue, POABool *pIsAuto);
POACAMERA_API POAErrors POAGetConfigValueType(POAConfig confID, POAValueType *pConfValueType);

POACAMERA_API POAErrors POAGetImageStartPos(int nCameraID, int *pStartX, int *pStartY);
POACAMERA_API POAErrors POASetImageStartPos(int nCameraID, int startX, int startY);
POACAMERA_API POAErrors POAGetImageSize(int nCameraID, int *pWidth, int *pHeight);
POACAMERA_API POAErrors POASetImageSize(int nCameraID, int width, int height);
POACAMERA_API POAErrors POAGetImageBin(int nCameraID, int *pBin);
POACAMERA_API POAErrors POASetImageBin(int nCameraID, int bin);
POACAMERA_API POAErrors POAGetImageFormat(int nCameraID, POAImgFormat *pImgFormat);
POACAMERA_API POAErrors POASetImageFormat(int nCameraID, POAImgFormat imgFormat);

POACAMERA_API POAErrors POAStartExposure(int nCameraID, POABool bSingleFrame);
POACAMERA_API POAErrors POAStopExposure(int nCameraID);
POACAMERA_API POAErrors POAGetCameraState(int nCameraID, POACameraState *pCameraState);
POACAMERA_API POAErrors POAImageReady(int nCameraID, POABool *pIsReady);
POACAMERA_API POAErrors POAGetImageData(int nCameraID, unsigned char *pBuf, long lBufSize, int nTimeoutms);
POACAMERA_API POAErrors POAGetDroppedImagesCount(int nCameraID, int *pDroppedCount);

POACAMERA_API POAErrors POAGetSensorModeCount(int nCameraID, int *pModeCount);
POACAMERA_API POAErrors POAGetSensorModeInfo(int nCameraID, int modeIndex, POASensorModeInfo *pSenModeInfo);
POACAMERA_API POAErrors POASetSensorMode(int nCameraID, int modeIndex);
POACAMERA_API POAErrors POAGetSensorMode(int nCameraID, int *pModeIndex);

POACAMERA_API POAErrors POASetUserCustomID(int nCameraID, const char *pCustomID, int len);
POACAMERA_API POAErrors POAGetGainOffset(int nCameraID, int *pOffsetHighestDR, int *pOffsetUnityGain,
                                         int *pGainLowestRN, int *pOffsetLowestRN, int *pHCGain);
POACAMERA_API POAErrors POAGetGainsAndOffsets(int nCameraID, int *pGainHighestDR, int *pHCGain, int *pUnityGain,
                                              int *pGainLowestRN, int *pOffsetHighestDR, int *pOffsetHCGain,
                                              int *pOffsetUnityGain, int *pOffsetLowestRN);

POACAMERA_API const char *POAGetErrorString(POAErrors err);
POACAMERA_API int POAGetAPIVersion(void);
POACAMERA_API const char *POAGetSDKVersion(void);
POACAMERA_API POAErrors POASetConfig_M(int nCameraID, POAConfig confID, double cfgVal, POABool isAuto);
/* Dead pixel suppression (DPS): the camera corrects the pixels its flash lists. The value is read
 * through the pointer (the vendor header's signature, SDK 3.7.0); POAInitCamera turns it on. */
POACAMERA_API POAErrors POASetEnableDPS(int nCameraID, const POABool *plsEnable);

/* ---- simulated-SDK-only functions (not in the vendor SDK) ------------------------------------ */

/* Arm (arg >= 0) or clear (arg < 0) one fault on camera nCameraID; "none" clears all of them,
 * "unplug" / "replug" remove and bring back the camera, "12v" restores the 12 V supply,
 * "fail_call:<POAFunctionName>" makes the next arg calls of that function fail (0: every call),
 * "unplug_in_read" (arg = ms). Returns a POAErrors value. See README.md, which also describes the
 * options (INDI_PLAYERONE_SIM_OPTIONS) and the runtime fault file (INDI_PLAYERONE_SIM_FAULT_FILE). */
POACAMERA_API int SimPOA_SetFault(int nCameraID, const char *fault, int arg);
/* Close every camera, forget all faults, custom IDs and counters; the next POAGetCameraCount
 * reads INDI_PLAYERONE_SIMULATE again as if the process had just loaded the library. */
POACAMERA_API void SimPOA_Reset(void);
/* Frames handed out by POAGetImageData since the camera was opened. */
POACAMERA_API int SimPOA_GetFrameCount(int nCameraID, int *pCount);
/* The last configuration problem (an unknown model in INDI_PLAYERONE_SIMULATE, a bad
 * INDI_PLAYERONE_SIM_OPTIONS item) copied into buf (NUL-terminated, truncated to size); returns
 * its full length, 0 when the configuration is fine. The problem is also said once on stderr. */
POACAMERA_API int SimPOA_GetConfigError(char *buf, int size);
/* What a USB device reset (usbdevfs) does to the camera: a hung camera (fault "hang") answers
 * again; the camera is closed, as after a replug. Returns a POAErrors value. */
POACAMERA_API int SimPOA_UsbReset(int nCameraID);

#ifdef __cplusplus
}
#endif

#endif /* PLAYERONE_CAMERA_H */
