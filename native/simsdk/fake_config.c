/*
 * Config attributes and values (POAGetConfig*, POASetConfig, POASetConfig_M).
 *
 * Every camera lists the configs below, in POAConfig order (colour-only ones only on colour
 * models); the PRO cooled line has no ST4 port and a DDR buffer, so no guide configs and no HQI.
 * Names are the SDK's where the facts confirm them (Exposure, Gain, Offset, Temperature,
 * TargetTemp, CoolerOn, FanPower, LensHeaterPower, USBBandWidthLimit, WB_R/G/B, Exp,
 * AutoExpTargetBrightness, AutoExpMaxExpMS, "Flip None/Hori/Vert/Both" with the space); the others
 * (HardwareBin, eGain, CoolerPower, Heater, FrameRateLimit, PixelBinSum, MonoBin, AutoExpMaxGain)
 * are plausible guesses: a driver must take names from szConfName, never hard-code them.
 *
 * Rules: all need an open camera; unknown or unsupported config -> POA_ERROR_INVALID_CONFIG;
 * read-only -> POA_ERROR_CONF_CANNOT_WRITE; outside [min, max] -> POA_ERROR_OUT_OF_LIMIT (not
 * clamped: a binding should see a bad value). The value is read from the union member of the
 * config's type. isAuto is stored only where isSupportAuto (no auto behaviour is simulated);
 * elsewhere it is accepted and ignored (the C++ driver sets TargetTemp with isAuto = TRUE).
 * POA_EXPOSURE (us) and POA_EXP (s) are two views of one exposure time. The flips take no value:
 * setting one selects it; reading one says whether it is the active flip.
 */
#include <math.h>
#include <string.h>

#include "fake_internal.h"

typedef struct cfg_desc {
    POAConfig id;
    POAValueType type;
    int writable, autos, color_only;
    const char *name, *desc;
    double min, max, def;
} cfg_desc;

#define MODEL_DEFAULT (-1e300) /* the default depends on the model: see default_of() */

static const cfg_desc CONFIGS[] = {
    {POA_EXPOSURE, VAL_INT, 1, 1, 0, "Exposure", "Exposure time (us)", 10, 2000000000.0, 10000},
    {POA_GAIN, VAL_INT, 1, 1, 0, "Gain", "Analog gain", 0, 600, MODEL_DEFAULT},
    {POA_HARDWARE_BIN, VAL_BOOL, 1, 0, 0, "HardwareBin", "Bin in the sensor", 0, 1, 0},
    {POA_TEMPERATURE, VAL_FLOAT, 0, 0, 0, "Temperature", "Sensor temperature (C)", -50, 80, 20},
    {POA_WB_R, VAL_INT, 1, 1, 1, "WB_R", "White balance, red", -1200, 1200, 0},
    {POA_WB_G, VAL_INT, 1, 1, 1, "WB_G", "White balance, green", -1200, 1200, 0},
    {POA_WB_B, VAL_INT, 1, 1, 1, "WB_B", "White balance, blue", -1200, 1200, 0},
    {POA_OFFSET, VAL_INT, 1, 0, 0, "Offset", "Black level offset", 0, 1500, MODEL_DEFAULT},
    {POA_AUTOEXPO_MAX_GAIN, VAL_INT, 1, 0, 0, "AutoExpMaxGain", "Highest gain of auto exposure", 0, 600, 300},
    {POA_AUTOEXPO_MAX_EXPOSURE, VAL_INT, 1, 0, 0, "AutoExpMaxExpMS", "Longest auto exposure (ms)", 1, 60000, 100},
    {POA_AUTOEXPO_BRIGHTNESS, VAL_INT, 1, 0, 0, "AutoExpTargetBrightness", "Auto exposure target", 50, 200, 100},
    {POA_EGAIN, VAL_FLOAT, 0, 0, 0, "eGain", "Electrons per ADU at this gain", 0, 100, MODEL_DEFAULT},
    {POA_COOLER_POWER, VAL_INT, 0, 0, 0, "CoolerPower", "Cooler power (%)", 0, 100, 0},
    {POA_TARGET_TEMP, VAL_INT, 1, 0, 0, "TargetTemp", "Cooler target temperature (C)", -50, 50, 0},
    {POA_COOLER, VAL_BOOL, 1, 0, 0, "CoolerOn", "Cooler and fan on/off", 0, 1, 0},
    {POA_HEATER, VAL_BOOL, 0, 0, 0, "Heater", "Window heater on (follows the cooler)", 0, 1, 0},
    {POA_HEATER_POWER, VAL_INT, 1, 0, 0, "LensHeaterPower", "Window heater power (%)", 0, 100, 10},
    {POA_FAN_POWER, VAL_INT, 1, 0, 0, "FanPower", "Fan power (%)", 0, 100, MODEL_DEFAULT},
    {POA_FLIP_NONE, VAL_BOOL, 1, 0, 0, "Flip None", "No flip", 0, 1, 1},
    {POA_FLIP_HORI, VAL_BOOL, 1, 0, 0, "Flip Hori", "Flip horizontally", 0, 1, 0},
    {POA_FLIP_VERT, VAL_BOOL, 1, 0, 0, "Flip Vert", "Flip vertically", 0, 1, 0},
    {POA_FLIP_BOTH, VAL_BOOL, 1, 0, 0, "Flip Both", "Flip both ways", 0, 1, 0},
    {POA_FRAME_LIMIT, VAL_INT, 1, 0, 0, "FrameRateLimit", "Frame rate limit (fps), 0 = none", 0, 2000, 0},
    {POA_USB_BANDWIDTH_LIMIT, VAL_INT, 1, 0, 0, "USBBandWidthLimit", "USB bandwidth limit (%)", 35, 100, 100},
    {POA_PIXEL_BIN_SUM, VAL_BOOL, 1, 0, 0, "PixelBinSum", "Sum binned pixels (else average)", 0, 1, 0},
    {POA_MONO_BIN, VAL_BOOL, 1, 0, 1, "MonoBin", "Binning mixes colours into mono", 0, 1, 0},
    {POA_EXP, VAL_FLOAT, 1, 1, 0, "Exp", "Exposure time (s)", 1e-5, 7200.0, 0.01},
};
#define N_CONFIGS ((int)(sizeof CONFIGS / sizeof CONFIGS[0]))

/* Value types of every POAConfig, including the ones no fake camera supports. */
static int value_type_of(POAConfig id, POAValueType *out) {
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

static const cfg_desc *find_desc(const fake_cam *c, POAConfig id) {
    for (int i = 0; i < N_CONFIGS; i++) {
        if (CONFIGS[i].id == id) return (!CONFIGS[i].color_only || c->model->color) ? &CONFIGS[i] : NULL;
    }
    return NULL;
}

int fake_config_supported(const fake_cam *c, POAConfig id) { return find_desc(c, id) != NULL; }

static double default_of(const fake_cam *c, const cfg_desc *d) {
    if (d->def != MODEL_DEFAULT) return d->def;
    int presets[8];
    fake_model_presets(c->model, presets);
    switch (d->id) {
    case POA_GAIN: return presets[1];
    case POA_OFFSET: return presets[5];
    case POA_FAN_POWER: return c->model->aluminium ? 70 : 50; /* the manual's defaults per body */
    case POA_EGAIN: return fake_model_egain(c->model, presets[1]);
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

static void fill_attributes(const fake_cam *c, const cfg_desc *d, POAConfigAttributes *a) {
    memset(a, 0, sizeof *a);
    a->isSupportAuto = d->autos ? POA_TRUE : POA_FALSE;
    a->isWritable = d->writable ? POA_TRUE : POA_FALSE;
    a->isReadable = POA_TRUE;
    a->configID = d->id;
    a->valueType = d->type;
    a->maxValue = make_value(d->type, d->max);
    a->minValue = make_value(d->type, d->min);
    a->defaultValue = make_value(d->type, default_of(c, d));
    fake_copy_str(a->szConfName, sizeof a->szConfName, d->name);
    fake_copy_str(a->szDescription, sizeof a->szDescription, d->desc);
}

/* The current value as a double (exact for every int and bool this fake stores). c locked. */
static double get_value(fake_cam *c, POAConfig id) {
    switch (id) {
    case POA_EXPOSURE: return llround(c->exposure_s * 1e6);
    case POA_EXP: return c->exposure_s;
    case POA_GAIN: return (double)c->gain;
    case POA_HARDWARE_BIN: return c->hardware_bin;
    case POA_TEMPERATURE: return fake_thermal_temp(c);
    case POA_WB_R: return (double)c->wb[0];
    case POA_WB_G: return (double)c->wb[1];
    case POA_WB_B: return (double)c->wb[2];
    case POA_OFFSET: return (double)c->offset;
    case POA_AUTOEXPO_MAX_GAIN: return (double)c->ae_max_gain;
    case POA_AUTOEXPO_MAX_EXPOSURE: return (double)c->ae_max_exp_ms;
    case POA_AUTOEXPO_BRIGHTNESS: return (double)c->ae_brightness;
    case POA_EGAIN: return fake_model_egain(c->model, c->gain);
    case POA_COOLER_POWER: return (double)fake_thermal_power(c);
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
    default: return 0;
    }
}

/* Store a value already checked against the config's range. c locked. */
static void set_value(fake_cam *c, POAConfig id, double v) {
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
    case POA_TARGET_TEMP: fake_thermal_changed(c); c->target_temp = iv; break;
    case POA_COOLER: fake_thermal_changed(c); c->cooler_on = bv; break;
    case POA_HEATER_POWER: fake_thermal_changed(c); c->heater_power = iv; break;
    case POA_FAN_POWER: fake_thermal_changed(c); c->fan_power = iv; break;
    case POA_FLIP_NONE: c->flip_h = 0; c->flip_v = 0; break;
    case POA_FLIP_HORI: c->flip_h = 1; c->flip_v = 0; break;
    case POA_FLIP_VERT: c->flip_h = 0; c->flip_v = 1; break;
    case POA_FLIP_BOTH: c->flip_h = 1; c->flip_v = 1; break;
    case POA_FRAME_LIMIT: c->frame_limit = iv; break;
    case POA_USB_BANDWIDTH_LIMIT: c->usb_bandwidth = iv; break;
    case POA_PIXEL_BIN_SUM: c->pixel_bin_sum = bv; break;
    case POA_MONO_BIN: c->mono_bin = bv; break;
    default: break;
    }
}

void fake_config_defaults(fake_cam *c) {
    c->auto_flags = 0;
    c->cooler_on = 0;
    c->flip_h = c->flip_v = 0;
    for (int i = 0; i < N_CONFIGS; i++) {
        const cfg_desc *d = &CONFIGS[i];
        int flip = d->id >= POA_FLIP_NONE && d->id <= POA_FLIP_BOTH; /* set above: they take no value */
        if (d->writable && (!d->color_only || c->model->color) && d->id != POA_EXPOSURE && !flip) {
            set_value(c, d->id, default_of(c, d));
        }
    }
}

POACAMERA_API POAErrors POAGetConfigValueType(POAConfig confID, POAValueType *pConfValueType) {
    if (pConfValueType == NULL) return POA_ERROR_POINTER;
    if (fake_fail_call_global("POAGetConfigValueType")) return POA_ERROR_OPERATION_FAILED;
    return value_type_of(confID, pConfValueType) ? POA_OK : POA_ERROR_INVALID_CONFIG;
}

POACAMERA_API POAErrors POAGetConfigsCount(int nCameraID, int *pConfCount) {
    if (pConfCount == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    int n = 0;
    for (int i = 0; i < N_CONFIGS; i++) n += !CONFIGS[i].color_only || c->model->color;
    *pConfCount = n;
    fake_unlock_cam(c);
    return POA_OK;
}

POACAMERA_API POAErrors POAGetConfigAttributes(int nCameraID, int nConfIndex, POAConfigAttributes *pConfAttr) {
    if (pConfAttr == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    err = POA_ERROR_INVALID_INDEX;
    for (int i = 0, k = 0; i < N_CONFIGS && nConfIndex >= 0; i++) {
        if (CONFIGS[i].color_only && !c->model->color) continue;
        if (k++ == nConfIndex) {
            fill_attributes(c, &CONFIGS[i], pConfAttr);
            err = POA_OK;
            break;
        }
    }
    fake_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POAGetConfigAttributesByConfigID(int nCameraID, POAConfig confID,
                                                         POAConfigAttributes *pConfAttr) {
    if (pConfAttr == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    const cfg_desc *d = find_desc(c, confID);
    if (d == NULL) {
        err = POA_ERROR_INVALID_CONFIG;
    } else {
        fill_attributes(c, d, pConfAttr);
    }
    fake_unlock_cam(c);
    return err;
}

/* The shared body of POASetConfig and POASetConfig_M, with the value already a double. */
static POAErrors set_config(int id, POAConfig confID, double v, POABool isAuto, const char *func) {
    fake_cam *c;
    POAErrors err = fake_lock_cam_fn(id, LOCK_OPEN, &c, func);
    if (err != POA_OK) return err;
    const cfg_desc *d = find_desc(c, confID);
    if (d == NULL) {
        err = POA_ERROR_INVALID_CONFIG;
    } else if (!d->writable) {
        err = POA_ERROR_CONF_CANNOT_WRITE;
    } else if (d->id >= POA_FLIP_NONE && d->id <= POA_FLIP_BOTH) {
        set_value(c, d->id, 1); /* the value is ignored */
    } else if (!(v >= d->min && v <= d->max)) { /* NaN fails too */
        err = POA_ERROR_OUT_OF_LIMIT;
    } else {
        set_value(c, d->id, v);
        if (d->autos) {
            unsigned bit = 1u << d->id;
            c->auto_flags = isAuto == POA_TRUE ? (int)((unsigned)c->auto_flags | bit)
                                               : (int)((unsigned)c->auto_flags & ~bit);
        }
    }
    fake_unlock_cam(c);
    return err;
}

POACAMERA_API POAErrors POASetConfig(int nCameraID, POAConfig confID, POAConfigValue confValue, POABool isAuto) {
    POAValueType t;
    if (!value_type_of(confID, &t)) return POA_ERROR_INVALID_CONFIG;
    double v = t == VAL_FLOAT ? confValue.floatValue
             : t == VAL_BOOL ? (confValue.boolValue != POA_FALSE ? 1.0 : 0.0)
                             : (double)confValue.intValue;
    return set_config(nCameraID, confID, v, isAuto, "POASetConfig");
}

/* "For matlab": the value comes as a double whatever the config's type; ints are rounded. */
POACAMERA_API POAErrors POASetConfig_M(int nCameraID, POAConfig confID, double cfgVal, POABool isAuto) {
    POAValueType t;
    if (!value_type_of(confID, &t)) return POA_ERROR_INVALID_CONFIG;
    if (t == VAL_INT) cfgVal = (double)llround(cfgVal);
    return set_config(nCameraID, confID, cfgVal, isAuto, "POASetConfig_M");
}

POACAMERA_API POAErrors POAGetConfig(int nCameraID, POAConfig confID, POAConfigValue *pConfValue, POABool *pIsAuto) {
    if (pConfValue == NULL || pIsAuto == NULL) return POA_ERROR_POINTER;
    fake_cam *c;
    POAErrors err = fake_lock_cam(nCameraID, LOCK_OPEN, &c);
    if (err != POA_OK) return err;
    const cfg_desc *d = find_desc(c, confID);
    if (d == NULL) {
        err = POA_ERROR_INVALID_CONFIG;
    } else {
        *pConfValue = make_value(d->type, get_value(c, d->id));
        *pIsAuto = (d->autos && ((unsigned)c->auto_flags & (1u << d->id))) ? POA_TRUE : POA_FALSE;
    }
    fake_unlock_cam(c);
    return err;
}
