/*
 * Runtime fault injection from a file, and per-call failures (fail_call), so a test can break a
 * camera inside a running driver process (the driver loads this library; the test only writes a
 * file).
 *
 * INDI_PLAYERONE_SIM_FAULT_FILE=/path: the file is polled at every API call (before any camera
 * lock is taken), at most every 50 ms, and also every 50 ms by a POAGetImageData that is waiting
 * for a frame (so a fault written while the host is blocked in a read still reaches it). When its
 * modification time or size changed, the lines not applied yet are applied, once each, in order:
 * the library remembers how many lines it applied. A file with fewer lines than that counts as a
 * new file and all its lines are applied. Write whole lines ending in a newline (a line without
 * one is applied too, so a half-written line would be misread).
 *
 * A line is `name[=arg]` (every camera), `name[=arg]@<serial>` or `name[=arg]@<camera id>` (one
 * camera); blank lines and `#` comments are skipped. Names: every fault of sim_fault_kinds.c (arg a
 * count, default 0 = every time until cleared, 1 for the *_next_frame ones), and
 *   none                 clears every fault and fail_call of the camera
 *   unplug               the camera leaves now (= unplug_after=0): its calls answer
 *                        POA_ERROR_DEVICE_NOT_FOUND, a waiting POAGetImageData returns at once,
 *                        POAGetCameraCount no longer counts it
 *   replug               an unplugged camera comes back (closed) in POAGetCameraCount
 *   12v                  the 12 V supply is back (clears no_12v)
 *   unplug_in_read=ms    the next POAGetImageData, ms (default 0) into its wait, unplugs the
 *                        camera and returns POA_ERROR_DEVICE_NOT_FOUND: the cable pulled while the
 *                        host reads the frame
 *   fail_call=<POAFunctionName>[:n]
 *                        the next n (default 1; 0 = every call until "none") calls of that
 *                        function on that camera return POA_ERROR_OPERATION_FAILED and do nothing.
 *                        POAGetCameraProperties and POAGetConfigValueType take no camera: for
 *                        them the count is process-wide (a target is ignored). POAGetCameraCount,
 *                        POAGetErrorString and the version functions return no error code and
 *                        cannot be made to fail.
 * Unknown names and malformed lines are reported on stderr and skipped.
 *
 * INDI_PLAYERONE_SIM_FAULT_LOG=/path (optional): one line appended per event, so a test in
 * another process can see that a fault fired: "applied <line>", "fail_call <func> <id>",
 * "unplug_in_read <id>", "short_next_frame <id>", "busy_after_frame <id>", "opfail_wait <id>",
 * "usb_reset <id>".
 *
 * Locking: g_file_mu serialises polls; applying a line then locks one camera at a time. No thread
 * holds a camera lock or the scan lock while it polls (the order is always file -> camera).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

#define POLL_INTERVAL_S 0.05
#define MAX_FILE_BYTES (1 << 20)

/* Functions fail_call accepts: every exported function returning POAErrors. */
static const char *const FAILABLE[] = {
    "POAGetCameraProperties", "POAGetCameraPropertiesByID", "POAOpenCamera", "POAInitCamera",
    "POACloseCamera", "POAGetConfigsCount", "POAGetConfigAttributes",
    "POAGetConfigAttributesByConfigID", "POASetConfig", "POASetConfig_M", "POAGetConfig",
    "POAGetConfigValueType", "POAGetImageStartPos", "POASetImageStartPos", "POAGetImageSize",
    "POASetImageSize", "POAGetImageBin", "POASetImageBin", "POAGetImageFormat",
    "POASetImageFormat", "POAStartExposure", "POAStopExposure", "POAGetCameraState",
    "POAImageReady", "POAGetImageData", "POAGetDroppedImagesCount", "POAGetSensorModeCount",
    "POAGetSensorModeInfo", "POASetSensorMode", "POAGetSensorMode", "POASetUserCustomID",
    "POAGetGainsAndOffsets", "POASetEnableDPS",
};
/* ... of which these take no camera id: their fail counts are process-wide. */
static const char *const GLOBAL_FUNCS[] = {"POAGetCameraProperties", "POAGetConfigValueType"};

static pthread_mutex_t g_file_mu = PTHREAD_MUTEX_INITIALIZER;
static double g_checked = -1.0;  /* monotonic time of the last look at the file */
static struct timespec g_mtime;  /* of the file when last read */
static off_t g_size = -1;
static long g_applied;           /* lines applied so far */
static char g_path[4096];        /* the file those lines came from: another path starts again */

static pthread_mutex_t g_global_mu = PTHREAD_MUTEX_INITIALIZER;
static sim_fail_call g_global_fail[sizeof GLOBAL_FUNCS / sizeof GLOBAL_FUNCS[0]];

int sim_fail_call_known(const char *func) {
    for (size_t i = 0; i < sizeof FAILABLE / sizeof FAILABLE[0]; i++) {
        if (strcmp(FAILABLE[i], func) == 0) return 1;
    }
    return 0;
}

static int global_index(const char *func) {
    for (size_t i = 0; i < sizeof GLOBAL_FUNCS / sizeof GLOBAL_FUNCS[0]; i++) {
        if (strcmp(GLOBAL_FUNCS[i], func) == 0) return (int)i;
    }
    return -1;
}

/* One entry of a table: arm (n > 0: n calls; n == 0: every call, stored as -1) or clear (n < 0). */
static int arm_entry(sim_fail_call *table, int size, const char *func, int n) {
    sim_fail_call *free_entry = NULL, *entry = NULL;
    for (int i = 0; i < size; i++) {
        if (strcmp(table[i].func, func) == 0) entry = &table[i];
        if (table[i].func[0] == '\0' && free_entry == NULL) free_entry = &table[i];
    }
    if (entry == NULL) {
        if (n < 0) return POA_OK;
        if (free_entry == NULL) return POA_ERROR_INVALID_ARGU;
        entry = free_entry;
        sim_copy_str(entry->func, sizeof entry->func, func);
    }
    if (n < 0) {
        entry->func[0] = '\0';
        entry->remaining = 0;
    } else {
        entry->remaining = n == 0 ? -1 : n;
    }
    return POA_OK;
}

/* 1 if the entry for func fires now (consuming one count). */
static int take_entry(sim_fail_call *table, int size, const char *func) {
    for (int i = 0; i < size; i++) {
        sim_fail_call *e = &table[i];
        if (e->func[0] == '\0' || strcmp(e->func, func) != 0) continue;
        if (e->remaining > 0 && --e->remaining == 0) e->func[0] = '\0';
        return 1;
    }
    return 0;
}

int sim_fail_call_arm(sim_cam *c, const char *func, int n) {
    if (func == NULL || !sim_fail_call_known(func)) return POA_ERROR_INVALID_ARGU;
    int g = global_index(func);
    if (g >= 0) {
        pthread_mutex_lock(&g_global_mu);
        int err = arm_entry(&g_global_fail[g], 1, func, n);
        pthread_mutex_unlock(&g_global_mu);
        return err;
    }
    return arm_entry(c->fail_calls, SIM_MAX_FAIL_CALLS, func, n);
}

void sim_fail_calls_clear(sim_cam *c) { memset(c->fail_calls, 0, sizeof c->fail_calls); }

int sim_fail_call_take(sim_cam *c, const char *func) {
    if (func == NULL || !take_entry(c->fail_calls, SIM_MAX_FAIL_CALLS, func)) return 0;
    sim_fault_log("fail_call %s %d", func, c->id);
    return 1;
}

int sim_fail_call_global(const char *func) {
    int g = global_index(func);
    if (g < 0) return 0;
    sim_fault_file_poll();
    pthread_mutex_lock(&g_global_mu);
    int fire = take_entry(&g_global_fail[g], 1, func);
    pthread_mutex_unlock(&g_global_mu);
    if (fire) sim_fault_log("fail_call %s -", func);
    return fire;
}

int sim_fault_file_active(void) {
    const char *path = getenv("INDI_PLAYERONE_SIM_FAULT_FILE");
    return path != NULL && *path != '\0';
}

static sim_fault_line_fn g_takers[SIM_LINE_TAKERS]; /* set when the library loads, then only read */

void sim_fault_file_take_lines(enum sim_fault_line_taker who, sim_fault_line_fn fn) { g_takers[who] = fn; }

/* One line of the file: "name[=arg][@serial or id]". No lock held. */
static void apply_line(char *line) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *p = line + strspn(line, " \t\r");
    size_t end = strlen(p);
    while (end > 0 && strchr(" \t\r", p[end - 1])) p[--end] = '\0';
    if (*p == '\0') return;
    char original[256];
    sim_copy_str(original, sizeof original, p);
    char *target = NULL;
    char *at = strchr(p, '@');
    if (at) {
        *at = '\0';
        target = at + 1 + strspn(at + 1, " \t");
        if (*target == '\0') {
            fprintf(stderr, "simulated PlayerOne SDK: empty target in fault line '%s' ignored\n", original);
            return;
        }
    }
    char *arg = strchr(p, '=');
    if (arg) {
        *arg++ = '\0';
        arg += strspn(arg, " \t");
    }
    end = strlen(p);
    while (end > 0 && strchr(" \t", p[end - 1])) p[--end] = '\0';
    if (target) {
        end = strlen(target);
        while (end > 0 && strchr(" \t", target[end - 1])) target[--end] = '\0';
    }
    if (arg) {
        end = strlen(arg);
        while (end > 0 && strchr(" \t", arg[end - 1])) arg[--end] = '\0';
    }
    /* Cameras and filter wheels each take the words they know: a line is refused only when no
     * device it reached knew it (a wheel-only "stuck" reaches the cameras too when untargeted). */
    int applied = 0, refused = 0;
    for (int i = 0; i < SIM_LINE_TAKERS; i++) {
        if (g_takers[i] != NULL) g_takers[i](p, arg, target, &applied, &refused);
    }
    if (applied == 0 && refused > 0) {
        fprintf(stderr, "simulated PlayerOne SDK: unknown fault line '%s' in INDI_PLAYERONE_SIM_FAULT_FILE ignored\n",
                original);
    } else if (applied == 0 && target != NULL) {
        fprintf(stderr, "simulated PlayerOne SDK: no camera or wheel %s for fault line '%s'\n", target, original);
    } else {
        sim_fault_log("applied %s", original);
    }
}

void sim_fault_file_poll(void) {
    const char *path = getenv("INDI_PLAYERONE_SIM_FAULT_FILE");
    if (path == NULL || *path == '\0') return;
    pthread_mutex_lock(&g_file_mu);
    double now = sim_now();
    if (g_checked >= 0 && now - g_checked < POLL_INTERVAL_S) {
        pthread_mutex_unlock(&g_file_mu);
        return;
    }
    g_checked = now;
    if (strcmp(path, g_path) != 0) {
        sim_copy_str(g_path, sizeof g_path, path);
        g_applied = 0;
        g_size = -1;
        memset(&g_mtime, 0, sizeof g_mtime);
    }
    struct stat st;
    if (stat(path, &st) != 0 || (st.st_mtim.tv_sec == g_mtime.tv_sec && st.st_mtim.tv_nsec == g_mtime.tv_nsec
                                  && st.st_size == g_size)) {
        pthread_mutex_unlock(&g_file_mu);
        return;
    }
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t len = 0;
    if (f != NULL) {
        text = malloc(MAX_FILE_BYTES + 1);
        if (text != NULL) {
            len = fread(text, 1, MAX_FILE_BYTES, f);
            text[len] = '\0';
        }
        fclose(f);
    }
    if (text == NULL) {
        pthread_mutex_unlock(&g_file_mu);
        return;
    }
    g_mtime = st.st_mtim;
    g_size = st.st_size;
    long lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (len > 0 && text[len - 1] != '\n') lines++;
    if (lines < g_applied) g_applied = 0; /* a new, shorter file: start again */
    long k = 0;
    char *p = text; /* walked by hand (not strtok): empty lines count as lines */
    while (p < text + len) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        if (nl) *nl = '\0';
        if (k++ >= g_applied) {
            apply_line(p);
            g_applied = k;
        }
        if (!nl) break;
        p = nl + 1;
    }
    free(text);
    pthread_mutex_unlock(&g_file_mu);
}

void sim_fault_file_reset(void) {
    pthread_mutex_lock(&g_file_mu);
    g_checked = -1.0;
    g_applied = 0;
    g_size = -1;
    g_path[0] = '\0';
    memset(&g_mtime, 0, sizeof g_mtime);
    pthread_mutex_unlock(&g_file_mu);
    pthread_mutex_lock(&g_global_mu);
    memset(g_global_fail, 0, sizeof g_global_fail);
    pthread_mutex_unlock(&g_global_mu);
}
