/*
 * Internal state of the simulated Phoenix filter wheels (nothing here is exported).
 *
 * One mutex (g_wheel_mu in sim_wheel.c) guards every wheel: the wheel API's calls are short and
 * never wait. A move is a timing model advanced in closed form by whichever call looks at the
 * wheel (wheel_advance), as the cameras' exposures are: no thread keeps time. The slot table is
 * fixed (SIM_MAX_WHEELS slots, never freed). The fault file is polled before the wheel lock is
 * taken, never under it (order: file, then wheels), as for the cameras.
 */
#ifndef SIM_WHEEL_H
#define SIM_WHEEL_H

#include "PlayerOnePW.h"

#define SIM_MAX_WHEELS 4
#define SIM_MAX_SLOTS 8
#define SIM_WHEEL_HANDLE_BASE 200 /* handle = base + step * table slot: never an index */
#define SIM_WHEEL_HANDLE_STEP 5

typedef struct sim_wheel_model {
    const char *name;   /* as the manual's accessory table writes it: "Phoenix 7x36mm" */
    const char *serial; /* its part of the serial number: "PHOENIX-7X36MM" */
    int slots;
} sim_wheel_model;

enum sim_wheel_motion { WHEEL_IDLE = 0, WHEEL_MOVE, WHEEL_SELF_CHECK };

typedef struct sim_wheel {
    int present;   /* the table slot holds a wheel (from INDI_PLAYERONE_SIMULATE_WHEEL) */
    int unplugged; /* gone (fault): not counted, calls fail */
    int detected;  /* listed by a POAGetPWCount since it was plugged in (the self-check ran) */
    int opened;
    const sim_wheel_model *model;
    char serial[32];

    /* motion: a move from `from` to `to`, `steps` slots in direction `dir`, t0 .. t_end */
    int position; /* where the wheel rests (0-based); during a motion, where it started */
    int motion;   /* enum sim_wheel_motion */
    int from, to, dir, steps;
    double t0, t_end; /* monotonic seconds; t_end < 0: stalled (stuck) until a reset */

    /* what the wheel's firmware keeps (persisted in its state file) */
    int one_way;
    char custom_name[MAX_NAME_LEN];
    char alias[SIM_MAX_SLOTS][MAX_NAME_LEN];
    int focus_offset[SIM_MAX_SLOTS];

    /* faults */
    int stuck_armed;      /* the next moves stall: 1 + count left, 1 = every move; 0 = off */
    int firmware_error;   /* moves answer PW_ERROR_FIRMWARE_ERROR until POAResetPW */
    int unplug_in_move;   /* 1 + ms into the next move the wheel is unplugged; 0 = off */
    double unplug_at;     /* monotonic time a move in progress unplugs the wheel; 0 = never */
} sim_wheel;

/* ---- sim_wheel.c ---- */
void sim_wheel_self_check(sim_wheel *w, double now); /* lock held: turn to position 0 */
/* Lock held, the wheel idle elsewhere: start the move to `position` (the shorter way, or forward
 * when one-way), stalled or set to unplug when those faults are armed. */
void sim_wheel_move(sim_wheel *w, int position);
void sim_wheel_unplug(sim_wheel *w, double now); /* lock held: gone, stopped where it is */

enum sim_wheel_need { WHEEL_ANY = 0, WHEEL_PLUGGED = 1, WHEEL_OPEN = 2 };
/* Look a wheel up by handle and lock the wheels; on success the lock is held and PW_OK returned.
 * The checks, in this order: the handle names a wheel (INVALID_HANDLE); with WHEEL_PLUGGED or
 * WHEEL_OPEN it was not unplugged (`gone`: NOT_FOUND to an open, OPERATION_FAILED to the rest, as
 * the header says a removed wheel fails); with WHEEL_OPEN it is open (NOT_OPENED). */
PWErrors sim_wheel_lock(int handle, enum sim_wheel_need need, PWErrors gone, sim_wheel **out);
int sim_wheel_handle(const sim_wheel *w); /* its handle, from its table slot */
PWErrors sim_wheel_done(PWErrors err); /* unlock the wheels, return err */
/* The first lines of almost every wheel call: look wheel `handle` up and lock the wheels with it
 * in `w` (declared here) as sim_wheel_lock does, or return its error. */
#define SIM_WHEEL_LOCK_OR_RETURN(w, handle, need, gone)                          \
    sim_wheel *w;                                                                \
    do {                                                                         \
        PWErrors lock_err_ = sim_wheel_lock((handle), (need), (gone), &w);       \
        if (lock_err_ != PW_OK) return lock_err_;                                \
    } while (0)
void sim_wheel_save(const sim_wheel *w); /* lock held: its state file, after a change */

/* ---- sim_wheel_store.c: options, the state file, faults, configuration errors ---- */
typedef struct sim_wheel_options {
    double time_scale;  /* every motion time is multiplied by it (tests: 0.02) */
    char state_dir[512];
} sim_wheel_options;

void sim_wheel_options_read(sim_wheel_options *o); /* INDI_PLAYERONE_SIM_WHEEL_OPTIONS */
void sim_wheel_state_load(sim_wheel *w, const sim_wheel_options *o);
void sim_wheel_state_save(const sim_wheel *w, const sim_wheel_options *o);
extern sim_problems sim_wheel_problems; /* the wheels' (SimPOA_GetPWConfigError) */

#endif /* SIM_WHEEL_H */
