/*
 * Config attributes and values (POAGetConfig*, POASetConfig, POASetConfig_M).
 *
 * Every camera lists the configs below, in POAConfig order: the colour-only ones on colour
 * models, the ST4 guide outputs only with the option st4 (the PRO cooled line has no ST4 port),
 * no HQI (the PRO line has a DDR buffer). Names and descriptions: the SDK writes them at run
 * time, so a driver must take them from szConfName and act on the POAConfig IDs. Here they are
 * SDK 3.7.0's, every one confirmed in the vendor's binaries (docs/upstream-facts.md section 2.5
 * says how); from sdk_version 3.10.0 the fan and heater powers take the names an earlier reading
 * of the 3.10.0 binary found (FanPower, LensHeaterPower: uncertain). POA_EXP, which 3.7.0 lacks,
 * is named "Exp" as read from the 3.10.0 binary; its description is ours.
 *
 * Exposure: the manual's 32 us to 2000 s for every model, in both views (the header's generic
 * ranges are 10 us .. 2000 s for POA_EXPOSURE and 10 us .. 7200 s for POA_EXP; a camera's own
 * attributes narrow them).
 *
 * SDK versions (option sdk_version; default 3.10.1): POA_EXP exists from 3.8.0: an older SDK
 * answers POA_ERROR_INVALID_CONFIG for it and does not list it; WB_R/G/B range over [0, 100] % in
 * 3.8.1 to 3.9.0, [-1200, 1200] otherwise (3.9.1 restored it).
 *
 * Rules: all need an open camera; unknown or unsupported config -> POA_ERROR_INVALID_CONFIG;
 * read-only -> POA_ERROR_CONF_CANNOT_WRITE; outside [min, max] -> POA_ERROR_OUT_OF_LIMIT (not
 * clamped: a binding should see a bad value). The value is read from the union member of the
 * config's type. isAuto is stored only where isSupportAuto (no auto behaviour is simulated);
 * elsewhere it is accepted and ignored (the C++ driver sets TargetTemp with isAuto = TRUE).
 * POA_EXPOSURE (us) and POA_EXP (s) are two views of one exposure time. The flips take no value:
 * setting one selects it; reading one says whether it is the active flip. A guide output is on
 * while its value is TRUE: the star field moves (sim_scene.c).
 */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

typedef struct cfg_desc {
    POAConfig id;
    POAValueType type;
    int writable, autos, only; /* ONLY_*: when the camera has it */
    const char *name;    /* szConfName as SDK 3.7.0 writes it (read from its binary) */
    const char *name310; /* the 3.10.0 binary's name where it differs, else NULL */
    const char *desc;    /* szDescription as SDK 3.7.0 writes it */
    double min, max, def;
} cfg_desc;

#define MODEL_DEFAULT (-1e300) /* the default depends on the model: see default_of() */
enum { ANY = 0, ONLY_COLOR = 1, ONLY_ST4 = 2, ONLY_EXP = 3 };

static const cfg_desc CONFIGS[] = {
    {POA_EXPOSURE, VAL_INT, 1, 1, 0, "Exposure", NULL, "exposure duration(microsecond(us))", 32, 2000000000.0, 10000},
    {POA_GAIN, VAL_INT, 1, 1, 0, "Gain", NULL, "gain", 0, 600, MODEL_DEFAULT},
    {POA_HARDWARE_BIN, VAL_BOOL, 1, 0, 0, "HardwareBin", NULL, "support hardware bin?", 0, 1, 0},
    {POA_TEMPERATURE, VAL_FLOAT, 0, 0, 0, "Temperature", NULL, "sensor temperature(degrees celsius)", -50, 80, 20},
    {POA_WB_R, VAL_INT, 1, 1, ONLY_COLOR, "WB_R", NULL, "white balance: red pixels", -1200, 1200, 0},
    {POA_WB_G, VAL_INT, 1, 1, ONLY_COLOR, "WB_G", NULL, "white balance: green pixels", -1200, 1200, 0},
    {POA_WB_B, VAL_INT, 1, 1, ONLY_COLOR, "WB_B", NULL, "white balance: blue pixels", -1200, 1200, 0},
    {POA_OFFSET, VAL_INT, 1, 0, 0, "Offset", NULL, "offset", 0, 1500, MODEL_DEFAULT},
    {POA_AUTOEXPO_MAX_GAIN, VAL_INT, 1, 0, 0, "AutoExpMaxGain", NULL, "maximum gain value when gain is automatic",
     0, 600, 300},
    {POA_AUTOEXPO_MAX_EXPOSURE, VAL_INT, 1, 0, 0, "AutoExpMaxExpMS", NULL,
     "maximum exposure value(ms) when exposure is automatic", 1, 60000, 100},
    {POA_AUTOEXPO_BRIGHTNESS, VAL_INT, 1, 0, 0, "AutoExpTargetBrightness", NULL,
     "target brightness value when exposure is automatic", 50, 200, 100},
    {POA_GUIDE_NORTH, VAL_BOOL, 1, 0, ONLY_ST4, "Guide North", NULL, "set and get guide north status(has ST4 port only)",
     0, 1, 0},
    {POA_GUIDE_SOUTH, VAL_BOOL, 1, 0, ONLY_ST4, "Guide South", NULL, "set and get guide south status(has ST4 port only)",
     0, 1, 0},
    {POA_GUIDE_EAST, VAL_BOOL, 1, 0, ONLY_ST4, "Guide East", NULL, "set and get guide east status(has ST4 port only)",
     0, 1, 0},
    {POA_GUIDE_WEST, VAL_BOOL, 1, 0, ONLY_ST4, "Guide West", NULL, "set and get guide west status(has ST4 port only)",
     0, 1, 0},
    {POA_EGAIN, VAL_FLOAT, 0, 0, 0, "e/ADU", NULL, "e/ADU", 0, 100, MODEL_DEFAULT},
    {POA_COOLER_POWER, VAL_INT, 0, 0, 0, "CoolPowerPerc", NULL, "percentage of cooler power", 0, 100, 0},
    {POA_TARGET_TEMP, VAL_INT, 1, 0, 0, "TargetTemp", NULL, "target temperature", -50, 50, 0},
    {POA_COOLER, VAL_BOOL, 1, 0, 0, "CoolerOn", NULL, "turn on/off cooler", 0, 1, 0},
    {POA_HEATER, VAL_BOOL, 0, 0, 0, "LensHeater", NULL, "turn on/off lens heater", 0, 1, 0},
    {POA_HEATER_POWER, VAL_INT, 1, 0, 0, "LensHeaterPowerPerc", "LensHeaterPower", "percentage of lens heater power",
     0, 100, 10},
    {POA_FAN_POWER, VAL_INT, 1, 0, 0, "FanPowerPerc", "FanPower", "percentage of radiator fan power", 0, 100,
     MODEL_DEFAULT},
    {POA_FLIP_NONE, VAL_BOOL, 1, 0, 0, "Flip None", NULL, "the image is not flipped", 0, 1, 1},
    {POA_FLIP_HORI, VAL_BOOL, 1, 0, 0, "Flip Hori", NULL, "flip the image horizontally", 0, 1, 0},
    {POA_FLIP_VERT, VAL_BOOL, 1, 0, 0, "Flip Vert", NULL, "flip the image vertically", 0, 1, 0},
    {POA_FLIP_BOTH, VAL_BOOL, 1, 0, 0, "Flip Both", NULL, "flip the image horizontally and vertically", 0, 1, 0},
    {POA_FRAME_LIMIT, VAL_INT, 1, 0, 0, "FrameLimit", NULL, "frame rate limit", 0, 2000, 0},
    {POA_USB_BANDWIDTH_LIMIT, VAL_INT, 1, 0, 0, "USBBandWidthLimit", NULL, "USB bandwidth limit", 35, 100, 100},
    {POA_PIXEL_BIN_SUM, VAL_BOOL, 1, 0, 0, "Pixels Binning Sum", NULL, "take the sum of pixels after binning", 0, 1, 0},
    {POA_MONO_BIN, VAL_BOOL, 1, 0, ONLY_COLOR, "Mono Bin", NULL, "pixel binning will use neighbour pixels", 0, 1, 0},
    {POA_EXP, VAL_FLOAT, 1, 1, ONLY_EXP, "Exp", NULL, "exposure time (s)", 32e-6, 2000.0, 0.01},
};
#define N_CONFIGS ((int)(sizeof CONFIGS / sizeof CONFIGS[0]))

/* POA_EXP exists from SDK 3.8.0: SDK 3.7.0 answers POA_ERROR_INVALID_CONFIG for it. */
static int exp_exists(const sim_options *o) { return sim_sdk_version_at_least(o, 3, 8, 0); }

/* Value types of every POAConfig of this SDK version, including the ones no simulated camera
 * supports. */
static int value_type_of(const sim_options *o, POAConfig id, POAValueType *out) {
    if (id == POA_EXP && !exp_exists(o)) return 0;
    switch (id) {
    case POA_HARDWARE_BIN: case POA_GUIDE_NORTH: case POA_GUIDE_SOUTH: case POA_GUIDE_EAST:
    case POA_GUIDE_WEST: case POA_COOLER: case POA_HEATER: case POA_FLIP_NONE: case POA_FLIP_HORI:
    case POA_FLIP_VERT: case POA_FLIP_BOTH: case POA_HQI: case POA_PIXEL_BIN_SUM: case POA_MONO_BIN:
        *out = VAL_BOOL;
        return 1;
    case POA_TEMPERATURE: case POA_EGAIN: case POA_EXP:
        *out = VAL_FLOAT;
        return 1;
    case POA_EXPOSURE: case POA_GAIN: case POA_WB_R: case POA_WB_G: case POA_WB_B: case POA_OFFSET:
    case POA_AUTOEXPO_MAX_GAIN: case POA_AUTOEXPO_MAX_EXPOSURE: case POA_AUTOEXPO_BRIGHTNESS:
    case POA_COOLER_POWER: case POA_TARGET_TEMP: case POA_HEATER_POWER: case POA_FAN_POWER:
    case POA_FRAME_LIMIT: case POA_USB_BANDWIDTH_LIMIT:
        *out = VAL_INT;
        return 1;
    }
    return 0;
}

static int has(const sim_cam *c, const cfg_desc *d) {
    switch (d->only) {
    case ONLY_COLOR: return c->model->color;
    case ONLY_ST4: return c->opt.st4;
    case ONLY_EXP: return exp_exists(&c->opt);
    default: return 1;
    }
}

static const cfg_desc *find_desc(const sim_cam *c, POAConfig id) {
    for (int i = 0; i < N_CONFIGS; i++) {
        if (CONFIGS[i].id == id) return has(c, &CONFIGS[i]) ? &CONFIGS[i] : NULL;
    }
    return NULL;
}

/* The range, which for some configs depends on the SDK version. */
static void range_of(const sim_cam *c, const cfg_desc *d, double *lo, double *hi) {
    *lo = d->min;
    *hi = d->max;
    if ((d->id == POA_WB_R || d->id == POA_WB_G || d->id == POA_WB_B) && sim_sdk_version_at_least(&c->opt, 3, 8, 1) &&
        !sim_sdk_version_at_least(&c->opt, 3, 9, 1)) {
        *lo = 0;
        *hi = 100;
    }
}

int sim_config_supported(const sim_cam *c, POAConfig id) { return find_desc(c, id) != NULL; }

static double default_of(const sim_cam *c, const cfg_desc *d) {
    if ((d->id == POA_WB_R || d->id == POA_WB_G || d->id == POA_WB_B)) {
        double lo, hi;
        range_of(c, d, &lo, &hi);
        return lo >= 0 ? 50 : 0; /* the middle of the percent range (assumed) */
    }
    if (d->def != MODEL_DEFAULT) return d->def;
    int presets[8];
    sim_presets(c->model, presets);
    switch (d->id) {
    case POA_GAIN: return presets[1];
    case POA_OFFSET: return presets[5];
    case POA_FAN_POWER: return c->model->aluminium ? 70 : 50; /* the manual's defaults per body */
    case POA_EGAIN: return sim_egain(c->model, presets[1]);
    default: return 0;
    }
}

static POAConfigValue make_value(POAValueType t, double v) {
    POAConfigValue u;
    memset(&u, 0, sizeof u);
    if (t == VAL_FLOAT) {
        u.floatValue = v;
    } else if (t == VAL_BOOL) {
        u.boolValue = v != 0 ? POA_TRUE : POA_FALSE;
    } else {
        u.intValue = (long)llround(v);
    }
    return u;
}

static void fill_attributes(const sim_cam *c, const cfg_desc *d, POAConfigAttributes *a) {
    memset(a, 0, sizeof *a);
    a->isSupportAuto = d->autos ? POA_TRUE : POA_FALSE;
    a->isWritable = d->writable ? POA_TRUE : POA_FALSE;
    a->isReadable = POA_TRUE;
    a->configID = d->id;
    a->valueType = d->type;
    double lo, hi;
    range_of(c, d, &lo, &hi);
    a->maxValue = make_value(d->type, hi);
    a->minValue = make_value(d->type, lo);
    a->defaultValue = make_value(d->type, default_of(c, d));
    int modern = d->name310 != NULL && sim_sdk_version_at_least(&c->opt, 3, 10, 0);
    sim_copy_str(a->szConfName, sizeof a->szConfName, modern ? d->name310 : d->name);
    sim_copy_str(a->szDescription, sizeof a->szDescription, d->desc);
}

/* The current value as a double (exact for every int and bool stored here). c locked. */
static double get_value(sim_cam *c, POAConfig id) {
    switch (id) {
    case POA_EXPOSURE: return llround(c->exposure_s * 1e6);
    case POA_EXP: return c->exposure_s;
    case POA_GAIN: return (double)c->gain;
    case POA_HARDWARE_BIN: return c->hardware_bin;
    case POA_TEMPERATURE: return sim_fault_every(c, FAULT_TEMP_GLITCH) ? -300.0 : sim_thermal_temp(c);
    case POA_WB_R: return (double)c->wb[0];
    case POA_WB_G: return (double)c->wb[1];
    case POA_WB_B: return (double)c->wb[2];
    case POA_OFFSET: return (double)c->offset;
    case POA_AUTOEXPO_MAX_GAIN: return (double)c->ae_max_gain;
    case POA_AUTOEXPO_MAX_EXPOSURE: return (double)c->ae_max_exp_ms;
    case POA_AUTOEXPO_BRIGHTNESS: return (double)c->ae_brightness;
    case POA_EGAIN: return sim_egain(c->model, c->gain);
    case POA_COOLER_POWER: return (double)sim_thermal_power(c);
    case POA_TARGET_TEMP: return (double)c->target_temp;
    case POA_COOLER: return c->cooler_on;
    case POA_HEATER: return c->cooler_on;
    case POA_HEATER_POWER: return (double)c->heater_power;
    case POA_FAN_POWER: return (double)c->fan_power;
    case POA_FLIP_NONE: return !c->flip_h && !c->flip_v;
    case POA_FLIP_HORI: return c->flip_h && !c->flip_v;
    case POA_FLIP_VERT: return !c->flip_h && c->flip_v;
    case POA_FLIP_BOTH: return c->flip_h && c->flip_v;
    case POA_FRAME_LIMIT: return (double)c->frame_limit;
    case POA_USB_BANDWIDTH_LIMIT: return (double)c->usb_bandwidth;
    case POA_PIXEL_BIN_SUM: return c->pixel_bin_sum;
    case POA_MONO_BIN: return c->mono_bin;
    case POA_GUIDE_NORTH: case POA_GUIDE_SOUTH: case POA_GUIDE_EAST: case POA_GUIDE_WEST:
        return c->guide_on_t[id - POA_GUIDE_NORTH] > 0;
    default: return 0;
    }
}

/* Switch guide output d (0..3 = N, S, E, W) on or off; a finished pulse adds to the shift. */
static void guide(sim_cam *c, int d, int on) {
    double now = sim_now();
    if (on && c->guide_on_t[d] <= 0) {
        c->guide_on_t[d] = now;
    } else if (!on && c->guide_on_t[d] > 0) {
        double before_x, before_y, after_x, after_y;
        sim_guide_shift(c, now, &before_x, &before_y);
        c->guide_on_t[d] = 0;
        sim_guide_shift(c, now, &after_x, &after_y);
        c->guide_x += before_x - after_x;
        c->guide_y += before_y - after_y;
    }
}

/* Store a value already checked against the config's range. c locked. */
static void set_value(sim_cam *c, POAConfig id, double v) {
    long iv = (long)llround(v);
    int bv = v != 0;
    switch (id) {
    case POA_EXPOSURE: c->exposure_s = v / 1e6; break;
    case POA_EXP: c->exposure_s = v; break;
    case POA_GAIN: c->gain = iv; break;
    case POA_HARDWARE_BIN: c->hardware_bin = bv; break;
    case POA_WB_R: c->wb[0] = iv; break;
    case POA_WB_G: c->wb[1] = iv; break;
    case POA_WB_B: c->wb[2] = iv; break;
    case POA_OFFSET: c->offset = iv; break;
    case POA_AUTOEXPO_MAX_GAIN: c->ae_max_gain = iv; break;
    case POA_AUTOEXPO_MAX_EXPOSURE: c->ae_max_exp_ms = iv; break;
    case POA_AUTOEXPO_BRIGHTNESS: c->ae_brightness = iv; break;
    /* cooler settings: advance the thermal model under the old settings first */
    case POA_TARGET_TEMP: sim_thermal_changed(c); c->target_temp = iv; break;
    case POA_COOLER: sim_thermal_changed(c); c->cooler_on = bv; break;
    case POA_HEATER_POWER: sim_thermal_changed(c); c->heater_power = iv; break;
    case POA_FAN_POWER: sim_thermal_changed(c); c->fan_power = iv; break;
    case POA_FLIP_NONE: c->flip_h = 0; c->flip_v = 0; break;
    case POA_FLIP_HORI: c->flip_h = 1; c->flip_v = 0; break;
    case POA_FLIP_VERT: c->flip_h = 0; c->flip_v = 1; break;
    case POA_FLIP_BOTH: c->flip_h = 1; c->flip_v = 1; break;
    case POA_FRAME_LIMIT: c->frame_limit = iv; break;
    case POA_USB_BANDWIDTH_LIMIT: c->usb_bandwidth = iv; break;
    case POA_PIXEL_BIN_SUM: c->pixel_bin_sum = bv; break;
    case POA_MONO_BIN: c->mono_bin = bv; break;
    case POA_GUIDE_NORTH: case POA_GUIDE_SOUTH: case POA_GUIDE_EAST: case POA_GUIDE_WEST:
        guide(c, id - POA_GUIDE_NORTH, bv);
        break;
    default: break;
    }
}

void sim_config_defaults(sim_cam *c) {
    c->auto_flags = 0;
    c->cooler_on = 0;
    c->flip_h = c->flip_v = 0;
    for (int i = 0; i < N_CONFIGS; i++) {
        const cfg_desc *d = &CONFIGS[i];
        int flip = d->id >= POA_FLIP_NONE && d->id <= POA_FLIP_BOTH; /* set above: they take no value */
        int guide_output = d->id >= POA_GUIDE_NORTH && d->id <= POA_GUIDE_WEST;
        if (d->writable && has(c, d) && d->id != POA_EXPOSURE && !flip && !guide_output) {
            set_value(c, d->id, default_of(c, d));
        }
    }
}

POACAMERA_API POAErrors POAGetConfigValueType(POAConfig confID, POAValueType *pConfValueType) {
    if (pConfValueType == NULL) return POA_ERROR_POINTER;
    if (sim_fail_call_global("POAGetConfigValueType")) return POA_ERROR_OPERATION_FAILED;
    sim_options o;
    sim_options_for("", -1, &o); /* no camera: the options that aim at none (sdk_version) */
    return value_type_of(&o, confID, pConfValueType) ? POA_OK : POA_ERROR_INVALID_CONFIG;
}

static void count_of(sim_cam *c, void *out) {
    int n = 0;
    for (int i = 0; i < N_CONFIGS; i++) n += has(c, &CONFIGS[i]);
    *(int *)out = n;
}

POACAMERA_API POAErrors POAGetConfigsCount(int nCameraID, int *pConfCount) {
    return sim_read_cam(nCameraID, LOCK_OPEN, count_of, pConfCount);
}

POACAMERA_API POAErrors POAGetConfigAttributes(int nCameraID, int nConfIndex, POAConfigAttributes *pConfAttr) {
    if (pConfAttr == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    for (int i = 0, k = 0; i < N_CONFIGS && nConfIndex >= 0; i++) {
        if (has(c, &CONFIGS[i]) && k++ == nConfIndex) {
            fill_attributes(c, &CONFIGS[i], pConfAttr);
            return sim_cam_done(c, POA_OK);
        }
    }
    return sim_cam_done(c, POA_ERROR_INVALID_INDEX);
}

POACAMERA_API POAErrors POAGetConfigAttributesByConfigID(int nCameraID, POAConfig confID,
                                                         POAConfigAttributes *pConfAttr) {
    if (pConfAttr == NULL) return POA_ERROR_POINTER;
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    const cfg_desc *d = find_desc(c, confID);
    if (d == NULL) return sim_cam_done(c, POA_ERROR_INVALID_CONFIG);
    fill_attributes(c, d, pConfAttr);
    return sim_cam_done(c, POA_OK);
}

/* The shared body of POASetConfig and POASetConfig_M. The camera is checked before the config,
 * as the vendor's library does (with no camera, an unknown config answers POA_ERROR_INVALID_ID
 * there). `raw` is the union as passed; POASetConfig_M's double is converted to it here. */
static POAErrors set_config(int id, POAConfig confID, POAConfigValue raw, int from_double, double dv,
                            POABool isAuto, const char *func) {
    sim_cam *c;
    POAErrors err = sim_lock_cam_fn(id, LOCK_OPEN, &c, func);
    if (err != POA_OK) return err;
    const cfg_desc *d = find_desc(c, confID);
    if (d == NULL) return sim_cam_done(c, POA_ERROR_INVALID_CONFIG);
    POAValueType t = d->type;
    double v = from_double ? (t == VAL_INT ? (double)llround(dv) : dv) /* "for matlab": ints rounded */
             : t == VAL_FLOAT ? raw.floatValue
             : t == VAL_BOOL ? (raw.boolValue != POA_FALSE ? 1.0 : 0.0)
                             : (double)raw.intValue;
    /* Frames whose exposure ended before this call are made with the settings they had: the
     * timing model runs lazily, so without this a frame that ended before a guide pulse began
     * but was looked at after it would carry the pulse's shift (a negative one for a pulse
     * still on), and one that ended before a gain change the new gain. */
    sim_advance(c, sim_now());
    double lo, hi;
    range_of(c, d, &lo, &hi);
    if (!d->writable) {
        err = POA_ERROR_CONF_CANNOT_WRITE;
    } else if (d->id >= POA_FLIP_NONE && d->id <= POA_FLIP_BOTH) {
        set_value(c, d->id, 1); /* the value is ignored */
    } else if (!(v >= lo && v <= hi)) { /* NaN fails too */
        err = POA_ERROR_OUT_OF_LIMIT;
    } else {
        set_value(c, d->id, v);
        if (d->autos) {
            unsigned bit = 1u << d->id;
            c->auto_flags = isAuto == POA_TRUE ? (int)((unsigned)c->auto_flags | bit)
                                               : (int)((unsigned)c->auto_flags & ~bit);
        }
    }
    return sim_cam_done(c, err);
}

POACAMERA_API POAErrors POASetConfig(int nCameraID, POAConfig confID, POAConfigValue confValue, POABool isAuto) {
    return set_config(nCameraID, confID, confValue, 0, 0.0, isAuto, "POASetConfig");
}

/* "For matlab": the value comes as a double whatever the config's type; ints are rounded. */
POACAMERA_API POAErrors POASetConfig_M(int nCameraID, POAConfig confID, double cfgVal, POABool isAuto) {
    POAConfigValue unused;
    memset(&unused, 0, sizeof unused);
    return set_config(nCameraID, confID, unused, 1, cfgVal, isAuto, "POASetConfig_M");
}

/* The camera is checked before the pointers, as the vendor's library does. */
POACAMERA_API POAErrors POAGetConfig(int nCameraID, POAConfig confID, POAConfigValue *pConfValue, POABool *pIsAuto) {
    SIM_LOCK_OR_RETURN(c, nCameraID, LOCK_OPEN);
    const cfg_desc *d = find_desc(c, confID);
    if (pConfValue == NULL || pIsAuto == NULL) return sim_cam_done(c, POA_ERROR_POINTER);
    if (d == NULL) return sim_cam_done(c, POA_ERROR_INVALID_CONFIG);
    *pConfValue = make_value(d->type, get_value(c, d->id));
    *pIsAuto = (d->autos && ((unsigned)c->auto_flags & (1u << d->id))) ? POA_TRUE : POA_FALSE;
    return sim_cam_done(c, POA_OK);
}
