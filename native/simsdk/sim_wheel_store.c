/*
 * The simulated wheels' options, their state file and their configuration errors.
 *
 * INDI_PLAYERONE_SIM_WHEEL_OPTIONS (read at every POAGetPWCount): "key=value,..." for every wheel
 *   time_scale=<f>   every motion time times f (default 1; tests use 0.02: a 1.2 s move in 24 ms)
 *   state=<dir>      where each wheel's state file is (default $XDG_STATE_HOME/indi-playerone/
 *                    simulated-wheels, else ~/.local/state/indi-playerone/simulated-wheels)
 * An unknown key or a bad value is skipped and reported (stderr once, SimPOA_GetPWConfigError).
 *
 * The state file: what a real wheel keeps in its own memory (filter aliases, focus offsets, the
 * custom name; one-way rotation too, assumed), so it outlives the driver process as the wheel
 * would. One file per serial number, "<dir>/<serial>.conf", lines "key=value": one_way,
 * custom_name, alias<position>, offset<position> (positions 0-based, as the API's). Read when a
 * wheel first appears in a process, written (to a temporary file, then renamed) after each change.
 * A file that cannot be written is said once on stderr; the wheel keeps working from memory.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"
#include "sim_wheel.h"

#define ENV_OPTIONS "INDI_PLAYERONE_SIM_WHEEL_OPTIONS"

sim_problems sim_wheel_problems = SIM_PROBLEMS_INIT;

POA_PW_API int SimPOA_GetPWConfigError(char *buf, int size) {
    return sim_problem_copy(&sim_wheel_problems, buf, size);
}

/* ---- options --------------------------------------------------------------------------------- */

static void default_state_dir(char *out, size_t cap) {
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg != NULL && xdg[0] == '/') {
        snprintf(out, cap, "%s/indi-playerone/simulated-wheels", xdg);
    } else if (home != NULL && home[0] != '\0') {
        snprintf(out, cap, "%s/.local/state/indi-playerone/simulated-wheels", home);
    } else {
        out[0] = '\0';
    }
}

void sim_wheel_options_read(sim_wheel_options *o) {
    o->time_scale = 1.0;
    default_state_dir(o->state_dir, sizeof o->state_dir);
    const char *env = getenv(ENV_OPTIONS);
    if (env == NULL) return;
    char text[1024];
    sim_copy_str(text, sizeof text, env);
    char *save = NULL;
    for (char *item = strtok_r(text, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        item = sim_trim(item);
        if (*item == '\0') continue;
        char *value = strchr(item, '=');
        if (value != NULL) *value++ = '\0';
        if (!strcmp(item, "time_scale") && value != NULL) {
            char *stop = NULL;
            errno = 0;
            double v = strtod(value, &stop);
            if (errno != 0 || stop == value || *stop != '\0' || !isfinite(v) || v <= 0) {
                sim_problem(&sim_wheel_problems, "%s: time_scale='%s' is not a number above 0", ENV_OPTIONS, value);
            } else {
                o->time_scale = v;
            }
        } else if (!strcmp(item, "state") && value != NULL && value[0] != '\0') {
            sim_copy_str(o->state_dir, sizeof o->state_dir, value);
        } else {
            sim_problem(&sim_wheel_problems, "%s: unknown option '%s' (known: time_scale=<factor>, state=<dir>)",
                        ENV_OPTIONS, item);
        }
    }
}

/* ---- the state file -------------------------------------------------------------------------- */

static int state_path(const sim_wheel *w, const sim_wheel_options *o, char *out, size_t cap) {
    if (o->state_dir[0] == '\0') return -1;
    int n = snprintf(out, cap, "%s/%s.conf", o->state_dir, w->serial);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

void sim_wheel_state_load(sim_wheel *w, const sim_wheel_options *o) {
    char path[640];
    if (state_path(w, o, path, sizeof path) != 0) return;
    FILE *f = fopen(path, "re");
    if (f == NULL) return; /* a new wheel: nothing stored yet */
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *value = strchr(line, '=');
        if (line[0] == '#' || value == NULL) continue;
        *value++ = '\0';
        int pos = -1;
        if (!strcmp(line, "one_way")) {
            w->one_way = atoi(value) != 0;
        } else if (!strcmp(line, "custom_name")) {
            sim_copy_str(w->custom_name, sizeof w->custom_name, value);
        } else if (sscanf(line, "alias%d", &pos) == 1 && pos >= 0 && pos < w->model->slots) {
            sim_copy_str(w->alias[pos], sizeof w->alias[pos], value);
        } else if (sscanf(line, "offset%d", &pos) == 1 && pos >= 0 && pos < w->model->slots) {
            w->focus_offset[pos] = atoi(value);
        }
    }
    fclose(f);
}

/* mkdir -p of dir (its parents created as needed). 0 on success. */
static int make_dirs(const char *dir) {
    char tmp[512];
    sim_copy_str(tmp, sizeof tmp, dir);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

void sim_wheel_state_save(const sim_wheel *w, const sim_wheel_options *o) {
    static int warned;
    char path[640], tmp[700];
    if (state_path(w, o, path, sizeof path) != 0) return;
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = NULL;
    if (make_dirs(o->state_dir) == 0) f = fopen(tmp, "we");
    if (f == NULL) {
        if (!warned) {
            warned = 1;
            fprintf(stderr, "simulated PlayerOne SDK: cannot write the wheel state %s: %s\n", path, strerror(errno));
        }
        return;
    }
    fprintf(f, "# simulated Player One %s %s: what its firmware keeps\n", w->model->name, w->serial);
    fprintf(f, "one_way=%d\ncustom_name=%s\n", w->one_way, w->custom_name);
    for (int i = 0; i < w->model->slots; i++) fprintf(f, "alias%d=%s\noffset%d=%d\n", i, w->alias[i], i, w->focus_offset[i]);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) unlink(tmp);
}
