/*
 * The small pieces every part of the simulated SDK uses and that use nothing of it: the clock,
 * string copies, the "@target" match, the fault log, and the store of configuration problems
 * (one for the cameras, sim_options.c's; one for the wheels, sim_wheel_store.c's).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sim_internal.h"

double sim_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void sim_copy_str(char *dst, size_t cap, const char *src) {
    if (cap == 0) return;
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int sim_is_target(const char *target, const char *serial, int id) {
    if (strcasecmp(target, serial) == 0) return 1;
    char *end = NULL;
    long n = strtol(target, &end, 10);
    return end != target && *end == '\0' && n == id;
}

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

void sim_fault_log(const char *fmt, ...) {
    const char *path = getenv("INDI_PLAYERONE_SIM_FAULT_LOG");
    if (path == NULL || *path == '\0') return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    pthread_mutex_lock(&g_log_mu);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n); /* one write: lines never interleave */
        (void)w;
        close(fd);
    }
    pthread_mutex_unlock(&g_log_mu);
}

void sim_problem(sim_problems *p, const char *fmt, ...) {
    char text[sizeof p->last];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->mu);
    if (strcmp(text, p->printed) != 0) { /* a scan every few seconds says it once */
        fprintf(stderr, "simulated PlayerOne SDK: %s\n", text);
        sim_copy_str(p->printed, sizeof p->printed, text);
    }
    sim_copy_str(p->last, sizeof p->last, text);
    pthread_mutex_unlock(&p->mu);
}

void sim_problem_clear(sim_problems *p) {
    pthread_mutex_lock(&p->mu);
    p->last[0] = '\0';
    pthread_mutex_unlock(&p->mu);
}

int sim_problem_copy(sim_problems *p, char *buf, int size) {
    pthread_mutex_lock(&p->mu);
    int n = (int)strlen(p->last);
    if (buf != NULL && size > 0) sim_copy_str(buf, (size_t)size, p->last);
    pthread_mutex_unlock(&p->mu);
    return n;
}
