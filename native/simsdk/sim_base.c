/*
 * The small pieces every part of the simulated SDK uses and that use nothing of it: the clock,
 * string copies, the "@target" match, the fault log, the store of configuration problems (one
 * for the cameras, sim_options.c's; one for the wheels, sim_wheel_store.c's), and the parsing the
 * cameras and the wheels share: their lists of names (sim_wanted), blanks, fault counts.
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

/* Equal ignoring case and blanks ("phoenix 7X36MM" names "Phoenix 7x36mm"). */
static int same_name(const char *a, size_t alen, const char *b) {
    size_t i = 0;
    for (;;) {
        while (i < alen && (a[i] == ' ' || a[i] == '\t')) i++;
        while (*b == ' ' || *b == '\t') b++;
        if (i == alen || *b == '\0') return i == alen && *b == '\0';
        char x = a[i], y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
        i++;
        b++;
    }
}

/* The index of a name of the list's table, -1 when it names none. */
static int find_name(const sim_name_list *l, const char *name, size_t len) {
    for (int k = 0; l->name_at(k) != NULL; k++) {
        if (same_name(name, len, l->name_at(k))) return k;
    }
    return -1;
}

static void report_unknown(const sim_name_list *l, const char *name, size_t len) {
    char valid[384] = "";
    for (int k = 0; l->name_at(k) != NULL; k++) {
        strncat(valid, k ? ", " : "", sizeof valid - strlen(valid) - 1);
        strncat(valid, l->name_at(k), sizeof valid - strlen(valid) - 1);
    }
    sim_problem(l->problems, "%s: unknown %s '%.*s'; valid %s: %s", l->env, l->what, (int)len, name, l->kinds, valid);
}

int sim_wanted(const sim_name_list *l, int max, int kind[], int nth[]) {
    const char *env = getenv(l->env);
    int n = 0;
    for (const char *p = env; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *name = p;
        p = comma ? comma + 1 : NULL;
        while (len > 0 && (*name == ' ' || *name == '\t')) name++, len--;
        while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t')) len--;
        if (len == 0) continue;
        int k = find_name(l, name, len);
        if (k < 0) {
            report_unknown(l, name, len);
            continue;
        }
        if (n == max) {
            sim_problem(l->problems, "%s: more than %d %s; the rest are ignored", l->env, max, l->devices);
            break;
        }
        kind[n] = k;
        nth[n] = 1;
        for (int i = 0; i < n; i++) nth[n] += kind[i] == k;
        n++;
    }
    return n;
}

char *sim_trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

int sim_count_arg(const char *arg, int fallback, int *out) {
    if (arg == NULL || *arg == '\0') {
        *out = fallback;
        return 0;
    }
    char *end = NULL;
    long n = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || n < 0 || n > 1000000000L) return -1;
    *out = (int)n;
    return 0;
}

int sim_problem_copy(sim_problems *p, char *buf, int size) {
    pthread_mutex_lock(&p->mu);
    int n = (int)strlen(p->last);
    if (buf != NULL && size > 0) sim_copy_str(buf, (size_t)size, p->last);
    pthread_mutex_unlock(&p->mu);
    return n;
}
