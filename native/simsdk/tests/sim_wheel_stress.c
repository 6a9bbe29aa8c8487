/*
 * Stress test of the simulated filter wheels, for ThreadSanitizer and AddressSanitizer builds (run
 * by tests/simsdk/test_simsdk_wheel.py, linked straight to the sources). Two wheels; per wheel, at once:
 *   mover   - POAGotoPosition to random slots, then POAGetCurrentPosition until it stops;
 *   poller  - state, properties, one-way, aliases and focus offsets read; rescans (POAGetPWCount);
 *   writer  - aliases, focus offsets, custom name and one-way written (the state file);
 *   chaos   - close and reopen, POAResetPW;
 * and one thread appending fault lines (stuck, firmware_error, unplug_in_move, unplug, replug,
 * none) to the fault file. Every return code must be one the situation allows. Prints
 * "all passed" and exits 0 on success.
 *
 * usage: sim_wheel_stress <state dir> <fault file> [milliseconds]
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "PlayerOnePW.h"

void SimPOA_Reset(void); /* the camera header's; resets the wheels too */

#define N_WHEELS 2
static const int HANDLES[N_WHEELS] = {200, 205};
static const int SLOTS[N_WHEELS] = {7, 5};

static atomic_int g_stop;
static atomic_int g_failures;
static atomic_long g_moves;
static const char *g_fault_file;

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
    nanosleep(&ts, NULL);
}

/* Codes any call may meet while another thread closes, resets or unplugs the wheel. */
static int allowed(PWErrors e) {
    return e == PW_OK || e == PW_ERROR_NOT_OPENED || e == PW_ERROR_IS_MOVING || e == PW_ERROR_NOT_FOUND
           || e == PW_ERROR_OPERATION_FAILED || e == PW_ERROR_FIRMWARE_ERROR;
}

static void check(const char *what, int w, PWErrors e) {
    if (!allowed(e)) {
        fprintf(stderr, "%s on wheel %d: unexpected %d (%s)\n", what, HANDLES[w], (int)e, POAGetPWErrorString(e));
        atomic_fetch_add(&g_failures, 1);
    }
}

static unsigned next(unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void *mover(void *arg) {
    int w = (int)(long)arg;
    unsigned seed = 17u + (unsigned)w;
    while (!atomic_load(&g_stop)) {
        int to = (int)(next(&seed) % (unsigned)SLOTS[w]);
        PWErrors e = POAGotoPosition(HANDLES[w], to);
        check("goto", w, e);
        for (int i = 0; i < 200 && !atomic_load(&g_stop); i++) {
            int pos = -1;
            e = POAGetCurrentPosition(HANDLES[w], &pos);
            check("position", w, e);
            if (e == PW_OK) {
                if (pos < 0 || pos >= SLOTS[w]) {
                    fprintf(stderr, "wheel %d at position %d\n", HANDLES[w], pos);
                    atomic_fetch_add(&g_failures, 1);
                }
                atomic_fetch_add(&g_moves, 1);
                break;
            }
            sleep_us(500);
        }
    }
    return NULL;
}

static void *poller(void *arg) {
    int w = (int)(long)arg;
    char buf[MAX_NAME_LEN * 2];
    while (!atomic_load(&g_stop)) {
        PWState state;
        check("state", w, POAGetPWState(HANDLES[w], &state));
        PWProperties p;
        PWErrors e = POAGetPWPropertiesByHandle(HANDLES[w], &p);
        if (e != PW_OK && e != PW_ERROR_INVALID_HANDLE) check("props", w, e);
        int n = POAGetPWCount();
        if (n < 0 || n > N_WHEELS) atomic_fetch_add(&g_failures, 1);
        for (int i = 0; i < n; i++) {
            e = POAGetPWProperties(i, &p);
            if (e != PW_OK && e != PW_ERROR_INVALID_INDEX) check("props by index", w, e);
        }
        int one = -1, offset = 0;
        check("one way", w, POAGetOneWay(HANDLES[w], &one));
        check("alias", w, POAGetPWFilterAlias(HANDLES[w], 1, buf, (int)sizeof buf));
        check("offset", w, POAGetPWFocusOffset(HANDLES[w], 2, &offset));
        check("custom name", w, POAGetPWCustomName(HANDLES[w], buf, (int)sizeof buf));
        sleep_us(300);
    }
    return NULL;
}

static void *writer(void *arg) {
    int w = (int)(long)arg;
    int k = 0;
    char text[MAX_NAME_LEN];
    while (!atomic_load(&g_stop)) {
        snprintf(text, sizeof text, "filter %d", k % 100);
        check("set alias", w, POASetPWFilterAlias(HANDLES[w], k % SLOTS[w], text, (int)strlen(text)));
        check("set offset", w, POASetPWFocusOffset(HANDLES[w], k % SLOTS[w], k - 50));
        check("set name", w, POASetPWCustomName(HANDLES[w], k % 2 ? text : NULL, k % 2 ? (int)strlen(text) : 0));
        check("set one way", w, POASetOneWay(HANDLES[w], k % 2));
        k++;
        sleep_us(700);
    }
    return NULL;
}

static void *chaos(void *arg) {
    int w = (int)(long)arg;
    int k = 0;
    while (!atomic_load(&g_stop)) {
        sleep_us(20000);
        if (k++ % 3 == 0) {
            check("reset", w, POAResetPW(HANDLES[w]));
        } else {
            check("close", w, POAClosePW(HANDLES[w]));
            PWErrors e = POAOpenPW(HANDLES[w]);
            check("open", w, e);
        }
    }
    return NULL;
}

static void *faults(void *arg) {
    (void)arg;
    static const char *const LINES[] = {"stuck@200", "firmware_error@205", "unplug_in_move=5@200", "none",
                                        "unplug@205", "replug@205", "stuck=0@205", "replug@200", "none"};
    int k = 0;
    while (!atomic_load(&g_stop)) {
        sleep_us(30000);
        FILE *f = fopen(g_fault_file, "a");
        if (f == NULL) {
            atomic_fetch_add(&g_failures, 1);
            return NULL;
        }
        fprintf(f, "%s\n", LINES[k++ % (int)(sizeof LINES / sizeof LINES[0])]);
        fclose(f);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <state dir> <fault file> [ms]\n", argv[0]);
        return 2;
    }
    char options[700];
    snprintf(options, sizeof options, "time_scale=0.002,state=%s", argv[1]);
    setenv("INDI_PLAYERONE_SIMULATE_WHEEL", "Phoenix 7x36mm, Phoenix 5x2\"", 1);
    setenv("INDI_PLAYERONE_SIM_WHEEL_OPTIONS", options, 1);
    setenv("INDI_PLAYERONE_SIM_FAULT_FILE", argv[2], 1);
    g_fault_file = argv[2];
    int ms = argc > 3 ? atoi(argv[3]) : 1000;
    if (POAGetPWCount() != N_WHEELS) {
        fprintf(stderr, "expected %d wheels\n", N_WHEELS);
        return 1;
    }
    for (int w = 0; w < N_WHEELS; w++) POAOpenPW(HANDLES[w]);
    pthread_t threads[4 * N_WHEELS + 1];
    int n = 0;
    for (long w = 0; w < N_WHEELS; w++) {
        pthread_create(&threads[n++], NULL, mover, (void *)w);
        pthread_create(&threads[n++], NULL, poller, (void *)w);
        pthread_create(&threads[n++], NULL, writer, (void *)w);
        pthread_create(&threads[n++], NULL, chaos, (void *)w);
    }
    pthread_create(&threads[n++], NULL, faults, NULL);
    sleep_us(1000L * ms);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    for (int w = 0; w < N_WHEELS; w++) POAClosePW(HANDLES[w]);
    SimPOA_Reset();
    if (atomic_load(&g_failures) != 0) {
        fprintf(stderr, "%d failures\n", atomic_load(&g_failures));
        return 1;
    }
    if (atomic_load(&g_moves) < 10) {
        fprintf(stderr, "only %ld moves ended\n", atomic_load(&g_moves));
        return 1;
    }
    printf("all passed (%ld moves)\n", atomic_load(&g_moves));
    return 0;
}
