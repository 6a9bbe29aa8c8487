/* Condition variables on the monotonic clock, deadlines and timed waits: shared by the frame
 * ring and the SDK layer of the C core, not exposed to Python (poa_core.h does not include
 * it). The monotonic clock keeps a timeout right when the wall clock is set (NTP at boot on a
 * Raspberry Pi without a battery-backed clock); macOS has no condattr clock and uses the real
 * time. */
#ifndef POA_CLOCK_H
#define POA_CLOCK_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "poa_common.h"

static inline void cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
#if !defined(__APPLE__)
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
#endif
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

/* Now on the clock of the condition variables cond_init made. */
static inline struct timespec cond_now(void)
{
    struct timespec t;
#if defined(__APPLE__)
    clock_gettime(CLOCK_REALTIME, &t);
#else
    clock_gettime(CLOCK_MONOTONIC, &t);
#endif
    return t;
}

static inline struct timespec ts_add_ms(struct timespec t, int64_t ms)
{
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static inline int ts_before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static inline uint64_t realtime_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* One wait of a "while (!condition) wait" loop with a timeout in ms, on a condition variable
 * made by cond_init, mu held: timeout_ms < 0 waits until woken, 0 does not wait, > 0 waits
 * until woken or until deadline (cond_now() + timeout_ms, taken once before the loop).
 * POA_ETIMEDOUT when the time is up (the caller checks its condition once more: it may have
 * come true just then), else POA_OK. */
static inline int cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int timeout_ms,
                               const struct timespec *deadline)
{
    if (timeout_ms == 0) return POA_ETIMEDOUT;
    if (timeout_ms < 0) {
        pthread_cond_wait(cv, mu);
        return POA_OK;
    }
    return pthread_cond_timedwait(cv, mu, deadline) == ETIMEDOUT ? POA_ETIMEDOUT : POA_OK;
}

#endif
