/*
 * Internal state of the fake Player One SDK. Nothing here is exported (the library is built with
 * -fvisibility=hidden; only POACAMERA_API functions are visible).
 *
 * Locking: each camera slot has one mutex (`mu`) guarding every field of the slot and one
 * condition variable (`cv`, CLOCK_MONOTONIC) broadcast on every state change; the exposure worker
 * renders frames with the mutex released. The slot table itself is fixed (FAKE_MAX_CAMERAS
 * statically allocated slots, never freed), so a camera pointer stays valid for the life of the
 * process and a call racing a rescan or a close cannot touch freed memory.
 */
#ifndef FAKE_INTERNAL_H
#define FAKE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "PlayerOneCamera.h"

#define FAKE_MAX_CAMERAS 8
#define FAKE_ID_BASE 100 /* camera id = FAKE_ID_BASE + FAKE_ID_STEP * slot: never equal to an index */
#define FAKE_ID_STEP 7
#define FAKE_QUEUE 2     /* frames the camera holds for the host (the PHD2 comment: two buffers) */
#define FAKE_MAX_STARS 48

/* ---- model table (fake_models.c) ---- */
typedef struct fake_model {
    const char *name;      /* as the manual writes it: "Ares-C PRO" */
    const char *sensor;    /* "IMX533" */
    int color;
    int width, height;     /* full resolution */
    double pixel_um;
    double rn_low_gain_e;  /* read noise at gain 0 (the larger figure of the manual's range) */
    double rn_high_gain_e; /* read noise at the highest gain */
    double full_well_e;
    double delta_t_c;      /* cooling below ambient at 100 % fan (lower end of the manual's range) */
    int adc_bits;
    double max_fps;        /* full-frame rate, used for the readout time */
    int aluminium;         /* body: the manual's fan default is 70 % (aluminium) or 50 % (carbon) */
    int sensor_modes;      /* 2 (Normal, Low Noise) for IMX455/571/533, else 0 */
    int hcg_gain;          /* gain where the sensor switches to high conversion gain */
    int pid;               /* fake USB product id */
} fake_model;

const fake_model *fake_model_find(const char *name);
double fake_model_egain(const fake_model *m, long gain);     /* e-/ADU in ADC units */
double fake_model_read_noise(const fake_model *m, long gain, int low_noise_mode);
int fake_model_unity_gain(const fake_model *m);
void fake_model_presets(const fake_model *m, int out[8]);

/* ---- faults (fake_faults.c) ---- */
enum fake_fault_kind {
    FAULT_NEVER_READY = 0, /* exposures never finish: ImageReady stays FALSE, state EXPOSING */
    FAULT_TIMEOUT,         /* GetImageData waits its whole timeout and fails with POA_ERROR_TIMEOUT */
    FAULT_UNPLUG_AFTER,    /* the camera vanishes after arg more frames are handed out */
    FAULT_CORRUPT_AFTER_BIN, /* the first frame after a bin change is garbage */
    FAULT_OPEN_ERROR,      /* POAOpenCamera fails with POA_ERROR_OPERATION_FAILED */
    FAULT_NO_12V,          /* the 12 V supply is missing: the camera images but cannot cool */
    FAULT_COUNT
};

typedef struct fake_fault {
    int armed;
    int remaining; /* occurrences left; 0 = until cleared (for UNPLUG_AFTER: frames left) */
} fake_fault;

/* ---- fail_call (fake_fault_file.c): the next `remaining` calls of `func` fail ---- */
#define FAKE_MAX_FAIL_CALLS 16
typedef struct fake_fail_call {
    char func[48];  /* an exported function's name, "POAGetConfig"; "" = unused entry */
    int remaining;
} fake_fail_call;

/* ---- one star of the per-serial star field (unbinned sensor coordinates) ---- */
typedef struct fake_star {
    float x, y;
    float e_per_s; /* photo-electrons per second, total */
} fake_star;

/* ---- a frame buffer held by the camera ---- */
typedef struct fake_buf {
    unsigned char *data;
    size_t cap;
    size_t len;
} fake_buf;

/* ---- one camera slot ---- */
typedef struct fake_cam {
    pthread_mutex_t mu;
    pthread_cond_t cv;

    int present;    /* the slot holds a camera (from FAKE_POA_CAMERAS) */
    int unplugged;  /* removed by the unplug fault: invisible to enumeration, every call fails */
    int slot;
    int id;
    const fake_model *model;
    char serial[64];
    char custom_id[17];
    int open_attempts; /* POAOpenCamera calls since the process started (or FakePOA_Reset) */

    int opened, inited;

    /* geometry, all in binned pixels like the SDK */
    int bin, width, height, start_x, start_y;
    POAImgFormat format;
    int sensor_mode;

    /* configs */
    double exposure_s;
    long gain, offset, wb[3], ae_max_gain, ae_max_exp_ms, ae_brightness;
    long target_temp, heater_power, fan_power, frame_limit, usb_bandwidth;
    int hardware_bin, pixel_bin_sum, mono_bin, cooler_on, flip_h, flip_v;
    int auto_flags; /* bit per POAConfig that was last set with isAuto (where auto is supported) */

    /* thermal model (fake_thermal.c) */
    double ambient_c, tau_s, temp_c, thermal_t; /* thermal_t: CLOCK_MONOTONIC seconds of temp_c */

    /* exposure state (fake_exposure.c) */
    pthread_t worker;
    int worker_running;
    unsigned worker_epoch; /* a worker exits when this differs from the epoch it was started with */
    int exposing, video;
    uint64_t gen;        /* bumped by start/stop and by settings changes: stale frames are dropped */
    uint64_t stuck_gen;  /* the never-ready fault parks the exposure of this generation */
    double frame_due;    /* monotonic seconds when the current frame is complete */
    fake_buf queue[FAKE_QUEUE];
    int q_head, q_len;
    int dropped;
    int frames_out;      /* frames handed out by GetImageData since open */
    int corrupt_next;    /* the next rendered frame is garbage (bin changed under the fault) */
    uint64_t rng;

    fake_star stars[FAKE_MAX_STARS];
    int n_stars;

    fake_fault faults[FAULT_COUNT];
    fake_fail_call fail_calls[FAKE_MAX_FAIL_CALLS]; /* fail_call: the next n calls of a function fail */
    int unplug_in_read; /* unplug_in_read armed: 1 + ms into the next POAGetImageData; 0 = off */
} fake_cam;

/* ---- registry (fake_registry.c) ---- */
/* Look a camera up by id and lock it. On success *out is locked and POA_OK is returned. The
 * checks, in this order (the first failing one is the error): the id names a camera
 * (POA_ERROR_INVALID_ID); with LOCK_PLUGGED or LOCK_OPEN it was not unplugged
 * (POA_ERROR_DEVICE_NOT_FOUND); with LOCK_OPEN it is open (POA_ERROR_NOT_OPENED). */
enum fake_lock_need { LOCK_ANY = 0, LOCK_PLUGGED = 1, LOCK_OPEN = 2 };
/* Before locking, the runtime fault file is polled (fake_fault_file_poll). After the checks, a
 * fail_call armed for `func` on this camera fires: POA_ERROR_OPERATION_FAILED, nothing locked.
 * The macro passes the calling API function's name, so every POA function that looks its camera
 * up can be made to fail without code of its own. */
POAErrors fake_lock_cam_fn(int id, enum fake_lock_need need, fake_cam **out, const char *func);
#define fake_lock_cam(id, need, out) fake_lock_cam_fn((id), (need), (out), __func__)
fake_cam *fake_slot(int slot); /* slot table access (slots initialised), for the fault file */
void fake_unlock_cam(fake_cam *c);
void fake_reset_settings(fake_cam *c); /* defaults of geometry and configs (at open) */
void fake_close_locked(fake_cam *c);   /* stop, join the worker, free the buffers; c stays locked */

/* ---- exposure (fake_exposure.c) ---- */
POAErrors fake_worker_start(fake_cam *c);            /* c locked */
void fake_worker_stop(fake_cam *c);                  /* c locked; returns with c locked */
void fake_stop_exposure_locked(fake_cam *c);         /* c locked */
void fake_flush_queue(fake_cam *c);                  /* c locked */
void fake_unplug_locked(fake_cam *c);                /* c locked */
double fake_now(void);                               /* CLOCK_MONOTONIC seconds */
size_t fake_frame_bytes(const fake_cam *c);

/* ---- frames (fake_frame.c) ---- */
typedef struct fake_render {
    int width, height, bin, start_x, start_y, max_w, max_h;
    POAImgFormat format;
    int adc_bits, flip_h, flip_v, bin_sum, corrupt;
    double level16;  /* bias + dark, 16-bit units, per unbinned pixel */
    double sigma16;  /* read noise, 16-bit units, per unbinned pixel */
    double adu16_per_e;
    double exposure_s;
    const fake_star *stars;
    int n_stars;
    uint64_t seed;
} fake_render;

void fake_render_frame(const fake_render *r, unsigned char *out);
uint64_t fake_xorshift(uint64_t *state);
void fake_make_stars(fake_cam *c);

/* ---- thermal (fake_thermal.c) ---- */
void fake_thermal_init(fake_cam *c);
double fake_thermal_temp(fake_cam *c);       /* advances the model to now */
long fake_thermal_power(fake_cam *c);        /* cooler power, percent */
void fake_thermal_changed(fake_cam *c);      /* advance before a cooler setting changes */

/* ---- configs (fake_config.c) ---- */
int fake_config_supported(const fake_cam *c, POAConfig id);
void fake_config_defaults(fake_cam *c); /* every config to its default value (at open) */

/* ---- faults (fake_faults.c) ---- */
void fake_faults_from_env(fake_cam *c); /* at open */
int fake_fault_take(fake_cam *c, enum fake_fault_kind k); /* 1 if it fires now (consumes a count) */
int fake_fault_armed(const fake_cam *c, enum fake_fault_kind k);
int fake_fault_frame_out(fake_cam *c); /* a frame was handed out: 1 if the camera unplugs now */
int fake_fault_index(const char *name, size_t len); /* FAULT_* of a fault name, -1 if none */
void fake_fault_set(fake_cam *c, int k, int arg);   /* arm (arg >= 0) or clear one fault; c locked */

/* ---- runtime fault file and fail_call (fake_fault_file.c) ---- */
void fake_fault_file_poll(void);   /* apply new lines of FAKE_POA_FAULT_FILE; no camera lock held */
int fake_fault_file_active(void);  /* FAKE_POA_FAULT_FILE is set (waits then poll it) */
int fake_fail_call_take(fake_cam *c, const char *func); /* c locked: 1 if this call must fail */
int fake_fail_call_global(const char *func); /* calls without a camera (POAGetCameraProperties) */
int fake_fail_call_known(const char *func);  /* 1: a POA function fail_call can make fail */
/* c locked: the next n calls of func fail (n > 0), every call until cleared (n = 0), or clear
 * (n < 0). POA_ERROR_INVALID_ARGU for an unknown name or a full table. */
int fake_fail_call_arm(fake_cam *c, const char *func, int n);
void fake_fail_calls_clear(fake_cam *c);
void fake_fault_file_reset(void); /* FakePOA_Reset: forget the file, its lines and global fail_calls */
void fake_fault_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- small helpers ---- */
void fake_copy_str(char *dst, size_t cap, const char *src);
double fake_env_double(const char *name, double fallback);

#endif /* FAKE_INTERNAL_H */
