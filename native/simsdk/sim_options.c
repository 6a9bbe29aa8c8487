/*
 * INDI_PLAYERONE_SIM_OPTIONS: "key=value,key=value,..." for every simulated camera, or for one
 * with "key=value@<serial>" / "key=value@<camera id>". Read at every POAGetCameraCount (st4, usb2,
 * sdk_version: they show in the camera's properties) and at every POAOpenCamera (everything).
 *
 *   ambient=<C>          ambient and starting sensor temperature, default 20
 *   cooler_tau=<s>       thermal time constant, default 120 s; tests use a fraction of a second
 *   tilt=<dx_um>:<dy_um> sensor tilt: height of the sensor surface along the optical axis, right
 *                        edge minus left edge and bottom edge minus top edge, um; default 0:0
 *   focus=<um>           defocus at the sensor centre, um, default 0
 *   fratio=<N>           focal ratio of the optics, default 5 (blur disc diameter = |z| / N)
 *   seeing=<FWHM>[px]    FWHM of an in-focus star, unbinned pixels, default 3
 *   sky=<e-/s>           sky background per pixel before QE, default 1
 *   stars=<factor>       star brightness, default 1; 0 is a covered telescope
 *   no12v                start without the 12 V supply (images, cannot cool)
 *   st4                  give the camera an ST4 guide port
 *   usb2                 the camera is on a USB 2 link (40 MB/s instead of 400 MB/s)
 *   custom_id=<text>     the user custom ID (POASetUserCustomID, up to 16 bytes) the camera's
 *                        flash holds when it is plugged in: a camera named on another computer
 *   <fault>[=n]          a fault of sim_fault_kinds.c armed at every open ("open_error=2": the first
 *                        two opens fail)
 * Test knobs (documented in README.md, not for users):
 *   ddr_mb=<MB>          the camera's frame buffer, default 512
 *   sdk_version=<x.y.z>  the SDK version the library claims, default 3.10.1 (older versions
 *                        change behaviour, see sim_config.c)
 *
 * Flags take no value, or 1/true/yes/on (0/false/no/off turns one off again, e.g. for one
 * camera). A malformed value or an unknown key is skipped, said once on stderr and kept for
 * SimPOA_GetConfigError, so the driver can report it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_internal.h"

#define ENV_NAME "INDI_PLAYERONE_SIM_OPTIONS"
#define KNOWN "ambient, cooler_tau, tilt, focus, fratio, seeing, sky, stars, no12v, st4, usb2, custom_id, a fault name"

sim_problems sim_camera_problems = SIM_PROBLEMS_INIT;

/* The last configuration problem (INDI_PLAYERONE_SIMULATE, INDI_PLAYERONE_SIM_OPTIONS), copied
 * into buf; returns its length, 0 when there is none. */
POACAMERA_API int SimPOA_GetConfigError(char *buf, int size) {
    return sim_problem_copy(&sim_camera_problems, buf, size);
}

static void set_sdk_version(sim_options *o, const char *text) {
    sim_copy_str(o->sdk_version, sizeof o->sdk_version, text);
    o->sdk[0] = o->sdk[1] = o->sdk[2] = 0;
    sscanf(o->sdk_version, "%d.%d.%d", &o->sdk[0], &o->sdk[1], &o->sdk[2]);
}

static void defaults(sim_options *o) {
    memset(o, 0, sizeof *o);
    o->ambient_c = 20.0;
    o->cooler_tau_s = 120.0;
    o->fratio = 5.0;
    o->seeing_px = 3.0;
    o->sky_e_per_s = 1.0;
    o->star_scale = 1.0;
    o->ddr_mb = 512.0;
    set_sdk_version(o, "3.10.1");
}

/* A number, with its limits: 0 and *out set, or -1 after the error was recorded. */
static int number(const char *key, const char *text, double lo, int lo_open, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0) {
        sim_problem(&sim_camera_problems, "%s: %s='%s' is not a number", ENV_NAME, key, text);
        return -1;
    }
    if (!isfinite(v) || v < lo || (lo_open && v <= lo)) {
        sim_problem(&sim_camera_problems, "%s: %s='%s' is out of range", ENV_NAME, key, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int flag(const char *key, const char *value, int *out) {
    if (value == NULL || !strcasecmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "yes") ||
        !strcasecmp(value, "on")) {
        *out = 1;
    } else if (!strcasecmp(value, "0") || !strcasecmp(value, "false") || !strcasecmp(value, "no") ||
               !strcasecmp(value, "off")) {
        *out = 0;
    } else {
        sim_problem(&sim_camera_problems, "%s: %s takes no value", ENV_NAME, key);
        return -1;
    }
    return 0;
}

static void apply(sim_options *o, char *key, char *value) {
    double v;
    if (!strcmp(key, "no12v")) {
        flag(key, value, &o->no_12v);
    } else if (!strcmp(key, "st4")) {
        flag(key, value, &o->st4);
    } else if (!strcmp(key, "usb2")) {
        flag(key, value, &o->usb2);
    } else if (sim_fault_is_name(key, strlen(key))) {
        int n;
        if ((value != NULL && *value == '\0') || sim_count_arg(value, 0, &n) != 0) {
            sim_problem(&sim_camera_problems, "%s: fault %s: argument '%s' is not a count", ENV_NAME, key, value);
        } else if (o->n_faults < SIM_MAX_OPEN_FAULTS) {
            sim_copy_str(o->fault_name[o->n_faults], sizeof o->fault_name[0], key);
            o->fault_arg[o->n_faults++] = n;
        }
    } else if (value == NULL) {
        if (!strcmp(key, "ambient") || !strcmp(key, "cooler_tau") || !strcmp(key, "tilt") || !strcmp(key, "focus") ||
            !strcmp(key, "fratio") || !strcmp(key, "seeing") || !strcmp(key, "sky") || !strcmp(key, "stars") ||
            !strcmp(key, "ddr_mb") || !strcmp(key, "sdk_version") || !strcmp(key, "custom_id")) {
            sim_problem(&sim_camera_problems, "%s: '%s' needs a value (%s=...)", ENV_NAME, key, key);
        } else {
            sim_problem(&sim_camera_problems, "%s: unknown option '%s' (known: %s)", ENV_NAME, key, KNOWN);
        }
    } else if (!strcmp(key, "ambient")) {
        if (number(key, value, -60, 0, &v) == 0) o->ambient_c = v;
    } else if (!strcmp(key, "cooler_tau")) {
        if (number(key, value, 0, 1, &v) == 0) o->cooler_tau_s = v;
    } else if (!strcmp(key, "tilt")) {
        char *colon = strchr(value, ':');
        double dx, dy;
        if (colon == NULL) {
            sim_problem(&sim_camera_problems, "%s: tilt='%s': write <dx_um>:<dy_um>", ENV_NAME, value);
            return;
        }
        *colon = '\0';
        if (number(key, value, -INFINITY, 0, &dx) == 0 && number(key, colon + 1, -INFINITY, 0, &dy) == 0) {
            o->tilt_dx_um = dx;
            o->tilt_dy_um = dy;
        }
    } else if (!strcmp(key, "focus")) {
        if (number(key, value, -INFINITY, 0, &v) == 0) o->focus_um = v;
    } else if (!strcmp(key, "fratio")) {
        if (number(key, value, 0, 1, &v) == 0) o->fratio = v;
    } else if (!strcmp(key, "seeing")) {
        size_t n = strlen(value);
        if (n > 2 && !strcasecmp(value + n - 2, "px")) value[n - 2] = '\0';
        if (number(key, value, 0, 1, &v) == 0) o->seeing_px = v;
    } else if (!strcmp(key, "sky")) {
        if (number(key, value, 0, 0, &v) == 0) o->sky_e_per_s = v;
    } else if (!strcmp(key, "stars")) {
        if (number(key, value, 0, 0, &v) == 0) o->star_scale = v;
    } else if (!strcmp(key, "ddr_mb")) {
        if (number(key, value, 0, 1, &v) == 0) o->ddr_mb = v;
    } else if (!strcmp(key, "custom_id")) {
        if (strlen(value) > 16) {
            sim_problem(&sim_camera_problems, "%s: custom_id='%s' is longer than 16 bytes", ENV_NAME, value);
        } else {
            sim_copy_str(o->custom_id, sizeof o->custom_id, value);
        }
    } else if (!strcmp(key, "sdk_version")) {
        int a, b, c;
        if (sscanf(value, "%d.%d.%d", &a, &b, &c) != 3) {
            sim_problem(&sim_camera_problems, "%s: sdk_version='%s': write <major>.<minor>.<patch>", ENV_NAME, value);
        } else {
            set_sdk_version(o, value);
        }
    } else {
        sim_problem(&sim_camera_problems, "%s: unknown option '%s' (known: %s)", ENV_NAME, key, KNOWN);
    }
}

void sim_options_for(const char *serial, int id, sim_options *out) {
    defaults(out);
    const char *env = getenv(ENV_NAME);
    if (env == NULL || *env == '\0') return;
    for (int pass = 0; pass < 2; pass++) { /* every camera's items first, then this one's */
        char *copy = strdup(env);
        if (copy == NULL) break;
        char *save = NULL;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            char *at = strchr(item, '@');
            if (at) *at++ = '\0';
            if ((at != NULL) != (pass == 1)) continue;
            if (at && !sim_is_target(sim_trim(at), serial, id)) continue;
            char *eq = strchr(item, '=');
            if (eq) *eq++ = '\0';
            char *key = sim_trim(item);
            if (*key == '\0') continue;
            for (char *p = key; *p; p++) *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            apply(out, key, eq ? sim_trim(eq) : NULL);
        }
        free(copy);
    }
}

int sim_sdk_version_at_least(const sim_options *o, int major, int minor, int patch) {
    if (o->sdk[0] != major) return o->sdk[0] > major;
    if (o->sdk[1] != minor) return o->sdk[1] > minor;
    return o->sdk[2] >= patch;
}
