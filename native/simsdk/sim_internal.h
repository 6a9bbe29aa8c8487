/*
 * Internal state of the simulated Player One SDK. Nothing here is exported (the library is built
 * with -fvisibility=hidden; only POACAMERA_API functions are visible).
 *
 * Locking: each camera slot has one mutex (`mu`) guarding every field of the slot and one
 * condition variable (`cv`, CLOCK_MONOTONIC) broadcast on every state change. The camera's
 * timing (exposures, sensor readout, the DDR buffer, the USB link) is a model advanced in closed
 * form by whichever call looks at it (sim_advance), so no thread keeps time. Pixels are made only
 * when the host reads a frame: POAGetImageData hands its own buffer to the camera's render thread
 * ("simcam-<id>"), which writes the frame straight into it with the mutex released. The slot
 * table is fixed (SIM_MAX_CAMERAS statically allocated slots, never freed), so a camera pointer
 * stays valid for the life of the process and a call racing a rescan or a close cannot touch
 * freed memory.
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "PlayerOneCamera.h"

#define SIM_MAX_CAMERAS 16 /* every model of the line at once (the USB 2 test), with room */
#define SIM_ID_BASE 100 /* camera id = SIM_ID_BASE + SIM_ID_STEP * slot: never equal to an index */
#define SIM_ID_STEP 7
#define SIM_HOST_SLOTS 2       /* frames the SDK holds on the host, ready for POAGetImageData */
#define SIM_DDR_MAX_FRAMES 256 /* frame records the DDR model keeps (see sim_exposure.c) */
#define SIM_MAX_STARS 256
#define SIM_GAIN_MAX 600

/* ---- model table and sensor physics (sim_models.c) ---- */
typedef struct sim_model {
    const char *name;      /* as the manual writes it: "Ares-C PRO" */
    const char *sensor;    /* "IMX533" */
    int color;
    int width, height;     /* full resolution */
    double pixel_um;
    double rn_low_gain_e;  /* read noise at gain 0 (the larger figure of the manual's range) */
    double rn_high_gain_e; /* read noise at gain 600 */
    double qe;             /* peak QE, fraction */
    double full_well_e;
    double delta_t_c;      /* cooling below ambient at 100 % fan (lower end of the manual's range) */
    int adc_bits;
    double max_fps;        /* full-frame rate of the manual's table (8 bit, USB 3) */
    int aluminium;         /* body: the manual's fan default is 70 % (aluminium) or 50 % (carbon) */
    int sensor_modes;      /* 2 (Normal, Low Noise) for IMX455/571/533, else 0 */
    int hcg_gain;          /* gain where the sensor switches to high conversion gain */
    double pedestal16;     /* bias = 4 x offset - pedestal, in 16-bit units (see sim_models.c) */
    int pid;               /* simulated USB product id */
} sim_model;

const sim_model *sim_model_at(int k); /* the k-th model of the table, NULL past its end */
double sim_egain(const sim_model *m, long gain);                  /* e-/ADU in native ADC units */
double sim_read_noise_e(const sim_model *m, long gain, int low_noise_mode);
double sim_bias16(const sim_model *m, long offset);               /* bias level, 16-bit units */
double sim_dark_e_per_s(double temp_c);                           /* a normal pixel */
int sim_unity_gain(const sim_model *m);
void sim_presets(const sim_model *m, int out[8]);
double sim_sensor_readout_s(const sim_model *m, int rows, int bin, int low_noise_mode);
double sim_link_bytes_per_s(int usb3, long bandwidth_pct);

/* ---- options (sim_options.c): INDI_PLAYERONE_SIM_OPTIONS ---- */
#define SIM_MAX_OPEN_FAULTS 8
typedef struct sim_options {
    double ambient_c, cooler_tau_s;
    double tilt_dx_um, tilt_dy_um, focus_um, fratio, seeing_px, sky_e_per_s, star_scale;
    int no_12v, st4, usb2;
    double ddr_mb;                 /* test knob: the camera's buffer, MB (default 512) */
    char sdk_version[16];          /* "3.10.1"; older versions change the SDK's behaviour */
    int sdk[3];                    /* sdk_version's major, minor, patch, parsed once */
    char custom_id[17];            /* the user custom ID in the camera's flash when plugged in */
    int n_faults;                  /* faults armed at every open */
    char fault_name[SIM_MAX_OPEN_FAULTS][24];
    int fault_arg[SIM_MAX_OPEN_FAULTS];
} sim_options;

/* The options for the camera with this serial and id (items without @target, then those aimed
 * at it). Errors are recorded for SimPOA_GetConfigError and said once on stderr. */
void sim_options_for(const char *serial, int id, sim_options *out);
int sim_sdk_version_at_least(const sim_options *o, int major, int minor, int patch);

/* ---- faults (sim_fault_kinds.c) ---- */
enum sim_fault_kind {
    FAULT_NEVER_READY = 0, /* exposures never finish: ImageReady stays FALSE, state EXPOSING */
    FAULT_TIMEOUT,         /* GetImageData waits its whole timeout and fails with POA_ERROR_TIMEOUT */
    FAULT_UNPLUG_AFTER,    /* the camera vanishes after arg more frames are handed out */
    FAULT_CORRUPT_AFTER_BIN, /* the first frame after a bin change is garbage */
    FAULT_OPEN_ERROR,      /* POAOpenCamera fails with POA_ERROR_OPERATION_FAILED */
    FAULT_NO_12V,          /* the 12 V supply is missing: the camera images but cannot cool */
    FAULT_CORRUPT_NEXT,    /* the next frame made is random bytes */
    FAULT_SHORT_NEXT,      /* the next transfer loses a packet: the frame is dropped */
    FAULT_SNAP_STALL,      /* every arg-th snap exposure never becomes ready (video unaffected) */
    FAULT_BUSY_AFTER_FRAME, /* POAStartExposure answers EXPOSING for arg ms after a frame */
    FAULT_OPFAIL_WAIT,     /* GetImageData answers OPERATION_FAILED for a wait shorter than the exposure */
    FAULT_TEMP_GLITCH,     /* temperature readings of -300 C, every arg-th read */
    FAULT_HANG,            /* the camera stops answering until its USB device is reset */
    FAULT_COUNT
};

typedef struct sim_fault {
    int armed;
    int remaining; /* occurrences left; 0 = until cleared (UNPLUG_AFTER: frames left; others: see sim_fault_kinds.c) */
    int counter;   /* SNAP_STALL, TEMP_GLITCH: events seen since armed */
} sim_fault;

/* ---- fail_call (sim_fault_file.c): the next `remaining` calls of `func` fail ---- */
#define SIM_MAX_FAIL_CALLS 16
typedef struct sim_fail_call {
    char func[48];  /* an exported function's name, "POAGetConfig"; "" = unused entry */
    int remaining;
} sim_fail_call;

/* ---- the scene, fixed per serial number (sim_scene.c) ---- */
typedef struct sim_star {
    float x, y;      /* unbinned sensor pixels */
    float e_per_s;   /* photons per second reaching the pixel grid, before QE */
    float fwhm_px;   /* seeing and defocus at this place (unbinned pixels) */
} sim_star;

typedef struct sim_hot {
    int x, y;            /* unbinned sensor pixels */
    float e_per_s_at_0c; /* dark current, doubling every 6 C like the rest */
} sim_hot;

/* ---- one frame as the camera made it: everything needed to render it later ---- */
typedef struct sim_frame {
    uint64_t seq, seed;
    int width, height, bin, start_x, start_y;
    POAImgFormat format;
    int flip_h, flip_v, bin_sum, low_noise, corrupt;
    int dps;                 /* dead pixel suppression on: the pixels of the DPS table are corrected */
    long gain, offset;
    double exposure_s, temp_c;
    double shift_x, shift_y; /* star field shift by ST4 guiding, unbinned pixels */
    double enter_t;          /* monotonic time the frame entered the DDR buffer (exposure end) */
    size_t bytes;
} sim_frame;

/* ---- one camera slot ---- */
typedef struct sim_cam {
    pthread_mutex_t mu;
    pthread_cond_t cv;

    int present;    /* the slot holds a camera (from INDI_PLAYERONE_SIMULATE) */
    int unplugged;  /* removed by the unplug fault: invisible to enumeration, every call fails */
    int slot;
    int id;
    const sim_model *model;
    char serial[64];
    char custom_id[17];
    int open_attempts; /* POAOpenCamera calls since the slot got its camera (or SimPOA_Reset) */
    sim_options opt;   /* read at the scan (st4, usb2, sdk_version) and at open (everything) */

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
    int dps;        /* POASetEnableDPS; on after POAInitCamera, as the vendor's library does */
    int auto_flags; /* bit per POAConfig that was last set with isAuto (where auto is supported) */
    double guide_on_t[4];      /* ST4: monotonic time each of N, S, E, W was switched on; 0 = off */
    double guide_x, guide_y;   /* shift accumulated by finished pulses, unbinned pixels */

    /* thermal model (sim_thermal.c) */
    double temp_c, thermal_t; /* thermal_t: CLOCK_MONOTONIC seconds of temp_c */

    /* exposure, DDR and link model (sim_exposure.c) */
    int exposing, video, stuck;
    uint64_t gen;          /* bumped by start/stop and by settings changes */
    uint64_t lost_gen;     /* a snap of this generation lost its frame: EXPOSURE_FAILED */
    uint64_t seq;          /* frames made since the start */
    uint64_t snaps;        /* snap exposures started since open (SNAP_STALL counts them) */
    double next_end;       /* monotonic time the next exposure ends */
    double link_free;      /* the link is busy until then */
    double last_frame_t;   /* a frame was handed out then (BUSY_AFTER_FRAME) */
    sim_frame ddr[SIM_DDR_MAX_FRAMES];
    int ddr_head, ddr_len;
    size_t ddr_bytes;
    int xfer_active;
    sim_frame xfer;
    double xfer_end;
    sim_frame host[SIM_HOST_SLOTS];
    int host_head, host_len;
    int dropped;
    int frames_out;      /* frames handed out by GetImageData since open */
    int corrupt_next;    /* the next frame made is garbage (bin changed under the fault) */
    uint64_t rng;

    /* the render thread ("simcam-<id>") and its one job */
    pthread_t render_thread;
    int render_running, render_quit;
    int job_state;       /* 0 idle, 1 posted, 2 rendering, 3 done */
    sim_frame job;
    unsigned char *job_buf;
    void *pools;         /* sim_render.c's pool cache, owned by the render thread */

    sim_star stars[SIM_MAX_STARS];
    int n_stars;
    sim_hot *hot;
    int n_hot;

    sim_fault faults[FAULT_COUNT];
    sim_fail_call fail_calls[SIM_MAX_FAIL_CALLS]; /* fail_call: the next n calls of a function fail */
    int unplug_in_read; /* unplug_in_read armed: 1 + ms into the next POAGetImageData; 0 = off */
} sim_cam;

/* ---- the camera slots (sim_slots.c) ---- */
/* Look a camera up by id and lock it. On success *out is locked and POA_OK is returned. The
 * checks, in this order (the first failing one is the error): the id names a camera
 * (POA_ERROR_INVALID_ID); with LOCK_PLUGGED or LOCK_OPEN it was not unplugged
 * (POA_ERROR_DEVICE_NOT_FOUND); with LOCK_OPEN it is open (POA_ERROR_NOT_OPENED). */
enum sim_lock_need { LOCK_ANY = 0, LOCK_PLUGGED = 1, LOCK_OPEN = 2 };
/* Before locking, the runtime fault file is polled (sim_fault_file_poll). After the checks, a
 * fail_call armed for `func` on this camera fires: POA_ERROR_OPERATION_FAILED, nothing locked;
 * a camera hung by FAULT_HANG answers POA_ERROR_TIMEOUT to every call that needs it open. The
 * macro passes the calling API function's name, so every POA function that looks its camera up
 * can be made to fail without code of its own. */
POAErrors sim_lock_cam_fn(int id, enum sim_lock_need need, sim_cam **out, const char *func);
#define sim_lock_cam(id, need, out) sim_lock_cam_fn((id), (need), (out), __func__)
sim_cam *sim_slot(int slot); /* slot table access (slots initialised) */
POAErrors sim_cam_done(sim_cam *c, POAErrors err); /* unlock c, answer err: an entry point's last line */
/* An entry point that only reads its camera: POA_ERROR_POINTER for a NULL `out` (before the
 * lookup, as the vendor's library checks most pointers first), else sim_lock_cam's checks, then
 * read(c, out) under the camera's lock. The macro passes the API function's name, as sim_lock_cam. */
typedef void (*sim_cam_read)(sim_cam *c, void *out);
POAErrors sim_read_cam_fn(int id, enum sim_lock_need need, sim_cam_read read, void *out, const char *func);
#define sim_read_cam(id, need, read, out) sim_read_cam_fn((id), (need), (read), (out), __func__)

/* ---- enumeration, open and close (sim_registry.c) ---- */
void sim_reset_settings(sim_cam *c); /* defaults of geometry and configs (at open) */

/* ---- exposure, DDR and link (sim_exposure.c) ---- */
void sim_advance(sim_cam *c, double now);    /* c locked: run the timing model up to now */
void sim_stop_exposure_locked(sim_cam *c);   /* c locked */
void sim_flush_frames(sim_cam *c);           /* c locked: every frame the camera holds is gone */
void sim_close_locked(sim_cam *c);           /* stop, join the render thread; c stays locked */
void sim_unplug_locked(sim_cam *c);          /* c locked */
size_t sim_frame_bytes(const sim_cam *c);
int sim_bytes_per_pixel(POAImgFormat f);
POAErrors sim_render_start(sim_cam *c);      /* c locked: start "simcam-<id>" */
void sim_render_stop(sim_cam *c);            /* c locked; returns with c locked */

/* ---- frames (sim_render.c) ---- */
typedef struct sim_render_ctx {  /* what the render thread reads; fixed while the camera is open */
    const sim_model *model;
    const sim_options *opt;
    const sim_star *stars;
    int n_stars;
    const sim_hot *hot;
    int n_hot;
} sim_render_ctx;
void sim_render_frame(void **pools, const sim_render_ctx *ctx, const sim_frame *f, unsigned char *out);
void sim_render_free(void **pools);
uint64_t sim_xorshift(uint64_t *state);
double sim_gauss(uint64_t *state);            /* standard normal */
double sim_poisson(uint64_t *state, double mean);

/* ---- scene (sim_scene.c) ---- */
void sim_make_scene(sim_cam *c);  /* stars and hot pixels of this serial, with the options' optics */
void sim_free_scene(sim_cam *c);
void sim_guide_shift(const sim_cam *c, double now, double *dx, double *dy);

/* ---- thermal (sim_thermal.c) ---- */
void sim_thermal_init(sim_cam *c);
double sim_thermal_temp(sim_cam *c);       /* advances the model to now */
long sim_thermal_power(sim_cam *c);        /* cooler power, percent */
void sim_thermal_changed(sim_cam *c);      /* advance before a cooler setting changes */

/* ---- configs (sim_config.c) ---- */
int sim_config_supported(const sim_cam *c, POAConfig id);
void sim_config_defaults(sim_cam *c); /* every config to its default value (at open) */

/* ---- fault words and counters (sim_fault_kinds.c) ---- */
int sim_fault_take(sim_cam *c, enum sim_fault_kind k); /* 1 if it fires now (consumes a count) */
int sim_fault_armed(const sim_cam *c, enum sim_fault_kind k);
int sim_fault_every(sim_cam *c, enum sim_fault_kind k); /* SNAP_STALL, TEMP_GLITCH: this event hit */
int sim_fault_frame_out(sim_cam *c); /* a frame was handed out: 1 if the camera unplugs now */
int sim_fault_index(const char *name, size_t len); /* FAULT_* of a fault name, -1 if none */
int sim_fault_default_arg(int k); /* the argument of FAULT_* k when its word comes without one */
int sim_fault_is_name(const char *name, size_t len); /* any fault word, also the line-only ones */

/* ---- arming faults (sim_faults.c) ---- */
void sim_faults_at_open(sim_cam *c); /* the options' faults, at open */
void sim_fault_set(sim_cam *c, int k, int arg);   /* arm (arg >= 0) or clear one fault; c locked */
/* Apply one fault word (name, optional arg text) to camera c (locked); 0, or -1 if unknown. */
int sim_fault_apply(sim_cam *c, const char *name, const char *arg);

/* ---- runtime fault file and fail_call (sim_fault_file.c) ---- */
/* A taker of the fault file's lines: applies one line's word (name, optional arg text) to the
 * devices it targets (every one when target is NULL), counting those that took it and those
 * that refused it (a word they do not know). Called from the file's poll, which holds no other
 * lock. The takers are called in this order; each registers itself when the library is loaded
 * (a constructor in its own file), so the file knows no device. */
typedef void (*sim_fault_line_fn)(const char *name, const char *arg, const char *target, int *applied, int *refused);
enum sim_fault_line_taker { SIM_LINES_CAMERAS = 0, SIM_LINES_WHEELS, SIM_LINE_TAKERS };
void sim_fault_file_take_lines(enum sim_fault_line_taker who, sim_fault_line_fn fn);
void sim_fault_file_poll(void);   /* apply new lines of the fault file; no camera lock held */
int sim_fault_file_active(void);  /* INDI_PLAYERONE_SIM_FAULT_FILE is set (waits then poll it) */
int sim_fail_call_take(sim_cam *c, const char *func); /* c locked: 1 if this call must fail */
int sim_fail_call_global(const char *func); /* calls without a camera (POAGetCameraProperties) */
int sim_fail_call_known(const char *func);  /* 1: a POA function fail_call can make fail */
/* c locked: the next n calls of func fail (n > 0), every call until cleared (n = 0), or clear
 * (n < 0). POA_ERROR_INVALID_ARGU for an unknown name or a full table. */
int sim_fail_call_arm(sim_cam *c, const char *func, int n);
void sim_fail_calls_clear(sim_cam *c);
void sim_fault_file_reset(void); /* SimPOA_Reset: forget the file, its lines and global fail_calls */

/* ---- the simulated filter wheels (sim_wheel.c) ---- */
void sim_wheel_reset(void); /* SimPOA_Reset: forget every wheel, as if the library were just loaded */

/* ---- small helpers (sim_base.c) ---- */
double sim_now(void); /* CLOCK_MONOTONIC seconds */
void sim_copy_str(char *dst, size_t cap, const char *src);
/* Does "@target" (of an option or a fault line) name this device: its serial, case ignored
 * ("@SIM-ARES-C-PRO-0001"), or its number, a camera's id or a wheel's handle ("@100")? */
int sim_is_target(const char *target, const char *serial, int id);
/* One line to INDI_PLAYERONE_SIM_FAULT_LOG (when set), so a test in another process sees a fault fire. */
void sim_fault_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last configuration problem of a scan or an open, for SimPOA_GetConfigError and
 * SimPOA_GetPWConfigError; said on stderr once (not again while it stays the same). */
typedef struct sim_problems {
    pthread_mutex_t mu;
    char last[512];
    char printed[512];
} sim_problems;
#define SIM_PROBLEMS_INIT {PTHREAD_MUTEX_INITIALIZER, "", ""}
void sim_problem(sim_problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_problem_clear(sim_problems *p);
int sim_problem_copy(sim_problems *p, char *buf, int size); /* its length; 0: none */
extern sim_problems sim_camera_problems; /* the cameras' (SimPOA_GetConfigError, sim_options.c) */

/* A list of devices as INDI_PLAYERONE_SIMULATE and INDI_PLAYERONE_SIMULATE_WHEEL give them:
 * names of a table, comma-separated, case and blanks ignored. */
typedef struct sim_name_list {
    const char *env;              /* the variable */
    const char *(*name_at)(int k); /* the table's k-th name; NULL past its end */
    const char *what, *kinds;     /* in the report of an unknown name: "camera model", "models" */
    const char *devices;          /* in the report of a list too long: "cameras" */
    sim_problems *problems;       /* where the reports go */
} sim_name_list;
/* The devices the list in l->env names, in order, at most max: each one's index in the table
 * (kind[]) and its number among the devices of its kind (nth[], from 1). An unknown name is
 * skipped and reported with the valid ones; a longer list is reported and cut. Returns how many. */
int sim_wanted(const sim_name_list *l, int max, int kind[], int nth[]);
char *sim_trim(char *s); /* s without its leading blanks, its trailing ones cut off in place */
/* A fault's count argument "n" (0 to 1e9) into *out, `fallback` when there is none: 0, or -1 for
 * a bad one. */
int sim_count_arg(const char *arg, int fallback, int *out);

/* The first lines of almost every entry point: look camera `id` up and lock it into `c` (declared
 * here) as sim_lock_cam does, or return its error. */
#define SIM_LOCK_OR_RETURN(c, id, need)                            \
    sim_cam *c;                                                    \
    do {                                                           \
        POAErrors lock_err_ = sim_lock_cam((id), (need), &c);      \
        if (lock_err_ != POA_OK) return lock_err_;                 \
    } while (0)

#endif /* SIM_INTERNAL_H */
