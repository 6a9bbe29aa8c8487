/*
 * Simulated Player One Phoenix filter wheels: the vendor's wheel API (PlayerOnePW.h) in front of
 * the wheels INDI_PLAYERONE_SIMULATE_WHEEL names, with their motion, one-way rotation, the
 * self-check, what the firmware stores (filter aliases, focus offsets, the custom name, one-way:
 * sim_wheel_store.c keeps it in a state file per serial number, so it survives the process) and
 * the faults of the fault file (stuck, firmware_error, unplug_in_move, unplug, replug, none).
 *
 * INDI_PLAYERONE_SIMULATE_WHEEL: the wheels as the manual's accessory table names them,
 * comma-separated, case and blanks ignored: "Phoenix 8x1.25\"", "Phoenix 7x36mm", "Phoenix 7x2\"",
 * "Phoenix 7x50mm", "Phoenix 5x2\"". Read at every POAGetPWCount; an unknown name is skipped and
 * reported (stderr once, SimPOA_GetPWConfigError) with the list of valid ones. An open wheel keeps
 * its table slot when the list changes. Handles are 200, 205, 210, ... (never an index); serial
 * numbers SIM-<name in capitals, blanks as dashes, " as IN>-<n>, n counting the wheels of that
 * name: SIM-PHOENIX-7X36MM-0001.
 *
 * Motion (assumed: Player One publishes no timing; see native/simsdk/README.md): the wheel turns
 * at a constant 72 degrees per second (a full turn in 5 s) after 0.5 s of start and settling, so a
 * move of k slots on an N-slot wheel takes 0.5 + 5 k / N s (adjacent slots: 1.1 s on the 8-slot,
 * 1.2 s on the 7-slot, 1.5 s on the 5-slot wheel). Two-way, it takes the shorter way (forward on
 * a tie); one-way, always forward (increasing positions, 7 -> 1 wraps). The self-check is a full
 * turn to the index mark at position 0: 5.5 s. INDI_PLAYERONE_SIM_WHEEL_OPTIONS=time_scale=<f>
 * multiplies every motion time (tests: 0.02).
 *
 * SDK behaviour reproduced: since SDK 1.1.0 opening does not move the wheel; a wheel self-checks
 * (turns to position 0) when it is first detected after being plugged in, by the first
 * POAGetPWCount that lists it (here: the first in the process, and after a replug);
 * POAGetCurrentPosition answers PW_ERROR_IS_MOVING while the wheel turns, and a move asked for
 * meanwhile is refused with it; a move to the position the wheel is at returns at once;
 * POAResetPW re-runs the self-check (and clears a stall or a firmware error); properties need no
 * open wheel, and the SN is filled without one (assumed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "sim_wheel.h"

#define START_S 0.5       /* start and settle of every motion */
#define FULL_TURN_S 5.0   /* 72 degrees per second */

static const sim_wheel_model MODELS[] = {
    {"Phoenix 8x1.25\"", "PHOENIX-8X1.25IN", 8},
    {"Phoenix 7x36mm", "PHOENIX-7X36MM", 7},
    {"Phoenix 7x2\"", "PHOENIX-7X2IN", 7},
    {"Phoenix 7x50mm", "PHOENIX-7X50MM", 7},
    {"Phoenix 5x2\"", "PHOENIX-5X2IN", 5},
};
#define N_MODELS ((int)(sizeof MODELS / sizeof MODELS[0]))

static pthread_mutex_t g_wheel_mu = PTHREAD_MUTEX_INITIALIZER;
static sim_wheel g_wheels[SIM_MAX_WHEELS];
static int g_scanned; /* POAGetPWCount ran since load (or SimPOA_Reset) */
static sim_wheel_options g_opt = {1.0, ""};

/* A move of `steps` slots. */
static double move_s(const sim_wheel_model *m, int steps) {
    return g_opt.time_scale * (START_S + FULL_TURN_S * steps / m->slots);
}

/* The self-check (and a reset): a full turn. */
static double self_check_s(void) {
    return g_opt.time_scale * (START_S + FULL_TURN_S);
}

/* ---- configuration --------------------------------------------------------------------------- */

static const char *wheel_name(int k) { return k >= 0 && k < N_MODELS ? MODELS[k].name : NULL; }

static const sim_name_list WANTED = {"INDI_PLAYERONE_SIMULATE_WHEEL", wheel_name, "filter wheel", "wheels", "wheels",
                                     &sim_wheel_problems};

static void assign(sim_wheel *w, const sim_wheel_model *m, int nth) {
    memset(w, 0, sizeof *w);
    w->present = 1;
    w->model = m;
    snprintf(w->serial, sizeof w->serial, "SIM-%s-%04d", m->serial, nth);
    sim_wheel_state_load(w, &g_opt);
}

/* ---- motion ---------------------------------------------------------------------------------- */

static int mod(int a, int n) { return ((a % n) + n) % n; }

/* Where the wheel is at `now` during its motion (the slot it last passed). */
static int passing(const sim_wheel *w, double now) {
    if (w->motion == WHEEL_IDLE) return w->position;
    double per_slot = g_opt.time_scale * FULL_TURN_S / w->model->slots;
    double elapsed = now - w->t0 - g_opt.time_scale * START_S / 2;
    int k = elapsed <= 0 || per_slot <= 0 ? 0 : (int)(elapsed / per_slot);
    if (k > w->steps) k = w->steps;
    return mod(w->from + w->dir * k, w->model->slots);
}

void sim_wheel_unplug(sim_wheel *w, double now) {
    w->position = passing(w, now);
    w->motion = WHEEL_IDLE;
    w->unplugged = 1;
    w->opened = 0;
    w->unplug_at = 0;
}

/* Run the timing model up to now (wheel lock held). */
static void advance(sim_wheel *w, double now) {
    if (w->unplug_at > 0 && now >= w->unplug_at) {
        sim_fault_log("unplug_in_move %d", sim_wheel_handle(w));
        sim_wheel_unplug(w, now);
        return;
    }
    if (w->motion != WHEEL_IDLE && w->t_end >= 0 && now >= w->t_end) {
        w->position = w->to;
        w->motion = WHEEL_IDLE;
    }
}

static void start_motion(sim_wheel *w, int kind, int to, int dir, int steps, double seconds, double now) {
    w->from = w->motion == WHEEL_IDLE ? w->position : passing(w, now);
    w->position = w->from;
    w->motion = kind;
    w->to = to;
    w->dir = dir;
    w->steps = steps;
    w->t0 = now;
    w->t_end = now + seconds;
}

void sim_wheel_self_check(sim_wheel *w, double now) {
    /* a full turn forward to the index mark at position 0 */
    start_motion(w, WHEEL_SELF_CHECK, 0, 1, w->model->slots, self_check_s(), now);
}

void sim_wheel_move(sim_wheel *w, int position) {
    int n = w->model->slots;
    int forward = mod(position - w->position, n);
    int dir = 1, steps = forward;
    if (!w->one_way && n - forward < forward) {
        dir = -1;
        steps = n - forward;
    }
    double now = sim_now();
    double seconds = move_s(w->model, steps);
    start_motion(w, WHEEL_MOVE, position, dir, steps, seconds, now);
    if (w->stuck_armed > 0) {
        /* stalls halfway: the motor stops between two slots and the wheel reports MOVING */
        sim_fault_log("stuck %d", sim_wheel_handle(w));
        w->t_end = -1;
        if (w->stuck_armed > 1 && --w->stuck_armed == 1) w->stuck_armed = 0;
    }
    if (w->unplug_in_move > 0) {
        double ms = w->unplug_in_move - 1;
        w->unplug_at = now + (ms > 0 ? ms / 1000.0 : seconds / 2);
        w->unplug_in_move = 0;
    }
}

/* ---- lookup ---------------------------------------------------------------------------------- */

int sim_wheel_handle(const sim_wheel *w) { return SIM_WHEEL_HANDLE_BASE + SIM_WHEEL_HANDLE_STEP * (int)(w - g_wheels); }

/* The wheel a handle names, NULL when none does. Wheel lock held. */
static sim_wheel *wheel_of(int handle) {
    int k = handle - SIM_WHEEL_HANDLE_BASE;
    if (k < 0 || k % SIM_WHEEL_HANDLE_STEP != 0 || k / SIM_WHEEL_HANDLE_STEP >= SIM_MAX_WHEELS) return NULL;
    sim_wheel *w = &g_wheels[k / SIM_WHEEL_HANDLE_STEP];
    return w->present ? w : NULL;
}

PWErrors sim_wheel_lock(int handle, enum sim_wheel_need need, PWErrors gone, sim_wheel **out) {
    sim_fault_file_poll(); /* before the lock: applying a line locks the wheels */
    pthread_mutex_lock(&g_wheel_mu);
    sim_wheel *w = wheel_of(handle);
    PWErrors err = PW_OK;
    if (w == NULL || !g_scanned) {
        err = PW_ERROR_INVALID_HANDLE;
    } else {
        advance(w, sim_now());
        if (need != WHEEL_ANY && w->unplugged) err = gone;
        else if (need == WHEEL_OPEN && !w->opened) err = PW_ERROR_NOT_OPENED;
    }
    if (err != PW_OK) {
        pthread_mutex_unlock(&g_wheel_mu);
        return err;
    }
    *out = w;
    return PW_OK;
}

PWErrors sim_wheel_done(PWErrors err) {
    pthread_mutex_unlock(&g_wheel_mu);
    return err;
}

void sim_wheel_save(const sim_wheel *w) { sim_wheel_state_save(w, &g_opt); }

/* ---- the API: enumeration and properties (the calls on one wheel: sim_wheel_calls.c) ---------- */

POA_PW_API int POAGetPWCount(void) {
    int kind[SIM_MAX_WHEELS] = {0}, nth[SIM_MAX_WHEELS] = {0};
    sim_problem_clear(&sim_wheel_problems);
    sim_wheel_options opt;
    sim_wheel_options_read(&opt);
    int n = sim_wanted(&WANTED, SIM_MAX_WHEELS, kind, nth);
    pthread_mutex_lock(&g_wheel_mu);
    g_opt = opt;
    for (int i = 0; i < SIM_MAX_WHEELS; i++) {
        sim_wheel *w = &g_wheels[i];
        if (w->opened) continue; /* an open wheel keeps its slot */
        if (i < n && (!w->present || w->model != &MODELS[kind[i]])) assign(w, &MODELS[kind[i]], nth[i]);
        else if (i >= n && w->present) w->present = 0;
    }
    g_scanned = 1;
    pthread_mutex_unlock(&g_wheel_mu);
    /* After the scan, so lines written before it reach the wheels it found; before the count,
     * as unplug / replug lines change it. */
    sim_fault_file_poll();
    int count = 0;
    double now = sim_now();
    pthread_mutex_lock(&g_wheel_mu);
    for (int i = 0; i < SIM_MAX_WHEELS; i++) {
        sim_wheel *w = &g_wheels[i];
        if (!w->present) continue;
        advance(w, now);
        if (w->unplugged) continue;
        if (!w->detected) { /* first detected since plugged in: the self-check */
            w->detected = 1;
            sim_wheel_self_check(w, now);
        }
        count++;
    }
    pthread_mutex_unlock(&g_wheel_mu);
    return count;
}

static void fill(const sim_wheel *w, PWProperties *p) {
    memset(p, 0, sizeof *p);
    if (w->custom_name[0] != '\0') {
        snprintf(p->Name, sizeof p->Name, "%s [%s]", w->model->name, w->custom_name);
    } else {
        snprintf(p->Name, sizeof p->Name, "%s", w->model->name);
    }
    p->Handle = sim_wheel_handle(w);
    p->PositionCount = w->model->slots;
    sim_copy_str(p->SN, sizeof p->SN, w->serial);
}

POA_PW_API PWErrors POAGetPWProperties(int index, PWProperties *pProp) {
    if (pProp == NULL) return PW_ERROR_POINTER;
    sim_fault_file_poll();
    pthread_mutex_lock(&g_wheel_mu);
    int k = 0;
    double now = sim_now();
    for (int i = 0; g_scanned && i < SIM_MAX_WHEELS; i++) {
        sim_wheel *w = &g_wheels[i];
        if (!w->present) continue;
        advance(w, now);
        if (w->unplugged) continue;
        if (k++ == index) {
            fill(w, pProp);
            return sim_wheel_done(PW_OK);
        }
    }
    return sim_wheel_done(PW_ERROR_INVALID_INDEX);
}

POA_PW_API PWErrors POAGetPWPropertiesByHandle(int Handle, PWProperties *pProp) {
    if (pProp == NULL) return PW_ERROR_POINTER;
    SIM_WHEEL_LOCK_OR_RETURN(w, Handle, WHEEL_PLUGGED, PW_ERROR_INVALID_HANDLE);
    fill(w, pProp);
    return sim_wheel_done(PW_OK);
}

/* ---- the fault file and SimPOA_Reset (sim_internal.h) ---------------------------------------- */

/* The wheels' fault words (the fault file's lines, "name[=arg][@serial or handle]"; see
 * sim_fault_file.c):
 *   stuck[=n]            the next n moves (default 1; 0 = every move until "none") stall halfway:
 *                        the wheel reports MOVING for ever, until POAResetPW
 *   firmware_error       every move answers PW_ERROR_FIRMWARE_ERROR until POAResetPW
 *   unplug_in_move[=ms]  the next move unplugs the wheel ms into it (default: halfway)
 *   unplug, replug       the wheel leaves POAGetPWCount and its calls fail / it is back, closed,
 *                        and self-checks when next listed (a newly detected wheel)
 *   none                 clears the armed faults (a stalled wheel stays stalled: reset it)
 */

static void clear_faults(sim_wheel *w) {
    w->stuck_armed = 0;
    w->firmware_error = 0;
    w->unplug_in_move = 0;
}

static int fault_apply(sim_wheel *w, const char *name, const char *arg, double now) {
    int n;
    if (!strcmp(name, "none")) {
        clear_faults(w);
    } else if (!strcmp(name, "unplug")) {
        sim_wheel_unplug(w, now);
    } else if (!strcmp(name, "replug")) {
        if (w->unplugged) {
            w->unplugged = 0;
            w->detected = 0; /* plugged in again: the next scan detects it and it self-checks */
        }
    } else if (!strcmp(name, "stuck")) {
        if (sim_count_arg(arg, 1, &n) != 0) return -1;
        w->stuck_armed = n == 0 ? 1 : n + 1;
    } else if (!strcmp(name, "firmware_error")) {
        if (arg != NULL && *arg != '\0') return -1;
        w->firmware_error = 1;
    } else if (!strcmp(name, "unplug_in_move")) {
        if (sim_count_arg(arg, 0, &n) != 0) return -1;
        w->unplug_in_move = 1 + n;
    } else {
        return -1;
    }
    return 0;
}

/* One line of the fault file for the wheels it targets (sim_fault_line_fn). Polls nothing: it
 * is called from the file's poll, which holds no other lock. */
static void wheel_fault_line(const char *name, const char *arg, const char *target, int *applied, int *refused) {
    pthread_mutex_lock(&g_wheel_mu);
    double now = sim_now();
    for (int i = 0; i < SIM_MAX_WHEELS; i++) {
        sim_wheel *w = &g_wheels[i];
        if (!w->present || (target != NULL && !sim_is_target(target, w->serial, sim_wheel_handle(w)))) continue;
        advance(w, now);
        if (fault_apply(w, name, arg, now) == 0) ++*applied;
        else ++*refused;
    }
    pthread_mutex_unlock(&g_wheel_mu);
}

/* The wheels take the fault file's lines after the cameras, from the moment the library is loaded. */
__attribute__((constructor)) static void take_fault_lines(void) {
    sim_fault_file_take_lines(SIM_LINES_WHEELS, wheel_fault_line);
}

void sim_wheel_reset(void) {
    pthread_mutex_lock(&g_wheel_mu);
    memset(g_wheels, 0, sizeof g_wheels);
    g_scanned = 0;
    pthread_mutex_unlock(&g_wheel_mu);
    sim_problem_clear(&sim_wheel_problems);
}
