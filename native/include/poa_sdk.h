/* The vendor SDK (libPlayerOneCamera) behind a small C API of our own.
 *
 * Why a C layer at all: the SDK is loaded at run time with dlopen/dlsym (it is never linked
 * or shipped), and POASetConfig takes the 8-byte union POAConfigValue BY VALUE, which
 * cffi's ABI mode cannot pass. Here the SDK is called with its real C types (the union,
 * `long` buffer sizes, which are 4 bytes on 32-bit ARM), and Python sees only the
 * fixed-width types below.
 *
 * Return codes: every poa_sdk_* call that reaches the SDK returns the SDK's own POAErrors
 * value (0 = POA_OK, 1..17 as in the vendor header, any other positive value passed on
 * unchanged); our own failures are negative: the POA_E* codes of poa_common.h and the
 * POA_SDK_E* codes here.
 *
 * Locking: one lock per camera (poa_sdk_cam_t) serialises every SDK call for that camera,
 * because the SDK is not documented as thread-safe. Calls that take lock_ms wait at most
 * that long for the lock (-1: for ever) and return POA_SDK_EBUSY otherwise, so a
 * temperature poll never stalls behind a readout. Enumeration calls share one
 * library-wide lock.
 *
 * Readout: poa_sdk_expose starts an exposure and hands it to the camera's reader thread,
 * which sleeps through the exposure (no SDK call, no lock), then calls POAGetImageData
 * with the timeout readout_ms straight into a frame-ring slot (poa_ring_begin_frame /
 * poa_ring_commit_frame). That is the SDK's recommended "exposure + 500 ms" counted from
 * the exposure's start, plus whatever transfer time the caller allows for the frame. A frame that never becomes ready (POA_ERROR_TIMEOUT) is handled
 * by a watchdog: stop the exposure, start it again (up to `restarts` times), then report
 * POA_SDK_TIMED_OUT. Nobody polls POAImageReady. */
#ifndef POA_SDK_H
#define POA_SDK_H

#include <stddef.h>
#include <stdint.h>

#include "poa_ring.h"

/* Our own error codes (negative, beside poa_common.h's -1..-8). */
#define POA_SDK_ENOSYM (-20)   /* this SDK build does not export the function */
#define POA_SDK_ELOAD (-21)    /* dlopen failed: the message says why */
#define POA_SDK_EMISSING (-22) /* the library lacks required symbols: the message names them */
#define POA_SDK_EBUSY (-23)    /* the camera lock was not free within lock_ms */

/* SDK error codes the C layer itself reacts to (values of the vendor's POAErrors). */
#define POA_SDK_ERR_TIMEOUT 9
#define POA_SDK_LAST_ERROR 17 /* POA_ERROR_MEMORY_FAILED, the last code the SDK has a text for */

/* States of a camera's readout (poa_sdk_result_t.state). */
#define POA_SDK_IDLE 0      /* no exposure handed to the reader */
#define POA_SDK_EXPOSING 1  /* exposure running, the reader sleeps until it ends */
#define POA_SDK_READING 2   /* inside POAGetImageData */
#define POA_SDK_READY 3     /* the frame is committed to the ring */
#define POA_SDK_FAILED 4    /* an SDK call failed: func and code say which */
#define POA_SDK_TIMED_OUT 5 /* the frame never became ready, restarts used up */
#define POA_SDK_ABORTED 6   /* poa_sdk_abort, or the camera object is being destroyed */

typedef struct poa_sdk poa_sdk_t;         /* the loaded library */
typedef struct poa_sdk_cam poa_sdk_cam_t; /* one camera: its lock and reader thread */

/* POACameraProperties with fixed-width types; strings always NUL-terminated. */
typedef struct {
    char model[256];      /* cameraModelName (includes a custom id, e.g. "Mars-C [Juno]") */
    char custom_id[16];   /* userCustomID */
    int32_t camera_id;    /* the id every other call takes (not the index) */
    int32_t max_width;
    int32_t max_height;
    int32_t bit_depth;    /* ADC bits */
    int32_t is_color;
    int32_t has_st4;
    int32_t has_cooler;
    int32_t usb3;
    int32_t bayer;        /* POABayerPattern: 0 RG, 1 BG, 2 GR, 3 GB, -1 mono */
    double pixel_size_um;
    char serial[64];
    char sensor[32];
    char local_path[256];
    int32_t bins[8];      /* 0-terminated */
    int32_t formats[8];   /* POAImgFormat, -1 (POA_END)-terminated */
    int32_t supports_hard_bin;
    int32_t product_id;
} poa_sdk_camera_props_t;

/* POAConfigAttributes with the union read by its value type (VAL_INT 0: the `long`;
 * VAL_FLOAT 1: the double; VAL_BOOL 2: the POABool). For INT and BOOL configs the int
 * fields hold the values and the double fields the same values converted; for FLOAT
 * configs only the double fields are meaningful (the int fields are 0): reading a FLOAT
 * config's union through .intValue gives garbage (indi-3rdparty issue #684;
 * docs/upstream-facts.md section 3, row 3.2). */
typedef struct {
    int32_t supports_auto;
    int32_t writable;
    int32_t readable;
    int32_t config_id;
    int32_t value_type;
    int64_t min_int;
    int64_t max_int;
    int64_t default_int;
    double min_float;
    double max_float;
    double default_float;
    char name[64];         /* szConfName, e.g. "Gain", "TargetTemp", "Guide North" */
    char description[128];
} poa_sdk_config_attr_t;

typedef struct {
    char name[64];
    char description[128];
} poa_sdk_mode_info_t;

/* POAGetGainsAndOffsets, in the order of its arguments. */
typedef struct {
    int32_t gain_highest_dr;
    int32_t gain_hcg;
    int32_t gain_unity;
    int32_t gain_lowest_rn;
    int32_t offset_highest_dr;
    int32_t offset_hcg;
    int32_t offset_unity;
    int32_t offset_lowest_rn;
} poa_sdk_presets_t;

/* One exposure for the reader thread. */
typedef struct {
    double exposure_s;   /* what the camera was set to (the reader sleeps this long) */
    int32_t single;      /* 1: snap mode (POAStartExposure TRUE); 0: video mode, stopped after
                            the first frame (the per-model fallback) */
    int32_t restarts;    /* watchdog: how often a never-ready frame is retried */
    int32_t readout_ms;  /* POAGetImageData timeout, the call being made once the exposure
                            time has passed (the SDK's 500 ms, plus the transfer time) */
    uint32_t seq;        /* ring sequence number of the frame */
    uint32_t width;      /* expected frame, in binned pixels */
    uint32_t height;
    uint32_t pixfmt;     /* POA_PIX_RAW8 / RAW16 / RGB24 / MONO8 (= the SDK's POAImgFormat) */
    uint8_t *dst;        /* NULL: the frame goes into a slot of the camera's ring. Else the
                            frame is read straight into dst (the driver's image buffer, so the
                            frame has one buffer only) and READY means it is there; the ring is
                            not touched. dst must hold the frame (dst_len) and stay valid until
                            the reader is idle again: an aborted readout may still be writing
                            (the next poa_sdk_expose, or poa_sdk_cam_destroy, waits for that). */
    uint64_t dst_len;
} poa_sdk_exposure_t;

typedef struct {
    int32_t state;          /* POA_SDK_* */
    int32_t code;           /* FAILED/TIMED_OUT: the SDK error code (or a negative code of ours) */
    char func[40];          /* FAILED/TIMED_OUT: the SDK function that failed */
    int32_t restarts;       /* watchdog restarts made for this exposure */
    uint32_t seq;
    uint64_t start_unix_ns; /* CLOCK_REALTIME when the delivered attempt started */
} poa_sdk_result_t;

/* ---- the library ---------------------------------------------------------------------- */

/* dlopen `path` (a file path, or a bare soname for the dynamic loader's search) and resolve
 * the API. POA_SDK_ELOAD / POA_SDK_EMISSING with a message in err. Functions that only
 * newer SDKs export (sensor modes, presets, POA_EXP era extras) are optional: calling a
 * missing one returns POA_SDK_ENOSYM. Loading the same file twice gives two handles on the
 * one mapped library. */
int poa_sdk_load(const char *path, poa_sdk_t **out, char *err, size_t errlen);
/* Frees the handle. The library itself stays mapped for the life of the process (no
 * dlclose): vendor libraries start threads of their own that must not lose their code. */
void poa_sdk_unload(poa_sdk_t *s);
/* 1 if the SDK exports `name` and we bind it, else 0. */
int poa_sdk_has(const poa_sdk_t *s, const char *name);
/* Comma-separated names of the optional functions this SDK lacks ("" if none). */
const char *poa_sdk_missing_optional(const poa_sdk_t *s);
const char *poa_sdk_error_string(poa_sdk_t *s, int code); /* owned by the SDK; never NULL */
int poa_sdk_api_version(poa_sdk_t *s);
const char *poa_sdk_version(poa_sdk_t *s); /* never NULL */
/* The simulated SDK's SimPOA_GetConfigError: what its last camera scan or open found wrong
 * with its configuration from the environment (camera models, options), NUL-terminated into
 * buf; returns the length (0: nothing wrong), POA_SDK_ENOSYM for a library without it (the
 * vendor's). Not an SDK function. */
int poa_sdk_sim_config_error(poa_sdk_t *s, char *buf, size_t len);

/* Enumeration (library-wide lock). */
int poa_sdk_camera_count(poa_sdk_t *s);
int poa_sdk_camera_props(poa_sdk_t *s, int index, poa_sdk_camera_props_t *out);
int poa_sdk_camera_props_by_id(poa_sdk_t *s, int camera_id, poa_sdk_camera_props_t *out);
int poa_sdk_config_value_type(poa_sdk_t *s, int config_id, int *value_type);

/* ---- one camera ------------------------------------------------------------------------ */

/* The lock and reader thread of camera `camera_id`; opens nothing. The ring may be NULL
 * until poa_sdk_set_ring. */
int poa_sdk_cam_create(poa_sdk_t *s, int camera_id, poa_sdk_cam_t **out);
/* Aborts a readout in progress (issuing POAStopExposure), joins the reader, frees. The
 * ring is not touched afterwards. Does not close the camera. */
void poa_sdk_cam_destroy(poa_sdk_cam_t *c);
/* The ring frames go to; only while no exposure is handed to the reader (POA_ESTATE). */
int poa_sdk_set_ring(poa_sdk_cam_t *c, poa_ring_t *ring);

int poa_sdk_open_camera(poa_sdk_cam_t *c);  /* POAOpenCamera */
int poa_sdk_init_camera(poa_sdk_cam_t *c);  /* POAInitCamera */
int poa_sdk_close_camera(poa_sdk_cam_t *c); /* aborts a readout first, then POACloseCamera */
int poa_sdk_cam_props(poa_sdk_cam_t *c, poa_sdk_camera_props_t *out); /* ...PropertiesByID */

int poa_sdk_configs_count(poa_sdk_cam_t *c, int *count);
int poa_sdk_config_attr(poa_sdk_cam_t *c, int index, poa_sdk_config_attr_t *out);
int poa_sdk_config_attr_by_id(poa_sdk_cam_t *c, int config_id, poa_sdk_config_attr_t *out);
/* value_type says which union member to use: INT takes int_value (POA_EINVAL if it does
 * not fit the platform's `long`), FLOAT float_value, BOOL int_value != 0. */
int poa_sdk_set_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t int_value,
                       double float_value, int is_auto);
int poa_sdk_get_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t *int_value,
                       double *float_value, int *is_auto, int lock_ms);

int poa_sdk_set_image_bin(poa_sdk_cam_t *c, int bin);
int poa_sdk_get_image_bin(poa_sdk_cam_t *c, int *bin);
int poa_sdk_set_image_size(poa_sdk_cam_t *c, int width, int height);
int poa_sdk_get_image_size(poa_sdk_cam_t *c, int *width, int *height);
int poa_sdk_set_image_start(poa_sdk_cam_t *c, int x, int y);
int poa_sdk_get_image_start(poa_sdk_cam_t *c, int *x, int *y);
int poa_sdk_set_image_format(poa_sdk_cam_t *c, int format);
int poa_sdk_get_image_format(poa_sdk_cam_t *c, int *format);

int poa_sdk_camera_state(poa_sdk_cam_t *c, int *state, int lock_ms);
int poa_sdk_dropped_count(poa_sdk_cam_t *c, int *count);
int poa_sdk_stop_exposure(poa_sdk_cam_t *c);

int poa_sdk_sensor_mode_count(poa_sdk_cam_t *c, int *count);
int poa_sdk_sensor_mode_info(poa_sdk_cam_t *c, int index, poa_sdk_mode_info_t *out);
int poa_sdk_set_sensor_mode(poa_sdk_cam_t *c, int index);
int poa_sdk_get_sensor_mode(poa_sdk_cam_t *c, int *index);
/* POASetUserCustomID: up to 16 bytes kept in the camera's flash (len 0 clears it); it interrupts
 * a running exposure. POA_SDK_ENOSYM for an SDK without it. */
int poa_sdk_set_user_custom_id(poa_sdk_cam_t *c, const char *id, int len);
int poa_sdk_gains_and_offsets(poa_sdk_cam_t *c, poa_sdk_presets_t *out);
/* POASetEnableDPS (`POAErrors POASetEnableDPS(int nCameraID, const POABool *plsEnable)`, the
 * vendor's PlayerOneCamera.h of SDK 3.7.0): the SDK's dead pixel suppression on or off. There is
 * no getter; POAInitCamera turns it on. POA_SDK_ENOSYM for an SDK without it. */
int poa_sdk_set_dps(poa_sdk_cam_t *c, int enable);

/* Direct, synchronous read (no reader thread): for tests and diagnostics. */
int poa_sdk_get_image_data(poa_sdk_cam_t *c, uint8_t *buf, size_t len, int timeout_ms);

/* ---- exposures through the reader thread ------------------------------------------------ */

/* Waits until the reader is idle (a previous, aborted readout may still be finishing its
 * POAGetImageData), then POAStartExposure(single) under the lock and hands the exposure
 * to the reader. POA_ESTATE without a ring or when the frame does not
 * fit a slot; an SDK code if the start failed (the reader then stays idle). */
int poa_sdk_expose(poa_sdk_cam_t *c, const poa_sdk_exposure_t *e);
/* Ends the exposure without waiting: the result becomes POA_SDK_ABORTED at once and the
 * reader issues POAStopExposure itself, at once while it sleeps through the exposure, or
 * when POAGetImageData returns if it is inside it (the SDK lock is held there). The
 * reader alone stops, so a late stop can never hit the next exposure. No-op when idle or
 * finished. */
int poa_sdk_abort(poa_sdk_cam_t *c);
/* Waits up to timeout_ms (-1: for ever, 0: poll) for the exposure to finish; fills out
 * with the state (EXPOSING/READING when it timed out). Returns POA_OK, or POA_ETIMEDOUT
 * when the exposure is still running. The result stays until the next poa_sdk_expose. */
int poa_sdk_wait(poa_sdk_cam_t *c, int timeout_ms, poa_sdk_result_t *out);

/* ---- video mode through the reader thread (streaming) ------------------------------------ */

/* Continuous capture (the SDK's video mode): POAStartExposure(FALSE), then the reader calls
 * POAGetImageData straight into ring slots, frame after frame, until poa_sdk_video_stop.
 * Use a ring in POA_RING_DROP_OLDEST mode: a consumer that falls behind loses the oldest
 * frames (counted by the ring) and the SDK is kept read. */
typedef struct {
    uint32_t width;       /* frame, in binned pixels */
    uint32_t height;
    uint32_t pixfmt;      /* POA_PIX_RAW8 / RAW16 / RGB24 / MONO8 */
    uint32_t first_seq;   /* ring sequence number of the first frame */
    int32_t timeout_ms;   /* no frame for this long (exposure + 500 ms + transfer): a timeout */
    double exposure_s;    /* frame timestamps = arrival - exposure (the exposure's start) */
} poa_sdk_video_t;

typedef struct {
    int32_t state;          /* POA_SDK_EXPOSING while running; IDLE when stopped; FAILED */
    int32_t code;           /* FAILED: the SDK error code (or a negative code of ours) */
    char func[40];          /* FAILED: the function that failed */
    uint64_t frames;        /* frames committed to the ring */
    uint64_t timeouts;      /* timeout_ms periods that passed without a frame */
    uint64_t no_slot;       /* frames not read at once because no ring slot was free */
    int32_t camera_dropped; /* POAGetDroppedImagesCount, read about twice a second; -1 unknown */
} poa_sdk_video_stats_t;

/* Waits until the reader is idle, POAStartExposure(FALSE) under the lock, then the reader
 * runs the video loop. POA_ESTATE without a ring or when a frame does not fit a slot. */
int poa_sdk_video_start(poa_sdk_cam_t *c, const poa_sdk_video_t *v);
/* Ends the loop (within ~0.2 s: the reader waits for frames in short slices), the reader
 * issues POAStopExposure; returns when the reader is idle. No-op when not in video mode. */
int poa_sdk_video_stop(poa_sdk_cam_t *c);
int poa_sdk_video_stats(poa_sdk_cam_t *c, poa_sdk_video_stats_t *out);

#endif
